"""A corpus of hostile and careless uploads, generated (small on disk, nothing committed).

Each :class:`Case` is one file, the uploaders and CLI options it is tried through, and the
outcome GridPlan must give: ``refused`` (exit 2 / a message, the previous data kept), ``loaded``
(a careless but usable file, read correctly) or ``confirm`` (implausible figures: refused until the
planner confirms them, ``--accept-warnings`` on the CLI).

Files that would reach outside the upload point at ``url`` (a local listener the tests watch) and
at ``canary`` (a path outside the upload the tests prove nobody opens).

    python -m tests.hostile.corpus OUT_DIR [--url http://127.0.0.1:9] [--canary /etc/passwd]

writes the corpus into ``OUT_DIR`` and prints one line per file.
"""

from __future__ import annotations

import argparse
import bz2
import io
import json
import struct
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Shijiazhuang's county-level codes and 2020 census populations (data/geo/census_2020_county.csv).
SJZ = {
    "130102": 1059572, "130104": 979646, "130105": 802057, "130107": 77015, "130108": 771255,
    "130109": 741068, "130110": 588279, "130111": 378689, "130121": 250989, "130123": 549321,
    "130125": 376627, "130126": 309121, "130127": 178368, "130128": 215806, "130129": 242549,
    "130130": 451377, "130131": 423333, "130132": 392710, "130133": 505366, "130181": 594628,
    "130183": 507959, "130184": 478529,
}  # fmt: skip

#: A box inside Shijiazhuang's urban area (lon, lat): rasters and points are placed here.
SJZ_BOX = (114.40, 37.95, 114.60, 38.10)

#: Upload channels: the CLI option (or dashboard uploader) a file goes through.
CHANNELS = (
    "township", "population_file", "population", "weights", "facilities", "candidates",
    "hospitals", "roads", "landcover", "dem", "exclude", "osm_facilities", "plan_file",
)  # fmt: skip

RASTERS = ("population", "weights", "landcover", "dem")
VECTORS = ("township", "exclude")
POINT_TABLES = ("facilities", "candidates", "hospitals")
TABLES = ("population_file", *POINT_TABLES)
XML_ROADS = ("roads", "osm_facilities")
#: plan files read back (``scenario save --from-plan``, the 方案管理 page's import)
PLAN_FILES = ("plan_file",)


@dataclass(frozen=True)
class Case:
    """One hostile file and what GridPlan must do with it."""

    name: str
    kind: str  # ssrf, bomb, crash, wrong_data, format, injection, markup, careless
    channels: tuple[str, ...]
    expect: str  # refused, loaded, confirm
    what: str
    make: Callable[[Path, str, str], bytes]
    #: the name the planner's browser sends, when it cannot be a file name on disk
    upload_name: str | None = None


# --- raster helpers ------------------------------------------------------------------------


def _tiff(
    array: np.ndarray,
    *,
    nodata: float | None = None,
    crs: str | None = "EPSG:4326",
    box: tuple[float, float, float, float] = SJZ_BOX,
    **creation: object,
) -> bytes:
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.transform import from_bounds

    height, width = array.shape
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": 1,
        "dtype": array.dtype.name, "transform": from_bounds(*box, width, height),
        "nodata": nodata, **creation,
    }  # fmt: skip
    if crs is not None:
        profile["crs"] = rasterio.crs.CRS.from_string(crs)
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(array, 1)
        return bytes(mem.read())


def _deflate_bomb_tiff(side: int, tile: int = 512) -> bytes:
    """A ``side``² uint8 GeoTIFF whose tiles all point at ONE deflated tile: kB that decode to GB.

    Written by hand (little-endian classic TIFF) because GDAL would store every tile.
    """
    block = zlib.compress(bytes(tile * tile), 9)
    across = -(-side // tile)
    n_tiles = across * across
    scale = (2.0 / side, 1.4 / side, 0.0)
    tie = (0.0, 0.0, 0.0, 113.5, 38.8, 0.0)
    geokeys = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)
    # (tag, type, values): 3 SHORT, 4 LONG, 12 DOUBLE
    tags = [
        (256, 4, (side,)), (257, 4, (side,)), (258, 3, (8,)), (259, 3, (8,)),
        (262, 3, (1,)), (277, 3, (1,)), (284, 3, (1,)), (322, 3, (tile,)), (323, 3, (tile,)),
        (324, 4, None), (325, 4, None), (339, 3, (1,)),
        (33550, 12, scale), (33922, 12, tie), (34735, 3, geokeys),
    ]  # fmt: skip
    fmt = {3: "H", 4: "I", 12: "d"}
    ifd_size = 2 + 12 * len(tags) + 4
    data_at = 8 + ifd_size
    extra = bytearray()
    offsets_at = data_at
    extra += struct.pack(f"<{n_tiles}I", *([0] * n_tiles))  # patched below
    counts_at = data_at + len(extra)
    extra += struct.pack(f"<{n_tiles}I", *([len(block)] * n_tiles))
    block_at = data_at + len(extra)
    extra += block
    extra[0 : 4 * n_tiles] = struct.pack(f"<{n_tiles}I", *([block_at] * n_tiles))
    entries = bytearray(struct.pack("<H", len(tags)))
    for tag, typ, values in tags:
        if tag == 324:
            entries += struct.pack("<HHII", tag, typ, n_tiles, offsets_at)
            continue
        if tag == 325:
            entries += struct.pack("<HHII", tag, typ, n_tiles, counts_at)
            continue
        assert values is not None
        packed = struct.pack(f"<{len(values)}{fmt[typ]}", *values)
        if len(packed) <= 4:
            entries += struct.pack("<HHI", tag, typ, len(values)) + packed.ljust(4, b"\0")
        else:
            entries += struct.pack("<HHII", tag, typ, len(values), data_at + len(extra))
            extra += packed
    entries += struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8) + bytes(entries) + bytes(extra)


def _huge_header_tiff() -> bytes:
    """A GeoTIFF whose header claims 1,000,000 × 1,000,000 pixels (sparse: no tile stored)."""
    from rasterio.io import MemoryFile
    from rasterio.transform import from_bounds

    side = 200_000
    profile = {
        "driver": "GTiff", "width": side, "height": side, "count": 1, "dtype": "float32",
        "crs": "EPSG:4326", "transform": from_bounds(113.5, 37.4, 115.5, 38.8, side, side),
        "tiled": True, "blockxsize": 1024, "blockysize": 1024, "sparse_ok": True,
        "BIGTIFF": "YES",
    }  # fmt: skip
    with MemoryFile() as mem:
        with mem.open(**profile):
            pass
        return bytes(mem.read())


def _vrt_raster(source: str) -> bytes:
    return f"""<VRTDataset rasterXSize="100" rasterYSize="100">
  <SRS>EPSG:4326</SRS>
  <GeoTransform>114.4, 0.002, 0, 38.1, 0, -0.0015</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <SimpleSource>
      <SourceFilename relativeToVRT="0">{source}</SourceFilename>
      <SourceBand>1</SourceBand>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>
""".encode()


def _ogr_vrt(source: str, driver_hint: str = "") -> bytes:
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="townships">
    <SrcDataSource relativeToVRT="0">{driver_hint}{source}</SrcDataSource>
    <GeometryType>wkbPolygon</GeometryType>
  </OGRVRTLayer>
</OGRVRTDataSource>
""".encode()


def _zip(members: dict[str, bytes], **kw: object) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, **kw) as zf:  # type: ignore[arg-type]
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


# --- vector helpers ------------------------------------------------------------------------


def _square(lon: float, lat: float, d: float = 0.02) -> list[list[list[float]]]:
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def _plan_json(*, names: list[str] | None = None, prefecture: str = "130100") -> bytes:
    """A two-grid Shijiazhuang plan file (the plan JSON GridPlan writes), grid names given."""
    first, second = names or ["甲网格", "乙网格"]
    grid = {"lead_hospital": "", "members": [], "kind": "custom", "note": ""}
    plan = {
        "id": "hostile", "name": {"zh": first, "en": first}, "prefecture": prefecture,
        "seed": {}, "seed_quote": "", "notes": [],
        "grids": [
            {**grid, "grid_id": "a", "name": first, "units": ["130102", "130104", "130105"]},
            {**grid, "grid_id": "b", "name": second, "units": ["130108"]},
        ],
        "networks": [],
    }  # fmt: skip
    return json.dumps(plan, ensure_ascii=False).encode("utf-8")


def _geojson(names: list[str], *, crs: dict | None = None, swap: bool = False) -> bytes:
    feats = []
    for i, name in enumerate(names):
        lon, lat = 114.45 + 0.03 * i, 38.0
        ring = _square(lat, lon) if swap else _square(lon, lat)
        feats.append(
            {
                "type": "Feature",
                "properties": {"name": name, "code": f"13010{i % 10}001000"},
                "geometry": {"type": "Polygon", "coordinates": ring},
            }
        )
    doc: dict = {"type": "FeatureCollection", "features": feats}
    if crs is not None:
        doc["crs"] = crs
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


# --- table helpers -------------------------------------------------------------------------


def _csv(header: str, rows: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def _population_rows(scale: float = 1.0, **override: str) -> list[str]:
    rows = []
    for code, pop in SJZ.items():
        value = override.get(code, f"{pop * scale:.0f}")
        rows.append(f"{code},{value}")
    return rows


def _facility_rows(n: int, name: Callable[[int], str] | None = None) -> list[str]:
    rng = np.random.default_rng(9)
    lons = rng.uniform(SJZ_BOX[0], SJZ_BOX[2], n)
    lats = rng.uniform(SJZ_BOX[1], SJZ_BOX[3], n)
    label = name or (lambda i: f"社区卫生服务站{i}")
    return [
        f"{label(i)},社区卫生服务站,{lo:.6f},{la:.6f}"
        for i, (lo, la) in enumerate(zip(lons, lats, strict=True))
    ]


def _xlsx(rows: list[list[object]], *, sheet_xml: bytes | None = None) -> bytes:
    """An .xlsx written by openpyxl; ``sheet_xml`` replaces the first sheet's XML."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    if sheet_xml is None:
        return buf.getvalue()
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            dst.writestr(info.filename, data)
    return out.getvalue()


def _zip_with_inflating_member(base: bytes, name: str, inflated_mb: int) -> bytes:
    """``base`` (a zip) plus a member ``name`` of ``inflated_mb`` MB of spaces (~1 kB per MB)."""
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
        with dst.open(name, "w", force_zip64=True) as member:
            if name.endswith(".xml"):
                member.write(
                    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                    b'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
                    b'<c r="A1" t="inlineStr"><is><t>'
                )
            chunk = b" " * (1 << 20)
            for _ in range(inflated_mb):
                member.write(chunk)
            if name.endswith(".xml"):
                member.write(b"</t></is></c></row></sheetData></worksheet>")
    return out.getvalue()


# --- XML helpers ---------------------------------------------------------------------------

_OSM_BODY = (
    '<node id="1" lat="38.00" lon="114.50"><tag k="amenity" v="clinic"/>'
    '<tag k="name" v="&x;"/></node>'
    '<node id="2" lat="38.01" lon="114.51"/>'
    '<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>'
)


def _osm_with_doctype(entities: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE osm [\n{entities}\n]>\n'
        f'<osm version="0.6">{_OSM_BODY}</osm>\n'
    ).encode()


def _billion_laughs() -> str:
    lines = ['<!ENTITY l0 "lol">']
    lines += [f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    lines.append('<!ENTITY x "&l9;">')
    return "\n".join(lines)


def _quadratic_blowup() -> str:
    return f'<!ENTITY x "{"A" * 200_000}">'


def _graphml_with_doctype(entities: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE graphml [\n{entities}\n]>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="d0" for="graph" attr.name="crs" attr.type="string"/>'
        '<graph edgedefault="directed"><data key="d0">&x;</data>'
        '<node id="1"/><node id="2"/><edge source="1" target="2"/></graph></graphml>\n'
    ).encode()


def _osm_lattice(n_side: int, *, crossing: bool = False) -> bytes:
    """OSM XML of an ``n_side``² street lattice (nodes 0.001° apart): rows of streets, and
    with ``crossing`` columns too, so that every node is a junction."""
    out = io.StringIO()
    out.write('<?xml version="1.0"?>\n<osm version="0.6">\n')
    for i in range(n_side):
        for j in range(n_side):
            out.write(f'<node id="{i * n_side + j + 1}" lat="{38 + i * 1e-3:.4f}" '
                      f'lon="{114.4 + j * 1e-3:.4f}"/>\n')  # fmt: skip
    wid = 10**9
    for i in range(n_side):
        wid += 1
        refs = "".join(f'<nd ref="{i * n_side + j + 1}"/>' for j in range(n_side))
        out.write(f'<way id="{wid}">{refs}<tag k="highway" v="residential"/></way>\n')
    for j in range(n_side if crossing else 0):
        wid += 1
        refs = "".join(f'<nd ref="{i * n_side + j + 1}"/>' for i in range(n_side))
        out.write(f'<way id="{wid}">{refs}<tag k="highway" v="residential"/></way>\n')
    out.write("</osm>\n")
    return out.getvalue().encode()


def _bz2_bomb(inflated_mb: int) -> bytes:
    """A .osm.bz2 of an OSM header and ``inflated_mb`` MB of blank lines (~kB compressed).

    bzip2 readers decode concatenated streams, so one 64 MB stream is repeated.
    """
    head = bz2.compress(b'<?xml version="1.0"?>\n<osm version="0.6">\n')
    blank = bz2.compress(b"\n" * (64 << 20), 9)
    return head + blank * max(1, inflated_mb // 64) + bz2.compress(b"</osm>\n")


def _pbf_lattice(n_side: int) -> bytes:
    """An .osm.pbf street lattice of ``n_side``² nodes written by pyosmium: rows and
    columns of streets, every node a junction."""
    import tempfile

    import osmium

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lattice.osm.pbf"
        with osmium.SimpleWriter(str(path)) as writer:
            for i in range(n_side):
                for j in range(n_side):
                    writer.add_node(
                        osmium.osm.mutable.Node(
                            id=i * n_side + j + 1, location=(114.4 + j * 1e-4, 38 + i * 1e-4)
                        )
                    )
            for i in range(n_side):
                nodes = [i * n_side + j + 1 for j in range(n_side)]
                writer.add_way(
                    osmium.osm.mutable.Way(id=i + 1, nodes=nodes, tags={"highway": "residential"})
                )
            for j in range(n_side):
                nodes = [i * n_side + j + 1 for i in range(n_side)]
                writer.add_way(
                    osmium.osm.mutable.Way(
                        id=n_side + j + 1, nodes=nodes, tags={"highway": "residential"}
                    )
                )
        return path.read_bytes()


def _json_depth_bomb(depth: int) -> bytes:
    return b'{"type":"FeatureCollection","features":' + b"[" * depth + b"]" * depth + b"}"


def _shapefile_zip_without_shx() -> bytes:
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame(
        {"name": ["长安区测试"]}, geometry=[shapely.box(114.45, 38.0, 114.5, 38.05)], crs=4490
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.shp"
        gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK")
        members = {f"t{ext}": (Path(tmp) / f"t{ext}").read_bytes() for ext in (".shp", ".dbf")}
    return _zip(members)


def _zip_with_symlink() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("layer.shp")
        info.external_attr = (0o120777 << 16) | 0
        zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


# --- the corpus ----------------------------------------------------------------------------

LONG_NAME = "石家庄市" + "长安区社区卫生服务中心候选站点名单" * 6  # 106 characters, 318 bytes


def cases(full: bool = False) -> list[Case]:
    """Every file of the corpus with its channels and expected outcome.

    ``full`` gives the sizes of the issue (the benchmark); the default keeps CI quick: the PBF
    lattice has 360,000 instead of 4 M nodes, the crossing lattice 160,000 instead of 1 M, the
    long facility list 20,000 instead of 200,000 rows; the 146 MB ``.osm`` is written only at
    full size.
    """
    c: list[Case] = []
    pbf_side = 2000 if full else 600
    n_facilities = 200_000 if full else 20_000
    lattice_side = 1000 if full else 400

    def add(name, kind, channels, expect, what, make):
        c.append(Case(name, kind, tuple(channels), expect, what, make))

    # 1. server-side requests and server-file reads through GDAL/OGR/XML
    add(
        "vrt_url.tif",
        "ssrf",
        RASTERS,
        "refused",
        "VRT XML named .tif, source /vsicurl/ URL",
        lambda d, url, can: _vrt_raster(f"/vsicurl/{url}/pop.tif"),
    )
    add(
        "vrt_canary.tif",
        "ssrf",
        RASTERS,
        "refused",
        "VRT XML named .tif, source a server file",
        lambda d, url, can: _vrt_raster(can),
    )
    add(
        "ogr_vrt_url.geojson",
        "ssrf",
        (*VECTORS, *PLAN_FILES),
        "refused",
        "OGR VRT XML named .geojson, /vsicurl/",
        lambda d, url, can: _ogr_vrt(f"/vsicurl/{url}/t.geojson"),
    )
    add(
        "ogr_vrt_canary.zip",
        "ssrf",
        VECTORS,
        "refused",
        "zip with a .geojson that is an OGR VRT reading a server file",
        lambda d, url, can: _zip({"乡镇.geojson": _ogr_vrt(can, "CSV:")}),
    )
    add(
        "geojson_crs_link.geojson",
        "ssrf",
        VECTORS,
        "loaded",
        "GeoJSON with a linked CRS (href to a URL): the link is never fetched",
        lambda d, url, can: _geojson(
            ["长安测试甲", "长安测试乙"], crs={"type": "link", "properties": {"href": f"{url}/crs"}}
        ),
    )
    add(
        "osm_xxe_url.osm",
        "ssrf",
        XML_ROADS,
        "refused",
        "OSM XML with an external entity (URL)",
        lambda d, url, can: _osm_with_doctype(f'<!ENTITY x SYSTEM "{url}/e">'),
    )
    add(
        "osm_xxe_canary.osm",
        "ssrf",
        XML_ROADS,
        "refused",
        "OSM XML with an external entity (server file)",
        lambda d, url, can: _osm_with_doctype(f'<!ENTITY x SYSTEM "file://{can}">'),
    )
    add(
        "graphml_xxe.graphml",
        "ssrf",
        ("roads",),
        "refused",
        "GraphML with an external entity (URL)",
        lambda d, url, can: _graphml_with_doctype(f'<!ENTITY x SYSTEM "{url}/g">'),
    )
    add(
        "xlsx_xxe.xlsx",
        "ssrf",
        TABLES,
        "refused",
        "xlsx whose sheet XML declares an external entity",
        lambda d, url, can: _xlsx(
            [["name"]],
            sheet_xml=(
                f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "{url}/x">]>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row>'
                "</sheetData></worksheet>"
            ).encode(),
        ),
    )
    add(
        "gtiff_vsicurl_name.tif",
        "ssrf",
        RASTERS,
        "refused",
        "text file naming a /vsicurl/ URL (GDAL would open it as a path)",
        lambda d, url, can: f"/vsicurl/{url}/pop.tif".encode(),
    )

    # 2. bounded work
    add(
        "deflate_bomb.tif",
        "bomb",
        RASTERS,
        "refused",
        "31 kB-class deflate GeoTIFF decoding to 1.6 GB",
        lambda d, url, can: _deflate_bomb_tiff(40_000),
    )
    add(
        "huge_header.tif",
        "bomb",
        RASTERS,
        "refused",
        "GeoTIFF header claiming 4·10^10 pixels",
        lambda d, url, can: _huge_header_tiff(),
    )
    add(
        "bz2_bomb.osm.bz2",
        "bomb",
        ("roads",),
        "refused",
        "few-kB .osm.bz2 inflating to 2 GB",
        lambda d, url, can: _bz2_bomb(2048),
    )
    add(
        "billion_laughs.osm",
        "bomb",
        XML_ROADS,
        "refused",
        "XML entity expansion (billion laughs)",
        lambda d, url, can: _osm_with_doctype(_billion_laughs()),
    )
    add(
        "quadratic.osm",
        "bomb",
        XML_ROADS,
        "refused",
        "XML quadratic blow-up entity",
        lambda d, url, can: _osm_with_doctype(_quadratic_blowup()),
    )
    add(
        "billion_laughs.graphml",
        "bomb",
        ("roads",),
        "refused",
        "GraphML billion laughs",
        lambda d, url, can: _graphml_with_doctype(_billion_laughs()),
    )
    add(
        "pbf_lattice.osm.pbf",
        "bomb",
        ("roads",),
        "refused",
        f"PBF street lattice of {pbf_side**2:,} nodes in a few hundred kB",
        lambda d, url, can: _pbf_lattice(pbf_side),
    )
    add(
        "crossing_lattice.osm",
        "bomb",
        ("roads",),
        "refused",
        f"street lattice where every one of {lattice_side**2:,} nodes is a junction",
        lambda d, url, can: _osm_lattice(lattice_side, crossing=True),
    )
    if full:
        add(
            "big_lattice.osm",
            "bomb",
            ("roads",),
            "refused",
            "146 MB-class OSM XML street lattice: 2.6 M road nodes",
            lambda d, url, can: _osm_lattice(1620),
        )
    add(
        "xlsx_bomb.xlsx",
        "bomb",
        TABLES,
        "refused",
        "xlsx whose sheet inflates to 1 GB",
        lambda d, url, can: _zip_with_inflating_member(
            _xlsx([["name", "type", "lon", "lat"]]), "xl/worksheets/sheet1.xml", 1024
        ),
    )
    add(
        "xlsx_billion_laughs.xlsx",
        "bomb",
        TABLES,
        "refused",
        "xlsx sheet with billion laughs",
        lambda d, url, can: _xlsx(
            [["name"]],
            sheet_xml=(
                f'<?xml version="1.0"?><!DOCTYPE w [{_billion_laughs()}]>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row>'
                "</sheetData></worksheet>"
            ).encode(),
        ),
    )
    add(
        "zip_bomb.zip",
        "bomb",
        VECTORS,
        "refused",
        "zip whose .geojson inflates to 1 GB",
        lambda d, url, can: _zip_with_inflating_member(
            _zip({"readme.txt": b"x"}), "layer.geojson", 1024
        ),
    )
    add(
        "json_depth.geojson",
        "bomb",
        (*VECTORS, *PLAN_FILES),
        "refused",
        "GeoJSON nested 100,000 arrays deep",
        lambda d, url, can: _json_depth_bomb(100_000),
    )
    add(
        "csv_long_line.csv",
        "bomb",
        TABLES,
        "refused",
        "CSV of one 60 MB line",
        lambda d, url, can: b"name,type,lon,lat\n" + b"A" * (60 << 20) + b"\n",
    )

    add(
        "facilities_many.csv",
        "bomb",
        ("facilities", "candidates"),
        "loaded",
        f"{n_facilities:,} facilities (the duplicate check must stay fast)",
        lambda d, url, can: _csv("name,type,lon,lat", _facility_rows(n_facilities)),
    )

    # 3. crashes
    add(
        "pop_nomatch.csv",
        "crash",
        ("population_file", "population"),
        "refused",
        "population table matching no unit",
        lambda d, url, can: _csv("adcode,population", ["999901,100", "999902,200"]),
    )
    add(
        "all_nodata.tif",
        "crash",
        ("population", "weights"),
        "refused",
        "raster all nodata",
        lambda d, url, can: _tiff(np.full((50, 50), -9999.0, "float32"), nodata=-9999.0),
    )
    # a name of 318 bytes cannot exist on a Linux disk: only a browser upload carries it
    c.append(
        Case(
            "long_name.csv",
            "crash",
            POINT_TABLES,
            "loaded",
            "facility list uploaded under a 106-character Chinese file name",
            lambda d, url, can: _csv("name,type,lon,lat", _facility_rows(5)),
            upload_name=f"{LONG_NAME}.csv",
        )
    )
    c.append(
        Case(
            "long_name.tif",
            "crash",
            ("dem",),
            "loaded",
            "DEM uploaded under a 106-character Chinese file name",
            lambda d, url, can: _tiff((np.arange(2500, dtype="float32").reshape(50, 50) % 97) + 80),
            upload_name=f"{LONG_NAME}.tif",
        )
    )

    # 4. silent wrong data
    add(
        "pop_duplicate_codes.csv",
        "wrong_data",
        ("population_file", "population"),
        "refused",
        "two rows for 长安区 with different figures",
        lambda d, url, can: _csv("adcode,population", [*_population_rows(), "130102,304680"]),
    )
    add(
        "pop_1000x.csv",
        "wrong_data",
        ("population_file", "population"),
        "confirm",
        "every unit 1,000× its census figure",
        lambda d, url, can: _csv("adcode,population", _population_rows(1000.0)),
    )
    add(
        "pop_inf.csv",
        "wrong_data",
        ("population_file", "population"),
        "refused",
        "population inf and 1e400",
        lambda d, url, can: _csv(
            "adcode,population", _population_rows(**{"130102": "inf", "130104": "1e400"})
        ),
    )
    add(
        "pop_negative.csv",
        "wrong_data",
        ("population_file", "population"),
        "refused",
        "negative population",
        lambda d, url, can: _csv("adcode,population", _population_rows(**{"130105": "-5000"})),
    )
    add(
        "pop_text.csv",
        "wrong_data",
        ("population_file",),
        "refused",
        "population '约80万' (text)",
        lambda d, url, can: _csv("adcode,population", _population_rows(**{"130105": "约80万"})),
    )
    add(
        "raster_1e30.tif",
        "wrong_data",
        ("population",),
        "refused",
        "1e30 people per pixel",
        lambda d, url, can: _tiff(np.full((50, 50), 1e30, "float32")),
    )
    add(
        "raster_inf.tif",
        "wrong_data",
        ("population",),
        "refused",
        "raster of inf",
        lambda d, url, can: _tiff(np.full((50, 50), np.inf, "float32")),
    )
    add(
        "raster_negative.tif",
        "wrong_data",
        ("population",),
        "refused",
        "raster of -100",
        lambda d, url, can: _tiff(np.full((50, 50), -100.0, "float32")),
    )
    add(
        "points_1e30.csv",
        "wrong_data",
        ("population",),
        "refused",
        "settlement points 1e30 people",
        lambda d, url, can: _csv("lon,lat,population", ["114.5,38.0,1e30", "114.51,38.01,100"]),
    )
    add(
        "facilities_bad_coords.csv",
        "wrong_data",
        POINT_TABLES,
        "refused",
        "every row with lon/lat inf, 1e400, NaN or text",
        lambda d, url, can: _csv(
            "name,type,lon,lat",
            [
                "甲,卫生院,inf,38",
                "乙,卫生院,1e400,38",
                "丙,卫生院,NaN,38",
                "丁,卫生院,东经一百一十四度,38",
            ],
        ),
    )

    # 5./6. injection into exports, markup into messages
    add(
        "facilities_formula.csv",
        "injection",
        ("facilities",),
        "loaded",
        "names =HYPERLINK(…), +cmd, -2+3, @SUM: loaded, neutralised in exports",
        lambda d, url, can: _csv(
            "name,type,lon,lat",
            _facility_rows(
                4,
                lambda i: [
                    '=HYPERLINK("http://127.0.0.1:9/x","点击")',
                    "+cmd|'/c calc'!A0",
                    "-2+3",
                    "@SUM(A1)",
                ][i].replace(",", "，"),
            ),
        ),
    )
    add(
        "pop_markdown_header.csv",
        "markup",
        ("population_file",),
        "refused",
        "header with a Markdown image and link",
        lambda d, url, can: _csv(
            f"![x]({url}/img.png)[点我](http://evil.example),人口", ["130102,1"]
        ),
    )
    add(
        "township_html_names.geojson",
        "markup",
        ("township",),
        "loaded",
        "township names with <img onerror> and Markdown",
        lambda d, url, can: _geojson(['<img src=x onerror="alert(1)">', f"![x]({url}/i.png)"]),
    )

    add(
        "plan_html_names.json",
        "markup",
        PLAN_FILES,
        "loaded",
        "plan JSON whose grid names hold <img onerror> and Markdown links",
        lambda d, url, can: _plan_json(names=['<img src=x onerror="alert(1)">', f"[x]({url}/p)"]),
    )
    add(
        "plan_other_prefecture.json",
        "wrong_data",
        PLAN_FILES,
        "refused",
        "plan file naming a prefecture that does not exist (999900) over Shijiazhuang's units",
        lambda d, url, can: _plan_json(prefecture="999900"),
    )
    add(
        "plan_nan.json",
        "format",
        PLAN_FILES,
        "refused",
        "plan JSON with NaN and a 5,000-digit number",
        lambda d, url, can: _plan_json().replace(
            b'"notes": []', b'"notes": [NaN, 1' + b"0" * 5000 + b"]"
        ),
    )

    # careless: wrong formats and odd files
    add(
        "png_as.tif",
        "format",
        RASTERS,
        "refused",
        "PNG renamed .tif",
        lambda d, url, can: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    )
    add(
        "pdf_as.csv",
        "format",
        TABLES,
        "refused",
        "PDF renamed .csv",
        lambda d, url, can: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 200,
    )
    add("empty.csv", "format", TABLES, "refused", "empty file", lambda d, url, can: b"")
    add("empty.geojson", "format", VECTORS, "refused", "empty file", lambda d, url, can: b"")
    add("empty.tif", "format", RASTERS, "refused", "empty file", lambda d, url, can: b"")
    add("empty.osm", "format", XML_ROADS, "refused", "empty file", lambda d, url, can: b"")
    add(
        "truncated.zip",
        "format",
        VECTORS,
        "refused",
        "zip cut in half",
        lambda d, url, can: _shapefile_zip_without_shx()[:200],
    )
    add(
        "missing_shx.zip",
        "format",
        ("township",),
        "refused",
        "Shapefile zip without .shx",
        lambda d, url, can: _shapefile_zip_without_shx(),
    )
    add(
        "traversal.zip",
        "format",
        VECTORS,
        "refused",
        "zip member ../../evil.geojson",
        lambda d, url, can: _zip({"../../evil.geojson": _geojson(["x"])}),
    )
    add(
        "symlink.zip",
        "format",
        VECTORS,
        "refused",
        "zip member that is a symlink",
        lambda d, url, can: _zip_with_symlink(),
    )
    add(
        "nested.zip",
        "format",
        VECTORS,
        "refused",
        "zip inside a zip",
        lambda d, url, can: _zip({"inner.zip": _zip({"t.geojson": _geojson(["x"])})}),
    )
    add(
        "swapped_latlon.geojson",
        "format",
        VECTORS,
        "refused",
        "lat/lon swapped (outside China)",
        lambda d, url, can: _geojson(["甲", "乙"], swap=True),
    )
    add(
        "no_crs.tif",
        "format",
        RASTERS,
        "refused",
        "GeoTIFF without a CRS",
        lambda d, url, can: _tiff(np.ones((20, 20), "float32"), crs=None),
    )
    add(
        "ole2_as.xlsx",
        "format",
        TABLES,
        "refused",
        "legacy .xls (OLE2) named .xlsx",
        lambda d, url, can: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
    )
    add(
        "nul_bytes.csv",
        "format",
        TABLES,
        "refused",
        "CSV full of NUL bytes",
        lambda d, url, can: b"name,type,lon,lat\n" + b"\x00" * 4096,
    )
    add(
        "not_osm.osm",
        "format",
        XML_ROADS,
        "refused",
        "XML whose root is not <osm>",
        lambda d, url, can: b'<?xml version="1.0"?><html><body>roads</body></html>',
    )
    add(
        "not_pbf.osm.pbf",
        "format",
        ("roads",),
        "refused",
        "text named .osm.pbf",
        lambda d, url, can: b"this is not a PBF file\n" * 20,
    )
    add(
        "gbk.csv",
        "careless",
        TABLES[:1],
        "loaded",
        "GBK population table without BOM",
        lambda d, url, can: _csv("区县代码,常住人口", _population_rows(), encoding="gbk"),
    )
    add(
        "utf16.csv",
        "careless",
        ("facilities",),
        "loaded",
        "UTF-16 facility list (Excel 'Unicode text')",
        lambda d, url, can: (
            "\ufeff"
            + _csv(
                "name\ttype\tlon\tlat", [r.replace(",", "\t") for r in _facility_rows(3)]
            ).decode()
        ).encode("utf-16-le"),
    )
    return c


#: seconds each file took to generate (for the script's listing)
TIMES: dict[str, float] = {}


def build(
    folder: Path,
    url: str = "http://127.0.0.1:9",
    canary: str = "/etc/passwd",
    *,
    full: bool = False,
) -> list[tuple[Case, Path]]:
    """Write every file of the corpus into ``folder``; the cases with their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for case in cases(full):
        path = folder / case.name
        started = time.perf_counter()
        with warnings.catch_warnings():
            # rasterio's writer still multiplies affines with `*` (a pending deprecation)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            data = case.make(folder, url, canary)
        path.write_bytes(data)
        TIMES[case.name] = time.perf_counter() - started
        out.append((case, path))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--url", default="http://127.0.0.1:9")
    p.add_argument("--canary", default="/etc/passwd")
    p.add_argument("--full", action="store_true", help="the full sizes of the issue")
    args = p.parse_args(argv)
    for case, path in build(args.out, args.url, args.canary, full=args.full):
        size = path.stat().st_size
        print(
            f"{case.kind:10} {case.expect:8} {size:>10,} B {TIMES[case.name]:6.2f} s  "
            f"{case.name[:28]:28}  {case.what}"
        )


if __name__ == "__main__":
    main()


__all__ = ["CHANNELS", "Case", "build", "cases"]
