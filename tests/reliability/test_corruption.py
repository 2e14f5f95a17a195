"""A damaged index or one built by another model is detected at start and rebuilt from the
files; the user's settings are left alone."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from app.engine import Engine
from app.paths import app_paths
from indexer.search import SearchConfig
from indexer.store import ChunkStore
from tests.conftest import make_pdf
from tests.reliability.helpers import consistent

pytestmark = [pytest.mark.integration]


def _engine(home: Path, corpus: Path, embedder) -> Engine:  # type: ignore[no-untyped-def]
    eng = Engine(app_paths())
    eng._embedder = embedder  # the session's model; loading it again is slow
    if str(corpus) not in eng.settings.folders:
        eng.settings.folders.append(str(corpus))
        eng.save_settings()
    return eng


def _corpus(d: Path) -> Path:
    make_pdf(d / "manual.pdf", ["The inverter warranty lasts twelve years.", "Clean the fan."])
    (d / "notes.txt").write_text("Tomatoes need full sun and weekly water.")
    return d


def _damage_data_files(lance: Path) -> None:
    files = [p for p in lance.rglob("*.lance") if "data" in p.parts]
    assert files
    for p in files:
        p.write_bytes(b"\0" * 64)


def _damage_manifests(lance: Path) -> None:
    mans = list(lance.rglob("_versions/*"))
    assert mans
    for p in mans:
        p.write_bytes(b"garbage")


def _drop_everything(lance: Path) -> None:
    shutil.rmtree(lance)
    lance.mkdir()
    (lance / "chunks.lance").write_text("not a table")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("damage", [_damage_data_files, _damage_manifests, _drop_everything])
def test_damaged_index_is_detected_and_rebuilt(home, tmp_path, embedder, damage):
    corpus = _corpus(tmp_path / "docs")
    eng = _engine(home, corpus, embedder)
    with eng.open_indexer() as ix:
        assert ix.sync().added == 2
    settings = eng.paths.settings_file
    before = (settings.read_bytes(), settings.stat().st_mtime_ns)
    damage(eng.paths.index_dir / "lance")
    eng2 = _engine(home, corpus, embedder)
    with eng2.open_indexer() as ix:
        r = ix.sync()
    assert r.rebuilt and "rebuil" in r.rebuilt.lower(), r
    assert r.added + r.updated + r.moved == 2 and r.failed == 0, r
    assert (settings.read_bytes(), settings.stat().st_mtime_ns) == before
    assert len(consistent(eng.paths.index_dir)) == 2
    hits = eng2.searcher().search("how long is the warranty", 3).hits
    assert hits and hits[0].path.endswith("manual.pdf")


@pytest.mark.timeout(180)
def test_recorded_model_mismatch_means_full_reembedding(home, tmp_path, embedder):
    corpus = _corpus(tmp_path / "docs")
    eng = _engine(home, corpus, embedder)
    with eng.open_indexer() as ix:
        first = ix.sync()
        ix.state.set_meta("embed_model", "some-other-model")
    settings = eng.paths.settings_file
    before = settings.read_bytes()
    with _engine(home, corpus, embedder).open_indexer() as ix:
        r = ix.sync()
        assert ix.state.get_meta("embed_model") == embedder.model_id
    assert r.rebuilt and "some-other-model" in r.rebuilt
    assert r.embedded == first.embedded  # everything re-embedded, nothing mixed
    assert settings.read_bytes() == before
    consistent(eng.paths.index_dir)


@pytest.mark.timeout(120)
def test_state_schema_version_is_recorded(tmp_path):
    from indexer.state import SCHEMA_VERSION, StateDB

    db = StateDB(tmp_path / "state.sqlite")
    assert db.get_meta("schema_version") == str(SCHEMA_VERSION)
    db.close()


def _damage_fts(lance: Path) -> None:
    """Truncate every file of the full-text index; the table and its vectors stay intact."""
    ix_files = [p for p in lance.rglob("*") if "_indices" in p.parts and p.is_file()]
    assert ix_files
    for p in ix_files:
        p.write_bytes(b"garbage")


@pytest.mark.timeout(180)
def test_damaged_fulltext_index_is_rebuilt_by_a_search(home, tmp_path, embedder, caplog):
    corpus = _corpus(tmp_path / "docs")
    eng = _engine(home, corpus, embedder)
    with eng.open_indexer() as ix:
        ix.sync()
    _damage_fts(eng.paths.index_dir / "lance")
    cfg = SearchConfig(mode="keyword")
    with caplog.at_level(logging.WARNING, logger="indexer.store"):
        res = eng.searcher().search("inverter warranty", 3, config=cfg)
    assert res.keyword_hits > 0 and res.hits[0].path.endswith("manual.pdf"), res
    assert any("full-text index is damaged" in r.getMessage() for r in caplog.records)
    assert ChunkStore(eng.paths.index_dir, embedder.dims, readonly=True).fts_damage() is None


@pytest.mark.timeout(180)
def test_damaged_fulltext_index_under_a_running_writer_is_a_warning_then_rebuilt(
    home, tmp_path, embedder, caplog
):
    corpus = _corpus(tmp_path / "docs")
    eng = _engine(home, corpus, embedder)
    with eng.open_indexer() as ix:
        ix.sync()
        _damage_fts(eng.paths.index_dir / "lance")
        cfg = SearchConfig(mode="keyword")
        with caplog.at_level(logging.WARNING, logger="indexer.store"):
            res = eng.searcher().search("inverter warranty", 3, config=cfg)
        # The writer holds the lock: the reader cannot rebuild, and it says so.
        assert res.keyword_hits == 0
        assert any("keyword search is off" in r.getMessage() for r in caplog.records)
        (corpus / "notes.txt").write_text("Tomatoes need full sun and daily water.")
        ix.sync()  # the writer's next commit finds the damage and rebuilds the index
    res = eng.searcher().search("inverter warranty", 3, config=cfg)
    assert res.keyword_hits > 0 and res.hits[0].path.endswith("manual.pdf"), res
