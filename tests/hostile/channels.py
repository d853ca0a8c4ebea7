"""The CLI arguments that put a file through each upload channel (no heavy imports: the
benchmark's parent process stays small, so its children's peak memory is their own)."""

from __future__ import annotations

_BASE = ["--preset", "shijiazhuang", "--cell-m", "1000"]
_OPT = ["optimize", *_BASE, "--k", "2", "--solver", "greedy", "--curve-k", "2", "--mode", "drive"]

#: The CLI arguments that put a file through each upload channel.
CLI = {
    "township": lambda f: ["grids", "--preset", "shijiazhuang", "--township-file", f],
    "population_file": lambda f: ["grids", "--preset", "shijiazhuang", "--population-file", f],
    "population": lambda f: ["coverage", *_BASE, "--population", f],
    "weights": lambda f: ["coverage", *_BASE, "--weights", f],
    "facilities": lambda f: ["coverage", *_BASE, "--facilities", f],
    "candidates": lambda f: [*_OPT, "--candidate-source", "list", "--candidates", f],
    "hospitals": lambda f: ["propose-grids", "--preset", "shijiazhuang", "--hospitals", f],
    "roads": lambda f: ["coverage", *_BASE, "--model", "network", "--roads", f],
    "landcover": lambda f: ["coverage", *_BASE, "--model", "raster", "--landcover", f],
    "dem": lambda f: ["coverage", *_BASE, "--model", "raster", "--dem", f],
    "exclude": lambda f: [*_OPT, "--exclude", f],
    # into the store named by GRIDPLAN_STORE (the tests' own): never beside the upload
    "plan_file": lambda f: ["scenario", "save", "--from-plan", f, "--name", "导入测试"],
}
