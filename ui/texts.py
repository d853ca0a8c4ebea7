"""The dashboard's texts in Chinese (default) and English, and the one lookup :func:`tr`.

The texts are data: ``ui/texts.toml``, in the library's catalogue shape and read
by the library's loader (:func:`gridplan.i18n.catalogue.load_catalogue`, which
refuses an entry without both languages or with different fields in them).
Texts chosen at run time (a model's name, a facility source) belong to a
:class:`Family`, which lists its members, so a test can check every key of
every family exists in both languages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gridplan import workflow
from gridplan.i18n import LANGS, Catalogue, Lang
from gridplan.i18n.catalogue import load_catalogue, render
from gridplan.inputs.crs import DATUMS
from ui import state

#: Every text of the dashboard, by key.
TEXTS: Catalogue = load_catalogue(Path(__file__).with_name("texts.toml"))


def tr(key: str, /, *, lang: Lang | None = None, **params: object) -> str:
    """Text ``key`` in ``lang`` (default: the session's language), filled with ``params``.

    An unknown key is returned as it is, so a missing text shows rather than fails.
    """
    entry = TEXTS.get(key)
    if entry is None:
        return key
    return render(entry[lang or state.lang()], params)


#: Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and an
#: escaped one always shows as itself (no link, image, emphasis, heading, table, HTML tag,
#: entity, LaTeX ``$``, Streamlit ``:color[...]`` directive or autolinked URL can start).
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md_text(value: object) -> str:
    """``value`` as literal text inside Streamlit Markdown (messages, captions, labels).

    Every piece of planner-supplied text (file, column, unit, grid or facility
    names, error parameters) shown through ``st.error``/``st.info``/
    ``st.markdown``/``st.caption`` goes through here: ``![x](http://…)`` shows as
    those characters, not as an image the browser fetches.  Line breaks become
    spaces so the text cannot start a new Markdown block.
    """
    text = " ".join(str(value).splitlines())
    return _MD_PUNCT.sub(r"\\\1", text)


def md_lines(text: str) -> str:
    """A multi-line plain text (a library message) as Markdown: each line literal, kept apart."""
    return "  \n".join(md_text(line) for line in text.splitlines())


def join_list(items: Iterable[str], *, lang: Lang | None = None) -> str:
    """Items joined with the language's list separator (``、`` in Chinese)."""
    return tr("list_sep", lang=lang).join(items)


@dataclass(frozen=True)
class Family:
    """Texts picked at run time: the key ``<prefix>_<member>`` for each of ``members``.

    Call it with a member for the text (it serves as a widget's ``format_func``).
    """

    prefix: str
    members: tuple[str, ...]

    def key(self, member: str) -> str:
        return f"{self.prefix}_{member}"

    def __call__(self, member: str) -> str:
        return tr(self.key(member))

    def get(self, member: str) -> str:
        """The member's text, or the member itself when it has none (a new solver status)."""
        return self(member) if self.key(member) in TEXTS else member


PAGE = Family("page", ("overview", "grids", "access", "siting", "scenarios", "compare", "national"))
MODEL = Family("model", workflow.MODELS)
MODEL_NOTE = Family("model_note", workflow.MODELS)
MODE = Family("mode", workflow.MODES)
TARGET = Family("target", tuple(workflow.TARGET_GROUPS))
SOURCE = Family("src", ("uploaded", "osm", "illustrative", "added"))
DATUM = Family("datum", DATUMS)
BASEMAP = Family("basemap", ("none", "carto", "amap"))
LAYER = Family("layer", ("coverage", "minutes"))
UNIT_LEVEL = Family("level", ("county", "zone", "township"))
STANDARD_STATUS = Family("status", ("met", "below", "above", "no_data"))
LEAD_PLACING = Family("leads", ("from_list", "by_coordinates"))
CENTRE_STANDARD = Family("std", ("below", "within", "above"))
# the siting lists of gridplan.siting.study (a test keeps them equal; not imported here, as the
# study's solvers would load with every page)
SITING_LEVEL = Family("sit_level", ("primary", "secondary"))
SITING_METHOD = Family("sit_method", ("kmeans", "mclp", "pmedian", "target"))
SITING_CANDIDATES = Family("sit_cand", ("centres", "grid", "list"))
SITING_SOLVER = Family("sit_solver", ("exact", "greedy"))
SITING_STATUS = Family("sit_status", ("optimal", "time_limit", "greedy", "heuristic", "infeasible"))
#: The kinds of stored upload (ui.state.STORED_FILES and the siting files; a test keeps them equal).
UPLOAD_KIND = Family(
    "upload_kind",
    ("township", "population", "surface", "roads", "landcover", "dem",
     "siting_cand", "siting_excl"),
)  # fmt: skip

#: Every family, for the test that each of their keys has both languages.
FAMILIES: tuple[Family, ...] = (
    PAGE, MODEL, MODEL_NOTE, MODE, TARGET, SOURCE, DATUM, BASEMAP, LAYER, UNIT_LEVEL,
    STANDARD_STATUS, CENTRE_STANDARD,
    SITING_LEVEL, SITING_METHOD, SITING_CANDIDATES, SITING_SOLVER, SITING_STATUS, UPLOAD_KIND,
)  # fmt: skip

__all__ = ["FAMILIES", "LANGS", "TEXTS", "Family", "join_list", "md_lines", "md_text", "tr"]
