"""Reading a plan back: the plan JSON and the grids or units GeoJSON GridPlan writes.

The dashboard's "plan JSON" download and ``gridplan grids -o plan.json`` write
:meth:`GridPlan.to_dict`; the GeoJSON downloads
(:func:`gridplan.report.exports.grids_to_geojson`, ``units_to_geojson``) carry
each grid's units, or each unit's grid, in their feature properties.
:func:`read_plan_file` reads any of the three back into a :class:`GridPlan`.

The file is a planner's upload, so it is treated as hostile: its size is
bounded before it is read, it must be JSON by its content (not only by its
name), UTF-8 (a byte-order mark is fine), and nothing in it is fetched
(a GeoJSON's ``crs`` or links are ignored).  Every problem found is reported
together in one :class:`~gridplan.errors.InputError` ``plan_file.invalid``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gridplan import settings
from gridplan._validate import Problems
from gridplan.errors import GridPlanError, InputError
from gridplan.i18n import LANGS
from gridplan.inputs.files import _MB, _check_size, _sniff
from gridplan.plan.grids import Grid, GridPlan, location_problem
from gridplan.plan.units import UnitSet

__all__ = ["MAX_GRIDS", "PLAN_SUFFIXES", "plan_to_json", "read_plan_file"]

#: File names a plan may have; the content decides which of the formats it is.
PLAN_SUFFIXES: tuple[str, ...] = (".json", ".geojson")
#: Most grids a plan may have: a prefecture has a few hundred townships at most, so more
#: grids than this is no plan (and would only slow every later step down).
MAX_GRIDS = 5_000
#: Most problems of the file's shape listed one by one; the rest are counted.
_MAX_LISTED = 10

# One field of a grid, network or feature: (its check, whether it must be there).
_Field = tuple[Callable[[Any], bool], bool]


def _is_text(v: Any) -> bool:
    return isinstance(v, str)


def _is_text_or_null(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _is_codes(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_id(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _is_texts(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_list(v: Any) -> bool:
    return isinstance(v, list)


def _is_object(v: Any) -> bool:
    return isinstance(v, dict)


def _is_coordinate(v: Any) -> bool:
    """A WGS-84 longitude or latitude in China, or ``null`` (not located)."""
    if v is None:
        return True
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    return location_problem(v, 30.0) is None or location_problem(100.0, v) is None


def _is_locations(v: Any) -> bool:
    """Member name → ``[lon, lat]`` in China."""
    return isinstance(v, dict) and all(
        isinstance(at, list) and len(at) == 2 and location_problem(*at) is None
        and all(not isinstance(x, bool) for x in at)
        for at in v.values()
    )  # fmt: skip


def _is_name(v: Any) -> bool:
    return isinstance(v, str) or (
        isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    )


#: What each check wants, for the English text of ``plan_file.field_type``.
_KINDS: dict[Callable[[Any], bool], str] = {
    _is_text: "text",
    _is_text_or_null: "text",
    _is_codes: "list of codes (text)",
    _is_name: "text",
    _is_id: "text (not empty)",
    _is_texts: "list of texts",
    _is_list: "list",
    _is_object: "object",
    _is_coordinate: "a WGS-84 longitude or latitude in China, or null",
    _is_locations: "object of [longitude, latitude] in China",
}

_GRID_FIELDS: dict[str, _Field] = {
    "grid_id": (_is_id, True),
    "name": (_is_text, True),
    "lead_hospital": (_is_text, False),
    "members": (_is_codes, False),
    "units": (_is_codes, True),
    "kind": (_is_text, False),
    "note": (_is_text, False),
    "lead_lon": (_is_coordinate, False),
    "lead_lat": (_is_coordinate, False),
    "member_locations": (_is_locations, False),
}
_NETWORK_FIELDS: dict[str, _Field] = {
    "network_id": (_is_id, True),
    "name": (_is_text, True),
    "lead_hospital": (_is_text, False),
    "units": (_is_codes, False),
    "kind": (_is_text, False),
    "note": (_is_text, False),
    "lead_lon": (_is_coordinate, False),
    "lead_lat": (_is_coordinate, False),
    "lead_unit": (_is_text, False),
    "members": (_is_texts, False),
}
_GRID_FEATURE: dict[str, _Field] = {
    "grid_id": (_is_id, True),
    "name": (_is_text, True),
    "lead_hospital": (_is_text_or_null, False),
    "units": (_is_codes, True),
}
_UNIT_FEATURE: dict[str, _Field] = {
    "unit_id": (_is_id, True),
    "grid_id": (_is_text_or_null, True),
    "grid_name": (_is_text_or_null, False),
    "lead_hospital": (_is_text_or_null, False),
}


class _Shape(Problems):
    """The shape problems of one file; :meth:`close` keeps the first :data:`_MAX_LISTED`."""

    def __init__(self) -> None:
        super().__init__("plan_file.invalid", "the plan file has the wrong shape")

    @property
    def n(self) -> int:
        return len(self.items)

    def fields(self, where: str, obj: Any, spec: Mapping[str, _Field]) -> bool:
        """Whether ``obj`` is an object whose fields pass ``spec``; a problem for each failure."""
        if not isinstance(obj, dict):
            self.add("plan_file.not_object", f"{where} is not an object", where=where)
            return False
        ok = True
        for name, (check, required) in spec.items():
            if name not in obj:
                if required:
                    self.add(
                        "plan_file.missing_key", f"{where}: no {name!r}", where=where, key=name
                    )
                    ok = False
            elif not check(obj[name]):
                expected = _KINDS[check]
                self.add(
                    "plan_file.field_type",
                    f"{where}.{name} must be {expected}",
                    where=where,
                    key=name,
                )
                ok = False
        return ok

    def close(self, into: Problems) -> None:
        """Hand the problems to ``into``: the first :data:`_MAX_LISTED`, then their count."""
        into.items.extend(self.items[:_MAX_LISTED])
        if self.n > _MAX_LISTED:
            more = self.n - _MAX_LISTED
            into.add("plan_file.more", f"{more} more problem(s)", n=more)


def read_plan_file(
    path: str | Path,
    *,
    prefecture: str | None = None,
    units: UnitSet | None = None,
    units_of: Callable[[str], UnitSet] | None = None,
) -> GridPlan:
    """The plan of a plan JSON, or of a grids or units GeoJSON written by GridPlan.

    Parameters
    ----------
    path
        A ``.json`` or ``.geojson`` file: :meth:`GridPlan.to_dict`'s JSON, or the
        GeoJSON of :func:`~gridplan.report.exports.grids_to_geojson` (a grid per
        feature, its ``units`` listed) or ``units_to_geojson`` (a unit per
        feature, with its ``grid_id``, ``grid_name`` and ``lead_hospital``).
        A GeoJSON holds no grid kinds, notes, members or networks: those come
        back empty.
    prefecture
        The prefecture (adcode or name) the plan must be for; default: the
        prefecture of ``units`` if given.  A GeoJSON says its prefecture in its
        ``gridplan`` member; without, it is the one its unit codes' first four
        digits name.
    units
        The planning units the plan must be made of: codes that are neither a
        unit nor a unit's county are refused (the first 10 listed, and their count).
    units_of
        Instead of ``units``: the units of a prefecture (adcode), called with the
        plan's own prefecture once the file is read, so a plan of any prefecture
        is checked on its units with one read and every problem said together.

    Returns
    -------
    GridPlan
        Its ``prefecture`` is the 6-digit adcode.

    Raises
    ------
    InputError
        ``plan_file.invalid`` listing every problem: too large, not a file, not
        JSON, not UTF-8, corrupt, the wrong shape, a plan for another
        prefecture, unknown unit codes, units in two grids.
    """
    path = Path(path)
    problems = Problems("plan_file.invalid", f"the plan file {path.name} cannot be used")
    doc = _read_document(path, problems)
    plan = None if doc is None else _plan_of(doc, path.stem, problems)
    if plan is not None:
        expected = prefecture or (units.prefecture.adcode if units is not None else None)
        same = _check_prefecture(plan, expected, problems)
        if units is None and units_of is not None and same:
            units = units_of(plan.prefecture)
        if units is not None and same:  # another prefecture's codes would all be "unknown"
            _check_known(plan, units, problems)
        _check_listed_once(plan, problems)
    if problems or plan is None:  # no plan without a problem saying why
        raise problems.error(filename=path.name)
    return plan


# --- the bytes: size, kind, encoding, JSON ---------------------------------------------------


def _read_document(path: Path, problems: Problems) -> Any:
    """The JSON of ``path``, or ``None`` with the problem that stopped it."""
    name = path.name
    if not path.is_file():  # missing, a folder, a device: nothing a plan is read from
        problems.add("plan_file.not_file", f"{name} is not a file", filename=name)
        return None
    if path.suffix.lower() not in PLAN_SUFFIXES:
        problems.add("plan_file.format", f"{name} is not a .json or .geojson file", filename=name)
        return None
    limit = settings.plan_file_max_mb
    try:
        _check_size(path.stat().st_size, limit, name)
        with path.open("rb") as fh:  # bounded: the file may grow between stat and read
            raw = fh.read(int(limit * _MB) + 1)
        _check_size(len(raw), limit, name)
    except InputError as exc:
        problems.merge(exc)
        return None
    if not raw.strip():
        problems.add("plan_file.empty", f"{name} is empty", filename=name)
        return None
    if _sniff(raw[:4096]) != "json":
        problems.add("plan_file.format", f"{name} is not JSON", filename=name)
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.add("plan_file.encoding", f"{name} is not UTF-8 text", filename=name)
        return None
    return _parse_json(text, name, problems)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(text: str, name: str, problems: Problems) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        problems.add(
            "plan_file.corrupt",
            f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno})",
            filename=name,
            line=exc.lineno,
            column=exc.colno,
        )
    except RecursionError:  # nested deeper than the parser goes: no plan is
        problems.add("plan_file.too_deep", f"{name} is nested too deeply", filename=name)
    except ValueError:  # NaN, Infinity, numbers of thousands of digits
        problems.add(
            "plan_file.corrupt", f"{name} is not valid JSON", filename=name, line="?", column="?"
        )
    return None


# --- the shape: a plan JSON or a GeoJSON ----------------------------------------------------


def _plan_of(doc: Any, stem: str, problems: Problems) -> GridPlan | None:
    """The plan ``doc`` holds, or ``None`` with its shape problems."""
    shape = _Shape()
    if not isinstance(doc, dict):
        shape.add("plan_file.not_object", "the file is not a JSON object", where="/")
        plan = None
    elif doc.get("type") == "FeatureCollection":
        plan = _plan_of_geojson(doc, stem, shape)
    elif "type" in doc and "grids" not in doc:  # a Feature, a geometry: GeoJSON but no layer
        shape.add("plan_file.not_layer", "a GeoJSON without a FeatureCollection", where="/")
        plan = None
    else:
        plan = _plan_of_json(doc, shape)
    ok = shape.n == 0
    shape.close(problems)
    return plan if ok else None


def _plan_of_json(doc: dict[str, Any], shape: _Shape) -> GridPlan | None:
    """The plan of :meth:`GridPlan.to_dict`'s JSON."""
    spec: dict[str, _Field] = {
        "id": (_is_id, True),
        "name": (_is_name, False),
        "prefecture": (_is_id, True),
        "grids": (_is_list, True),
        "networks": (_is_list, False),
        "seed": (_is_object, False),
        "seed_quote": (_is_text, False),
        "notes": (_is_texts, False),
    }
    if not shape.fields("plan", doc, spec):
        return None
    grids = doc["grids"]
    if not _grid_count_ok(len(grids), shape):
        return None
    for k, g in enumerate(grids):
        if shape.fields(f"grids[{k}]", g, _GRID_FIELDS):
            _check_lead_location(f"grids[{k}]", g, shape)
    for k, n in enumerate(doc.get("networks", [])):
        if shape.fields(f"networks[{k}]", n, _NETWORK_FIELDS):
            _check_lead_location(f"networks[{k}]", n, shape)
    if shape.n:
        return None
    _unique_grid_ids([g["grid_id"] for g in grids], shape)
    if shape.n:
        return None
    try:
        return GridPlan.from_dict(doc)
    except (GridPlanError, TypeError, ValueError) as exc:  # the checks above should catch all
        shape.add("plan_file.not_object", f"the plan cannot be read: {exc}", where="plan")
        return None


def _check_lead_location(where: str, item: dict[str, Any], shape: _Shape) -> None:
    """A lead hospital's longitude and latitude: both a point in China, or both missing
    (one without the other is no point either: :func:`location_problem`)."""
    lon, lat = item.get("lead_lon"), item.get("lead_lat")
    if location_problem(lon, lat) is not None:
        shape.add(
            "plan_file.bad_location", f"{where}: lead_lon, lead_lat ({lon}, {lat}) is not a "
            "WGS-84 point in China", where=where, lon=str(lon), lat=str(lat),
        )  # fmt: skip


def _grid_count_ok(n: int, shape: _Shape) -> bool:
    if n == 0:
        shape.add("plan_file.no_grids", "the plan has no grids")
        return False
    if n > MAX_GRIDS:
        shape.add("plan_file.too_many_grids", f"{n} grids, over {MAX_GRIDS}", n=n, limit=MAX_GRIDS)
        return False
    return True


def _unique_grid_ids(ids: list[str], shape: _Shape) -> None:
    twice = sorted(g for g, k in Counter(ids).items() if k > 1)
    if twice:
        shape.add(
            "plan_file.duplicate_grid_ids",
            f"grid ids used twice: {', '.join(twice[:10])}",
            n=len(twice),
            grids="、".join(twice[:10]),
        )


def _plan_of_geojson(doc: dict[str, Any], stem: str, shape: _Shape) -> GridPlan | None:
    """The plan of a grids or units GeoJSON layer written by GridPlan."""
    meta = doc.get("gridplan")
    meta = meta if isinstance(meta, dict) else {}
    features = doc.get("features")
    if not isinstance(features, list):
        shape.add("plan_file.field_type", "features must be a list",
                  where="FeatureCollection", key="features")  # fmt: skip
        return None
    props: list[dict[str, Any]] = []
    for k, f in enumerate(features):
        p = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(p, dict):
            shape.add("plan_file.not_object", f"features[{k}] has no properties",
                      where=f"features[{k}].properties")  # fmt: skip
        else:
            props.append(p)
    if shape.n:
        return None
    layer = meta.get("layer")
    if not isinstance(layer, str) or layer not in ("grids", "units"):
        layer = "units" if props and "unit_id" in props[0] else "grids"
    grids = _grids_of_grid_features(props, shape) if layer == "grids" else None
    if layer == "units":
        grids = _grids_of_unit_features(props, shape)
    if grids is None or shape.n:
        return None
    if not _grid_count_ok(len(grids), shape):
        return None
    return _geojson_plan(meta, stem, grids, shape)


def _grids_of_grid_features(props: list[dict[str, Any]], shape: _Shape) -> list[Grid] | None:
    """One grid per feature (``grids_to_geojson``): its id, name, lead hospital and units."""
    for k, p in enumerate(props):
        shape.fields(f"features[{k}].properties", p, _GRID_FEATURE)
    if shape.n:
        return None
    _unique_grid_ids([p["grid_id"] for p in props], shape)
    return [
        Grid(
            grid_id=p["grid_id"],
            name=p["name"],
            lead_hospital=p.get("lead_hospital") or "",
            units=list(p["units"]),
        )
        for p in props
    ]


def _grids_of_unit_features(props: list[dict[str, Any]], shape: _Shape) -> list[Grid] | None:
    """Grids from one unit per feature (``units_to_geojson``), in order of first appearance.

    A unit without a grid is left out (unassigned); a unit given twice is in each
    grid it names, so :func:`_check_listed_once` reports it.
    """
    for k, p in enumerate(props):
        shape.fields(f"features[{k}].properties", p, _UNIT_FEATURE)
    if shape.n:
        return None
    grids: dict[str, Grid] = {}
    for p in props:
        gid = p["grid_id"]
        if not gid:
            continue
        if gid not in grids:
            grids[gid] = Grid(gid, p.get("grid_name") or gid, p.get("lead_hospital") or "")
        grids[gid].units.append(p["unit_id"])
    return list(grids.values())


def _geojson_plan(
    meta: dict[str, Any], stem: str, grids: list[Grid], shape: _Shape
) -> GridPlan | None:
    """The plan of a GeoJSON's grids, named by its ``gridplan`` member (else the file name)."""
    codes = [c for g in grids for c in g.units]
    prefecture = meta.get("prefecture")
    if not isinstance(prefecture, str) or not prefecture:
        prefecture = _prefecture_of_codes(codes)
        if prefecture is None:
            shape.add("plan_file.no_prefecture", "the file names no prefecture")
            return None
    plan_id = meta.get("plan") if isinstance(meta.get("plan"), str) else stem
    name = meta.get("plan_name")
    if not _is_name(name):
        name = plan_id
    seed = meta.get("seed")
    return GridPlan(
        plan_id=str(plan_id),
        name=dict(name) if isinstance(name, dict) else dict.fromkeys(LANGS, str(name)),
        prefecture=prefecture,
        grids=grids,
        networks=[],
        seed={str(k): str(v) for k, v in seed.items()} if isinstance(seed, dict) else {},
    )


def _prefecture_of_codes(codes: list[str]) -> str | None:
    """The prefecture adcode the unit codes share (their first 4 digits), or ``None``."""
    prefixes = {c[:4] for c in codes if len(c) >= 6 and c[:6].isdigit()}
    return f"{prefixes.pop()}00" if len(prefixes) == 1 else None


# --- the content: prefecture, unit codes ----------------------------------------------------


def _adcode(prefecture: str) -> str:
    """``prefecture`` as its 6-digit adcode (a name is looked up)."""
    text = str(prefecture).strip()
    if len(text) == 6 and text.isdigit():
        return text
    from gridplan.inputs.boundaries import resolve_prefecture

    return resolve_prefecture(text).adcode


def _check_prefecture(plan: GridPlan, expected: str | None, problems: Problems) -> bool:
    """Whether the plan is for ``expected``; its prefecture becomes the adcode either way."""
    try:
        plan.prefecture = _adcode(plan.prefecture)
    except InputError:
        problems.add(
            "plan_file.unknown_prefecture",
            f"unknown prefecture {plan.prefecture[:40]!r}",
            prefecture=plan.prefecture[:40],
        )
        return False
    if expected is None:
        return True
    want = _adcode(expected)
    if plan.prefecture != want:
        problems.add(
            "plan_file.other_prefecture",
            f"the plan is for prefecture {plan.prefecture}, not {want}",
            found=plan.prefecture,
            expected=want,
        )
        return False
    return True


def _check_known(plan: GridPlan, units: UnitSet, problems: Problems) -> None:
    """Every code a grid or network lists is a unit, or the county of one, of ``units``."""
    u = units.units
    known = set(u["unit_id"].astype(str)) | set(u["county_adcode"].dropna().astype(str))
    listed = [c for g in plan.grids for c in g.units]
    listed += [c for n in plan.networks for c in n.units]
    unknown = sorted({str(c) for c in listed} - known)
    if unknown:
        problems.add(
            "plan_file.unknown_units",
            f"{len(unknown)} unit code(s) are not units of {units.prefecture.name}: "
            + ", ".join(unknown[:_MAX_LISTED]),
            n=len(unknown),
            codes="、".join(unknown[:_MAX_LISTED]),
            prefecture=units.prefecture.name,
        )


def _check_listed_once(plan: GridPlan, problems: Problems) -> None:
    """No unit is listed by two different grids (a network may cover grids' units: it owns
    none)."""
    grids = {c: list(dict.fromkeys(gids)) for c, gids in plan.listed().items()}
    twice = {c: gids for c, gids in grids.items() if len(gids) > 1}  # twice in one grid: harmless
    if twice:
        shown = [f"{c}（{'、'.join(g)}）" for c, g in sorted(twice.items())[:_MAX_LISTED]]
        problems.add(
            "plan_file.units_in_two_grids",
            f"{len(twice)} unit(s) are in more than one grid: " + ", ".join(shown),
            n=len(twice),
            units="、".join(shown),
        )


def plan_to_json(plan: GridPlan) -> bytes:
    """The plan JSON file :func:`read_plan_file` reads back (UTF-8, indented, Chinese kept).

    The same bytes as the dashboard's "plan JSON" download.
    """
    return json.dumps(plan.to_dict(), ensure_ascii=False, indent=1).encode("utf-8")
