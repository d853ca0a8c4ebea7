"""Reading road networks: OSM XML, PBF (pyosmium), GraphML, online OSMnx."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gridplan.errors import GridPlanError, InputError

if TYPE_CHECKING:
    import networkx as nx
    from shapely.geometry import MultiPolygon, Polygon

# --------------------------------------------------------------------------- loading


def _unreadable(path: Path, exc: BaseException) -> InputError:
    detail = f"{type(exc).__name__}: {exc}".strip()
    return InputError(
        f"cannot read road network {path.name}: {detail}",
        code="network.unreadable",
        params={"filename": path.name, "detail": detail},
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


def _graph_from_osm_xml(path: Path, shown: Path | None = None) -> nx.MultiDiGraph:
    import osmnx as ox

    shown = shown or path
    try:
        graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except Exception as exc:  # any parse failure of a user's file is an input problem
        raise _unreadable(shown, exc) from exc
    graph = _roads_only(graph, shown)
    # Simplify only after non-roads are gone, and never merge across a change of
    # class or speed limit, so that edge speeds stay exact.
    return ox.simplify_graph(graph, edge_attrs_differ=["highway", "maxspeed"])


def _pbf_reader() -> str | None:
    """``"osmium"`` when pyosmium (the ``network`` extra) is installed, else ``None``."""
    import importlib.util

    return "osmium" if importlib.util.find_spec("osmium") is not None else None


def _pbf_to_osm_xml_with_osmium(path: Path, out: Path) -> None:
    """Write the ``highway`` ways of a PBF and their nodes to OSM XML with pyosmium."""
    import osmium

    node_ids: set[int] = set()
    ways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    for way in ways:
        if isinstance(way, osmium.osm.Way):
            node_ids.update(n.ref for n in way.nodes)
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
            if isinstance(obj, osmium.osm.Node) and obj.id in node_ids:
                writer.add_node(obj)
            elif isinstance(obj, osmium.osm.Way) and "highway" in obj.tags:
                writer.add_way(obj)


def _graph_from_pbf(path: Path) -> nx.MultiDiGraph:
    reader = _pbf_reader()
    if reader is None:
        raise InputError(
            f"cannot read {path.name}: no PBF reader (pyosmium) is installed; "
            "convert it to OSM XML with osmium (osmium tags-filter FILE w/highway -o roads.osm)",
            code="network.pbf_unsupported",
            params={"filename": path.name},
        )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "roads.osm"
        try:
            _pbf_to_osm_xml_with_osmium(path, out)
        except Exception as exc:
            raise _unreadable(path, exc) from exc
        return _graph_from_osm_xml(out, shown=path)


def load_roads(
    source: str | Path | None, *, polygon: Polygon | MultiPolygon | None = None
) -> nx.MultiDiGraph:
    """Load a road network as an OSMnx ``MultiDiGraph`` (node ``x``/``y`` in EPSG:4326).

    ``source`` is an OSM XML file (``.osm``, ``.xml``, ``.osm.bz2``), an OSMnx
    GraphML file (``.graphml``) or an ``.osm.pbf`` (needs pyosmium).
    With ``source=None`` the roads inside ``polygon`` (WGS-84) are downloaded
    with OSMnx (``network_type="all"``; needs internet).  With a file and a
    polygon, the graph is cut to the polygon.  OSM XML keeps only ``highway``
    ways, all components (``retain_all``), simplified without merging across a
    change of ``highway`` or ``maxspeed``.

    Raises :class:`~gridplan.errors.InputError` (codes ``network.*``) for a
    missing, empty, unreadable or road-less file or an unsupported format.
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
    if name.endswith(".pbf"):
        graph = _graph_from_pbf(path)
    elif name.endswith((".osm", ".xml", ".osm.bz2", ".xml.bz2")):
        graph = _graph_from_osm_xml(path)
    elif name.endswith(".graphml"):
        import osmnx as ox

        try:
            graph = ox.load_graphml(path)
        except Exception as exc:
            raise _unreadable(path, exc) from exc
        if graph.number_of_edges() == 0:
            raise InputError(
                f"{path.name} contains no roads", code="network.no_roads", params=params
            )
    else:
        raise InputError(
            f"unrecognised road network format: {path.name}",
            code="network.unknown_format",
            params=params,
        )
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
    return graph
