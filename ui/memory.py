"""Give the memory of the large arrays a computation frees back to the system.

glibc's allocator raises its threshold for serving a block from ``mmap`` each time
a large block is freed (up to 32 MB), so after the first coverage compute the
1.4-million-cell temporaries of later ones come from the heap, where freed memory
stays with the process.  ``malloc_trim`` hands back what the heap has free after a
large computation.  The threshold itself is left to glibc: fixing it low (1 MB) gave
every large temporary its own mapping, zeroed page by page on each use, and made
numpy's array arithmetic about 40 % slower in the whole process.  Elsewhere than
glibc, nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc has it, musl and macOS do not
    except (OSError, AttributeError):
        return None
    return libc


def trim() -> bool:
    """Return the heap's free memory to the system (after a large computation)."""
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))
