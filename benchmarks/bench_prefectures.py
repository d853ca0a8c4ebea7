"""Every prefecture of China through ``regions``, ``grids`` and a coarse ``coverage`` (not CI).

Runs the CLI in-process (:func:`gridplan.cli.main`) for each prefecture of the
boundary layer, parses the JSON strictly (no NaN, no Infinity) and checks that
the units add up to the prefecture's 2020 census total: the ``regions`` and
``grids`` populations, and the ``coverage`` population assessed plus not
assessed.  Prints one line per prefecture (status, seconds, totals) and a summary.
CI runs the same checks on a few provinces (tests/test_census_national.py).

Run: ``.venv/bin/python -m benchmarks.bench_prefectures [--province 浙江省 ...] [--cell-m 1000]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

#: Coverage populations are sums of cell figures (float): they may differ from the
#: census total by rounding, never by a person.
COVERAGE_TOLERANCE = 0.5


def _no_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} in the output")


def run_cli(*args: str) -> tuple[int, Any, str]:
    """Exit code, strictly parsed JSON (``None`` if none) and stderr of one CLI call."""
    from gridplan.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    text = out.getvalue()
    data = json.loads(text, parse_constant=_no_constant) if text.strip() else None
    return code, data, err.getvalue()


@dataclass
class Outcome:
    """What the sweep found for one prefecture."""

    adcode: str
    name: str
    census_total: int | None
    seconds: dict[str, float] = field(default_factory=dict)
    sums: dict[str, float | None] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """Every command ran and every sum equals the census total."""
        if self.failures or self.census_total is None:
            return False
        tol = {"coverage": COVERAGE_TOLERANCE}
        return all(
            v is not None and abs(v - self.census_total) <= tol.get(k, 0)
            for k, v in self.sums.items()
        )


def _timed(outcome: Outcome, label: str, *args: str) -> Any:
    t0 = time.perf_counter()
    try:
        code, data, err = run_cli(*args)
    except ValueError as exc:  # NaN or Infinity in the JSON
        outcome.failures.append(f"{label}: {exc}")
        return None
    finally:
        outcome.seconds[label] = time.perf_counter() - t0
    if code != 0:
        outcome.failures.append(f"{label}: exit {code}: {' '.join(err.split())[:200]}")
        return None
    return data


def _known(values: list[Any]) -> float | None:
    """The sum of the figures given; ``None`` when no unit has one."""
    known = [v for v in values if v is not None]
    return float(sum(known)) if known else None


def sweep_prefecture(adcode: str, name: str = "", cell_m: int = 1000) -> Outcome:
    """``regions``, ``grids`` and ``coverage --cell-m cell_m`` of one prefecture, checked."""
    from gridplan.plan.census import census_total

    outcome = Outcome(adcode, name, census_total(adcode))
    regions = _timed(outcome, "regions", "regions", "--prefecture", adcode, "--census-check",
                     "--json")  # fmt: skip
    if regions is not None:
        outcome.sums["regions"] = _known([r["population"] for r in regions["units"]])
        if regions["census_check"]["prefecture_total"] != outcome.census_total:
            outcome.failures.append("regions: census_check total differs")
    grids = _timed(outcome, "grids", "grids", "--prefecture", adcode, "--json")
    if grids is not None:
        outcome.sums["grids"] = _known([g["population"] for g in grids["grids"]])
    if outcome.census_total is None:
        # no census and no upload: coverage must refuse, saying what to provide (exit 2)
        code, _, err = run_cli("coverage", "--prefecture", adcode, "--cell-m", str(cell_m))
        if code != 2 or "population" not in err:
            outcome.failures.append(f"coverage without population: exit {code}: {err[:200]}")
        return outcome
    coverage = _timed(outcome, "coverage", "coverage", "--prefecture", adcode, "--cell-m",
                      str(cell_m), "--json")  # fmt: skip
    if coverage is not None:
        assessed, rest = coverage["population"], coverage["not_assessed_population"]
        outcome.sums["coverage"] = None if None in (assessed, rest) else assessed + rest
    return outcome


def _line(o: Outcome) -> str:
    if o.census_total is None and not o.failures:
        status = "no census (coverage asks for a population table, exit 2)"
    else:
        status = "exact" if o.exact else ("FAIL" if o.failures else "differs")
    total = "no census" if o.census_total is None else f"{o.census_total:,}"
    sums = ", ".join(f"{k} {v:,.1f}" if v is not None else f"{k} —" for k, v in o.sums.items())
    secs = " ".join(f"{k} {v:.1f}s" for k, v in o.seconds.items())
    fails = ("; " + " | ".join(o.failures)) if o.failures else ""
    return f"{o.adcode} {o.name}: {status}; census {total}; {sums}; {secs}{fails}"


def main() -> None:
    from gridplan.inputs.boundaries import list_prefectures

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--province", nargs="*", help="only these provinces (full names)")
    ap.add_argument("--cell-m", type=int, default=1000)
    args = ap.parse_args()
    prefs = list_prefectures()
    if args.province:
        prefs = prefs[prefs["province"].isin(args.province)]
    t0 = time.perf_counter()
    outcomes = []
    for r in prefs.itertuples():
        o = sweep_prefecture(str(r.adcode), str(r.name), args.cell_m)
        outcomes.append(o)
        print(_line(o), flush=True)
    wall = time.perf_counter() - t0
    exact = [o for o in outcomes if o.exact]
    print(f"\n{len(exact)} of {len(outcomes)} prefectures match their census total exactly; "
          f"sweep {wall:.0f} s ({wall / max(len(outcomes), 1):.1f} s per prefecture)")  # fmt: skip
    for o in outcomes:
        if not o.exact:
            print("  not exact:", _line(o))
    slowest = sorted(outcomes, key=lambda o: -sum(o.seconds.values()))[:5]
    print("slowest:", ", ".join(f"{o.name} {sum(o.seconds.values()):.1f}s" for o in slowest))
    if any(math.isnan(sum(o.seconds.values())) for o in outcomes):  # pragma: no cover
        raise SystemExit(1)


if __name__ == "__main__":
    main()
