"""Give the memory of the large arrays a computation frees back to the system.

glibc's allocator raises its threshold for serving a block from ``mmap`` each time
a large block is freed (up to 32 MB), so after the first coverage compute the
1.4-million-cell temporaries of later ones come from the heap, where freed memory
stays with the process: the dashboard's resident memory grew by what it had once
needed, not what it holds.  A fixed threshold of 1 MB keeps every array above it
in its own mapping, returned to the system when freed; ``malloc_trim`` hands back
what the heap has free after a large computation.  Elsewhere than glibc, nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

#: ``mallopt`` parameter number of ``M_MMAP_THRESHOLD`` (glibc ``malloc.h``).
M_MMAP_THRESHOLD = -3
#: Arrays above this many bytes get their own mapping.
MMAP_THRESHOLD_BYTES = 1 << 20


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.mallopt  # noqa: B018 - glibc has it, musl and macOS do not
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def fix_mmap_threshold() -> bool:
    """Serve every block above :data:`MMAP_THRESHOLD_BYTES` from its own mapping."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def trim() -> bool:
    """Return the heap's free memory to the system (after a large computation)."""
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))
