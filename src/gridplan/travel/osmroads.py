"""The highway ways of an OSM XML or PBF file, read in one bounded streaming pass.

osmnx's ``graph_from_xml`` parses the whole file into an element tree and a
list of every element before it keeps the roads: 3.6 GB for a 146 MB file.
Here the file streams through the defused scanner of
:mod:`gridplan.inputs.xmlsafe` (or pyosmium for PBF): only the ``highway``
ways and 24 bytes per node are kept, and the limits of
:mod:`gridplan.settings` are checked while the file is read.  The graph is then
built from the roads alone with osmnx's own one-way rules, each way cut at its
junctions only (:func:`graph_from_elements`): what ``graph_from_xml`` and
osmnx's simplification give after dropping the non-roads (tested on the
sample file), without a graph node per shape point.  The same pieces also
give the graph's arrays (:func:`table_from_elements`), from which travel
graphs are built without walking networkx.
"""

from __future__ import annotations

import itertools
import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gridplan import settings
from gridplan._types import FloatArray, IntArray
from gridplan.errors import InputError, UploadError
from gridplan.inputs.xmlsafe import XmlScan, scan_xml
from gridplan.travel.roadtable import RoadTable, tag_codes

if TYPE_CHECKING:
    from xml.sax.xmlreader import AttributesImpl

    import networkx as nx

_MB = 1024 * 1024
_PBF_MAX_HEADER = 64 * 1024  # the PBF format's own limits on a block header and block
_PBF_MAX_BLOB = 32 * _MB
#: Below this much block data a PBF's compression ratio is not judged (a tiny test extract).
_PBF_RATIO_FLOOR = 16 * _MB


def _way_keys() -> frozenset[str]:
    import osmnx as ox

    return frozenset(ox.settings.useful_tags_way)


def _node_keys() -> frozenset[str]:
    import osmnx as ox

    return frozenset(ox.settings.useful_tags_node)


@dataclass
class RoadElements:
    """The highway ways of a file and the nodes they need.

    ``ways`` holds (OSM id, node references, useful tags); ``ids``/``lat``/``lon``
    the nodes (possibly more than the roads need); ``node_tags`` the useful
    tags of tagged nodes.
    """

    ids: IntArray
    lat: FloatArray
    lon: FloatArray
    ways: list[tuple[int, array[int], dict[str, str]]]
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)


# --------------------------------------------------------------------------- limits


def too_many_road_nodes(filename: str) -> UploadError:
    """The error for a file with more road points than ``settings.roads_max_road_nodes``."""
    limit = settings.roads_max_road_nodes
    return UploadError(
        f"{filename} has more than {limit:,} road nodes (points along highway ways)",
        code="network.too_many_road_nodes",
        params={"filename": filename, "limit": limit},
    )


def _check_road_edges(n_pieces: int, filename: str) -> None:
    """Refuse more stretches of road between junctions than the graph can hold in memory."""
    limit = settings.roads_max_road_edges
    if n_pieces > limit:
        raise UploadError(
            f"{filename} has {n_pieces:,} road stretches between junctions, over {limit:,}",
            code="network.too_many_road_edges",
            params={"filename": filename, "n": n_pieces, "limit": limit},
        )


def too_many_elements(filename: str, limit: int) -> UploadError:
    """The error for a file with more XML elements than ``limit``."""
    return UploadError(
        f"{filename} has more than {limit:,} XML elements",
        code="network.too_many_elements",
        params={"filename": filename, "limit": limit},
    )


def _bad_element(filename: str, element: str, line: int) -> UploadError:
    return UploadError(
        f"{filename}, line {line}: a <{element}> with a missing or invalid id, ref, lat or lon",
        code="network.bad_element",
        params={"filename": filename, "element": element, "line": line},
    )


# --------------------------------------------------------------------------- OSM XML


class _HighwayScan(XmlScan):
    """Keeps every node's position and the ``highway`` ways, counting as it goes."""

    roots = ("osm",)

    def __init__(self, filename: str) -> None:
        super().__init__(filename)
        self.way_keys, self.node_keys = _way_keys(), _node_keys()
        self.ids, self.lat, self.lon = array("q"), array("d"), array("d")
        self.node_tags: dict[int, dict[str, str]] = {}
        self.ways: list[tuple[int, array[int], dict[str, str]]] = []
        self.n_elements = 0
        self.n_refs = 0
        self._in = ""  # the node, way or relation being read
        self._id = 0
        self._refs: array[int] = array("q")
        self._tags: dict[str, str] = {}

    def start(self, name: str, attrs: AttributesImpl) -> None:
        self.n_elements += 1
        if self.n_elements > settings.roads_max_elements:
            raise too_many_elements(self.filename, settings.roads_max_elements)
        try:
            if name == "nd":
                if self._in == "way":
                    self._refs.append(int(attrs["ref"]))
            elif name == "tag":
                if self._in:
                    self._tags[attrs["k"]] = attrs["v"]
            elif name in ("node", "way", "relation"):
                self._in, self._id = name, int(attrs["id"])
                self._refs, self._tags = array("q"), {}
                if name == "node":
                    lat, lon = float(attrs["lat"]), float(attrs["lon"])
                    self.ids.append(self._id)
                    self.lat.append(lat)
                    self.lon.append(lon)
        except (KeyError, ValueError, OverflowError) as exc:
            raise _bad_element(self.filename, name, self.line) from exc

    def end(self, name: str) -> None:
        if name != self._in:
            return
        self._in = ""
        if name == "node" and self._tags:
            useful = {k: v for k, v in self._tags.items() if k in self.node_keys}
            if useful:
                self.node_tags[self._id] = useful
                if len(self.node_tags) > settings.roads_max_road_nodes:
                    raise too_many_road_nodes(self.filename)
        elif name == "way" and "highway" in self._tags:
            self.n_refs += len(self._refs)
            if self.n_refs > settings.roads_max_road_nodes:
                raise too_many_road_nodes(self.filename)
            useful = {k: v for k, v in self._tags.items() if k in self.way_keys}
            self.ways.append((self._id, self._refs, useful))


def highways_from_xml(path: Path, filename: str) -> RoadElements:
    """The highway ways of the OSM XML file ``path`` and the node positions, bounded.

    Raises :class:`~gridplan.errors.UploadError`: the codes of
    :func:`~gridplan.inputs.xmlsafe.scan_xml`, ``network.too_many_elements``,
    ``network.too_many_road_nodes`` and ``network.bad_element``.
    """
    scan = scan_xml(path, _HighwayScan(filename))
    return RoadElements(
        ids=np.frombuffer(scan.ids, dtype=np.int64),
        lat=np.frombuffer(scan.lat, dtype=np.float64),
        lon=np.frombuffer(scan.lon, dtype=np.float64),
        ways=scan.ways,
        node_tags=scan.node_tags,
    )


def _needed_ids(ways: list[tuple[int, array[int], dict[str, str]]]) -> IntArray:
    """The distinct node ids the ways reference, sorted."""
    refs = [np.frombuffer(r, np.int64) for _, r, _ in ways]
    return np.unique(np.concatenate(refs)) if refs else np.empty(0, np.int64)


# --------------------------------------------------------------------------- PBF


def _not_pbf(filename: str) -> UploadError:
    # the road reader's code for a file it cannot read, as for damaged XML
    detail = "not an OpenStreetMap PBF file (damaged header or block)"
    return UploadError(
        f"cannot read road network {filename}: {detail}",
        code="network.unreadable",
        params={"filename": filename, "detail": detail},
    )


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """A protobuf varint at ``pos``: (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """The (field number, value) pairs of a protobuf message (varints and byte strings)."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ValueError("truncated field")
            yield number, buf[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unexpected wire type {wire}")


def _blob_raw_size(blob: bytes) -> int:
    """The decompressed size a PBF block declares (``raw`` data is its own size)."""
    for number, value in _fields(blob):
        if number == 1 and isinstance(value, bytes):
            return len(value)
        if number == 2 and isinstance(value, int):
            return value
    raise ValueError("a block without its size")


def _pbf_blocks(path: Path) -> Iterator[tuple[bytes, int]]:
    """Each block of a PBF file: (its type, its declared decompressed size); nothing inflated."""
    with path.open("rb") as f:
        while head := f.read(4):
            if len(head) < 4:
                raise ValueError("truncated block header length")
            (size,) = struct.unpack(">I", head)
            if size > _PBF_MAX_HEADER:
                raise ValueError("block header too large")
            header = dict(_fields(f.read(size)))
            kind, datasize = header.get(1), header.get(3)
            if not isinstance(kind, bytes) or not isinstance(datasize, int):
                raise ValueError("block header without type or size")
            if datasize > _PBF_MAX_BLOB:
                raise ValueError("block too large")
            blob = f.read(datasize)
            if len(blob) < datasize:
                raise ValueError("truncated block")
            yield kind, _blob_raw_size(blob)


def _checked_blocks(path: Path, filename: str) -> Iterator[tuple[bytes, int]]:
    """:func:`_pbf_blocks`, with a damaged structure reported as a file that is not PBF."""
    try:
        yield from _pbf_blocks(path)
    except (ValueError, struct.error) as exc:
        raise _not_pbf(filename) from exc


def check_pbf(path: Path, filename: str) -> None:
    """Refuse a file that is not OSM PBF, or whose blocks would inflate past the limits.

    Only the block headers are read (no block is decompressed), so this takes
    the time of reading the file.  Codes ``network.unreadable`` (not PBF),
    ``network.pbf_too_large`` (over ``settings.roads_max_decompressed_mb``) and
    ``network.pbf_ratio`` (over ``settings.roads_max_ratio`` times the file size).
    """
    limit_mb, ratio = settings.roads_max_decompressed_mb, settings.roads_max_ratio
    ratio_budget = max(ratio * path.stat().st_size, _PBF_RATIO_FLOOR)
    total = 0
    for i, (kind, raw_size) in enumerate(_checked_blocks(path, filename)):
        if i == 0 and kind != b"OSMHeader":
            raise _not_pbf(filename)
        total += raw_size
        if total > limit_mb * _MB:
            raise UploadError(
                f"{filename} decompresses to more than the {limit_mb:g} MB limit",
                code="network.pbf_too_large",
                params={"filename": filename, "limit_mb": limit_mb},
            )
        if total > ratio_budget:
            raise UploadError(
                f"{filename} decompresses more than {ratio:g} times its size: refused "
                "as a decompression bomb",
                code="network.pbf_ratio",
                params={"filename": filename, "ratio": ratio},
            )
    if total == 0:
        raise _not_pbf(filename)


def highways_from_pbf(path: Path, filename: str) -> RoadElements:
    """The highway ways of a PBF file and their nodes, with pyosmium; bounded like XML.

    :func:`check_pbf` first; the road-node limit is checked during the pass
    over the ways, and only the nodes the roads need reach Python.
    """
    import osmium

    check_pbf(path, filename)
    way_keys, node_keys = _way_keys(), _node_keys()
    ways: list[tuple[int, array[int], dict[str, str]]] = []
    n_refs = 0
    highways = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    for way in highways:
        if not isinstance(way, osmium.osm.Way):
            continue
        refs = array("q", (n.ref for n in way.nodes))
        n_refs += len(refs)
        if n_refs > settings.roads_max_road_nodes:
            raise too_many_road_nodes(filename)
        ways.append((way.id, refs, {t.k: t.v for t in way.tags if t.k in way_keys}))
    needed = _needed_ids(ways)
    ids, lat, lon = array("q"), array("d"), array("d")
    node_tags: dict[int, dict[str, str]] = {}
    nodes = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
        osmium.filter.IdFilter(needed.astype(np.int64).tolist())
    )
    for node in nodes:
        if not isinstance(node, osmium.osm.Node) or not node.location.valid():
            continue
        ids.append(node.id)
        lat.append(node.location.lat)
        lon.append(node.location.lon)
        useful = {t.k: t.v for t in node.tags if t.k in node_keys}
        if useful:
            node_tags[node.id] = useful
    return RoadElements(
        ids=np.frombuffer(ids, np.int64),
        lat=np.frombuffer(lat, np.float64),
        lon=np.frombuffer(lon, np.float64),
        ways=ways,
        node_tags=node_tags,
    )


# --------------------------------------------------------------------------- the graph


def _node_index(el: RoadElements, filename: str) -> tuple[IntArray, FloatArray, FloatArray]:
    """The nodes the ways use, sorted by id, with their positions; bad positions refused."""
    needed = _needed_ids(el.ways)
    order = np.argsort(el.ids, kind="stable")
    sorted_ids = el.ids[order]
    pos = np.clip(np.searchsorted(sorted_ids, needed), 0, max(len(sorted_ids) - 1, 0))
    found = sorted_ids[pos] == needed if len(sorted_ids) else np.zeros(len(needed), bool)
    pick = order[pos[found]]
    ids, lat, lon = needed[found], el.lat[pick], el.lon[pick]
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        raise InputError(
            f"{filename}: {int(bad.sum())} road node(s) have no valid latitude/longitude",
            code="network.bad_coordinates",
            params={"filename": filename, "n": int(bad.sum()), "nodes": str(ids[bad][:5].tolist())},
        )
    return ids, lat, lon


def _paths(el: RoadElements, known: set[int]) -> Iterator[dict[str, Any]]:
    """Each way as osmnx paths: split where a node is missing from the file (a clipped extract)."""
    for way_id, refs, tags in el.ways:
        # consecutive repeats dropped, as osmnx does
        for present, run in itertools.groupby(
            (k for k, _ in itertools.groupby(refs)), known.__contains__
        ):
            nodes = list(run)
            if present and len(nodes) > 1:
                yield {"osmid": way_id, "nodes": nodes, **tags}


@dataclass
class _Pieces:
    """Ways cut at their junctions: each piece's OSM way, tags, end nodes and shape.

    ``flat`` holds every piece's node indices one after the other, ``start`` where each
    piece begins in it; ``length`` is in metres (great circle), ``geom`` a lon/lat
    LineString for pieces with shape points (``None`` for a straight piece).
    """

    paths: list[dict[str, Any]]
    first: IntArray
    length: FloatArray
    geom: Any
    geom_reversed: Any


def _split_at_junctions(
    paths: list[dict[str, Any]], ids: IntArray, filename: str
) -> tuple[list[dict[str, Any]], list[IntArray]]:
    """Cut every path at its junctions (nodes used twice or more, and path ends).

    The shape points between two junctions become one edge with a geometry, as
    osmnx's simplification would make it, without building the full graph first.
    The number of pieces is checked against ``settings.roads_max_road_edges``
    before any of them is made.
    """
    refs = [np.searchsorted(ids, np.asarray(p["nodes"], dtype=np.int64)) for p in paths]
    if not refs:
        return [], []
    flat = np.concatenate(refs)
    counts = np.bincount(flat, minlength=len(ids))
    cut = counts[flat] > 1
    ends = np.cumsum([len(r) for r in refs])
    cut[ends - 1] = True
    cut[np.r_[0, ends[:-1]]] = True
    _check_road_edges(int(cut.sum()) - len(refs), filename)
    pieces: list[dict[str, Any]] = []
    nodes_of: list[IntArray] = []
    for path, index, way_cut in zip(paths, refs, np.split(cut, ends[:-1]), strict=True):
        at = np.flatnonzero(way_cut)
        tags = {k: v for k, v in path.items() if k != "nodes"}
        for a, b in itertools.pairwise(at):
            pieces.append({**tags, "nodes": [int(ids[index[a]]), int(ids[index[b]])]})
            nodes_of.append(index[a : b + 1])
    return pieces, nodes_of


def _piece_shapes(nodes_of: list[IntArray], lat: FloatArray, lon: FloatArray) -> _Pieces:
    """Length and geometry of each piece, vectorised over all of them."""
    import shapely
    from osmnx.distance import great_circle

    if not nodes_of:
        empty = np.empty(0, dtype=object)
        return _Pieces([], np.empty(0, np.int64), np.empty(0), empty, empty)
    sizes = np.array([len(n) for n in nodes_of], dtype=np.int64)
    flat = np.concatenate(nodes_of)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    seg = np.zeros(len(flat), dtype=float)
    if len(flat) > 1:
        seg[1:] = great_circle(lat[flat[:-1]], lon[flat[:-1]], lat[flat[1:]], lon[flat[1:]])
    seg[start] = 0.0  # no segment across two pieces
    length = np.add.reduceat(seg, start)
    curved = sizes > 2
    geom = np.full(len(sizes), None, dtype=object)
    rev = np.full(len(sizes), None, dtype=object)
    if curved.any():
        owner = np.repeat(np.arange(len(sizes)), sizes)
        keep = curved[owner]
        coords = np.column_stack([lon[flat[keep]], lat[flat[keep]]])
        renumbered = (np.cumsum(curved) - 1)[owner[keep]]  # 0 .. number of curved pieces - 1
        lines = shapely.linestrings(coords, indices=renumbered)
        geom[curved] = lines
        rev[curved] = shapely.reverse(lines)
    return _Pieces([], flat[start], length, geom, rev)


@dataclass
class _Prepared:
    """What the graph and the table of the same elements are both built from."""

    ids: IntArray
    lat: FloatArray
    lon: FloatArray
    paths: list[dict[str, Any]]
    shapes: _Pieces
    last: IntArray
    ends: IntArray


def _prepare(el: RoadElements, filename: str) -> _Prepared:
    """Ways cut at their junctions, with lengths and shapes (:func:`graph_from_elements`)."""
    ids, lat, lon = _node_index(el, filename)
    # pieces counted before they are made, and before networkx holds them (~1.7 kB an edge)
    paths, nodes_of = _split_at_junctions(list(_paths(el, set(ids.tolist()))), ids, filename)
    last = np.array([n[-1] for n in nodes_of], dtype=np.int64)
    return _Prepared(ids, lat, lon, paths, _piece_shapes(nodes_of, lat, lon), last, _ends(nodes_of))


def graph_from_elements(
    el: RoadElements, filename: str, prepared: _Prepared | None = None
) -> nx.MultiDiGraph:
    """The road graph of ``el``: osmnx's one-way rules, ways cut only at junctions.

    Node ``x``/``y`` in EPSG:4326; an edge per stretch of way between two
    junctions, with its ``length`` in metres and, where the way bends, its
    ``geometry`` (lon/lat, in the edge's direction), as osmnx's simplification
    gives them but built without a node per shape point (osmnx needs ~3.5 kB and
    0.13 ms per node for that).  Nodes missing from the file split their way.
    The pieces of ``prepared`` become the graph's edge attributes (not reusable after).
    """
    import networkx as nx
    import osmnx as ox

    # osmnx's one-way and reversed-way rules, the ones graph_from_xml applies
    from osmnx.graph import _add_paths

    p = prepared or _prepare(el, filename)
    ids, lat, lon, paths, shapes = p.ids, p.lat, p.lon, p.paths, p.shapes
    graph = nx.MultiDiGraph(created_with=f"OSMnx {ox.__version__}", crs=ox.settings.default_crs)
    graph.add_nodes_from(
        (int(ids[i]), {"y": float(lat[i]), "x": float(lon[i]), **el.node_tags.get(int(ids[i]), {})})
        for i in p.ends
    )
    for k, path in enumerate(paths):  # the pieces become the edges' attributes
        path["_piece"] = k
    _add_paths(graph, paths, bidirectional=False)
    first = ids[shapes.first] if len(paths) else np.empty(0, np.int64)
    for u, v, data in graph.edges(data=True):
        k = data.pop("_piece")
        data["length"] = float(shapes.length[k])
        # a piece's geometry runs from its first node; a closed loop's twin runs back
        forward = u == first[k] and not (u == v and data["reversed"])
        line = shapes.geom[k] if forward else shapes.geom_reversed[k]
        if line is not None:
            data["geometry"] = line
    return graph


# the values of ``oneway`` osmnx's _add_paths reads as one-way, and as one-way against the way
_ONEWAY_VALUES = {"yes", "true", "1", "-1", "reverse", "T", "F"}
_REVERSED_VALUES = {"-1", "reverse", "T"}


def table_from_elements(
    el: RoadElements, filename: str, prepared: _Prepared | None = None
) -> RoadTable:
    """The arrays of the graph :func:`graph_from_elements` builds, without networkx.

    The same nodes, edges (in ``graph.edges`` order: by node, then by the first
    edge added to each neighbour, then by key), lengths, geometries and
    ``(highway, maxspeed)`` codes; tested against the graph on the sample files.
    """
    import shapely
    from osmnx.graph import _is_path_one_way, _is_path_reversed

    p = prepared or _prepare(el, filename)
    n_p = len(p.paths)
    one = np.array([_is_path_one_way(q, False, _ONEWAY_VALUES) for q in p.paths], dtype=bool)
    rev = one & np.array([_is_path_reversed(q, _REVERSED_VALUES) for q in p.paths], dtype=bool)
    first = p.shapes.first if n_p else np.empty(0, np.int64)
    two = np.flatnonzero(~one)
    # osmnx adds each piece's edge (turned round for oneway=-1), then its twin if two-way
    piece = np.concatenate([np.arange(n_p), two])
    u = np.concatenate([np.where(rev, p.last, first), p.last[two]])
    v = np.concatenate([np.where(rev, first, p.last), first[two]])
    twin = np.concatenate([np.zeros(n_p, dtype=bool), np.ones(len(two), dtype=bool)])
    seq = np.concatenate([2 * np.arange(n_p), 2 * two + 1])  # order added to the graph
    pos = np.full(len(p.ids), -1, dtype=np.int64)
    pos[p.ends] = np.arange(len(p.ends))
    u, v = pos[u], pos[v]
    order = _networkx_edge_order(u, v, seq, len(p.ends))
    piece, u, v, twin = piece[order], u[order], v[order], twin[order]
    forward = (u == pos[first[piece]]) & ~((u == v) & twin)
    geom = np.where(forward, p.shapes.geom[piece], p.shapes.geom_reversed[piece])
    codes, pairs = tag_codes(
        [q.get("highway") for q in p.paths], [q.get("maxspeed") for q in p.paths]
    )
    return RoadTable(
        node_ids=p.ids[p.ends].tolist(),
        x=p.lon[p.ends],
        y=p.lat[p.ends],
        crs=_default_crs(),
        u=u,
        v=v,
        length=p.shapes.length[piece].astype(float),
        tag=codes[piece],
        tags=pairs,
        geom=geom.astype(object),
        has_geom=~shapely.is_missing(geom),
        directed=True,
    )


def _networkx_edge_order(u: IntArray, v: IntArray, seq: IntArray, n_nodes: int) -> IntArray:
    """The order in which a MultiDiGraph lists edges added in ``seq`` order.

    By node (nodes were added first), then by neighbour in the order its first
    edge from the node was added, then by key (the order added).
    """
    pair = u * np.int64(max(n_nodes, 1)) + v
    by_pair = np.lexsort((seq, pair))
    start = np.ones(len(pair), dtype=bool)
    start[1:] = pair[by_pair][1:] != pair[by_pair][:-1]
    first_seq = np.empty(len(pair), dtype=np.int64)
    first_seq[by_pair] = seq[by_pair][np.flatnonzero(start)[np.cumsum(start) - 1]]
    return np.lexsort((seq, first_seq, u))


def _default_crs() -> str:
    import osmnx as ox

    return str(ox.settings.default_crs)


def roads_from_elements(el: RoadElements, filename: str) -> tuple[nx.MultiDiGraph, RoadTable]:
    """The graph of ``el`` and its arrays: :func:`graph_from_elements`, :func:`table_from_elements`.

    The table first: the graph takes the pieces over.
    """
    prepared = _prepare(el, filename)
    table = table_from_elements(el, filename, prepared)
    return graph_from_elements(el, filename, prepared), table


def _ends(nodes_of: list[IntArray]) -> IntArray:
    """The node indices that end a piece (the graph's nodes)."""
    if not nodes_of:
        return np.empty(0, np.int64)
    return np.unique(np.array([n[i] for n in nodes_of for i in (0, -1)], dtype=np.int64))


# --------------------------------------------------------------------------- GraphML


class _GraphmlScan(XmlScan):
    """Counts nodes, edges and elements of a GraphML file and notes its attribute keys."""

    roots = ("graphml",)

    def __init__(self, filename: str) -> None:
        super().__init__(filename)
        self.keys: set[tuple[str, str]] = set()
        self.n_items = 0
        self.n_elements = 0

    def start(self, name: str, attrs: AttributesImpl) -> None:
        self.n_elements += 1
        if self.n_elements > settings.roads_max_elements:
            raise too_many_elements(self.filename, settings.roads_max_elements)
        if name in ("node", "edge"):
            self.n_items += 1
            if self.n_items > settings.roads_max_graphml_items:
                limit = settings.roads_max_graphml_items
                raise UploadError(
                    f"{self.filename} has more than {limit:,} nodes and edges",
                    code="network.too_many_graph_items",
                    params={"filename": self.filename, "limit": limit},
                )
        elif name == "key":
            self.keys.add((attrs.get("for", ""), attrs.get("attr.name", "")))


def check_graphml(path: Path, filename: str) -> None:
    """Refuse a GraphML file that is unsafe, too large or not written by OSMnx.

    A defused streaming scan (:func:`~gridplan.inputs.xmlsafe.scan_xml`) bounds
    nodes plus edges by ``settings.roads_max_graphml_items``; an OSMnx graph
    declares node keys ``x`` and ``y`` and the edge key ``length``
    (code ``network.not_osmnx_graphml`` otherwise).
    """
    scan = scan_xml(path, _GraphmlScan(filename))
    if not {("node", "x"), ("node", "y"), ("edge", "length")} <= scan.keys:
        raise UploadError(
            f"{filename} is not a road network saved by OSMnx (no node x/y or edge length)",
            code="network.not_osmnx_graphml",
            params={"filename": filename},
        )
