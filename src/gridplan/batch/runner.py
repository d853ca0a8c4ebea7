"""Run batch tasks on a ``dask.distributed`` cluster and stream their rows.

Without a scheduler address a :class:`~distributed.LocalCluster` of single-threaded
worker processes is started on this machine (and closed after); with one, a client
connects to that cluster and uses it as it is: it is never scaled nor closed here.
One task per prefecture (``submit`` + ``as_completed``): the rows arrive in the
order they finish.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gridplan.batch.tasks import BatchSettings, prefecture_row
from gridplan.errors import InputError
from gridplan.i18n import LANGS, t

#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT_S = 20.0
#: Seconds to wait for the workers asked for (``min_workers``) to join a given cluster.
WORKER_WAIT_S = 60.0


@dataclass
class BatchRun:
    """The rows of a finished batch (in input order), the workers it ran on and its seconds."""

    rows: list[dict[str, Any]]
    workers: int
    seconds: float
    dashboard_link: str | None


def default_workers() -> int:
    """Worker processes of a local cluster: one per core this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


@contextlib.contextmanager
def batch_client(
    scheduler: str | None = None, workers: int | None = None, min_workers: int = 1
) -> Iterator[Any]:
    """A Dask client: on ``scheduler`` (``tcp://host:port``) as it is, else on a local
    cluster of ``workers`` single-threaded processes, closed on exit.

    Raises
    ------
    InputError
        ``batch.no_scheduler`` when the scheduler does not answer,
        ``batch.no_workers`` when fewer than ``min_workers`` join in time.
    """
    from distributed import Client, LocalCluster

    if scheduler is None:
        n = workers or default_workers()
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:  # refused, unreachable, timed out
        raise InputError(
            f"no Dask scheduler answers at {scheduler}",
            code="batch.no_scheduler",
            params={"address": scheduler},
        ) from exc
    try:
        _wait_for_workers(client, min_workers)
        yield client
    finally:
        client.close()  # only this client: the cluster is someone else's


def _wait_for_workers(client: Any, n: int) -> None:
    try:
        client.wait_for_workers(n, timeout=WORKER_WAIT_S)
    except TimeoutError as exc:
        have = len(client.nthreads())
        raise InputError(
            f"{have} Dask worker(s) joined, {n} asked for",
            code="batch.no_workers",
            params={"have": have, "want": n, "seconds": WORKER_WAIT_S},
        ) from exc


def _lost_row(pref: Mapping[str, str], exc: BaseException, s: BatchSettings) -> dict[str, Any]:
    """The row of a task the cluster lost (a worker died, the task was cancelled)."""
    texts = {x: t("batch.task_lost", x, kind=type(exc).__name__) for x in LANGS}
    return {
        "name": pref["name"], "adcode": pref["adcode"], "province": pref["province"],
        "minutes": s.minutes, "mode": s.mode, "cell_m": s.cell_m,
        "error": {"code": "batch.task_lost", "message": texts[s.lang], **texts},
        "seconds": None, "cpu_seconds": None,
    }  # fmt: skip


def run_batch(
    client: Any,
    prefectures: pd.DataFrame,
    settings: BatchSettings,
    on_row: Callable[[dict[str, Any], int, int], None] | None = None,
) -> BatchRun:
    """One task per row of ``prefectures`` (``adcode``, ``name``, ``province``) on ``client``.

    ``on_row(row, done, total)`` is called as each task finishes (the caller writes the
    row to its file and moves its progress bar).  A task that raises or is lost gives a
    row with its ``error``; the others go on.
    """
    from distributed import as_completed

    t0 = time.perf_counter()
    table = prefectures[["adcode", "name", "province"]].astype(str)
    prefs = [dict(zip(table.columns, r, strict=True)) for r in table.itertuples(index=False)]
    futures = {
        client.submit(
            prefecture_row, p["adcode"], p["name"], p["province"], settings,
            key=f"gridplan-batch-{p['adcode']}-{time.time_ns()}", pure=False,
        ): i
        for i, p in enumerate(prefs)
    }  # fmt: skip
    rows: list[dict[str, Any] | None] = [None] * len(prefs)
    for done, future in enumerate(as_completed(futures), start=1):
        i = futures[future]
        try:
            row = future.result()
        except Exception as exc:  # the task itself was lost: its row says so
            row = _lost_row(prefs[i], exc, settings)
        rows[i] = row
        if on_row is not None:
            on_row(row, done, len(prefs))
    workers = len(client.nthreads())
    return BatchRun(
        [r for r in rows if r is not None], workers, time.perf_counter() - t0,
        client.dashboard_link,
    )  # fmt: skip
