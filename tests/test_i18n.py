"""Every text a planner can see exists in Chinese and in English.

The library: the test reads the source and collects every message code it can
raise or render: codes written out (``code="upload.too_large"``,
``problems.add("capacity.threshold", ...)``, ``t("report.map.title")``), and
codes put together at run time from a family of keys (``t(f"standard.{key}")``).
Each run-time site must be listed in :data:`FAMILIES` with the members of its
family, so a new one cannot slip through.  Every error the library raises
carries a code.  Each code must resolve to a catalogue entry
(:func:`gridplan.i18n.text_of`) with both languages and the same fields.

The dashboard's keys are checked in ``tests/test_ui_helpers.py`` (every
``tr()`` key and every member of the run-time families).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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
#: arguments (``Problems.add(code, text)``, ``Problems.choice(code, name, value, allowed)``;
#: a set's ``add`` or numpy's ``choice`` take fewer).
CODE_FIRST = {"t": 1, "Problems": 1, "add": 2, "choice": 4}
#: Modules that forward a code given to them (the collector and the lookup themselves).
FORWARDERS = {"_validate.py", "i18n/__init__.py"}


def _families() -> dict[tuple[str, str], Callable[[], list[str]]]:
    """Each run-time code site (module, source of the code expression) and its members."""
    from gridplan.access.standards import STANDARDS
    from gridplan.facilities.types import FACILITY_TYPES

    return {
        ("access/standards.py", "f'standard.{key}'"): lambda: [
            f"standard.{s.key}" for s in STANDARDS
        ],
        ("access/standards.py", "f'standard.{key}.seed'"): lambda: [
            f"standard.{s.key}.seed" for s in STANDARDS
        ],
        ("facilities/types.py", "f'facilities.type.{_canonical}'"): lambda: [
            f"facilities.type.{x}" for x in FACILITY_TYPES
        ],
    }


FAMILIES = _families()


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


def _calls() -> Iterator[tuple[str, ast.Call]]:
    for py in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                yield _module(py), node


def _literal_codes() -> dict[str, str]:
    """Every code written out in the source, and one place it is used."""
    out: dict[str, str] = {}
    for mod, call in _calls():
        for arg in _code_args(call):
            for node in ast.walk(arg):  # also both branches of ``"a" if x else "b"``
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if CODE.match(node.value):
                        out.setdefault(node.value, f"{mod}:{call.lineno}")
    return out


def _run_time_sites() -> dict[tuple[str, str], int]:
    """Every code expression that is not a plain string: (module, source) → line."""
    out: dict[tuple[str, str], int] = {}
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
            out.setdefault((mod, ast.unparse(arg)), call.lineno)
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


def test_every_code_built_at_run_time_is_a_listed_family():
    sites = _run_time_sites()
    unlisted = sorted(
        f"{m}:{line}: {src}" for (m, src), line in sites.items() if (m, src) not in FAMILIES
    )
    assert unlisted == [], "add these sites to FAMILIES in this test, with their members"
    stale = sorted(f"{m}: {src}" for (m, src) in FAMILIES if (m, src) not in sites)
    assert stale == []


@pytest.mark.parametrize("site", sorted(FAMILIES), ids=lambda s: f"{s[0]}:{s[1]}")
def test_every_member_of_a_run_time_family_has_a_text(site):
    members = FAMILIES[site]()
    assert members, site
    assert [c for c in members if text_of(c) is None] == []


def test_every_error_the_library_raises_carries_a_code():
    raw = []
    for mod, call in _calls():
        if _func_name(call) in ERROR_CLASSES:
            keywords = {kw.arg for kw in call.keywords}
            if "code" not in keywords and None not in keywords:  # None: **kwargs forwarded
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
