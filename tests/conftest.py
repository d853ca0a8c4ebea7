"""Shared fixtures.  ``tests`` is a package, so pytest puts the project root on the path:
helpers are imported as ``tests.synthetic`` and the dashboard helpers as ``ui``."""

import pytest


@pytest.fixture(scope="session")
def sjz_townships():
    from tests.synthetic import shijiazhuang_townships

    return shijiazhuang_townships()


@pytest.fixture(scope="session")
def sjz_township_zip(tmp_path_factory, sjz_townships):
    from tests.synthetic import write_bureau_shapefile_zip

    return write_bureau_shapefile_zip(sjz_townships, tmp_path_factory.mktemp("tw"))
