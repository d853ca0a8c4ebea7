"""The shape of every text catalogue, and reading one from its TOML file.

A catalogue is a TOML file with one table per code and the code's text in
each language::

    ["upload.too_large"]
    zh = "文件过大：{size_mb:.1f} MB，超过上限 {limit_mb:.0f} MB。"
    en = "File too large: {size_mb:.1f} MB, over the {limit_mb:.0f} MB limit."

Templates use :meth:`str.format` fields.  Texts are data, not code: the
library keeps one file per pipeline stage in this folder, the dashboard one of
its own (``ui/texts.toml``); both are read by :func:`load_catalogue`, which
refuses an entry that lacks a language or whose languages use different fields.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

#: ``{code: {"zh": template, "en": template}}``
Catalogue = dict[str, dict[Lang, str]]


def template_fields(template: str) -> set[str]:
    """The names of the format fields of ``template`` (``{n}``, ``{size_mb:.1f}`` → n, size_mb)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, params: Mapping[str, object]) -> str:
    """``template`` filled with ``params``; the template itself when they do not fit it,
    so a text with a missing or mistyped value still shows rather than fails."""
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def entry_problems(code: str, texts: Mapping[str, object]) -> list[str]:
    """What is wrong with one entry: a missing or extra language, fields that differ."""
    problems = []
    if set(texts) != set(LANGS):
        problems.append(f"{code}: languages {sorted(texts)}, expected {list(LANGS)}")
    elif not all(isinstance(v, str) and v for v in texts.values()):
        problems.append(f"{code}: every text must be a non-empty string")
    elif template_fields(str(texts["zh"])) != template_fields(str(texts["en"])):
        problems.append(f"{code}: zh and en use different fields")
    return problems


def load_catalogue(path: Path) -> Catalogue:
    """Read and check one catalogue file; every problem of the file in one ``ValueError``."""
    with path.open("rb") as f:
        raw = tomllib.load(f)
    problems = [p for code, texts in raw.items() for p in entry_problems(code, texts)]
    if problems:
        raise ValueError(f"text catalogue {path.name} is malformed: " + "; ".join(problems))
    return {code: {"zh": texts["zh"], "en": texts["en"]} for code, texts in raw.items()}


def merge(parts: Iterable[Catalogue]) -> Catalogue:
    """One catalogue from several; a code defined twice is a programming error."""
    out: Catalogue = {}
    for part in parts:
        for code, texts in part.items():
            if code in out:
                raise ValueError(f"text {code!r} is defined twice")
            out[code] = dict(texts)
    return out
