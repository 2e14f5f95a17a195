"""The LLM worker: one QThread owns the model; tokens reach the GUI as signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.engine import Engine
from indexer import Answer, Hit, Searcher, SearchFilters, SearchResult
from indexer.gate import Gate
from indexer.quote import Extract

log = logging.getLogger(__name__)


@dataclass
class AskOutcome:
    """An answer plus the passages it quotes, keyed by chunk id (to show a citation's page)."""

    question: str
    answer: Answer
    hits: dict[str, Hit] = field(default_factory=dict)


class _RecordingSearcher:
    """A searcher that remembers the hits it returned, so citations can be shown in full."""

    def __init__(self, inner: Searcher) -> None:
        self._inner = inner
        self.config = inner.config
        self.embedder = inner.embedder
        self.hits: dict[str, Hit] = {}

    def search(self, *args: Any, **kwargs: Any) -> SearchResult:
        result = self._inner.search(*args, **kwargs)
        self.hits.update({h.chunk_id: h for h in result.hits})
        return result

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        # what else the asker reads (which files mention a name, a page's opening line,
        # collection counts) as it is
        return getattr(self._inner, name)


class StopRequests:
    """Which requests were asked to stop: every request up to a given id (thread-safe).

    A stop belongs to the requests queued when it was pressed, so a Stop pressed before the
    worker picks a question up is not lost, and never stops a question asked afterwards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._upto = 0

    def stop_upto(self, req: int) -> None:
        """Stop request ``req`` and every earlier one."""
        with self._lock:
            self._upto = max(self._upto, req)

    def stopped(self, req: int) -> bool:
        """Whether request ``req`` was asked to stop."""
        with self._lock:
            return req <= self._upto


class _AskWorker(QObject):
    sources = Signal(int, object)
    extract = Signal(int, object)
    token = Signal(int, str)
    status = Signal(int, str)
    finished = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, engine: Engine, stops: StopRequests, index_gate: Gate | None) -> None:
        super().__init__()
        self.engine = engine
        self.stops = stops
        self.index_gate = index_gate
        self._searcher: Searcher | None = None

    @Slot(int, str, object)
    def ask(self, req: int, question: str, filters: SearchFilters | None) -> None:
        # Indexing yields its cores while the model loads and writes, and is released however
        # the answer ends (done, stopped, failed) before the front ends hear that it ended.
        hold = self.index_gate.holding() if self.index_gate is not None else nullcontext()
        with hold:
            ended = self._answer(req, question, filters)
        ended()

    def _answer(self, req: int, question: str, filters: SearchFilters | None) -> Callable[[], None]:
        """Answer ``question``; returns the emit of how it ended (``finished`` or ``failed``)."""
        try:
            if self.stops.stopped(req):
                stopped = AskOutcome(question, Answer("", False, stopped=True))
                return partial(self.finished.emit, req, stopped)
            self.status.emit(req, "Loading the language model…")
            self.engine.llm  # noqa: B018 - loads once, on this thread
            if self._searcher is None:
                self._searcher = self.engine.searcher()
            rec = _RecordingSearcher(self._searcher)
            self.status.emit(req, "Reading your files…")
            # Duck-typed: it has what Asker uses of a Searcher (search, mentioning, config…).
            asker = self.engine.asker(rec)  # type: ignore[arg-type]

            def quoted(quote: Extract | None, hits: list[Hit]) -> None:
                self.sources.emit(req, {h.chunk_id: h for h in hits})
                self.extract.emit(req, quote)

            answer = asker.ask(
                question,
                on_token=lambda t: self.token.emit(req, t),
                should_stop=lambda: self.stops.stopped(req),
                filters=filters,
                on_extract=quoted,
            )
            return partial(self.finished.emit, req, AskOutcome(question, answer, rec.hits))
        except Exception as exc:
            log.exception("Asking failed")
            return partial(self.failed.emit, req, str(exc) or exc.__class__.__name__)


class AskService(QObject):
    """Questions go in, tokens and answers come out; one question at a time.

    Signals:
        sources(req, dict[str, Hit]): the passages the answer reads, by chunk id, just before
        extract(req, Extract | None): the quoted answer sentence, as soon as search returns
        (``None``: not found in the files); token(req, text), status(req, text),
        finished(req, AskOutcome), failed(req, message).
    """

    sources = Signal(int, object)
    extract = Signal(int, object)
    token = Signal(int, str)
    status = Signal(int, str)
    finished = Signal(int, object)
    failed = Signal(int, str)
    _ask = Signal(int, str, object)

    def __init__(
        self, engine: Engine, parent: QObject | None = None, index_gate: Gate | None = None
    ) -> None:
        """Args:
        engine: Models and index.
        parent: The owning Qt object.
        index_gate: Held while a question is answered, so the GUI's indexing waits
            (:attr:`app.gui.indexing.IndexService.gate`).
        """
        super().__init__(parent)
        self._stops = StopRequests()
        self._thread = QThread()
        self._thread.setObjectName("findling-llm")
        self._worker = _AskWorker(engine, self._stops, index_gate)
        self._worker.moveToThread(self._thread)
        self._ask.connect(self._worker.ask)
        self._worker.sources.connect(self.sources)
        self._worker.extract.connect(self.extract)
        self._worker.token.connect(self.token)
        self._worker.status.connect(self.status)
        self._worker.finished.connect(self._done)
        self._worker.failed.connect(self._fail)
        self._thread.start()
        self._req = 0
        self.busy = False

    def ask(self, question: str, filters: SearchFilters | None = None) -> int:
        """Queue a question; returns its request id."""
        self._req += 1
        self.busy = True
        self._ask.emit(self._req, question, filters)
        return self._req

    def stop(self) -> None:
        """Stop the question asked last (and any before it), even if it has not started yet;
        checked before it starts and after every token."""
        self._stops.stop_upto(self._req)

    def _done(self, req: int, outcome: object) -> None:
        self.busy = req != self._req
        self.finished.emit(req, outcome)

    def _fail(self, req: int, message: str) -> None:
        self.busy = req != self._req
        self.failed.emit(req, message)

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop generating and end the thread."""
        self._stops.stop_upto(self._req)
        self._thread.quit()
        if not self._thread.wait(timeout_ms):
            log.error("The language-model thread did not stop in time")
