"""Working with a facility table: select by type, project, add a facility, switch on/off."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from gridplan._types import BoolArray, FloatArray
from gridplan.errors import InputError
from gridplan.facilities.types import FACILITY_TYPES, _finish, empty_facilities, normalise_type
from gridplan.inputs import crs as gcrs

# --------------------------------------------------------------------------------------
# helpers for models and the dashboard


def facility_mask(facilities: pd.DataFrame, types: Iterable[str] | None = None) -> BoolArray:
    """Rows :func:`facility_xy` uses: active, with finite lon/lat, of ``types`` if given."""
    if len(facilities) == 0:
        return np.zeros(0, dtype=bool)
    lon = pd.to_numeric(facilities["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(facilities["lat"], errors="coerce").to_numpy(float)
    mask = np.isfinite(lon) & np.isfinite(lat)
    if "active" in facilities:
        mask &= facilities["active"].fillna(True).astype(bool).to_numpy()
    if types is not None:
        wanted = set(types)
        unknown = wanted - set(FACILITY_TYPES)
        if unknown:
            raise InputError(
                f"unknown facility types: {sorted(unknown)}",
                code="facilities.unknown_types",
                params={"names": "、".join(sorted(unknown))},
            )
        mask &= facilities["type"].isin(wanted).to_numpy()
    return mask


def facility_xy(
    facilities: pd.DataFrame, crs: str, types: Iterable[str] | None = None
) -> FloatArray:
    """Metric coordinates ``(n, 2)`` in ``crs`` of the rows :func:`facility_mask` selects.

    Row ``i`` of the result is the ``i``-th ``True`` row of the mask, which is
    what a travel-time model's ``nearest`` index refers to.
    """
    mask = facility_mask(facilities, types)
    if not mask.any():
        return np.zeros((0, 2), dtype=np.float64)
    lon = pd.to_numeric(facilities["lon"], errors="coerce").to_numpy(float)[mask]
    lat = pd.to_numeric(facilities["lat"], errors="coerce").to_numpy(float)[mask]
    x, y = gcrs.transformer("EPSG:4326", crs).transform(lon, lat)
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def add_facility(
    facilities: pd.DataFrame,
    name: str,
    type: str,
    lon: float,
    lat: float,
    **attrs: Any,
) -> pd.DataFrame:
    """A copy of ``facilities`` with one planned/added facility (``source="added"``).

    ``type`` accepts aliases (:func:`normalise_type`); ``lon``/``lat`` are
    WGS-84.  ``attrs`` may set ``beds``, ``doctors``, ``gps``, ``active``
    and ``facility_id`` (default: the next free ``ADD-0001``...).

    Raises
    ------
    InputError
        Codes ``facilities.unknown_type``, ``facilities.bad_coordinates``,
        ``facilities.duplicate_id``.
    """
    unknown = set(attrs) - {"beds", "doctors", "gps", "active", "facility_id"}
    if unknown:
        raise InputError(
            f"unknown facility attributes: {sorted(unknown)}",
            code="facilities.unknown_attributes",
            params={"names": ", ".join(sorted(unknown))},
        )
    ftype = normalise_type(type)
    if ftype is None:
        raise InputError(
            f"unknown facility type {type!r}",
            code="facilities.unknown_type",
            params={"value": str(type), "accepted": "、".join(FACILITY_TYPES)},
        )
    # the file readers: only where a facility is added (a coverage run loads none)
    from gridplan.facilities.reader import _clean_name, _parse_coordinate

    x, ok_x = _parse_coordinate(lon)
    y, ok_y = _parse_coordinate(lat)
    if x is None or y is None or not (ok_x and ok_y) or not bool(gcrs.in_china(x, y)):
        raise InputError(
            f"invalid facility coordinates lon={lon!r}, lat={lat!r}",
            code="facilities.bad_coordinates",
            params={"lon": str(lon), "lat": str(lat)},
        )
    existing = set(facilities["facility_id"].astype(str)) if len(facilities) else set()
    fid = attrs.get("facility_id")
    if fid is None:
        k = len(existing) + 1
        while f"ADD-{k:04d}" in existing:
            k += 1
        fid = f"ADD-{k:04d}"
    elif str(fid) in existing:
        raise InputError(
            f"facility id {fid!r} already exists",
            code="facilities.duplicate_id",
            params={"id": str(fid)},
        )
    row = {
        "facility_id": str(fid),
        "name": _clean_name(name),
        "type": ftype,
        "lon": x,
        "lat": y,
        "beds": attrs.get("beds", np.nan),
        "doctors": attrs.get("doctors", np.nan),
        "gps": attrs.get("gps", np.nan),
        "source": "added",
        "active": bool(attrs.get("active", True)),
    }
    base = _finish(facilities) if len(facilities) else empty_facilities()
    return _finish(pd.concat([base, _finish(pd.DataFrame([row]))], ignore_index=True))


def set_active(facilities: pd.DataFrame, ids: str | Iterable[str], active: bool) -> pd.DataFrame:
    """A copy of ``facilities`` with ``active`` set for the given facility ids.

    Raises
    ------
    InputError
        Code ``facilities.unknown_ids`` if an id is not in the table (nothing is changed).
    """
    wanted = [ids] if isinstance(ids, str) else [str(i) for i in ids]
    present = set(facilities["facility_id"].astype(str))
    missing = [i for i in wanted if i not in present]
    if missing:
        raise InputError(
            f"unknown facility ids: {missing}",
            code="facilities.unknown_ids",
            params={"ids": ", ".join(missing[:20])},
        )
    out = facilities.copy()
    out.loc[out["facility_id"].astype(str).isin(wanted), "active"] = bool(active)
    out["active"] = out["active"].astype(bool)
    return out
