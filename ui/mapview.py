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
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from matplotlib.colors import to_rgb

from gridplan.i18n import Lang
from gridplan.inputs.crs import gdf_to_datum
from gridplan.plan.population import provenance_label
from ui.texts import BASEMAP, tr

UNASSIGNED = (230, 230, 230)
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


def _view(gdf: gpd.GeoDataFrame) -> pdk.ViewState:
    minx, miny, maxx, maxy = gdf.total_bounds
    span = max(maxx - minx, (maxy - miny) * 1.3, 1e-3)
    zoom = float(np.clip(np.log2(360.0 / span) - 0.6, 3, 16))
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=(miny + maxy) / 2, zoom=zoom)


def build_deck(
    units: gpd.GeoDataFrame,
    display: gpd.GeoSeries,
    assignment: pd.Series,
    grid_names: dict[str, str],
    colors: dict[str, str],
    *,
    lang: Lang = "zh",
    basemap: str = "none",
    labels: bool = True,
) -> pdk.Deck:
    """A pydeck map of a plan.

    ``display`` holds the simplified unit polygons (WGS-84); they are shifted
    to GCJ-02 for the Amap basemap.  Grid outlines are dissolved from them.
    """
    has = units["has_geometry"].to_numpy()
    drawn = _drawn_units(units[has], display[has], lang)
    drawn = _with_grids(drawn, assignment[has], grid_names, colors)
    assigned = drawn[drawn["grid_id"].notna()]
    outlines = assigned.dissolve("grid_id", aggfunc={"population": "sum"}).reset_index()
    if basemap == "amap":
        drawn = gdf_to_datum(drawn, "gcj02")
        outlines = gdf_to_datum(outlines, "gcj02")
    layers = [_units_layer(drawn), _outlines_layer(outlines)]
    if labels and len(outlines):
        layers.append(_labels_layer(outlines, grid_names))
    return pdk.Deck(
        layers=layers,
        initial_view_state=_view(units[has]),
        tooltip=UNIT_TOOLTIP,
        **_basemap_style(basemap),
    )


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
        stroked=True,
        filled=True,
        get_fill_color="properties.fill",
        get_line_color=[255, 255, 255, 220],
        line_width_min_pixels=1,
    )


def _outlines_layer(outlines: gpd.GeoDataFrame) -> pdk.Layer:
    fc = json.loads(outlines[["grid_id", "geometry"]].to_json(drop_id=True))
    return pdk.Layer(
        "GeoJsonLayer",
        fc,
        id="grid-outlines",
        pickable=False,
        stroked=True,
        filled=False,
        get_line_color=[40, 40, 40, 255],
        line_width_min_pixels=2.5,
    )


def _labels_layer(outlines: gpd.GeoDataFrame, grid_names: dict[str, str]) -> pdk.Layer:
    """Grid names at a point inside each grid; overlapping labels of smaller grids hide."""
    pts = shapely.point_on_surface(outlines.geometry.to_numpy())
    label_df = pd.DataFrame(
        {
            "text": [grid_names.get(g, g) for g in outlines["grid_id"]],
            # bigger grids keep their label when labels collide
            "priority": outlines["population"].fillna(0).rank().to_numpy(),
            "lon": shapely.get_x(pts),
            "lat": shapely.get_y(pts),
        }
    )
    return pdk.Layer(
        "TextLayer",
        label_df,
        id="grid-labels",
        get_position=["lon", "lat"],
        get_text="text",
        get_size=12,
        # hide labels that would overlap others at the current zoom
        extensions=[{"@@type": "CollisionFilterExtension"}],
        collision_test_props={"sizeScale": 2},
        get_collision_priority="priority",
        get_color=[20, 20, 20, 255],
        # pydeck turns bare strings into accessor functions; quoted ones stay literal
        character_set='"auto"',
        font_family=f"'{CJK_FONT_PLAIN}'",
        get_text_anchor="'middle'",
        get_alignment_baseline="'center'",
        background=True,
        get_background_color=[255, 255, 255, 200],
        background_padding=[3, 1],
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


def scatter_layer(
    data: pd.DataFrame,
    layer_id: str,
    *,
    radius: float,
    fill: str | list[int],
    outline: list[int] | None = None,
    outline_px: float = 0.5,
) -> pdk.Layer:
    """Points at ``lon``/``lat`` of ``data``, ``radius`` pixels, pickable for the tooltip.

    ``fill`` is an RGBA list, or the name of the column that holds one per point.
    """
    extra: dict[str, Any] = {}
    if outline is not None:
        extra = {"stroked": True, "get_line_color": outline, "line_width_min_pixels": outline_px}
    return pdk.Layer(
        "ScatterplotLayer",
        data,
        id=layer_id,
        get_position=["lon", "lat"],
        get_radius=radius,
        radius_units="'pixels'",
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
    layers: list[pdk.Layer], bounds: tuple[float, float, float, float], tooltip: str
) -> pdk.Deck:
    """An offline deck (no basemap) whose view fits ``bounds`` (west, south, east, north).

    ``tooltip`` is a text template (``{column}`` fields, ``\\n`` for a new line), shown as text.
    """
    west, south, east, north = bounds
    span = max(east - west, (north - south) * 1.3)
    zoom = float(np.clip(np.log2(360.0 / span) + 0.3, 3, 16))
    view = pdk.ViewState(longitude=(west + east) / 2, latitude=(south + north) / 2, zoom=zoom)
    return pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        map_style=None,
        tooltip={"text": tooltip, "style": TOOLTIP_STYLE},
    )
