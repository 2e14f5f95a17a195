"""The answer sentence on its page: opening the card's source (or a citation) shows the page with
the quoted sentence in its own colour, scrolled into view (PDF), or the text with the sentence
marked by its offsets (formats without pages). Real index, embedder, llama.cpp and PyMuPDF."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest
from PySide6.QtCore import QRectF, QUrl
from PySide6.QtGui import QImage, QTextCursor

from app.engine import Engine
from app.gui import indexing as ix
from app.gui.answer_card import EXTRACT_LINK
from app.gui.render import ANSWER_HIGHLIGHT, HIGHLIGHT, sentence_rects
from app.gui.window import MainWindow
from app.paths import app_paths
from tests.conftest import make_pdf
from tests.fakes import ScriptedLlm

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(240)]

# Blank lines first, so that the paragraph sits low on the page and the preview must scroll.
PAGE = "\n" * 46 + (
    "Maintenance of the rooftop array. The installer serviced the inverters in April. "
    "The warranty on the inverters expires in March 2031, as agreed with the installer in the "
    "original contract of the rooftop array. Replacement costs are estimated at 12,000 euros."
)
SENTENCE_START = "The warranty on the inverters"
NOTES = (
    "# Lisbon trip\n\nWe fly out on Friday morning and stay in the old town. The tram 28 tickets "
    "for the Alfama district cost 3 euros each and must be booked before the trip. Bring "
    "sunscreen and good shoes for the hills.\n"
)


@pytest.fixture
def window(home, tmp_path, qtbot, embedder, llm):  # type: ignore[no-untyped-def]
    yield from _window(tmp_path, qtbot, embedder, llm)


@pytest.fixture
def scripted_window(home, tmp_path, qtbot, embedder):  # type: ignore[no-untyped-def]
    """The window with a model that always answers from the notes: what the view does with the
    quote must not hang on whether the small real model declines (its reply varies with what
    it was asked before in the same process)."""
    yield from _window(tmp_path, qtbot, embedder, ScriptedLlm(["They cost 3 euros each [1]."]))


def _window(tmp_path, qtbot, embedder, llm):  # type: ignore[no-untyped-def]
    engine = Engine(app_paths(), embedder=embedder, llm=llm)
    engine.settings.workers = 1
    w = MainWindow(engine, use_tray=False)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    docs = tmp_path / "docs"
    make_pdf(docs / "solar-report.pdf", [PAGE])
    (docs / "lisbon.md").write_text(NOTES, encoding="utf-8")
    w.folders.add_folder(str(docs))
    qtbot.waitUntil(lambda: w.indexing.state == ix.IDLE, timeout=120_000)
    w.tabs.setCurrentWidget(w.ask)
    yield w
    w.shutdown()


def _ask(qtbot, w: MainWindow, question: str):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(w.ask.answered, timeout=180_000) as sig:
        w.ask.ask(question)
    return sig.args[0]


def _count(img: QImage, r: QRectF, test) -> int:  # type: ignore[no-untyped-def]
    ratio = img.devicePixelRatio()
    x0, y0 = int(r.left() * ratio), int(r.top() * ratio)
    x1, y1 = int(r.right() * ratio), int(r.bottom() * ratio)
    return sum(
        bool(test(img.pixelColor(x, y)))
        for y in range(max(0, y0), min(img.height(), y1))
        for x in range(max(0, x0), min(img.width(), x1))
    )


def _green(c) -> bool:  # type: ignore[no-untyped-def]
    """The answer's green over white paper (about 163, 229, 187)."""
    return c.green() - c.red() > 40 and c.green() - c.blue() > 20


def _yellow(c) -> bool:  # type: ignore[no-untyped-def]
    """The passage's yellow over white paper (about 255, 235, 145)."""
    return c.red() > 200 and c.red() >= c.green() > 150 and c.red() - c.blue() > 60


def _word_rects(path: Path, words: list[str], scale: float) -> dict[str, QRectF]:
    """Where each of ``words`` is on page 1, in the preview's logical pixels."""
    with pymupdf.open(path) as doc:
        page_words = doc[0].get_text("words")
    out = {}
    for x0, y0, x1, y1, text, *_ in page_words:
        if text.strip(".,") in words and text.strip(".,") not in out:
            w, h = (x1 - x0) * scale, (y1 - y0) * scale
            out[text.strip(".,")] = QRectF(x0 * scale, y0 * scale, w, h)
    return out


def test_card_source_shows_the_pdf_page_with_the_sentence_in_its_colour(window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    w = window
    outcome = _ask(qtbot, w, "When does the inverter warranty expire?")
    quote = w.ask.quote
    assert quote is not None and outcome.answer.found
    assert quote.text.startswith(SENTENCE_START) and quote.page == 1
    with qtbot.waitSignal(w.ask.preview.rendered, timeout=30_000):
        w.ask.card.linkActivated.emit(EXTRACT_LINK)  # what clicking the card's file name does
    pv = w.ask.preview
    view = pv.page_view
    assert view is not None and view.answer_rects and view.rects
    assert pv.hit is not None and pv.hit.chunk_id == quote.chunk_id

    pdf = tmp_path / "docs" / "solar-report.pdf"
    with pymupdf.open(pdf) as doc:
        scale = view.image.width() / view.image.devicePixelRatio() / doc[0].rect.width
    # Words of the sentence (on its first and its wrapped last line) are green; words of the
    # passage outside it stay the passage's yellow; nothing there is both.
    at = _word_rects(pdf, ["warranty", "contract", "installer", "Replacement", "April"], scale)
    for word in ("warranty", "contract"):
        assert _count(view.image, at[word], _green) > 20, word
        assert _count(view.image, at[word], _yellow) == 0, word
    for word in ("Replacement", "April"):
        assert _count(view.image, at[word], _yellow) > 20, word
        assert _count(view.image, at[word], _green) == 0, word
    assert len(view.answer_rects) >= 2, "the sentence wraps: one rectangle per line"

    # Scrolled so that the sentence is on screen (it sits below the first screenful).
    bar = pv.scroll.verticalScrollBar()
    top = min(r.top() for r in view.answer_rects)
    assert top > pv.scroll.viewport().height(), "the test page must need scrolling"
    assert bar.value() <= top <= bar.value() + pv.scroll.viewport().height()

    # A citation of the same passage shows the sentence too.
    cite = next(c for c in outcome.answer.citations if c.chunk_id == quote.chunk_id)
    pv.clear()
    with qtbot.waitSignal(pv.rendered, timeout=30_000):
        w.ask._link(QUrl(f"cite:{cite.n}"))
    again = pv.page_view
    assert again is not None and len(again.answer_rects) == len(view.answer_rects)


def test_unpaged_source_marks_the_sentence_by_its_offsets(scripted_window, qtbot):  # type: ignore[no-untyped-def]
    w = scripted_window
    _ask(qtbot, w, "How much do the tram 28 tickets cost?")
    quote = w.ask.quote
    assert quote is not None and quote.page is None and "3 euros" in quote.text
    pv = w.ask.preview
    with qtbot.waitSignal(pv.rendered, timeout=30_000):
        w.ask.card.linkActivated.emit(EXTRACT_LINK)
    tv = pv.text_view
    assert tv is not None and tv.answer is not None
    a, b = tv.answer
    assert tv.text[a:b] == quote.text
    doc = pv.text.document()

    def background(pos: int):  # type: ignore[no-untyped-def]
        cur = QTextCursor(doc)
        cur.setPosition(pos + 1)  # the format of the character before the cursor
        return cur.charFormat().background().color()

    assert background(a) == ANSWER_HIGHLIGHT and background(b - 1) == ANSWER_HIGHLIGHT
    outside = tv.text.index("sunscreen")  # same passage, next sentence
    assert tv.start <= outside < tv.end and background(outside) == HIGHLIGHT
    assert background(b + 1) != ANSWER_HIGHLIGHT
    assert pv.text.textCursor().position() == a  # the view is brought to the sentence


def test_sentence_found_across_hyphenation_and_when_the_page_text_differs(qapp, tmp_path):  # type: ignore[no-untyped-def]
    """PyMuPDF's search with the indexer's flags, then pieces of the sentence."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(
        pymupdf.Rect(56, 56, 300, 700),
        "Costs of the array. Replace-\nment costs are estimated at 12,000 euros by the "
        "installer. Bird nests were removed. Replacement of the roof is not planned.",
        fontsize=10,
    )
    said = "Replacement costs are estimated at 12,000 euros by the installer."
    lines = sentence_rects(page, said)
    text = [page.get_textbox(r).strip() for r in lines]
    assert text[0].startswith("Replace") and "installer" in text[-1]
    assert not any("Bird" in t or "roof" in t for t in text)
    # a sentence whose extracted text differs in one place (a quote mark, a ligature):
    # the pieces that match are still found, and only next to each other
    fuzzy = sentence_rects(page, said.replace("euros", "€uros"))
    assert fuzzy and all(r.y1 <= lines[-1].y1 + 1 for r in fuzzy)
    assert not any("roof" in page.get_textbox(r) for r in fuzzy)
