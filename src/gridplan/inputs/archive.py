"""Zip archives: member names, path safety, grouping the files of a layer."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gridplan.errors import UploadError
from gridplan.inputs.files import _LAYER_EXTS, _MB, _basename, _suffix, _too_large

# --------------------------------------------------------------------------------------
# zip archives


@dataclass
class _Group:
    """Members of a zip that share a path stem (the parts of one Shapefile)."""

    key: str
    display_stem: str
    target_stem: str
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)


def _member_name(info: zipfile.ZipInfo) -> str:
    """Readable member name: names from Chinese Windows zips are GBK without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return name
        for enc in ("utf-8", "gbk"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
    return name


def _is_unsafe(name: str) -> bool:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return any(part == ".." for part in norm.split("/"))


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _check_zip_members(infos: Sequence[zipfile.ZipInfo], limit_mb: float, filename: str) -> None:
    """Reject unsafe members and zip bombs before anything is extracted."""
    for info in infos:
        for name in {info.orig_filename, info.filename, _member_name(info)}:
            if _is_unsafe(name) or _is_symlink(info):
                raise UploadError(
                    f"unsafe zip {filename}: member {name!r} points outside the archive",
                    code="upload.zip_unsafe",
                    params={"member": name},
                )
    total = sum(info.file_size for info in infos)
    if total > limit_mb * _MB:
        raise _too_large(total, limit_mb, f"{filename} (uncompressed)")


def _is_hidden(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return any(p.startswith("__MACOSX") for p in parts) or parts[-1].startswith(".")


def _zip_groups(infos: Sequence[zipfile.ZipInfo]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for info in infos:
        if info.is_dir():
            continue
        name = _member_name(info)
        if _is_hidden(name):
            continue
        ext = _suffix(name)
        if ext not in _LAYER_EXTS:
            continue
        norm = name.replace("\\", "/")
        stem_path = norm[: len(norm) - len(ext)]
        key = stem_path.lower()
        if key not in groups:
            groups[key] = _Group(
                key=key,
                display_stem=_basename(stem_path),
                target_stem=f"layer{len(groups)}",
            )
        groups[key].members.setdefault(ext, info)
    return list(groups.values())


def _extract_groups(
    zf: zipfile.ZipFile, groups: Sequence[_Group], folder: Path, limit_mb: float, filename: str
) -> None:
    """Stream the members of ``groups`` into ``folder`` under generated names."""
    budget = limit_mb * _MB
    total = 0
    for group in groups:
        for ext, info in group.members.items():
            target = folder / f"{group.target_stem}{ext}"
            with zf.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(_MB):
                    total += len(chunk)
                    if total > budget:
                        raise _too_large(total, limit_mb, f"{filename} (uncompressed)")
                    dst.write(chunk)
