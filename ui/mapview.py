"""The pydeck grid map: units coloured by grid, grid outlines, labels and tooltips.

Tooltips are ``text`` tooltips, never ``html``: the names in them come from
uploaded files, and a text tooltip is shown with ``innerText`` (a name like
``<img src=x onerror=…>`` stays those characters).  Streamlit also escapes
values put into ``html`` tooltips since 1.60 (streamlit/streamlit#15820,
"Escape HTML in pydeck chart tooltip interpolation"; the pin in
pyproject.toml), so the two guards hold each other up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
import streamlit as st
from matplotlib.colors import to_rgb

from gridplan._types import BoolArray, FloatArray
from gridplan.i18n import Lang
from gridplan.inputs.crs import gdf_to_datum, wgs84_to_gcj02
from gridplan.plan.grids import is_city_district
from gridplan.plan.population import provenance_label
from gridplan.report.boundaries import UnitBorders, grid_border_mask
from ui import state
from ui.layerdata import segment_layer, segment_rows
from ui.texts import BASEMAP, tr

UNASSIGNED = (230, 230, 230)
#: Boundaries on the grid map: thin white lines between units, dark ones between grids.
UNIT_BORDER_RGBA = [255, 255, 255, 220]
GRID_BORDER_RGBA = [40, 40, 40, 255]
UNASSIGNED_HEX = "#e6e6e6"
CJK_FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'

BASEMAPS = BASEMAP.members
#: Tooltip style of every map (text tooltips keep line breaks with ``pre-line``).
TOOLTIP_STYLE = {"fontFamily": CJK_FONT, "fontSize": "13px", "whiteSpace": "pre-line"}
UNIT_TOOLTIP = {"text": "{name} ({unit_id})\n{grid_name}\n{pop_text}", "style": TOOLTIP_STYLE}
CJK_FONT_PLAIN = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
AMAP_STYLE_URL = "/app/static/amap-style.json"
AMAP_STYLE: dict[str, Any] = {  # written to static/amap-style.json (a test keeps them equal)
    "version": 8,
    "sources": {
        "amap": {
            "type": "raster",
            "tiles": [
                f"https://webrd0{i}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={{x}}&y={{y}}&z={{z}}"
                for i in range(1, 5)
            ],
            "tileSize": 256,
            "attribution": "© 高德地图 AutoNavi",
        }
    },
    "layers": [{"id": "amap", "type": "raster", "source": "amap"}],
}


def _rgb(color: str) -> tuple[int, int, int]:
    r, g, b = to_rgb(color)
    return round(r * 255), round(g * 255), round(b * 255)


def _fmt_pop(pop: float, source: str, lang: Lang) -> str:
    if pop is None or not np.isfinite(pop):
        return provenance_label("none", lang)
    label = provenance_label(source, lang)
    return tr("pop_with_source", lang=lang, pop=f"{pop:,.0f}", source=label)


# --- the view: fitted to bounds in screen pixels ------------------------------------------

#: deck.gl's world is 512 pixels wide at zoom 0 (Web Mercator).
WORLD_PX = 512.0
#: Free margin (pixels) kept around the fitted bounds on every side.
MAP_PADDING_PX = 24.0
#: The width (pixels) a map is fitted for when its column is not known: the main column of the
#: wide layout on a 1280×720 projector with the sidebar open.  A wider map shows more around
#: the prefecture, never less of it.
MAP_WIDTH_PX = 840
#: Height (pixels) and assumed width of the grid maps (the grids page draws it in 3/5 of the row).
GRID_MAP_HEIGHT_PX = 560
GRID_MAP_WIDTH_PX = 500
#: Assumed width of the 15-minute map in presentation mode: 3/5 of the main column at 1280×720
#: with the sidebar open (the sliders and KPIs take the rest).
PRESENTATION_MAP_WIDTH_PX = 470
Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class MapView:
    """Where a map looks: its centre (WGS-84) and deck.gl zoom."""

    longitude: float
    latitude: float
    zoom: float

    def view_state(self) -> pdk.ViewState:
        return pdk.ViewState(longitude=self.longitude, latitude=self.latitude, zoom=self.zoom)


def mercator_xy(lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
    """Web-Mercator world coordinates in [0, 1] (x east, y south), as deck.gl draws them."""
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.clip(np.asarray(lat, dtype=float), -85.05, 85.05))
    x = (lam + np.pi) / (2 * np.pi)
    y = (np.pi - np.log(np.tan(np.pi / 4 + phi / 2))) / (2 * np.pi)
    return x, y


def _inverse_mercator_lat(y: float) -> float:
    return float(np.degrees(2 * np.arctan(np.exp(np.pi - 2 * np.pi * y)) - np.pi / 2))


def fit_view(
    bounds: Bounds, width_px: float, height_px: float, *, padding_px: float = MAP_PADDING_PX
) -> MapView:
    """The view that shows ``bounds`` (west, south, east, north) whole in a map of this size.

    The zoom is the largest at which the bounds' Web-Mercator extent fits the
    map less ``padding_px`` on each side (the narrower of the two directions
    decides), so nothing is cut off north, south, east or west.
    """
    west, south, east, north = bounds
    (x0, x1), (y0, y1) = mercator_xy([west, east], [north, south])
    dx, dy = max(float(x1 - x0), 1e-9), max(float(y1 - y0), 1e-9)
    free_w = max(width_px - 2 * padding_px, 1.0)
    free_h = max(height_px - 2 * padding_px, 1.0)
    zoom = float(np.log2(min(free_w / (WORLD_PX * dx), free_h / (WORLD_PX * dy))))
    centre_lat = _inverse_mercator_lat(float(y0 + y1) / 2)
    return MapView((west + east) / 2, centre_lat, float(np.clip(zoom, 1.0, 18.0)))


def screen_xy(
    view: MapView, lon: Any, lat: Any, width_px: float, height_px: float
) -> tuple[FloatArray, FloatArray]:
    """Pixel positions (from the top left) of points on a map of this size showing ``view``."""
    scale = WORLD_PX * 2.0**view.zoom
    cx, cy = mercator_xy(view.longitude, view.latitude)
    x, y = mercator_xy(lon, lat)
    return (x - cx) * scale + width_px / 2, (y - cy) * scale + height_px / 2


def urban_core_bounds(units: gpd.GeoDataFrame) -> Bounds | None:
    """The bounds of the prefecture's urban core: its dense urban districts (市辖区).

    The core is the drawn urban districts at least a quarter as dense as the
    densest of them (the suburban districts that reach far into the country
    are left out); without urban districts, the densest unit.  ``None`` when
    no unit has a polygon.
    """
    drawn = units[units["has_geometry"].to_numpy() & units["inside_prefecture"].to_numpy()]
    if drawn.empty:
        return None
    density = (drawn["population"] / drawn["area_km2"]).replace([np.inf, -np.inf], np.nan)
    density = density.fillna(0.0).to_numpy()
    urban = np.array(
        [is_city_district(c, n) for c, n in zip(drawn["unit_id"], drawn["name"], strict=True)],
        dtype=bool,
    )
    if urban.any() and density[urban].max() > 0:
        core = urban & (density >= density[urban].max() / 4)
    else:
        core = density == density.max()
    west, south, east, north = drawn[core].total_bounds
    return float(west), float(south), float(east), float(north)


def view_controls(
    map_key: str, full: Bounds, core: Bounds | None, size: tuple[float, float]
) -> tuple[MapView, str]:
    """The buttons 放大到城区 and 重置视图 over a map; the view to draw and the map's key.

    The choice is kept per map (:func:`ui.state.map_view`), so a rerun (a
    slider, a fragment) keeps the view the planner chose; each click gives the
    map a new key, so a reset also undoes the planner's panning and zooming.
    """
    choice, _ = state.map_view(map_key)
    with st.container(horizontal=True):
        if st.button(
            tr("map_zoom_core"), key=f"{map_key}_core_btn", disabled=core is None,
            icon=":material/zoom_in:", help=tr("map_zoom_core_help"),
        ):  # fmt: skip
            state.set_map_view(map_key, "core")
        if st.button(tr("map_reset_view"), key=f"{map_key}_reset_btn", icon=":material/home:"):
            state.set_map_view(map_key, "full")
    choice, asked = state.map_view(map_key)
    bounds = core if choice == "core" and core is not None else full
    return fit_view(bounds, *size), f"{map_key}_{asked}"


# --- labels: the bigger grids' names win where labels would overlap ---------------------------

#: Label text size (pixels): readable on a projector.
LABEL_PX = 14


def label_box(text: str, size_px: float = LABEL_PX) -> tuple[float, float]:
    """Width and height (pixels) of a label with its background: CJK characters are square,
    Latin letters and digits about 0.6 of the size."""
    width = sum(size_px if ord(ch) > 0x2E7F else 0.6 * size_px for ch in text)
    return width + 8.0, size_px * 1.25 + 4.0


def declutter(
    x: Any, y: Any, texts: Sequence[str], priority: Any, *, size_px: float = LABEL_PX
) -> BoolArray:
    """Which labels to show: greedily, highest ``priority`` first, each one whose box
    (centred on its pixel position ``x``, ``y``) overlaps no label already shown."""
    order = np.argsort(-np.asarray(priority, dtype=float), kind="stable")
    kept: list[tuple[float, float, float, float]] = []
    show = np.zeros(len(texts), dtype=bool)
    for i in order:
        w, h = label_box(texts[i], size_px)
        box = (float(x[i]) - w / 2, float(y[i]) - h / 2, float(x[i]) + w / 2, float(y[i]) + h / 2)
        if not any(_overlap(box, other) for other in kept):
            kept.append(box)
            show[i] = True
    return show


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def build_deck(
    units: gpd.GeoDataFrame,
    display: gpd.GeoSeries,
    assignment: pd.Series,
    grid_names: dict[str, str],
    colors: dict[str, str],
    *,
    borders: UnitBorders,
    lang: Lang = "zh",
    basemap: str = "none",
    labels: bool = True,
    view: MapView | None = None,
    size: tuple[float, float] = (GRID_MAP_WIDTH_PX, GRID_MAP_HEIGHT_PX),
    links: pd.DataFrame | None = None,
) -> pdk.Deck:
    """A pydeck map of a plan, looking at ``view`` (default: the drawn units fitted to ``size``).

    ``display`` holds the simplified unit polygons (WGS-84), drawn filled;
    ``borders`` the units' boundaries (:func:`gridplan.report.boundaries.unit_borders`),
    drawn as thin white lines between units and dark lines between grids.  Both are
    shifted to GCJ-02 for the Amap basemap.  ``size`` is the map's width and height in
    pixels: the labels that would overlap a bigger grid's label at that view are left out.
    ``links`` (:func:`gridplan.plan.networks.network_links`) are drawn as lines from each
    network's leading institution to its member units, and from lead hospitals to members.
    """
    has = units["has_geometry"].to_numpy()
    if view is None:
        view = fit_view(tuple(units[has].total_bounds), *size)
    drawn = _drawn_units(units[has], display[has], lang)
    drawn = _with_grids(drawn, assignment[has], grid_names, colors)
    between_grids = grid_border_mask(borders, assignment)
    segments = borders.segments
    if basemap == "amap":
        segments = segments_to_gcj02(segments)
    layers = [
        _units_layer(gdf_to_datum(drawn, "gcj02") if basemap == "amap" else drawn),
        segment_layer(segment_rows(segments[~between_grids]), "unit-borders", UNIT_BORDER_RGBA, 1),
        segment_layer(
            segment_rows(segments[between_grids]), "grid-outlines", GRID_BORDER_RGBA, 2.5
        ),
    ]
    assigned = drawn[drawn["grid_id"].notna()]
    if labels and len(assigned):  # the grids' shapes are needed only to place their names
        outlines = assigned.dissolve("grid_id", aggfunc={"population": "sum"}).reset_index()
        if basemap == "amap":
            outlines = gdf_to_datum(outlines, "gcj02")
        layers.append(_labels_layer(grid_labels(outlines, grid_names, view, size)))
    if links is not None and len(links):
        layers += network_layers(links, lang, amap=basemap == "amap")
    return pdk.Deck(
        layers=layers,
        initial_view_state=view.view_state(),
        tooltip=UNIT_TOOLTIP,
        **_basemap_style(basemap),
    )


#: Colour of the network links (purple: apart from the grids' fills and the dark outlines).
LINK_RGBA = [118, 42, 131, 220]


def network_layers(links: pd.DataFrame, lang: Lang, *, amap: bool = False) -> list[pdk.Layer]:
    """The links as lines and their origins as dots; each says in its tooltip (the grid map's
    fields) which network it belongs to and whether its origin is a located hospital."""
    ends = links[["lon0", "lat0", "lon1", "lat1"]].to_numpy(dtype=float)
    if amap:
        ends = segments_to_gcj02(ends)
    kinds = {"network": tr("link_kind_network", lang=lang),
             "members": tr("link_kind_members", lang=lang)}  # fmt: skip
    origin = {True: tr("link_located", lang=lang), False: tr("link_unlocated", lang=lang)}
    rows = [
        {
            **seg, "name": r["group"], "unit_id": kinds[r["kind"]],
            "grid_name": f"{r['origin']} → {r['member']}",
            "pop_text": origin[bool(r["origin_located"])],
        }
        for seg, (_, r) in zip(segment_rows(ends), links.iterrows(), strict=True)
    ]  # fmt: skip
    origins = {(row["s"][0], row["s"][1]): row for row in rows}
    dots = [{**row, "p": list(pos), "grid_name": row["name"]} for pos, row in origins.items()]
    return [
        segment_layer(rows, "network-links", LINK_RGBA, 2, pickable=True),
        pdk.Layer(
            "ScatterplotLayer", dots, id="network-origins", get_position="p",
            get_fill_color=LINK_RGBA, get_radius=6, radius_units="'pixels'", pickable=True,
        ),
    ]  # fmt: skip


def _drawn_units(units: gpd.GeoDataFrame, display: gpd.GeoSeries, lang: Lang) -> gpd.GeoDataFrame:
    """Units with a polygon, on their ``display`` polygons, with their population's tooltip text."""
    drawn = units[["unit_id", "name", "population", "population_source"]].copy()
    drawn = gpd.GeoDataFrame(drawn, geometry=display.to_numpy(), crs="EPSG:4326")
    drawn["pop_text"] = [
        _fmt_pop(p, s, lang)
        for p, s in zip(drawn["population"], drawn["population_source"], strict=True)
    ]
    return drawn


def _with_grids(
    drawn: gpd.GeoDataFrame, grid_of: pd.Series, grid_names: dict[str, str], colors: dict[str, str]
) -> gpd.GeoDataFrame:
    """``drawn`` with each unit's grid, the grid's name and its fill colour (grey: unassigned)."""
    rgb = {g: _rgb(c) for g, c in colors.items()}
    return drawn.assign(
        grid_id=grid_of.to_numpy(),
        grid_name=grid_of.map(lambda g: grid_names.get(g, "—") if g else "—").to_numpy(),
        fill=[[*rgb.get(g, UNASSIGNED), 170] for g in grid_of],
    )


def _units_layer(drawn: gpd.GeoDataFrame) -> pdk.Layer:
    fc = json.loads(
        drawn[["unit_id", "name", "grid_name", "pop_text", "fill", "geometry"]].to_json(
            drop_id=True
        )
    )
    return pdk.Layer(
        "GeoJsonLayer",
        fc,
        id="units",
        pickable=True,
        stroked=False,  # the boundaries are drawn once each by the segment layers
        filled=True,
        get_fill_color="properties.fill",
    )


def segments_to_gcj02(segments: FloatArray) -> FloatArray:
    """Both ends of each segment shifted from WGS-84 to GCJ-02 (for the Amap tiles)."""
    lon0, lat0 = wgs84_to_gcj02(segments[:, 0], segments[:, 1])
    lon1, lat1 = wgs84_to_gcj02(segments[:, 2], segments[:, 3])
    return np.column_stack([lon0, lat0, lon1, lat1])


def grid_labels(
    outlines: gpd.GeoDataFrame,
    grid_names: dict[str, str],
    view: MapView,
    size: tuple[float, float],
) -> pd.DataFrame:
    """The grid names to draw at ``view``: at a point inside each grid, the more populous
    (then larger) grid's name kept where two would overlap (:func:`declutter`)."""
    pts = label_points(outlines.geometry.to_numpy())
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    texts = [grid_names.get(g, g) for g in outlines["grid_id"]]
    area = shapely.area(outlines.geometry.to_numpy())
    priority = outlines["population"].fillna(0).to_numpy() + area / max(float(area.max()), 1e-12)
    x, y = screen_xy(view, lon, lat, *size)
    show = declutter(x, y, texts, priority)
    frame = pd.DataFrame({"text": texts, "lon": lon, "lat": lat})
    return frame[show].reset_index(drop=True)


def label_points(geoms: Any) -> Any:
    """Where each grid's name goes: the centre of the largest circle inside its largest part
    (the visual centre, far from its neighbours' names), or a point on it when that fails."""
    out = []
    for geom in geoms:
        parts = list(getattr(geom, "geoms", [geom]))
        part = max(parts, key=lambda p: p.area) if parts else geom
        try:
            tolerance = max(float(np.sqrt(part.area)) / 100, 1e-6)
            centre = shapely.get_point(shapely.maximum_inscribed_circle(part, tolerance), 0)
        except shapely.errors.GEOSException:
            centre = shapely.point_on_surface(part)
        out.append(centre if not centre.is_empty else shapely.point_on_surface(geom))
    return np.array(out, dtype=object)


def _labels_layer(labels: pd.DataFrame) -> pdk.Layer:
    """Grid names with a white background (see :func:`grid_labels`)."""
    return pdk.Layer(
        "TextLayer",
        labels,
        id="grid-labels",
        get_position=["lon", "lat"],
        get_text="text",
        get_size=LABEL_PX,
        get_color=[20, 20, 20, 255],
        # pydeck turns bare strings into accessor functions; quoted ones stay literal
        character_set='"auto"',
        font_family=f"'{CJK_FONT_PLAIN}'",
        get_text_anchor="'middle'",
        get_alignment_baseline="'center'",
        background=True,
        get_background_color=[255, 255, 255, 215],
        background_padding=[4, 2],
    )


def _basemap_style(basemap: str) -> dict[str, Any]:
    """The deck's map provider and style: none (offline), Carto, or the Amap raster tiles."""
    if basemap == "carto":
        return {"map_provider": "carto", "map_style": "light"}
    if basemap == "amap":
        # Streamlit's map accepts a style URL only (not a style document): the Amap raster
        # style is served from static/ (server.enableStaticServing)
        return {"map_provider": "carto", "map_style": AMAP_STYLE_URL}
    return {"map_provider": None, "map_style": None}


# --- raster maps (15-minute page, siting page) -------------------------------------------


def image_layer(img: Any, layer_id: str) -> pdk.Layer:
    """A web image (:class:`gridplan.report.webmap.WebImage`) as a BitmapLayer on its bounds."""
    west, south, east, north = img.bounds
    return pdk.Layer(
        "BitmapLayer",
        image=f"'{img.data_url}'",  # quoted: pydeck turns bare strings into accessors
        bounds=[[west, south], [west, north], [east, north], [east, south]],
        id=layer_id,
        opacity=0.9,
    )


#: Facility dots: metres on the ground, kept between these pixel radii.  At the prefecture view
#: a dot is a point of 1.5 pixels, so a rural facility's 15-minute circle (about 1 km) shows
#: around it instead of vanishing under it; zoomed in, dots grow to 6 pixels.
FACILITY_RADIUS_M = 120.0
FACILITY_MIN_PX = 1.5
FACILITY_MAX_PX = 6.0
EARTH_CIRCUMFERENCE_M = 40_075_016.686


def metres_per_pixel(view: MapView) -> float:
    """Ground metres one screen pixel spans at the centre of ``view``."""
    return float(
        EARTH_CIRCUMFERENCE_M * np.cos(np.radians(view.latitude)) / (WORLD_PX * 2.0**view.zoom)
    )


def dot_radius_px(view: MapView) -> float:
    """The pixel radius a facility dot (:data:`FACILITY_RADIUS_M`) is drawn with at ``view``."""
    px = FACILITY_RADIUS_M / metres_per_pixel(view)
    return float(np.clip(px, FACILITY_MIN_PX, FACILITY_MAX_PX))


def scatter_layer(
    data: pd.DataFrame,
    layer_id: str,
    *,
    radius: float,
    fill: str | list[int],
    outline: list[int] | None = None,
    outline_px: float = 0.5,
    metres: bool = False,
) -> pdk.Layer:
    """Points at ``lon``/``lat`` of ``data``, pickable for the tooltip.

    ``radius`` is in pixels, or with ``metres`` in metres on the ground drawn
    between :data:`FACILITY_MIN_PX` and :data:`FACILITY_MAX_PX` pixels.
    ``fill`` is an RGBA list, or the name of the column that holds one per point.
    """
    extra: dict[str, Any] = {}
    if outline is not None:
        extra = {"stroked": True, "get_line_color": outline, "line_width_min_pixels": outline_px}
    if metres:
        extra |= {"radius_min_pixels": FACILITY_MIN_PX, "radius_max_pixels": FACILITY_MAX_PX}
    return pdk.Layer(
        "ScatterplotLayer",
        data,
        id=layer_id,
        get_position=["lon", "lat"],
        get_radius=radius,
        radius_units="'meters'" if metres else "'pixels'",
        get_fill_color=fill,
        pickable=True,
        **extra,
    )


def outline_layer(
    geojson: dict[str, Any], layer_id: str, color: list[int], width: float = 1.5
) -> pdk.Layer:
    """Polygon outlines without fill (grid outlines, catchments)."""
    return pdk.Layer(
        "GeoJsonLayer",
        geojson,
        id=layer_id,
        stroked=True,
        filled=False,
        get_line_color=color,
        line_width_min_pixels=width,
    )


def fitted_deck(
    layers: list[pdk.Layer],
    bounds: Bounds,
    tooltip: str,
    *,
    view: MapView | None = None,
    size: tuple[float, float] = (MAP_WIDTH_PX, 520),
) -> pdk.Deck:
    """An offline deck (no basemap) looking at ``view``, by default ``bounds`` (west, south,
    east, north) fitted to a map of ``size`` pixels (:func:`fit_view`).

    ``tooltip`` is a text template (``{column}`` fields, ``\\n`` for a new line), shown as text.
    """
    view = fit_view(bounds, *size) if view is None else view
    return pdk.Deck(
        layers=layers,
        initial_view_state=view.view_state(),
        map_provider=None,
        map_style=None,
        tooltip={"text": tooltip, "style": TOOLTIP_STYLE},
    )
