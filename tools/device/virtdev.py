# virtdev: a virtual MicroPython device on a pty, for `make deploy` tests and for trying
# mpremote without a board. It speaks the raw REPL as mpremote uses it (Ctrl-A to enter,
# code then Ctrl-D, "OK", the output, \x04, the exception, \x04, ">"; raw-paste mode with
# its flow-control window; Ctrl-D alone is a soft reboot; Ctrl-B leaves) and runs the code
# in the 32-bit unix port (tools/device/virtdev_agent.py), with a folder as the device's filesystem.
#
# Usage: tools/device/virtdev --root DIR [--link PATH] [--kind KIND] [--parts DIR] [--image FILE]
# Prints the pty's path (and makes PATH a symlink to it); runs until killed.
#
# Kinds (--kind):
#   plain   (the default) the unix port with its 1 MB heap, a REPL only: nothing runs at
#           power-up and there is no machine.reset (the tests of make deploy's .mpy path)
#   stock   a stock ESP32_GENERIC image without PSRAM: asyncio and umqtt.simple frozen
#           (build/bin/micropython-stock, tools/build/stock_manifest.py) in the heap a stock
#           image grows to, 112 KB
#   spiram  a stock ESP32_GENERIC-SPIRAM image: the same build with a 4 MB heap (on the
#           ESP32 the split heap grows into the PSRAM)
#   ours    our image: the device model (build/bin/micropython-frozen, the firmware frozen
#           in) in 112 KB (and the simulator's share), with two OTA slots and otadata as files in the parts folder
#           (--parts, default DIR.parts: outside the filesystem the device sees) and a fake
#           esp32 module over them (tools/device/virtdev_esp32.py). At a hard reset (power-up,
#           machine.reset(), the interpreter dying) the "bootloader" here picks the slot
#           from otadata, rolls back a slot that booted and was never marked valid, and
#           runs the slot's image: an image IS a unix-port executable, so an upgrade writes
#           a binary into the other slot and the next boot runs it. --image FILE: what
#           ota_0 holds when the parts folder is made (default: the device model, stripped).
# On every kind but plain a hard reset runs main.py (a Ctrl-C on the console stops it, as
# on a board) and the firmware's output is the console's.
import ctypes
import fcntl
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "device"))
import virtdev_esp32 as ota  # noqa: E402 - the otadata helpers, shared with the device side

BIN = os.path.join(ROOT, "build", "bin")
BANNER = b"MicroPython virtual device (32-bit unix port); type Ctrl-A for the raw REPL\r\n>>> "
READY = b"\x00VDEV-READY\x00"
RESET = b"\x00VDEV-RESET\x00"
sys.path.insert(0, os.path.join(ROOT, "tools", "bench"))
from soakrun import SIM_SHARE_KB  # noqa: E402 - the simulated board's own share of the heap
# kind: (binary, heap); ours: the binary is the booted slot's, in a device's 112 KB and the
# simulated board's share beside it (it runs in the same heap: not on a device); stock: the
# heap deploy measures to refuse it (no firmware runs there)
KINDS = {"plain": ("micropython", None), "stock": ("micropython-stock", "112K"),
         "spiram": ("micropython-stock", "4M"), "ours": (None, "%dK" % (112 + SIM_SHARE_KB))}
WINDOW = 4096  # raw-paste flow-control window


def make_parts(parts, image):
    """A device as esptool flashed it: the image in ota_0, ota_1 erased, otadata blank."""
    os.makedirs(parts, exist_ok=True)
    if image is None:
        image = os.path.join(BIN, "micropython-frozen")
    data = open(image, "rb").read()
    if len(data) > ota.SLOT_SIZE:  # the unstripped model: its symbols are no part of an image
        tmp = os.path.join(parts, ".stripped")
        subprocess.run(["strip", "-o", tmp, image], check=True)
        data = open(tmp, "rb").read()
        os.remove(tmp)
    if len(data) > ota.SLOT_SIZE:
        sys.exit("virtdev: %s is %d bytes, more than an OTA slot (%d)" % (image, len(data), ota.SLOT_SIZE))
    for label, content, size in (("ota_0", data, ota.SLOT_SIZE), ("ota_1", b"", ota.SLOT_SIZE),
                                 ("otadata", b"", ota.OTADATA_SIZE)):
        with open(os.path.join(parts, label), "wb") as f:
            f.write(content + b"\xff" * (size - len(content)))


def bootloader(parts, say):
    """ESP-IDF's second-stage bootloader with app rollback, as far as OTA goes: the slot
    otadata names (ota_0 when it is blank); a slot booted once as pending_verify and not
    marked valid since is aborted and the other slot boots; a new slot boots pending_verify.
    Returns the slot to run, or None when no slot holds an app."""
    path = os.path.join(parts, "otadata")
    with open(path, "rb") as f:
        d = ota.load_otadata(f.read())

    def image_ok(label):
        with open(os.path.join(parts, label), "rb") as f:
            return f.read(4) == ota.MAGIC

    slot = d["boot"] or "ota_0"
    state = d["state"].get(slot, "undefined")
    if state == "pending_verify":
        d["state"][slot] = "aborted"
        say("I (vdev) boot: %s was not marked valid before this reset: rollback" % slot)
        slot = ota.other(slot)
        d["boot"] = slot
    elif state == "new":
        d["state"][slot] = "pending_verify"
    if d["state"].get(slot) in ("aborted", "invalid") or not image_ok(slot):
        say("I (vdev) boot: no valid app in %s" % slot)
        slot = ota.other(slot)
        if d["state"].get(slot) in ("aborted", "invalid") or not image_ok(slot):
            say("E (vdev) boot: no bootable app partition")
            return None
        d["boot"] = slot
    if d["boot"] is not None:
        with open(path, "wb") as f:
            f.write(ota.dump_otadata(d))
    say("I (vdev) boot: loaded app from %s (%s)" % (slot, d["state"].get(slot, "undefined")))
    return slot


def _die_with_parent():
    """The interpreter ends with the server (PR_SET_PDEATHSIG): a firmware left running
    would hold its port and files."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)


class Device:
    def __init__(self, root, kind="plain", parts=None, image=None):
        self.root = os.path.abspath(root)
        self.kind = kind
        self.parts = os.path.abspath(parts or self.root.rstrip("/") + ".parts")
        if kind == "ours" and not os.path.exists(os.path.join(self.parts, "otadata")):
            make_parts(self.parts, image)
        self.agent = None
        self.running = None   # ours: the slot the bootloader started
        self.app = None       # the binary the agent runs
        self.mode = "repl"    # running (main.py), repl, exec (a piece of code), paste
        self.raw = False
        self.buf = b""
        self.pending = b""    # console input while main.py or a piece of code runs
        self.tail = b""
        self.ends = 0
        self.pasted = 0
        self.send = lambda b: None

    def stop(self):
        """The interpreter stopped (the device powered off)."""
        if self.agent:
            self.agent.kill()
            self.agent.wait()
            self.agent.stdout.close()
            self.agent.stdin.close()
            self.agent = None

    def start(self, hard=False, main=False):
        """(Re)start the interpreter: hard, through the bootloader, running main.py (a
        reset, power-up); else a soft reboot, running main.py only when `main`."""
        self.stop()
        self.tail = b""
        if hard:  # what the console had sent is lost with the reset
            self.pending, self.raw = b"", False
        args = [os.path.join(ROOT, "tools", "device", "virtdev_agent.py"), self.root]
        binary, heap = KINDS[self.kind]
        if self.kind == "plain":
            self.app = os.path.join(BIN, binary)
            self.mode = "repl"
        else:
            if self.kind == "ours":
                if hard or self.app is None:
                    self.running = bootloader(self.parts, lambda s: self.send(s.encode() + b"\r\n"))
                    if self.running is None:
                        self.mode = "dead"
                        return
                    self.app = os.path.join(self.parts, ".app")
                    shutil.copyfile(os.path.join(self.parts, self.running), self.app + ".new")
                    os.chmod(self.app + ".new", 0o755)
                    os.replace(self.app + ".new", self.app)
                args += ["--parts", self.parts, "--running", self.running]
            else:
                self.app = os.path.join(BIN, binary)
            args = ["-X", "heapsize=" + heap] + args + ["--reset"]
            if hard or main:
                args.append("--power-up")
            self.mode = "running" if hard or main else "repl"
        if not os.path.exists(self.app):
            sys.exit("virtdev: %s is missing: make setup builds it" % self.app)
        env = dict(os.environ, MICROPYPATH=".frozen")
        self.agent = subprocess.Popen([self.app] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      env=env, bufsize=0, preexec_fn=_die_with_parent)

    # -- the agent's output -------------------------------------------------------------
    def from_agent(self, b):
        if not b:  # the interpreter ended (sys.exit in a piece of code, a crash): a reset
            if self.mode == "exec":
                self.send(b"\x04" * (2 - self.ends) + b">")
            if self.kind == "plain":
                self.start()
            else:
                self.start(hard=True)
            return
        data = self.tail + b
        self.tail = b""
        while data:
            i = data.find(b"\x00")
            if i < 0:
                self._out(data)
                return
            self._out(data[:i])
            data = data[i:]
            if data.startswith(RESET):
                self.start(hard=True)
                return
            if data.startswith(READY):
                data = data[len(READY):]
                self.mode, self.raw = "repl", False
                self.send(b"\r\n" + BANNER)
                self._out(data)
                self.feed(b"")
                return
            if len(data) < len(READY) and (READY.startswith(data) or RESET.startswith(data)):
                self.tail = data
                return
            self._out(data[:1])
            data = data[1:]

    def _out(self, b):
        if not b:
            return
        if self.mode == "running":
            self.send(b.replace(b"\n", b"\r\n"))
        elif self.mode == "exec":
            self.send(b)
            self.ends += b.count(b"\x04")
            if self.ends >= 2:
                self.send(b">")
                self.mode = "repl"
                self.feed(b"")
        else:
            self.send(b)

    def _exec(self, code):
        self.mode, self.ends = "exec", 0
        self.agent.stdin.write(struct.pack("<I", len(code)) + code)
        self.agent.stdin.flush()

    # -- the console's input ------------------------------------------------------------
    def feed(self, data):
        data = self.pending + data
        self.pending = b""
        for k in range(len(data)):
            c = data[k:k + 1]
            if self.mode in ("running", "exec", "dead"):  # the rest waits for the code to end
                if c == b"\x03" and self.agent:
                    self.agent.send_signal(signal.SIGINT)
                elif self.mode != "dead":
                    self.pending += c
                continue
            if self.mode == "paste":
                if c == b"\x04":
                    self.send(b"\x04")
                    code, self.buf = self.buf, b""
                    self._exec(code)
                else:
                    self.buf += c
                    self.pasted += 1
                    if self.pasted % WINDOW == 0:
                        self.send(b"\x01")
                continue
            if not self.raw:
                if c == b"\x01":
                    self.raw, self.buf = True, b""
                    self.send(b"raw REPL; CTRL-B to exit\r\n>")
                elif c == b"\x04":
                    if self.kind == "plain":
                        self.start()
                        self.send(b"MPY: soft reboot\r\n" + BANNER)
                    else:  # a soft reset in the friendly REPL runs main.py again
                        self.send(b"MPY: soft reboot\r\n")
                        self.start(main=True)
                elif c == b"\r":
                    self.send(b"\r\n>>> ")
                continue
            if c == b"\x01" and self.buf == b"\x05A":  # raw-paste mode, with its flow-control window
                self.buf, self.pasted = b"", 0
                self.mode = "paste"
                self.send(b"R\x01" + struct.pack("<H", WINDOW))
            elif c == b"\x02":
                self.raw = False
                self.send(b"\r\n" + BANNER)
            elif c == b"\x01":
                self.buf = b""
                self.send(b"raw REPL; CTRL-B to exit\r\n>")
            elif c == b"\x03":
                self.buf = b""
            elif c == b"\x04":
                if self.buf == b"":
                    self.start()  # soft reboot, staying in the raw REPL: main.py does not run
                    self.send(b"OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
                else:
                    self.send(b"OK")
                    code, self.buf = self.buf, b""
                    self._exec(code)
            else:
                self.buf += c


def serve(fd, dev):
    fl = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))

    def send(b):  # a console nobody reads drops what it cannot hold, as a UART does
        while b:
            try:
                n = os.write(fd, b)
            except (BlockingIOError, OSError):
                return
            b = b[n:]
    dev.send = send
    if dev.kind == "plain":
        dev.start()
        send(BANNER)
    else:
        dev.start(hard=True)  # power-up
    while True:
        fds = [fd] + ([dev.agent.stdout] if dev.agent else [])
        r, _, _ = select.select(fds, [], [])
        if dev.agent and dev.agent.stdout in r:
            dev.from_agent(os.read(dev.agent.stdout.fileno(), 65536))
        if fd in r:
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, OSError):  # the other end closed: wait for the next client
                data = b""
            if not data:
                select.select([], [], [], 0.05)
                continue
            dev.feed(data)


def main(argv):
    opts = {"--root": None, "--link": None, "--kind": "plain", "--parts": None, "--image": None}
    i = 0
    while i < len(argv):
        if argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]], i = argv[i + 1], i + 2
        else:
            sys.exit("usage: virtdev --root DIR [--link PATH] [--kind plain|stock|spiram|ours] [--parts DIR] "
                     "[--image FILE]")
    root, link = opts["--root"], opts["--link"]
    if not root or opts["--kind"] not in KINDS:
        sys.exit("usage: virtdev --root DIR [--link PATH] [--kind plain|stock|spiram|ours] [--parts DIR] "
                 "[--image FILE]")
    os.makedirs(root, exist_ok=True)
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    if link:
        try:
            os.remove(link)
        except OSError:
            pass
        os.symlink(name, link)
    dev = Device(root, opts["--kind"], opts["--parts"], opts["--image"])
    print(name, flush=True)
    try:
        serve(master, dev)
    finally:
        dev.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
