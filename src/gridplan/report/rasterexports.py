"""Travel-time GeoTIFF and catchment GeoJSON exports."""

from __future__ import annotations

from pathlib import Path

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
    data = np.where(np.isfinite(times.minutes), times.minutes, -1.0).astype(np.float32)
    profile = {
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
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(
            units="minutes", model=times.model, **{k: str(v) for k, v in times.params.items()}
        )


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
