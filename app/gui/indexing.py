"""The indexing worker: one QThread runs the engine's watch loop and is the only index writer."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from app.engine import Engine
from app.settings import Settings
from indexer import Progress, SyncReport
from indexer.errors import IndexLockedError
from indexer.gate import Gate
from indexer.lock import submit_request

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.15
RETRY_LOCKED_MS = 30_000

# States shown in the status view and the tray.
STARTING, INDEXING, IDLE, PAUSED, LOCKED, FAILED = (
    "starting",
    "indexing",
    "idle",
    "paused",
    "locked",
    "failed",
)


@dataclass(frozen=True)
class ProgressInfo:
    """A snapshot of :class:`indexer.progress.Progress`, safe to hand to another thread."""

    phase: str
    done: int
    total: int
    current: str | None
    failed: int
    rate: float
    eta_s: float | None
    fraction: float = 1.0  # of the run's work, counting the passages embedded so far
    passage_rate: float = 0.0  # passages embedded per second
    doing: str = ""  # the file(s) in hand and their passages, for a status line


class _WatchThread(QThread):
    def __init__(self, service: IndexService) -> None:
        super().__init__()
        self.service = service
        self.settings = service.engine.snapshot()  # taken on the GUI thread, the owner
        self.stop = threading.Event()

    def run(self) -> None:
        svc = self.service
        try:
            svc.engine.run_watch(
                self.stop,
                on_progress=svc._on_progress,
                on_ready=svc._on_ready,
                on_report=svc._on_report,
                on_settings=svc._loaded.emit,
                settings=self.settings,
                checkpoint=lambda: svc.gate.wait(self.stop),
            )
        except IndexLockedError as exc:
            svc._finished.emit(LOCKED, str(exc))
        except Exception as exc:
            log.exception("Indexing stopped with an error")
            svc._finished.emit(FAILED, str(exc) or exc.__class__.__name__)
        else:
            svc._finished.emit(PAUSED if not svc._shutting_down else IDLE, "")


class IndexService(QObject):
    """Starts, pauses and resumes the watch loop and reports on it with throttled signals.

    Signals:
        progress(ProgressInfo): at most every ``PROGRESS_EVERY_S`` (and always the last one).
        synced(SyncReport): a sync pass finished (the catch-up or a later change).
        state_changed(str): one of the module's state constants.
        error(str): indexing stopped because of an error.
        settings_changed(): the settings file was re-read (another process changed it) and
            ``engine.settings`` updated, on the GUI thread.

    ``gate`` yields the cores to an answer: while it is held (by the LLM worker, see
    :class:`app.gui.asking.AskService`) the loop waits at its next safe point, keeping the writer
    lock and its place, and goes on once released; pause and shutdown still end it at once.
    """

    progress = Signal(object)
    synced = Signal(object)
    state_changed = Signal(str)
    error = Signal(str)
    settings_changed = Signal()
    _loaded = Signal(object)
    _finished = Signal(str, str)
    _state = Signal(str)

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.state = PAUSED
        self.gate = Gate()
        self._thread: _WatchThread | None = None
        self._last_emit = 0.0
        self._last_phase = ""
        self._last_current: str | None = None
        self._shutting_down = False
        self._finished.connect(self._on_finished)
        self._state.connect(self._set_state)
        self._loaded.connect(self._adopt)
        self._retry = QTimer(self, singleShot=True, interval=RETRY_LOCKED_MS)
        self._retry.timeout.connect(self.start)

    # -- control (GUI thread) -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the watch loop is running."""
        return self._thread is not None and self._thread.isRunning()

    def start(self) -> None:
        """Start (or resume) indexing; a no-op while running."""
        if self.running or self._shutting_down:
            return
        self._retry.stop()
        self._thread = _WatchThread(self)
        self._set_state(STARTING)
        self._thread.start()

    def pause(self) -> None:
        """Stop soon (between files, or between parts of a long one); work done is kept."""
        self._retry.stop()
        if self._thread is not None:
            self._thread.stop.set()
        if not self.running:
            self._set_state(PAUSED)

    def folders_changed(self) -> None:
        """The settings' folders or ignore patterns changed (already saved)."""
        if self.running:
            submit_request(self.engine.paths.index_dir, {"op": "sync"})
        elif self.state != LOCKED:
            self.start()
        else:
            submit_request(self.engine.paths.index_dir, {"op": "sync"})  # the other process

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop the loop and wait for the thread; returns whether it ended in time."""
        self._shutting_down = True
        self._retry.stop()
        t = self._thread
        if t is None:
            return True
        t.stop.set()
        ok = t.wait(timeout_ms)
        if not ok:
            log.error("The indexing thread did not stop within %d ms", timeout_ms)
        return ok

    # -- callbacks (indexing thread) ------------------------------------------------------------
    def _on_progress(self, p: Progress) -> None:
        now = time.monotonic()
        last = p.total > 0 and p.done >= p.total
        same = p.phase == self._last_phase and p.current == self._last_current
        if not last and same and now - self._last_emit < PROGRESS_EVERY_S:
            return
        self._last_emit, self._last_phase, self._last_current = now, p.phase, p.current
        self.progress.emit(
            ProgressInfo(
                p.phase,
                p.done,
                p.total,
                p.current,
                p.failed,
                p.rate,
                p.eta_s,
                p.fraction,
                p.passage_rate,
                p.doing(),
            )
        )
        if p.phase in ("scanning", "indexing", "finishing") and self.state != INDEXING:
            self._state.emit(INDEXING)

    def _on_ready(self, report: SyncReport) -> None:
        self.synced.emit(report)
        self._state.emit(IDLE)

    def _on_report(self, report: SyncReport) -> None:
        self.synced.emit(report)
        self._state.emit(IDLE)

    # -- GUI thread -----------------------------------------------------------------------------
    def _on_finished(self, state: str, message: str) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread = None
        self._set_state(state)
        if state == LOCKED and not self._shutting_down:
            self._retry.start()
        elif state == FAILED:
            self.error.emit(f"Indexing stopped: {message}")

    def _adopt(self, loaded: Settings) -> None:
        self.engine.adopt(loaded)
        self.settings_changed.emit()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
