"""Chinese and English texts for messages that reach a planner.

One catalogue shape (:data:`~gridplan.i18n.catalogue.Catalogue`: a code, then
its text per language) and one lookup, :func:`t`.  The library raises errors
with a stable ``code`` and parameters (:mod:`gridplan.errors`); the dashboard
and the CLI render them with :func:`error_text` in the planner's language.
Chinese is the default.  Labels the library puts in tables and maps (sources,
models, facility types) are catalogue entries too.  The texts live in one
TOML file per pipeline stage in this folder (``inputs.toml`` ... ``report.toml``)
and ``common.toml`` for the generic checks (see :mod:`gridplan.i18n.catalogue`).
No UI dependency.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridplan.errors import GridPlanError
from gridplan.i18n.catalogue import LANGS, Catalogue, Lang, load_catalogue, merge, render

__all__ = [
    "CATALOGUES",
    "LANGS",
    "MESSAGES",
    "Catalogue",
    "Lang",
    "error_text",
    "label",
    "t",
    "text_of",
]

#: The catalogue files, in pipeline order: the generic checks, then one per stage.
CATALOGUES: tuple[str, ...] = (
    "common",
    "inputs",
    "plan",
    "surface",
    "facilities",
    "travel",
    "access",
    "siting",
    "regions",
    "report",
    "store",
    "batch",
)
#: Every text of the library.
MESSAGES: Catalogue = merge(
    load_catalogue(Path(__file__).with_name(f"{n}.toml")) for n in CATALOGUES
)


def text_of(code: str) -> dict[Lang, str] | None:
    """The texts of ``code``, or ``None``.

    A generic check's problem (``"<scope>.<check>"``) without a text of its own
    falls back to the common ``"check.<check>"`` text.
    """
    entry = MESSAGES.get(code)
    if entry is None and "." in code:
        entry = MESSAGES.get("check." + code.partition(".")[2])
    return entry


def t(code: str, lang: Lang = "zh", **params: Any) -> str:
    """Render message ``code`` in ``lang`` with ``params``; falls back to the code."""
    entry = text_of(code)
    if entry is None:
        return code
    return render(entry.get(lang) or entry["en"], params)


def label(kind: str, key: str, lang: Lang = "zh") -> str:
    """The display label of ``key`` among the labels ``kind``, in ``lang``; ``key`` if it has none.

    ``label("population.source", "census2020")`` is ``"2020年人口普查"``;
    a key the catalogue does not know (a planner's own value) shows as it is.
    """
    code = f"{kind}.{key}"
    return t(code, lang) if code in MESSAGES else str(key)


def error_text(exc: BaseException, lang: Lang = "zh") -> str:
    """The planner-facing text of an exception, in ``lang``.

    GridPlan errors with a known code are translated; any other error falls
    back to its own message so nothing is hidden.
    """
    if isinstance(exc, GridPlanError) and text_of(exc.code) is not None:
        text = t(exc.code, lang, **_planner_params(exc.code, exc.params, lang))
        items = _problem_texts(exc, lang)
        if items:
            text += "\n" + "\n".join(f"• {p}" for p in items)
        return text
    return str(exc)


#: The details GridPlan itself writes into ``detail`` (English) and their catalogue texts.
_OWN_DETAILS: dict[str, str] = {
    "file not found": "detail.file_not_found",
    "empty file": "detail.empty_file",
    "no raster band": "detail.no_band",
    "not a valid zip archive": "detail.bad_zip",
    "not a valid GeoPackage (SQLite) file": "detail.bad_gpkg",
    "not a JSON document": "detail.not_json",
    "not a valid Shapefile": "detail.bad_shapefile",
    "HTML/XML text, not an Excel workbook": "detail.html_not_excel",
    "corrupt zip/xlsx container": "detail.bad_xlsx",
}

#: What a detail from a library (GDAL, urllib, a parser) is said as, by error code.
_LIBRARY_DETAILS: dict[str, str] = {
    "download.failed": "detail.network",
    "download.not_raster": "detail.not_geotiff",
    "network.download_failed": "detail.network",
    "facilities.osm_unavailable": "detail.network",
}


def _planner_params(code: str, params: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """``params`` with their ``detail`` fit for a planner: GridPlan's own details translated;
    any other (GDAL's, urllib's, a parser's) kept in English only when it names no path, and
    said as a plain reason in Chinese."""
    field = params.get("field")
    if isinstance(field, str) and text_of(f"field.{field}") is not None:
        params = {**params, "field": label("field", field, lang)}  # "name" is 名称 in Chinese
    detail = params.get("detail")
    if not isinstance(detail, str) or code.startswith("cli."):
        return params
    own = _OWN_DETAILS.get(detail)
    if own is None and lang == "en" and not any(c in detail for c in "/\\"):
        return params
    key = own or _LIBRARY_DETAILS.get(code, "detail.damaged")
    return {**params, "detail": t(key, lang)}


def _problem_texts(exc: GridPlanError, lang: Lang) -> list[str]:
    """Each collected problem in ``lang`` when its code has a message, else its own text."""
    details = exc.params.get("problems")
    if not isinstance(details, list) or len(details) != len(exc.problems):
        return list(exc.problems)
    out = []
    for raw, detail in zip(exc.problems, details, strict=True):
        params = dict(detail) if isinstance(detail, dict) else {}
        code = params.pop("code", None)
        text = t(code, lang, **params) if text_of(str(code)) is not None else raw
        out.append(raw if "{" in text else text)  # a template its params cannot fill
    return out
