"""Witnesses of hostile files: a local listener that records every connection, and a canary
file outside the uploads that records whether anything opened it.  The GDAL tests, the
hostile corpus through the CLI and through the pages share them."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import threading
import time
from pathlib import Path

#: What a reader of the canary gets.
CANARY_CONTENT = b"canary: a server file\n"


class Listener:
    """A TCP server on 127.0.0.1 that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        """The server's address, for files that name their own paths on it."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """A raster's address on the server."""
        return f"{self.base}/pop.tif"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.5)
                try:
                    self.hits.append(conn.recv(200) or b"<connected>")
                except OSError:
                    self.hits.append(b"<connected>")

    def close(self) -> None:
        time.sleep(0.1)  # a connection GDAL made at the very end is still counted
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


class Canary:
    """A FIFO outside the upload; ``opened`` turns true once someone opens it for reading."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "secret.tif"
        os.mkfifo(self.path)
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:  # ENXIO: no reader yet
                assert exc.errno == errno.ENXIO
                time.sleep(0.005)
                continue
            self.opened = True
            with contextlib.suppress(OSError):
                os.write(fd, CANARY_CONTENT)
            os.close(fd)

    def close(self) -> None:
        time.sleep(0.05)
        self._stop.set()
        self._thread.join(2)
