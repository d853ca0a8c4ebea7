"""The 15-minute page's what-if panel: sliders, coverage KPIs, the coverage map, analyses."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st
from numpy.typing import NDArray

from gridplan import settings, workflow
from gridplan.access.capacity import capacity_coverage, facility_capacity, facility_supply
from gridplan.access.coverage import (
    CoverageIndex,
    KpiTables,
    catchments,
    centre_standard_flag,
    kpi_tables,
    plan_groups,
)
from gridplan.access.g2sfca import g2sfca
from gridplan.access.hotspots import HOTSPOT_RADIUS_M, uncovered_hotspots
from gridplan.access.standards import grid_standards, standard_label, standard_source
from gridplan.errors import GridPlanError
from gridplan.facilities.types import CENTRES, type_label
from gridplan.i18n import Lang, t
from gridplan.report.method import Method, method_items
from gridplan.report.style import coverage_colors
from gridplan.report.webmap import HoverCells, coverage_image, minutes_image
from gridplan.report.workbooks import CoverageAbout, coverage_workbook, kpi_grid_table
from gridplan.surface.ageing import DEMANDS, check_demand, demand_label
from gridplan.surface.grid import PopulationSurface
from gridplan.travel.base import TravelTimes
from gridplan.travel.speeds import DEFAULT_DETOUR, MODE_SPEEDS_KMH, minutes_per_metre
from gridplan.workflow import ModelSpec, SurfaceSpec
from ui import cache, layerdata, legend, state
from ui.cache import CoverageKey, HoverKey, ReachKey
from ui.layerdata import segment_layer
from ui.mapview import (
    FACILITY_RADIUS_M,
    MAP_WIDTH_PX,
    PRESENTATION_MAP_WIDTH_PX,
    scatter_layer,
    urban_core_bounds,
)
from ui.panels.common import (
    OUTLINE_RGBA,
    XLSX_MIME,
    csv_with_note,
    download,
    grid_table,
    how_computed,
    metric_row,
    num_text,
    provenance_caption,
    raster_map,
    readable,
    show_error,
)
from ui.scenario import Scenario
from ui.state import lang
from ui.tables import planner_table
from ui.texts import (
    CENTRE_STANDARD,
    LAYER,
    MODEL_NOTE,
    STANDARD_STATUS,
    join_list,
    md_text,
    tr,
)

#: Facility dot colours on the map (and in its legend).
TYPE_COLORS = {
    "社区卫生服务中心": (31, 119, 180),
    "乡镇卫生院": (44, 160, 44),
    "社区卫生服务站": (148, 103, 189),
    "村卫生室": (140, 86, 75),
    "二级医院": (214, 39, 40),
    "医疗次中心": (255, 127, 14),
    "三级医院": (120, 0, 0),
    "其他": (90, 90, 90),
}


@dataclass(frozen=True)
class CoverageInputs:
    """What the what-if panel computes on: the scenario, the model's choices, the facilities.

    Attributes
    ----------
    scenario
        Units and plan of the sidebar's choice.
    surface_key, surface
        The population surface and its cache key.
    facilities
        The whole facility list (the standards read its beds and GPs).
    used, xy, digest
        The active facilities of the target group, their metric coordinates, their digest.
    model, mode, target
        The travel-time model, mode of travel and target group chosen.
    roads_path, landcover_path, dem_path
        Input files of the network and raster models.
    """

    scenario: Scenario
    surface_key: SurfaceSpec
    surface: PopulationSurface
    facilities: pd.DataFrame
    used: pd.DataFrame
    xy: NDArray[np.float64]
    digest: str
    model: str
    mode: str
    target: str
    roads_path: str | None = None
    landcover_path: str | None = None
    dem_path: str | None = None

    def coverage_key(self, speed: float) -> CoverageKey:
        """Straight line: one base for every speed; raster and network: cached per speed."""
        if self.model == "straight":
            return CoverageKey(self.surface_key, self.digest)
        spec = ModelSpec(
            self.model, self.mode, round(speed, 1), roads_path=self.roads_path,
            landcover_path=self.landcover_path, dem_path=self.dem_path,
        )  # fmt: skip
        return CoverageKey(self.surface_key, self.digest, spec)

    def reach_key(self, speed: float, detour: float, minutes: float) -> ReachKey:
        spec = ModelSpec(self.model, self.mode, round(speed, 1), detour, self.roads_path)
        return ReachKey(self.surface_key, self.digest, spec, minutes)


def model_settings(inp: CoverageInputs, sl: Sliders) -> dict[str, object]:
    """The model, mode, speed (and the straight line's detour) of the sliders, for the files'
    provenance (PNG footer, GeoTIFF tags)."""
    out: dict[str, object] = {"model": inp.model, "mode": inp.mode, "speed_kmh": sl.speed}
    if inp.model == "straight":
        out["detour"] = sl.detour
    return out


def straight_scale(speed_kmh: float, detour: float) -> float:
    """Minutes per metre of straight-line distance."""
    return minutes_per_metre(speed_kmh, detour)


@dataclass(frozen=True)
class Sliders:
    """The what-if sliders: threshold, speed, detour and population growth."""

    minutes: int
    speed: float
    detour: float
    growth: int


def sliders(inp: CoverageInputs, per_row: int = 4) -> Sliders:
    """The four what-if sliders; each mode and target keeps its own speed and threshold.

    ``per_row``: sliders side by side (2 in the presentation layout's narrow column).
    """
    cols = st.columns(per_row)
    s1, s2, s3, s4 = (cols[i % per_row] for i in range(4))
    longest = int(settings.model_cutoff_min)  # raster and network times stop there
    default_t = int(workflow.default_minutes(inp.target))
    minutes = s1.slider(tr("minutes"), 5, longest, default_t, key=f"acc_minutes_{inp.target}")
    speed = s2.slider(
        tr("speed"), 1.0, 80.0, float(MODE_SPEEDS_KMH[inp.mode]), 0.1, key=f"acc_speed_{inp.mode}"
    )
    detour = s3.slider(
        tr("detour"), 1.0, 2.0, DEFAULT_DETOUR, 0.05, key="acc_detour",
        disabled=inp.model != "straight",
    )  # fmt: skip
    growth = s4.slider(tr("growth"), -20, 50, 0, key="acc_growth")
    st.caption(t(f"speed_source.{inp.mode}", lang()) + " · " + MODEL_NOTE(inp.model))
    return Sliders(int(minutes), float(speed), float(detour), int(growth))


def demand_choice(key: str) -> str:
    """The 人口口径 selector: every resident, or the residents 65+ (the heaviest users of care)."""
    choice = st.radio(
        tr("demand"), list(DEMANDS), index=list(DEMANDS).index(check_demand(None)),
        horizontal=True, key=key, help=tr("demand_help"),
        format_func=lambda d: demand_label(str(d), lang()),
    )  # fmt: skip
    return str(choice)


def with_demand(inp: CoverageInputs, demand: str) -> CoverageInputs:
    """The inputs counting ``demand``: the same cells, each weighted by its unit's 65+ share."""
    if demand == inp.surface_key.demand:
        return inp
    key = inp.surface_key.for_demand(demand)
    return dataclasses.replace(inp, surface_key=key, surface=cache.load_surface(key))


def demand_note(inp: CoverageInputs) -> str:
    """The clause every caption and download adds: which population was counted."""
    return tr("provenance_demand", demand=demand_label(inp.surface.demand, lang()))


@st.fragment
def what_if(inp: CoverageInputs) -> None:
    """Sliders and everything they change (a fragment: only this part reruns, the view stays).

    In the presentation layout the map is on the left and the sliders with the KPIs beside
    it, so a slider's effect is seen on a projector screen without scrolling.
    """
    presenting = state.presentation()
    map_side, control_side = st.columns([3, 2]) if presenting else (st.container(),) * 2
    with control_side:
        try:
            inp = with_demand(inp, demand_choice("acc_demand"))
        except GridPlanError as exc:
            show_error(exc)
            return
        if inp.surface.demand == "65plus":
            st.caption(tr("demand_note"))
        sl = sliders(inp, per_row=2 if presenting else 4)
        try:
            computed = cache.coverage(inp.coverage_key(sl.speed), inp.xy)
        except GridPlanError as exc:
            show_error(exc)
            return
        scale = straight_scale(sl.speed, sl.detour) if inp.model == "straight" else 1.0
        index = computed.index.with_sliders(scale, 1 + sl.growth / 100)
        tables = kpi_tables(index, inp.scenario.plan, inp.scenario.units, sl.minutes)
        kpi_summary(inp, tables.summary, per_row=2 if presenting else None)
    minutes_grid = computed.times.minutes * np.float32(index.time_scale)
    # the times at the sliders (the straight line's base holds metres), as the files carry them
    times = dataclasses.replace(
        computed.times, minutes=minutes_grid, params=model_settings(inp, sl)
    )
    with map_side:
        layer = coverage_map(
            inp, minutes_grid, sl.minutes,
            hover=HoverKey(
                inp.coverage_key(sl.speed), float(index.time_scale), float(index.pop_factor),
                names_digest(inp.used), lang(),
            ),
        )  # fmt: skip
    st.subheader(tr("kpi_by_grid"))
    kpi_by_grid(tables)
    kpi_downloads(inp, tables, sl, layer=layer, times=times, index=index)
    how = Method(inp.surface, inp.scenario.units, inp.used, model_settings(inp, sl), sl.minutes)
    how_computed(method_items(how, lang()), key="acc_how")
    standards_panel(inp, index)
    # the slower analyses run only when asked for, so the sliders stay quick
    if st.toggle(tr("capacity_toggle"), key="acc_cap"):
        capacity_panel(inp, sl, tables.summary["share"])
    if st.toggle(tr("hotspots"), key="acc_hot"):
        names = list(inp.scenario.units.units["name"])
        hot = uncovered_hotspots(index, inp.surface, sl.minutes, names, top=10)
        st.caption(tr("hotspots_note", km=f"{HOTSPOT_RADIUS_M / 1000:g}", minutes=sl.minutes))
        if inp.surface.uniform_within_units:
            st.caption(tr("hotspots_uniform"))
        shown = hot.assign(units=hot["units"].map(join_list))[HOTSPOT_COLUMNS]
        rounded = shown.round(HOTSPOT_DECIMALS)
        st.dataframe(readable(planner_table(rounded)), hide_index=True)
    if st.toggle(tr("catchments"), key="acc_catch"):
        catchments_table(inp, index, sl.minutes)


#: Decimals of the hotspot table: whole residents, minutes and km² to a tenth, about 10 m.
HOTSPOT_DECIMALS = {
    "population": 0, "area_km2": 1, "nearest_minutes": 1, "unreachable_population": 0,
    "lon": 4, "lat": 4,
}  # fmt: skip
#: The hotspot table's columns, as the planner reads them (names, residents, where).
HOTSPOT_COLUMNS = [
    "units", "population", "area_km2", "nearest_minutes", "unreachable_population", "lon", "lat",
]  # fmt: skip


def kpi_summary(inp: CoverageInputs, s: dict[str, float], per_row: int | None = None) -> None:
    """The coverage KPIs of the whole plan, and where the figures come from."""
    metric_row(
        [
            (tr("covered_share"), f"{s['share']:.1%}"),
            (tr("covered_pop"), f"{s['covered']:,.0f}"),
            (tr("mean_minutes"), num_text(s["mean_minutes"], ".1f")),
            (tr("median_minutes"), num_text(s["median_minutes"], ".1f")),
            (tr("p90_minutes"), num_text(s["p90_minutes"], ".1f")),
            (tr("unreachable_metric"), share_text(s["unreachable_share"])),
        ],
        per_row=per_row,
    )
    st.caption(
        tr("minutes_over_reachable", reachable=num_text(s["reachable"]),
           unreachable=num_text(s["unreachable"]))
    )  # fmt: skip
    caption = provenance_caption(inp.surface.source, len(inp.used), inp.used["source"])
    st.caption(md_text(caption + demand_note(inp)))
    if inp.surface.uniform_within_units:
        st.warning(tr("uniform_warning"))
    if s["not_assessed_population"] > 0:
        st.info(tr("not_assessed", pop=f"{s['not_assessed_population']:,.0f}"))


def share_text(share: float) -> str:
    """A share as a percentage with one decimal ("0.5%"), or 无数据."""
    return f"{share:.1%}" if np.isfinite(share) else tr("no_data")


def coverage_map(
    inp: CoverageInputs,
    minutes_grid: NDArray[np.float32],
    minutes: int,
    hover: HoverKey | None = None,
) -> str:
    """Covered cells or travel time, the grid outlines and the facilities, with the view buttons
    and a legend; the layer shown.  With ``hover`` (the sliders' hover blocks) and the
    planner's 悬停查看各处出行时间 switched on, hovering a place tells its travel time,
    residents and nearest facility.

    Only the coverage image changes with the minutes slider: the outlines, the facilities
    and the hover blocks are served by URL (:mod:`ui.layerdata`), so a slider step sends
    the image and a few short strings, and the map keeps its other layers as they are.
    """
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")  # one row: the map stays on screen
    layer = c1.radio(
        tr("layer"), list(LAYER.members), horizontal=True, format_func=LAYER, key="acc_layer"
    )
    # off by default: the invisible hover blocks are redrawn at every slider step, a
    # quarter of a step's drawing where the browser renders in software
    if not c2.toggle(tr("hover_toggle"), key="acc_hover", help=tr("hover_toggle_help")):
        hover = None
    warp = cache.load_warp(inp.surface_key.for_demand("all"))  # one warp per grid
    populated = inp.surface.population > 0
    if layer == "minutes":
        img = minutes_image(warp, minutes_grid, populated)
    else:
        img = coverage_image(warp, minutes_grid <= minutes, populated)
    used = inp.used
    points = scatter_layer(
        layerdata.served(facility_json(used, lang()), "access_map/facilities"), "facilities",
        radius=FACILITY_RADIUS_M, fill="color", outline=[255, 255, 255, 160], outline_px=0.3,
        metres=True,
    )  # fmt: skip
    plan_key = inp.scenario.plan_key()
    # each grid boundary once, as plain line segments: the map redraws at every step
    boundaries = layerdata.served(cache.grid_boundaries_json(plan_key), "access_map/outlines")
    raster_map(
        img, {}, [points], outline=segment_layer(boundaries, "grid-outlines", OUTLINE_RGBA),
        tooltip="{tip}", key="access_map", height=520,
        core=urban_core_bounds(inp.scenario.units.units),
        width=PRESENTATION_MAP_WIDTH_PX if state.presentation() else MAP_WIDTH_PX,
        below=[] if hover is None else [hover_layer(inp, hover)],
    )  # fmt: skip
    if layer == "minutes":
        legend.show(legend.scale_chart(tr("legend_minutes_title"), tr("legend_beyond")),
                    key="access_map_scale")  # fmt: skip
        classes: list[legend.Swatch] = []
    else:
        colours = coverage_colors()
        classes = [
            legend.Swatch(tr("legend_covered", minutes=minutes), colours["covered"]),
            legend.Swatch(tr("legend_uncovered", minutes=minutes), colours["uncovered"]),
        ]
    legend.show(legend.swatch_chart([*classes, *facility_swatches(used)]), key="access_map_legend")
    provenance = md_text(
        provenance_caption(inp.surface.source, len(used), used["source"]) + demand_note(inp)
    )
    st.caption(provenance)
    return str(layer)


def names_digest(used: pd.DataFrame) -> str:
    """A digest of the facilities' names (the tooltips name them; the coverage key does not)."""
    return hashlib.sha256("\n".join(used["name"].astype(str)).encode()).hexdigest()[:16]


def facility_json(used: pd.DataFrame, ui_lang: Lang) -> bytes:
    """The facility dots as JSON rows: tooltip, ``lon``, ``lat`` and colour of the type."""
    kinds = used["type"].to_numpy()
    tips = used["name"].astype(str) + "\n" + [type_label(k, ui_lang) for k in kinds]
    rows = [
        {"tip": tip, "lon": float(lon), "lat": float(lat),
         "color": [*TYPE_COLORS.get(kind, (90, 90, 90)), 235]}
        for tip, lon, lat, kind in zip(tips, used["lon"], used["lat"], kinds, strict=True)
    ]  # fmt: skip
    return layerdata.compact_json(rows)


def hover_layer(inp: CoverageInputs, key: HoverKey) -> pdk.Layer:
    """Nearly invisible blocks of cells whose tooltip gives travel time, residents and the
    nearest facility (:func:`gridplan.report.webmap.hover_cells`: at most 1,500 blocks),
    computed once per coverage and served by URL."""
    names = inp.used["name"].astype(str).to_numpy()

    def tips(cells: HoverCells) -> list[str]:
        rows = zip(cells.minutes, cells.population, cells.facility, strict=True)
        return [cell_tip(m, p, names[f] if f >= 0 else None) for m, p, f in rows]

    side_m = cache.hover_base(key.coverage, inp.xy).side_m
    return pdk.Layer(
        "ScatterplotLayer",
        layerdata.served(cache.hover_json(key, inp.xy, tips), "access_map/hover"),
        id="hover-cells",
        get_position=["lon", "lat"],
        # the circle around the square block: every point of the block is inside one
        get_radius=side_m / np.sqrt(2),
        radius_units="'meters'",
        get_fill_color=[0, 0, 0, 1],  # alpha 1: invisible, still picked by the pointer
        pickable=True,
    )


def cell_tip(minutes: float, population: float, facility: str | None) -> str:
    """The tooltip text of one block: travel time, residents, nearest facility."""
    pop = num_text(population)
    if facility is None or not np.isfinite(minutes):
        return tr("cell_tip_unreached", pop=pop)
    return tr("cell_tip", minutes=num_text(minutes, ".0f"), pop=pop, facility=facility)


def facility_swatches(used: pd.DataFrame) -> list[legend.Swatch]:
    """The facility types on the map, each with its dot colour."""
    swatches = []
    for kind in sorted(set(used["type"])):
        r, g, b = TYPE_COLORS.get(kind, (90, 90, 90))
        colour = f"#{r:02x}{g:02x}{b:02x}"
        swatches.append(legend.Swatch(type_label(kind, lang()), colour, "circle"))
    return swatches


def kpi_by_grid(tables: KpiTables) -> None:
    """Coverage per grid, and per unit in an expander."""
    g = tables.by_grid
    grid_table(
        g,
        {
            tr("covered_pop"): g["covered"].round(0),
            tr("covered_share"): (g["share"] * 100).round(1),
            tr("mean_minutes"): g["mean_minutes"].round(1),
            tr("median_minutes"): g["median_minutes"].round(1),
            tr("p90_minutes"): g["p90_minutes"].round(1),
            tr("col_reachable"): g["reachable"].round(0),
            tr("col_unreachable"): g["unreachable"].round(0),
        },
    )
    st.caption(tr("minutes_over_reachable_tables"))
    with st.expander(tr("kpi_by_unit")):
        by_unit = planner_table(tables.by_unit, dict(zip(g["grid_id"], g["name"], strict=True)))
        st.dataframe(readable(by_unit.round(2)), hide_index=True, width="stretch")


def kpi_downloads(
    inp: CoverageInputs,
    tables: KpiTables,
    sl: Sliders,
    *,
    layer: str,
    times: TravelTimes,
    index: CoverageIndex,
) -> None:
    """The KPIs as CSV and as the report workbook, the coverage map as a PNG for a report,
    and the travel minutes as a GeoTIFF.

    Each file is built when its button is clicked, and a click does not rerun the
    page (``on_click="ignore"``), so a second download right after the first works.
    """
    sc, n_used, minutes = inp.scenario, len(inp.used), sl.minutes
    stem = f"coverage_{minutes}min"
    d1, d2, d3, d4 = st.columns(4)
    ui_lang = lang()  # the files are built later, outside this run: texts chosen now
    note, about = access_note(n_used, inp.surface.demand), coverage_about(inp, sl)
    download(
        tr("dl_kpi_csv"), lambda: kpi_csv(tables, about, note, ui_lang), f"{stem}.csv",
        "text/csv", key="dl_kpi_csv", container=d1,
    )  # fmt: skip
    download(
        tr("dl_kpi_xlsx"), lambda: kpi_workbook(inp, tables, about, index, ui_lang), f"{stem}.xlsx",
        XLSX_MIME, key="dl_kpi_xlsx", container=d2, help=tr("dl_kpi_xlsx_help"),
    )  # fmt: skip
    provenance = times.params

    def map_png() -> bytes:
        # matplotlib is loaded when a planner asks for the PNG, not with the page
        from gridplan.report.coveragemap import render_coverage_map_png

        return render_coverage_map_png(
            sc.units, inp.surface, times.minutes, minutes, plan=sc.plan, facilities=inp.used,
            layer=layer, lang=ui_lang, summary=tables.summary, provenance=provenance,
        )  # fmt: skip

    download(
        tr("dl_png_map"),
        map_png,
        f"{stem}.png",
        "image/png",
        key="dl_coverage_png",
        container=d3,
    )  # fmt: skip
    download(
        tr("dl_tif"), lambda: geotiff(times), f"travel_minutes_{inp.mode}.tif",
        "image/tiff", key="dl_coverage_tif", container=d4, help=tr("dl_tif_help"),
    )  # fmt: skip


def geotiff(times: TravelTimes) -> bytes:
    """The travel minutes as a GeoTIFF (rasterio loaded when asked for)."""
    from gridplan.report.rasterexports import minutes_geotiff_bytes

    return minutes_geotiff_bytes(times)


def coverage_about(inp: CoverageInputs, sl: Sliders) -> CoverageAbout:
    """How the page's coverage is computed, for the sources of its files."""
    straight = inp.model == "straight"
    return CoverageAbout(
        minutes=sl.minutes, model=inp.model, mode=inp.mode, speed_kmh=sl.speed,
        detour=sl.detour if straight else None, cell_m=float(inp.surface.grid.cell_m),
        cutoff_min=None if straight else float(settings.model_cutoff_min),
        population_source=inp.surface.source, demand=inp.surface.demand,
        growth_pct=float(sl.growth),
    )  # fmt: skip


def kpi_workbook(
    inp: CoverageInputs,
    tables: KpiTables,
    about: CoverageAbout,
    index: CoverageIndex,
    ui_lang: Lang,
) -> bytes:
    """The KPI workbook at the sliders' values: summary, per grid, unit, facility, sources."""
    served = catchments(index, len(inp.used), about.minutes)
    sc = inp.scenario
    return coverage_workbook(
        tables, sc.plan, sc.units, facilities=inp.used, served=served, about=about, lang=ui_lang
    )


def standards_panel(inp: CoverageInputs, index: CoverageIndex) -> None:
    """Each grid against the seed documents' standards (coverage at 15 minutes, beds, GPs)."""
    plan, units = inp.scenario.plan, inp.scenario.units
    with st.expander(tr("standards")):
        groups, _ = plan_groups(plan, units)
        share15 = index.group_kpis(15, groups, len(plan.grids))["share"]
        std = grid_standards(plan, units, inp.surface, inp.facilities, share15)
        targets = [fmt_target(lo, hi) for lo, hi in zip(std["low"], std["high"], strict=True)]
        seeds = std["standard"].map(lambda k: standard_source(k, lang()))
        table = {
            tr("col_grid"): std["name"],
            tr("std_name"): std["standard"].map(lambda k: standard_label(k, lang())),
            tr("std_value"): std["value"].round(3),
            tr("std_target"): targets,
            tr("std_status"): std["status"].map(STANDARD_STATUS),
            tr("std_seed"): seeds,
        }
        st.dataframe(readable(pd.DataFrame(table)), hide_index=True, width="stretch")
        st.caption(tr("standards_note"))


def catchments_table(inp: CoverageInputs, index: CoverageIndex, minutes: int) -> None:
    """Residents each facility serves; centres against the 30,000–100,000 standard."""
    used = inp.used
    served = catchments(index, len(used), minutes)
    flags = centre_standard_flag(served["served"].to_numpy())
    # the 30,000–100,000 standard counts every resident: it says nothing of residents 65+
    judged = inp.surface.demand == "all"
    meets = [
        CENTRE_STANDARD(f) if t in CENTRES and judged else ""
        for f, t in zip(flags, used["type"], strict=True)
    ]
    st.dataframe(
        readable(
            planner_table(
                used[["name", "type"]].assign(
                    served=served["served"].round(0),
                    within=served["served_within"].round(0),
                    standard=meets,
                )
            )
        ),
        hide_index=True,
    )


def capacity_panel(inp: CoverageInputs, sl: Sliders, plain_share: float) -> None:
    """AccessMod geographic coverage with capacities, and Gaussian 2SFCA, at the threshold."""
    used, surface, units = inp.used, inp.surface, inp.scenario.units
    try:
        reach = cache.reach(inp.reach_key(sl.speed, sl.detour, sl.minutes), inp.xy)
        caps = facility_capacity(used)
        result = capacity_coverage(surface, reach, caps["capacity"].to_numpy())
        supply_col = "gps" if used["gps"].notna().all() and len(used) else None
        g = g2sfca(surface, reach, facility_supply(used, supply_col), d0=sl.minutes)
    except GridPlanError as exc:
        show_error(exc)
        return
    metric_row(
        [
            (tr("cap_share"), f"{result.share:.1%}", f"{(result.share - plain_share) * 100:+.1f}"),
            (tr("cap_full"), f"{int(result.full.sum())} / {len(used)}"),
            (tr("g2sfca_mean"), f"{g.mean * 10_000:.2f}"),
        ]
    )
    rules = [t(f"capacity_source.{r}", lang()) for r in sorted(set(caps["capacity_source"]))]
    st.caption(tr("cap_note", rules=join_list(rules), supply=supply_col or tr("per_facility")))
    names = dict(zip(units.units["unit_id"], units.units["name"], strict=True))
    table = result.unit_table().merge(g.unit_table(), on="unit_id", suffixes=("", "_g"))
    table.insert(1, "name", table["unit_id"].map(names))
    st.dataframe(readable(planner_table(table).round(3)), hide_index=True, width="stretch")


def fmt_target(low: float | None, high: float | None) -> str:
    if low is not None and high is not None and np.isfinite(high):
        return f"{low:,.0f}–{high:,.0f}"
    return f"≥ {low:g}" if low is not None and np.isfinite(low) else "—"


def access_note(n_facilities: int, demand: str) -> str:
    """Where the KPIs' figures come from, and which population they count."""
    label = demand_label(demand, lang())
    return tr("provenance_access", n=n_facilities) + tr("provenance_demand", demand=label)


def kpi_csv(tables: KpiTables, about: CoverageAbout, note: str, ui_lang: Lang) -> bytes:
    """The KPIs per grid as the workbook's 按网格 sheet (headers with units, whole people); the
    first line, ``note``, says where the figures come from and whom they count."""
    return csv_with_note(note, kpi_grid_table(tables, about, ui_lang))
