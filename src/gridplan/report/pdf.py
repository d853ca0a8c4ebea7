"""The report document as a PDF, laid out from HTML and CSS by WeasyPrint.

WeasyPrint sets the text with Pango and HarfBuzz and embeds the fonts it uses,
subset: the PDF's Chinese text is real text (it can be searched and copied),
not pictures of glyphs, and opens the same on any machine.  The font is the
CJK font the maps use (:func:`gridplan.report.fonts.find_cjk_font`), named in
an ``@font-face`` rule: the Simplified Chinese face of Noto Sans CJK by name
when fontconfig knows it, else the font file itself.  No browser is involved.
"""

from __future__ import annotations

import base64
import html
import logging
from pathlib import Path

from gridplan.errors import CJKFontMissingError
from gridplan.report.document import Block, Cover, Figure, Paragraph, ReportDocument, Table
from gridplan.report.fonts import FONT_ENV, find_cjk_font

#: Family names tried before the font file (fontconfig picks the Simplified Chinese face).
_LOCAL_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Serif CJK SC")

_CSS = """
@page { size: A4; margin: 2.2cm 2cm 2.2cm 2cm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; } }
@page :first { @bottom-center { content: none; } }
html { font-family: "GridPlan CJK", sans-serif; font-size: 10pt; line-height: 1.5; color: #1f1f1f; }
h1 { font-size: 15pt; margin: 18pt 0 8pt; border-bottom: 1pt solid #888; padding-bottom: 2pt;
  break-after: avoid; }
p { margin: 0 0 5pt; text-align: justify; }
p.note { font-size: 8.5pt; color: #555; }
p.warning { font-weight: bold; color: #a02020; border: 1pt solid #a02020; padding: 4pt; }
ul { margin: 0 0 6pt; padding-left: 16pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 10pt; font-size: 8.5pt; }
table.wide { font-size: 7.5pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 2pt 4pt; vertical-align: top; }
th { background: #e8ecef; font-weight: bold; text-align: center; }
td.num { text-align: right; white-space: nowrap; }
td:first-child { white-space: nowrap; }
figure { margin: 6pt 0 12pt; break-inside: avoid; text-align: center; }
figure img { width: 100%; }
figcaption { font-size: 9pt; font-weight: bold; margin-top: 3pt; }
.cover { break-after: page; text-align: center; padding-top: 6cm; }
.cover .title { font-size: 24pt; font-weight: bold; margin-bottom: 10pt; text-align: center; }
.cover .subtitle { font-size: 14pt; margin-bottom: 3cm; text-align: center; }
.cover table { width: 11cm; margin: 0 auto 3cm; font-size: 11pt; }
.cover td { border: none; border-bottom: 0.5pt solid #bbb; padding: 5pt 6pt; text-align: left; }
.cover td.label { font-weight: bold; width: 3.5cm; }
.cover .note { font-size: 9pt; color: #555; text-align: center; }
"""


def _font_face() -> str:
    """The ``@font-face`` rule of the report's CJK font (by name, else its file)."""
    path = find_cjk_font()
    if path is None:
        raise CJKFontMissingError(
            "no CJK font found; install fonts-noto-cjk or set GRIDPLAN_CJK_FONT to a font file",
            params={"env": FONT_ENV},
        )
    sources = [f'local("{name}")' for name in _LOCAL_FAMILIES]
    if Path(path).is_file():
        sources.append(f'url("{Path(path).resolve().as_uri()}")')
    return '@font-face { font-family: "GridPlan CJK"; src: ' + ", ".join(sources) + "; }\n"


def report_html(doc: ReportDocument) -> str:
    """The HTML page WeasyPrint lays out (fonts, styles, cover and sections)."""
    lang = "zh-CN" if doc.lang == "zh" else "en"
    parts = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{_e(doc.title)}</title><style>{_font_face()}{_CSS}</style></head><body>",
        _cover(doc.cover),
    ]
    for section in doc.sections:
        parts.append(f'<section id="{_e(section.key)}"><h1>{_e(section.title)}</h1>')
        parts += _blocks(section.blocks)
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def write_pdf(doc: ReportDocument) -> tuple[bytes, int]:
    """The PDF of ``doc`` and its number of pages."""
    from weasyprint import HTML  # loads Pango: only when a PDF is written

    # WeasyPrint logs every CSS property it ignores; the report's CSS is fixed, so quiet
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    rendered = HTML(string=report_html(doc)).render()
    return rendered.write_pdf(), len(rendered.pages)


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _cover(cover: Cover) -> str:
    rows = "".join(
        f'<tr><td class="label">{_e(name)}</td><td>{_e(value)}</td></tr>'
        for name, value in cover.rows
    )
    return (
        f'<div class="cover"><p class="title">{_e(cover.title)}</p>'
        f'<p class="subtitle">{_e(cover.subtitle)}</p><table>{rows}</table>'
        f'<p class="note">{_e(cover.note)}</p></div>'
    )


def _blocks(blocks: tuple[Block, ...]) -> list[str]:
    """The HTML of a section's blocks; consecutive items make one list."""
    out: list[str] = []
    items: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph) and block.kind == "item":
            items.append(f"<li>{_e(block.text)}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        out.append(_block(block))
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return out


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return f'<p class="{_e(block.kind)}">{_e(block.text)}</p>'
    if isinstance(block, Table):
        return _table(block)
    return _figure(block)


def _table(tb: Table) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in tb.header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(c)}</td>' if i in tb.numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in tb.rows
    )
    wide = ' class="wide"' if len(tb.header) > 6 else ""
    return f"<table{wide}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(fig: Figure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(fig.caption)}">'
        f"<figcaption>{_e(fig.caption)}</figcaption></figure>"
    )
