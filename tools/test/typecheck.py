# typecheck: the board modules against the ESP32's API, as micropython-esp32-stubs
# (PyPI, the version of the device's MicroPython) describes it: every `machine` and
# `network` class, constant, method and argument they use must exist there. mypy runs with
# the stubs' own MicroPython standard library as its typeshed, and checks function bodies.
# Usage: tools/test/typecheck.py FILE...   (prints mypy's findings on FILEs; exit 1 if any)
import os
import shutil
import subprocess
import sys
import sysconfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUBS = os.path.join(ROOT, "build", "esp32-stubs")
MODULES = ("machine.pyi", "network.pyi", "framebuf.pyi", "micropython.pyi", "time.pyi", "_mpy_shed")


def site():
    return sysconfig.get_paths()["purelib"]


def stub_dir():
    """The stubs of the ESP32's own modules, apart: they are loose files in site-packages,
    which mypy does not search."""
    if not os.path.isdir(STUBS):
        os.makedirs(STUBS)
        for m in MODULES:
            src = os.path.join(site(), m)
            (shutil.copytree if os.path.isdir(src) else shutil.copyfile)(src, os.path.join(STUBS, m))
    return STUBS


def check(files):
    env = dict(os.environ, MYPYPATH=stub_dir())
    r = subprocess.run([sys.executable, "-m", "mypy", "--custom-typeshed-dir", site(), "--no-incremental",
                        "--check-untyped-defs", "--follow-imports=silent", "--ignore-missing-imports",
                        "--no-error-summary", "--show-error-codes"] + list(files),
                       cwd=ROOT, env=env, capture_output=True, text=True)
    mine = tuple(os.path.relpath(os.path.abspath(f), ROOT) for f in files) + tuple(files)
    # the stubs' own slips (a redefined class, a final attribute) are not the boards' to fix
    return [line for line in r.stdout.splitlines() if line.startswith(mine) and ": error:" in line]


if __name__ == "__main__":
    errors = check(sys.argv[1:])
    print("\n".join(errors) or "typecheck: no issues in %d files" % len(sys.argv[1:]))
    sys.exit(1 if errors else 0)
