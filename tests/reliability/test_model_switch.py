"""Switching the embedding model (or the chunker) rebuilds beside the index that answers, then
swaps atomically: the old index answers with the old model until the new one is complete."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.humanize import rebuild_note
from indexer import build as build_mod
from indexer.generations import active_layout, read_pointer
from indexer.pipeline import Indexer
from indexer.search import Searcher
from indexer.status import read_status
from indexer.store import ChunkStore
from models.embedder import Embedder
from tests.conftest import index_config, make_pdf
from tests.reliability.helpers import consistent

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cls_embedder(embedder):  # type: ignore[no-untyped-def]
    """A second real model: the same ONNX network with CLS pooling, another id and vectors."""
    return Embedder(dataclasses.replace(embedder.spec, id="minilm-cls", pooling="cls"))


def _corpus(d: Path, n: int = 12) -> Path:
    make_pdf(d / "manual.pdf", ["The inverter warranty lasts twelve years.", "Clean the fan."])
    for i in range(n):
        (d / f"note{i:02d}.txt").write_text(f"Note {i} about garden tomatoes zq{i}x and sun.\n")
    return d


def _docs(index_dir: Path) -> int:
    return len(consistent(index_dir))


def test_old_index_answers_with_old_model_until_the_swap(tmp_path, embedder, cls_embedder):
    corpus = _corpus(tmp_path / "docs")
    cfg = index_config(tmp_path / "index", corpus)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
    n_docs = _docs(cfg.index_dir)
    loaded = {embedder.model_id: embedder, cls_embedder.model_id: cls_embedder}
    reader = Searcher(cfg.index_dir, cls_embedder, embedder_for=loaded.get)
    seen: list[tuple[str, str | None, bool]] = []
    holding = [True]

    def hold(_p: object) -> None:  # midway through the rebuild: search through a reader
        if holding[0]:
            hits = reader.search("how long is the warranty", 3).hits
            seen.append(
                (hits[0].path if hits else "", reader.generation, reader.embedder is embedder)
            )

    with Indexer(cfg, cls_embedder, on_progress=hold) as ix:
        assert ix.replacing is not None and ix.layout.generation == "gen-1"
        assert read_pointer(cfg.index_dir).active == ""  # not yet switched
        r = ix.sync(should_stop=lambda: len(seen) >= 2)
        assert r.stopped and not r.switched
        assert read_pointer(cfg.index_dir).building == "gen-1"
        holding[0] = False
        st = read_status(cfg.index_dir, files=False)  # what `status --json` and the window show
        assert st.build["embed_model"] == embedder.model_id  # the index that answers
        assert st.rebuild is not None and st.rebuild["embed_model"] == "minilm-cls"
        assert st.rebuild["files"] == 13 and st.rebuild["files_done"] < 13
        assert "minilm-cls" in rebuild_note(st.rebuild)
        r = ix.sync()
        assert r.switched and "minilm-cls" in r.switched
    # Searches during the rebuild read the old generation, queries embedded by the old model.
    assert len(seen) >= 2 and all(
        p.endswith("manual.pdf") and g == "" and old for p, g, old in seen
    ), seen
    assert read_pointer(cfg.index_dir).active == "gen-1"
    assert read_status(cfg.index_dir, files=False).rebuild is None
    assert not (cfg.index_dir / "state.sqlite").exists()  # the old generation is gone
    assert not (cfg.index_dir / "lance").exists()
    # The open reader notices the switch and embeds with the new model from then on.
    hits = reader.search("how long is the warranty", 3).hits
    assert reader.generation == "gen-1" and reader.embedder is cls_embedder
    assert hits and hits[0].path.endswith("manual.pdf")
    assert _docs(cfg.index_dir) == n_docs
    # Every vector in the new generation is the new model's.
    store = ChunkStore(active_layout(cfg.index_dir), 384, readonly=True)
    rows = store._table.search().select(["search_text", "vector"]).limit(5).to_arrow().to_pylist()
    for row in rows:
        vec = np.asarray(row["vector"], dtype=np.float32)
        assert np.allclose(vec, cls_embedder.embed([row["search_text"]])[0], atol=1e-4)
        assert not np.allclose(vec, embedder.embed([row["search_text"]])[0], atol=1e-2)
    reader.close()


def test_a_changed_chunker_version_takes_the_same_path(tmp_path, embedder, monkeypatch):
    corpus = _corpus(tmp_path / "docs", 3)
    cfg = index_config(tmp_path / "index", corpus)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
    monkeypatch.setattr(build_mod, "CHUNKER_VERSION", 999)
    with Indexer(cfg, embedder) as ix:
        assert ix.replacing is not None and ix.replacing.chunker_version != "999"
        assert ix.layout.generation == "gen-1"
        r = ix.sync()
        assert r.switched
        assert ix.state.get_meta("chunker_version") == "999"
    assert read_pointer(cfg.index_dir).active == "gen-1"
    assert not (cfg.index_dir / "state.sqlite").exists()
    # A second switch (back) goes to a new generation and deletes gen-1.
    monkeypatch.setattr(build_mod, "CHUNKER_VERSION", 998)
    with Indexer(cfg, embedder) as ix:
        assert ix.layout.generation == "gen-2"
        assert ix.sync().switched
    assert read_pointer(cfg.index_dir).active == "gen-2"
    assert not (cfg.index_dir / "gen-1").exists()


CHILD = """
import dataclasses, os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from indexer.config import IndexConfig
from indexer.pipeline import Indexer
from indexer.sandbox import SandboxConfig
from indexer import vectors
from models.catalogue import find_model
from models.embedder import Embedder
base = Embedder(find_model(Path("/nonexistent"), None, "embedding"))
emb = Embedder(dataclasses.replace(base.spec, id="minilm-cls", pooling="cls"))
real = vectors.VectorStage._commit
n = [0]
def commit(self, v, left):
    real(self, v, left)
    n[0] += 1
    if n[0] == 2:
        open({marker!r}, "w").write("committed")
        time.sleep(600)  # killed here, mid-rebuild, with vectors committed
vectors.VectorStage._commit = commit
vectors.LARGE_DOC_PASSAGES = 8
cfg = IndexConfig(index_dir=Path({index!r}), folders=(Path({corpus!r}),), batch_chunks=8,
                  sandbox=SandboxConfig(workers=1, timeout_s=60))
with Indexer(cfg, emb) as ix:
    ix.sync()
"""


def test_sigkill_mid_rebuild_keeps_the_old_index_and_resumes(tmp_path, embedder, cls_embedder):
    corpus = _corpus(tmp_path / "docs", 40)
    cfg = index_config(tmp_path / "index", corpus)
    with Indexer(cfg, embedder) as ix:
        ix.sync()
    n_docs = _docs(cfg.index_dir)
    marker = tmp_path / "marker"
    script = CHILD.format(
        root=str(ROOT), marker=str(marker), index=str(cfg.index_dir), corpus=str(corpus)
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    ptr = json.loads((cfg.index_dir / "current.json").read_text())
    assert ptr == {"active": "", "building": "gen-1"}
    # The old index still answers, with the old model.
    reader = Searcher(cfg.index_dir, embedder)
    hits = reader.search("how long is the warranty", 3).hits
    assert hits and hits[0].path.endswith("manual.pdf") and reader.generation == ""
    assert _docs(cfg.index_dir) == n_docs
    reader.close()
    with Indexer(cfg, cls_embedder) as ix:
        assert ix.layout.generation == "gen-1"  # resumed, not started again
        store = ix.store
        had = store.count() - len(store.unembedded(sorted(store.doc_chunk_counts())))
        assert had > 0  # vectors committed before the kill
        r = ix.sync()
        assert r.switched
        total = sum(ix.store.doc_chunk_counts().values())
        assert r.embedded + r.reused_vectors <= total - had + 1, (r, total, had)
        ids = [
            row["chunk_id"] for h in ix.store.doc_chunk_counts() for row in ix.store.chunks_of(h)
        ]
        assert len(ids) == len(set(ids))  # no duplicates
    assert _docs(cfg.index_dir) == n_docs
    assert not (cfg.index_dir / "state.sqlite").exists()
