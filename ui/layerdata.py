"""Map layers whose data the browser fetches by URL, so a slider step does not resend it.

A pydeck map is one JSON document: Streamlit sends all of it again whenever any part
changes, and deck.gl rebuilds every layer whose ``data`` is a new array.  The layers a
slider step does not change (grid outlines, facilities, hover blocks) are therefore
given as the URL of a JSON file served by Streamlit's media endpoint (the one
``st.image`` uses): a step sends the same short URL, deck.gl sees the same ``data``
and keeps the layer, and only the coverage image travels.

The files are content-addressed: the same bytes in every session are one stored file,
and a file no session shows any more is dropped by Streamlit after the next run.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pydeck as pdk
from streamlit import runtime

JSON_MIME = "application/json"


def compact_json(data: object) -> bytes:
    """``data`` as compact UTF-8 JSON (no spaces, CJK characters unescaped)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def served(payload: bytes, slot: str) -> Any:
    """A layer's ``data``: the URL of ``payload`` (JSON) served by Streamlit, or the parsed
    JSON itself when no Streamlit server runs (a bare script).

    ``slot`` names the layer's place in the page (one file per slot and session): a new
    file in the same slot releases the one before it.

    The URL is relative to the page (``media/…``), so it also works under a
    ``server.baseUrlPath``.
    """
    if not runtime.exists():
        return json.loads(payload)
    url = runtime.get_instance().media_file_mgr.add(payload, JSON_MIME, f"gridplan:{slot}")
    return url.lstrip("/")


def segment_rows(segments: Any) -> list[dict[str, list[float]]]:
    """``(n, 4)`` lon0, lat0, lon1, lat1 rows as the line layer's ``{"s": …, "t": …}`` rows
    (5 decimals: about a metre)."""
    return [{"s": r[:2], "t": r[2:]} for r in np.round(segments, 5).tolist()]


def segment_layer(
    data: Any, layer_id: str, color: list[int], width_px: float = 1.5, *, pickable: bool = False
) -> pdk.Layer:
    """Straight segments (rows ``{"s": [lon, lat], "t": [lon, lat]}``, or their URL) as thin
    lines of ``width_px`` pixels: deck.gl's line shader, far lighter to draw than its path
    shader (the grid outlines were most of every redraw in a software-rendered browser).
    ``pickable``: the rows' other fields show in the map's tooltip."""
    return pdk.Layer(
        "LineLayer",
        data,
        id=layer_id,
        get_source_position="s",
        get_target_position="t",
        get_color=color,
        get_width=width_px,
        width_units="'pixels'",
        pickable=pickable,
    )
