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
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

import pandas as pd

from gridplan import settings
from gridplan._validate import Problems
from gridplan.errors import InputError, PresetError
from gridplan.i18n import LANGS, t
from gridplan.plan.units import UnitSet

_T = TypeVar("_T")


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
    #: WGS-84 location of the lead hospital; ``None`` until a planner gives one (from the
    #: facility list or by coordinates): never guessed, see :attr:`lead_location`.
    lead_lon: float | None = None
    lead_lat: float | None = None
    #: Member name → WGS-84 ``[lon, lat]``, for the members a planner located.
    member_locations: dict[str, list[float]] = field(default_factory=dict)

    @property
    def lead_location(self) -> tuple[float, float] | None:
        """The lead hospital's WGS-84 ``(lon, lat)``, or ``None`` when it is not located."""
        return _location(self.lead_lon, self.lead_lat)


# Grid's fields bar members, apart on purpose: a shared base would reorder them and the JSON
@dataclass
class Network:
    """A cross-grid network (e.g. a prefecture-wide TCM alliance); does not own units."""

    network_id: str
    name: str
    lead_hospital: str = ""
    units: list[str] = field(default_factory=list)
    kind: str = "alliance"
    note: str = ""
    #: WGS-84 location of the leading hospital, when located.
    lead_lon: float | None = None
    lead_lat: float | None = None
    #: The unit the leading institution is in, when its location is not known (drawn from
    #: that unit's point and said so).
    lead_unit: str = ""
    #: Named member institutions besides the member units (may be empty).
    members: list[str] = field(default_factory=list)

    @property
    def lead_location(self) -> tuple[float, float] | None:
        """The leading hospital's WGS-84 ``(lon, lat)``, or ``None`` when not located."""
        return _location(self.lead_lon, self.lead_lat)


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
        problems = Problems("preset.malformed", "malformed plan", error_type=PresetError)
        for key in ("id", "prefecture", "grids"):
            if key not in d:
                problems.add("preset.missing_key", f"missing key {key!r}", key=key)
        problems.raise_if_any()
        for item in [*d["grids"], *d.get("networks", [])]:
            _check_location(item, problems)
        problems.raise_if_any()
        name = d.get("name", d["id"])
        return cls(
            plan_id=str(d["id"]),
            name=name if isinstance(name, dict) else dict.fromkeys(LANGS, str(name)),
            prefecture=str(d["prefecture"]),
            grids=[_from_fields(Grid, g) for g in d["grids"]],
            networks=[_from_fields(Network, n) for n in d.get("networks", [])],
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
        grids = _own_grids(top)
        p = unit_set.prefecture
        return cls(
            plan_id=f"per-unit-{p.adcode}",
            name={lang: t("plan.per_unit.name", lang, prefecture=p.name) for lang in LANGS},
            prefecture=p.adcode,
            grids=grids,
            notes=[t("plan.per_unit.note", "zh")],
        )

    @classmethod
    def starting_plan(cls, unit_set: UnitSet) -> GridPlan:
        """The default plan of a prefecture without a preset.

        Every county, county-level city and banner is its own grid (a county
        medical community serves one county).  The urban districts (市辖区:
        :func:`is_city_district`) form one grid, 市区, to be split in the
        editor: which districts share a medical group is the planner's call,
        and a district alone is often too small.  Functional zones (开发区, no
        boundary of their own in most prefectures) join the 市区 grid, where
        most of them lie; with no 市区 each zone is its own grid.  With fewer
        than two districts there is nothing to group: one grid per unit.

        Lead hospitals are left empty, never invented: validation reports
        every grid without one (``problem.no_lead``).
        """
        u = unit_set.units
        top = u[u["level"].isin(["county", "zone"])]
        urban = [is_city_district(c, n) for c, n in zip(top["unit_id"], top["name"], strict=True)]
        districts = top[urban]
        if len(districts) < 2:
            return cls.one_grid_per_unit(unit_set)
        p = unit_set.prefecture
        grouped = (
            districts["unit_id"].tolist() + top.loc[top["level"] == "zone", "unit_id"].tolist()
        )
        urban_grid = Grid(
            grid_id=URBAN_GRID_ID,
            name=t("plan.default.urban_grid", "zh", prefecture=p.name),
            units=[str(x) for x in grouped],
            kind="starting_plan",
            note=t("plan.default.urban_note", "zh", n=len(districts)),
        )
        rest = top[~top["unit_id"].isin(grouped)]
        grids = [urban_grid, *_own_grids(rest)]
        return cls(
            plan_id=f"default-{p.adcode}",
            name={lang: t("plan.default.name", lang, prefecture=p.name) for lang in LANGS},
            prefecture=p.adcode,
            grids=grids,
            notes=[t("plan.default.note", "zh")],
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
    def unlocated_grids(self) -> list[Grid]:
        """The grids whose lead hospital has no location (a comparison that needs one says so)."""
        return [g for g in self.grids if g.lead_location is None]

    def set_lead(
        self, grid_id: str, name: str, lon: float | None = None, lat: float | None = None
    ) -> GridPlan:
        """A copy with the lead hospital of ``grid_id`` named ``name`` at WGS-84 ``lon, lat``
        (both ``None``: named, not located).

        Raises
        ------
        InputError
            ``plan.bad_location`` for a location that is not a WGS-84 point in China,
            ``plan.unknown_grids`` for a grid the plan does not have.
        """
        self._check_known([grid_id])
        _require_location(name, lon, lat)
        new = copy.deepcopy(self)
        g = new.grid(grid_id)
        g.lead_hospital = name.strip()
        if lon is None or lat is None:
            g.lead_lon = g.lead_lat = None
        else:
            g.lead_lon, g.lead_lat = float(lon), float(lat)
        return new

    def set_members(
        self, grid_id: str, members: Iterable[tuple[str, float | None, float | None]]
    ) -> GridPlan:
        """A copy with the members of ``grid_id`` replaced by ``members`` (name, lon, lat;
        lon and lat ``None`` for a member without a location)."""
        self._check_known([grid_id])
        rows = [(str(n).strip(), lon, lat) for n, lon, lat in members if str(n).strip()]
        for name, lon, lat in rows:
            _require_location(name, lon, lat)
        new = copy.deepcopy(self)
        g = new.grid(grid_id)
        g.members = _unique(n for n, _, _ in rows)
        g.member_locations = {
            n: [float(lon), float(lat)]
            for n, lon, lat in rows
            if lon is not None and lat is not None
        }
        return new

    @property
    def seed_document(self) -> dict[str, str]:
        """The policy document the plan follows as a planner cites it: title, issuer, date
        (the seed file's name stays with the project's sources)."""
        return {k: v for k, v in self.seed.items() if k != "file"}

    @property
    def grid_ids(self) -> set[str]:
        return {g.grid_id for g in self.grids}

    def grid(self, grid_id: str) -> Grid:
        for g in self.grids:
            if g.grid_id == grid_id:
                return g
        raise InputError(
            f"no grid {grid_id!r} in plan {self.plan_id}",
            code="plan.no_grid",
            params={"grid": grid_id, "plan": self.plan_id},
        )

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
        bad = sorted({gid for gid in changes.values() if gid and gid not in new.grid_ids})
        if bad:
            raise InputError(
                "unknown grid ids",
                code="plan.unknown_grids",
                params={"grids": "、".join(map(str, bad))},
                problems=[f"unknown grid {b!r}" for b in bad],
            )
        for g in new.grids:
            g.units = [u for u in g.units if u not in changes]
        for unit, gid in changes.items():
            if gid:
                new.grid(gid).units.append(unit)
        return new

    def add_grid(self, name: str, lead_hospital: str = "", grid_id: str | None = None) -> GridPlan:
        """A copy with a new, empty grid."""
        new = copy.deepcopy(self)
        existing = new.grid_ids
        gid = grid_id or next(f"new-{i}" for i in range(1, 10_000) if f"new-{i}" not in existing)
        if gid in existing:
            raise InputError(
                f"grid id {gid!r} already exists", code="plan.grid_exists", params={"grid": gid}
            )
        new.grids.append(Grid(grid_id=gid, name=name, lead_hospital=lead_hospital, kind="custom"))
        return new

    def merge_grids(self, grid_ids: Iterable[str], into: str, name: str | None = None) -> GridPlan:
        """A copy of the plan with the grids ``grid_ids`` merged into the grid ``into``.

        The merged grids' units are listed in ``into`` after its own (in the
        plan's order, each once: a unit two of them listed ends in one grid);
        their members, and their lead hospitals, join the members of ``into``,
        each once; the merged grids are removed.  ``into`` keeps its id, lead
        hospital, kind and note; ``name``, if not blank, renames it.  Networks
        list units, not grids, and units keep their codes: they stay as they are.

        ``into`` may be among ``grid_ids`` (a planner picks the grids to merge,
        then the one that stays); at least one other grid is needed.

        Raises
        ------
        InputError
            ``plan.unknown_grids`` for ids the plan does not have,
            ``plan.merge_into_itself`` when no grid other than ``into`` is given.
        """
        merged = _unique(gid for gid in grid_ids if gid != into)
        self._check_known([*merged, into])
        if not merged:
            raise InputError(
                f"nothing to merge into grid {into!r} but itself",
                code="plan.merge_into_itself",
                params={"grid": self.grid(into).name},
            )
        new = copy.deepcopy(self)
        target = new.grid(into)
        for g in [g for g in new.grids if g.grid_id in merged]:
            _absorb_units(target, g)
            # the merged grid's institutions, its lead hospital too, now serve in ``into``
            _add_once(target.members, [g.lead_hospital, *g.members], skip=target.lead_hospital)
            _carry_locations(target, g)
        new.grids = [g for g in new.grids if g.grid_id not in merged]
        if name is not None and name.strip():
            target.name = name.strip()
        return new

    def delete_grid(self, grid_id: str, move_units_to: str | None = None) -> GridPlan:
        """A copy of the plan without the grid ``grid_id``; its units move to ``move_units_to``.

        The units are listed in ``move_units_to`` after its own, each once.  The
        deleted grid's lead hospital and members go with it (to keep them, merge
        the grid instead: :meth:`merge_grids`).  A grid that lists no unit
        needs no target.

        Raises
        ------
        InputError
            ``plan.unknown_grids`` for ids the plan does not have,
            ``plan.delete_last_grid`` for the plan's only grid,
            ``plan.move_to_deleted`` when the target is the grid deleted,
            ``plan.delete_needs_target`` for a grid with units and no target.
        """
        self._check_known([grid_id] + ([move_units_to] if move_units_to else []))
        gone = self.grid(grid_id)
        if len(self.grids) == 1:
            raise InputError(
                f"grid {grid_id!r} is the plan's only grid",
                code="plan.delete_last_grid",
                params={"grid": gone.name},
            )
        if move_units_to == grid_id:
            raise InputError(
                f"the units of grid {grid_id!r} cannot move to the grid deleted",
                code="plan.move_to_deleted",
                params={"grid": gone.name},
            )
        if gone.units and not move_units_to:
            raise InputError(
                f"grid {grid_id!r} has {len(gone.units)} units and no grid to move them to",
                code="plan.delete_needs_target",
                params={"grid": gone.name, "n": len(gone.units)},
            )
        new = copy.deepcopy(self)
        if move_units_to:
            _absorb_units(new.grid(move_units_to), new.grid(grid_id))
        new.grids = [g for g in new.grids if g.grid_id != grid_id]
        return new

    def _check_known(self, grid_ids: Iterable[str]) -> None:
        """Raise ``plan.unknown_grids`` naming every id in ``grid_ids`` the plan does not have."""
        bad = sorted({str(gid) for gid in grid_ids} - self.grid_ids)
        if bad:
            raise InputError(
                "unknown grid ids",
                code="plan.unknown_grids",
                params={"grids": "、".join(bad)},
                problems=[f"unknown grid {b!r}" for b in bad],
            )


#: Grid id of the urban districts' grid in a default plan (:meth:`GridPlan.starting_plan`).
URBAN_GRID_ID = "urban"


def _own_grids(units: pd.DataFrame) -> list[Grid]:
    """One grid for each of ``units`` (a county medical community serves one county); its
    name is plan data, in Chinese like the presets'."""
    return [
        Grid(
            grid_id=str(r.unit_id),
            name=t("plan.per_unit.grid", "zh", unit=r.name),
            units=[str(r.unit_id)],
            kind="starting_plan",
        )
        for r in units.itertuples()
    ]


def is_city_district(adcode: str, name: str) -> bool:
    """Whether a county-level unit is an urban district (市辖区) of its prefecture.

    A 区 whose code ends in 01-30: the range the national code table gives
    市辖区 (e.g. 320102 玄武区 … 320118 高淳区).  Functional zones (codes
    x70-x79, often named …区 too) and counties are not.
    """
    code = str(adcode)
    return (
        len(code) == 6 and code.isdigit() and 1 <= int(code[4:]) <= 30 and str(name).endswith("区")
    )


#: WGS-84 bounds a lead hospital's location must fall in (China and its seas, with margin).
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


def _location(lon: Any, lat: Any) -> tuple[float, float] | None:
    """``(lon, lat)`` when both are finite numbers, else ``None``."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None


def location_problem(lon: Any, lat: Any) -> str | None:
    """Why ``lon, lat`` is not a WGS-84 point in China (``None`` when it is, or when both
    are missing: not located)."""
    if lon is None and lat is None:
        return None
    loc = _location(lon, lat)
    if loc is None:
        return f"location ({lon!r}, {lat!r}) is not two numbers"
    x, y = loc
    if not (CHINA_LON[0] <= x <= CHINA_LON[1] and CHINA_LAT[0] <= y <= CHINA_LAT[1]):
        return f"location ({x:g}, {y:g}) is not a WGS-84 longitude, latitude in China"
    return None


def _check_location(item: dict[str, Any], problems: Problems) -> None:
    """Add a problem when a grid's or network's lead location is malformed."""
    why = location_problem(item.get("lead_lon"), item.get("lead_lat"))
    if why is not None:
        name = item.get("name", item.get("grid_id", item.get("network_id", "?")))
        problems.add(
            "preset.bad_location", f"{name}: {why}", name=name,
            lon=str(item.get("lead_lon")), lat=str(item.get("lead_lat")),
        )  # fmt: skip
    for member, at in dict(item.get("member_locations") or {}).items():
        pair = list(at) if isinstance(at, list | tuple) and len(at) == 2 else [None, None]
        why = location_problem(*pair) if pair != [None, None] else "not [lon, lat]"
        if why is not None:
            problems.add(
                "preset.bad_location", f"{member}: {why}", name=member, lon=str(pair[0]),
                lat=str(pair[1]),
            )  # fmt: skip


def _require_location(name: str, lon: float | None, lat: float | None) -> None:
    """Raise ``plan.bad_location`` when ``lon, lat`` is given (one of them is enough) and is
    not a point in China."""
    why = location_problem(lon, lat)
    if why is not None:
        raise InputError(
            f"{name}: {why}",
            code="plan.bad_location",
            params={"name": name, "lon": lon, "lat": lat},
        )


def _unique(items: Iterable[str]) -> list[str]:
    """``items`` in their order, each once."""
    return list(dict.fromkeys(items))


def _add_once(into: list[str], items: Iterable[str], skip: str = "") -> None:
    """Append to ``into`` each non-blank item it does not hold yet (and that is not ``skip``)."""
    for item in items:
        if item.strip() and item not in into and item != skip:
            into.append(item)


def _carry_locations(target: Grid, source: Grid) -> None:
    """The located institutions of a merged ``source`` keep their location in ``target``."""
    found = dict(source.member_locations)
    if source.lead_location is not None and source.lead_hospital.strip():
        found[source.lead_hospital] = list(source.lead_location)
    for name, at in found.items():
        if name in target.members:
            target.member_locations.setdefault(name, list(at))


def _absorb_units(target: Grid, source: Grid) -> None:
    """List the units of ``source`` in ``target`` too, after its own, each once."""
    _add_once(target.units, source.units)


def _from_fields(cls: type[_T], d: dict[str, Any]) -> _T:
    """A ``cls`` dataclass from the keys of ``d`` that are its fields (others are ignored)."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in d.items() if k in names})


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
