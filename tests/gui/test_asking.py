"""The LLM worker's Stop: pressed before an answer starts, it still stops that answer."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app.gui.asking import AskOutcome, AskService
from indexer.ask import Answer

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


class _Searcher:
    config = None
    embedder = None

    def close(self) -> None:
        pass


class _Asker:
    """Holds the first question until ``gate`` opens; answers report whether they were stopped
    when they began and when they ended."""

    def __init__(self, gate: threading.Event, started: threading.Event) -> None:
        self.gate, self.started = gate, started

    def ask(
        self, question: str, *, on_token: Any, should_stop: Any, filters: Any, on_extract: Any
    ) -> Answer:
        if question == "first":
            self.started.set()
            self.gate.wait(20)
        return Answer(question, True, stopped=should_stop())


class _Engine:
    def __init__(self) -> None:
        self.gate, self.started = threading.Event(), threading.Event()
        self.llm = None

    def searcher(self) -> _Searcher:
        return _Searcher()

    def asker(self, searcher: Any) -> _Asker:
        return _Asker(self.gate, self.started)


def test_stop_pressed_before_the_worker_starts_the_question_is_kept(qtbot):
    engine = _Engine()
    svc = AskService(engine)  # type: ignore[arg-type]
    outcomes: dict[int, AskOutcome] = {}
    svc.finished.connect(lambda req, o: outcomes.__setitem__(req, o))
    try:
        first = svc.ask("first")
        assert engine.started.wait(10)  # the worker is busy with the first question
        second = svc.ask("second")  # queued behind it
        svc.stop()  # pressed before the second one started
        engine.gate.set()
        qtbot.waitUntil(lambda: second in outcomes, timeout=20_000)
        assert outcomes[second].answer.stopped
        assert outcomes[first].answer.stopped  # a stop covers the questions before it
        third = svc.ask("third")  # a later question is not stopped by the earlier Stop
        qtbot.waitUntil(lambda: third in outcomes, timeout=20_000)
        assert not outcomes[third].answer.stopped
    finally:
        engine.gate.set()
        svc.shutdown()
