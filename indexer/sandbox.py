"""Extraction and chunking in worker processes with a time and memory budget per file.

A malformed file can hang a parser or make it allocate without bound. Each worker is a separate
process, so such a file is contained: the worker is killed, the file is marked with a reason, and
a fresh worker takes over. Workers run at low CPU priority so the computer stays responsive.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import psutil

from indexer.chunk import Chunk, ChunkerConfig
from indexer.errors import ExtractError
from indexer.extract.document import ExtractLimits
from indexer.states import FileState

log = logging.getLogger(__name__)

READY = "ready"
STARTUP_LIMIT_S = 300.0


@dataclass(frozen=True)
class Extracted:
    """A worker's answer for one file: chunks, or an error state and reason."""

    path: Path
    chunks: tuple[Chunk, ...] = ()
    pages: int | None = None
    title: str | None = None
    state: str | None = None
    reason: str | None = None
    ocr_pending: int = 0  # scanned pages not OCR'd yet (see ExtractLimits.ocr_pages)

    @property
    def ok(self) -> bool:
        """Whether extraction succeeded."""
        return self.state is None


@dataclass(frozen=True)
class SandboxConfig:
    """Worker pool settings.

    Attributes:
        workers: Number of worker processes; 0 extracts in the calling process (no containment).
        timeout_s: Processor-time budget per file. CPU time, not wall-clock time: the workers
            run at low priority, so on a busy computer a good file may wait a long time for the
            CPU, and it must not be marked as a file that hangs the reader.
        wall_timeout_s: Wall-clock budget per file, for readers blocked without using the CPU
            (e.g. on an unresponsive network drive); ``None`` means ten times ``timeout_s``.
        memory_mb: Address-space limit per worker (Linux/macOS), 0 for none.
        nice: CPU niceness added to workers.
    """

    workers: int = 1
    timeout_s: float = 180.0
    wall_timeout_s: float | None = None
    memory_mb: int = 4096
    nice: int = 10

    @property
    def wall_limit_s(self) -> float:
        """The wall-clock budget per file."""
        return self.wall_timeout_s if self.wall_timeout_s is not None else 10 * self.timeout_s


def lower_priority(increment: int) -> None:
    """Lower this process's CPU (and, on Linux, I/O) priority."""
    if increment <= 0:
        return
    try:
        if sys.platform == "win32":
            import psutil

            psutil.Process().nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
        else:
            os.nice(increment)
            import psutil

            p = psutil.Process()
            if hasattr(p, "ionice") and hasattr(psutil, "IOPRIO_CLASS_BE"):
                p.ionice(psutil.IOPRIO_CLASS_BE, 7)
    except (OSError, ImportError, AttributeError, ValueError):
        pass


def extract_and_chunk(path: Path, limits: ExtractLimits, chunker: Any) -> Extracted:
    """Extract one file and chunk it; errors become a state and reason."""
    from indexer.extract.dispatch import extract

    try:
        doc = extract(path, limits)
    except ExtractError as exc:
        return Extracted(path, state=exc.state, reason=exc.reason)
    except MemoryError:
        return Extracted(
            path, state=FileState.FAILED, reason="The file needs too much memory to read"
        )
    except Exception as exc:  # an unexpected parser error must not stop the batch
        log.warning("Unexpected error extracting %s: %s", path, type(exc).__name__)
        return Extracted(
            path, state=FileState.FAILED, reason=f"Could not read the file ({type(exc).__name__})"
        )
    chunks = chunker.chunks(doc)
    pages = len(doc.segments) if doc.paged else None
    return Extracted(path, tuple(chunks), pages=pages, title=doc.title, ocr_pending=doc.ocr_pending)


def _make_chunker(tokenizer: str, config: ChunkerConfig) -> Any:
    from tokenizers import Tokenizer

    from indexer.chunk import Chunker

    tok = Tokenizer.from_file(tokenizer)
    tok.no_padding()
    tok.no_truncation()
    return Chunker(lambda t: len(tok.encode(t).ids), config)


def _load_readers() -> None:
    """Import every format's reader (PyMuPDF, python-docx, ...) up front, so that the first file
    a worker reads is not charged for loading them."""
    from indexer.extract import paged  # noqa: F401  (PyMuPDF; the registry imports it lazily)
    from indexer.extract.dispatch import _registry

    _registry()
    with contextlib.suppress(ImportError):
        import docx  # noqa: F401  (imported lazily by the DOCX reader)


def _worker(
    conn: Connection, tokenizer: str, config: ChunkerConfig, memory_mb: int, nice: int
) -> None:
    if memory_mb and sys.platform != "win32":
        import resource

        limit = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    lower_priority(nice)
    chunker = _make_chunker(tokenizer, config)
    _load_readers()
    conn.send(READY)  # the per-file clock starts now, not while Python and the readers load
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        path, limits = msg
        conn.send(extract_and_chunk(Path(path), limits, chunker))


class _Worker:
    def __init__(
        self, ctx: Any, tokenizer: str, chunker: ChunkerConfig, cfg: SandboxConfig
    ) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker, args=(child, tokenizer, chunker, cfg.memory_mb, cfg.nice), daemon=True
        )
        self.proc.start()
        child.close()
        self.job: Path | None = None
        self.started = 0.0
        self.cpu_started = 0.0
        self.ready = False
        self.spawned = time.monotonic()

    def start_clock(self) -> None:
        """Start timing the current job (wall clock and this worker's CPU time)."""
        self.started = time.monotonic()
        self.cpu_started = self.cpu_seconds()

    def cpu_seconds(self) -> float:
        """Processor time this worker has used so far (0 when it cannot be read)."""
        try:
            t = psutil.Process(self.proc.pid).cpu_times()
        except (psutil.Error, ValueError, TypeError):
            return 0.0
        return float(t.user + t.system)

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.join(2)
        finally:
            self.conn.close()


class ExtractorPool:
    """Runs :func:`extract_and_chunk` for many files on a pool of contained workers."""

    def __init__(
        self,
        tokenizer: Path,
        chunker: ChunkerConfig,
        limits: ExtractLimits,
        config: SandboxConfig | None = None,
    ) -> None:
        self.cfg = config or SandboxConfig()
        self.limits = limits
        self._tokenizer = str(tokenizer)
        self._chunker_cfg = chunker
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._inline: Any = None

    def _spawn(self) -> _Worker:
        return _Worker(self._ctx, self._tokenizer, self._chunker_cfg, self.cfg)

    def run(
        self,
        paths: Iterable[Path],
        should_stop: Callable[[], bool] | None = None,
        limits: ExtractLimits | None = None,
    ) -> Iterator[Extracted]:
        """Yield one :class:`Extracted` per path, in completion order (``limits`` instead of
        the pool's for this run, e.g. a larger OCR budget)."""
        limits = limits or self.limits
        if self.cfg.workers <= 0:
            if self._inline is None:
                self._inline = _make_chunker(self._tokenizer, self._chunker_cfg)
            for p in paths:
                if should_stop and should_stop():
                    return
                yield extract_and_chunk(p, limits, self._inline)
            return
        queue = deque(paths)
        while len(self._workers) < min(self.cfg.workers, max(1, len(queue))):
            self._workers.append(self._spawn())
        busy: dict[Connection, _Worker] = {}
        while queue or busy:
            if should_stop and should_stop():
                for w in busy.values():  # abandon work in flight; the worker is restarted
                    self._replace(w)
                return
            for w in self._workers:
                if w.job is None and queue:
                    path = queue.popleft()
                    try:
                        w.conn.send((str(path), limits))
                    except (OSError, BrokenPipeError):
                        w = self._replace(w)
                        w.conn.send((str(path), limits))
                    w.job = path
                    if w.ready:
                        w.start_clock()
                    busy[w.conn] = w
            ready = wait(list(busy), timeout=0.5)
            for conn in ready:
                w = busy[conn]  # type: ignore[index]
                job = w.job
                assert job is not None
                try:
                    result: Extracted | str = w.conn.recv()
                except (EOFError, OSError):
                    del busy[conn]  # type: ignore[arg-type]
                    w.job = None
                    code = w.proc.exitcode
                    self._replace(w)
                    yield Extracted(job, state=FileState.FAILED, reason=_crash_reason(code))
                    continue
                if result == READY:
                    w.ready = True
                    w.start_clock()
                    continue
                del busy[conn]  # type: ignore[arg-type]
                w.job = None
                assert isinstance(result, Extracted)
                yield result
            now = time.monotonic()
            for conn, w in list(busy.items()):
                if not w.ready:
                    if now - w.spawned > STARTUP_LIMIT_S:  # a worker that never came up
                        job = w.job
                        assert job is not None
                        del busy[conn]
                        self._replace(w)
                        yield Extracted(
                            job,
                            state=FileState.FAILED,
                            reason="The file reader could not start; skipped",
                        )
                    continue
                # A worker whose answer is waiting finished in time: its reply was just not read
                # yet because the caller was busy (e.g. embedding a batch) between our yields.
                if w.job is None:
                    continue
                wall = now - w.started
                if wall > self.cfg.wall_limit_s:
                    reason = (
                        f"Reading the file took longer than {self.cfg.wall_limit_s:.0f} s"
                        " (the reader was blocked); skipped"
                    )
                elif (
                    wall > self.cfg.timeout_s
                    and w.cpu_seconds() - w.cpu_started > self.cfg.timeout_s
                ):
                    reason = (
                        f"Reading the file took longer than {self.cfg.timeout_s:.0f} s"
                        " of processor time; skipped"
                    )
                else:
                    continue
                if not _has_reply(conn):
                    job = w.job
                    del busy[conn]
                    self._replace(w)
                    yield Extracted(job, state=FileState.FAILED, reason=reason)

    def _replace(self, w: _Worker) -> _Worker:
        w.kill()
        new = self._spawn()
        self._workers[self._workers.index(w)] = new
        return new

    def close(self) -> None:
        """Stop all workers."""
        for w in self._workers:
            with contextlib.suppress(OSError, BrokenPipeError):
                w.conn.send(None)
        for w in self._workers:
            w.proc.join(2)
            if w.proc.is_alive():
                w.proc.kill()
            w.conn.close()
        self._workers.clear()


def _has_reply(conn: Connection) -> bool:
    try:
        return bool(conn.poll(0))
    except (OSError, EOFError):
        return True  # the worker died: the next wait() reports it as a crash


def _crash_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"The file crashed the reader (signal {-code}) or exceeded the memory limit; skipped"
    return "The file crashed the reader or exceeded the memory limit; skipped"
