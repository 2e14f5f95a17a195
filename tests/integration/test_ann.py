"""The approximate vector index through real LanceDB, with the size threshold lowered so that a
few thousand clustered unit vectors (and keyword-tier rows without one) are enough."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer import ann
from indexer.ann import AnnConfig
from indexer.store import ChunkStore

pytestmark = pytest.mark.timeout(120)

DIMS = 64
RNG = np.random.default_rng(11)
CENTRES = RNG.standard_normal((40, DIMS)).astype(np.float32)


def _unit(n: int) -> np.ndarray[Any, Any]:
    """Clustered unit vectors, like passages about a few topics."""
    x = CENTRES[RNG.integers(0, len(CENTRES), n)]
    x = x + 0.3 * RNG.standard_normal((n, DIMS)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _rows(start: int, n: int, *, null_every: int = 5) -> list[dict[str, Any]]:
    """Rows ``start..start+n``; every ``null_every``-th has no vector (the keyword tier)."""
    vecs = _unit(n)
    return [
        {
            "chunk_id": f"c{i}",
            "doc": f"d{i // 10}",
            "ordinal": i % 10,
            "page": None,
            "heading": None,
            "text": f"passage {i}",
            "search_text": f"passage {i}",
            "start": 0,
            "end": 1,
            "th": f"th{i}",
            "vector": None if i % null_every == 0 else vecs[i - start].tolist(),
        }
        for i in range(start, start + n)
    ]


def _ids(hits: list[Any]) -> list[str]:
    return [h.row["chunk_id"] for h in hits]


def _uses_index(store: ChunkStore, where: str | None = None) -> bool:
    q = store._table.search(_unit(1)[0], vector_column_name="vector").distance_type("cosine")
    q = ann.tune(q, store._table, store.ann, where, 10)
    if where:
        q = q.where(where, prefilter=True)
    return "ANNSubIndex" in q.explain_plan()


@pytest.fixture
def store(tmp_path: Path) -> ChunkStore:
    s = ChunkStore(tmp_path, DIMS, ann=AnnConfig(min_vectors=2000))
    s.add_rows(_rows(0, 3000))  # 2,400 vectors and 600 rows without one
    return s


def test_no_index_below_the_threshold(tmp_path: Path) -> None:
    s = ChunkStore(tmp_path, DIMS, ann=AnnConfig(min_vectors=2000))
    s.add_rows(_rows(0, 2400))  # 1,920 vectors: under the threshold although the rows are not
    s.optimize()
    assert ann.vector_index_names(s._table) == []
    assert not _uses_index(s)


def test_index_is_built_past_the_threshold_despite_null_vectors(store: ChunkStore) -> None:
    store.optimize()
    assert ann.vector_index_names(store._table) == [f"{ann.VECTOR_INDEX_PREFIX}2400"]
    assert _uses_index(store)
    recalls = []
    for q in _unit(40):
        got = _ids(store.vector_search(q, 10))
        exact = _ids(store.vector_search(q, 10, exact=True))
        assert len(got) == 10
        assert not any(int(c[1:]) % 5 == 0 for c in got)  # never a row without a vector
        recalls.append(len(set(got) & set(exact)) / 10)
    assert np.mean(recalls) >= 0.9
    assert sum(r >= 0.8 for r in recalls) >= 36


def test_a_reader_uses_the_writers_index(store: ChunkStore, tmp_path: Path) -> None:
    store.optimize()
    reader = ChunkStore(tmp_path, DIMS, readonly=True)
    assert _uses_index(reader)
    q = _unit(1)[0]
    assert _ids(reader.vector_search(q, 10)) == _ids(store.vector_search(q, 10))


def test_filters_still_apply_on_both_paths(store: ChunkStore, tmp_path: Path) -> None:
    store.optimize()
    docs = [f"d{i}" for i in range(0, 300, 10)]  # 30 documents, 240 vectors
    where = "doc IN (" + ",".join(f"'{d}'" for d in docs) + ")"
    q = _unit(1)[0]
    exact = _ids(store.vector_search(q, 10, docs, exact=True))
    assert not _uses_index(store, where)  # a narrow filter is answered exactly
    assert _ids(store.vector_search(q, 10, docs)) == exact
    wide = ChunkStore(tmp_path, DIMS, ann=AnnConfig(min_vectors=2000, exact_filtered_rows=0))
    assert _uses_index(wide, where)
    got = wide.vector_search(q, 10, docs)
    assert {h.row["doc"] for h in got} <= set(docs)
    assert len(set(_ids(got)) & set(exact)) >= 7


def test_new_rows_are_found_before_and_after_the_index_catches_up(store: ChunkStore) -> None:
    store.optimize()
    extra = _rows(3000, 200)
    store.add_rows(extra)
    target = next(r for r in extra if r["vector"] is not None)
    q = np.asarray(target["vector"], dtype=np.float32)
    assert _ids(store.vector_search(q, 3))[0] == target["chunk_id"]  # an unindexed fragment
    store.optimize()
    stats = store._table.index_stats(ann.vector_index_names(store._table)[0])
    assert stats.num_unindexed_rows == 0
    assert _ids(store.vector_search(q, 3))[0] == target["chunk_id"]


def test_vectors_filled_in_by_the_semantic_tier_are_found(store: ChunkStore) -> None:
    store.optimize()
    filled = {f"c{i}": v for i, v in zip(range(0, 3000, 5)[:50], _unit(50), strict=True)}
    store.set_vectors(filled)
    for cid in ("c0", "c125", "c245"):
        assert _ids(store.vector_search(filled[cid], 1)) == [cid]
    store.optimize()
    assert _ids(store.vector_search(filled["c125"], 1)) == ["c125"]


def test_retrained_when_grown_and_dropped_when_shrunk(tmp_path: Path) -> None:
    s = ChunkStore(tmp_path, DIMS, ann=AnnConfig(min_vectors=2000, retrain_growth=1.5))
    s.add_rows(_rows(0, 3000))
    assert s.ensure_vector_index() == "built"
    assert s.ensure_vector_index() is None  # nothing changed
    s.add_rows(_rows(3000, 1500))
    s.optimize()  # 3,600 vectors, 1.5x the 2,400 it was trained on
    assert ann.vector_index_names(s._table) == [f"{ann.VECTOR_INDEX_PREFIX}3600"]
    s.delete_docs([f"d{i}" for i in range(30, 450)])  # 240 vectors stay
    s.optimize()
    assert ann.vector_index_names(s._table) == []
    assert not _uses_index(s)
    assert len(s.vector_search(_unit(1)[0], 10)) == 10


def test_the_indexer_builds_it_once_the_semantic_tier_has_filled_in(
    tmp_path: Path, embedder: Any
) -> None:
    """Through the pipeline: keyword-tier rows do not count towards the threshold (the state
    database's pending count is passed down), embedded ones do."""
    from indexer.pipeline import Indexer
    from tests.conftest import index_config

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(300):
        (docs / f"note{i:03d}.txt").write_text(f"Note {i} about topic {i % 17} and item {i}.")
    config = index_config(tmp_path / "index", docs, ann=AnnConfig(min_vectors=260))
    with Indexer(config, embedder) as ix:
        ix.sync(semantic=False)
        assert ix.wait_for_vector_index(60)
        assert ix.store.count() == 300
        assert ann.vector_index_names(ix.store._table) == []
        ix.sync()
        assert ix.wait_for_vector_index(60)
        ix.store._table.checkout_latest()  # the builder committed on its own connection
        assert ann.vector_index_names(ix.store._table) == [f"{ann.VECTOR_INDEX_PREFIX}300"]


def test_a_sync_returns_before_the_index_is_built_and_search_is_right_throughout(
    tmp_path: Path, embedder: Any
) -> None:
    """The index is trained off the writer's path: the sync that crosses the threshold returns
    while the build is held back, a reader's results are those of the exact search before the
    index lands, the index lands afterwards, and files written meanwhile are found at once."""
    from indexer.pipeline import Indexer
    from indexer.search import Searcher
    from tests.conftest import index_config

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(300):
        (docs / f"note{i:03d}.txt").write_text(
            f"Note {i} about topic {i % 17}: the {['heron', 'otter', 'larch'][i % 3]} item {i}."
        )
    config = index_config(tmp_path / "index", docs, ann=AnnConfig(min_vectors=260))
    queries = ["a note about the heron", "otter item 42", "topic 5 larch"]
    with Indexer(config, embedder) as ix:
        searcher = Searcher(tmp_path / "index", embedder, ann=config.ann)
        try:
            with ix.ann.hold():
                ix.sync()
                assert ix.ann.busy  # asked for, not built: the sync did not wait for it
                assert ann.vector_index_names(ix.store._table) == []
                store = ChunkStore(tmp_path / "index", embedder.dims, readonly=True)
                before = {q: [h.chunk_id for h in searcher.search(q).hits] for q in queries}
                for q in queries:
                    qv = embedder.embed_query(q)
                    assert _ids(store.vector_search(qv, 10)) == _ids(
                        store.vector_search(qv, 10, exact=True)
                    )
                # written while the build waits: the writer is not blocked, and it is found
                (docs / "late.txt").write_text("A kingfisher nests by the weir.")
                ix.sync(paths=[docs / "late.txt"])
                late = searcher.search("kingfisher by the weir").hits
                assert late and late[0].path.endswith("late.txt")
            assert ix.wait_for_vector_index(120)
            assert ix.ann.failures == 0
            assert ann.vector_index_names(store._table) == [f"{ann.VECTOR_INDEX_PREFIX}300"]
            plan = (
                store._table.search(embedder.embed_query(queries[0]), vector_column_name="vector")
                .nprobes(20)
                .explain_plan()
            )
            assert "ANNSubIndex" in plan
            after = {q: [h.chunk_id for h in searcher.search(q).hits] for q in queries}
            for q in queries:  # 301 vectors: the index's shortlist holds every near one
                assert after[q] == before[q]
            late = searcher.search("kingfisher by the weir").hits
            assert late and late[0].path.endswith("late.txt")
        finally:
            searcher.close()


def test_a_wide_filter_checked_on_the_hits_gives_the_prefilters_results(
    store: ChunkStore,
) -> None:
    """A filter that leaves much of the table (``rows`` known) is checked on the hits rather
    than applied inside LanceDB: the same passages and scores, for both searches (BM25 over
    the full-text index, whose statistics are the table's either way)."""
    from indexer import store as store_mod

    store.ensure_fts()

    docs = {f"d{i}" for i in range(0, 300) if i % 3}  # two thirds of the documents
    rows = 10 * len(docs)
    assert rows / store.count() >= store_mod.POSTFILTER_SHARE
    for q in _unit(5):
        pre = store.vector_search(q, 20, docs, exact=True)  # rows unknown: a prefilter
        post = store.vector_search(q, 20, docs, exact=True, rows=rows)
        assert [(h.row["chunk_id"], round(h.score, 5)) for h in post] == [
            (h.row["chunk_id"], round(h.score, 5)) for h in pre
        ]
        assert {h.row["doc"] for h in post} <= docs
    for text in ("passage 1234", "passage 77", "passage"):
        pre = store.text_search(text, 20, docs)
        post = store.text_search(text, 20, docs, rows=rows)
        assert [round(h.score, 4) for h in post] == [round(h.score, 4) for h in pre]
        # the same passages, but for which of the last score's ties made the cut
        last = round(pre[-1].score, 4)
        assert {h.row["chunk_id"] for h in post if round(h.score, 4) > last} == {
            h.row["chunk_id"] for h in pre if round(h.score, 4) > last
        }
        assert post and {h.row["doc"] for h in post} <= docs
