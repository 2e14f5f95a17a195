"""Two tiers: keyword-searchable at extraction speed, vectors filled in behind (issue 11 §1).

Everything runs through the real stack: PyMuPDF in the sandboxed workers, the ONNX embedder,
LanceDB and SQLite.
"""

import json

import lancedb
import pytest

import indexer.pipeline as pipeline
import indexer.vectors as vectors
from indexer.pipeline import Indexer
from indexer.search import Searcher
from indexer.state import StateDB
from tests.conftest import cli_env, index_config, make_pdf, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TOPICS = [
    "The lighthouse keeper logged every passing ship in a leather journal.",
    "Sourdough starter needs flour, water and a warm kitchen to stay lively.",
    "The violin's bridge was carved from seasoned maple by a luthier in Cremona.",
    "Glaciers carve U-shaped valleys as they grind slowly down the mountains.",
    "A kestrel hovers over the meadow before diving onto a field vole.",
]


def _lines(out):
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def _null_vectors(index_dir):
    t = lancedb.connect(str(index_dir / "lance")).open_table("chunks")
    return t.count_rows("vector IS NULL"), t.count_rows()


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "docs"
    for i, text in enumerate(TOPICS):
        make_pdf(d / f"topic{i}.pdf", [f"Cover page {i}.", text, f"Notes {i}: {text}"])
    (d / "serial.txt").write_text("Serial ZX-5521 is printed under the battery lid.")
    return d


def test_keyword_only_then_meaning_through_the_cli(tmp_path, folder):
    home = tmp_path / "home"
    env = cli_env(home)
    r = run_cli(env, "index", str(folder), "--keyword-only", "--json")
    assert r.returncode == 0, r.stderr
    report = _lines(r.stdout)[-1]
    assert report["added"] == 6 and report["embedded"] == 0
    assert report["semantic_pending"] > 0
    assert "meaning search is still being prepared" in r.stderr

    r = run_cli(env, "status", "--json")
    assert r.returncode == 0, r.stderr
    rows = _lines(r.stdout)
    files, summary = rows[:-1], rows[-1]
    assert len(files) == 6 and all(f["state"] == "indexed" for f in files)
    assert not any(f["semantic"] for f in files)
    assert summary["semantic_pending"] == summary["chunks"] > 0
    assert summary["semantic_pending_files"] == 6 and summary["ocr_pending_pages"] == 0
    nulls, total = _null_vectors(home / "index")
    assert nulls == total == summary["chunks"]

    # Keyword search already finds the file and its page.
    r = run_cli(env, "search", "luthier Cremona", "--json", "--limit", "3")
    assert r.returncode == 0, r.stderr
    top = _lines(r.stdout)[0]
    assert top["path"] == str(folder / "topic2.pdf") and top["page"] == 2

    # Plain `index` completes the second tier and re-extracts nothing.
    r = run_cli(env, "index", "--json")
    assert r.returncode == 0, r.stderr
    report = _lines(r.stdout)[-1]
    assert report["unchanged"] == 6 and report["added"] == 0
    assert report["embedded"] > 0 and report["semantic_pending"] == 0
    r = run_cli(env, "status", "--json")
    rows = _lines(r.stdout)
    assert all(f["semantic"] for f in rows[:-1]) and rows[-1]["semantic_pending"] == 0
    assert _null_vectors(home / "index")[0] == 0

    # Now meaning search works: a paraphrase with none of the passage's words.
    r = run_cli(env, "search", "bird of prey hunting small rodents", "--json", "--limit", "3")
    assert r.returncode == 0, r.stderr
    assert _lines(r.stdout)[0]["path"] == str(folder / "topic4.pdf")


class _CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, real):
        self.real = real
        self.texts: list[str] = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def embed(self, texts):
        self.texts.extend(texts)
        return self.real.embed(texts)


def test_semantic_tier_resumes_without_re_embedding(tmp_path, folder, embedder, monkeypatch):
    monkeypatch.setattr(vectors, "EMBED_PROGRESS_STEP", 2)
    counting = _CountingEmbedder(embedder)
    cfg = index_config(tmp_path / "index", folder)
    with Indexer(cfg, counting) as ix:
        r = ix.sync(semantic=False)
        assert r.added == 6 and r.embedded == 0 and not counting.texts
        pending, files = ix.state.semantic_pending()
        assert pending > 4 and files == 6
        # Interrupted after the first slices: what was embedded is committed.
        calls = iter(range(100))
        assert ix.embed_pending(lambda: next(calls) >= 2) is False
        first = list(counting.texts)
        assert first
        left, _ = ix.state.semantic_pending()
        assert 0 < left < pending
    # A new process (a fresh Indexer over the same files) finishes the rest only.
    with Indexer(cfg, counting) as ix:
        r = ix.sync()
        assert r.unchanged == 6 and ix.state.semantic_pending() == (0, 0)
    rest = counting.texts[len(first) :]
    assert not set(first) & set(rest), "committed vectors were embedded again"
    assert _null_vectors(tmp_path / "index")[0] == 0
    # Identical texts share one embedding; every passage text was embedded exactly once.
    t = lancedb.connect(str(tmp_path / "index" / "lance")).open_table("chunks")
    texts = set(t.to_arrow().column("search_text").to_pylist())
    assert set(counting.texts) == texts and len(counting.texts) == len(texts)


def test_large_runs_are_keyword_searchable_before_embedding(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr(pipeline, "INLINE_EMBED_FILES", 2)
    d = tmp_path / "docs"
    for i, text in enumerate(TOPICS):
        (d / f"n{i}.txt").parent.mkdir(parents=True, exist_ok=True)
        (d / f"n{i}.txt").write_text(text)
    cfg = index_config(tmp_path / "index", d)
    phases: list[tuple[str, int]] = []
    seen_keyword_first = []
    with Indexer(cfg, embedder) as ix:

        def on_progress(p):
            phases.append((p.phase, p.passages_total))
            if p.phase == "embedding" and not seen_keyword_first:
                # All five files are already findable by their words before any vector exists.
                hits = Searcher(tmp_path / "index", embedder).search("kestrel vole", limit=3).hits
                seen_keyword_first.append(hits[0].path if hits else None)

        ix.on_progress = on_progress
        r = ix.sync()
        assert r.added == 5 and ix.state.semantic_pending() == (0, 0)
    assert ("embedding", 5) in phases
    assert seen_keyword_first == [str(d / "n4.txt")]


def test_recovered_documents_get_their_vectors(tmp_path, folder, embedder):
    """A crash between the LanceDB commit and the state record: the passages are adopted and
    the semantic tier embeds the ones without vectors."""
    cfg = index_config(tmp_path / "index", folder)
    with Indexer(cfg, embedder) as ix:
        ix.sync(semantic=False)
        with ix.state.transaction() as c:
            c.execute("DELETE FROM docs")
    # As after kill -9: the writer never recorded a clean close.
    db = StateDB(tmp_path / "index" / "state.sqlite")
    db.set_meta("clean_close", "0")
    db.close()
    with Indexer(cfg, embedder) as ix:
        assert ix.state.semantic_pending()[0] > 0
        ix.sync()
        assert ix.state.semantic_pending() == (0, 0)
    assert _null_vectors(tmp_path / "index")[0] == 0


def test_the_semantic_tier_yields_to_new_changes_and_catches_up(tmp_path, embedder, monkeypatch):
    """The watcher interrupts embedding when files change; catch_up resumes it later."""
    monkeypatch.setattr(pipeline, "INLINE_EMBED_FILES", 2)
    d = tmp_path / "docs"
    d.mkdir()
    for i, text in enumerate(TOPICS):
        (d / f"n{i}.txt").write_text(text)
    cfg = index_config(tmp_path / "index", d)
    with Indexer(cfg, embedder) as ix:
        r = ix.sync(interrupt=lambda: True)  # changes are always waiting
        assert r.added == 5 and not r.stopped and r.embedded == 0
        assert r.semantic_pending == 5 and ix.is_behind()
        # The new change is taken at once (a small batch gets its vectors inline), without
        # waiting for the five files behind it.
        (d / "n9.txt").write_text("A barn owl nests in the church tower.")
        r = ix.sync(paths=[d / "n9.txt"], interrupt=lambda: True)
        assert r.added == 1 and r.embedded == 1 and r.semantic_pending == 5
        r = ix.catch_up()
        assert r.embedded == 5 and r.semantic_pending == 0 and not ix.is_behind()
    assert _null_vectors(tmp_path / "index")[0] == 0
