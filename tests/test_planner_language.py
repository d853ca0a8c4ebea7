"""Planner language everywhere: no raw value, internal code or file name on any page.

Every page runs with AppTest in Chinese and in English (for five prefectures' presets
where it matters); every text a planner reads (titles, Markdown, captions, messages,
metrics, expander labels and every table's headers and cells) is searched for what a
planner should never see: ``None``, ``nan``, ``inf``, internal codes, seed file names,
"seed 00x", and, in the Chinese UI, English table headers.  The presets' quotes are
checked for Traditional characters (a planner in the mainland reads Simplified).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "data" / "geo" / "presets").glob("*.json"))
TIMEOUT = 180

#: What no text of the dashboard may hold (whole words where the token is a word).
FORBIDDEN = {
    "None": re.compile(r"\bNone\b"),
    "nan": re.compile(r"\b(nan|NaN|NAN)\b"),
    "inf": re.compile(r"(?<![A-Za-z])-?inf\b|\binfinity\b|∞"),
    "NaT": re.compile(r"\bNaT\b"),
    "internal code": re.compile(
        r"type_default|来源：[a-z_]+(?![a-z_-])|\b[a-z]+_[a-z_]+\b(?=[：:）)]|$)"
    ),
    "seed file": re.compile(r"\d{3}_[0-9a-f]{8,}|\.txt\b"),
    "seed number": re.compile(r"\bseed\s*\d{3}\b|种子文件\s*\d{3}|种子\s*\d{3}", re.IGNORECASE),
    "seed jargon (zh)": re.compile(r"种子"),
}
#: Latin words a Chinese header may hold: units and names of formats.
HEADER_LATIN_OK = re.compile(r"^(km²?|m|h|min|kmh|km/h|CSV|PNG|GeoJSON|Excel|ID|GP|SFCA|[A-Z])$")


#: Characters that exist only in Traditional writing (their Simplified forms differ), common in
#: health-planning documents.  院 and 卫 look alike in both and are not in the list.
TRADITIONAL_ONLY = set("醫療區縣衛體網務員機構設聯劃創劑護綜鄉鎮婦幫設個達點間辦歲與會為這")


def texts_of(at: AppTest) -> list[str]:
    """Every text a planner reads on the page as AppTest sees it."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "latex"):
        out += [str(e.value) for e in at.get(kind)]
    for kind in ("info", "warning", "error", "success", "exception"):
        out += [str(e.value) for e in at.get(kind)]
    for m in at.metric:
        out += [str(m.label), str(m.value), str(m.proto.delta or "")]
    for e in at.get("expander"):
        out.append(str(e.label))
    for tab in at.tabs:
        out.append(str(tab.label))
    for kind in ("selectbox", "radio", "multiselect", "number_input", "slider", "checkbox"):
        for w in at.get(kind):
            out.append(str(w.label))
            out += [str(o) for o in getattr(w, "options", [])]
    for kind in ("button", "download_button"):
        out += [str(b.proto.label) for b in at.get(kind)]
    return out


def tables_of(at: AppTest) -> list[tuple[pd.DataFrame, list[str]]]:
    """Each table with the headers a planner reads: a column's label where the page gives
    one (``st.column_config``: editors read their tables back by the column names), else its
    name."""
    out = []
    for element in [*at.dataframe, *at.table]:
        table = element.value
        if not isinstance(table, pd.DataFrame):
            continue
        config = json.loads(getattr(element.proto, "columns", "") or "{}")
        shown = [str(config.get(str(c), {}).get("label") or c) for c in table.columns]
        out.append((table, shown))
    return out


def problems_in(text: str, lang: str) -> list[str]:
    found = []
    for what, pattern in FORBIDDEN.items():
        if what.endswith("(zh)") and lang != "zh":
            continue
        m = pattern.search(text)
        if m:
            found.append(f"{what}: {m.group(0)!r} in {text[:160]!r}")
    return found


def header_problems(header: str) -> list[str]:
    """A Chinese table header holding an English word (units and format names aside)."""
    words = re.findall(r"[A-Za-z][A-Za-z_]*", header)
    bad = [w for w in words if not HEADER_LATIN_OK.match(w)]
    return [f"English header: {header!r}"] if bad else []


def page_problems(at: AppTest, lang: str) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    found = [p for text in texts_of(at) for p in problems_in(text, lang)]
    for table, headers in tables_of(at):
        for header in headers:
            found += problems_in(header, lang)
            if lang == "zh":
                found += header_problems(header)
        for col in table.columns:
            values = table[col]
            if values.isna().any():
                found.append(f"missing value shown raw in column {col!r}")
            for v in values.astype(str).unique():
                found += problems_in(v, lang)
            if pd.api.types.is_float_dtype(values) and values.abs().eq(float("inf")).any():
                found.append(f"infinite value in column {col!r}")
    return sorted(set(found))


def run_page(name: str, lang: str, **state) -> AppTest:
    at = AppTest.from_file(f"../pages/{name}.py", default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


PREFECTURES = ["130100", "532300", "360700", "371100", "410100"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("pref", PREFECTURES)
def test_overview_and_grids_pages_speak_planner_language(lang, pref):
    for name in ("overview", "grids"):
        at = run_page(name, lang, prefecture=pref)
        assert page_problems(at, lang) == [], name


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_access_page_speaks_planner_language(lang):
    at = run_page("access", lang, acc_cell=500, acc_cap=True, acc_hot=True, acc_catch=True)
    assert page_problems(at, lang) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_siting_page_speaks_planner_language_with_an_answer(lang):
    # the study and the proposal are run in Chinese, then the page is drawn in ``lang``:
    # AppTest formats a radio's value outside the page run (in the default language), so
    # a run after the first one in English cannot be driven
    at = run_page("siting", "zh", prefecture="371100")
    submit = next(b for b in at.button if (b.key or "").startswith("FormSubmitter:sit_form_"))
    at = submit.click().run()
    assert at.metric, "the siting answer was drawn"
    at.number_input(key="prop_k").set_value(2)
    at = at.button(key="prop_run").click().run()
    at.session_state["lang"] = lang
    at = at.run()
    assert any(d.value.shape[0] for d in at.dataframe), "the answer's tables are drawn"
    assert page_problems(at, lang) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", ["scenarios", "compare"])
def test_scenario_pages_speak_planner_language(lang, name):
    at = run_page(name, lang)
    assert page_problems(at, lang) == []


def test_the_sweep_finds_what_it_looks_for():
    # the sweep itself: each forbidden kind of text is found, a clean one is not
    assert problems_in("人口：None", "zh") and problems_in("覆盖率 nan%", "zh")
    assert problems_in("平均 inf 分钟", "zh") and problems_in("来源：centres", "zh")
    assert problems_in("type_default", "en") and problems_in("003_5b7a9d10fc71fe9d.txt", "en")
    assert problems_in("seed 004: ...", "en") and problems_in("种子文件000", "zh")
    assert not problems_in("石家庄市 · 1,364,247 人 · 15 分钟覆盖 92.3%", "zh")
    assert not problems_in("Information about the plan", "en")
    assert header_problems("population") and not header_problems("面积（km²）")


def preset_quotes() -> list[tuple[str, str]]:
    out = []
    for path in PRESETS:
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.stem, doc.get("seed_quote", "")))
        out += [(path.stem, n) for n in doc.get("notes", [])]
        out.append((path.stem, json.dumps(doc.get("seed", {}), ensure_ascii=False)))
    return out


@pytest.mark.parametrize(("preset", "text"), preset_quotes())
def test_no_preset_text_is_in_traditional_characters(preset, text):
    assert sorted(set(text) & TRADITIONAL_ONLY) == [], preset


def test_every_preset_names_its_source_as_a_document():
    for path in PRESETS:
        seed = json.loads(path.read_text(encoding="utf-8"))["seed"]
        assert (
            seed["title"] and seed["issuer"] and re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", seed["date"])
        )
        assert not problems_in(seed["title"] + seed["issuer"], "zh"), path.stem
