"""The shape of every text catalogue: a code, then its text in each language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

#: ``{code: {"zh": template, "en": template}}``; templates use ``str.format`` fields.
Catalogue = dict[str, dict[Lang, str]]


def merge(*parts: Mapping[str, Mapping[Lang, str]]) -> Catalogue:
    """One catalogue from several; a code defined twice is a programming error."""
    out: Catalogue = {}
    for part in parts:
        for code, texts in part.items():
            if code in out:
                raise ValueError(f"text {code!r} is defined twice")
            out[code] = dict(texts)
    return out
