"""Helpers shared by the population readers: limits, transformers, unit lookup, column names."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridplan.plan.units import UnitSet
from gridplan.surface.grid import (
    CellGrid,
    grid_for_units,
    rasterize_units,
)

_LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x", "东经", "wgs84lon", "gcj02lon")
_LAT_NAMES = ("lat", "latitude", "纬度", "y", "北纬", "wgs84lat", "gcj02lat")
#: Population columns in order of preference (resident population first).
_POP_NAMES = (
    "常住人口",
    "population",
    "pop",
    "人口",
    "人口数",
    "总人口",
    "居住人口",
    "户籍人口",
    "人数",
    "pop2020",
)
_LABEL_NAMES = ("name", "名称", "xzqmc", "乡镇", "乡镇名称", "街道", "单位", "unit_id", "code")


# --------------------------------------------------------------------------------------
# small helpers


def _grid_and_index(unit_set: UnitSet, cell_m: float) -> tuple[CellGrid, NDArray[np.int32]]:
    grid = grid_for_units(unit_set, cell_m)
    return grid, rasterize_units(unit_set, grid).astype(np.int32)


def _unit_ids(unit_set: UnitSet) -> list[str]:
    return [str(x) for x in unit_set.units.reset_index(drop=True)["unit_id"]]


def _zone_note(unit_set: UnitSet) -> list[str]:
    zones = unit_set.zones_without_polygon
    if len(zones) == 0:
        return []
    return [
        f"{len(zones)} unit(s) have no polygon ({', '.join(map(str, zones['name']))}); "
        "their residents are counted in the drawn units around them"
    ]


def _locate_in_units(
    unit_set: UnitSet, crs: str, x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Row position (in ``unit_set.units``) of the unit holding each metric point; -1 outside.

    Points on a shared border go to one of the units; townships win over
    counties, as in :func:`gridplan.surface.grid.rasterize_units`.
    """
    out = np.full(len(x), -1, dtype=np.int64)
    if len(x) == 0:
        return out
    u = unit_set.units.reset_index(drop=True)
    pos = np.flatnonzero(u["has_geometry"].to_numpy(dtype=bool))
    if len(pos) == 0:
        return out
    geoms = u.geometry.iloc[pos].to_crs(crs).to_numpy()
    prio = (u["level"].iloc[pos] == "township").to_numpy().astype(np.int64)
    tree = shapely.STRtree(geoms)
    pi, ti = tree.query(shapely.points(x, y), predicate="intersects")
    if len(pi) == 0:
        return out
    order = np.lexsort((prio[ti], pi))
    pi, ti = pi[order], ti[order]
    last = np.r_[pi[1:] != pi[:-1], True]
    out[pi[last]] = pos[ti[last]]
    return out


def _normalise_name(name: object) -> str:
    text = re.sub(r"[\(（\[【].*?[\)）\]】]", "", str(name))
    return re.sub(r"[\s_\-]", "", text).lower()


def _find_column(columns: list[Any], names: tuple[str, ...]) -> tuple[Any | None, list[Any]]:
    """The first column matching ``names`` (in their order) and the other matches."""
    norm = {c: _normalise_name(c) for c in columns}
    found = [c for n in names for c in columns if norm[c] == n]
    unique = list(dict.fromkeys(found))
    return (unique[0] if unique else None), unique[1:]


def _numbers(series: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Values as floats, whether each is missing, whether it is present but not a number."""
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        text = series.astype(str).str.normalize("NFKC").str.replace(r"[,\s]", "", regex=True)
        missing = missing | (text == "").to_numpy()
        num = pd.to_numeric(text.where(~missing), errors="coerce")
    else:
        num = pd.to_numeric(series, errors="coerce")
    values = num.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~missing & ~np.isfinite(values)
    return values, missing, bad


def _label_of(frame: pd.DataFrame) -> list[str]:
    col, _ = _find_column(list(frame.columns), _LABEL_NAMES)
    if col is None:
        return [f"#{i + 1}" for i in range(len(frame))]
    return [str(v) if pd.notna(v) else f"#{i + 1}" for i, v in enumerate(frame[col])]
