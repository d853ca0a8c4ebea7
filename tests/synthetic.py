"""Synthetic township layers for tests.

No openly licensed township boundaries exist for the seed cities, so tests cut
the real county polygons into Voronoi cells and name them after the reference
township list.  These layers are illustrative test fixtures, never shipped as data.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gridplan.inputs.boundaries import load_county_boundaries
from gridplan.plan.townships import reference_townships
from gridplan.plan.units import UnitSet


def split_polygon(poly: shapely.Geometry, n: int, seed: int = 0) -> list[shapely.Geometry]:
    """Cut a (metric) polygon into ``n`` Voronoi cells of random interior points."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = poly.bounds
    pts: list[shapely.Point] = []
    prepared = shapely.prepared.prep(poly)
    while len(pts) < n:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if prepared.contains(p):
            pts.append(p)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=poly.envelope.buffer(1000))
    out = [c.intersection(poly) for c in shapely.get_parts(cells)]
    # order cells like the points so names are stable
    order = [next(i for i, c in enumerate(out) if c.contains(p)) for p in pts]
    return [out[i] for i in order]


def shijiazhuang_townships(extra_in_luancheng: int = 4) -> gpd.GeoDataFrame:
    """Township layer for 长安区, 桥西区, 新华区, 裕华区 (+ zone townships) and 栾城区.

    Columns ``XZQDM`` (9-digit code) and ``XZQMC`` (name), like a
    natural-resources bureau file; EPSG:4547 (CGCS2000 3-degree GK, CM 114°E).
    """
    counties = load_county_boundaries("130100").to_crs(4547).set_index("adcode")
    ref = reference_townships("130100")
    rows = []
    plan = {
        "130102": list(ref[ref.county_adcode == "130102"].itertuples()),
        "130104": list(ref[ref.county_adcode == "130104"].itertuples()),
        "130105": list(ref[ref.county_adcode == "130105"].itertuples()),
        # 裕华区 polygon also holds 高新区's 长江/太行/宋营 (legal parent as in the reference note)
        "130108": list(ref[ref.county_adcode == "130108"].itertuples())
        + list(ref[ref.code9.isin(["130171010", "130171011", "130171100"])].itertuples()),
    }
    for county, refs in plan.items():
        cells = split_polygon(counties.geometry[county], len(refs), seed=int(county))
        rows += [
            {"XZQDM": r.code9, "XZQMC": r.name_2020, "geometry": c}
            for r, c in zip(refs, cells, strict=True)
        ]
    qiema = ref[ref.code9 == "130171101"].iloc[0]
    cells = split_polygon(counties.geometry["130111"], 1 + extra_in_luancheng, seed=130111)
    rows.append({"XZQDM": qiema.code9, "XZQMC": qiema.name_2020, "geometry": cells[0]})
    for i, c in enumerate(cells[1:], 1):
        rows.append({"XZQDM": f"1301111{i:02d}", "XZQMC": f"示例{i}镇", "geometry": c})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4547")


def write_bureau_shapefile_zip(gdf: gpd.GeoDataFrame, folder: Path, stem: str = "乡镇") -> Path:
    """Write a zipped Shapefile as bureaus ship it: GBK .dbf, .prj, and no .cpg."""
    shp_dir = folder / "shp"
    shp_dir.mkdir(parents=True, exist_ok=True)
    path = shp_dir / f"{stem}.shp"
    gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK", engine="pyogrio")
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        cpg.unlink()
    out = folder / f"{stem}.zip"
    with zipfile.ZipFile(out, "w") as z:
        for f in sorted(shp_dir.iterdir()):
            z.write(f, f.name)
    return out


def toy_unit_set(
    boxes: list[shapely.Geometry],
    ids: list[str],
    population: object,
    zone_population: float,
) -> UnitSet:
    """A toy prefecture 990100: square county units (EPSG:4547) and one undrawn zone 990171."""
    import pandas as pd

    from gridplan.inputs.boundaries import Prefecture

    gdf = gpd.GeoDataFrame(
        {"unit_id": ids, "name": [f"U{x}" for x in ids]}, geometry=boxes, crs=4547
    )
    gdf = gdf.to_crs(4326)
    gdf["level"] = "county"
    gdf["county_adcode"] = gdf["unit_id"]
    gdf["county_name"] = gdf["name"]
    gdf["population"] = population
    gdf["population_source"] = "census2020"
    gdf["area_km2"] = 100.0
    gdf["has_geometry"] = True
    gdf["inside_prefecture"] = True
    zone = gpd.GeoDataFrame(
        {"unit_id": ["990171"], "name": ["Z"], "level": ["zone"], "county_adcode": ["990171"],
         "county_name": ["Z"], "population": [zone_population], "population_source": ["census2020"],
         "area_km2": [np.nan], "has_geometry": [False], "inside_prefecture": [True]},
        geometry=[None], crs=4326,
    )  # fmt: skip
    units = gpd.GeoDataFrame(pd.concat([gdf, zone], ignore_index=True), crs=4326)
    return UnitSet(Prefecture("990100", "Toy", "Toy"), units, "EPSG:4547")
