"""Event storms, lost kernel events and atomic saves while watching."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.watch import Watcher
from tests.conftest import index_config
from tests.reliability.helpers import consistent

pytestmark = [pytest.mark.integration]

STORM_FILES = int(os.environ.get("FINDLING_STORM_FILES", "10000"))


def _emitters(w: Watcher) -> list[object]:
    obs = w._observer
    assert obs is not None
    return list(obs.emitters)


@pytest.mark.timeout(60)
def test_kernel_queue_overflow_makes_the_watcher_rescan(tmp_path):
    from watchdog.observers.inotify_c import InotifyConstants, InotifyEvent

    d = tmp_path / "w"
    d.mkdir()
    w = Watcher([d], settle_s=0.2, max_wait_s=1)
    w.start()
    try:
        time.sleep(0.3)
        assert w.next_batch(timeout=0.3) is None
        # What the kernel sends when its queue overflows (wd -1, IN_Q_OVERFLOW), fed through
        # watchdog's own dispatch, exactly as its reader thread would.
        emitter = _emitters(w)[0]
        fd = emitter._inotify_fd  # type: ignore[attr-defined]
        fd.handle_event(InotifyEvent(-1, InotifyConstants.IN_Q_OVERFLOW, 0, b""))
        batch = w.next_batch(timeout=3)
        assert batch is not None and batch.rescan
        # Watching goes on after the overflow.
        (d / "after.txt").write_text("still watched")
        deadline = time.monotonic() + 5
        seen: set[Path] = set()
        while time.monotonic() < deadline and d / "after.txt" not in seen:
            b = w.next_batch(timeout=0.5)
            if b:
                seen |= set(b.paths)
        assert d / "after.txt" in seen
    finally:
        w.stop()


class _Loop:
    """Watcher + Indexer the way Engine.run_watch drives them, on a thread."""

    def __init__(self, ix: Indexer, w: Watcher) -> None:
        self.ix, self.w = ix, w
        self.stop = threading.Event()
        self.reports: list[object] = []
        self.rescans = 0
        self.error: BaseException | None = None
        self.busy = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                b = self.w.next_batch(timeout=0.2)
                if b is None:
                    continue
                self.busy = True
                if b.rescan:
                    self.rescans += 1
                    self.reports.append(self.ix.sync(self.stop.is_set))
                else:
                    self.reports.append(self.ix.sync(self.stop.is_set, paths=b.paths))
                self.busy = False
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> _Loop:
        self.w.start()
        self.thread.start()
        return self

    def __exit__(self, *a: object) -> None:
        self.stop.set()
        self.thread.join(60)
        self.w.stop()


@pytest.mark.timeout(120)
def test_atomic_save_is_one_update(tmp_path, embedder):
    d = tmp_path / "docs"
    d.mkdir()
    target = d / "plan.md"
    target.write_text("# Plan\n\nFirst draft about orchards.\n")
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        with _Loop(ix, Watcher([d], settle_s=0.5, max_wait_s=3)) as loop:
            time.sleep(0.5)
            # An editor's save: write a temp file beside it, fsync, rename over the target.
            tmp = d / ".plan.md.swp"
            with tmp.open("w") as f:
                f.write("# Plan\n\nSecond draft about vineyards.\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(
                getattr(r, "updated", 0) for r in loop.reports
            ):
                time.sleep(0.2)
            time.sleep(2)  # let any trailing event arrive
        assert loop.error is None, loop.error
        changed = [r for r in loop.reports if r.changed]  # type: ignore[attr-defined]
        assert len(changed) == 1, loop.reports
        r = changed[0]
        assert (r.updated, r.added, r.removed) == (1, 0, 0), r  # type: ignore[attr-defined]
        assert {x.path for x in ix.state.files()} == {str(target)}
    consistent(cfg.index_dir)


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_storm_create_rename_delete_ends_with_index_equal_to_disk(tmp_path, embedder):
    n = STORM_FILES
    d = tmp_path / "storm"
    d.mkdir()
    (d / "seed.txt").write_text("A seed file so the folder is not empty.")
    cfg = index_config(tmp_path / "index", d, batch_chunks=256)
    t0 = time.monotonic()
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        with _Loop(ix, Watcher([d], settle_s=1.0, max_wait_s=5)) as loop:
            for i in range(n):
                sub = d / f"batch{i // 500:02d}"
                if i % 500 == 0:
                    sub.mkdir()
                (sub / f"f{i:05d}.txt").write_text(f"Storm note {i}: token sx{i}y wind.")
            for i in range(0, n, 2):  # rename half
                p = d / f"batch{i // 500:02d}" / f"f{i:05d}.txt"
                p.rename(p.with_name(f"renamed-{i:05d}.txt"))
            for i in range(1, n, 4):  # delete a quarter (of the ones not renamed)
                (d / f"batch{i // 500:02d}" / f"f{i:05d}.txt").unlink()
            t_storm = time.monotonic() - t0
            disk = {str(p) for p in d.rglob("*.txt")}
            assert len(disk) == n - n // 4 + 1
            deadline = time.monotonic() + 300
            from indexer.state import StateDB

            while time.monotonic() < deadline:
                assert loop.error is None, loop.error
                db = StateDB(cfg.index_dir / "state.sqlite", readonly=True)
                rows = {r.path: r.state for r in db.files()}
                db.close()
                if set(rows) == disk and set(rows.values()) == {"indexed"} and not loop.busy:
                    break
                time.sleep(1.0)
            settled = time.monotonic() - t0
        assert loop.error is None, loop.error
    assert set(rows) == disk, f"{len(set(rows) - disk)} stale, {len(disk - set(rows))} missing"
    counts = consistent(cfg.index_dir)
    assert len(counts) == len(disk)  # every file's distinct content, once
    embedded = sum(getattr(r, "embedded", 0) for r in loop.reports)
    print(
        f"\nstorm of {n} files: events done in {t_storm:.1f}s, index equal to disk after "
        f"{settled:.1f}s; {len(loop.reports)} syncs, {loop.rescans} overflow rescans, "
        f"{embedded} chunks embedded"
    )
