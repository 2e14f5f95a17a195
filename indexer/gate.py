"""A gate that lets other work in the process hold the indexer at its next safe point.

While an answer is generated, the language model wants every core it was given; the indexer
(extraction workers, embedding slices) would take them back and slow the answer's first token.
Whoever generates *holds* the gate; the indexing loop passes through :meth:`Gate.wait` at the
points where it may stop anyway (between files, between embedding slices, between watcher
batches), outside any transaction, and waits there until the last holder has released it or the
loop is told to stop. The writer lock stays held while it waits (nothing else may write in the
meantime, and nothing is lost); readers never take that lock, so searching and answering go on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

POLL_S = 0.1  # how soon a waiting indexer notices a stop request it was not woken for


class Gate:
    """Counted holds; :meth:`wait` blocks while any hold is outstanding (thread-safe)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holds = 0
        self._waiting = 0

    @property
    def held(self) -> bool:
        """Whether someone holds the gate."""
        with self._cond:
            return self._holds > 0

    @property
    def waiting(self) -> int:
        """How many threads wait at the gate right now."""
        with self._cond:
            return self._waiting

    def hold(self) -> None:
        """Hold the indexer at its next safe point (pair with :meth:`release`)."""
        with self._cond:
            self._holds += 1

    def release(self) -> None:
        """Undo one :meth:`hold`; the indexer goes on once no hold is left."""
        with self._cond:
            if self._holds == 0:
                log.warning("Gate released more often than held")
                return
            self._holds -= 1
            if self._holds == 0:
                self._cond.notify_all()

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Hold the gate for a ``with`` block, released however the block ends."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def wait(self, stop: threading.Event) -> bool:
        """Block while the gate is held and ``stop`` is not set; returns ``stop.is_set()``.

        Shaped as a stop check, so the indexer's own ``should_stop`` polls can pass through it.
        """
        with self._cond:
            if self._holds and not stop.is_set():
                self._waiting += 1
                log.debug("Indexing waits for an answer to finish")
                try:
                    while self._holds and not stop.is_set():
                        self._cond.wait(POLL_S)
                finally:
                    self._waiting -= 1
        return stop.is_set()
