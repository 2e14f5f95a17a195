"""The chunk table's full-text index: a damaged one is told apart from "no keyword hits" and
rebuilt (real LanceDB; vectors from the deterministic fake embedder, since only BM25 matters)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from indexer.store import FTS_INDEX_NAME, ChunkStore
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.timeout(60)

TEXTS = ["The grey heron waits by the pond.", "Invoices are due in thirty days.", "Prune roses."]


def _store(index_dir: Path, texts: list[str] = TEXTS, prefix: str = "d") -> ChunkStore:
    """A store holding one single-passage document per text (``<prefix><i>``)."""
    emb = FakeEmbedder(dims=16)
    store = ChunkStore(index_dir, emb.dims)
    vectors = emb.embed(texts)
    rows = [
        {
            "chunk_id": f"{prefix}{i}:0",
            "doc": f"{prefix}{i}",
            "ordinal": 0,
            "page": None,
            "heading": None,
            "text": t,
            "search_text": t,
            "start": 0,
            "end": len(t),
            "th": f"t{prefix}{i}",
            "vector": vectors[i].tolist(),
        }
        for i, t in enumerate(texts)
    ]
    store.replace_docs([r["doc"] for r in rows], rows)
    return store


def _break_fts(index_dir: Path) -> None:
    files = [p for p in (index_dir / "lance").rglob("*") if "_indices" in p.parts and p.is_file()]
    assert files, "setup: the full-text index must exist on disk"
    for p in files:
        p.unlink()


def test_a_healthy_index_answers_and_reports_no_damage(tmp_path):
    store = _store(tmp_path)
    assert store.fts_damage() is None
    assert [h.row["doc"] for h in store.text_search("heron", 5)] == ["d0"]
    assert store.text_search("zeppelin", 5) == []  # no keyword hits, and nothing is broken
    assert not store.ensure_fts()  # nothing to rebuild


def test_a_writer_rebuilds_a_damaged_index_on_search(tmp_path, caplog):
    store = _store(tmp_path)
    _break_fts(tmp_path)
    assert store.fts_damage() is not None
    with caplog.at_level(logging.INFO, logger="indexer.store"):
        hits = store.text_search("invoices", 5)
    assert [h.row["doc"] for h in hits] == ["d1"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "full-text index is damaged" in warnings[0].getMessage()
    assert store.fts_damage() is None
    assert [ix.name for ix in store._table.list_indices() if ix.index_type == "FTS"] == [
        FTS_INDEX_NAME
    ]


def test_ensure_fts_rebuilds_an_index_of_the_right_name_that_is_damaged(tmp_path):
    store = _store(tmp_path)
    _break_fts(tmp_path)
    assert ChunkStore(tmp_path, 16).ensure_fts()
    reader = ChunkStore(tmp_path, 16, readonly=True)
    assert reader.fts_damage() is None and len(reader.text_search("roses", 5)) == 1
    del store


def test_fts_query_keeps_decimal_points_and_thousands_separators():
    from indexer.store import fts_query

    assert fts_query("takes 2.5 s") == "takes 2.5 s"
    assert fts_query("4,095 students, 10% off.") == "4,095 students 10 off"
    assert fts_query("/usr/share/man/ja_JP.sjis") == "usr share man ja_JP.sjis"
    assert fts_query("end. (start, again)") == "end start again"


def test_numbers_with_a_decimal_point_match_exactly(tmp_path):
    texts = ["The beam is 2.5 metres long.", "Chapter 2 lists 5 beams.", "Up to 4,095 pupils."]
    store = _store(tmp_path, texts, prefix="n")
    assert [h.row["doc"] for h in store.text_search("beam 2.5", 5)][:1] == ["n0"]
    assert [h.row["doc"] for h in store.text_search("2.5", 5)] == ["n0"]
    assert [h.row["doc"] for h in store.text_search("4,095", 5)] == ["n2"]
