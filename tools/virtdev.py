# virtdev: a virtual MicroPython device on a pty, for `make deploy` tests and for trying
# mpremote without a board. It speaks the raw REPL as mpremote uses it (Ctrl-A to enter,
# code then Ctrl-D, "OK", the output, \x04, the exception, \x04, ">"; Ctrl-D alone is a
# soft reboot; Ctrl-B leaves) and runs the code in the 32-bit unix port, with a folder as
# the device's filesystem. Usage: tools/virtdev --root DIR [--link PATH]
# Prints the pty's path (and makes PATH a symlink to it); runs until killed.
import os
import select
import struct
import subprocess
import sys
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BANNER = b"MicroPython virtual device (32-bit unix port); type Ctrl-A for the raw REPL\r\n>>> "


class Device:
    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.agent = None
        self.boot()

    def boot(self):
        if self.agent:
            self.agent.kill()
            self.agent.wait()
        env = dict(os.environ, MICROPYPATH=".frozen")
        self.agent = subprocess.Popen([os.path.join(ROOT, "build", "bin", "micropython"),
                                       os.path.join(ROOT, "tools", "virtdev_agent.py"), self.root],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)

    def run(self, code, out):
        """Run code; pass its output to out(bytes) as it comes, up to the second \\x04."""
        self.agent.stdin.write(struct.pack("<I", len(code)) + code)
        self.agent.stdin.flush()
        ends = 0
        while ends < 2:
            b = os.read(self.agent.stdout.fileno(), 4096)
            if not b:  # the code ended the interpreter (sys.exit, a crash): as a reset
                out(b"\x04" * (2 - ends))
                self.boot()
                return
            ends += b.count(b"\x04")
            out(b)


def serve(fd, dev):
    raw = False
    buf = b""

    def send(b):
        os.write(fd, b)
    send(BANNER)
    while True:
        r, _, _ = select.select([fd], [], [])
        try:
            data = os.read(fd, 4096)
        except OSError:  # the other end closed: wait for the next client
            data = b""
        if not data:
            select.select([], [], [], 0.05)
            continue
        for ch in data:
            c = bytes((ch,))
            if not raw:
                if c == b"\x01":
                    raw, buf = True, b""
                    send(b"raw REPL; CTRL-B to exit\r\n>")
                elif c == b"\x04":
                    dev.boot()
                    send(b"MPY: soft reboot\r\n" + BANNER)
                elif c == b"\r":
                    send(b"\r\n>>> ")
                continue
            if c == b"\x02":
                raw = False
                send(b"\r\n" + BANNER)
            elif c == b"\x01":
                buf = b""
                send(b"raw REPL; CTRL-B to exit\r\n>")
            elif c == b"\x03":
                buf = b""
            elif c == b"\x04":
                if buf == b"":
                    dev.boot()  # soft reboot, staying in the raw REPL
                    send(b"OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
                else:
                    send(b"OK")
                    dev.run(buf, send)
                    send(b">")
                buf = b""
            else:
                buf += c
                if buf == b"\x05A\x01":  # raw-paste mode asked: not here, plain raw mode instead
                    buf = b""
                    send(b"R\x00")


def main(argv):
    root = link = None
    i = 0
    while i < len(argv):
        if argv[i] == "--root":
            root, i = argv[i + 1], i + 2
        elif argv[i] == "--link":
            link, i = argv[i + 1], i + 2
        else:
            sys.exit("usage: virtdev --root DIR [--link PATH]")
    if not root:
        sys.exit("usage: virtdev --root DIR [--link PATH]")
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
    print(name, flush=True)
    serve(master, Device(root))


if __name__ == "__main__":
    main(sys.argv[1:])
