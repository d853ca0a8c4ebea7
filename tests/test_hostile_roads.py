"""Hostile road files and OSM extracts (issue 9): refused before any work, with a coded message.

Every file here is generated small; the limits are lowered with ``monkeypatch`` so
that a bound is reached without a big file.  Entities and external references are
proven neither expanded nor followed: a local listener sees no connection and an
audit hook sees no open of the canary file.
"""

from __future__ import annotations

import bz2
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from gridplan import settings
from gridplan.errors import InputError, UploadError
from gridplan.facilities.osm import facilities_from_osm
from gridplan.i18n import error_text
from gridplan.inputs import xmlsafe
from gridplan.travel.roads import load_roads
from tests.hostile.witnesses import Listener

DATA = Path(__file__).resolve().parent / "data"
FIXTURE = DATA / "roads_sample.osm"
HEALTH = DATA / "osm_health_sample.osm"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE osm [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<osm version="0.6"><node id="1" lat="38.0" lon="114.5"><tag k="name" v="&lol9;"/></node></osm>
"""


def _zh(exc: BaseException) -> str:
    text = error_text(exc, "zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
    assert "{" not in text and "{" not in error_text(exc, "en"), text
    return text


def _osm(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">{body}</osm>\n'


def _street(n_nodes: int, way_id: int = 1, first: int = 1) -> str:
    """``n_nodes`` nodes on a straight residential street."""
    nodes = "".join(
        f'<node id="{first + i}" lat="38.0" lon="{114.5 + i * 0.001:.4f}"/>' for i in range(n_nodes)
    )
    refs = "".join(f'<nd ref="{first + i}"/>' for i in range(n_nodes))
    return f'{nodes}<way id="{way_id}">{refs}<tag k="highway" v="residential"/></way>'


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A local TCP listener (tests/hostile/witnesses.py): the test asserts nobody connected."""
    server = Listener()
    yield server
    server.close()


class _Watch:
    """Audit events of the interpreter (opens, connections) while a file is read."""

    events: ClassVar[list[tuple[str, str]]] = []
    on = False

    @classmethod
    def hook(cls, event: str, args: tuple[object, ...]) -> None:
        if cls.on and event in ("open", "socket.connect", "urllib.Request"):
            cls.events.append((event, repr(args)))


sys.addaudithook(_Watch.hook)  # audit hooks cannot be removed: this one is off outside _watch


@pytest.fixture
def watch() -> Iterator[type[_Watch]]:
    _Watch.events = []
    _Watch.on = True
    yield _Watch
    _Watch.on = False


# --------------------------------------------------------------------------- entities


@pytest.mark.parametrize("name", ["laughs.osm", "laughs.graphml"])
def test_billion_laughs_refused_without_expansion(tmp_path, name):
    p = tmp_path / name
    text = BILLION_LAUGHS
    if name.endswith(".graphml"):
        text = text.replace("DOCTYPE osm", "DOCTYPE graphml").replace("osm", "graphml")
    p.write_text(text, encoding="utf-8")
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "xml.doctype"
    assert "DOCTYPE" in _zh(e.value) and name in _zh(e.value)


def test_quadratic_blowup_refused(tmp_path):
    big = "x" * 50_000
    refs = "&big;" * 2_000  # 100 MB once expanded
    p = tmp_path / "quadratic.osm"
    p.write_text(
        f'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY big "{big}">]>'
        f'<osm version="0.6"><node id="1" lat="38" lon="114"><tag k="name" v="{refs}"/>'
        "</node></osm>",
        encoding="utf-8",
    )
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "xml.doctype"


@pytest.mark.parametrize("name", ["external.osm", "external.graphml", "external.xml"])
def test_external_entity_to_a_local_listener_never_connects(tmp_path, listener, watch, name):
    root = "graphml" if name.endswith(".graphml") else "osm"
    p = tmp_path / name
    p.write_text(
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY ext SYSTEM "{listener.base}/x">]>'
        f"<{root}>&ext;</{root}>",
        encoding="utf-8",
    )
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "xml.doctype"
    listener.close()  # counts a connection made at the very end too
    assert listener.hits == []
    assert not [ev for ev in watch.events if ev[0] != "open"]


def test_external_entity_to_a_canary_file_is_not_read(tmp_path, watch):
    canary = tmp_path / "canary.txt"
    secret = "CANARY-5c1e7d"
    canary.write_text(secret, encoding="utf-8")
    p = tmp_path / "passwd.osm"
    p.write_text(
        f'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY s SYSTEM "file://{canary}">]>'
        f'<osm version="0.6"><node id="1" lat="38" lon="114"><tag k="name" v="&s;"/></node></osm>',
        encoding="utf-8",
    )
    watch.events.clear()  # from here on, only the readers' own opens
    for read in (load_roads, lambda path: facilities_from_osm(None, path=path)):
        with pytest.raises(UploadError) as e:
            read(p)
        assert e.value.code == "xml.doctype"
        assert secret not in str(e.value) and secret not in repr(e.value.params)
    assert not [ev for ev in watch.events if "canary" in ev[1]]


def test_xinclude_and_foreign_roots_refused(tmp_path):
    p = tmp_path / "include.osm"
    p.write_text(
        _osm('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>'),
        encoding="utf-8",
    )
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "xml.xinclude" and "XInclude" in _zh(e.value)
    p = tmp_path / "page.osm"
    p.write_text('<?xml version="1.0"?><html><body>roads</body></html>', encoding="utf-8")
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "xml.root"
    assert "<html>" in _zh(e.value) and "<osm>" in _zh(e.value)


def test_malformed_xml_names_its_place(tmp_path):
    p = tmp_path / "cut.osm"
    p.write_text(_osm(_street(3))[:-30], encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.unreadable"
    assert "line" in e.value.params["detail"] and str(tmp_path) not in str(e.value)


def test_bad_element_and_bad_coordinates(tmp_path):
    p = tmp_path / "noid.osm"
    p.write_text(_osm('<node lat="38" lon="114"/>'), encoding="utf-8")
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.bad_element" and e.value.params["element"] == "node"
    p = tmp_path / "nan.osm"
    p.write_text(_osm(_street(3).replace('lat="38.0"', 'lat="nan"', 1)), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.bad_coordinates" and e.value.params["n"] == 1
    assert "1" in _zh(e.value)


# --------------------------------------------------------------------------- graphml


def test_graphml_with_doctype_and_foreign_graphml(tmp_path):
    import networkx as nx

    p = tmp_path / "dtd.graphml"
    p.write_text(
        '<?xml version="1.0"?><!DOCTYPE graphml SYSTEM "http://127.0.0.1:9/g.dtd">'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed"/>'
        "</graphml>",
        encoding="utf-8",
    )
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "xml.doctype"
    plain = tmp_path / "social.graphml"
    nx.write_graphml(nx.path_graph(3), plain)
    with pytest.raises(UploadError) as e:
        load_roads(plain)
    assert e.value.code == "network.not_osmnx_graphml" and "OSMnx" in _zh(e.value)


def test_graphml_over_the_item_limit(tmp_path, monkeypatch):
    import osmnx as ox

    path = tmp_path / "roads.graphml"
    graph = load_roads(FIXTURE)
    ox.save_graphml(graph, path)
    assert load_roads(path).number_of_edges() == graph.number_of_edges()
    limit = graph.number_of_nodes() + graph.number_of_edges() - 1
    monkeypatch.setattr(settings, "roads_max_graphml_items", limit)
    with pytest.raises(UploadError) as e:
        load_roads(path)
    assert e.value.code == "network.too_many_graph_items"
    assert f"{limit:,}" in _zh(e.value)


# --------------------------------------------------------------------------- size and counts


def test_oversize_osm_refused_from_its_size(tmp_path, monkeypatch, watch):
    p = tmp_path / "big.osm"
    p.write_text(_osm(_street(50)), encoding="utf-8")
    monkeypatch.setattr(settings, "roads_max_file_mb", 0.001)
    watch.events.clear()
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.too_large" and e.value.params["limit_mb"] == 0.001
    assert "0.001 MB" in _zh(e.value)
    assert not [ev for ev in watch.events if "big.osm" in ev[1]]  # refused from stat alone


def test_too_many_road_nodes_and_elements(tmp_path, monkeypatch):
    p = tmp_path / "many.osm"
    p.write_text(_osm(_street(40)), encoding="utf-8")
    monkeypatch.setattr(settings, "roads_max_road_nodes", 39)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.too_many_road_nodes" and "39" in _zh(e.value)
    monkeypatch.setattr(settings, "roads_max_road_nodes", 40)
    assert load_roads(p).number_of_edges() == 2  # simplified to one two-way street
    monkeypatch.setattr(settings, "roads_max_elements", 60)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.too_many_elements" and "60" in _zh(e.value)


def test_clipped_extract_splits_ways_at_missing_nodes(tmp_path):
    body = _street(5).replace('<node id="3" lat="38.0" lon="114.5020"/>', "")
    p = tmp_path / "clipped.osm"
    p.write_text(_osm(body), encoding="utf-8")
    graph = load_roads(p)
    assert set(graph.nodes) == {1, 2, 4, 5}
    assert set(graph.edges(keys=False)) == {(1, 2), (2, 1), (4, 5), (5, 4)}


# --------------------------------------------------------------------------- bzip2


def test_bz2_bomb_stops_at_the_budget(tmp_path, monkeypatch):
    p = tmp_path / "bomb.osm.bz2"
    p.write_bytes(bz2.compress(b"<osm>" + b" " * (8 * 1024 * 1024) + b"</osm>"))
    assert p.stat().st_size < 1024
    monkeypatch.setattr(settings, "roads_max_decompressed_mb", 2.0)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "upload.bz2_too_large" and "2 MB" in _zh(e.value)
    monkeypatch.setattr(settings, "roads_max_decompressed_mb", 100.0)
    monkeypatch.setattr(xmlsafe, "_RATIO_FLOOR_BYTES", 1024 * 1024)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "upload.bz2_ratio" and "100" in _zh(e.value)


def test_bz2_extract_loads_and_broken_bz2_refused(tmp_path):
    p = tmp_path / "roads.osm.bz2"
    p.write_bytes(bz2.compress(FIXTURE.read_bytes()))
    assert load_roads(p).number_of_edges() == load_roads(FIXTURE).number_of_edges()
    cut = tmp_path / "cut.osm.bz2"
    cut.write_bytes(p.read_bytes()[:200])
    with pytest.raises(UploadError) as e:
        load_roads(cut)
    assert e.value.code == "upload.bz2_corrupt" and "bzip2" in _zh(e.value)


# --------------------------------------------------------------------------- PBF


def _write_pbf(path: Path, n_nodes: int) -> None:
    osmium = pytest.importorskip("osmium")
    with osmium.SimpleWriter(str(path)) as writer:
        for i in range(n_nodes):
            writer.add_node(osmium.osm.mutable.Node(id=i + 1, location=(114.5 + i * 1e-4, 38.0)))
        writer.add_way(
            osmium.osm.mutable.Way(
                id=1, nodes=list(range(1, n_nodes + 1)), tags={"highway": "residential"}
            )
        )


def test_pbf_with_too_many_road_nodes(tmp_path, monkeypatch):
    p = tmp_path / "lattice.osm.pbf"
    _write_pbf(p, 2_000)
    monkeypatch.setattr(settings, "roads_max_road_nodes", 1_999)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.too_many_road_nodes" and "1,999" in _zh(e.value)
    monkeypatch.setattr(settings, "roads_max_road_nodes", 2_000)
    assert load_roads(p).number_of_nodes() == 2


def test_pbf_inflating_past_the_budget_or_ratio(tmp_path, monkeypatch):
    from gridplan.travel import osmroads

    p = tmp_path / "dense.osm.pbf"
    _write_pbf(p, 20_000)
    monkeypatch.setattr(osmroads, "_PBF_RATIO_FLOOR", 0)
    monkeypatch.setattr(settings, "roads_max_ratio", 1.0)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.pbf_ratio"
    monkeypatch.setattr(settings, "roads_max_ratio", 100.0)
    monkeypatch.setattr(settings, "roads_max_decompressed_mb", 0.01)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.pbf_too_large" and "0.01 MB" in _zh(e.value)


@pytest.mark.parametrize("content", [b"", b"<osm/>", bytes(range(256)) * 8])
def test_pbf_that_is_not_pbf(tmp_path, content):
    pytest.importorskip("osmium")
    p = tmp_path / "fake.osm.pbf"
    p.write_bytes(content + b"\x00\x00\x00\x05junk" if content else b"\x00\x00\x00\x0dOSMHeader")
    with pytest.raises(InputError) as e:
        load_roads(p)
    assert e.value.code == "network.unreadable" and "PBF" in e.value.params["detail"]


# --------------------------------------------------------------------------- facilities


def test_facility_extract_goes_through_the_same_checks(tmp_path, monkeypatch):
    p = tmp_path / "laughs.osm"
    p.write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(UploadError) as e:
        facilities_from_osm(None, path=p)
    assert e.value.code == "xml.doctype"
    n_ok = len(facilities_from_osm(None, path=HEALTH))
    assert n_ok > 0
    monkeypatch.setattr(settings, "osm_max_facility_elements", 10)
    with pytest.raises(UploadError) as e:
        facilities_from_osm(None, path=HEALTH)
    assert e.value.code == "osm.too_many_elements" and "10" in _zh(e.value)
    monkeypatch.setattr(settings, "roads_max_file_mb", 0.0001)
    with pytest.raises(UploadError) as e:
        facilities_from_osm(None, path=HEALTH)
    assert e.value.code == "osm.too_large"


def test_too_many_road_stretches_refused_before_the_graph(tmp_path, monkeypatch):
    """A lattice where every node is a junction: its stretches are counted before networkx."""
    from tests.hostile.corpus import _osm_lattice

    p = tmp_path / "lattice.osm"
    p.write_bytes(_osm_lattice(6, crossing=True))  # 2 * 6 * 5 = 60 stretches
    monkeypatch.setattr(settings, "roads_max_road_edges", 59)
    with pytest.raises(UploadError) as e:
        load_roads(p)
    assert e.value.code == "network.too_many_road_edges"
    assert "60" in _zh(e.value) and "59" in _zh(e.value)
    monkeypatch.setattr(settings, "roads_max_road_edges", 60)
    assert load_roads(p).number_of_edges() == 120  # each stretch both ways
