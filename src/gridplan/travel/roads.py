"""Reading road networks: OSM XML, PBF (pyosmium), GraphML, online OSMnx."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from gridplan import settings
from gridplan.errors import GridPlanError, InputError, UploadError
from gridplan.inputs.xmlsafe import check_file_size, plain_osm_xml
from gridplan.travel.osmroads import (
    check_graphml,
    highways_from_pbf,
    highways_from_xml,
    roads_from_elements,
)
from gridplan.travel.roadtable import RoadTable, attach_table, road_table

if TYPE_CHECKING:
    import networkx as nx
    from shapely.geometry import MultiPolygon, Polygon

# --------------------------------------------------------------------------- loading


def _unreadable(path: Path, exc: BaseException) -> InputError:
    # the library's text, without the server's folders, one line, short
    detail = " ".join(f"{type(exc).__name__}: {exc}".replace(str(path.parent), "").split())[:200]
    return InputError(
        f"cannot read road network {path.name}: {detail}",
        code="network.unreadable",
        params={"filename": path.name, "detail": detail},
    )


def _as_unreadable(path: Path, exc: UploadError) -> UploadError:
    """Text that is not XML keeps the road reader's ``network.unreadable`` code, with its place."""
    where = f"not well-formed XML (line {exc.params['line']}, column {exc.params['column']})"
    return UploadError(
        f"cannot read road network {path.name}: {where}",
        code="network.unreadable",
        params={"filename": path.name, "detail": where},
    )


def _roads_only(graph: nx.MultiDiGraph, path: Path) -> nx.MultiDiGraph:
    """Drop edges without ``highway`` (buildings, land use ...) and the nodes left alone."""
    import networkx as nx

    graph.remove_edges_from(
        [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if "highway" not in d]
    )
    graph.remove_nodes_from(list(nx.isolates(graph)))
    if graph.number_of_edges() == 0:
        raise InputError(
            f"{path.name} contains no roads (no ways tagged highway)",
            code="network.no_roads",
            params={"filename": path.name},
        )
    return graph


def _simplified(graph: nx.MultiDiGraph, shown: Path) -> nx.MultiDiGraph:
    """The roads of ``graph``: its ways are already cut only at junctions
    (:func:`~gridplan.travel.osmroads.graph_from_elements`), so every edge keeps one
    class and speed limit, and no osmnx simplification pass is needed."""
    return _roads_only(graph, shown)


def _graph_from_osm_xml(path: Path) -> tuple[nx.MultiDiGraph, RoadTable | None]:
    """The roads of an OSM XML file (``.bz2`` decompressed first, within its budget)."""
    with plain_osm_xml(path) as plain:
        elements = highways_from_xml(plain, path.name)
    graph, table = roads_from_elements(elements, path.name)
    return _simplified(graph, path), table


def _pbf_reader() -> str | None:
    """``"osmium"`` when pyosmium (the ``network`` extra) is installed, else ``None``."""
    import importlib.util

    return "osmium" if importlib.util.find_spec("osmium") is not None else None


def _graph_from_pbf(path: Path) -> tuple[nx.MultiDiGraph, RoadTable | None]:
    reader = _pbf_reader()
    if reader is None:
        raise InputError(
            f"cannot read {path.name}: no PBF reader (pyosmium) is installed; "
            "convert it to OSM XML with osmium (osmium tags-filter FILE w/highway -o roads.osm)",
            code="network.pbf_unsupported",
            params={"filename": path.name},
        )
    try:
        elements = highways_from_pbf(path, path.name)
    except GridPlanError:
        raise
    except Exception as exc:  # pyosmium's own errors on a damaged file
        raise _unreadable(path, exc) from exc
    graph, table = roads_from_elements(elements, path.name)
    return _simplified(graph, path), table


def _graph_from_graphml(path: Path) -> tuple[nx.MultiDiGraph, RoadTable | None]:
    """An OSMnx GraphML file, scanned (defused, bounded, OSMnx keys) before networkx reads it."""
    import osmnx as ox

    check_graphml(path, path.name)
    try:
        graph = ox.load_graphml(path)
    except Exception as exc:
        raise _unreadable(path, exc) from exc
    if graph.number_of_edges() == 0:
        raise InputError(
            f"{path.name} contains no roads",
            code="network.no_roads",
            params={"filename": path.name},
        )
    return graph, None  # its arrays are read in bulk once the polygon has cut it


def _file_digest(path: Path, polygon: Polygon | MultiPolygon | None) -> str:
    """A hash of the file's bytes (and of the polygon cutting it): the key of its travel graphs."""
    import hashlib

    h = hashlib.blake2b(digest_size=20)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    if polygon is not None:
        h.update(b"polygon:" + polygon.wkb)
    return h.hexdigest()


def load_roads(
    source: str | Path | None, *, polygon: Polygon | MultiPolygon | None = None
) -> nx.MultiDiGraph:
    """Load a road network as an OSMnx ``MultiDiGraph`` (node ``x``/``y`` in EPSG:4326).

    ``source`` is an OSM XML file (``.osm``, ``.xml``, ``.osm.bz2``), an OSMnx
    GraphML file (``.graphml``) or an ``.osm.pbf`` (needs pyosmium).
    With ``source=None`` the roads inside ``polygon`` (WGS-84) are downloaded
    with OSMnx (``network_type="all"``; needs internet).  With a file and a
    polygon, the graph is cut to the polygon.  OSM XML and PBF keep only
    ``highway`` ways, all components, each way cut at its junctions only (an edge
    per stretch between junctions, its shape points as the edge's geometry), so
    an edge never spans a change of ``highway`` or ``maxspeed``.

    Every file is hostile until checked: its size (``settings.roads_max_file_mb``)
    from ``stat``; a ``.bz2`` decompressed within ``roads_max_decompressed_mb`` and
    ``roads_max_ratio``; a PBF's block sizes read before any is inflated; XML
    streamed through a defused parser (no DTD, entity, external reference or
    XInclude; root ``<osm>`` or ``<graphml>``) that counts elements
    (``roads_max_elements``), road nodes (``roads_max_road_nodes``) or GraphML
    nodes and edges (``roads_max_graphml_items``) as it reads; the stretches
    between junctions (``roads_max_road_edges``) are counted before networkx
    builds anything.

    The graph comes with its arrays (:func:`~gridplan.travel.roadtable.table_of`):
    read straight from the OSM XML / PBF reader, in bulk from a GraphML file or
    after the polygon's cut, and keyed by a hash of the file (and polygon), so
    that travel graphs are built without walking networkx and cached per file
    (:mod:`gridplan.travel.graphcache`).  Do not edit the graph returned.

    Raises :class:`~gridplan.errors.InputError` (codes ``network.*``) for a
    missing, empty, unreadable or road-less file or an unsupported format, and
    :class:`~gridplan.errors.UploadError` (``network.too_*``, ``network.pbf_*``,
    ``upload.bz2_*``, ``xml.*``) for a file over a limit or unsafe.
    """
    if source is None:
        if polygon is None:
            raise InputError(
                "no road network source: give a file or a polygon to download",
                code="network.no_source",
            )
        import osmnx as ox

        try:  # pragma: no cover - needs internet
            graph = ox.graph_from_polygon(
                polygon, network_type="all", simplify=True, retain_all=True
            )
        except Exception as exc:  # pragma: no cover - needs internet
            detail = f"{type(exc).__name__}: {exc}"
            raise GridPlanError(
                f"downloading the road network failed: {detail}",
                code="network.download_failed",
                params={"detail": detail},
            ) from exc
        return graph  # pragma: no cover

    path = Path(source)
    params = {"filename": path.name}
    if not path.is_file():
        raise InputError(
            f"road network file not found: {path}", code="network.not_found", params=params
        )
    if path.stat().st_size == 0:
        raise InputError(
            f"road network file {path.name} is empty", code="network.empty_file", params=params
        )
    name = path.name.lower()
    readers = {".pbf": _graph_from_pbf, ".graphml": _graph_from_graphml}
    readers |= dict.fromkeys((".osm", ".xml", ".osm.bz2", ".xml.bz2"), _graph_from_osm_xml)
    reader = next((r for ext, r in readers.items() if name.endswith(ext)), None)
    if reader is None:
        raise InputError(
            f"unrecognised road network format: {path.name}",
            code="network.unknown_format",
            params=params,
        )
    check_file_size(path, settings.roads_max_file_mb, path.name, "network.too_large")
    try:
        graph, table = reader(path)
    except UploadError as exc:
        if exc.code != "xml.malformed":
            raise
        raise _as_unreadable(path, exc) from exc
    if polygon is not None:
        import osmnx as ox

        try:
            graph = ox.truncate.truncate_graph_polygon(graph, polygon, truncate_by_edge=True)
        except ValueError as exc:
            raise InputError(
                f"{path.name} has no roads inside the polygon",
                code="network.no_roads",
                params=params,
            ) from exc
        if graph.number_of_edges() == 0:
            raise InputError(
                f"{path.name} has no roads inside the polygon",
                code="network.no_roads",
                params=params,
            )
        table = None
    # the arrays travel graphs are built from, kept beside the graph (see roadtable)
    table = table or road_table(graph)
    attach_table(graph, replace(table, digest=_file_digest(path, polygon)))
    return graph
