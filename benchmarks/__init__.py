"""Benchmarks behind the README performance tables.

Run them from the project root as modules: ``.venv/bin/python -m benchmarks.bench_grids``.
"""
