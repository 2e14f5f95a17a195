"""File-name matches are looked up in one batched store query, not one per matching file."""

from pathlib import Path

import pytest

from indexer.pipeline import Indexer
from indexer.search import Searcher
from indexer.store import ChunkStore
from tests.conftest import index_config, make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_name_matches_are_fetched_in_one_query(tmp_path, embedder, monkeypatch):
    d = tmp_path / "docs"
    for i in range(6):
        make_pdf(d / f"invoice-{i}.pdf", [f"Line item {i} for the garden shed, {i + 10} euros."])
    make_pdf(d / "garden.pdf", ["The lawn mower blades are sharpened every spring."])
    idx = tmp_path / "index"
    with Indexer(index_config(idx, d), embedder) as ix:
        assert ix.sync().failed == 0
    calls: list[int] = []
    batched = ChunkStore.first_chunks

    def counting(self, docs):
        docs = list(docs)
        calls.append(len(docs))
        return batched(self, docs)

    def single(self, doc):
        raise AssertionError("first_chunk called per document")

    monkeypatch.setattr(ChunkStore, "first_chunks", counting)
    monkeypatch.setattr(ChunkStore, "first_chunk", single)
    res = Searcher(idx, embedder).search("invoice", limit=10)
    assert calls == [6]
    names = {Path(h.path).name for h in res.hits}
    assert {f"invoice-{i}.pdf" for i in range(6)} <= names
