"""One prefecture's row of a batch: its 15-minute coverage (and siting), or why it failed.

:func:`prefecture_row` is the task a Dask worker runs.  It computes exactly what
``gridplan coverage --prefecture X`` computes with the same options (the
prefecture's starting plan, the 2020 census spread uniformly over each unit's
cells, the illustrative facility network, the straight-line model) and rounds
the figures as that command's JSON does, so a batch row equals the single run.
A failure of one prefecture is its row's ``error`` (code and text in the chosen
language), never an exception: the other tasks go on.
"""

from __future__ import annotations

import math
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridplan import settings, workflow
from gridplan.errors import GridPlanError
from gridplan.i18n import LANGS, Lang, error_text, t
from gridplan.travel.speeds import DEFAULT_DETOUR

# Two threads of one worker rasterizing at once can make rasterio's in-memory dataset
# warn that it has no geotransform; the cells come out the same (tests/test_batch.py
# compares threaded rows with single runs), so the warning would only alarm a user.
warnings.filterwarnings("ignore", "Dataset has no geotransform", module="rasterio.features")

#: Prefectures without a 2020 census in the boundary data (no residents to assess).
NO_CENSUS_PROVINCES = ("台湾省", "香港特别行政区", "澳门特别行政区")


#: The figures of a row (``None`` in a failed row).
FIGURES: tuple[str, ...] = (
    "population", "not_assessed_population", "covered", "share", "mean_minutes", "cells",
    "population_source", "facilities_source", "n_facilities", "modelled",
)  # fmt: skip


@dataclass(frozen=True)
class BatchSettings:
    """What every prefecture of a batch computes (the ``gridplan coverage`` defaults).

    Attributes
    ----------
    minutes
        Coverage time.
    mode
        Travel mode (one of :data:`gridplan.workflow.MODES`).
    cell_m
        Side of a population-surface cell in metres.
    speed_kmh
        Speed; ``None``: the mode's default.
    detour
        Road distance over straight distance of the straight-line model.
    siting_k
        New primary-care sites of an MCLP siting study per prefecture; ``None``: none.
    lang
        Language of the error texts in the rows.
    """

    minutes: float = field(default_factory=lambda: workflow.default_minutes("primary"))
    mode: str = "walk"
    cell_m: float = field(default_factory=lambda: settings.cell_m)
    speed_kmh: float | None = None
    detour: float = DEFAULT_DETOUR
    siting_k: int | None = None
    lang: Lang = "zh"

    def model_spec(self) -> workflow.ModelSpec:
        """The straight-line model ``gridplan coverage`` builds from the same options."""
        return workflow.ModelSpec(
            "straight", self.mode, self.speed_kmh, self.detour,
            cutoff_min=float(max(self.minutes, settings.model_cutoff_min)),
        )  # fmt: skip


def _rounded(value: float, digits: int) -> float | None:
    """``value`` rounded as the coverage JSON rounds it; ``None`` when not finite."""
    return round(float(value), digits) if math.isfinite(value) else None


def coverage_figures(adcode: str, s: BatchSettings) -> tuple[dict[str, Any], Any]:
    """The coverage summary of one prefecture as ``gridplan coverage --json`` gives it,
    and what a siting study needs (plan, units, surface, facilities)."""
    from gridplan.access.coverage import kpi_tables

    plan, us = workflow.plan_and_units(None, adcode)
    facilities = workflow.illustrative_network(us)
    spec = workflow.SurfaceSpec(workflow.UnitsSource(us.prefecture.adcode), cell_m=s.cell_m)
    c = workflow.coverage_inputs(us, facilities, spec, s.model_spec(), lang=s.lang)
    summary = kpi_tables(c.index, plan, us, s.minutes).summary
    provenance = workflow.coverage_provenance(c.surface, us, c.used, s.model_spec(), s.minutes)
    figures = {
        "population": round(summary["population"], 1),
        "not_assessed_population": summary["not_assessed_population"],
        "covered": round(summary["covered"], 1),
        "share": round(summary["share"], 6),
        "mean_minutes": _rounded(summary["mean_minutes"], 3),
        "cells": int(np.count_nonzero(c.surface.populated())),  # populated cells: the work done
        "population_source": f"{provenance['population']}/{provenance['population_method']}",
        "facilities_source": provenance["facilities"],
        "n_facilities": provenance["n_facilities"],
        # no real population or facility data goes into a batch: every row is an estimate
        "modelled": True,
    }
    return figures, (plan, us, c.surface, facilities)


def siting_figures(context: Any, s: BatchSettings) -> dict[str, Any]:
    """An MCLP study of ``s.siting_k`` new primary-care sites on a candidate grid, as
    ``gridplan optimize --method mclp --k K`` runs it (its defaults), summarised."""
    from gridplan.siting.study import SitingSettings, run_siting

    plan, us, surface, facilities = context
    study_settings = SitingSettings(
        method="mclp", k=int(s.siting_k or 0), minutes=s.minutes, level="primary",
        candidates="grid", time_limit_s=60.0, curve_k_max=max(int(s.siting_k or 0), 1),
    )  # fmt: skip
    model = workflow.travel_model(surface.grid, s.model_spec())
    out = run_siting(us, plan, surface, facilities, model, study_settings).to_dict()
    return {
        "siting_k": out["k"],
        "siting_share_after": out["share_after"],
        "siting_covered_after": out["covered_after"],
        "siting_status": out["status"],
    }


def _error(exc: BaseException, lang: Lang) -> dict[str, str]:
    """The ``error`` of a failed row: the error's code, its text in ``lang`` (``message``)
    and in each language (``zh``, ``en``: a file may be written in another language)."""
    texts: dict[str, str]
    if isinstance(exc, GridPlanError):
        texts = {x: " ".join(error_text(exc, x).split()) for x in LANGS}
        code = exc.code
    elif isinstance(exc, MemoryError):
        code = "cli.out_of_memory"
        texts = {x: t("cli.out_of_memory", x, kind=type(exc).__name__) for x in LANGS}
    else:
        code = "batch.internal"
        texts = {x: t("batch.internal", x, kind=type(exc).__name__) for x in LANGS}
    return {"code": code, "message": texts[lang], **texts}


def prefecture_row(adcode: str, name: str, province: str, s: BatchSettings) -> dict[str, Any]:
    """One prefecture's batch row (the Dask task): its figures, or its ``error``.

    Never raises for a failure of the prefecture: the error's code and text
    (``s.lang``) are in the row, the figures ``None``.
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    row: dict[str, Any] = {
        "name": name, "adcode": adcode, "province": province,
        "minutes": s.minutes, "mode": s.mode, "cell_m": s.cell_m,
    }  # fmt: skip
    row.update(dict.fromkeys(FIGURES))  # a failed row has every key, its figures None
    try:
        figures, context = coverage_figures(adcode, s)
        row.update(figures)
        if s.siting_k:
            row.update(siting_figures(context, s))
        row["error"] = None
    except Exception as exc:  # one prefecture's failure is its row's, not the batch's
        row["error"] = _error(exc, s.lang)
        if os.environ.get("GRIDPLAN_DEBUG") == "1":  # as the CLI: internals only when asked
            row["error"]["detail"] = "".join(traceback.format_exception(exc))
    row["seconds"] = round(time.perf_counter() - t0, 3)
    # the worker's CPU time: what the task costs, whatever else runs on the machine
    row["cpu_seconds"] = round(time.process_time() - cpu0, 3)
    return row
