"""Following changes: watchdog events, coalesced into batches of paths for :meth:`Indexer.sync`.

Watchdog's thread only records paths. Bursts (an editor's save-by-rename, a folder copied in,
``git checkout``) are coalesced: a batch is released once the folder has been quiet for
``settle_s`` or ``max_wait_s`` after the first event. If the kernel's event queue overflows or an
observer fails, the watcher asks for a full rescan instead of trusting a partial picture.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from indexer.scan import ALWAYS_IGNORED_DIRS, IgnoreRules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchBatch:
    """Paths to re-check, or a request for a full rescan."""

    paths: frozenset[Path]
    rescan: bool = False


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher, root: Path) -> None:
        self.watcher = watcher
        self.root = root

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(dest)
        self.watcher._add(
            [Path(os.fsdecode(p)) for p in paths], self.root, is_dir=bool(event.is_directory)
        )


def _make_observer(on_overflow: Callable[[], None]) -> Any:
    """The platform's observer; on Linux one that reports inotify queue overflows.

    watchdog (7.x) handles ``IN_Q_OVERFLOW`` by re-adding its watches and logging a warning; the
    events lost are not replayed and no event reaches the handler. The overflow callback of each
    watch group is wrapped so the watcher can fall back to a full rescan.
    """
    try:
        from watchdog.observers.inotify import InotifyEmitter, InotifyObserver
    except ImportError:  # not Linux
        return Observer()
    if Observer is not InotifyObserver:
        return Observer()

    class _Emitter(InotifyEmitter):
        def on_thread_start(self) -> None:
            super().on_thread_start()
            group = getattr(self, "_inotify", None)
            original = getattr(group, "on_queue_overflow", None)
            if group is None or original is None:
                log.warning("Cannot hook inotify overflow in this watchdog version")
                return

            def overflow() -> None:
                original()
                on_overflow()

            group.on_queue_overflow = overflow

    obs = InotifyObserver()
    obs._emitter_class = _Emitter
    return obs


class Watcher:
    """Watches folders and hands out coalesced batches of changed paths.

    Args:
        folders: Folders to watch recursively.
        ignore: The user's gitignore-style patterns.
        settle_s: Quiet time after the last event before a batch is released.
        max_wait_s: Longest a busy stream of events can delay a batch.
        max_pending: Above this many distinct paths, ask for a rescan instead.
    """

    def __init__(
        self,
        folders: Iterable[Path],
        ignore: Iterable[str] = (),
        *,
        exclude: Iterable[Path] = (),
        settle_s: float = 1.0,
        max_wait_s: float = 5.0,
        max_pending: int = 20_000,
    ) -> None:
        self.folders = [Path(os.path.abspath(f)) for f in folders]
        self.rules = IgnoreRules(ignore, exclude)
        self.settle_s = settle_s
        self.max_wait_s = max_wait_s
        self.max_pending = max_pending
        self._pending: set[Path] = set()
        self._rescan = False
        self._first = 0.0
        self._last = 0.0
        self._cond = threading.Condition()
        self._observer: Observer | None = None  # type: ignore[valid-type]

    def start(self) -> None:
        """Start watching. Folders that do not exist are skipped (and rescanned later)."""
        obs = _make_observer(self._on_overflow)
        for folder in self.folders:
            if folder.is_dir():
                obs.schedule(_Handler(self, folder), str(folder), recursive=True)
            else:
                log.warning("Not watching %s: the folder is not reachable", folder)
        obs.start()
        self._observer = obs

    def stop(self) -> None:
        """Stop watching."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(5)
            self._observer = None
        with self._cond:
            self._cond.notify_all()

    @property
    def alive(self) -> bool:
        """Whether the observer thread is running (it dies on fatal errors such as overflow)."""
        return self._observer is not None and self._observer.is_alive()

    def _on_overflow(self) -> None:
        log.warning("The file watcher lost events (kernel queue overflow); rescanning")
        self.request_rescan()

    def request_rescan(self) -> None:
        """Ask for a full rescan with the next batch."""
        with self._cond:
            self._rescan = True
            self._first = self._first or time.monotonic()
            self._last = time.monotonic() - self.settle_s
            self._cond.notify_all()

    def _add(self, paths: list[Path], root: Path, *, is_dir: bool = False) -> None:
        relevant = [p for p in paths if self._relevant(p, root, is_dir)]
        if not relevant:
            return
        now = time.monotonic()
        with self._cond:
            if not self._pending and not self._rescan:
                self._first = now
            self._pending.update(relevant)
            if len(self._pending) > self.max_pending:
                self._pending.clear()
                self._rescan = True
            self._last = now
            self._cond.notify_all()

    def _relevant(self, p: Path, root: Path, is_dir: bool = False) -> bool:
        try:
            rel = p.relative_to(root)
        except ValueError:
            return False
        if any(part in ALWAYS_IGNORED_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            return False
        if self.rules.excluded(p, root):  # Findling's own index and data: never a feedback loop
            return False
        # Keep events for folders and for supported files; a temporary file's rename onto a real
        # name arrives with the real name as its destination.
        if is_dir:  # a folder created, moved or deleted: its files are looked at in the sync
            return not (p.name in ALWAYS_IGNORED_DIRS or p.name.startswith("."))
        if p.suffix == "" or p.is_dir():
            return True
        return not self.rules.ignored_file(p, root)

    def has_pending(self) -> bool:
        """Whether changes are waiting (the work behind the index yields to them)."""
        with self._cond:
            return bool(self._pending or self._rescan)

    def next_batch(self, timeout: float) -> WatchBatch | None:
        """Wait up to ``timeout`` seconds for a settled batch of changes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                if self._pending or self._rescan:
                    quiet = now - self._last >= self.settle_s
                    overdue = now - self._first >= self.max_wait_s
                    if quiet or overdue:
                        batch = WatchBatch(frozenset(self._pending), self._rescan)
                        self._pending = set()
                        self._rescan = False
                        self._first = 0.0
                        return batch
                    wait = min(self.settle_s - (now - self._last), deadline - now)
                else:
                    wait = deadline - now
                if wait <= 0:
                    return None
                if self._observer is not None and not self._observer.is_alive():
                    log.error("The file watcher stopped; falling back to a rescan")
                    self._rescan = True
                    self._last = now - self.settle_s
                    self._first = now
                    self.start()
                    continue
                self._cond.wait(min(wait, 1.0))
