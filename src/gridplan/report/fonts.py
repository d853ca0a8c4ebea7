"""A CJK font for the PNG maps: found on the system or named by GRIDPLAN_CJK_FONT."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from gridplan.errors import CJKFontMissingError

# --- fonts ------------------------------------------------------------------------------

#: Environment variable naming a font file to use for Chinese text.
FONT_ENV = "GRIDPLAN_CJK_FONT"

#: Font files looked for first (Debian/Ubuntu fonts-noto-cjk, other Linux
#: distributions, macOS, Windows).
KNOWN_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)

#: Font families looked up in matplotlib's font list when no known file exists.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
)


def find_cjk_font() -> Path | None:
    """Locate a font file with Chinese glyphs, or ``None``.

    Order: the file named by ``$GRIDPLAN_CJK_FONT`` (ignored when it does not
    exist), the :data:`KNOWN_FONT_PATHS`, then matplotlib's font list for the
    :data:`CJK_FAMILIES`.
    """
    env = os.environ.get(FONT_ENV, "").strip()
    if env and Path(env).expanduser().is_file():
        return Path(env).expanduser()
    for p in KNOWN_FONT_PATHS:
        if Path(p).is_file():
            return Path(p)
    by_family: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        by_family.setdefault(entry.name, entry.fname)
    for fam in CJK_FAMILIES:
        fname = by_family.get(fam)
        if fname and Path(fname).is_file():
            return Path(fname)
    return None


def _face(path: Path) -> str:
    """The font file, as a matplotlib ``FontPath`` on the Simplified Chinese face of a collection.

    Font collections (``.ttc``) hold several faces; Noto Sans CJK's first is
    the Japanese one, whose glyph shapes differ slightly from mainland
    Chinese usage.  matplotlib ≥ 3.11 can address a face by index; older
    versions use the first face, which still has every Chinese glyph.
    """
    font_path_cls = getattr(font_manager, "FontPath", None)
    if path.suffix.lower() not in (".ttc", ".otc") or font_path_cls is None:
        return str(path)
    try:
        from matplotlib import ft2font

        first = ft2font.FT2Font(str(path))
        for i in range(int(first.num_faces)):
            family = str(ft2font.FT2Font(str(path), face_index=i).family_name)
            if family.endswith(" SC") and "Mono" not in family:
                face: str = font_path_cls(str(path), i)
                return face
    except (TypeError, RuntimeError, OSError, ValueError):
        pass
    return str(path)


@dataclass(frozen=True)
class _Fonts:
    regular: str
    bold: str

    def prop(self, size: float, bold: bool = False) -> FontProperties:
        return FontProperties(fname=self.bold if bold else self.regular, size=size)


def _fonts() -> _Fonts:
    path = find_cjk_font()
    if path is None:
        raise CJKFontMissingError(
            "no CJK font found; install fonts-noto-cjk or set GRIDPLAN_CJK_FONT to a font file",
            params={"env": FONT_ENV},
        )
    bold_path = path
    for a, b in (("Regular", "Bold"), ("regular", "bold")):
        if a in path.name and (path.parent / path.name.replace(a, b)).is_file():
            bold_path = path.parent / path.name.replace(a, b)
            break
    return _Fonts(regular=_face(path), bold=_face(bold_path))
