"""Odd files and odd file systems: empty, huge, vanishing, unreadable, odd names, loops,
unplugged folders."""

from __future__ import annotations

import os
import pathlib
import time
from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.progress import Progress
from indexer.sandbox import SandboxConfig
from indexer.search import Searcher
from tests.conftest import index_config, make_pdf
from tests.reliability.helpers import FINAL_STATES, consistent

pytestmark = [pytest.mark.integration]


def _big_pdf(path: Path, pages: int) -> Path:
    import pymupdf

    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=200, height=200)
        page.insert_text((20, 40), f"Ledger page {i + 1} code qx{i + 1}z")
    doc.save(str(path))
    doc.close()
    return path


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_2100_page_pdf_indexes_every_page(tmp_path, embedder):
    d = tmp_path / "docs"
    d.mkdir()
    _big_pdf(d / "ledger.pdf", 2100)
    cfg = index_config(tmp_path / "index", d)
    assert cfg.limits.max_pages > 2100  # "too large" is a limit well above this
    t0 = time.monotonic()
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        row = ix.state.file(str(d / "ledger.pdf"))
        assert row is not None and row.state == "indexed", row
        assert ix.state.doc(row.hash)["pages"] == 2100  # type: ignore[index]
    print(f"\n2,100-page PDF: {r.chunks} chunks in {time.monotonic() - t0:.1f}s")
    hits = Searcher(cfg.index_dir, embedder).search("qx2077z", 3).hits
    assert hits and hits[0].page == 2077
    consistent(cfg.index_dir)


@pytest.mark.timeout(180)
def test_empty_vanishing_truncated_unreadable_oddly_named_and_looping_files(
    tmp_path, embedder, monkeypatch
):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "zero.txt").write_bytes(b"")
    (d / "zero.pdf").write_bytes(b"")
    (d / "vanishing.txt").write_text("This file disappears before it is read.")
    make_pdf(d / "truncated.pdf", ["Page one of a report on rivers."] * 3)
    secret = d / "secret.txt"
    secret.write_text("Payroll figures nobody may read.")
    secret.chmod(0o000)
    # A name that is not valid UTF-8 (Latin-1 bytes), and one at the file system's limit.
    latin1 = os.fsdecode(b"caf\xe9-notes.txt")
    with open(os.path.join(os.fsencode(d), b"caf\xe9-notes.txt"), "wb") as f:
        f.write(b"Notes about espresso machines and descaling.")
    long_name = "n" * 240 + ".txt"
    (d / long_name).write_text("A file with a very long name about glaciers.")
    deep = d.joinpath(*(["deeper"] * 30))
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("Text at the bottom of a deep folder about caves.")
    # Symlink loops: a folder linking to its parent, and two links pointing at each other.
    (d / "loop").symlink_to(d, target_is_directory=True)
    (d / "a.txt").symlink_to(d / "b.txt")
    (d / "b.txt").symlink_to(d / "a.txt")
    (d / "good.txt").write_text("Lighthouses guide ships along rocky coasts.")

    if os.geteuid() == 0:
        # root reads mode-000 files, so make the file unreadable the way a normal user sees it.
        real_open = pathlib.Path.open

        def deny(self, *a, **kw):  # type: ignore[no-untyped-def]
            if str(self) == str(secret):
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *a, **kw)

        monkeypatch.setattr(pathlib.Path, "open", deny)

    def sabotage(p: Progress) -> None:
        if p.phase == "indexing" and p.done == 0:  # after the scan, before any file is read
            (d / "vanishing.txt").unlink(missing_ok=True)
            t = d / "truncated.pdf"
            if t.exists() and t.stat().st_size > 200:
                data = t.read_bytes()
                t.write_bytes(data[: len(data) // 3])

    cfg = index_config(tmp_path / "index", d, sandbox=SandboxConfig(workers=1, timeout_s=60))
    with Indexer(cfg, embedder, on_progress=sabotage) as ix:
        r = ix.sync()
        states = {r_.path: (r_.state, r_.reason) for r_ in ix.state.files()}
        for path, (state, reason) in states.items():
            assert state in FINAL_STATES, (path, state)
            if state != "indexed":
                assert reason, path
        s = lambda name: states[str(d / name)]  # noqa: E731
        assert s("zero.txt")[0] == "empty" and s("zero.pdf")[0] == "empty"
        assert s("vanishing.txt")[0] == "unreadable" and "vanished" in s("vanishing.txt")[1]
        # MuPDF repairs what it can of a cut-off PDF: the text is gone, or the file is damaged.
        assert s("truncated.pdf")[0] in ("corrupt", "no-text"), s("truncated.pdf")
        assert s("secret.txt")[0] == "unreadable"
        assert "Permission denied" in s("secret.txt")[1]
        assert s(latin1)[0] == "indexed"
        assert s(long_name)[0] == "indexed"
        assert states[str(deep / "bottom.txt")][0] == "indexed"
        assert s("good.txt")[0] == "indexed"
        assert not any("/loop/" in p for p in states), "followed a symlink loop"
        assert str(d / "a.txt") not in states
        assert r.failed == 5
        # The vanished file is forgotten on the next run; the rest stays as it was.
        r2 = ix.sync()
        assert str(d / "vanishing.txt") not in {x.path for x in ix.state.files()}
        assert r2.removed == 1 and r2.embedded == 0
    hits = Searcher(cfg.index_dir, embedder).search("espresso descaling", 3).hits
    assert hits and hits[0].path == str(d / latin1)
    consistent(cfg.index_dir)


@pytest.mark.timeout(180)
def test_unplugged_folder_keeps_its_results_offline_and_comes_back(tmp_path, embedder):
    usb = tmp_path / "usb"
    home = tmp_path / "home"
    make_pdf(usb / "atlas.pdf", ["Maps of the northern fjords and their ferries."])
    (usb / "log.txt").write_text("Sailing log: anchored in the bay of herons.")
    home.mkdir()
    (home / "local.txt").write_text("Recipe for rye bread with caraway.")
    cfg = index_config(tmp_path / "index", usb, home)
    with Indexer(cfg, embedder) as ix:
        assert ix.sync().added == 3
        chunks_before = consistent(cfg.index_dir)
        usb.rename(tmp_path / "usb-unplugged")  # the drive goes away
        r = ix.sync()
        assert r.offline_folders == [str(usb)] and r.removed == 0
        rows = {x.path: x for x in ix.state.files()}
        assert rows[str(usb / "log.txt")].state == "offline"
        assert rows[str(usb / "log.txt")].reason
        assert rows[str(home / "local.txt")].state == "indexed"
        assert consistent(cfg.index_dir) == chunks_before  # nothing deleted
        hits = Searcher(cfg.index_dir, embedder).search("fjords ferries", 3).hits
        assert hits and hits[0].path == str(usb / "atlas.pdf") and hits[0].offline
        assert hits[0].to_json()["offline"] is True
        (tmp_path / "usb-unplugged").rename(usb)  # plugged in again
        r = ix.sync()
        assert r.embedded == 0 and not r.offline_folders and r.removed == 0
        rows = {x.path: x for x in ix.state.files()}
        assert {x.state for x in rows.values()} == {"indexed"}
        assert consistent(cfg.index_dir) == chunks_before
    hits = Searcher(cfg.index_dir, embedder).search("fjords ferries", 3).hits
    assert hits and not hits[0].offline
