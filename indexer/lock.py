"""One writer at a time: an OS file lock on the index, and a spool for handing work over.

The lock is held with ``flock``/``LockFileEx`` semantics, so it is released by the OS when the
holder dies — a crashed or SIGKILLed Findling never leaves a stale lock. A writer that accepts
requests (``watch``, the desktop app) advertises it; a second process then drops its request
into the spool instead of failing.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any

from indexer.errors import IndexLockedError
from indexer.fsutil import atomic_write_bytes
from indexer.layout import IndexLayout


class WriterLock:
    """An exclusive, non-blocking lock on an index folder."""

    def __init__(self, index_dir: Path, *, accepts_requests: bool = False, role: str = "") -> None:
        self.index_dir = index_dir
        self.accepts_requests = accepts_requests
        self.role = role
        self._fh: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`IndexLockedError` at once (never waits)."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        fh = open(IndexLayout(self.index_dir).lock, "a+b")  # noqa: SIM115 - held for the lock's life
        try:
            _lock(fh)
        except OSError:
            fh.close()
            info = holder(self.index_dir)
            pid = info.get("pid") if info else None
            what = f" ({info.get('role')}, pid {pid})" if info else ""
            raise IndexLockedError(
                f"Another Findling process{what} is updating the index", pid=pid
            ) from None
        self._fh = fh
        _write_json(
            IndexLayout(self.index_dir).lock_info,
            {
                "pid": os.getpid(),
                "role": self.role,
                "accepts_requests": self.accepts_requests,
                "since": time.time(),
            },
        )

    def set_accepts_requests(self, value: bool) -> None:
        """Advertise (or stop advertising) that queued requests will be picked up."""
        self.accepts_requests = value
        if self._fh is not None:
            _write_json(
                IndexLayout(self.index_dir).lock_info,
                {
                    "pid": os.getpid(),
                    "role": self.role,
                    "accepts_requests": value,
                    "since": time.time(),
                },
            )

    def release(self) -> None:
        """Release the lock."""
        if self._fh is None:
            return
        try:
            (IndexLayout(self.index_dir).lock_info).unlink(missing_ok=True)
            _unlock(self._fh)
        finally:
            self._fh.close()
            self._fh = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fh is not None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(index_dir: Path) -> dict[str, Any] | None:
    """What the current lock holder advertised, if anyone holds the lock."""
    path = IndexLayout(index_dir).lock
    if not path.exists():
        return None
    try:
        with open(path, "a+b") as fh:
            try:
                _lock(fh)
            except OSError:
                pass
            else:
                _unlock(fh)
                return None  # nobody holds it
    except OSError:
        return None
    try:
        data = json.loads(IndexLayout(index_dir).lock_info.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def submit_request(index_dir: Path, request: dict[str, Any]) -> Path:
    """Queue a request for the running writer; returns the request file."""
    spool = IndexLayout(index_dir).requests
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
    _write_json(path, request)
    return path


def take_requests(index_dir: Path) -> list[dict[str, Any]]:
    """Read and remove queued requests, oldest first (writer side)."""
    spool = IndexLayout(index_dir).requests
    if not spool.is_dir():
        return []
    out: list[dict[str, Any]] = []
    for path in sorted(spool.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        path.unlink(missing_ok=True)
        if isinstance(data, dict):
            out.append(data)
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_bytes(path, json.dumps(data).encode("utf-8"))


if sys.platform == "win32":
    import msvcrt

    def _lock(fh: IO[bytes]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(fh: IO[bytes]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fh: IO[bytes]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fh: IO[bytes]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
