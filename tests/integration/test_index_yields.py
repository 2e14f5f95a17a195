"""Indexing yields to an answer: while the gate is held the real indexer stops at its next safe
point (between files), keeps what it committed, and goes on once the gate is released."""

import threading
import time
from pathlib import Path

import pytest

from indexer.follow import FollowHooks, follow_folders
from indexer.gate import Gate
from indexer.pipeline import Indexer
from indexer.progress import Progress
from indexer.search import Searcher
from tests.conftest import index_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _folder(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        (root / f"note{i:03d}.txt").write_text(f"Field note {i}: the heron{i} waded at dawn.\n")
    return root


def test_gate_holds_indexing_between_files_and_releases(tmp_path, embedder):
    folder = _folder(tmp_path / "notes", 120)
    cfg = index_config(tmp_path / "index", folder)
    gate, stop = Gate(), threading.Event()
    ready = threading.Event()
    seen: list[tuple[str, int]] = []

    def on_progress(p: Progress) -> None:
        seen.append((p.phase, p.done))
        if p.phase == "indexing" and not holds:
            holds.append(1)
            gate.hold()  # an answer starts while the files are indexed

    holds: list[int] = []

    hooks = FollowHooks(on_ready=lambda _r: ready.set(), checkpoint=lambda: gate.wait(stop))
    with Indexer(cfg, embedder, on_progress=on_progress) as ix:
        t = threading.Thread(target=follow_folders, args=(ix, stop, hooks), daemon=True)
        t.start()
        try:
            deadline = time.monotonic() + 60
            while not gate.waiting and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gate.waiting == 1, "the indexer never reached the gate"
            held_at = seen[-1]
            assert held_at[0] == "indexing" and held_at[1] < 120
            time.sleep(1.5)
            # Held: the run does not advance and the catch-up has not finished.
            assert seen[-1] == held_at
            assert not ready.is_set()
            gate.release()
            assert ready.wait(60), "indexing did not go on after the gate was released"
            assert gate.waiting == 0
        finally:
            stop.set()
            t.join(30)
    hits = Searcher(cfg.index_dir, embedder).search("heron119", 5).hits
    assert hits and hits[0].path == str(folder / "note119.txt")


def test_stop_wakes_a_held_indexer(tmp_path, embedder):
    folder = _folder(tmp_path / "notes", 40)
    cfg = index_config(tmp_path / "index", folder)
    gate, stop = Gate(), threading.Event()
    gate.hold()
    hooks = FollowHooks(checkpoint=lambda: gate.wait(stop))
    with Indexer(cfg, embedder) as ix:
        t = threading.Thread(target=follow_folders, args=(ix, stop, hooks), daemon=True)
        t.start()
        deadline = time.monotonic() + 60
        while not gate.waiting and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gate.waiting == 1
        stop.set()  # quitting the app while an answer streams must not hang on the gate
        t.join(20)
        assert not t.is_alive()
    gate.release()
