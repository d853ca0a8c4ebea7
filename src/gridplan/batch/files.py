"""Batch result tables: written row by row as tasks finish, read back (validated) for the
dashboard's national overview.

A batch table has one row per prefecture (:data:`BATCH_COLUMNS`).  CSV is UTF-8 with a
byte-order mark (Excel opens it); a GeoPackage holds the same columns with each
prefecture's outline (WGS-84).  The figures are modelled unless the run was given real
data: the ``population_source`` and ``facilities_source`` columns and ``note`` say so.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridplan.errors import InputError, UploadError
from gridplan.i18n import Lang, t

#: The columns of a batch table, in order (``error_code``/``error``: why a row has no figures).
BATCH_COLUMNS: tuple[str, ...] = (
    "name", "adcode", "province", "minutes", "mode", "cell_m", "population",
    "not_assessed_population", "covered", "share", "mean_minutes", "seconds", "cpu_seconds",
    "cells", "population_source", "facilities_source", "n_facilities", "siting_k",
    "siting_share_after", "siting_covered_after", "siting_status", "error_code", "error", "note",
)  # fmt: skip
#: The columns an uploaded table must have (the rest may be missing).
REQUIRED_COLUMNS: tuple[str, ...] = ("name", "adcode", "population", "covered", "share")
#: The numeric columns (empty cells allowed: failed rows have no figures).
NUMERIC_COLUMNS: tuple[str, ...] = (
    "minutes", "cell_m", "population", "not_assessed_population", "covered", "share",
    "mean_minutes", "seconds", "cpu_seconds", "cells", "n_facilities", "siting_k",
    "siting_share_after", "siting_covered_after",
)  # fmt: skip
#: Largest batch table read back, in megabytes (a national table is about 100 kB).
MAX_BATCH_FILE_MB = 20.0
#: Most rows read back (China has 370 prefecture-level units, about 2,900 counties).
MAX_BATCH_ROWS = 5_000
#: Kinds of batch file by suffix.
BATCH_FILE_KINDS: dict[str, str] = {".csv": "csv", ".gpkg": "gpkg"}


def batch_file_kind(path: str | Path) -> str:
    """``csv`` or ``gpkg`` from the file name; anything else is refused before any work."""
    kind = BATCH_FILE_KINDS.get(Path(path).suffix.lower())
    if kind is None:
        name = Path(path).name
        raise InputError(
            f"-o expects FILE.csv or FILE.gpkg for batch, got {name}",
            code="batch.output_kind",
            params={"filename": name},
        )
    return kind


def table_row(row: Mapping[str, Any], lang: Lang = "zh") -> dict[str, Any]:
    """A task's row (:func:`gridplan.batch.tasks.prefecture_row`) flattened to
    :data:`BATCH_COLUMNS`: the ``error`` split into its code and its text in ``lang``,
    the ``note`` in ``lang``."""
    error = row.get("error") or {}
    flat = {c: row.get(c) for c in BATCH_COLUMNS}
    flat["error_code"] = error.get("code")
    flat["error"] = error.get(lang, error.get("message"))
    flat["note"] = t("batch.note.modelled", lang) if row.get("modelled") else None
    return flat


class RowWriter:
    """Writes batch rows to a CSV or GeoPackage as they come, so a stopped run keeps the
    rows already finished.  Use as a context manager."""

    def __init__(self, path: str | Path, lang: Lang = "zh") -> None:
        self.path = Path(path)
        self.lang = lang
        self.kind = batch_file_kind(self.path)
        self._csv: io.TextIOWrapper | None = None
        self._writer: Any = None
        self._gpkg_started = False

    def __enter__(self) -> RowWriter:
        if self.kind == "csv":
            self._csv = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.DictWriter(self._csv, fieldnames=list(BATCH_COLUMNS))
            self._writer.writeheader()
            self._csv.flush()
        elif self.path.exists():
            self.path.unlink()  # a GeoPackage is appended to: start from nothing
        return self

    def __exit__(self, *exc: object) -> None:
        if self._csv is not None:
            self._csv.close()

    def write(self, row: Mapping[str, Any]) -> None:
        """Add one task's row (flushed: readable while the batch runs)."""
        flat = table_row(row, self.lang)
        if self._csv is not None:
            self._writer.writerow({k: "" if v is None else v for k, v in flat.items()})
            self._csv.flush()
        else:
            self._write_gpkg(flat)

    def _write_gpkg(self, flat: dict[str, Any]) -> None:
        import geopandas as gpd
        import pyogrio

        from gridplan.inputs.boundaries import load_prefecture_outline

        try:
            outline = load_prefecture_outline(str(flat["adcode"]))
        except InputError:  # an adcode the boundary layer does not know: the row without outline
            outline = None
        frame = gpd.GeoDataFrame(
            pd.DataFrame([flat]).astype({c: "float64" for c in NUMERIC_COLUMNS}),
            geometry=[outline], crs="EPSG:4326",
        )  # fmt: skip
        pyogrio.write_dataframe(
            frame, self.path, layer="batch", driver="GPKG", append=self._gpkg_started,
            promote_to_multi=True,
        )  # fmt: skip
        self._gpkg_started = True


def write_rows(rows: Iterable[Mapping[str, Any]], path: str | Path, lang: Lang = "zh") -> Path:
    """Write finished rows to ``path`` (.csv or .gpkg) at once, texts in ``lang``."""
    with RowWriter(path, lang) as out:
        for row in rows:
            out.write(row)
    return Path(path)


# --- reading a batch table back (an upload on the dashboard) -------------------------------


def _read_frame(data: bytes, kind: str, filename: str) -> pd.DataFrame:
    """The table of a CSV or GeoPackage's first layer (geometry dropped), as text."""
    try:
        if kind == "csv":
            text = data.decode("utf-8-sig")
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        return _gpkg_frame(data)
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"{filename} is not UTF-8 text", code="batch.file.encoding",
            params={"filename": filename},
        ) from exc  # fmt: skip
    except Exception as exc:  # any parser's complaint: the file is not a batch table
        raise UploadError(
            f"cannot read {filename} as a batch table",
            code="batch.file.unreadable",
            params={"filename": filename},
        ) from exc


def _gpkg_frame(data: bytes) -> pd.DataFrame:
    """The attributes of a GeoPackage's first layer as text (empty where null)."""
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="gridplan-batch-") as folder:
        path = Path(folder) / "upload.gpkg"  # GDAL wants the suffix of the format it reads
        path.write_bytes(data)
        frame = pd.DataFrame(pyogrio.read_dataframe(path, read_geometry=False))
    text = frame.astype(object).where(frame.notna(), "")
    return text.astype(str)


def _check_columns(frame: pd.DataFrame, filename: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise UploadError(
            f"{filename} lacks the batch columns {', '.join(missing)}",
            code="batch.file.columns",
            params={"filename": filename, "columns": ", ".join(missing)},
        )
    if frame.empty or len(frame) > MAX_BATCH_ROWS:
        raise UploadError(
            f"{filename} has {len(frame)} rows (1 to {MAX_BATCH_ROWS})",
            code="batch.file.rows",
            params={"filename": filename, "n": len(frame), "limit": MAX_BATCH_ROWS},
        )


def _numbers(frame: pd.DataFrame, filename: str) -> pd.DataFrame:
    """The numeric columns as numbers; text in one of them, or a share outside 0–1, refused."""
    out = frame.copy()
    for column in NUMERIC_COLUMNS:
        if column not in out.columns:
            out[column] = math.nan
            continue
        raw = [str(v).strip() for v in out[column]]
        values = np.array([_number(v) for v in raw], dtype=float)
        bad = np.array([v != "" for v in raw]) & ~(values >= 0)  # text, negative, NaN
        bad |= np.isinf(values) | ((values > 1) if column == "share" else False)
        if bad.any():
            first = int(bad.nonzero()[0][0])
            raise UploadError(
                f"{filename}: column {column} has a value that is not a valid number",
                code="batch.file.values",
                params={"filename": filename, "column": column, "row": first + 2,
                        "value": raw[first][:40]},
            )  # fmt: skip
        out[column] = values
    return out


def _number(text: str) -> float:
    """A cell as a number; NaN when empty or not a number (said by the caller)."""
    try:
        return float(text) if text else math.nan
    except ValueError:
        return math.nan


def read_batch_table(data: bytes, filename: str) -> pd.DataFrame:
    """A batch table written by ``gridplan batch -o`` (CSV or GeoPackage), checked.

    Returns every :data:`BATCH_COLUMNS` column (missing optional ones empty); the
    numeric columns as floats, ``adcode`` as six-digit text.

    Raises
    ------
    UploadError
        Too large, not CSV/GeoPackage, unreadable, columns missing, too many rows or a
        value that is not a number (the code says which).
    """
    name = Path(filename).name
    if len(data) > MAX_BATCH_FILE_MB * 1024 * 1024:
        raise UploadError(
            f"{name} is too large: over {MAX_BATCH_FILE_MB:g} MB",
            code="batch.file.too_large",
            params={"filename": name, "limit_mb": MAX_BATCH_FILE_MB},
        )
    kind = BATCH_FILE_KINDS.get(Path(name).suffix.lower())
    if kind is None:
        raise UploadError(
            f"{name}: upload the CSV or GeoPackage written by gridplan batch -o",
            code="batch.file.kind", params={"filename": name},
        )  # fmt: skip
    frame = _read_frame(data, kind, name)
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_columns(frame, name)
    frame = _numbers(frame, name)
    for column in BATCH_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    adcodes = frame["adcode"].astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    if not adcodes.str.fullmatch(r"\d{6}").all():
        raise UploadError(
            f"{name}: column adcode must hold six-digit codes",
            code="batch.file.adcode", params={"filename": name},
        )  # fmt: skip
    frame["adcode"] = adcodes
    return frame[list(BATCH_COLUMNS)].reset_index(drop=True)
