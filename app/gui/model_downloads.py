"""Model downloads off the GUI thread, with progress, pause (resumed later by a Range request)
and cancel. The GUI thread only sees signals."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.model_admin import download_message
from models.catalogue import ModelSpec
from models.download import discard_partial, download_model
from models.errors import DownloadStopped, ModelError

log = logging.getLogger(__name__)

# Progress reaches the GUI at most this often (a fast link reads thousands of blocks a second).
PROGRESS_EVERY_S = 0.1


@dataclass
class _Download:
    spec: ModelSpec
    stop: threading.Event = field(default_factory=threading.Event)
    cancel: bool = False


class _Run(QRunnable):
    def __init__(self, owner: Downloads, job: _Download) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._owner = owner
        self._job = job

    def run(self) -> None:
        owner, job = self._owner, self._job
        mid = job.spec.id
        last = 0.0

        def progress(done: int, total: int | None) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_S or (total is not None and done >= total):
                last = now
                owner.progress.emit(mid, done, total if total is not None else -1)

        try:
            spec = download_model(job.spec, owner.models_dir, progress=progress, stop=job.stop)
        except DownloadStopped:
            if job.cancel:
                self._discard()
            owner.stopped.emit(mid, job.cancel)
        except ModelError as exc:
            log.warning("Download of %s failed: %s", mid, exc)
            if job.cancel:  # cancelled while failing: still leave nothing behind
                self._discard()
                owner.stopped.emit(mid, True)
            else:
                owner.failed.emit(mid, download_message(exc), str(exc))
        except Exception as exc:  # a bug, not a download failure: still end the row's state
            log.exception("Download of %s failed", mid)
            owner.failed.emit(mid, download_message(exc), str(exc))
        else:
            owner.finished.emit(mid, spec)

    def _discard(self) -> None:
        try:
            discard_partial(self._job.spec, self._owner.models_dir)
        except OSError as exc:
            log.warning("Could not delete the partial download of %s: %s", self._job.spec.id, exc)


class Downloads(QObject):
    """Runs model downloads, each on its own pool thread. The main window owns one, so a
    download goes on while the Settings dialog is closed.

    Signals:
        progress(id, done, total): bytes so far and in all (-1: unknown), throttled.
        finished(id, spec): the file was verified and moved into place; ``spec`` is installed.
        failed(id, short message, full message): the ``.part`` file is kept unless the
            failure was a bad checksum (it is then deleted).
        stopped(id, cancelled): paused (the ``.part`` file is kept) or cancelled (deleted).
    """

    progress = Signal(str, int, int)
    finished = Signal(str, object)
    failed = Signal(str, str, str)
    stopped = Signal(str, bool)

    def __init__(self, models_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models_dir = models_dir
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._jobs: dict[str, _Download] = {}
        self._last: dict[str, tuple[int, int]] = {}
        self.progress.connect(self._note)
        for sig in (self.finished, self.failed, self.stopped):
            sig.connect(self._forget)

    def running(self, model_id: str) -> bool:
        """Whether ``model_id`` is being downloaded (or is finishing a pause/cancel)."""
        return model_id in self._jobs

    def progress_of(self, model_id: str) -> tuple[int, int] | None:
        """The last (done, total) reported for a running download (for a page opened later)."""
        return self._last.get(model_id) if model_id in self._jobs else None

    def any_running(self) -> bool:
        """Whether any download is in progress."""
        return bool(self._jobs)

    def start(self, spec: ModelSpec) -> None:
        """Download ``spec`` (resuming its ``.part`` file, if any)."""
        if spec.id in self._jobs:
            return
        job = _Download(spec)
        self._jobs[spec.id] = job
        self.pool.start(_Run(self, job))

    def pause(self, model_id: str) -> None:
        """Stop after the current block, keeping what was downloaded; ``stopped`` follows."""
        job = self._jobs.get(model_id)
        if job is not None:
            job.stop.set()

    def cancel(self, spec: ModelSpec) -> None:
        """Stop and delete what was downloaded (also of a paused download); ``stopped`` follows."""
        job = self._jobs.get(spec.id)
        if job is not None:
            job.cancel = True
            job.stop.set()
            return
        try:
            discard_partial(spec, self.models_dir)
        except (OSError, ModelError) as exc:
            log.warning("Could not delete the partial download of %s: %s", spec.id, exc)
        self.stopped.emit(spec.id, True)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Pause every download (they resume next time) and wait for the threads."""
        for job in self._jobs.values():
            job.stop.set()
        self.pool.waitForDone(timeout_ms)

    def _note(self, model_id: str, done: int, total: int) -> None:
        self._last[model_id] = (done, total)

    def _forget(self, model_id: str, *_: object) -> None:
        self._jobs.pop(model_id, None)
        self._last.pop(model_id, None)
