"""The library stays a plain library: no UI imports inside src/gridplan."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "gridplan"
FORBIDDEN = {"streamlit", "pydeck"}


def test_no_ui_import_in_source():
    offenders = []
    for py in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{py.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_every_module_loads_no_streamlit():
    code = (
        "import sys, pkgutil, importlib, gridplan\n"
        "for m in pkgutil.iter_modules(gridplan.__path__):\n"
        "    if m.name != '__main__': importlib.import_module('gridplan.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'pydeck')]\n"
        "print(','.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
