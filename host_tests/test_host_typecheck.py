# The board modules against the ESP32's API (micropython-esp32-stubs for MicroPython 1.25,
# checked by mypy with function bodies): every machine/network call, constant and
# argument they use exists there. The check is shown able to fail, on a board with slips.
import os
import subprocess

from fwrun import ROOT

PY = os.path.join(ROOT, "build", "venv", "bin", "python")
BOARDS = [os.path.join("boards", n) for n in sorted(os.listdir(os.path.join(ROOT, "boards")))
          if n.endswith(".py") and n != "manifest.py"]  # the image manifest is the build's (the simulator, sim/, the host's)


def typecheck(*files):
    return subprocess.run([PY, os.path.join(ROOT, "tools", "test", "typecheck.py")] + list(files), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_every_board_uses_only_the_esp32_api():
    assert BOARDS
    r = typecheck(*BOARDS)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_slip_is_caught(tmp_path):
    bad = tmp_path / "bad_board.py"
    bad.write_text("from machine import Pin, UART\n\n\ndef grid():\n"
                   "    Pin(4, Pin.OUTPUT)\n    return UART(2, baudrate=9600).readlin()\n")
    r = typecheck(str(bad))
    assert r.returncode == 1 and '"OUTPUT"' in r.stdout and '"readlin"' in r.stdout, r.stdout + r.stderr
