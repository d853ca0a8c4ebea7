"""One exception hierarchy for GridPlan.

Every error a user can cause derives from :class:`GridPlanError`.  Errors about
bad input also derive from :class:`ValueError` (as r5py does), so callers that
only know the standard library still catch them.  An error carries a stable
``code`` and its parameters so that the dashboard can show it in Chinese or
English (see :mod:`gridplan.i18n`), and, where several things are wrong at
once, every problem in one message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class GridPlanError(Exception):
    """Base class of every GridPlan error."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        problems: Iterable[str] = (),
    ) -> None:
        self.problems = list(problems)
        full = message if not self.problems else message + ": " + "; ".join(self.problems)
        super().__init__(full)
        if code is not None:
            self.code = code
        self.params = dict(params or {})

    @property
    def message(self) -> str:
        return str(self)


class InputError(GridPlanError, ValueError):
    """Input that GridPlan cannot use: wrong values, wrong columns, wrong codes."""

    code = "input"


class UploadError(InputError):
    """A file a user brought cannot be read (format, encoding, CRS, size, safety)."""

    code = "upload"


class UnknownRegionError(InputError, LookupError):
    """A prefecture or unit name/adcode that the boundary data does not know."""

    code = "unknown_region"


class PresetError(GridPlanError):
    """A preset file in ``data/geo/presets`` is missing or malformed."""

    code = "preset"


class FacilitiesError(InputError):
    """A facility table that cannot be used.

    ``report`` is the :class:`gridplan.facilities.reader.FacilityReport` of the
    rows that were rejected, if any.
    """

    code = "facilities"

    def __init__(self, message: str, *, report: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.report = report


class DownloadError(GridPlanError):
    """A download failed: HTTP error, timeout, size cap, disk space or a file that is no raster."""

    code = "download"


class CJKFontMissingError(GridPlanError):
    """No font with Chinese glyphs is installed, so the map cannot be drawn."""

    code = "report.no_cjk_font"


class StoreError(GridPlanError):
    """The scenario store cannot do what was asked: unknown scenario, busy, newer schema."""

    code = "store"
