"""Indexing through the real stack: PyMuPDF, worker processes, ONNX, LanceDB, SQLite."""

import dataclasses
import os
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.progress import Progress
from indexer.query import SearchFilters
from indexer.search import Searcher
from tests.conftest import index_config, make_docx, make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _consistent(ix: Indexer) -> dict[str, int]:
    counts = ix.store.doc_chunk_counts()
    docs = {r[0]: r[1] for r in ix.state.conn.execute("SELECT hash, chunks FROM docs")}
    assert counts == docs, "LanceDB and the state record disagree"
    return counts


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "docs"
    make_pdf(
        d / "manual.pdf",
        [
            "Inverter manual. The warranty period is twelve years.",
            "Cleaning: wipe the panel with a dry cloth.",
            "Error E42 means the grid voltage is too high.",
        ],
    )
    make_docx(d / "report.docx", [("Annual report", 1), ("Maintenance costs rose in 2023.", 0)])
    (d / "notes.md").write_text("# Garden\n\nTomatoes need sun.\n")
    (d / "sub").mkdir()
    (d / "sub" / "todo.txt").write_text("Buy a new ladder before spring.")
    (d / ".hidden.txt").write_text("secret hidden words")
    (d / "node_modules").mkdir()
    (d / "node_modules" / "x.txt").write_text("dependency words")
    (d / "draft.txt~").write_text("backup words")
    return d


def test_index_update_rename_delete(tmp_path, corpus, embedder):
    cfg = index_config(tmp_path / "index", corpus)
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        assert (r.added, r.failed) == (4, 0)
        paths = {row.path for row in ix.state.files()}
        assert paths == {
            str(corpus / n) for n in ("manual.pdf", "report.docx", "notes.md", "sub/todo.txt")
        }
        before = _consistent(ix)
        # Nothing changed: nothing redone.
        r = ix.sync()
        assert r.unchanged == 4 and not r.changed and r.embedded == 0
        # Touch without change: mtime differs, hash confirms it is the same.
        os.utime(corpus / "notes.md", (time.time() + 5, time.time() + 5))
        r = ix.sync()
        assert r.embedded == 0 and not r.added
        # Edit: old chunks replaced, no leftovers.
        (corpus / "notes.md").write_text("# Garden\n\nCucumbers need water.\n")
        r = ix.sync()
        assert r.updated == 1
        after = _consistent(ix)
        assert len(after) == len(before)
        s = Searcher(cfg.index_dir, embedder)
        assert not any("Tomatoes" in h.text for h in s.search("tomatoes", 10).hits)
        assert s.search("cucumbers", 1).hits[0].path == str(corpus / "notes.md")
        # Rename/move: recognised by hash, vectors kept.
        (corpus / "moved").mkdir()
        shutil.move(corpus / "manual.pdf", corpus / "moved" / "inverter.pdf")
        r = ix.sync()
        assert r.moved == 1 and r.removed == 0 and r.embedded == 0  # one rename, not a removal
        hit = s.search("warranty period", 1).hits[0]
        assert hit.path == str(corpus / "moved" / "inverter.pdf") and hit.page == 1
        # Delete: chunks disappear. The same query finds the report before and other files
        # after, so the check below is not vacuous over an empty result.
        report = str(corpus / "report.docx")
        assert report in {h.path for h in s.search("maintenance costs", 10).hits}
        (corpus / "report.docx").unlink()
        r = ix.sync()
        assert r.removed == 1
        _consistent(ix)
        gone = s.search("maintenance costs", 10).hits
        assert gone and all(h.path != report for h in gone), [h.path for h in gone]


def test_identical_files_show_once_and_filters(tmp_path, corpus, embedder):
    shutil.copy(corpus / "sub" / "todo.txt", corpus / "todo-copy.txt")
    cfg = index_config(tmp_path / "index", corpus)
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        assert r.embedded > 0
    s = Searcher(cfg.index_dir, embedder)
    hits = s.search("ladder", 5).hits
    ladder = [h for h in hits if "ladder" in h.text]
    assert len(ladder) == 1 and len(ladder[0].other_paths) == 1
    only_pdf = s.search("warranty", 5, SearchFilters(types=("pdf",))).hits
    assert only_pdf and all(h.path.endswith(".pdf") for h in only_pdf)
    only_sub = s.search("warranty", 5, SearchFilters(folders=(str(corpus / "sub"),))).hits
    # Non-empty first: all() over no hits would hold even if the filter dropped everything.
    assert only_sub and all("/sub/" in h.path for h in only_sub), only_sub
    future = s.search("warranty", 5, SearchFilters(modified_after=time.time() + 3600)).hits
    assert future == []
    # File names are searchable.
    assert s.search("todo", 3).hits[0].path.endswith("todo.txt") or s.search("todo", 3).hits[
        0
    ].path.endswith("todo-copy.txt")
    # Quoted phrases match exactly.
    exact = s.search('"grid voltage"', 5).hits
    assert exact and all("grid voltage" in h.text.lower() for h in exact)


def test_the_same_passage_in_two_different_files_shows_once(tmp_path, embedder):
    d = tmp_path / "docs"
    pages = ["Intro page about nothing in particular.", "Kestrels hover over motorway verges."]
    make_pdf(d / "manual.pdf", pages, title="Manual")
    make_pdf(d / "manual-full.pdf", pages, title="Manual, full edition")  # other bytes
    make_pdf(d / "other.pdf", ["Intro.", "Kestrels hover over motorway verges."])  # page 2 too
    make_pdf(d / "moved.pdf", ["Kestrels hover over motorway verges."])  # on another page
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        assert len(ix.state.conn.execute("SELECT hash FROM docs").fetchall()) == 4
    s = Searcher(cfg.index_dir, embedder)
    hits = [h for h in s.search("kestrels hovering", 10).hits if "Kestrels" in h.text]
    s.close()
    by_page = {h.page: h for h in hits}
    assert sorted(by_page) == [1, 2] and len(hits) == 2, [(h.path, h.page) for h in hits]
    names = {Path(p).name for p in [by_page[2].path, *by_page[2].other_paths]}
    assert names == {"manual.pdf", "manual-full.pdf", "other.pdf"}
    assert Path(by_page[1].path).name == "moved.pdf" and by_page[1].other_paths == []


def test_interrupt_and_resume_keeps_work(tmp_path, embedder):
    d = tmp_path / "many"
    for i in range(30):
        (d / f"f{i:02d}.txt").parent.mkdir(exist_ok=True)
        (d / f"f{i:02d}.txt").write_text(f"Document {i} is about topic number {i} and {i * 7}.")
    cfg = index_config(tmp_path / "index", d, batch_chunks=4)
    seen = {"done": 0}

    def progress(p):
        if p.phase == "indexing":
            seen["done"] = p.done

    def stop_after_some():
        return seen["done"] >= 8

    with Indexer(cfg, embedder, on_progress=progress) as ix:
        r1 = ix.sync(stop_after_some)
        assert r1.stopped and 0 < r1.added < 30
        _consistent(ix)
        counts = ix.state.counts()
        assert counts == {"indexed": r1.added, "pending": 30 - r1.added}
    with Indexer(cfg, embedder) as ix:
        r2 = ix.sync()
        assert r2.added == 30 - r1.added  # nothing redone, nothing missing
        assert r2.unchanged == r1.added
        counts = _consistent(ix)
        assert len(counts) == 30


def test_bad_files_are_recorded_and_run_continues(tmp_path, embedder):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "empty.pdf").write_bytes(b"")
    (d / "garbage.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf" * 3)
    (d / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    make_pdf(d / "good.pdf", ["A good page about lighthouses."])
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        states = {Path(x.path).name: (x.state, x.reason) for x in ix.state.files()}
    assert states["good.pdf"][0] == "indexed"
    assert states["empty.pdf"][0] == "empty"
    assert states["garbage.pdf"][0] == "corrupt" and states["garbage.pdf"][1]
    assert states["broken.docx"][0] == "corrupt"
    assert r.failed == 3 and r.added == 1


def test_removed_folder_is_purged_and_versions_are_cleaned(tmp_path, corpus, embedder):
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("zebra crossing rules")
    cfg = index_config(tmp_path / "index", corpus, other, keep_versions_minutes=0.02)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        for i in range(5):
            (other / "x.txt").write_text(f"zebra crossing rules, edition {i}")
            ix.sync()
        grown = len(ix.store._table.list_versions())
        time.sleep(1.5)
        (other / "x.txt").write_text("zebra crossing rules, final edition")
        ix.sync()
        versions = len(ix.store._table.list_versions())
        assert versions < grown and versions <= 4, (grown, versions)
    cfg2 = index_config(tmp_path / "index", corpus, keep_versions_minutes=0.02)
    with Indexer(cfg2, embedder) as ix:
        r = ix.sync()
        assert r.removed == 1
        _consistent(ix)
    assert not any(
        "x.txt" in h.path for h in Searcher(cfg.index_dir, embedder).search("zebra", 5).hits
    )
    # Removing a folder through the app (purge) says how many files it forgot.
    with Indexer(cfg, embedder) as ix:
        assert ix.sync().added == 1
        assert ix.purge_folder(other) == 1
        assert not any("x.txt" in f.path for f in ix.state.files())


def test_model_change_means_reembedding(tmp_path, corpus, embedder):
    cfg = index_config(tmp_path / "index", corpus)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        ix.state.set_meta("embed_model", "some-other-model")
    with Indexer(cfg, embedder) as ix:
        assert ix.rebuilt and "some-other-model" in ix.rebuilt
        r = ix.sync()
        assert r.rebuilt and r.embedded > 0
        _consistent(ix)


def test_damaged_state_record_is_rebuilt_without_reembedding(tmp_path, corpus, embedder):
    cfg = index_config(tmp_path / "index", corpus)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        n_docs = len(_consistent(ix))
    state = cfg.index_dir / "state.sqlite"
    state.write_bytes(b"this is not a database" * 100)
    with Indexer(cfg, embedder) as ix:
        assert ix.rebuilt and "damaged" in ix.rebuilt
        r = ix.sync()
        assert r.embedded == 0, "the chunks already in LanceDB must be adopted, not redone"
        assert len(_consistent(ix)) == n_docs
        assert {x.state for x in ix.state.files()} == {"indexed"}
    assert list(cfg.index_dir.glob("state.sqlite.damaged-*"))


def test_identical_passages_in_different_files_are_embedded_once(tmp_path, embedder):
    d = tmp_path / "dup"
    d.mkdir()
    boiler = "Standard disclaimer: this document is confidential and for internal use only."
    (d / "a.md").write_text(f"# Memo A\n\nBudget talks start Monday.\n\n## Legal\n\n{boiler}\n")
    (d / "b.md").write_text(f"# Memo B\n\nHiring freeze ends in May.\n\n## Legal\n\n{boiler}\n")
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
    # Different heading paths ("Memo A > Legal" vs "Memo B > Legal"): nothing to share yet.
    assert r.chunks == 4 and r.embedded == 4
    (d / "c.md").write_text(
        f"# Memo A\n\nBudget talks start Monday.\n\n## Legal\n\n{boiler}\n\n"
        "## Extra\n\nOne more line.\n"
    )
    with Indexer(cfg, embedder) as ix:
        r2 = ix.sync()
    assert r2.added == 1 and r2.reused_vectors == 2 and r2.embedded == 1


def test_progress_goes_by_bytes_and_inside_a_long_file(tmp_path, embedder, monkeypatch):
    import indexer.vectors as vectors

    monkeypatch.setattr(vectors, "EMBED_PROGRESS_STEP", 4)
    d = tmp_path / "docs"
    d.mkdir()
    paras = [f"Section {i}. " + " ".join(f"word{i}x{j}" for j in range(120)) for i in range(12)]
    (d / "book.txt").write_text("\n\n".join(paras))
    (d / "note.txt").write_text("A short note about ladders.")
    seen = []
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder, on_progress=lambda p: seen.append(dataclasses.replace(p))) as ix:
        r = ix.sync()
    assert r.added == 2
    total = (d / "book.txt").stat().st_size + (d / "note.txt").stat().st_size
    indexing = [p for p in seen if p.phase == "indexing"]
    assert {p.bytes_total for p in indexing} == {total}
    assert indexing[-1].bytes_done == total and indexing[-1].done == 2
    inside = [(p.passages_done, p.passages_total) for p in indexing if p.passages_total]
    assert len(inside) >= 3, inside  # the book's passages were reported in steps of 4
    assert [a for a, _ in inside] == sorted(a for a, _ in inside)
    assert all(p.current and p.current.endswith("book.txt") for p in indexing if p.passages_total)
    # The bar and the estimate move while the book's passages are embedded, not only once the
    # whole file is committed.
    fractions = [p.fraction for p in indexing]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    moving = [p.fraction for p in indexing if p.passages_done and p.passages_total]
    assert moving and 0 < min(moving) < max(moving) < 1, moving
    assert all(p.eta_s is not None for p in indexing if p.passages_done)
    assert indexing[-1].embedded == r.embedded and indexing[-1].passage_rate > 0
    doing = {re.sub(r"\d+/", "N/", p.doing()) for p in indexing if p.passages_total}
    assert doing == {f"book.txt and 1 other file (N/{inside[0][1]} passages)"}, doing
    many = Progress(current=str(d / "a.txt"), batch_files=4, passages_total=10)
    assert many.doing() == "a.txt and 3 other files (0/10 passages)"
    # Files of very different sizes: the estimate follows bytes, not the file count.
    p = Progress(phase="indexing", total=2, done=1, bytes_total=1000, bytes_done=100)
    p.started -= 10
    assert p.eta_s is not None and 85 < p.eta_s < 95


def test_unspaced_scripts_are_keyword_searchable_and_old_fts_indexes_are_rebuilt(
    tmp_path, embedder
):
    from lancedb.index import FTS

    from indexer.store import FTS_COLUMN, FTS_INDEX_NAME

    d = tmp_path / "docs"
    d.mkdir()
    (d / "meeting.txt").write_text("会议纪要：我们明天去北京开会，讨论明年的预算。", "utf-8")
    (d / "tokyo.md").write_text("# 旅行\n\n東京の天気は晴れです。", "utf-8")
    (d / "english.txt").write_text("The warranty period of the inverter is twelve years.")
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        # Make the index look like one built by an earlier version (simple tokenizer).
        ix.store._table.drop_index(FTS_INDEX_NAME)
        ix.store._table.create_index(FTS_COLUMN, config=FTS(with_position=True), replace=True)
    # …which did not record what it checked at close either.
    con = sqlite3.connect(cfg.index_dir / "state.sqlite")
    con.execute("DELETE FROM meta WHERE key IN ('clean_close', 'fts_index')")
    con.commit()
    con.close()
    kw = {"mode": "keyword"}
    from indexer.search import SearchConfig

    s = Searcher(cfg.index_dir, embedder)
    assert s.search("预算", config=SearchConfig(**kw)).hits == []  # the old tokenizer
    s.close()
    with Indexer(cfg, embedder) as ix:  # a writer opening the index upgrades it
        names = [i.name for i in ix.store._table.list_indices() if i.index_type == "FTS"]
        assert names == [FTS_INDEX_NAME]
        assert ix.sync().embedded == 0  # nothing re-embedded
    s = Searcher(cfg.index_dir, embedder)
    for query, name in (("预算", "meeting.txt"), ("北京", "meeting.txt"), ("天気", "tokyo.md")):
        hits = s.search(query, config=SearchConfig(**kw)).hits
        assert [Path(h.path).name for h in hits] == [name], query
        top = hits[0]
        assert query in {top.snippet[a:b] for a, b in top.highlights}
    hits = s.search("inverter warranties").hits
    assert Path(hits[0].path).name == "english.txt"
    s.close()


def _book(d: Path, sections: int = 40) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    paras = [
        f"Chapter {i}. " + " ".join(f"term{i}w{j}" for j in range(110)) for i in range(sections)
    ]
    p = d / "book.txt"
    p.write_text("\n\n".join(paras))
    return p


@pytest.fixture
def small_parts(monkeypatch):
    import indexer.vectors as vectors

    monkeypatch.setattr(vectors, "LARGE_DOC_PASSAGES", 8)
    monkeypatch.setattr(vectors, "EMBED_PROGRESS_STEP", 4)


def test_a_long_document_stopped_part_way_keeps_its_parts_and_resumes(
    tmp_path, embedder, small_parts
):
    book = _book(tmp_path / "docs")
    cfg = index_config(tmp_path / "index", book.parent)
    asked = []

    def stop_after_some(p):
        if p.passages_done >= 20:
            asked.append(True)

    with Indexer(cfg, embedder, on_progress=stop_after_some) as ix:
        r = ix.sync(lambda: bool(asked))
        assert r.stopped and r.added == 0
        [row] = ix.state.files()
        assert row.state == "pending"
        parts = ix.store.count()
        [doc] = ix.state.partial_docs()
        assert parts >= 8 and ix.store.doc_chunk_counts() == {doc: parts}
    with Indexer(cfg, embedder) as ix:  # recovery does not take the parts for a whole document
        assert ix.state.conn.execute("SELECT count(*) FROM docs").fetchone()[0] == 0
        r = ix.sync()
        assert r.added == 1 and not r.stopped
        total = _consistent(ix)[doc]
        assert total > parts
        assert r.embedded == total - parts  # the parts' vectors were reused, not remade
        assert ix.state.partial_docs() == []
        assert ix.state.files()[0].state == "indexed"
    s = Searcher(cfg.index_dir, embedder)
    assert Path(s.search("term3w17").hits[0].path) == book
    s.close()


def test_a_crash_while_a_long_document_is_written_in_parts_is_recovered(
    tmp_path, embedder, small_parts, monkeypatch
):
    from indexer.store import ChunkStore

    book = _book(tmp_path / "docs")
    cfg = index_config(tmp_path / "index", book.parent)

    def crash(self, docs, rows):
        raise RuntimeError("power cut")

    with monkeypatch.context() as m:
        m.setattr(ChunkStore, "replace_docs", crash)
        with Indexer(cfg, embedder) as ix, pytest.raises(RuntimeError):
            ix.sync()
    with Indexer(cfg, embedder) as ix:
        parts = ix.store.count()
        assert parts > 8  # the parts made before the crash are there ...
        r = ix.sync()
        counts = _consistent(ix)  # ... and after recovery and a sync, exactly one whole copy
        assert list(counts.values()) == [r.reused_vectors + r.embedded]
        assert r.reused_vectors >= parts
        assert ix.state.partial_docs() == []


def test_parts_of_a_document_that_vanished_are_removed(tmp_path, embedder, small_parts):
    book = _book(tmp_path / "docs")
    cfg = index_config(tmp_path / "index", book.parent)
    with Indexer(cfg, embedder) as ix:
        r = ix.sync(lambda: ix.store.count() > 0)
        assert r.stopped and ix.store.count() > 0
    book.unlink()
    with Indexer(cfg, embedder) as ix:
        ix.sync()
        assert ix.store.count() == 0 and ix.state.partial_docs() == []
        assert ix.state.files() == []


def test_speed_after_a_finished_run_is_the_runs_average(tmp_path, corpus, embedder):
    """The last (idle) progress keeps the run's clock: its speed is files over the run's time,
    not files over the microseconds since the idle snapshot was made."""
    stamped: list[tuple[float, object]] = []
    cfg = index_config(tmp_path / "index", corpus)

    def record(p):
        stamped.append((time.monotonic(), dataclasses.replace(p)))

    with Indexer(cfg, embedder, on_progress=record) as ix:
        r = ix.sync()
        again = ix.sync()  # nothing to do: an up-to-date index
    runs = [(t, p) for t, p in stamped if p.phase == "idle"]
    assert len(runs) == 2
    (t_idle, idle), (_, idle_again) = runs
    indexing = [t for t, p in stamped if p.phase == "indexing" and t < t_idle]
    assert idle.done == r.added == 4
    # The run's clock started before its first indexing snapshot and stopped after its last.
    rate = idle.rate
    assert 0 < rate <= idle.done / (indexing[-1] - indexing[0])
    time.sleep(0.05)
    assert idle.rate == rate  # a stopped clock: read later, the finished run's speed is the same
    assert again.unchanged == 4 and idle_again.done == 0 and idle_again.rate == 0.0
