"""Shared fixtures.  ``tests`` is a package, so pytest puts the project root on the path:
helpers are imported as ``tests.synthetic`` and the dashboard helpers as ``ui``."""

import os
import shutil
import tempfile

import pytest

_CACHE = "GRIDPLAN_CACHE_DIR"
_STORE = "GRIDPLAN_STORE"


def pytest_configure(config):
    # one disk cache for the session (and the servers and CLIs it starts), not the user's
    if _CACHE not in os.environ:
        os.environ[_CACHE] = config._gridplan_cache = tempfile.mkdtemp(prefix="gridplan-cache-")
    # and one scenario store: the dashboard saves every edit, never into the user's store
    config._gridplan_store = tempfile.mkdtemp(prefix="gridplan-store-")
    os.environ[_STORE] = os.path.join(config._gridplan_store, "scenarios.sqlite")


def pytest_unconfigure(config):
    for made in (getattr(config, "_gridplan_cache", None), config._gridplan_store):
        if made:
            shutil.rmtree(made, ignore_errors=True)


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    """A scenario store of this test alone (its URL); the dashboard and CLI use it."""
    url = f"sqlite:///{tmp_path / 'scenarios.sqlite'}"
    monkeypatch.setenv(_STORE, url)
    return url


@pytest.fixture(scope="session")
def sjz_townships():
    from tests.synthetic import shijiazhuang_townships

    return shijiazhuang_townships()


@pytest.fixture(scope="session")
def sjz_township_zip(tmp_path_factory, sjz_townships):
    from tests.synthetic import write_bureau_shapefile_zip

    return write_bureau_shapefile_zip(sjz_townships, tmp_path_factory.mktemp("tw"))


@pytest.fixture(scope="module")
def server():
    """A dashboard server for one end-to-end module (its URL); a module may define its own."""
    from tests.e2e_support import dashboard_server

    with dashboard_server() as (url, _):
        yield url


@pytest.fixture
def navigation_already_in_charge(monkeypatch):
    """AppTest of ``app.py`` as a server runs it after its first session: Streamlit's legacy
    ``pages/`` flag already cleared (``ui.navigation``), so a click on a page reaches that page
    (AppTest resets the flag at every run and the guard's rerun would drop the click)."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
