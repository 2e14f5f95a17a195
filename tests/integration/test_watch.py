"""The watcher with real watchdog events, feeding the real indexer."""

import os
import time
from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.search import Searcher
from indexer.watch import Watcher
from tests.conftest import index_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _drain(w: Watcher, seconds: float) -> set[Path]:
    paths: set[Path] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        b = w.next_batch(timeout=0.3)
        if b:
            paths |= set(b.paths)
    return paths


def test_events_are_coalesced_and_filtered(tmp_path):
    d = tmp_path / "w"
    (d / ".git").mkdir(parents=True)
    (d / "node_modules").mkdir()
    (d / "build").mkdir()
    w = Watcher([d], ignore=["build/", "*.log"], settle_s=0.3, max_wait_s=2)
    w.start()
    try:
        (d / "a.txt").write_text("one")
        for i in range(20):  # a burst of writes to one file
            (d / "a.txt").write_text(f"one {i}")
        (d / ".git" / "HEAD.txt").write_text("x")
        (d / "node_modules" / "m.txt").write_text("x")
        (d / "build" / "out.txt").write_text("x")
        (d / "debug.log").write_text("x")
        (d / ".hidden.md").write_text("x")
        (d / "~$lock.docx").write_text("x")
        # Editor-style atomic save: write a temp file, rename it over the target.
        (d / "b.md").write_text("v1")
        (d / ".b.md.swp").write_text("v2")
        os.replace(d / ".b.md.swp", d / "b.md")
        got = _drain(w, 3)
    finally:
        w.stop()
    names = {p.name for p in got if p.suffix}
    assert {"a.txt", "b.md"} <= names
    assert not names & {"HEAD.txt", "m.txt", "out.txt", "debug.log", ".hidden.md", "~$lock.docx"}


def test_changes_reach_the_index_within_seconds(tmp_path, embedder):
    d = tmp_path / "live"
    d.mkdir()
    (d / "keep.txt").write_text("Owls hunt at night using silent feathers.")
    cfg = index_config(tmp_path / "index", d)
    s = Searcher(cfg.index_dir, embedder)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        w = Watcher([d], settle_s=0.5, max_wait_s=3)
        w.start()
        try:

            def step(action):
                action()
                t = time.monotonic()
                while time.monotonic() - t < 10:
                    b = w.next_batch(timeout=0.5)
                    if b:
                        ix.sync(paths=b.paths)
                        return time.monotonic() - t
                raise AssertionError("no event within 10 s")

            step(lambda: (d / "new.txt").write_text("Penguins cannot fly but swim fast."))
            assert s.search("penguins", 1).hits[0].path == str(d / "new.txt")
            step(lambda: (d / "new.txt").write_text("Puffins nest in cliff burrows."))
            hits = s.search("penguins swim", 5).hits  # non-empty: keep.txt is still there
            assert hits and not any("Penguins" in h.text for h in hits), hits
            (d / "sub").mkdir()
            step(lambda: os.rename(d / "new.txt", d / "sub" / "moved.txt"))
            hit = s.search("puffins", 1).hits[0]
            assert hit.path == str(d / "sub" / "moved.txt")
            step(lambda: (d / "sub" / "moved.txt").unlink())
            hits = s.search("puffins", 5).hits
            assert hits and all("moved.txt" not in h.path for h in hits), hits
            assert {r.path for r in ix.state.files()} == {str(d / "keep.txt")}
        finally:
            w.stop()


def test_deleting_a_dotted_folder_removes_its_files(tmp_path, embedder):
    d = tmp_path / "live"
    (d / "release v1.2").mkdir(parents=True)
    (d / "release v1.2" / "notes.txt").write_text("Walruses use their tusks to climb ice.")
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        w = Watcher([d], settle_s=0.3, max_wait_s=2)
        w.start()
        try:
            import shutil

            shutil.rmtree(d / "release v1.2")
            paths = _drain(w, 2.5)
            assert d / "release v1.2" in paths
            ix.sync(paths=paths)
        finally:
            w.stop()
        assert ix.state.files() == []


def test_watch_loop_never_replaces_the_owners_settings(home, tmp_path, embedder):
    """A handed-over request re-reads the file into a snapshot offered to the owner; the watch
    thread never swaps ``engine.settings`` under the GUI thread (a lost update)."""
    import threading

    from app import settings as settings_mod
    from app.engine import Engine
    from app.paths import app_paths
    from indexer.lock import submit_request

    first, second = tmp_path / "a", tmp_path / "b"
    for d, text in ((first, "Owls hunt at night."), (second, "Bees dance to show food.")):
        d.mkdir()
        (d / "x.txt").write_text(text)
    engine = Engine(app_paths(), embedder=embedder)
    engine.settings.workers = 1
    engine.settings.add_folders([first])
    engine.save_settings()
    owned = engine.settings
    ready, stop = threading.Event(), threading.Event()
    reports: list[object] = []
    loaded: list[settings_mod.Settings] = []
    t = threading.Thread(
        target=engine.run_watch,
        args=(stop,),
        kwargs={
            "on_ready": lambda r: ready.set(),
            "on_report": reports.append,
            "on_settings": loaded.append,
            "poll_s": 0.1,
        },
    )
    t.start()
    try:
        assert ready.wait(90)
        # Another process (``findling index B``) adds a folder and hands the request over.
        other = settings_mod.load(engine.paths.settings_file)
        other.add_folders([second])
        settings_mod.save(other, engine.paths.settings_file)
        submit_request(engine.paths.index_dir, {"op": "sync"})
        deadline = time.monotonic() + 60
        while not reports and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(60)
    assert engine.settings is owned and owned.folders == [str(first)]
    assert [s.folders for s in loaded] == [[str(first), str(second)]]
    assert reports and getattr(reports[0], "added", 0) == 1
