"""The keyword options of the location models, in one place.

Every model is built spopt-style, ``Model.from_cost_matrix(cost_matrix,
weights, <its own arguments>, **options)`` or ``Model.from_surface(surface,
candidates, <its own arguments>, **options)``, and solved with
``solve(method, **options)``.  Its own arguments are explicit parameters of
each model; the options it shares with the others are the typed dictionaries
of this module, documented here once.

As with a plain signature, a keyword an option set does not know raises
:class:`TypeError` (:func:`check_keys`): a misspelt option never falls back
to its default silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from numpy.typing import ArrayLike

from gridplan.siting.demand import Candidates, Demand
from gridplan.travel.base import TravelTimeModel

Method = Literal["exact", "greedy"]

#: Default time limit of an exact solve (seconds).
DEFAULT_TIME_LIMIT_S = 60.0
#: Default relative optimality gap at which HiGHS stops (its own default).
DEFAULT_GAP = 1e-4
#: Default cutoff (minutes) of the p-median models' matrix built on a surface.
DEFAULT_CUTOFF_MIN = 60.0
#: Defaults of the k-means baseline: its random seed and number of restarts.
DEFAULT_SEED = 0
DEFAULT_N_INIT = 4


class MatrixOptions(TypedDict, total=False):
    """Options of every ``from_cost_matrix``.

    Attributes
    ----------
    existing
        The existing facilities' columns, as indices or a boolean mask over
        the candidates: kept open, never new sites.
    baseline_minutes
        Per demand point, minutes to the nearest existing facility outside
        the matrix (``inf``: none reachable).
    name
        The problem's name (default: its ``kind``).
    demand, candidates
        The :class:`~gridplan.siting.demand.Demand` and
        :class:`~gridplan.siting.demand.Candidates` behind the matrix's rows
        and columns (``sites_table`` reads the candidates' ids and places).
    """

    existing: ArrayLike | None
    baseline_minutes: ArrayLike | None
    name: str | None
    demand: Demand | None
    candidates: Candidates | None


class DemandOptions(TypedDict, total=False):
    """How a ``from_surface`` turns the surface into demand and keeps candidates.

    Attributes
    ----------
    max_demand
        Populated cells are aggregated to at most this many demand points
        (default :data:`~gridplan.siting.demand.DEFAULT_MAX_DEMAND`; None: every cell).
    exclusions
        Areas where no site may go (shapely geometries or a GeoDataFrame;
        WGS-84 unless it carries a CRS).
    """

    max_demand: int | None
    exclusions: Any


class SurfaceOptions(DemandOptions, total=False):
    """Options of every ``from_surface`` with travel times: :class:`DemandOptions` and the travel.

    Attributes
    ----------
    model
        The travel-time model of the demand × candidate minutes (default:
        walking, straight line).
    existing_xy
        Metric coordinates of the existing facilities (kept open).
    """

    model: TravelTimeModel | None
    existing_xy: ArrayLike | None


class Cutoff(TypedDict, total=False):
    """The p-median models' cutoff: the pairs their matrix holds, and the penalty beyond.

    The models then minimise travel time truncated at the cutoff: exact when
    every resident reaches an open site within it (``unserved == 0``).

    Attributes
    ----------
    max_minutes
        The matrix holds the pairs within this many minutes (``from_cost_matrix``:
        default none left out; ``from_surface``: default :data:`DEFAULT_CUTOFF_MIN`).
    unreachable_minutes
        Minutes charged to a resident with no open site among its pairs
        (default: the cutoff; see :mod:`gridplan.siting.models`).
    """

    max_minutes: float | None
    unreachable_minutes: float | None


class CutoffOptions(MatrixOptions, Cutoff, total=False):
    """Options of the p-median models' ``from_cost_matrix``."""


class CutoffSurface(SurfaceOptions, Cutoff, total=False):
    """Options of the p-median models' ``from_surface``."""


class Clustering(TypedDict, total=False):
    """How the k-means baseline clusters.

    Attributes
    ----------
    seed
        Random state of scikit-learn's ``KMeans`` (default :data:`DEFAULT_SEED`).
    n_init
        Seeded restarts, the best kept (default :data:`DEFAULT_N_INIT`).
    """

    seed: int
    n_init: int


class KMeansOptions(Clustering, DemandOptions, total=False):
    """Options of the k-means baseline on a surface: :class:`Clustering` and the demand."""


class SolveOptions(TypedDict, total=False):
    """Options of every ``solve(method, ...)``.

    Attributes
    ----------
    time_limit
        Seconds HiGHS may take (default :data:`DEFAULT_TIME_LIMIT_S`; ``inf``: no limit).
    gap
        Relative optimality gap at which HiGHS stops (default :data:`DEFAULT_GAP`).
    warm_start
        Start HiGHS from the greedy answer (default True).
    lazy
        Lazy greedy (CELF; default True): the same sites as plain greedy, faster.
    verbose
        HiGHS's log on the console (default False).
    """

    time_limit: float
    gap: float
    warm_start: bool
    lazy: bool
    verbose: bool


class CoverSolveOptions(SolveOptions, total=False):
    """Options of the covering models' ``solve``: :class:`SolveOptions` and the polish.

    Attributes
    ----------
    polish
        Improve the greedy answer (MCLP: swaps; set cover target: redundant
        sites dropped) before it is taken or warm-starts HiGHS (default True).
    """

    polish: bool


class MCLPSolveOptions(CoverSolveOptions, total=False):
    """Options of :meth:`MCLP.solve <gridplan.siting.mclp.MCLP.solve>`: :class:`CoverSolveOptions`
    and the exact method.

    Attributes
    ----------
    probe
        Solve exactly by LP probing (:mod:`gridplan.siting.mclp_probe`; default
        True); False: the warm-started HiGHS MIP alone.
    """

    probe: bool


class CurveOptions(TypedDict, total=False):
    """Options of :meth:`MCLP.coverage_curve <gridplan.siting.mclp.MCLP.coverage_curve>`.

    Attributes
    ----------
    exact
        Solve every k exactly too (default False: the greedy curve alone).
    time_limit, gap
        Of each exact solve, as in :class:`SolveOptions`.
    """

    exact: bool
    time_limit: float
    gap: float


@dataclass(frozen=True)
class Run:
    """One solve's settings, the defaults of :class:`SolveOptions` filled in."""

    method: str
    time_limit: float = DEFAULT_TIME_LIMIT_S
    gap: float = DEFAULT_GAP
    warm_start: bool = True
    lazy: bool = True
    verbose: bool = False


def check_keys(where: str, options: Mapping[str, Any], known: type) -> None:
    """Raise :class:`TypeError` for a keyword of ``options`` the typed dictionary ``known`` lacks.

    Parameters
    ----------
    where
        The method taking the options, named in the error (``"MCLP.from_cost_matrix"``).
    options
        The keywords given.
    known
        The :class:`~typing.TypedDict` of the options (its keys, inherited ones included).
    """
    unknown = [key for key in options if key not in known.__annotations__]
    if unknown:
        raise TypeError(f"{where}() got an unexpected keyword argument {unknown[0]!r}")
