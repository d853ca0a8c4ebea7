"""The library layout: a plain library, one package per pipeline stage, no import against the flow.

The stages run in this order: inputs → plan → surface → facilities → travel →
access → siting / regions → report → store.  A stage may import the stages before it
and the base modules (errors, settings, _validate, _types, i18n, solvers);
never a later stage, nor its sibling at the same rank, nor the faces that sit
on top (cli, workflow).  Base modules import no stage.  Every import counts:
module-level, inside functions and under ``TYPE_CHECKING``.
"""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "gridplan"
FORBIDDEN = {"streamlit", "pydeck"}
STAGES = (
    ("inputs",),
    ("plan",),
    ("surface",),
    ("facilities",),
    ("travel",),
    ("access",),
    ("siting", "regions"),
    ("report",),
    ("store",),
)
RANK = {name: i for i, group in enumerate(STAGES) for name in group}
BASE = {"errors", "settings", "_validate", "_types", "i18n", "solvers"}
FOUNDATION = {"errors", "settings", "_validate", "_types", "i18n"}  # what solvers may use
FACES = {
    "cli",
    "_cli_output",
    "workflow",
    "__main__",
    "batch",
}  # batch: the workflow per prefecture, on Dask


def _part(module: str) -> str:
    """The top-level part of ``gridplan.<part>...`` (``""`` for ``gridplan`` itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(py: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gridplan":
                out += [f"gridplan.{a.name}" for a in node.names]
            else:
                out.append(node.module)
    return out


def _module_of(py: Path) -> str:
    return ".".join(py.relative_to(SRC.parent).with_suffix("").parts)


def _violation(me: str, them: str) -> str | None:
    if (
        them == me
        or me in FACES
        or me in ("", "__init__")
        or them not in RANK | dict.fromkeys(BASE | FACES)
    ):
        return None
    if them in FACES:
        return "imports a face (cli/workflow)"
    if me in BASE:
        if them in FOUNDATION or (them in BASE and me != "solvers"):
            return None
        return "a base module imports a stage"
    if them in BASE:
        return None
    if RANK[them] >= RANK[me]:
        return "imports a later stage" if RANK[them] > RANK[me] else "imports a sibling stage"
    return None


def test_no_ui_import_in_source():
    offenders = []
    for py in SRC.rglob("*.py"):
        offenders += [f"{py.name}: {m}" for m in _imports(py) if m.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_every_stage_is_a_package_in_the_source_tree():
    packages = {p.parent.name for p in SRC.glob("*/__init__.py")}
    assert packages >= set(RANK) | {"solvers", "i18n"}
    loose = {p.stem for p in SRC.glob("*.py")}
    assert loose <= FACES | BASE | {"__init__"}, loose - (FACES | BASE | {"__init__"})


def test_no_stage_imports_against_the_pipeline():
    offenders = []
    for py in SRC.rglob("*.py"):
        me = _part(_module_of(py))
        for mod in _imports(py):
            if not mod.startswith("gridplan"):
                continue
            why = _violation(me, _part(mod))
            if why:
                offenders.append(f"{py.relative_to(SRC)} → {mod}: {why}")
    assert offenders == []


def test_the_layering_rule_catches_a_backward_import():
    assert _violation("travel", "siting") == "imports a later stage"
    assert _violation("siting", "regions") == "imports a sibling stage"
    assert _violation("errors", "facilities") == "a base module imports a stage"
    assert _violation("solvers", "siting") == "a base module imports a stage"
    assert _violation("plan", "cli") == "imports a face (cli/workflow)"
    assert _violation("report", "inputs") is None
    assert _violation("cli", "report") is None


def test_importing_every_module_loads_no_streamlit_and_has_no_cycle():
    code = (
        "import sys, pkgutil, importlib, gridplan\n"
        "for m in pkgutil.walk_packages(gridplan.__path__, 'gridplan.'):\n"
        "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'pydeck')]\n"
        "print(','.join(bad)); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def _third_party_imports(paths: list[Path]) -> set[str]:
    local = {"gridplan", "ui", "tests", "benchmarks", "pages"}
    out = set()
    for root in paths:
        for py in [root] if root.suffix == ".py" else root.rglob("*.py"):
            for mod in _imports(py):
                top = mod.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local and top != "__future__":
                    out.add(top)
    return out


def _declared_distributions() -> set[str]:
    import re
    import tomllib

    project = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text("utf-8"))["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_every_imported_package_is_declared_in_pyproject():
    from importlib.metadata import packages_distributions

    root = SRC.parents[1]
    imported = _third_party_imports(
        [SRC, root / "ui", root / "pages", root / "app.py", root / "tests", root / "benchmarks"]
    )
    providers = packages_distributions()
    declared = _declared_distributions()
    undeclared = sorted(
        name
        for name in imported
        if not {d.lower().replace("_", "-") for d in providers.get(name, [name])} & declared
    )
    assert len(imported) > 15 and undeclared == []


def _function_lengths(py: Path) -> list[tuple[str, int, bool]]:
    """Each function of ``py``: its name, its length without the docstring, and whether
    a comment at its top gives the reason for its length (``# long: ...``)."""
    lines = py.read_text(encoding="utf-8").splitlines()
    out = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0]
            doc = 0
            if isinstance(first, ast.Expr) and isinstance(
                getattr(first, "value", None), ast.Constant
            ):
                doc = first.end_lineno - first.lineno + 1  # type: ignore[operator]
            length = node.end_lineno - node.lineno + 1 - doc  # type: ignore[operator]
            top = lines[node.lineno : node.lineno + doc + 3]
            out.append((node.name, length, any("# long:" in line for line in top)))
    return out


def test_no_module_over_a_thousand_lines_nor_function_over_a_hundred_without_a_reason():
    root = SRC.parents[1]
    files = [*SRC.rglob("*.py"), *(root / "ui").rglob("*.py"), *(root / "pages").glob("*.py")]
    long_modules = [str(p) for p in files if len(p.read_text("utf-8").splitlines()) > 1000]
    long_functions = [
        f"{p.relative_to(root)}:{name} ({n} lines)"
        for p in files
        for name, n, reason in _function_lengths(p)
        if n > 100 and not reason
    ]
    assert long_modules == [] and long_functions == []


def _module_graph() -> dict[str, set[str]]:
    """Module → the gridplan modules it imports (every import, type-only ones included)."""
    modules = {_module_of(py).removesuffix(".__init__"): py for py in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, py in modules.items():
        targets = set()
        for mod in _imports(py):
            while mod and mod not in modules:  # ``from pkg.mod import name`` → pkg.mod
                mod = mod.rpartition(".")[0]
            if mod and mod != name and mod != "gridplan":
                targets.add(mod)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules_not_even_for_types():
    graph = _module_graph()
    assert len(graph) > 80
    assert _cycles(graph) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
