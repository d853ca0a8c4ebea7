"""The report document as a Word file (.docx), written with python-docx.

A4 portrait, a cover page, numbered headings, tables with a header row that
repeats on every page, the maps full width and page numbers in the footer.
Chinese text is set in 宋体 (headings 黑体), the fonts every Chinese Word
installation has; Latin text and figures in Times New Roman / Arial.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from gridplan.report.document import Block, Cover, Figure, Paragraph, ReportDocument, Table

#: East Asian fonts of the body and the headings, and their Latin companions.
BODY_FONTS = ("宋体", "Times New Roman")
HEADING_FONTS = ("黑体", "Arial")
#: Text width of an A4 page with 2.5 cm margins.
_TEXT_WIDTH_CM = 16.0


def write_docx(doc: ReportDocument) -> bytes:
    """The Word file of ``doc``."""
    word = Document()
    _page_setup(word)
    _styles(word)
    word.core_properties.title = doc.title
    word.core_properties.language = "zh-CN" if doc.lang == "zh" else "en-GB"
    _cover(word, doc.cover)
    for section in doc.sections:
        word.add_heading(section.title, level=1)
        for block in section.blocks:
            _block(word, block)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _page_setup(word: Any) -> None:
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.5))
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
    section.different_first_page_header_footer = True  # no page number on the cover
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_field(footer.add_run())


def _page_field(run: Any) -> None:
    """A PAGE field: Word fills in the page number."""
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind is None:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)


def _set_fonts(style_font: Any, element: Any, fonts: tuple[str, str]) -> None:
    east, latin = fonts
    style_font.name = latin
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east)


def _styles(word: Any) -> None:
    normal = word.styles["Normal"]
    normal.font.size = Pt(10.5)  # 五号
    _set_fonts(normal.font, normal.element, BODY_FONTS)
    normal.paragraph_format.space_after = Pt(4)
    normal.paragraph_format.line_spacing = 1.25
    for name, size in (("Title", 22), ("Heading 1", 15)):
        style = word.styles[name]
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0x1F, 0x1F, 0x1F)
        _set_fonts(style.font, style.element, HEADING_FONTS)


def _cover(word: Any, cover: Cover) -> None:
    for _ in range(5):
        word.add_paragraph()
    title = word.add_paragraph(cover.title, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = word.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.add_run(cover.subtitle).font.size = Pt(14)
    for _ in range(4):
        word.add_paragraph()
    table = word.add_table(rows=0, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for name, value in cover.rows:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Cm(4), Cm(9)
        cells[0].paragraphs[0].add_run(name).bold = True
        cells[1].paragraphs[0].add_run(value)
    for _ in range(3):
        word.add_paragraph()
    note = word.add_paragraph()
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note.add_run(cover.note).font.size = Pt(9)
    word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _block(word: Any, block: Block) -> None:
    if isinstance(block, Paragraph):
        _paragraph(word, block)
    elif isinstance(block, Table):
        _table(word, block)
    else:
        _figure(word, block)


def _paragraph(word: Any, p: Paragraph) -> None:
    if p.kind == "item":
        word.add_paragraph(p.text, style="List Bullet")
        return
    run = word.add_paragraph().add_run(p.text)
    if p.kind == "note":
        run.font.size = Pt(9)
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    elif p.kind == "warning":
        run.bold = True
        run.font.color.rgb = RGBColor(0xA0, 0x20, 0x20)


def _table(word: Any, tb: Table) -> None:
    table = word.add_table(rows=1, cols=len(tb.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    size = Pt(8 if len(tb.header) > 6 else 9)
    _repeat_header(table.rows[0])
    for cell, text in zip(table.rows[0].cells, tb.header, strict=True):
        _cell(cell, text, size, bold=True)
        _shade(cell, "E8ECEF")
    for row in tb.rows:
        cells = table.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, row, strict=True)):
            _cell(cell, text, size, right=i in tb.numeric)
    word.add_paragraph()


def _cell(cell: Any, text: str, size: Any, *, bold: bool = False, right: bool = False) -> None:
    para = cell.paragraphs[0]
    para.paragraph_format.space_after = Pt(0)
    para.paragraph_format.line_spacing = 1.0
    if right:
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = para.add_run(text)
    run.font.size = size
    run.bold = bold


def _repeat_header(row: Any) -> None:
    """The header row repeats at the top of every page a long table runs over."""
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _shade(cell: Any, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _figure(word: Any, fig: Figure) -> None:
    word.add_picture(io.BytesIO(fig.png), width=Cm(_TEXT_WIDTH_CM))
    word.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption = word.add_paragraph()
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = caption.add_run(fig.caption)
    run.font.size = Pt(9)
    run.bold = True
