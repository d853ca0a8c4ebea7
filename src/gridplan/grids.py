"""Grid plans: which unit belongs to which grid, validation, dissolve and statistics.

A :class:`GridPlan` is a list of :class:`Grid` objects, each listing the codes
of its units.  Codes are county-level adcodes (6 digits, functional zones
included) or township codes (9 digits).  A township not listed itself belongs
to the grid of its county (or functional zone), so a county-level preset works
unchanged when a township layer is loaded, and a planner can move single
townships.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridplan import settings
from gridplan.errors import InputError, PresetError
from gridplan.i18n import Lang, t
from gridplan.population import combine_sources
from gridplan.units import UnitSet

PRESET_IDS = ("shijiazhuang", "chuxiong", "ganzhou", "rizhao", "zhengzhou")


@dataclass
class Grid:
    """One grid (网格), served by one medical group or county medical community."""

    grid_id: str
    name: str
    lead_hospital: str = ""
    members: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    kind: str = "county_medical_community"
    note: str = ""


@dataclass
class Network:
    """A cross-grid network (e.g. a prefecture-wide TCM alliance); does not own units."""

    network_id: str
    name: str
    lead_hospital: str = ""
    units: list[str] = field(default_factory=list)
    kind: str = "alliance"
    note: str = ""


@dataclass
class GridPlan:
    """A grid plan of one prefecture."""

    plan_id: str
    name: dict[str, str]
    prefecture: str
    grids: list[Grid]
    networks: list[Network] = field(default_factory=list)
    seed: dict[str, str] = field(default_factory=dict)
    seed_quote: str = ""
    notes: list[str] = field(default_factory=list)

    # --- construction ---------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GridPlan:
        """Build a plan from its JSON form (as in ``data/geo/presets``)."""
        problems = [f"missing key {k!r}" for k in ("id", "prefecture", "grids") if k not in d]
        if problems:
            raise PresetError(
                "malformed plan",
                code="preset",
                params={"detail": "; ".join(problems)},
                problems=problems,
            )
        grid_keys = set(Grid.__dataclass_fields__)
        net_keys = set(Network.__dataclass_fields__)
        name = d.get("name", d["id"])
        return cls(
            plan_id=str(d["id"]),
            name=name if isinstance(name, dict) else {"zh": str(name), "en": str(name)},
            prefecture=str(d["prefecture"]),
            grids=[Grid(**{k: v for k, v in g.items() if k in grid_keys}) for g in d["grids"]],
            networks=[
                Network(**{k: v for k, v in n.items() if k in net_keys})
                for n in d.get("networks", [])
            ],
            seed=dict(d.get("seed", {})),
            seed_quote=str(d.get("seed_quote", "")),
            notes=list(d.get("notes", [])),
        )

    @classmethod
    def from_preset(cls, preset_id: str) -> GridPlan:
        """Load a preset from ``data/geo/presets/<preset_id>.json``."""
        path = settings.data_dir() / "presets" / f"{preset_id}.json"
        if not path.is_file():
            raise PresetError(
                f"unknown preset {preset_id!r}; available: {', '.join(list_presets())}",
                code="preset",
                params={"detail": f"unknown preset {preset_id}"},
            )
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def one_grid_per_unit(cls, unit_set: UnitSet) -> GridPlan:
        """A starting plan: every county-level unit (zones included) its own grid."""
        u = unit_set.units
        top = u[u["level"].isin(["county", "zone"])]
        grids = [
            Grid(grid_id=r.unit_id, name=f"{r.name}网格", units=[r.unit_id], kind="starting_plan")
            for r in top.itertuples()
        ]
        p = unit_set.prefecture
        return cls(
            plan_id=f"per-unit-{p.adcode}",
            name={"zh": f"{p.name}：每个县级单位一个网格", "en": f"{p.name}: one grid per unit"},
            prefecture=p.adcode,
            grids=grids,
            notes=["起始方案：每个县级单位一个网格（非种子文件内容）。"],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (round-trips through :meth:`from_dict`)."""
        return {
            "id": self.plan_id,
            "name": self.name,
            "prefecture": self.prefecture,
            "seed": self.seed,
            "seed_quote": self.seed_quote,
            "notes": self.notes,
            "grids": [asdict(g) for g in self.grids],
            "networks": [asdict(n) for n in self.networks],
        }

    # --- queries and edits ---------------------------------------------------------
    def grid(self, grid_id: str) -> Grid:
        for g in self.grids:
            if g.grid_id == grid_id:
                return g
        raise InputError(f"no grid {grid_id!r} in plan {self.plan_id}")

    def listed(self) -> dict[str, list[str]]:
        """Unit code → grids that list it explicitly (more than one is a conflict)."""
        out: dict[str, list[str]] = {}
        for g in self.grids:
            for u in g.units:
                out.setdefault(str(u), []).append(g.grid_id)
        return out

    def reassign(self, changes: dict[str, str]) -> GridPlan:
        """A copy of the plan with each unit in ``changes`` moved to the given grid.

        The unit is removed from every grid that lists it and listed in its new
        grid; an empty grid id leaves it unassigned.
        """
        new = copy.deepcopy(self)
        known = {g.grid_id for g in new.grids}
        bad = sorted({gid for gid in changes.values() if gid and gid not in known})
        if bad:
            raise InputError("unknown grid ids", problems=[f"unknown grid {b!r}" for b in bad])
        for g in new.grids:
            g.units = [u for u in g.units if u not in changes]
        for unit, gid in changes.items():
            if gid:
                new.grid(gid).units.append(unit)
        return new

    def add_grid(self, name: str, lead_hospital: str = "", grid_id: str | None = None) -> GridPlan:
        """A copy with a new, empty grid."""
        new = copy.deepcopy(self)
        existing = {g.grid_id for g in new.grids}
        gid = grid_id or next(f"new-{i}" for i in range(1, 10_000) if f"new-{i}" not in existing)
        if gid in existing:
            raise InputError(f"grid id {gid!r} already exists")
        new.grids.append(Grid(grid_id=gid, name=name, lead_hospital=lead_hospital, kind="custom"))
        return new


def list_presets() -> list[str]:
    """Preset ids available in ``data/geo/presets``."""
    return sorted(p.stem for p in (settings.data_dir() / "presets").glob("*.json"))


def preset_prefecture(preset_id: str) -> str:
    """The prefecture adcode a preset is for."""
    return GridPlan.from_preset(preset_id).prefecture


# --- assignment -------------------------------------------------------------------------
def resolve_assignment(plan: GridPlan, units: pd.DataFrame) -> pd.Series:
    """Grid id of every unit (``None`` where unassigned).

    A unit listed by a grid belongs to it; a township that is not listed
    belongs to the grid of its county or zone.  Where a unit is listed twice,
    the first grid wins here and :func:`validate_plan` reports the conflict.
    """
    listed = plan.listed()
    own = units["unit_id"].map(lambda u: listed.get(str(u), [None])[0])
    parent = units["county_adcode"].map(lambda c: listed.get(str(c), [None])[0] if c else None)
    is_township = units["level"] == "township"
    return own.where(own.notna() | ~is_township, parent).rename("grid_id")


# --- validation ---------------------------------------------------------------------------
@dataclass
class Problem:
    """One thing wrong with a plan, in both languages."""

    kind: str
    severity: str  # "error" or "warning"
    grid_id: str | None
    units: list[str]
    message_zh: str
    message_en: str

    def message(self, lang: Lang = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en


def _problem(
    kind: str, severity: str, grid_id: str | None, unit_ids: list[str], **params: Any
) -> Problem:
    code = f"problem.{kind}"
    return Problem(
        kind, severity, grid_id, unit_ids, t(code, "zh", **params), t(code, "en", **params)
    )


def unit_adjacency(unit_set: UnitSet) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) of unit row positions whose polygons touch (within a tolerance).

    Measured in the unit set's metric CRS; the tolerance
    (:data:`gridplan.settings.adjacency_tolerance_m`) absorbs the small gaps of
    simplified boundary data.
    """
    u = unit_set.units
    has = u["has_geometry"].to_numpy()
    idx = np.flatnonzero(has)
    geoms = u.geometry.iloc[idx].to_crs(unit_set.metric_crs).to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=settings.adjacency_tolerance_m)
    keep = a < b
    return idx[a[keep]], idx[b[keep]]


def grid_components(
    unit_set: UnitSet, assignment: pd.Series, adjacency: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, list[list[int]]]:
    """Connected parts of each grid, as lists of unit row positions (drawn units only)."""
    ia, ib = adjacency if adjacency is not None else unit_adjacency(unit_set)
    gids = assignment.to_numpy()
    same = np.array(
        [gids[i] is not None and gids[i] == gids[j] for i, j in zip(ia, ib, strict=True)],
        dtype=bool,
    )
    n = len(gids)
    graph = coo_matrix((np.ones(same.sum()), (ia[same], ib[same])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    drawn = unit_set.units["has_geometry"].to_numpy()
    parts: dict[str, dict[int, list[int]]] = {}
    for i in np.flatnonzero(drawn):
        gid = gids[i]
        if gid is not None:
            parts.setdefault(str(gid), {}).setdefault(int(labels[i]), []).append(int(i))
    return {g: sorted(p.values(), key=len, reverse=True) for g, p in parts.items()}


def validate_plan(
    plan: GridPlan,
    unit_set: UnitSet,
    assignment: pd.Series | None = None,
    adjacency: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Problem]:
    """Every problem of a plan, reported together.

    Checks: units outside the prefecture, units in no grid, units in two
    grids, grid members that are not units of this prefecture, grids that are
    not contiguous (naming each part), grids without a lead hospital, and
    empty grids.
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    names = dict(zip(u["unit_id"], u["name"], strict=True))
    grid_names = {g.grid_id: g.name for g in plan.grids}
    problems: list[Problem] = []
    prefix = unit_set.prefecture.prefix

    outside = u[~u["inside_prefecture"]]
    if len(outside):
        problems.append(
            _problem(
                "outside",
                "error",
                None,
                list(outside["unit_id"]),
                units="、".join(outside["name"]),
                n=len(outside),
            )
        )
    known = set(u["unit_id"]) | set(u["county_adcode"].dropna())
    foreign = sorted({c for c in plan.listed() if c not in known})
    if foreign:
        out_pref = [c for c in foreign if not c.startswith(prefix)]
        unknown = [c for c in foreign if c.startswith(prefix)]
        if out_pref:
            problems.append(
                _problem(
                    "outside_listed",
                    "error",
                    None,
                    out_pref,
                    units="、".join(out_pref),
                    n=len(out_pref),
                )
            )
        if unknown:
            problems.append(
                _problem(
                    "unknown_units",
                    "warning",
                    None,
                    unknown,
                    units="、".join(unknown),
                    n=len(unknown),
                )
            )
    unassigned = u[assignment.isna() & u["inside_prefecture"]]
    if len(unassigned):
        problems.append(
            _problem(
                "unassigned",
                "error",
                None,
                list(unassigned["unit_id"]),
                units="、".join(unassigned["name"]),
                n=len(unassigned),
            )
        )
    for code, gids in plan.listed().items():
        if len(gids) > 1:
            problems.append(
                _problem(
                    "duplicate",
                    "error",
                    gids[0],
                    [code],
                    unit=names.get(code, code),
                    grids="、".join(grid_names[g] for g in gids),
                )
            )
    comps = grid_components(unit_set, assignment, adjacency)
    for g in plan.grids:
        parts = comps.get(g.grid_id, [])
        if len(parts) > 1:
            desc = "；".join(
                f"{k + 1}: " + "、".join(str(u["name"].iat[i]) for i in part)
                for k, part in enumerate(parts)
            )
            problems.append(
                _problem(
                    "not_contiguous",
                    "error",
                    g.grid_id,
                    [str(u["unit_id"].iat[i]) for p in parts for i in p],
                    grid=g.name,
                    n=len(parts),
                    parts=desc,
                )
            )
    no_lead = [g.name for g in plan.grids if not g.lead_hospital.strip()]
    if no_lead:
        problems.append(
            _problem("no_lead", "warning", None, [], grids="、".join(no_lead), n=len(no_lead))
        )
    used = set(assignment.dropna())
    empty = [g.name for g in plan.grids if g.grid_id not in used]
    if empty:
        problems.append(
            _problem("empty_grid", "warning", None, [], grids="、".join(empty), n=len(empty))
        )
    return problems


# --- dissolve and statistics ---------------------------------------------------------
def grid_statistics(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None
) -> pd.DataFrame:
    """Per-grid statistics.

    Columns: ``grid_id``, ``name``, ``lead_hospital``, ``n_units``, ``units``
    (codes), ``population`` (functional zones included), ``population_source``,
    ``area_km2`` (drawn units), ``density`` (residents per km²),
    ``undrawn_units`` (names of units without a polygon).
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    rows = []
    for g in plan.grids:
        m = u[(assignment == g.grid_id).to_numpy()]
        pop = float(m["population"].sum(min_count=1)) if len(m) else np.nan
        area = float(m["area_km2"].sum()) if m["has_geometry"].any() else 0.0
        rows.append(
            {
                "grid_id": g.grid_id,
                "name": g.name,
                "lead_hospital": g.lead_hospital,
                "n_units": len(m),
                "units": list(m["unit_id"]),
                "population": pop,
                "population_source": combine_sources(m["population_source"]),
                "area_km2": area,
                "density": pop / area if area > 0 else np.nan,
                "undrawn_units": list(m.loc[~m["has_geometry"], "name"]),
            }
        )
    return pd.DataFrame(rows)


def population_balance(stats: pd.DataFrame) -> dict[str, float]:
    """Balance of grid populations: ``max_min_ratio`` and coefficient of variation ``cv``.

    Grids without population are left out.  ``cv`` uses the population
    standard deviation (ddof=0).
    """
    pop = stats["population"].dropna().to_numpy(dtype=float)
    pop = pop[pop > 0]
    if len(pop) == 0:
        return {
            "n_grids": 0,
            "max": np.nan,
            "min": np.nan,
            "mean": np.nan,
            "max_min_ratio": np.nan,
            "cv": np.nan,
        }
    return {
        "n_grids": len(pop),
        "max": float(pop.max()),
        "min": float(pop.min()),
        "mean": float(pop.mean()),
        "max_min_ratio": float(pop.max() / pop.min()),
        "cv": float(pop.std(ddof=0) / pop.mean()),
    }


def dissolve_grids(
    plan: GridPlan, unit_set: UnitSet, assignment: pd.Series | None = None
) -> gpd.GeoDataFrame:
    """Grid polygons (WGS-84) with the statistics of :func:`grid_statistics`.

    A grid made only of undrawn units (functional zones without townships)
    has an empty geometry.
    """
    u = unit_set.units
    assignment = resolve_assignment(plan, u) if assignment is None else assignment
    stats = grid_statistics(plan, unit_set, assignment)
    geoms = []
    for g in plan.grids:
        m = u[(assignment == g.grid_id).to_numpy() & u["has_geometry"].to_numpy()]
        geom = shapely.union_all(m.geometry.to_numpy()) if len(m) else shapely.Polygon()
        geoms.append(shapely.make_valid(geom) if not geom.is_valid else geom)
    return gpd.GeoDataFrame(stats, geometry=geoms, crs="EPSG:4326")


def write_plan_json(plan: GridPlan, path: str | Path) -> None:
    """Save a plan in the preset JSON format."""
    Path(path).write_text(
        json.dumps(plan.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
