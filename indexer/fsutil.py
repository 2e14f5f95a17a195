"""Small file-system helpers shared by the indexer and the app (Qt-free)."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``path`` so that readers see the old or the new content, never half of it.

    ``durable`` also flushes the content and the rename to disk before returning, so that the
    new content survives a power cut (for records that other files' fate depends on).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary name per writer: two processes writing the same file never share one.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable and os.name == "posix":  # the rename itself lives in the folder's entry
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
