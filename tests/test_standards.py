import numpy as np
import pandas as pd
import pytest

from gridplan.access.standards import STANDARDS, grid_standards, standard_label, standard_source
from gridplan.i18n import MESSAGES
from gridplan.plan.grids import GridPlan
from gridplan.plan.units import build_units
from gridplan.surface.grid import census_surface


@pytest.fixture(scope="module")
def rizhao():
    us = build_units("371100")
    return us, census_surface(us, 1000), GridPlan.from_preset("rizhao")


def facility_rows(points):
    return pd.DataFrame(
        [
            {"facility_id": f"F{i}", "name": f"F{i}", "type": t, "lon": lon, "lat": lat,
             "beds": beds, "doctors": np.nan, "gps": gps, "source": "uploaded", "active": True}
            for i, (t, lon, lat, beds, gps) in enumerate(points)
        ]
    )  # fmt: skip


#: The seeds' documents as the standards cite them (issuer, title, year).
DOCUMENTS = {
    "002": (
        "日照市人民政府办公室《关于进一步完善医疗卫生服务体系的实施意见》（2024年）",
        "Rizhao municipal government office, Opinions on further improving",
    ),
    "004": (
        "郑州市人民政府《关于推进分级诊疗制度建设的实施意见》（2016年）",
        "Zhengzhou municipal government, Opinions on promoting tiered diagnosis",
    ),
}


def test_every_standard_names_its_seed():
    assert {s.seed for s in STANDARDS} <= {"002", "004"}
    for s in STANDARDS:  # a name and the seed's words, in both languages
        for code in (f"standard.{s.key}", f"standard.{s.key}.seed"):
            assert set(MESSAGES[code]) == {"zh", "en"}, code
        # the seed's document by issuer and title, never its number
        zh, en = DOCUMENTS[s.seed]
        assert standard_source(s.key, "zh").startswith(zh + "：")
        assert standard_source(s.key, "en").startswith(en)
        assert "seed" not in standard_source(s.key, "zh") + standard_source(s.key, "en")
    assert standard_label("coverage_15", "zh") == "15分钟可达覆盖率"
    assert standard_label("coverage_15", "en") == "Share within 15 minutes"
    assert "日照市" in standard_source("coverage_15", "zh")


def test_standards_per_grid_from_facility_data(rizhao):
    us, surface, plan = rizhao
    donggang = us.units.set_index("unit_id").geometry["371102"].representative_point()
    pop = 1_003_712  # 东港区, census 2020
    fac = facility_rows(
        [("社区卫生服务中心", donggang.x, donggang.y, 500.0, 150.0)] * 1
        + [("乡镇卫生院", donggang.x + 0.001, donggang.y, 500.0, 101.0)]
        + [("村卫生室", donggang.x, donggang.y + 0.001, np.nan, np.nan)]
    )
    out = grid_standards(plan, us, surface, fac, pd.Series([1.0, 0.5, 0.9, 0.2, 0.0]))
    assert not any(c.endswith(("_zh", "_en")) for c in out.columns)  # labels: standard_label
    dg = out[out["grid_id"] == "371102"].set_index("standard")
    assert dg.loc["residents_per_centre", "value"] == pytest.approx(pop / 2)
    assert dg.loc["residents_per_centre", "status"] == "above"  # > 100,000 per centre
    assert dg.loc["beds_per_1000", "value"] == pytest.approx(1000 / pop * 1000)
    assert dg.loc["beds_per_1000", "status"] == "below"
    assert dg.loc["gps_per_10000", "value"] == pytest.approx(251 / pop * 10_000)
    assert dg.loc["coverage_15", "status"] == "met"
    other = out[out["grid_id"] == "371103"].set_index("standard")  # 岚山区: no facility given
    assert other.loc["beds_per_1000", "status"] == "no_data"
    assert other.loc["residents_per_centre", "status"] == "below"  # no centre at all
    assert other.loc["coverage_15", "status"] == "below"
