"""A long scan is read in OCR rounds after every file's text is in: resumable, never repeated,
no page silently left unread (issue 13). Real PyMuPDF, rapidocr on ONNX Runtime, LanceDB."""

import dataclasses

import pymupdf
import pytest

import indexer.pipeline as pipeline
from indexer.pipeline import Indexer
from indexer.search import Searcher
from tests.conftest import index_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

WORDS = ["lighthouse keeper", "sourdough starter", "glacier valley"]


def _scan(path, texts):
    doc = pymupdf.open()
    for text in texts:
        src = pymupdf.open()
        p = src.new_page(width=400, height=200)
        p.insert_textbox(pymupdf.Rect(20, 20, 380, 180), text, fontsize=18)
        png = p.get_pixmap(dpi=150).tobytes("png")
        page = doc.new_page(width=400, height=200)
        page.insert_image(page.rect, stream=png)
    doc.save(path)
    return path


def _pages_found(index_dir, embedder, word):
    res = Searcher(index_dir, embedder).search(word, limit=5)
    return {h.page for h in res.hits if word.split()[0] in h.text.lower()}


def test_scan_pages_beyond_the_budget_are_read_in_resumable_rounds(tmp_path, embedder, monkeypatch):
    d = tmp_path / "docs"
    d.mkdir()
    _scan(d / "scan.pdf", [f"Page {i + 1}: the {w}." for i, w in enumerate(WORDS)])
    (d / "note.txt").write_text("A plain note about the harbour.")
    cfg = index_config(tmp_path / "index", d)
    cache = tmp_path / "index" / "ocr-cache"
    cfg = dataclasses.replace(
        cfg, limits=dataclasses.replace(cfg.limits, ocr_pages=1, ocr_cache_dir=cache)
    )
    monkeypatch.setattr(pipeline, "OCR_SECONDS_PER_PAGE", 10_000.0)  # one new page per round

    phases = []

    def stop_at_rounds():
        return bool(phases) and phases[-1] == "reading scanned pages"

    with Indexer(cfg, embedder, on_progress=lambda p: phases.append(p.phase)) as ix:
        r = ix.sync(stop_at_rounds, semantic=False)
        assert r.stopped and r.added == 2
        assert ix.state.ocr_pending_docs()[0][1] == 2  # pages 2 and 3 wait
    assert _pages_found(tmp_path / "index", embedder, WORDS[0]) == {1}
    assert not _pages_found(tmp_path / "index", embedder, WORDS[2])
    first = {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")}
    assert len(first) == 2  # page 1, under its rendered image and its source key

    # The next run (a new process would do the same) reads the rest, one page per round.
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        assert not r.stopped and ix.state.ocr_pending_docs() == []
        assert ix.state.semantic_pending() == (0, 0)
    for i, w in enumerate(WORDS):
        assert _pages_found(tmp_path / "index", embedder, w) == {i + 1}, w
    after = {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")}
    assert len(after) == 6
    assert all(after[p] == t for p, t in first.items()), "page 1 was OCR'd again"


def test_ocr_boxes_locate_a_searched_word_on_the_scanned_page(tmp_path, embedder):
    from indexer.extract.boxes import ocr_boxes

    d = tmp_path / "docs"
    d.mkdir()
    texts = ["The harbour office opens at nine.", "Ask the lighthouse keeper for the key."]
    _scan(d / "scan.pdf", texts)
    # Where the word really is: the same text laid out on a text page of the same size.
    src = pymupdf.open().new_page(width=400, height=200)
    src.insert_textbox(pymupdf.Rect(20, 20, 380, 180), texts[1], fontsize=18)
    (true,) = src.search_for("lighthouse")
    cfg = index_config(tmp_path / "index", d)
    cache = tmp_path / "index" / "ocr-cache"
    cfg = dataclasses.replace(cfg, limits=dataclasses.replace(cfg.limits, ocr_cache_dir=cache))
    with Indexer(cfg, embedder) as ix:
        assert ix.sync(semantic=False).added == 1
    hit = Searcher(tmp_path / "index", embedder).search("lighthouse keeper", limit=1).hits[0]
    assert hit.ocr and hit.page == 2
    words = [hit.snippet[s:e] for s, e in hit.highlights]
    assert "lighthouse" in [w.lower() for w in words]
    boxes = ocr_boxes(hit.path, hit.page, words, cache)
    assert boxes and all(0 <= v <= 1 for b in boxes for v in b)
    w, h = src.rect.width, src.rect.height
    assert any(
        x0 * w < true.x1 and true.x0 < x1 * w and y0 * h < true.y1 and true.y0 < y1 * h
        for x0, y0, x1, y1 in boxes
    ), (boxes, true)
    assert ocr_boxes(hit.path, 1, words, cache) == []  # page 1 holds neither word
