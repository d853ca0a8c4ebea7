"""Where the dashboard keeps uploaded files: one private temporary folder per session.

Every upload is hostile until read, and many people use one server, so:

* each browser session gets its own folder (:func:`tempfile.mkdtemp`: a random
  name, readable by the server's user only), created on its first upload;
* files are stored under a generated name (content hash and the original
  suffix), never the uploaded name: a name can be too long for the file system
  (a Chinese name of about 86 characters is over 255 bytes), contain ``../`` or
  clash with another upload.  The original name is kept for messages only;
* a file is written atomically (a temporary name in the same folder, flushed
  to disk, then :func:`os.replace`), so a reader never sees half a file;
* the folder is removed when the session ends (the :class:`SessionFolder`
  held by the session is garbage-collected), when the server stops
  (:func:`weakref.finalize` runs at exit), and folders a crashed server left
  behind are swept when the next session starts one
  (:func:`sweep_stale_folders`, older than
  :data:`gridplan.settings.upload_session_max_age_h`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
import weakref
from pathlib import Path

from gridplan import settings

#: Prefix of the session folders in the system's temporary folder (the sweep looks for it).
FOLDER_PREFIX = "gridplan-session-"
#: A suffix part kept from an uploaded name (``.csv``, ``.osm``, ``.pbf``): letters and digits.
_SUFFIX_PART = re.compile(r"\.[A-Za-z0-9]{1,10}")


def stored_name(data: bytes, filename: str) -> str:
    """The name an upload is stored under: its content hash and the original's suffix.

    Up to two suffixes are kept (``roads.osm.pbf`` → ``….osm.pbf``), lower-cased,
    as the readers tell formats apart by them; anything else in the name is dropped.
    """
    digest = hashlib.sha256(data).hexdigest()[:32]
    parts = Path(filename).suffixes[-2:]
    suffix = "".join(p.lower() for p in parts if _SUFFIX_PART.fullmatch(p))
    return digest + suffix


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target``: a temporary file in the same folder, fsync, rename."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _remove(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


class SessionFolder:
    """A session's private upload folder; removed when this object goes away.

    Parameters
    ----------
    parent
        Where to create the folder (default: the system's temporary folder).
    """

    def __init__(self, parent: Path | None = None) -> None:
        base = Path(tempfile.gettempdir()) if parent is None else parent
        sweep_stale_folders(base)
        self.path = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=base))
        #: Stored file name → the name the planner uploaded it as (for messages).
        self.names: dict[str, str] = {}
        # runs when the session drops this object, on close(), or at interpreter exit
        self._finalizer = weakref.finalize(self, _remove, str(self.path))

    def save(self, data: bytes, filename: str) -> Path:
        """Store an upload (under :func:`stored_name`); its path.  Same content: same file."""
        self.path.mkdir(mode=0o700, exist_ok=True)  # re-made if the folder was cleaned away
        target = self.path / stored_name(data, filename)
        if not target.is_file():
            write_atomically(target, data)
        self.names[target.name] = Path(filename).name
        return target

    def file(self, name: str) -> Path:
        """A path in the folder for a file the dashboard makes itself (a download)."""
        self.path.mkdir(mode=0o700, exist_ok=True)
        return self.path / name

    def shown(self, text: str) -> str:
        """``text`` with stored paths and names replaced by the names the planner uploaded.

        The server's folder never reaches a message: a path in it shows as its file's name.
        """
        folder = str(self.path) + os.sep
        for stored, original in self.names.items():
            text = text.replace(folder + stored, original).replace(stored, original)
        return text.replace(folder, "")

    def close(self) -> None:
        """Remove the folder and everything in it now."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive


def sweep_stale_folders(parent: Path, max_age_h: float | None = None) -> list[Path]:
    """Remove session folders under ``parent`` untouched for ``max_age_h`` hours.

    Only this user's folders named :data:`FOLDER_PREFIX`… are considered; a
    live session touches its folder with each upload, and a day-old folder is
    one a stopped server could not clean.  Returns the folders removed.
    """
    limit_h = settings.upload_session_max_age_h if max_age_h is None else max_age_h
    cutoff = time.time() - limit_h * 3600
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            if not entry.name.startswith(FOLDER_PREFIX):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                mine = info.st_uid == os.getuid() and entry.is_dir(follow_symlinks=False)
                if mine and info.st_mtime < cutoff:
                    _remove(entry.path)
                    removed.append(Path(entry.path))
    return removed
