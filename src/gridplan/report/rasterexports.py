"""Travel-time GeoTIFF and catchment GeoJSON exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.errors
import rasterio.features
import shapely
import shapely.geometry

from gridplan._types import FloatArray
from gridplan.surface.ageing import demand_name
from gridplan.travel.base import TravelTimes


def write_minutes_geotiff(times: TravelTimes, path: str | Path) -> None:
    """Write travel minutes as a float32 GeoTIFF in the grid's CRS (nodata = -1: unreachable)."""
    with rasterio.open(path, "w", **_minutes_profile(times)) as dst:
        _write_minutes(dst, times)


def minutes_geotiff_bytes(times: TravelTimes) -> bytes:
    """The GeoTIFF of :func:`write_minutes_geotiff` as bytes (a download), built in memory."""
    with rasterio.MemoryFile() as mem:
        with mem.open(**_minutes_profile(times)) as dst:
            _write_minutes(dst, times)
        return bytes(mem.read())


def _write_minutes(dst: Any, times: TravelTimes) -> None:
    data = np.where(np.isfinite(times.minutes), times.minutes, -1.0).astype(np.float32)
    dst.write(data, 1)
    tags = {k: str(v) for k, v in times.params.items()}  # params may name the model too
    dst.update_tags(**{**tags, "units": "minutes", "model": times.model})


def _minutes_profile(times: TravelTimes) -> dict[str, Any]:
    return {
        "driver": "GTiff",
        "width": times.grid.ncols,
        "height": times.grid.nrows,
        "count": 1,
        "dtype": "float32",
        "crs": times.grid.crs,
        "transform": times.grid.transform,
        "nodata": -1.0,
        "compress": "deflate",
    }


def catchments_geojson(
    times: TravelTimes, facilities: pd.DataFrame, served: FloatArray, demand: str = "all"
) -> bytes:
    """Per-facility catchments (cells whose nearest facility it is) as WGS-84 GeoJSON.

    ``served`` counts the ``demand`` (``all`` residents or ``65plus``), which
    each feature names in its ``demand`` property.
    """
    nearest = times.nearest.astype(np.int32)
    shapes = rasterio.features.shapes(nearest, mask=nearest >= 0, transform=times.grid.transform)
    geoms, ids = [], []
    for geom, value in shapes:
        geoms.append(shapely.geometry.shape(geom))
        ids.append(int(value))
    gdf = gpd.GeoDataFrame({"facility": ids}, geometry=geoms, crs=times.grid.crs)
    gdf = gdf.dissolve("facility").reset_index()
    f = facilities.reset_index(drop=True)
    gdf["facility_id"] = f["facility_id"].to_numpy()[gdf["facility"]]
    gdf["name"] = f["name"].to_numpy()[gdf["facility"]]
    gdf["type"] = f["type"].to_numpy()[gdf["facility"]]
    gdf["source"] = f["source"].to_numpy()[gdf["facility"]]
    gdf["served_population"] = np.round(served[gdf["facility"]], 1)
    gdf["population_source"] = "modelled"
    gdf["demand"] = demand_name(demand)
    out = gdf.drop(columns="facility").to_crs(4326)
    return out.to_json(drop_id=True, ensure_ascii=False).encode("utf-8")
