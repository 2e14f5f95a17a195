"""How a run reports itself: live :class:`Progress` for a status line, a :class:`SyncReport` at
the end, and the :class:`Run` that carries both (with its stop test) through one sync."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.state import FileRow

StopFn = Callable[[], bool]


@dataclass
class Progress:
    """Where a sync run stands; sent to the progress callback."""

    phase: str = "idle"
    done: int = 0
    total: int = 0
    current: str | None = None
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    bytes_done: int = 0
    bytes_total: int = 0
    # Passages of the file(s) now being embedded: a long book takes minutes on its own.
    passages_done: int = 0
    passages_total: int = 0
    batch_bytes: int = 0  # size of the files those passages come from
    batch_files: int = 0  # how many files they are (``current`` is one of them)
    embedded: int = 0  # passages embedded in this run so far
    ended: float | None = None  # when the run finished: its speeds stop moving then

    def doing(self) -> str:
        """``book.pdf and 3 other files (256/1,024 passages)``: what is in hand, for a status."""
        if not self.current:
            return ""
        text = Path(self.current).name
        if len(text) > 48:
            text = text[:47] + "…"
        if self.batch_files > 1:
            others = self.batch_files - 1
            text += f" and {others} other file{'s' if others > 1 else ''}"
        if self.passages_total:
            text += f" ({self.passages_done:,}/{self.passages_total:,} passages)"
        return text

    @property
    def work_done(self) -> float:
        """Bytes finished, counting the embedded share of the files in hand."""
        inside = 0.0
        if self.passages_total:
            inside = self.batch_bytes * self.passages_done / self.passages_total
        return self.bytes_done + inside

    @property
    def fraction(self) -> float:
        """0–1 of the run's work; by bytes where sizes are known, else by files."""
        if self.bytes_total:
            return min(1.0, self.work_done / self.bytes_total)
        return self.done / self.total if self.total else 1.0

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (up to its end, once it has ended)."""
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Files per second so far."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def passage_rate(self) -> float:
        """Passages embedded per second so far (what moves while one long book is read)."""
        elapsed = self.elapsed
        return self.embedded / elapsed if elapsed > 0 else 0.0

    def finished(self, phase: str) -> Progress:
        """A snapshot for after the files are done: same counts and clock, clock stopped."""
        return dataclasses.replace(
            self,
            phase=phase,
            current=None,
            passages_done=0,
            passages_total=0,
            batch_files=0,
            ended=self.ended if self.ended is not None else time.monotonic(),
        )

    @property
    def eta_s(self) -> float | None:
        """Estimated seconds left, once there is a rate to go by.

        Goes by bytes when sizes are known (one 2,000-page book is not one small note), else
        by files.
        """
        elapsed = self.elapsed
        if elapsed <= 0 or not self.total:
            return None
        done = self.work_done
        if self.bytes_total and done:
            return max(0.0, self.bytes_total - done) * elapsed / done
        r = self.rate
        return (self.total - self.done) / r if r > 0 else None

    def file_done(self, size: int, *, failed: bool = False) -> None:
        """Count one file as finished."""
        self.done += 1
        self.bytes_done += size
        if failed:
            self.failed += 1


@dataclass
class SyncReport:
    """What a sync run did."""

    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    unchanged: int = 0
    chunks: int = 0
    embedded: int = 0
    reused_vectors: int = 0
    offline_folders: list[str] = field(default_factory=list)
    stopped: bool = False
    rebuilt: str | None = None
    switched: str | None = None  # a new generation replaced the old one at the end of this run
    seconds: float = 0.0
    semantic_pending: int = 0  # passages still without a vector when the run ended
    moved_hashes: set[str] = field(default_factory=set, repr=False)  # contents that moved

    @property
    def changed(self) -> bool:
        """Whether the index changed."""
        return bool(self.added or self.updated or self.moved or self.removed or self.failed)


ProgressFn = Callable[[Progress], None]


def never() -> bool:
    """A stop test that never asks to stop."""
    return False


@dataclass
class Run:
    """One sync run: what it found, what it did so far, and how to ask it to stop.

    Attributes:
        stop: Polled between files and slices; True stops after committing the work done.
        report: Counts of what the run did (returned to the caller).
        progress: Where the run stands (sent to the progress callback).
        known: The file records the run started from, by path.
    """

    stop: StopFn = never
    report: SyncReport = field(default_factory=SyncReport)
    progress: Progress = field(default_factory=Progress)
    known: dict[str, FileRow] = field(default_factory=dict)
