"""``gridplan batch``: the 15-minute coverage of many prefectures as Dask tasks.

The command's options (:func:`batch_options`) and what it runs (:func:`cmd_batch`);
``gridplan.cli`` registers them.  JSON on stdout as every command; the Dask
dashboard's link and, in a terminal, a progress bar on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from gridplan import settings, workflow
from gridplan.batch.files import RowWriter, batch_file_kind
from gridplan.batch.selection import select_prefectures
from gridplan.batch.tasks import BatchSettings
from gridplan.errors import InputError
from gridplan.i18n import t
from gridplan.travel.speeds import DEFAULT_DETOUR

#: Width of the progress bar in characters.
BAR_WIDTH = 30
#: The keys of a row in the JSON output (the file has more columns).
JSON_KEYS = (
    "name", "adcode", "province", "population", "not_assessed_population", "covered", "share",
    "mean_minutes", "seconds", "cpu_seconds", "cells", "population_source", "facilities_source",
    "error",
)  # fmt: skip
SITING_KEYS = ("siting_k", "siting_share_after", "siting_covered_after", "siting_status")


def batch_options(sp: argparse.ArgumentParser) -> None:
    """The options of ``gridplan batch``."""
    which = sp.add_mutually_exclusive_group(required=True)
    which.add_argument("--province", help="every prefecture of a province, e.g. 河北省")
    which.add_argument("--prefectures", help="names or adcodes, comma-separated")
    which.add_argument("--all", action="store_true", help="every prefecture of China")
    sp.add_argument("--minutes", type=float, default=workflow.default_minutes("primary"))
    sp.add_argument("--mode", choices=workflow.MODES, default="walk")
    sp.add_argument("--cell-m", type=float, default=settings.cell_m)
    sp.add_argument("--speed-kmh", type=float, default=None)
    sp.add_argument("--detour", type=float, default=DEFAULT_DETOUR)
    sp.add_argument(
        "--siting", type=int, default=None, metavar="K",
        help="also an MCLP study of K new primary-care sites per prefecture",
    )  # fmt: skip
    sp.add_argument(
        "--scheduler", help="tcp://HOST:PORT of a running Dask scheduler (used as it is); "
        "default: a local cluster on this machine",
    )  # fmt: skip
    sp.add_argument(
        "--workers", type=int, default=None,
        help="worker processes of the local cluster (default: one per core)",
    )  # fmt: skip
    sp.add_argument(
        "--min-workers", type=int, default=1,
        help="with --scheduler: wait (up to a minute) until this many workers have joined",
    )  # fmt: skip
    sp.add_argument(
        "-o", "--output", help="FILE.csv or FILE.gpkg: one row per prefecture, written as "
        "each finishes (GeoPackage: with the prefecture outlines)",
    )  # fmt: skip


class Progress:
    """A one-line progress bar on ``stream`` when it is a terminal; silent otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, row: dict[str, Any], done: int, total: int) -> None:
        if not self.live:
            return
        filled = BAR_WIDTH * done // max(total, 1)
        mark = "!" if row.get("error") else " "
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stream.write(f"\r[{bar}] {done}/{total}{mark}{row.get('name', '')[:12]:<12}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def _json_row(row: dict[str, Any], siting: bool) -> dict[str, Any]:
    keys = JSON_KEYS + (SITING_KEYS if siting else ())
    out = {k: row.get(k) for k in keys}
    if row.get("error"):  # the code and the text in --lang (the row also has both languages)
        out["error"] = {k: row["error"][k] for k in ("code", "message")}
    return out


def cmd_batch(args: argparse.Namespace) -> dict[str, Any]:
    """Run the batch of ``args`` and return its JSON (rows in the boundary layer's order)."""
    from gridplan.batch.runner import batch_client, run_batch

    if args.township_file or args.population_file:  # every command has them; a batch cannot
        raise InputError(
            "--township-file and --population-file are files of one prefecture: not for batch",
            code="batch.prefecture_files",
        )
    if args.output:
        batch_file_kind(args.output)  # a wrong name is said before any work
    names = [q for q in (args.prefectures or "").split(",") if q.strip()]
    prefs = select_prefectures(province=args.province, prefectures=names, everything=args.all)
    s = BatchSettings(
        minutes=args.minutes, mode=args.mode, cell_m=args.cell_m, speed_kmh=args.speed_kmh,
        detour=args.detour, siting_k=args.siting, lang=args.lang,
    )  # fmt: skip
    progress = Progress(sys.stderr)
    with batch_client(args.scheduler, args.workers, args.min_workers) as client:
        print(f"gridplan: {t('batch.dashboard', args.lang, link=client.dashboard_link)}",
              file=sys.stderr, flush=True)  # fmt: skip
        if args.output:
            with RowWriter(args.output, args.file_lang) as out:

                def on_row(row: dict[str, Any], done: int, total: int) -> None:
                    out.write(row)
                    progress(row, done, total)

                run = run_batch(client, prefs, s, on_row)
        else:
            run = run_batch(client, prefs, s, progress)
    return {
        "prefectures": [_json_row(r, bool(args.siting)) for r in run.rows],
        "workers": run.workers,
        "seconds": round(run.seconds, 3),
        "minutes": args.minutes,
        "mode": args.mode,
        "cell_m": args.cell_m,
        "failed": sum(1 for r in run.rows if r.get("error")),
    }
