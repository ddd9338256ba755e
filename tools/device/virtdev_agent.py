# The virtual device's MicroPython side (run by tools/device/virtdev.py on the 32-bit unix port):
# the given folder becomes the device's filesystem ("/"), then every piece of code the
# server passes on is run as the raw REPL runs it: its output, \x04, the exception if
# any, \x04. Code comes on stdin as a 4-byte little-endian length and the text.
# With --boot instead, it runs the deployed main.py and exits, as a board does at power-up.
# The device kinds of virtdev --kind add:
#   --power-up        main.py runs first (a Ctrl-C from the console, a SIGINT here, stops
#                     it), then READY is printed and the REPL loop above takes over
#   --reset           machine.reset(): RESET is printed and the server restarts the device
#   --parts DIR --running LABEL
#                     the fake esp32 module (virtdev_esp32.py): OTA partitions in DIR,
#                     LABEL the slot the bootloader started
import os
import sys
import vfs

READY = "\x00VDEV-READY\x00"
RESET = "\x00VDEV-RESET\x00"

root = sys.argv[1]
opts = sys.argv[2:]


def _opt(name):
    return opts[opts.index(name) + 1] if name in opts else None


if "--parts" in opts:  # before / is the device's: the partition files are outside it
    import virtdev_esp32
    virtdev_esp32.attach(_opt("--parts"), _opt("--running"))
    sys.modules["esp32"] = virtdev_esp32
if "--reset" in opts:
    import machine as _machine

    class _Machine:
        def __getattr__(self, name):
            return getattr(_machine, name)

        @staticmethod
        def reset():  # at once, as a board's: no finally block runs
            sys.stdout.write(RESET)
            while True:
                _machine.idle()

    sys.modules["machine"] = _Machine()
vfs.umount("/")
vfs.mount(vfs.VfsPosix(root), "/")
os.chdir("/")
sys.path[:] = ["", ".frozen", "/lib"]  # as on the device
if "--boot" in opts:  # the device powered up: main.py runs, as on a board
    exec(open("main.py").read(), {"__name__": "__main__"})
    sys.exit(0)
inp = sys.stdin.buffer
out = sys.stdout
g = {"__name__": "__main__"}
if "--power-up" in opts:
    try:
        try:
            src = open("main.py").read()
        except OSError:
            src = None
        if src is not None:
            exec(src, {"__name__": "__main__"})
    except BaseException as e:  # noqa: B902 - as a board: the traceback, then the REPL
        sys.print_exception(e, out)
    out.write(READY)

while True:
    try:
        head = inp.read(4)
    except KeyboardInterrupt:  # a Ctrl-C between two pieces of code: nothing to stop
        continue
    if not head or len(head) < 4:
        break
    n = head[0] | head[1] << 8 | head[2] << 16 | head[3] << 24
    code = inp.read(n)
    try:
        exec(code, g)
        out.write("\x04\x04")
    except BaseException as e:  # noqa: B902 - the REPL reports everything, SystemExit included
        out.write("\x04")
        sys.print_exception(e, out)
        out.write("\x04")
