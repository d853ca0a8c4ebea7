"""The planning units on the cell grid, as the population readers need them.

The grid and the unit index of its cells, the unit codes in index order,
which unit holds a point, and the note on units drawn on no cell.
"""

from __future__ import annotations

import numpy as np
import shapely

from gridplan._types import FloatArray, Int32Array, IntArray
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import CellGrid, grid_for_units, rasterize_units


def _grid_and_index(unit_set: UnitSet, cell_m: float | None) -> tuple[CellGrid, Int32Array]:
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


def _locate_in_units(unit_set: UnitSet, crs: str, x: FloatArray, y: FloatArray) -> IntArray:
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
