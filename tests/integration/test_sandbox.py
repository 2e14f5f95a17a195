"""Extraction workers: a slow caller between results is not a slow file."""

import time

import pytest

from indexer.chunk import ChunkerConfig
from indexer.extract.document import ExtractLimits
from indexer.sandbox import ExtractorPool, SandboxConfig
from tests.conftest import lorem_text

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_time_spent_by_the_caller_does_not_count_against_a_file(tmp_path, embedder):
    files = []
    for i in range(4):
        p = tmp_path / f"f{i}.txt"
        p.write_text(f"Small file number {i}.")
        files.append(p)
    pool = ExtractorPool(
        embedder.spec.tokenizer,
        ChunkerConfig(),
        ExtractLimits(),
        SandboxConfig(workers=2, timeout_s=1.5),
    )
    try:
        results = []
        for ex in pool.run(files):
            results.append(ex)
            time.sleep(2.0)  # e.g. embedding a batch while the other worker's reply waits
    finally:
        pool.close()
    assert len(results) == 4
    assert all(r.ok for r in results), [(r.path.name, r.reason) for r in results if not r.ok]


def _freeze_worker_once_started(pool, seconds: float):
    """From a thread: SIGSTOP the worker as soon as its file's clock starts, for ``seconds``
    (a computer so busy that the low-priority reader gets no CPU)."""
    import contextlib
    import os
    import signal
    import threading

    frozen = threading.Event()

    def run():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for w in list(pool._workers):
                if w.job is not None and w.started > 0:
                    os.kill(w.proc.pid, signal.SIGSTOP)
                    frozen.set()
                    time.sleep(seconds)
                    with contextlib.suppress(ProcessLookupError):  # killed as a hang meanwhile
                        os.kill(w.proc.pid, signal.SIGCONT)
                    return
            time.sleep(0.001)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, frozen


def _one_file_while_frozen(embedder, f, freeze_s: float, **budget):
    """Extract ``f`` on one worker that is frozen for ``freeze_s`` once its clock starts.
    Returns (result, seconds taken, whether the freeze happened)."""
    pool = ExtractorPool(
        embedder.spec.tokenizer,
        ChunkerConfig(),
        ExtractLimits(),
        SandboxConfig(workers=1, **budget),
    )
    try:
        _thread, frozen = _freeze_worker_once_started(pool, freeze_s)
        t0 = time.monotonic()
        [ex] = list(pool.run([f]))
        return ex, time.monotonic() - t0, frozen.is_set()
    finally:
        pool.close()


def test_waiting_for_the_cpu_is_not_a_hanging_file(tmp_path, embedder):
    f = lorem_text(tmp_path / "small.txt", 0.02)  # about 0.1 s of processor time here
    ex, took, frozen = _one_file_while_frozen(embedder, f, 5.0, timeout_s=2, wall_timeout_s=60)
    assert frozen
    assert took > 5  # over the 2 s budget in wall-clock time ...
    assert ex.ok, ex.reason  # ... but the file itself used little processor time


def test_a_reader_blocked_without_using_the_cpu_hits_the_wall_clock_limit(tmp_path, embedder):
    f = lorem_text(tmp_path / "medium.txt", 2)
    ex, took, frozen = _one_file_while_frozen(embedder, f, 30.0, timeout_s=60, wall_timeout_s=3)
    assert frozen
    assert not ex.ok and "blocked" in (ex.reason or ""), ex.reason
    assert took < 20
