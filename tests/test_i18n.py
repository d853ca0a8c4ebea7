"""Every text a planner can see exists in Chinese and in English.

The library: the test reads the source and collects every message code it can
raise or render: codes written out (``code="upload.too_large"``,
``problems.add("capacity.threshold", ...)``, ``t("report.map.title")``), and
codes put together at run time from a family of keys (``t(f"standard.{key}")``).
Each run-time site must be listed in :func:`_families` with the members of its
family, so a new one cannot slip through.  Every error the library raises
carries a code.  Each code must resolve to a catalogue entry
(:func:`gridplan.i18n.text_of`) with both languages and the same fields.

The dashboard's keys are checked in ``tests/test_ui_helpers.py`` (every
``tr()`` key and every member of the run-time families).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gridplan import errors
from gridplan.i18n import CATALOGUES, MESSAGES, text_of
from gridplan.i18n.catalogue import entry_problems, template_fields

SRC = Path(__file__).resolve().parents[1] / "src" / "gridplan"
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
ERROR_CLASSES = {
    name
    for name, obj in vars(errors).items()
    if isinstance(obj, type) and issubclass(obj, errors.GridPlanError)
}
#: Calls whose first argument is a message code, with their least number of positional
#: arguments (``Problems.add(code, text)``, ``Problems.count(code, mask, text)``,
#: ``Problems.choice(code, name, value, allowed)``;
#: a set's ``add`` or numpy's ``choice`` take fewer).
CODE_FIRST = {"t": 1, "Problems": 1, "add": 2, "count": 3, "choice": 4, "Note": 1}
#: Records whose code is a later positional argument: ``BadRow(row, code, params)``.
CODE_AT = {"BadRow": 1}
#: The codes of the base error classes: they say nothing to a planner.
GENERIC_CODES = {"error", "input", "upload", "download", "facilities", "preset", "unknown_region"}
#: Modules that forward a code given to them (the collector and the lookup themselves).
FORWARDERS = {"_validate.py", "i18n/__init__.py"}


@functools.cache
def _families() -> dict[tuple[str, str], tuple[str, Iterable[Any]]]:
    """Each run-time code site the test cannot follow to its callers: its template and members.

    Keyed by (module, source of the code expression); the members come from the
    library's own constants, so a new member without a text fails here.
    """
    from gridplan._cli_output import _OS_ERRORS, _USAGE_PATTERNS
    from gridplan.access.standards import STANDARDS
    from gridplan.facilities.reader import ROW_REASONS
    from gridplan.facilities.types import FACILITY_TYPES
    from gridplan.plan.ageing import _AGE_PROBLEMS
    from gridplan.plan.validate import PROBLEM_KINDS
    from gridplan.regions.propose import METHODS as REGION_METHODS
    from gridplan.report import gis
    from gridplan.report import workbooks as wb
    from gridplan.report.coveragemap import LAYERS, OUTLINES
    from gridplan.report.exports import CSV_COLUMNS
    from gridplan.report.method import ITEMS, PROPOSAL_ITEMS
    from gridplan.siting.study import _CHOICES, _NUMBERS

    keys = [s.key for s in STANDARDS]
    travel_scopes = _scopes("travel/")
    # remarks and bad rows carry the code written where they are made: Note(code), BadRow(row, code)
    notes = [c for c in _literal_codes() if c.startswith("regions.note.")]
    bad_rows = [c for c in _literal_codes() if c.startswith("popsurface.row.")]
    # accepted population warnings and notes keep the code they were added with
    population = [
        c for c in _literal_codes() if c.startswith(("population.warn.", "population.note."))
    ]
    # a version's note: the changes an edit made, each written with its code where it is made
    changes = [c for c in _literal_codes() if c.startswith("change.")]
    return {
        ("plan/changes.py", "code"): ("{}", changes),
        ("plan/changes.py", "fallback"): ("{}", changes),
        ("access/standards.py", "f'standard.{key}'"): ("standard.{}", keys),
        ("access/standards.py", "f'standard.{key}.seed'"): ("standard.{}.seed", keys),
        ("facilities/types.py", "f'facilities.type.{_canonical}'"): (
            "facilities.type.{}",
            FACILITY_TYPES,
        ),
        ("facilities/reader.py", "f'facilities.row.{code}'"): ("facilities.row.{}", ROW_REASONS),
        # the items of how a result was computed
        ("report/method.py", "f'report.doc.src_{key}'"): ("report.doc.src_{}", ITEMS),
        ("report/method.py", "f'report.doc.prop_{key}'"): ("report.doc.prop_{}", PROPOSAL_ITEMS),
        # the command line's complaints about argparse errors and files
        ("_cli_output.py", "code"): (
            "{}",
            [*_OS_ERRORS.values(), *(c for c, _ in _USAGE_PATTERNS)],
        ),
        # the required columns of the facility and settlement-point readers
        ("inputs/columns.py", "f'missing_column.{field}'"): (
            "missing_column.{}",
            ("name", "type", "lon", "lat", "population"),
        ),
        ("plan/validate.py", "self.code"): ("problem.{}", PROBLEM_KINDS),
        ("plan/ageing.py", "code"): ("{}", [c for c, _ in _AGE_PROBLEMS.values()]),
        ("plan/population.py", "str(params.pop('code'))"): ("{}", population),
        ("regions/instance.py", "self.code"): ("{}", notes),
        ("regions/propose.py", "f'regions.method.{sol.method}'"): (
            "regions.method.{}",
            [m for m in REGION_METHODS if m != "auto"],  # "auto" resolves to one of the others
        ),
        ("report/coveragemap.py", "f'report.cov.title_{layer}'"): ("report.cov.title_{}", LAYERS),
        ("report/coveragemap.py", "f'report.cov.line_{k}'"): ("report.cov.line_{}", OUTLINES),
        ("report/exports.py", "f'report.csv.{c}'"): ("report.csv.{}", CSV_COLUMNS),
        ("siting/study.py", "f'siting.{name}'"): ("siting.{}", [*_CHOICES, *_NUMBERS]),
        ("siting/study.py", "code"): ("siting.{}", _NUMBERS),
        ("surface/report.py", "self.code"): ("{}", bad_rows),
        # the generic travel checks, in every scope that runs them
        ("travel/base.py", "f'{problems.scope}.mode'"): ("{}.mode", travel_scopes),
        ("travel/base.py", "f'{problems.scope}.cutoff'"): ("{}.cutoff", travel_scopes),
        # the GIS and Excel exports (issue 12): field table, headers, verdicts, surfaces
        ("report/gis.py", "f'report.field.head.{c}'"): (
            "report.field.head.{}",
            gis.FIELD_TABLE_COLUMNS,
        ),
        ("report/gis.py", "f'report.field.{layer}.{self.full}'"): (
            "report.field.{}",
            [f"{layer}.{f.full}" for layer, fields in gis.FIELDS.items() for f in fields],
        ),
        ("report/workbooks.py", "f'report.xlsx.col.{key}'"): ("report.xlsx.col.{}", wb.ALL_COLUMNS),
        ("report/workbooks.py", "f'report.xlsx.centre.{flags[i]}'"): (
            "report.xlsx.centre.{}",
            wb.CENTRE_FLAGS,
        ),
        ("report/workbooks.py", "f'report.xlsx.src.surface_{key}'"): (
            "report.xlsx.src.surface_{}",
            wb.SURFACE_SOURCES,
        ),
    }


def _scopes(package: str) -> list[str]:
    """The scopes of the collectors made in ``package`` (``network`` for "network.invalid")."""
    found = set()
    for mod, call in _calls():
        if mod.startswith(package) and _func_name(call) == "Problems" and call.args:
            arg = call.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value.partition(".")[0])
    return sorted(found)


def _members(site: tuple[str, str]) -> list[str]:
    template, members = _families()[site]
    return [template.format(m) for m in members]


def _module(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _func_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _code_args(call: ast.Call) -> Iterator[ast.expr]:
    for kw in call.keywords:
        if kw.arg == "code":
            yield kw.value
    least = CODE_FIRST.get(_func_name(call))
    if least is not None and len(call.args) >= least:
        yield call.args[0]
    at = CODE_AT.get(_func_name(call))
    if at is not None and len(call.args) > at:
        yield call.args[at]


@functools.cache
def _trees() -> tuple[tuple[str, ast.Module], ...]:
    """Every module of the package, parsed once (the walks share the nodes)."""
    return tuple(
        (_module(py), ast.parse(py.read_text(encoding="utf-8"))) for py in sorted(SRC.rglob("*.py"))
    )


def _calls() -> Iterator[tuple[str, ast.Call]]:
    for mod, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield mod, node


def _literal_codes() -> dict[str, str]:
    """Every code written out in the source, and one place it is used."""
    out: dict[str, str] = {}
    for mod, call in _calls():
        for arg in _code_args(call):
            branches = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for node in branches:  # ``"a" if x else "b"``: both
                if isinstance(node, ast.Constant) and CODE.match(str(node.value)):
                    out.setdefault(str(node.value), f"{mod}:{call.lineno}")
    return out


def _run_time_sites() -> dict[tuple[str, str], tuple[int, ast.Call, ast.expr]]:
    """Every code expression that is not a plain string: (module, source) → (line, call, expr)."""
    out: dict[tuple[str, str], tuple[int, ast.Call, ast.expr]] = {}
    for mod, call in _calls():
        if mod in FORWARDERS:
            continue
        for arg in _code_args(call):
            if isinstance(arg, ast.Constant):
                continue
            if isinstance(arg, ast.IfExp) and all(
                isinstance(b, ast.Constant) for b in (arg.body, arg.orelse)
            ):
                continue
            out.setdefault((mod, ast.unparse(arg)), (call.lineno, call, arg))
    return out


class _Source:
    """The package's syntax trees, with each node's parent and each function's call sites."""

    def __init__(self) -> None:
        self.parent: dict[ast.AST, ast.AST] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        for _, tree in _trees():
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self.parent[child] = node
                if isinstance(node, ast.Call):
                    self.calls.setdefault(_func_name(node), []).append(node)

    def function_of(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def values(self, expr: ast.expr, depth: int = 0) -> list[str] | None:
        """Every string ``expr`` can be, or ``None`` when the test cannot follow it.

        Followed: a string written out; a local name set to strings (``x = "a" if c
        else "b"``, ``for x in ("a", "b")``); a parameter of a helper such as
        ``_download_error(kind)``, through every call of the helper (written out,
        or passed on from the caller's own parameters).
        """
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, ast.IfExp):
            branches = [self.values(b, depth) for b in (expr.body, expr.orelse)]
            return None if None in branches else sorted({v for b in branches for v in b or ()})
        fn = self.function_of(expr)
        names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
        if fn is None or depth > 3 or not names or not isinstance(expr, ast.Name | ast.JoinedStr):
            return None
        env: dict[str, list[str]] = {}
        params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
        for name in names - set(params):
            local = _local_values(fn, name)
            if local is None:
                return None
            env[name] = local
        wanted = names & set(params)
        if not wanted:
            return sorted(set(_render(expr, env)))
        if not self.calls.get(fn.name):
            return None
        out: set[str] = set()
        for call in self.calls[fn.name]:
            bound = self._bind(fn, call)
            for name in wanted:
                arg = bound.get(name)
                vals = None if arg is None else self.values(arg, depth + 1)
                if vals is None:
                    return None
                env[name] = vals
            out |= set(_render(expr, env))
        return sorted(out)

    @staticmethod
    def _bind(fn: ast.FunctionDef, call: ast.Call) -> dict[str, ast.expr]:
        positional = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
        if positional and positional[0] in ("self", "cls") and isinstance(call.func, ast.Attribute):
            positional = positional[1:]
        bound: dict[str, ast.expr] = {}
        defaults = fn.args.defaults
        for name, default in zip(
            positional[len(positional) - len(defaults) :], defaults, strict=True
        ):
            bound[name] = default
        for name, default in zip(
            [a.arg for a in fn.args.kwonlyargs], fn.args.kw_defaults, strict=True
        ):
            if default is not None:
                bound[name] = default
        bound.update(dict(zip(positional, call.args, strict=False)))  # *args: extra are unused
        bound.update({kw.arg: kw.value for kw in call.keywords if kw.arg})
        return bound


def _local_values(fn: ast.FunctionDef, name: str) -> list[str] | None:
    """The strings a local ``name`` of ``fn`` is set to, if it is only ever set to strings."""
    found: list[str] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            values = (
                [node.value]
                if not isinstance(node.value, ast.IfExp)
                else [
                    node.value.body,
                    node.value.orelse,
                ]
            )
        elif (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            if not isinstance(node.iter, ast.Tuple | ast.List):
                return None
            values = list(node.iter.elts)
        else:
            continue
        if not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
            return None
        found += [str(v.value) for v in values if isinstance(v, ast.Constant)]
    return sorted(set(found)) or None


def _render(expr: ast.expr, env: dict[str, list[str]]) -> list[str]:
    """``expr`` (a name or an f-string of names) for every combination of the names' values."""
    if isinstance(expr, ast.Name):
        return env[expr.id]
    assert isinstance(expr, ast.JoinedStr), ast.unparse(expr)
    out = [""]
    for part in expr.values:
        if isinstance(part, ast.Constant):
            out = [o + str(part.value) for o in out]
        else:
            assert isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name)
            out = [o + v for o in out for v in env[part.value.id]]
    return out


def test_every_catalogue_entry_has_both_languages_and_the_same_fields():
    assert len(CATALOGUES) >= 10 and len(MESSAGES) > 300
    problems = [p for code, texts in MESSAGES.items() for p in entry_problems(code, texts)]
    assert problems == []


def test_every_code_written_in_the_source_has_a_text():
    codes = _literal_codes()
    assert len(codes) > 250  # the walk really reads the source
    missing = sorted(f"{c} ({where})" for c, where in codes.items() if text_of(c) is None)
    assert missing == []


def _run_time_codes() -> tuple[dict[str, list[str]], list[str]]:
    """The codes of every run-time site (by site), and the sites the test cannot follow."""
    source = _Source()
    codes: dict[str, list[str]] = {}
    lost: list[str] = []
    for (mod, src), (line, _, expr) in sorted(_run_time_sites().items()):
        where = f"{mod}:{line}: {src}"
        if (mod, src) in _families():
            codes[where] = _members((mod, src))
            continue
        values = source.values(expr)
        if values is None:
            lost.append(where)
        else:
            codes[where] = values
    return codes, lost


def test_every_code_built_at_run_time_is_followed_or_a_listed_family():
    codes, lost = _run_time_codes()
    assert lost == [], "list these sites in _families(), with their members"
    assert len(codes) >= 20
    sites = _run_time_sites()
    stale = sorted(f"{m}: {src}" for (m, src) in _families() if (m, src) not in sites)
    assert stale == []


def test_every_code_built_at_run_time_has_a_text():
    codes, _ = _run_time_codes()
    missing = sorted(
        f"{c} ({where})" for where, members in codes.items() for c in members if text_of(c) is None
    )
    empty = sorted(where for where, members in codes.items() if not members)
    assert missing == [] and empty == []


def test_every_error_the_library_raises_carries_a_code():
    raw = []
    for mod, call in _calls():
        if _func_name(call) in ERROR_CLASSES:
            keywords = {kw.arg for kw in call.keywords}
            if "code" in keywords or None in keywords:  # None: **kwargs forwarded
                continue
            own = getattr(errors, _func_name(call)).code  # the class's own code
            if own in GENERIC_CODES or text_of(own) is None:
                raw.append(f"{mod}:{call.lineno}: {ast.unparse(call)[:80]}")
    assert raw == []


def test_every_template_formats_with_its_fields():
    bad = []
    for code, texts in MESSAGES.items():
        for lang, template in texts.items():
            try:
                template.format(**dict.fromkeys(template_fields(template), 1.0))
            except (ValueError, KeyError, IndexError) as exc:
                bad.append(f"{code} ({lang}): {exc}")
    assert bad == []


def test_chinese_ui_texts_are_simplified():
    """Every Chinese UI text is in Simplified characters (issue 14: a seed quote was shown in
    Traditional ones)."""
    import tomllib
    from pathlib import Path

    from tests.test_grids import TRADITIONAL

    texts = tomllib.loads((Path(__file__).parents[1] / "ui" / "texts.toml").read_text("utf-8"))
    zh = {k: v["zh"] for k, v in texts.items() if isinstance(v, dict) and "zh" in v}
    assert len(zh) > 400
    assert {k: t for k, t in zh.items() if set(t) & TRADITIONAL} == {}
