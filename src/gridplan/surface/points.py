"""Population from settlement points (CSV/Excel: lon, lat, population)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridplan import settings
from gridplan._types import BoolArray, Float32Array, FloatArray, Int32Array, IntArray
from gridplan._validate import Problems
from gridplan.errors import UploadError
from gridplan.inputs.columns import (
    cell_text,
    column_numbers,
    find_column,
    missing_columns_error,
)
from gridplan.inputs.crs import lonlat_problems, to_wgs84, transformer
from gridplan.inputs.tables import read_table_upload
from gridplan.inputs.vector import parse_datum
from gridplan.plan.population import (
    census_for_prefecture,
    confirm,
    figure_warnings,
    people,
    rows_text,
    total_warning,
    value_problems,
    warning_problems,
)
from gridplan.plan.units import UnitSet
from gridplan.surface.grid import CellGrid, PopulationSurface
from gridplan.surface.report import BadRow, SurfaceReport
from gridplan.surface.unitgrid import _grid_and_index, _locate_in_units, _unit_ids, _zone_note

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


def surface_from_points(
    table_df_or_path: pd.DataFrame | bytes | str | Path,
    unit_set: UnitSet,
    cell_m: float | None = None,
    *,
    datum: str = "wgs84",
    filename: str | None = None,
    encoding: str | None = None,
    max_mb: float | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    population_column: str | None = None,
    accept_warnings: bool = False,
) -> tuple[PopulationSurface, SurfaceReport]:
    """A population surface from points with a population (residential compounds, villages).

    Parameters
    ----------
    table_df_or_path
        A DataFrame, or a CSV/Excel file's content or path (read with
        :func:`gridplan.inputs.tables.read_table_upload`: UTF-8/GBK/GB18030 detected).
        Columns are found by name: longitude ``lon``/``lng``/``经度``/``x``,
        latitude ``lat``/``纬度``/``y``, population ``常住人口``/``population``/
        ``pop``/``人口``/``户籍人口``... (resident population preferred); or
        given with ``lon_column``, ``lat_column``, ``population_column``.
    unit_set, cell_m
        The planning units and the cell size in metres (default
        :data:`gridplan.settings.cell_m`).
    datum
        Datum of the coordinates: ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or
        ``"bd09"`` (Baidu); aliases accepted as in :func:`gridplan.inputs.vector.parse_datum`.
    filename, encoding, max_mb
        Passed to :func:`gridplan.inputs.tables.read_table_upload`.
    accept_warnings
        Use points whose figures are implausible: more than
        :data:`~gridplan.settings.points_outside_warn_share` of the people
        outside the units, a unit with more than
        :data:`~gridplan.settings.census_ratio_warn` times its census figure
        or denser than any real place, a total over
        :data:`~gridplan.settings.total_ratio_warn` times the prefecture's
        census.  The warnings are then kept in ``SurfaceReport.warnings``.

    Returns
    -------
    PopulationSurface
        Each point's population in the cell holding it; ``source="uploaded"``.
        A point inside a unit whose cell's centre is outside every unit (on the
        prefecture's edge) keeps its people: that cell is given the point's unit.
    SurfaceReport
        Bad rows with spreadsheet row numbers and reasons; points outside the
        units dropped and counted (``outside_rows``); accepted warnings.

    Raises
    ------
    UploadError
        ``points.missing_columns`` when a coordinate or population column is
        missing (one problem per column); ``points.invalid`` listing the rows
        whose population is impossible (no number, infinite, negative, more
        people than China has); ``points.no_valid_rows`` when no row is
        usable; the codes of :func:`gridplan.inputs.tables.read_table_upload`;
        ``upload.bad_datum``.
    InputError
        ``population.unconfirmed`` listing the warnings, unless ``accept_warnings``.
    """
    datum_key = parse_datum(datum)
    frame, name, notes = _read_points(table_df_or_path, filename, encoding, max_mb)
    picked, column_notes = _pick_columns(
        list(frame.columns),
        {"lon": lon_column, "lat": lat_column, "population": population_column},
    )
    notes += column_notes
    pts = _checked_points(frame, picked)
    notes += pts.notes
    if not pts.usable.any():
        raise UploadError(
            f"{name}: no usable row among {len(frame)}",
            code="points.no_valid_rows",
            params={"filename": name, "n": len(frame)},
            problems=[b.text("en") for b in pts.bad[:10]],
        )

    grid, index = _grid_and_index(unit_set, cell_m)
    sel = np.flatnonzero(pts.usable)
    wlon, wlat = to_wgs84(pts.lon[sel], pts.lat[sel], datum_key)
    if datum_key != "wgs84":
        notes.append(f"coordinates converted from {datum_key.upper()} to WGS-84")
    x, y = transformer("EPSG:4326", grid.crs).transform(wlon, wlat)
    p = pts.population[sel]
    population, index, unit, grid_notes = _sum_on_grid(
        unit_set, grid, index, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), p
    )
    inside = unit >= 0
    accepted = confirm(_warnings(unit_set, pts.rows[sel], p, unit), accept_warnings)
    notes += grid_notes + _zone_note(unit_set)
    surface = PopulationSurface(
        grid=grid,
        population=population,
        unit_index=index,
        unit_ids=_unit_ids(unit_set),
        source="uploaded",
        method=f"population points {name} ({datum_key}), summed per cell",
    )
    report = SurfaceReport(
        kind="points",
        input_total=float(p.sum()),
        kept_total=surface.total,
        dropped_population=float(p[~inside].sum()),
        n_input=len(sel),
        n_outside=int((~inside).sum()),
        outside_rows=[int(v) for v in pts.rows[sel][~inside]],
        bad_rows=pts.bad,
        notes=notes,
        warnings=accepted,
    )
    return surface, report


def _read_points(
    table_df_or_path: pd.DataFrame | bytes | str | Path,
    filename: str | None,
    encoding: str | None,
    max_mb: float | None,
) -> tuple[pd.DataFrame, str, list[str]]:
    """The table of points, the name messages use, and notes on reading it."""
    if isinstance(table_df_or_path, pd.DataFrame):
        return table_df_or_path.reset_index(drop=True), filename or "table", []
    frame, load = read_table_upload(table_df_or_path, filename, encoding=encoding, max_mb=max_mb)
    notes = list(load.notes)
    if load.n_dropped:
        notes.append(
            f"{load.n_dropped} blank row(s) were skipped; row numbers below the first "
            "blank row count only non-blank rows"
        )
    return frame, load.filename, notes


@dataclass
class _Points:
    """The points' numbers, which rows can be used and why the others cannot."""

    rows: IntArray  # spreadsheet rows: the header is row 1
    lon: FloatArray
    lat: FloatArray
    population: FloatArray
    usable: BoolArray
    bad: list[BadRow]
    notes: list[str]


def _checked_points(frame: pd.DataFrame, picked: dict[str, Any]) -> _Points:
    """Every row checked: coordinates present, numbers, lon/lat in range and not swapped,
    population present (a row gets each problem it has).

    A population that is no number, infinite, negative or more than China's
    is raised at once (``points.invalid``, every such row listed).
    """
    n = len(frame)
    rows = np.arange(n) + 2
    lon, lon_missing, lon_bad = column_numbers(frame[picked["lon"]])
    lat, lat_missing, lat_bad = column_numbers(frame[picked["lat"]])
    pop, pop_missing, pop_bad = column_numbers(frame[picked["population"]])
    bad: list[BadRow] = []
    usable = np.ones(n, dtype=bool)

    def flag(mask: BoolArray, code: str, **cols: NDArray[Any]) -> None:
        for i in np.flatnonzero(mask):
            params = {k: cell_text(v[i]) for k, v in cols.items()}
            bad.append(BadRow(int(rows[i]), f"popsurface.row.{code}", params))
        usable[mask] = False

    raw_lon = frame[picked["lon"]].to_numpy(dtype=object)
    raw_lat = frame[picked["lat"]].to_numpy(dtype=object)
    flag(lon_missing | lat_missing, "missing_coordinates")
    flag(lon_bad | lat_bad, "non_numeric_coordinates", lon=raw_lon, lat=raw_lat)
    swapped, out_of_range, elsewhere = lonlat_problems(lon, lat)
    flag(out_of_range, "bad_coordinates", lon=lon, lat=lat)
    flag(swapped, "swapped_coordinates", lon=lon, lat=lat)
    coord_ok = usable.copy()
    flag(pop_missing, "missing_population")
    # an impossible population (text, inf, negative, 1e30) is a broken file, not one bad row
    problems = Problems("points.invalid", "cannot use the population points", UploadError)
    value_problems(problems, pop, pop_bad, frame[picked["population"]].to_numpy(object), rows)
    problems.raise_if_any()
    bad.sort(key=lambda b: b.row)
    notes = []
    n_foreign = int((coord_ok & elsewhere).sum())
    if n_foreign:
        notes.append(
            f"{n_foreign} point(s) lie outside China: check the coordinate columns and datum"
        )
    return _Points(rows, lon, lat, pop, usable, bad, notes)


def _sum_on_grid(
    unit_set: UnitSet,
    grid: CellGrid,
    index: Int32Array,
    x: FloatArray,
    y: FloatArray,
    pop: FloatArray,
) -> tuple[Float32Array, Int32Array, IntArray, list[str]]:
    """Each point's population in its cell: population per cell, unit index, notes, and the
    unit (row position in ``unit_set.units``) of each point kept, -1 for the points dropped.

    Only points in a unit count.  A point in a unit whose cell's centre lies
    outside every unit (on the prefecture's edge) keeps its people: that
    cell is given the point's unit.
    """
    unit = _locate_in_units(unit_set, grid.crs, x, y)
    r, c, on_grid = grid.cell_of(x, y)
    inside = (unit >= 0) & on_grid
    flat = r[inside] * grid.ncols + c[inside]
    population = np.bincount(flat, weights=pop[inside], minlength=grid.nrows * grid.ncols)
    index = index.copy()
    flat_index = index.reshape(-1)
    orphan = flat_index[flat] < 0
    notes = []
    if orphan.any():
        flat_index[flat[orphan]] = unit[inside][orphan]
        notes.append(
            f"{int(orphan.sum())} point(s) inside a unit fell in edge cells whose centre is "
            "outside every unit; those cells were given the point's unit"
        )
    kept = np.where(inside, unit, -1)
    return population.reshape(grid.shape).astype(np.float32), index, kept, notes


def _warnings(unit_set: UnitSet, rows: IntArray, pop: FloatArray, unit: IntArray) -> Problems:
    """The implausible in points: many people outside, units or a total far above the census,
    densities above any real place (units' figures from the census or a confirmed table)."""
    warnings = warning_problems()
    inside = unit >= 0
    total = float(pop.sum())
    outside = float(pop[~inside].sum())
    if total > 0 and outside > settings.points_outside_warn_share * total:
        warnings.add(
            "population.warn.points_outside",
            f"{int((~inside).sum())} points holding {people(outside)} people lie outside the units",
            n=int((~inside).sum()), rows=rows_text(rows[~inside]), people=people(outside),
            share=f"{outside / total:.0%}",
        )  # fmt: skip
    figure_warnings(warnings, _unit_figures(unit_set, rows, pop, unit))
    census = census_for_prefecture(unit_set.prefecture.adcode)
    total_warning(
        warnings, total - outside, float(census["pop_2020"].sum()), unit_set.prefecture.name
    )
    return warnings


def _unit_figures(
    unit_set: UnitSet, rows: IntArray, pop: FloatArray, unit: IntArray
) -> pd.DataFrame:
    """The points' population per unit, with the unit's census (or confirmed) figure and area."""
    u = unit_set.units.reset_index(drop=True)
    inside = unit >= 0
    sums = pd.Series(pop[inside]).groupby(unit[inside]).sum()
    listed = pd.Series(rows[inside]).groupby(unit[inside]).agg(rows_text)
    pos = sums.index.to_numpy(dtype=np.int64)
    known = ~u["population_source"].isin(["modelled", "uploaded+modelled", "none"]).to_numpy()
    current = u["population"].to_numpy(float)
    return pd.DataFrame(
        {
            "unit": [f"{u.at[i, 'name']} ({u.at[i, 'unit_id']})" for i in pos],
            "level": u["level"].to_numpy()[pos],
            "rows": listed.to_numpy(),  # the same groups, in the same order, as sums
            "value": sums.to_numpy(float),
            "census": np.where(known[pos], current[pos], np.nan),
            "area_km2": u["area_km2"].to_numpy(float)[pos],
            "check_low": False,  # a point table may count part of a unit's people
        }
    )


def _pick_columns(
    columns: list[Any], given: dict[str, str | None]
) -> tuple[dict[str, Any], list[str]]:
    """The column read for lon, lat and population: the one given, else found by its name.

    Raises ``points.missing_columns`` listing every field without a column.
    """
    names = {"lon": _LON_NAMES, "lat": _LAT_NAMES, "population": _POP_NAMES}
    picked: dict[str, Any] = {}
    notes: list[str] = []
    missing: dict[str, tuple[str, ...]] = {}
    for key, wanted in given.items():
        others: list[Any] = []
        if wanted is not None:
            col = wanted if wanted in columns else None
        else:
            col, others = find_column(columns, names[key])
        if col is None:
            missing[key] = (wanted,) if wanted is not None else names[key]
            continue
        picked[key] = col
        if others:
            notes.append(f"used column '{col}' for {key}; also found {others}")
    if missing:
        raise missing_columns_error("points", missing, columns, UploadError)
    return picked, notes
