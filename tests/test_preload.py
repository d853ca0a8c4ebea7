"""The dashboard launcher (``python -m ui.serve``): the libraries imported beside the server."""

import sys
import threading

from ui import preload, serve


def test_every_import_of_the_app_and_its_pages_is_listed():
    names = preload.page_modules()
    assert "ui.panels.gridpage.grids_page" in names  # pages/grids.py: from … import …
    assert "ui.sidebar.sidebar" in names  # app.py
    assert "gridplan.workflow" in names  # pages/access.py: from gridplan import workflow
    assert len(names) == len(set(names))


def test_a_listed_function_imports_its_module():
    sys.modules.pop("ui.tables", None)
    preload._import("ui.tables.grid_stats_table")
    assert "ui.tables" in sys.modules


def test_the_preload_waits_for_the_runtime_then_imports_and_says_so(monkeypatch, capsys):
    imported = []
    monkeypatch.setattr(preload, "RUNTIME_WAIT_S", 0.05)  # no runtime in a test process
    monkeypatch.setattr(preload, "page_modules", lambda: ["ui.texts", "no.such.module"])
    monkeypatch.setattr(preload, "_import", lambda name: imported.append(name) or _fail(name))
    preload._preload()
    assert imported == ["ui.texts", "no.such.module"]  # one failure does not stop the rest
    assert preload.READY_LINE in capsys.readouterr().err


def _fail(name: str) -> None:
    if name.startswith("no."):
        raise ModuleNotFoundError(name)


def test_join_returns_at_once_without_the_launcher():
    assert preload._thread is None  # pytest, AppTest and `streamlit run app.py` start none
    preload.join()


def test_join_waits_for_the_started_imports(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(preload, "_preload", release.wait)
    monkeypatch.setattr(preload, "_thread", None)
    preload.start()
    assert preload._thread is not None and preload._thread.is_alive()
    release.set()
    preload.join()
    assert not preload._thread.is_alive()


def test_serve_runs_streamlit_on_the_app_with_the_options_given(monkeypatch):
    from streamlit.web import cli

    seen: dict = {}
    monkeypatch.setattr(sys, "argv", ["serve"])
    monkeypatch.setattr(cli, "main", lambda: seen.setdefault("argv", list(sys.argv)))
    monkeypatch.setattr(preload, "start", lambda: seen.setdefault("started", True))
    serve.main(["--server.port", "8599"])
    app = str(preload.ROOT / "app.py")
    assert seen == {"started": True, "argv": ["streamlit", "run", app, "--server.port", "8599"]}


def test_the_readme_command_launches_through_serve():
    text = (preload.ROOT / "scripts" / "dashboard.sh").read_text(encoding="utf-8")
    assert "-m ui.serve" in text


def test_no_module_level_import_cycle_in_the_dashboard_and_the_library():
    """A page run directly (Streamlit's legacy pages mode, the first deep link of a new server)
    may import beside the preload thread: safe while no two modules import each other when
    they load (a cycle between two threads' imports could deadlock or see half a module)."""
    import ast
    from pathlib import Path

    from tests.test_architecture import _cycles

    files = [*Path(preload.ROOT, "ui").rglob("*.py"), *Path(preload.ROOT, "src").rglob("*.py")]
    modules = {}
    for py in files:
        parts = py.relative_to(preload.ROOT).with_suffix("").parts
        modules[".".join(parts[1:] if parts[0] == "src" else parts).removesuffix(".__init__")] = py
    graph: dict[str, set[str]] = {}
    for name, py in modules.items():
        graph[name] = set()
        for node in ast.parse(py.read_text("utf-8")).body:  # what runs when it loads
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    assert len(graph) > 150
    assert _cycles(graph) == []
