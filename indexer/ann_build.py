"""Building the approximate vector index off the writer's path.

Training an IVF_PQ index takes minutes at a few hundred thousand vectors on two cores
(``benchmarks/results/scale-*.json``): done inline, it held up the writer (new and changed
files were not indexed meanwhile). Here one background thread, with its own LanceDB
connection to the same table, runs :func:`indexer.ann.ensure` whenever the writer asks after a
compaction. LanceDB commits the new index as a table version of its own: readers keep
searching the version they have (rows outside any index are scanned exactly) and switch to the
index when it lands, and the writer's appends and merges meanwhile commit beside it. Only the
writer's compaction is held back while a build runs (a rewrite of the fragments being indexed
would make one of the two commits fail); it runs at the next optimize point instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from indexer import ann
from indexer.ann import AnnConfig

log = logging.getLogger(__name__)

# Opens the writer's table on a connection of the builder's own.
OpenTable = Callable[[], Any]


class AnnBuilder:
    """One background thread that builds, retrains or drops the vector index on request.

    Requests made while a build runs are merged into one that follows it (the latest count
    of vectors wins). Safe to call from the writer's thread; the builder never writes rows.

    Args:
        open_table: Opens the chunk table on a new connection (called in the builder thread).
        config: When to build, retrain or drop (:class:`indexer.ann.AnnConfig`).
    """

    def __init__(self, open_table: OpenTable, config: AnnConfig) -> None:
        self._open_table = open_table
        self.config = config
        self._cond = threading.Condition()
        self._pending = False
        self._vectors: int | None = None
        self._busy = False  # a request is being worked on
        self._held = 0  # hold() depth: requests wait while held
        self._closing = False
        self._thread: threading.Thread | None = None
        self.last: str | None = None  # what the last finished request did (see ann.ensure)
        self.failures = 0

    @property
    def busy(self) -> bool:
        """Whether a request is queued or being worked on."""
        with self._cond:
            return self._busy or self._pending

    def request(self, vectors: int | None = None) -> None:
        """Ask for :func:`indexer.ann.ensure` on the latest table version; returns at once.

        Args:
            vectors: Rows with a vector, when the caller knows (spares a scan of the column).
        """
        with self._cond:
            if self._closing:
                return
            self._pending, self._vectors = True, vectors
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="findling-ann-build", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no request is queued or running. Returns False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._busy or self._pending), timeout)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep requests from starting while inside (they run when the last hold ends)."""
        with self._cond:
            self._held += 1
        try:
            yield
        finally:
            with self._cond:
                self._held -= 1
                self._cond.notify_all()

    @contextmanager
    def idle(self) -> Iterator[bool]:
        """Yield whether no build is running, and keep one from starting while inside: the
        writer compacts only then."""
        with self._cond:
            free = not self._busy
            if free:
                self._held += 1
        try:
            yield free
        finally:
            if free:
                with self._cond:
                    self._held -= 1
                    self._cond.notify_all()

    def close(self, timeout: float | None = None) -> None:
        """Drop queued requests and wait for a running build to commit (it cannot be cut
        short: LanceDB trains in native code)."""
        with self._cond:
            self._closing, self._pending = True, False
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        table: Any = None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing or (self._pending and not self._held))
                if self._closing:
                    return
                self._pending, vectors, self._busy = False, self._vectors, True
            try:
                if table is None:
                    table = self._open_table()
                else:
                    table.checkout_latest()
                self.last = ann.ensure(table, self.config, vectors)
            except Exception as exc:  # housekeeping: searches stay correct without the index
                self.failures += 1
                table = None
                log.warning("Building the approximate vector index failed: %s", exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
