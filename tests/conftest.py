import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


@pytest.fixture(scope="session")
def sjz_townships():
    from synthetic import shijiazhuang_townships

    return shijiazhuang_townships()


@pytest.fixture(scope="session")
def sjz_township_zip(tmp_path_factory, sjz_townships):
    from synthetic import write_bureau_shapefile_zip

    return write_bureau_shapefile_zip(sjz_townships, tmp_path_factory.mktemp("tw"))
