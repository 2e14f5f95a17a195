"""Give the C heap's free memory back to the system after a large, short-lived allocation.

glibc keeps memory that native code has freed inside the process (in its heap and per-thread
arenas) unless asked to return it; ONNX Runtime's graph optimisation at session creation
frees tens of megabytes of temporary tensors that would otherwise stay resident for the whole
life of the process (the resident engine held 233 MB after loading the embedder, 174 MB once
trimmed; benchmarks/bench_memory.py). Elsewhere (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any


@functools.cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None  # glibc only
    except OSError:
        return None


def trim() -> bool:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``); whether it could."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
