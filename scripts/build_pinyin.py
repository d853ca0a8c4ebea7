"""Regenerate data/geo/prefecture_pinyin.csv: pinyin and initials of every prefecture and province.

The dashboard's national picker finds 南京市 from "nj" or "nanjing"; it reads the
embedded table this script writes, so the product itself never needs a pinyin
library.  Run it (from the project root) when the boundary layer gains names::

    .venv/bin/python -m pip install pypinyin   # build only, not a GridPlan dependency
    .venv/bin/python scripts/build_pinyin.py

Pinyin is taken of a name's core: the administrative suffix (市, 地区, 盟, 林区, 县,
特别行政区, 省, 自治区) and the nationalities of an autonomous prefecture or county
are left out, as planners say and type them (楚雄彝族自治州 → 楚雄 → "chuxiong", "cx").
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

from pypinyin import Style, lazy_pinyin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gridplan.inputs.boundaries import list_prefectures  # noqa: E402

OUT = ROOT / "data" / "geo" / "prefecture_pinyin.csv"

#: Nationalities named in autonomous prefectures and counties (longest first: 蒙古族 before 蒙古).
# fmt: off
NATIONALITIES = sorted(
    ("朝鲜族", "土家族", "苗族", "藏族", "羌族", "彝族", "布依族", "侗族", "哈尼族", "壮族", "傣族",
     "白族", "景颇族", "傈僳族", "回族", "蒙古族", "蒙古", "柯尔克孜", "哈萨克", "黎族", "维吾尔"),
    key=len,
    reverse=True,
)
# fmt: on
_AUTONOMOUS = re.compile(f"(?:{'|'.join(NATIONALITIES)})+自治(?:州|县)$")
# provinces first: 内蒙古自治区 keeps its 蒙古 (内蒙古), 新疆维吾尔自治区 loses its 维吾尔
_SUFFIX = re.compile(r"(?:特别行政区|(?:维吾尔|壮族|回族)?自治区|地区|林区|省|市|盟|县)$")

#: Readings pypinyin's phrase dictionary gets wrong for place names (checked by hand).
OVERRIDES: dict[str, str] = {
    "长治": "chang zhi",
    "朝阳": "chao yang",
    "漯河": "luo he",
    "昌都": "chang du",
}


def core_name(name: str) -> str:
    """The part of a name planners type: 楚雄彝族自治州 → 楚雄, 北京市 → 北京."""
    if not name.endswith("自治区"):  # 内蒙古自治区 is 内蒙古, not 内
        core = _AUTONOMOUS.sub("", name)
        if core != name:
            return core
    return _SUFFIX.sub("", name) or name


def spell(name: str) -> tuple[str, str]:
    """Full pinyin without tones and the initials of a name's core."""
    core = core_name(name)
    if core in OVERRIDES:
        syllables = OVERRIDES[core].split()
    else:
        syllables = lazy_pinyin(core, style=Style.NORMAL, errors="ignore")
    syllables = [s.replace("ü", "v") for s in syllables]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


def rows() -> list[dict[str, str]]:
    """One row per prefecture and per province, in adcode order."""
    prefs = list_prefectures()
    out = []
    seen: set[str] = set()
    for name in [*prefs["name"], *dict.fromkeys(prefs["province"])]:
        if name in seen:
            continue
        seen.add(name)
        pinyin, initials = spell(name)
        if not pinyin.isascii() or not pinyin.isalpha():
            raise SystemExit(f"no pinyin for {name!r}: {pinyin!r}")
        out.append({"name": name, "core": core_name(name), "pinyin": pinyin, "initials": initials})
    return out


def main() -> None:
    """Write the table."""
    table = rows()
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(
            f, fieldnames=["name", "core", "pinyin", "initials"], lineterminator="\n"
        )
        w.writeheader()
        w.writerows(table)
    print(f"wrote {len(table)} names to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
