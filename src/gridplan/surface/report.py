"""What a population upload gave: the surface report and the rows it could not use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridplan.i18n import Lang, t
from gridplan.plan.population import message_texts

# --------------------------------------------------------------------------------------
# reports


@dataclass(frozen=True)
class BadRow:
    """One problem with one input row, renderable in Chinese or English.

    ``row`` is the spreadsheet row number (the header is row 1, the first data
    row is row 2) for tables, and the 1-based feature number for polygon layers.
    """

    row: int
    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def text(self, lang: Lang = "zh") -> str:
        reason = t(self.code, lang, **self.params)
        return t("popsurface.bad_row", lang, row=self.row, reason=reason)


@dataclass
class SurfaceReport:
    """What a ``surface_from_*`` function kept, dropped and assumed.

    Attributes
    ----------
    kind
        ``"raster"``, ``"points"``, ``"polygons"``, or ``"units"`` (a table by
        unit spread over the units' cells).
    input_total
        Population given: the raster's population over the grid's extent, the
        sum of the valid points, the sum of the valid polygon totals.
    kept_total
        Population on the surface (``surface.total``).
    dropped_population
        ``input_total - kept_total``: population outside the prefecture's units.
    n_input
        Valid input items (points, polygons; populated source pixels for rasters).
    n_outside
        Items whose population was dropped: points or polygons outside the
        units; for rasters, populated grid cells outside the units.
    outside_rows
        Row / feature numbers of the points or polygons that were dropped.
    bad_rows
        Rows that could not be used (missing or impossible coordinates,
        negative population...), with reasons in Chinese and English.
    fallback_uniform
        Polygons spread uniformly although weights were given, because all
        their cells have zero weight.
    correction_factor
        Raster only: the global factor applied to GDAL's resampled total to
        conserve the raster's population exactly (1 ± ~1e-4).
    notes
        English notes on what was assumed or changed.
    warnings
        Implausible figures the planner accepted (code and parameters each:
        :func:`gridplan.plan.population.message_texts` renders them).
    """

    kind: str
    input_total: float = 0.0
    kept_total: float = 0.0
    dropped_population: float = 0.0
    n_input: int = 0
    n_outside: int = 0
    outside_rows: list[int] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    fallback_uniform: list[str] = field(default_factory=list)
    correction_factor: float = 1.0
    notes: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, lang: Lang = "zh") -> str:
        """A short planner-facing summary, with the bad rows listed (first 20)."""
        lines = [
            t(
                "popsurface.summary",
                lang,
                kept=f"{self.kept_total:,.0f}",
                input=f"{self.input_total:,.0f}",
                dropped=f"{self.dropped_population:,.0f}",
                n_outside=self.n_outside,
            )
        ]
        lines += [f"⚠ {text}" for text in message_texts(self.warnings, lang)]
        if self.fallback_uniform:
            lines.append(
                t(
                    "popsurface.fallback_uniform",
                    lang,
                    n=len(self.fallback_uniform),
                    names=t("sep.names", lang).join(self.fallback_uniform[:10]),
                )
            )
        if self.bad_rows:
            lines.append(t("popsurface.bad_rows", lang, n=len(self.bad_rows)))
            lines += [f"• {b.text(lang)}" for b in self.bad_rows[:20]]
        return "\n".join(lines)
