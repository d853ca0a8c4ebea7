"""A siting study on a plan (次中心选址): where k new or upgraded centres help most.

The planner's question end to end, shared by the dashboard's siting page and
``python -m gridplan optimize``:

1. **What the new sites provide** (``level``): ``"secondary"`` — sub-centres
   (医疗次中心, central township health centres upgraded to serve several
   townships, Rizhao's plan, seed 002) counted with the hospitals, typically
   on a 30-minute drive; or ``"primary"`` — new primary-care centres for the
   15-minute circle.  The facilities of that level in the facility table are
   the *existing* ones: kept open, their coverage counted as "before".
2. **Candidates** (``candidates``): ``"centres"`` — the active township and
   community health centres of the table (upgrade to 次中心; secondary level
   only), ``"grid"`` — one candidate per populated block of
   ``grid_spacing_m`` (the populated cell nearest the block's weighted
   centre), or ``"list"`` — the planner's own sites; exclusion areas remove
   candidates inside them.
3. **Method**: population-weighted k-means snapped to candidates, maximal
   covering (MCLP), p-median, or the fewest sites reaching a ``target``
   share; MCLP and p-median with a ``capacity`` per site become their
   capacitated variants (:mod:`gridplan.siting.models`).
4. **Evaluation on the full surface with the same travel-time model**: the
   solvers work on demand aggregated to at most ``max_demand`` points; the
   coverage before and after, per grid, and the residents each new site
   serves are then recomputed cell by cell, so they match the coverage page.

:func:`accept_sites` turns chosen sites into facility rows (an upgraded centre
changes type to 医疗次中心; a new site is added) so the coverage page counts
them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from numpy.typing import NDArray

from gridplan._validate import Problems
from gridplan.access.coverage import CoverageIndex, KpiTables, kpi_tables
from gridplan.facilities.illustrative import is_urban_unit
from gridplan.facilities.table import add_facility, facility_mask, facility_xy
from gridplan.facilities.types import CENTRES, PRIMARY_CARE, SECONDARY_CARE
from gridplan.plan.grids import GridPlan, resolve_assignment
from gridplan.plan.units import UnitSet
from gridplan.siting.capacitated import CapacitatedMCLP, CapacitatedPMedian
from gridplan.siting.demand import (
    Candidates,
    candidate_grid,
    candidates_from_facilities,
    candidates_from_lonlat,
)
from gridplan.siting.kmeans import KMeansSiting
from gridplan.siting.mclp import MCLP, sites_needed
from gridplan.siting.options import DemandOptions, SurfaceOptions
from gridplan.siting.pmedian import PMedian
from gridplan.siting.target import SetCoverTarget
from gridplan.surface.ageing import demand_name
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.base import TravelTimeModel, TravelTimes

__all__ = [
    "CANDIDATE_SOURCES",
    "LEVELS",
    "METHODS",
    "SitingSettings",
    "SitingStudy",
    "accept_sites",
    "check_settings",
    "combine_times",
    "exclusion_circles",
    "run_siting",
]

#: What the new sites provide, and the facility types counted as existing.
LEVELS: dict[str, tuple[str, ...]] = {"primary": PRIMARY_CARE, "secondary": SECONDARY_CARE}
METHODS: tuple[str, ...] = ("kmeans", "mclp", "pmedian", "target")
CANDIDATE_SOURCES: tuple[str, ...] = ("centres", "grid", "list")
SOLVERS: tuple[str, ...] = ("exact", "greedy")


@dataclass(frozen=True)
class SitingSettings:
    """What to solve: every field a planner sets on the siting page or the CLI.

    ``minutes`` is the coverage time (MCLP, target, capacitated MCLP, and the
    before/after coverage of every method); ``target`` the share for
    ``method="target"``; ``capacity`` residents per new site (None:
    uncapacitated; MCLP and p-median only); ``solver`` ``exact`` (HiGHS,
    ``time_limit_s``, relative ``gap``) or ``greedy``; ``curve_k_max`` the
    largest k of the coverage-versus-k curve; ``pmedian_cutoff_min`` the
    travel-time cutoff of p-median's matrix (residents without a site within
    it count at the cutoff).
    """

    method: str = "mclp"
    k: int = 5
    minutes: float = 30.0
    level: str = "secondary"
    candidates: str = "centres"
    target: float = 0.9
    capacity: float | None = None
    solver: str = "exact"
    time_limit_s: float = 30.0
    gap: float = 1e-3
    max_demand: int = 20_000
    grid_spacing_m: float = 2_000.0
    curve_k_max: int = 20
    pmedian_cutoff_min: float = 60.0


#: The settings chosen from a list, and their choices.
_CHOICES: dict[str, tuple[str, ...]] = {
    "method": METHODS,
    "level": tuple(LEVELS),
    "candidates": CANDIDATE_SOURCES,
    "solver": SOLVERS,
}
#: The numeric settings and their ranges (both ends allowed); ``_WHOLE`` ones are integers.
_NUMBERS: dict[str, tuple[float, float]] = {
    "k": (1, 500),
    "minutes": (1, 180),
    "target": (0.01, 1.0),
    "capacity": (1, 1e8),
    "time_limit_s": (0.1, 3600),
    "gap": (0, 0.5),
    "max_demand": (100, 200_000),
    "grid_spacing_m": (50, 50_000),
    "curve_k_max": (0, 200),
    "pmedian_cutoff_min": (1, 600),
}
_WHOLE = frozenset({"k", "max_demand", "curve_k_max"})


def _applies(name: str, s: SitingSettings) -> bool:
    """Whether the setting ``name`` matters for ``s`` (k not for a target, ...)."""
    if name == "k":
        return s.method != "target"
    if name == "target":
        return s.method == "target"
    if name == "capacity":
        return s.capacity is not None
    return True


def check_settings(settings: SitingSettings) -> None:
    """Raise one ``siting.invalid`` error listing every problem of ``settings``."""
    problems = Problems("siting.invalid", "cannot run the siting study")
    s = settings
    for name, allowed in _CHOICES.items():
        problems.choice(f"siting.{name}", name, getattr(s, name), allowed)
    checked = {name: v for name, v in _NUMBERS.items() if _applies(name, s)}
    for name, (low, high) in checked.items():
        value, code = getattr(s, name), f"siting.{name}"
        if name in _WHOLE:
            problems.integer(name, value, int(low), int(high), code=code)
        else:
            problems.number(name, value, low=low, high=high, low_inclusive=True, code=code)
    if s.capacity is not None and s.method not in ("mclp", "pmedian"):
        problems.add(
            "siting.capacity_method",
            f"a capacity applies to mclp and pmedian, not {s.method}",
            method=str(s.method),
        )
    if s.candidates == "centres" and s.level == "primary":
        problems.add(
            "siting.centres_primary",
            "upgrading existing centres adds no primary care: choose the secondary level "
            "(sub-centres) or a candidate grid or list",
        )
    problems.raise_if_any()


#: Why sites on an even spread are not recommended (the CLI's JSON; the pages say it in Chinese).
UNIFORM_REASON = (
    "the population surface spreads each unit's residents evenly (modelled), so places within a "
    "unit cannot be told apart: upload a population raster or settlement points"
)


@dataclass
class SitingStudy:
    """The answer of :func:`run_siting`, evaluated on the full surface.

    ``sites``: one row per proposed site (``site``, ``candidate_id``, ``name``
    (the facility's, for upgrades), ``lon``/``lat`` WGS-84, ``x``/``y``
    metric, ``unit_id``/``unit_name`` (the planning unit it lies in, else the
    nearest), ``grid_id``, ``served_population`` (residents within
    ``minutes`` whose nearest facility of the level it becomes; capacitated
    models: the residents the model assigns to it) and ``newly_covered``
    (those of them not covered before)).  ``covered_before`` /
    ``covered_after`` / ``population``: residents on the surface (the
    analysed ones; units without a polygon are outside, as on the coverage
    page).  ``objective``, ``gap``, ``status``, ``solve_seconds``: the
    solver's (on the aggregated demand); ``seconds``: the whole study.
    ``curve``: coverage for k = 0…K new sites (greedy; a lower bound of the
    best at each k) on the aggregated demand.
    """

    settings: SitingSettings
    problem: Any
    sites: pd.DataFrame
    candidates: Candidates
    n_existing: int
    population: float
    covered_before: float
    covered_after: float
    objective: float
    gap: float
    status: str
    solve_seconds: float
    seconds: float
    before: TravelTimes
    after: TravelTimes
    kpi_before: KpiTables
    kpi_after: KpiTables
    curve: pd.DataFrame
    population_source: str
    notes: list[str] = field(default_factory=list)
    #: Whose demand was counted: ``all`` residents or ``65plus`` (the surface's).
    demand: str = "all"
    #: The surface spreads each unit's residents evenly (:attr:`PopulationSurface.
    #: uniform_within_units`): it cannot tell places within a unit apart.
    uniform_surface: bool = False

    @property
    def recommended(self) -> bool:
        """Whether the sites are recommendations: only when the surface tells places apart
        within units; on an even spread a site's place and gain are artefacts of the spread."""
        return not self.uniform_surface

    @property
    def share_before(self) -> float:
        return self.covered_before / self.population if self.population > 0 else math.nan

    @property
    def share_after(self) -> float:
        return self.covered_after / self.population if self.population > 0 else math.nan

    @property
    def k(self) -> int:
        return len(self.sites)

    @property
    def sites_for_target(self) -> int | None:
        """Smallest k of the curve reaching ``settings.target`` (None: not within the curve)."""
        if self.curve.empty:
            return None
        return sites_needed(self.curve, self.settings.target)

    def by_grid(self) -> pd.DataFrame:
        """Coverage before and after per grid, with the new sites in each."""
        b = self.kpi_before.by_grid
        a = self.kpi_after.by_grid
        out = pd.DataFrame(
            {
                "grid_id": b["grid_id"],
                "name": b["name"],
                "population": b["population"],
                "covered_before": b["covered"],
                "covered_after": a["covered"].to_numpy(),
                "share_before": b["share"],
                "share_after": a["share"].to_numpy(),
                "mean_minutes_before": b["mean_minutes"],
                "mean_minutes_after": a["mean_minutes"].to_numpy(),
            }
        )
        out["newly_covered"] = out["covered_after"] - out["covered_before"]
        counts = self.sites["grid_id"].value_counts()
        out["new_sites"] = out["grid_id"].map(counts).fillna(0).astype(int)
        return out

    def newly_covered_mask(self) -> NDArray[np.bool_]:
        """Cells covered within ``minutes`` after but not before (grid shape)."""
        t = np.float32(self.settings.minutes)
        return (self.after.minutes <= t) & ~(self.before.minutes <= t)

    def catchments(self) -> gpd.GeoDataFrame:
        """Catchments of the new sites within ``minutes`` (WGS-84 polygons, one per site)."""
        t = np.float32(self.settings.minutes)
        site_of = self.after.nearest.astype(np.int32) - np.int32(self.n_existing)
        mask = (site_of >= 0) & (self.after.minutes <= t)
        site_of = np.where(mask, site_of, -1).astype(np.int32)
        shapes = rasterio.features.shapes(site_of, mask=mask, transform=self.before.grid.transform)
        geoms, ids = [], []
        for geom, value in shapes:
            geoms.append(shapely.geometry.shape(geom))
            ids.append(int(value))
        crs = self.before.grid.crs
        if not geoms:
            return gpd.GeoDataFrame({"site": [], "geometry": []}, crs=crs).to_crs(4326)
        gdf = gpd.GeoDataFrame({"site": ids}, geometry=geoms, crs=crs).dissolve("site")
        gdf = gdf.reset_index()
        s = self.sites.set_index("site")
        gdf["candidate_id"] = s.loc[gdf["site"], "candidate_id"].to_numpy()
        gdf["served_population"] = s.loc[gdf["site"], "served_population"].to_numpy()
        gdf["population_source"] = self.population_source
        gdf["demand"] = demand_name(self.demand)
        return gdf.to_crs(4326)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON contract (see ``python -m gridplan optimize``)."""
        s = self.settings

        def num(v: Any, digits: int = 1) -> float | None:
            v = float(v)
            return round(v, digits) if math.isfinite(v) else None

        records: list[dict[Hashable, Any]] = self.sites.to_dict("records")
        sites = [
            {
                "lon": round(float(r["lon"]), 6),
                "lat": round(float(r["lat"]), 6),
                "candidate_id": str(r["candidate_id"]),
                "name": r["name"],
                "unit_id": r["unit_id"],
                "unit_name": r["unit_name"],
                "grid_id": r["grid_id"],
                "served_population": num(r["served_population"]),
                "newly_covered": num(r["newly_covered"]),
            }
            for r in records
        ]
        grids = [
            {k: (num(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
            for row in self.by_grid().to_dict("records")
        ]
        points: list[dict[Hashable, Any]] = self.curve.to_dict("records")
        curve = [
            {"k": int(r["k"]), "covered": num(r["covered_greedy"]),
             "share": num(r["coverage_greedy"], 6)}
            for r in points
        ]  # fmt: skip
        return {
            "method": s.method,
            "k": self.k,
            "sites": sites,
            "covered_before": num(self.covered_before),
            "covered_after": num(self.covered_after),
            "population": num(self.population),
            "share_before": num(self.share_before, 6),
            "share_after": num(self.share_after, 6),
            "objective": num(self.objective, 3),
            "gap": num(self.gap, 6),
            "status": self.status,
            "seconds": num(self.seconds, 3),
            "solve_seconds": num(self.solve_seconds, 3),
            "settings": {
                "level": s.level,
                "minutes": s.minutes,
                "candidates": s.candidates,
                "n_candidates": len(self.candidates),
                "solver": s.solver if s.method != "kmeans" else "heuristic",
                "capacity": s.capacity,
                "target": s.target if s.method == "target" else None,
                "n_existing": self.n_existing,
            },
            "by_grid": grids,
            "curve": curve,
            "sites_for_target": self.sites_for_target,
            # sites on an even spread are where the spread puts them, not recommendations
            "recommended": self.recommended,
            "not_recommended_reason": None if self.recommended else UNIFORM_REASON,
            "provenance": {
                "population": self.population_source,
                "demand": demand_name(self.demand),
                "uniform_within_units": self.uniform_surface,
            },
            "notes": self.notes,
        }


# --- exclusion areas ----------------------------------------------------------------


def exclusion_circles(table: pd.DataFrame, crs: str) -> gpd.GeoSeries:
    """Circles a planner types in (``lon``, ``lat`` WGS-84, ``radius_km``) as exclusion areas.

    Drawn in the metric ``crs`` (true circles on the ground) and returned in
    it.  Blank rows are skipped; a row with a missing or bad value raises one
    ``siting.invalid`` error naming every such row (numbered as in the table).
    """
    problems = Problems("siting.invalid", "cannot use the exclusion circles")
    rows = table.dropna(how="all")
    missing = [c for c in ("lon", "lat", "radius_km") if c not in rows]
    if missing:
        problems.add("siting.circle_columns", f"missing columns {missing}", missing=missing)
        problems.raise_if_any()
    lon = pd.to_numeric(rows["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(rows["lat"], errors="coerce").to_numpy(float)
    rad = pd.to_numeric(rows["radius_km"], errors="coerce").to_numpy(float)
    bad = ~(
        np.isfinite(lon) & np.isfinite(lat) & np.isfinite(rad)
        & (lon >= 73) & (lon <= 136) & (lat >= 3) & (lat <= 54) & (rad > 0) & (rad <= 100)
    )  # fmt: skip
    position = {label: n + 1 for n, label in enumerate(table.index)}
    for i in np.flatnonzero(bad):
        row = position[rows.index[int(i)]]
        problems.add(
            "siting.circle",
            f"circle {row}: lon {lon[i]}, lat {lat[i]}, radius {rad[i]} km is not usable",
            row=row,
            lon=str(lon[i]),
            lat=str(lat[i]),
            radius=str(rad[i]),
        )
    problems.raise_if_any()
    centres = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(crs)
    return centres.buffer(rad * 1000.0, quad_segs=32)


# --- candidates -----------------------------------------------------------------------


def _candidates(
    settings: SitingSettings,
    surface: PopulationSurface,
    facilities: pd.DataFrame,
    candidate_list: pd.DataFrame | None,
    problems: Problems,
) -> tuple[Candidates | None, dict[str, str]]:
    """The candidate sites and the facility names of upgrade candidates (by id)."""
    crs = surface.grid.crs
    if settings.candidates == "centres":
        types = [t for t in CENTRES if t not in LEVELS[settings.level]]
        mask = facility_mask(facilities, types)
        names = dict(
            zip(
                facilities.loc[mask, "facility_id"].astype(str),
                facilities.loc[mask, "name"].astype(str),
                strict=True,
            )
        )
        return candidates_from_facilities(facilities, crs, types), names
    if settings.candidates == "grid":
        return candidate_grid(
            surface, spacing_m=max(settings.grid_spacing_m, surface.grid.cell_m)
        ), {}
    if candidate_list is None or len(candidate_list) == 0:
        problems.add("siting.no_list", "the candidate source is a list, but no list was given")
        return None, {}
    ids = candidate_list["facility_id"].astype(str).tolist()
    cands = candidates_from_lonlat(candidate_list["lon"], candidate_list["lat"], crs, ids)
    return cands, dict(zip(ids, candidate_list["name"].astype(str), strict=True))


@dataclass
class _Setup:
    """What a study solves on: its settings, surface, candidates (and the names of upgrade
    candidates), travel-time model, existing facilities of the level and exclusion areas."""

    settings: SitingSettings
    surface: PopulationSurface
    candidates: Candidates
    names: dict[str, str]
    model: TravelTimeModel
    existing_xy: NDArray[np.float64]
    n_existing: int
    exclusions: Any

    def demand_options(self) -> DemandOptions:
        """``from_surface`` options: demand aggregation and exclusions."""
        return DemandOptions(max_demand=self.settings.max_demand, exclusions=self.exclusions)

    def surface_options(self) -> SurfaceOptions:
        """``from_surface`` options of the models with travel times: demand and travel."""
        return SurfaceOptions(
            **self.demand_options(), model=self.model, existing_xy=self.existing_xy
        )


def _setup(
    settings: SitingSettings,
    surface: PopulationSurface,
    facilities: pd.DataFrame,
    model: TravelTimeModel,
    *,
    candidate_list: pd.DataFrame | None,
    exclusions: Any,
    before: TravelTimes | None,
) -> _Setup:
    """The study's inputs; one ``siting.invalid`` error listing every problem with them."""
    problems = Problems("siting.invalid", "cannot run the siting study")
    if not (surface.population > 0).any():  # no demand: candidates over populated cells are none
        problems.add(
            "siting.no_population",
            "no residents on the population surface: upload a population table or raster",
        )
        problems.raise_if_any()
    cands, names = _candidates(settings, surface, facilities, candidate_list, problems)
    if cands is not None and len(cands) == 0:
        problems.add(
            "siting.no_candidates",
            f"no candidate sites from {settings.candidates}",
            source=settings.candidates,
        )
    if before is not None and before.grid != surface.grid:
        problems.add("siting.grid", "the given travel times are not on the surface's grid")
    problems.raise_if_any()
    assert cands is not None
    types = LEVELS[settings.level]
    existing_xy = facility_xy(facilities, surface.grid.crs, types)
    n_existing = int(facility_mask(facilities, types).sum())
    return _Setup(settings, surface, cands, names, model, existing_xy, n_existing, exclusions)


def _build_problem(setup: _Setup) -> Any:
    """The location model of the settings' method (capacitated with a capacity)."""
    s, surface, cands = setup.settings, setup.surface, setup.candidates
    timed = setup.surface_options()
    cutoff = max(s.pmedian_cutoff_min, s.minutes)
    if s.method == "kmeans":
        return KMeansSiting.from_surface(surface, cands, s.k, **setup.demand_options())
    if s.method == "target":
        return SetCoverTarget.from_surface(surface, cands, s.target, s.minutes, **timed)
    if s.method == "mclp" and s.capacity is not None:
        return CapacitatedMCLP.from_surface(surface, cands, s.k, s.minutes, s.capacity, **timed)
    if s.method == "mclp":
        return MCLP.from_surface(surface, cands, s.k, s.minutes, **timed)
    if s.capacity is not None:
        return CapacitatedPMedian.from_surface(
            surface, cands, s.k, s.capacity, max_minutes=cutoff, **timed
        )
    return PMedian.from_surface(surface, cands, s.k, max_minutes=cutoff, **timed)


def _solve(problem: Any, s: SitingSettings) -> None:
    if isinstance(problem, KMeansSiting):
        problem.solve()
        return
    problem.solve(method=s.solver, time_limit=s.time_limit_s, gap=s.gap)


def _coverage_curve(problem: Any, setup: _Setup) -> pd.DataFrame:
    """Greedy coverage for k = 0…K at ``minutes`` (reusing the problem's matrix when it can)."""
    s = setup.settings
    cost = getattr(problem, "cost", None)
    if cost is not None and (cost.max_minutes is None or cost.max_minutes >= s.minutes):
        base = MCLP.from_cost_matrix(cost, problem.weights, s.minutes, 0, existing=problem.existing)
    else:
        options = setup.surface_options()
        base = MCLP.from_surface(setup.surface, setup.candidates, 0, s.minutes, **options)
    k_max = min(s.curve_k_max, len(base._in.new))
    return base.coverage_curve(k_max)


# --- evaluation on the full surface ----------------------------------------------------


def combine_times(before: TravelTimes, new: TravelTimes, n_existing: int) -> TravelTimes:
    """Travel times with the new facilities added: the nearer of both, new ones numbered after.

    ``new.nearest`` indexes the new facilities; in the result they are
    ``n_existing + j``.  Ties keep the existing facility.
    """
    if before.grid != new.grid:
        raise ValueError("travel times on different grids")
    nearer = new.minutes < before.minutes
    minutes = np.where(nearer, new.minutes, before.minutes).astype(np.float32)
    nearest = np.where(nearer, new.nearest + np.int32(n_existing), before.nearest).astype(np.int32)
    return replace(before, minutes=minutes, nearest=nearest)


def _served(
    surface: PopulationSurface, before: TravelTimes, after: TravelTimes, n_ex: int, k: int, t: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Residents within ``t`` served by each new site, and those of them newly covered."""
    pop = surface.population
    tt = np.float32(t)
    site = after.nearest.astype(np.int64) - n_ex
    within = (after.minutes <= tt) & (site >= 0) & (pop > 0)
    newly = within & ~(before.minutes <= tt)
    served = np.bincount(site[within], weights=pop[within], minlength=k)[:k]
    new = np.bincount(site[newly], weights=pop[newly], minlength=k)[:k]
    return served.astype(np.float64), new.astype(np.float64)


def _site_units(
    xy: NDArray[np.float64], surface: PopulationSurface, units: UnitSet
) -> tuple[list[str | None], list[str | None]]:
    """Unit id and name of each site: the unit of its cell, else the nearest unit polygon."""
    u = units.units.reset_index(drop=True)
    names = dict(zip(u["unit_id"], u["name"], strict=True))
    r, c, inside = surface.grid.cell_of(xy[:, 0], xy[:, 1])
    idx = np.full(len(xy), -1, dtype=np.int64)
    idx[inside] = surface.unit_index[r[inside], c[inside]]
    ids: list[str | None] = [surface.unit_ids[i] if i >= 0 else None for i in idx]
    missing = [i for i, v in enumerate(ids) if v is None]
    if missing:
        shaped = u[u["has_geometry"]].to_crs(surface.grid.crs)
        if len(shaped):
            tree = shapely.STRtree(shaped.geometry.to_numpy())
            pts = shapely.points(xy[missing])
            near = tree.nearest(pts)
            for i, j in zip(missing, near, strict=True):
                ids[i] = str(shaped["unit_id"].iloc[int(j)])
    return ids, [names.get(i) if i is not None else None for i in ids]


def _text_or_none(value: Any) -> str | None:
    """A grid id or name as text; None for missing (pandas gives NaN for units in no grid)."""
    return value if isinstance(value, str) else None


def _sites_frame(
    problem: Any,
    table: pd.DataFrame,
    setup: _Setup,
    units: UnitSet,
    plan: GridPlan,
    *,
    before: TravelTimes,
    after: TravelTimes,
) -> pd.DataFrame:
    """One row per site: candidate, name, location, unit and grid, residents served."""
    surface = setup.surface
    table = table.reset_index(drop=True)
    xy = table[["x", "y"]].to_numpy(float)
    n_ex = len(setup.existing_xy)
    served, newly = _served(surface, before, after, n_ex, len(xy), setup.settings.minutes)
    unit_ids, unit_names = _site_units(xy, surface, units)
    assignment = resolve_assignment(plan, units.units)
    grid_of = dict(zip(units.units["unit_id"], assignment, strict=True))
    out = pd.DataFrame(
        {
            "site": np.arange(len(table)),
            "candidate_id": table["id"].astype(str),
            "name": [setup.names.get(str(i)) for i in table["id"]],
            "lon": table["lon"].to_numpy(float),
            "lat": table["lat"].to_numpy(float),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "unit_id": unit_ids,
            "unit_name": [_text_or_none(n) for n in unit_names],
            "grid_id": [_text_or_none(grid_of.get(i)) if i is not None else None for i in unit_ids],
            "served_population": served,
            "newly_covered": newly,
        }
    )
    load = getattr(problem, "load", None)
    if load is not None and len(table):
        out["served_population"] = np.asarray(load, dtype=float)[table["candidate"].to_numpy()]
    return out


def run_siting(
    units: UnitSet,
    plan: GridPlan,
    surface: PopulationSurface,
    facilities: pd.DataFrame,
    model: TravelTimeModel,
    settings: SitingSettings,
    *,
    candidate_list: pd.DataFrame | None = None,
    exclusions: Any = None,
    before: TravelTimes | None = None,
) -> SitingStudy:
    """Solve the siting question of ``settings`` and evaluate it on the full surface.

    Parameters
    ----------
    units, plan
        The plan's units and grids (sites get their unit and grid; KPIs per grid).
    surface
        Residents per cell (its provenance is carried into every output).
    facilities
        The facility table (:mod:`gridplan.facilities`); the active rows of the
        level's types are the existing facilities.
    model
        Any travel-time model: the straight line, the friction raster or the
        road network.
    settings
        :class:`SitingSettings`.
    candidate_list
        For ``candidates="list"``: a facility-like table (``facility_id``,
        ``name``, ``lon``, ``lat`` WGS-84), e.g. from
        :func:`gridplan.facilities.reader.read_facilities` with ``default_type``.
    exclusions
        Areas where no site may go (shapely geometries or a GeoDataFrame; WGS-84
        unless it carries a CRS).
    before
        Travel times to the existing facilities of the level on ``surface``'s
        grid with ``model`` (the dashboard passes its cached ones); computed
        when not given.

    Raises
    ------
    InputError
        ``siting.invalid`` with every problem of the settings or inputs;
        ``optimize.invalid`` from the location models (no candidate left, k
        above the candidates, ...).
    """
    t0 = time.perf_counter()
    check_settings(settings)
    setup = _setup(
        settings,
        surface,
        facilities,
        model,
        candidate_list=candidate_list,
        exclusions=exclusions,
        before=before,
    )
    problem = _build_problem(setup)
    _solve(problem, settings)
    notes: list[str] = []
    if settings.method == "target" and not problem.feasible:
        notes.append(problem.message("en"))
    curve = _coverage_curve(problem, setup)
    table = problem.sites_table()
    before, after = _times_before_after(setup, table, before)
    kb = kpi_tables(CoverageIndex.build(surface, before), plan, units, settings.minutes)
    ka = kpi_tables(CoverageIndex.build(surface, after), plan, units, settings.minutes)
    return SitingStudy(
        settings=settings,
        problem=problem,
        sites=_sites_frame(problem, table, setup, units, plan, before=before, after=after),
        candidates=problem.candidates if problem.candidates is not None else setup.candidates,
        n_existing=setup.n_existing,
        population=float(kb.summary["population"]),
        covered_before=float(kb.summary["covered"]),
        covered_after=float(ka.summary["covered"]),
        objective=float(problem.objective),
        gap=float(problem.gap),
        status=str(problem.status),
        solve_seconds=float(problem.seconds),
        seconds=time.perf_counter() - t0,
        before=before,
        after=after,
        kpi_before=kb,
        kpi_after=ka,
        curve=curve,
        population_source=surface.source,
        notes=notes,
        demand=surface.demand,
        uniform_surface=surface.uniform_within_units,
    )


def _times_before_after(
    setup: _Setup, table: pd.DataFrame, before: TravelTimes | None
) -> tuple[TravelTimes, TravelTimes]:
    """Travel times to the existing facilities (unless given), and with the sites added."""
    grid, model = setup.surface.grid, setup.model
    mask = setup.surface.populated()
    if before is None:
        before = model.travel_times(grid, mask, setup.existing_xy)
    site_xy = table[["x", "y"]].to_numpy(float)
    if not len(site_xy):
        return before, before
    added = model.travel_times(grid, mask, site_xy)
    return before, combine_times(before, added, len(setup.existing_xy))


# --- accepting sites into the facility table --------------------------------------------


def _already_there(facilities: pd.DataFrame, lon: float, lat: float) -> bool:
    """Whether a facility added from a study already stands at this point (within ~1 m)."""
    added = facilities[facilities["source"] == "added"]
    near = (np.abs(added["lon"].astype(float) - lon) < 1e-5) & (
        np.abs(added["lat"].astype(float) - lat) < 1e-5
    )
    return bool(near.any())


def _free_id(facilities: pd.DataFrame, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... if taken (candidate ids repeat across studies)."""
    taken = set(facilities["facility_id"].astype(str))
    fid, n = base, 1
    while fid in taken:
        n += 1
        fid = f"{base}-{n}"
    return fid


def accept_sites(
    facilities: pd.DataFrame, study: SitingStudy, sites: list[int] | None = None
) -> tuple[pd.DataFrame, int]:
    """The facility table with the chosen ``sites`` (default: all) of ``study`` in it.

    An upgrade candidate (``candidates="centres"``) changes its type to
    医疗次中心; any other site is added (``source="added"``, id
    ``SITE-<candidate id>``, suffixed if taken) as a 医疗次中心 (secondary
    level) or, for the primary level, a 社区卫生服务中心 in urban units (街道,
    区) and a 乡镇卫生院 elsewhere.  A site where an added facility already
    stands (an earlier acceptance) is left alone.  Returns the new table
    and the number of sites it changed.
    """
    chosen = study.sites if sites is None else study.sites[study.sites["site"].isin(sites)]
    out = facilities.copy()
    levels = {str(u): str(v) for u, v in zip(
        study.kpi_before.by_unit["unit_id"], study.kpi_before.by_unit["level"], strict=True
    )}  # fmt: skip
    changed = 0
    records: list[dict[Hashable, Any]] = chosen.to_dict("records")
    for r in records:
        cid = str(r["candidate_id"])
        if study.settings.candidates == "centres":
            hit = out["facility_id"].astype(str) == cid
            if hit.any() and not (out.loc[hit, "type"] == "医疗次中心").all():
                out.loc[hit, "type"] = "医疗次中心"
                changed += 1
            continue
        if _already_there(out, float(r["lon"]), float(r["lat"])):
            continue
        fid = _free_id(out, f"SITE-{cid}")
        where = str(r["unit_name"] or "")
        if study.settings.level == "secondary":
            ftype = "医疗次中心"
        elif is_urban_unit(where, levels.get(str(r["unit_id"]), "county")):
            ftype = "社区卫生服务中心"
        else:
            ftype = "乡镇卫生院"
        label = str(r["name"] or f"{where}拟建{ftype}")
        out = add_facility(out, label, ftype, float(r["lon"]), float(r["lat"]), facility_id=fid)
        changed += 1
    return out.reset_index(drop=True), changed
