"""The text preview is put together from the passages stored in the index, not by reading the
file again in the GUI process: it still shows when the file was deleted after indexing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.gui.preview import PreviewPane, StoredPassages
from app.gui.render import text_around
from app.gui.tasks import TaskRunner
from indexer.pipeline import Indexer
from indexer.search import Passage, Searcher
from tests.conftest import index_config, make_hit

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(300)]

PARAGRAPHS = [f"Paragraph {i} tells how the heron fished in pond number {i}." for i in range(80)]


def _highlighted(pane: PreviewPane, words: str) -> bool:
    """Whether ``words`` in the preview carry the passage's highlight."""
    cur = pane.text.document().find(words)
    assert not cur.isNull(), words
    brush = cur.charFormat().background()
    return brush.style() != Qt.BrushStyle.NoBrush and brush.color().alpha() > 0


def test_text_preview_reads_stored_passages_when_the_file_is_gone(
    qtbot, tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    md = docs / "heron.md"
    md.write_text("# Heron\n\n" + "\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    idx = tmp_path / "index"
    with Indexer(index_config(idx, docs), embedder) as ix:
        assert ix.sync().failed == 0
    searcher = Searcher(idx, embedder)
    hit = searcher.search("heron fished in pond number 40", limit=1).hits[0]
    assert Path(hit.path) == md and hit.page is None and "number 40." in hit.text
    searcher.close()
    md.unlink()  # deleted after indexing: the preview must not need it

    runner = TaskRunner(1)
    reader = StoredPassages(lambda: Searcher(idx, embedder))
    pane = PreviewPane(runner, reader)
    qtbot.addWidget(pane)
    pane.resize(600, 500)
    pane.show()
    with qtbot.waitSignal(pane.rendered, timeout=30_000):
        pane.show_hit(hit)
    assert pane.stack.currentWidget() is pane.text
    shown = pane.text.toPlainText()
    assert hit.text in shown
    # more than the passage: its neighbours, each overlap shown once
    assert len(shown) > len(hit.text) * 2
    assert shown.count("pond number 40.") == 1
    for i in range(80):
        if f"pond number {i}." in shown:
            assert shown.count(f"pond number {i}.") == 1, i
    assert _highlighted(pane, "pond number 40.")
    first_shown = next(i for i in range(80) if f"pond number {i}." in shown)
    assert not _highlighted(pane, f"Paragraph {first_shown} ")
    runner.shutdown()
    reader.close()


def test_passages_are_stitched_once_around_the_hit() -> None:
    seg = "Alpha one. Beta two. Gamma three. Delta four."
    parts = [(0, 20), (11, 33), (21, 45)]  # overlapping neighbours, as the chunker makes them
    stored = [Passage(seg[a:b], None, None, a, b, f"c{i}") for i, (a, b) in enumerate(parts)] + [
        Passage("Another section.", "Next", None, 0, 16, "c3")
    ]
    hit = make_hit(1, seg[11:33], chunk_id="c1")
    view = text_around(stored, hit)
    assert view.text == seg + "\n\nAnother section."
    assert view.text[view.start : view.end] == seg[11:33]
    gone = text_around(stored, make_hit(2, "Not stored any more.", chunk_id="zz"))
    assert (gone.text, gone.start, gone.end) == ("Not stored any more.", 0, 20)
    far = text_around(stored, make_hit(3, "Another section.", chunk_id="c3"), context=5)
    assert far.text.startswith("…") and far.text[far.start : far.end] == "Another section."
