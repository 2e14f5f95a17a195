"""Run short Qt-free jobs on a pool thread and get the result back on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted from the pool are queued to it."""

    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # reported on the GUI thread, never lost
            log.exception("Background job failed")
            self._relay.failed.emit(exc)
        else:
            self._relay.done.emit(result)


class TaskRunner(QObject):
    """A small pool of threads for reads (search, preview, status).

    ``max_threads=1`` serialises jobs, which is what objects documented as "one thread at a time"
    (such as :class:`indexer.search.Searcher`) need.
    """

    def __init__(self, max_threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._relays: set[_Relay] = set()
        self._closed = False

    def submit(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn()`` on the pool; ``on_done(result)`` or ``on_error(exc)`` on this thread."""
        relay = _Relay()
        self._relays.add(relay)

        def finish(result: Any, cb: Callable[[Any], None] | None) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            # After shutdown the widgets a callback would update may already be gone.
            if cb is not None and not self._closed:
                cb(result)

        relay.done.connect(lambda r: finish(r, on_done))
        relay.failed.connect(lambda e: finish(e, on_error))
        self.pool.start(_Job(fn, relay))

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Drop queued jobs, wait for running ones; results that arrive later are dropped."""
        self._closed = True
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)
