"""The hostile-upload corpus through each page's uploaders (AppTest, Chinese).

One AppTest per uploader takes every corpus file aimed at it, one after the other, as a planner
would in one session: a refused file gives a Chinese message and the data loaded before it stay;
no file raises; a usable file loads.  The listener and canary of ``test_hostile_corpus`` watch
the whole module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from streamlit.testing.v1 import AppTest

from tests.hostile.corpus import Case, build
from tests.hostile.witnesses import Canary, Listener

TIMEOUT = 120
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Uploader:
    """A page's uploader: how to reach it, put a file in, and what it keeps."""

    page: str
    key: str
    channel: str
    state_key: str | None  # the session value that must survive a refused upload
    submit: str | None = None  # a form's submit button
    prepare: Callable[[AppTest], None] | None = None


def _model(name: str) -> Callable[[AppTest], None]:
    def choose(at: AppTest) -> None:
        at.session_state["acc_cell"] = 1000
        at.selectbox(key="acc_model").set_value(name).run()

    return choose


def _siting(at: AppTest) -> None:
    at.selectbox(key="sit_cell_secondary").set_value(1000)
    at.number_input(key="sit_k_secondary").set_value(1)
    at.selectbox(key="sit_src_secondary").set_value("list")


def _coarse(at: AppTest) -> None:
    at.session_state["acc_cell"] = 1000


UPLOADERS = {
    "township": Uploader("grids", "tw_file", "township", "township_path",
                         "FormSubmitter:uploads-加载"),
    "population_file": Uploader("grids", "pop_file", "population_file", "population_path",
                                "FormSubmitter:uploads-加载"),
    "population": Uploader("access", "srf_file", "population", "surface_path",
                           "FormSubmitter:surface_upload-加载", _coarse),
    "facilities": Uploader("access", "fac_file", "facilities", "facilities",
                           "FormSubmitter:fac_upload-加载", _coarse),
    "osm_facilities": Uploader("access", "osm_file", "osm_facilities", "facilities",
                               "FormSubmitter:fac_upload-加载", _coarse),
    "roads": Uploader("access", "roads_file", "roads", "roads_path", None, _model("network")),
    "landcover": Uploader("access", "landcover_file", "landcover", "landcover_path", None,
                          _model("raster")),
    "dem": Uploader("access", "dem_file", "dem", "dem_path", None, _model("raster")),
    "candidates": Uploader("siting", "sit_cand_file_secondary", "candidates", None,
                           "FormSubmitter:sit_form_secondary-运行选址", _siting),
    "exclude": Uploader("siting", "sit_excl_file_secondary", "exclude", None,
                        "FormSubmitter:sit_form_secondary-运行选址", _siting),
    "plan_file": Uploader("scenarios", "scn_import_file", "plan_file", "plans",
                          "FormSubmitter:scn_import-导入"),
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    listener = Listener()
    canary = Canary(tmp_path_factory.mktemp("canary"))
    files = build(tmp_path_factory.mktemp("corpus"), listener.base, str(canary.path))
    yield files
    canary.close()
    listener.close()
    assert listener.hits == []
    assert not canary.opened


def _page(name: str) -> AppTest:
    return AppTest.from_file(f"../pages/{name}.py", default_timeout=TIMEOUT)


def _messages(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.error, *at.warning])


def _upload(at: AppTest, up: Uploader, case: Case, data: bytes) -> AppTest:
    name = case.upload_name or case.name
    at.file_uploader(key=up.key).set_value((name, data, "application/octet-stream"))
    if up.submit is not None:
        return at.button(key=up.submit).click().run()
    return at.run()


@pytest.mark.parametrize("channel", list(UPLOADERS))
def test_hostile_files_through_the_uploader(corpus, channel):
    up = UPLOADERS[channel]
    at = _page(up.page).run()
    assert not at.exception
    if up.prepare is not None:
        up.prepare(at)
        at.run()
    tried = 0
    for case, path in corpus:
        if channel not in case.channels:
            continue
        tried += 1
        kept = at.session_state[up.state_key] if _has(at, up.state_key) else None
        at = _upload(at, up, case, path.read_bytes())
        assert not at.exception, f"{case.name}: {at.exception}"
        shown = _messages(at)
        assert "Traceback" not in shown
        if case.expect in ("refused", "confirm"):
            assert CJK.search(shown), f"{case.name} via {channel}: no Chinese message: {shown!r}"
            now = at.session_state[up.state_key] if _has(at, up.state_key) else None
            assert _same(now, kept), f"{case.name} via {channel}: the previous data changed"
        at.file_uploader(key=up.key).set_value(None)
    assert tried


def _has(at: AppTest, key: str | None) -> bool:
    return key is not None and key in at.session_state


def _same(a: object, b: object) -> bool:
    if hasattr(a, "equals"):
        return bool(a.equals(b))  # type: ignore[union-attr]
    return a == b
