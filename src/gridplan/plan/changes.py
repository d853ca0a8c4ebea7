"""What an edit changed in a plan, in words a version list can show.

The scenario store keeps every edit as a version; its note says what changed
("新华区 划入 长安", "网格更名 …").  :func:`plan_changes` compares two plans
and returns the changes as message codes and parameters (texts in
``i18n/plan.toml``), :func:`describe` renders them in one line.
"""

from __future__ import annotations

from collections.abc import Mapping

from gridplan.i18n import Lang, t
from gridplan.plan.grids import Grid, GridPlan

#: One change: its message code and parameters.
Change = tuple[str, dict[str, object]]
#: Names a change lists before it says "and N more".
LISTED = 3


def _names(items: list[str], lang: Lang) -> str:
    shown = "、".join(items[:LISTED]) if lang == "zh" else ", ".join(items[:LISTED])
    if len(items) > LISTED:
        shown += t("change.more", lang, n=len(items) - LISTED)
    return shown


def _unit_grid(plan: GridPlan) -> dict[str, str]:
    return {str(u): g.grid_id for g in plan.grids for u in g.units}


def plan_changes(
    old: GridPlan | None, new: GridPlan, unit_names: Mapping[str, str] | None = None
) -> list[Change]:
    """The changes from ``old`` to ``new``: units moved, grids added, removed, renamed,
    lead hospitals and members changed, networks changed (``old`` ``None``: a new plan)."""
    if old is None:
        return [("change.new_plan", {"grids": len(new.grids)})]
    names = unit_names or {}
    old_grids = {g.grid_id: g for g in old.grids}
    new_grids = {g.grid_id: g for g in new.grids}
    out: list[Change] = []
    added = [g.name for gid, g in new_grids.items() if gid not in old_grids]
    removed = [g.name for gid, g in old_grids.items() if gid not in new_grids]
    if added:
        out.append(("change.grids_added", {"names": added}))
    if removed:
        out.append(("change.grids_removed", {"names": removed}))
    before, after = _unit_grid(old), _unit_grid(new)
    moved: dict[str, list[str]] = {}
    for unit in sorted(set(before) | set(after)):
        if before.get(unit) != after.get(unit):
            target = after.get(unit, "")
            label = new_grids[target].name if target in new_grids else ""
            moved.setdefault(label, []).append(names.get(unit, unit))
    for grid_name, units in moved.items():
        code = "change.units_moved" if grid_name else "change.units_unassigned"
        out.append((code, {"units": units, "grid": grid_name}))
    for gid in old_grids.keys() & new_grids.keys():
        a, b = old_grids[gid], new_grids[gid]
        if a.name != b.name:
            out.append(("change.grid_renamed", {"old": a.name, "new": b.name}))
        if a.lead_hospital != b.lead_hospital:
            out.append(("change.lead_changed", {"grid": b.name, "lead": b.lead_hospital or "—"}))
        if a.lead_location != b.lead_location:
            out.append(_lead_location_change(b))
        if a.members != b.members or a.member_locations != b.member_locations:
            out.append(("change.members_changed", {"grid": b.name}))
    if [n.__dict__ for n in old.networks] != [n.__dict__ for n in new.networks]:
        out.append(("change.networks_changed", {}))
    return out


def _lead_location_change(grid: Grid) -> Change:
    """The lead hospital placed (its point, to about a metre) or its location removed."""
    at, lead = grid.lead_location, grid.lead_hospital or "—"
    if at is None:
        return ("change.lead_unlocated", {"grid": grid.name, "lead": lead})
    return ("change.lead_located", {"grid": grid.name, "lead": lead, "lon": f"{at[0]:.5f}",
                                    "lat": f"{at[1]:.5f}"})  # fmt: skip


def describe(changes: list[Change], lang: Lang = "zh", *, fallback: str = "change.edited") -> str:
    """The changes in one line (``fallback``'s text when there are none)."""
    if not changes:
        return t(fallback, lang)
    parts = []
    for code, params in changes:
        shown = {k: _names(v, lang) if isinstance(v, list) else v for k, v in params.items()}
        parts.append(t(code, lang, **shown))
    return ("；" if lang == "zh" else "; ").join(parts)
