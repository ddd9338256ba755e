# The virtual device's MicroPython side (run by tools/virtdev.py on the 32-bit unix port):
# the given folder becomes the device's filesystem ("/"), then every piece of code the
# server passes on is run as the raw REPL runs it: its output, \x04, the exception if
# any, \x04. Code comes on stdin as a 4-byte little-endian length and the text.
# With --boot instead, it runs the deployed main.py, as a board does at power-up.
import os
import sys
import vfs

root = sys.argv[1]
vfs.umount("/")
vfs.mount(vfs.VfsPosix(root), "/")
os.chdir("/")
sys.path[:] = ["", ".frozen", "/lib"]  # as on the device
if sys.argv[2:] == ["--boot"]:  # the device powered up: main.py runs, as on a board
    exec(open("main.py").read(), {"__name__": "__main__"})
    sys.exit(0)
inp = sys.stdin.buffer
out = sys.stdout
g = {"__name__": "__main__"}

while True:
    head = inp.read(4)
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
