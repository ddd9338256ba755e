#!/usr/bin/env bash
# make image: our MicroPython image for boards without PSRAM (boards/SUBMETER, docs/image.md),
# built by the MicroPython 1.25 ESP32 port with ESP-IDF, as ports/esp32/README.md says.
#
#   build/image/micropython.bin   the app image: what `make deploy` writes into an OTA slot
#   build/image/firmware.bin      bootloader + partition table + app: the first flash, at 0x1000
#
# Needs ESP-IDF v5.2.x set up in this shell (IDF_PATH, idf.py) and a MicroPython v1.25.0
# source tree with its submodules (MICROPY_DIR, default build/micropython-v1.25.0). When
# either is missing it says what to install and how, and stops before writing anything.
# Not run on the project's machines (no ESP-IDF there): the CI recipe builds it
# (.github/workflows/image.yml).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MICROPY_DIR=${MICROPY_DIR:-$ROOT/build/micropython-v1.25.0}
IMAGE_DIR=${IMAGE_DIR:-$ROOT/build/image}
BOARD_DIR="$ROOT/boards/SUBMETER"
IDF_VERSION=v5.2.2         # the version the CI container and these instructions use
MPY_TAG=v1.25.0

problems=0
say() { printf '%s\n' "$*" >&2; }
problem() { problems=$((problems + 1)); say ""; say "make image: $1"; shift; for l in "$@"; do say "    $l"; done; }

# --- ESP-IDF ------------------------------------------------------------------------------
idf_install=("Install ESP-IDF $IDF_VERSION (MicroPython 1.25 supports v5.2, v5.2.2, v5.3 and v5.4),"
             "as ports/esp32/README.md says:"
             "  git clone -b $IDF_VERSION --recursive https://github.com/espressif/esp-idf.git"
             "  cd esp-idf"
             "  ./install.sh esp32      # once: the Xtensa toolchain and ESP-IDF's Python environment"
             "  source export.sh        # in every new shell: sets IDF_PATH, puts idf.py on PATH"
             "then run make image again from that shell.")
if [ -z "${IDF_PATH:-}" ]; then
  problem "ESP-IDF is not set up in this shell (IDF_PATH is not set)." "${idf_install[@]}"
elif ! command -v idf.py >/dev/null 2>&1; then
  problem "IDF_PATH is $IDF_PATH but idf.py is not on PATH." \
          "Run: source \"$IDF_PATH/export.sh\"   (after ./install.sh esp32 once), then make image again." \
          "Without an ESP-IDF there yet:" "${idf_install[@]}"
else
  v=$(idf.py --version 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -1 || true)
  case "$v" in
    v5.2|v5.2.*|v5.3|v5.3.*|v5.4|v5.4.*) ;;
    *) problem "ESP-IDF ${v:-of unknown version} at $IDF_PATH: MicroPython 1.25 builds with v5.2 to v5.4 ($IDF_VERSION here)." \
               "In that clone:  git checkout $IDF_VERSION && git submodule update --init --recursive" \
               "                ./install.sh esp32 && source export.sh" \
               "then make image again." ;;
  esac
fi

# --- the MicroPython source tree ----------------------------------------------------------
DEFAULT_DIR="$ROOT/build/micropython-v1.25.0"
clone="$MICROPY_DIR"                      # where to clone: never into an existing folder
[ -e "$clone" ] && clone="$DEFAULT_DIR"
[ -e "$clone" ] && clone="/path/to/a/new/folder"
use=""
[ "$clone" != "$DEFAULT_DIR" ] && use="  make image MICROPY_DIR=$clone"
mpy_get=("Get MicroPython $MPY_TAG with the submodules its ESP32 port needs:"
         "  git clone -b $MPY_TAG https://github.com/micropython/micropython.git $clone"
         "  make -C $clone/ports/esp32 submodules    # with ESP-IDF's environment (export.sh)"
         ${use:+"$use"})
if [ ! -f "$MICROPY_DIR/ports/esp32/Makefile" ] || [ ! -f "$MICROPY_DIR/py/mpconfig.h" ]; then
  problem "no MicroPython source tree at $MICROPY_DIR." "${mpy_get[@]}"
else
  ver=$(awk '/define MICROPY_VERSION_(MAJOR|MINOR|MICRO) / {printf "%s%s", sep, $3; sep="."}' \
        "$MICROPY_DIR/py/mpconfig.h")
  if [ "$ver" != "1.25.0" ]; then
    problem "$MICROPY_DIR is MicroPython ${ver:-of unknown version}; the board definition is for 1.25.0." \
            "In that clone:  git checkout $MPY_TAG && make -C ports/esp32 submodules" \
            "or:" "${mpy_get[@]}"
  fi
  missing=()
  [ -f "$MICROPY_DIR/lib/berkeley-db-1.xx/README" ] || missing+=(lib/berkeley-db-1.xx)
  [ -f "$MICROPY_DIR/lib/micropython-lib/micropython/umqtt.simple/manifest.py" ] || missing+=(lib/micropython-lib)
  if [ ${#missing[@]} -gt 0 ]; then
    why=()
    if [ -d "$MICROPY_DIR/debian" ]; then
      why=("This is Debian's repacked source (\"+ds\"): its submodules are removed, so it"
           "cannot build the ESP32 port (build/micropython-src serves the unix port only).")
    fi
    if [ ${#why[@]} -gt 0 ]; then
      problem "$MICROPY_DIR lacks submodules the ESP32 build needs: ${missing[*]}." "${why[@]}" "${mpy_get[@]}"
    else
      problem "$MICROPY_DIR lacks submodules the ESP32 build needs: ${missing[*]}." \
              "In that clone:  make -C $MICROPY_DIR/ports/esp32 submodules   (with ESP-IDF's environment)"
    fi
  fi
fi

if [ "$problems" -gt 0 ]; then
  say ""
  say "make image: nothing built; install the above first (docs/image.md, \"Building it\")."
  exit 2
fi

# --- build ----------------------------------------------------------------------------------
BUILD="$IMAGE_DIR/idf-build"
mkdir -p "$IMAGE_DIR"
say "make image: MicroPython $MPY_TAG ($MICROPY_DIR), ESP-IDF $v, board $BOARD_DIR"
make -C "$MICROPY_DIR/ports/esp32" BOARD_DIR="$BOARD_DIR" BUILD="$BUILD"
cp "$BUILD/micropython.bin" "$IMAGE_DIR/micropython.bin"
cp "$BUILD/firmware.bin" "$IMAGE_DIR/firmware.bin"

slot=$(awk -F, '$1 ~ /^ota_0/ {gsub(/ /, "", $5); print $5}' "$BOARD_DIR/partitions.csv")
app=$(stat -c %s "$IMAGE_DIR/micropython.bin")
say "make image: $IMAGE_DIR/micropython.bin $app bytes, $(( slot - app )) free in a $(( slot )) byte OTA slot"
say "make image: $IMAGE_DIR/firmware.bin $(stat -c %s "$IMAGE_DIR/firmware.bin") bytes (write it at 0x1000)"
