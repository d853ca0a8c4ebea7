"""Shared fixtures.  ``tests`` is a package, so pytest puts the project root on the path:
helpers are imported as ``tests.synthetic`` and the dashboard helpers as ``ui``."""

import os
import shutil
import tempfile

import pytest

_CACHE = "GRIDPLAN_CACHE_DIR"


def pytest_configure(config):
    # one disk cache for the session (and the servers and CLIs it starts), not the user's
    if _CACHE not in os.environ:
        os.environ[_CACHE] = config._gridplan_cache = tempfile.mkdtemp(prefix="gridplan-cache-")


def pytest_unconfigure(config):
    made = getattr(config, "_gridplan_cache", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)


@pytest.fixture(scope="session")
def sjz_townships():
    from tests.synthetic import shijiazhuang_townships

    return shijiazhuang_townships()


@pytest.fixture(scope="session")
def sjz_township_zip(tmp_path_factory, sjz_townships):
    from tests.synthetic import write_bureau_shapefile_zip

    return write_bureau_shapefile_zip(sjz_townships, tmp_path_factory.mktemp("tw"))
