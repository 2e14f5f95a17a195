"""The desktop app driven like a user would, against a real index built by the app itself.

Real LanceDB, ONNX embedder, watchdog, PyMuPDF and llama.cpp; offscreen Qt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor

from app.engine import Engine
from app.gui import indexing as ix
from app.gui.results import HitRole
from app.gui.window import MainWindow
from app.paths import app_paths
from tests.conftest import make_docx, make_pdf

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(180)]

INDEX_WAIT_MS = 90_000


def _docs(root: Path) -> Path:
    make_pdf(
        root / "solar-report.pdf",
        [
            "Annual Solar Report\n\nThe rooftop array produced 48 megawatt hours in 2023.",
            "Maintenance\n\nThe warranty on the inverters expires in March 2031. Replacement costs "
            "are estimated at 12,000 euros. Bird nests under the panels were removed twice.",
        ],
    )
    make_pdf(
        root / "sourdough.pdf",
        [
            "Sourdough bread\n\nFeed the starter twice a day with flour and water. "
            "Bake the loaf at "
            "250 degrees in a covered Dutch oven."
        ],
    )
    make_docx(
        root / "kickoff.docx",
        [
            ("Project Kickoff", 1),
            (
                "The kickoff meeting for the bridge project is on 14 May. "
                "Anna prepares the budget.",
                0,
            ),
        ],
    )
    (root / "travel.md").write_text(
        "# Lisbon\n\nBook the tram 28 tickets for the Alfama district before the trip.\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def window(home, tmp_path, qtbot, embedder, monkeypatch):  # type: ignore[no-untyped-def]
    """The main window on an empty FINDLING_HOME; shut down (threads joined) at the end."""
    opened: list[tuple[str, object]] = []
    monkeypatch.setattr(
        "app.gui.window.open_file", lambda p, page=None, line=None: opened.append((p, page)) or True
    )
    monkeypatch.setattr(
        "app.gui.window.reveal_file", lambda p: opened.append((p, "reveal")) or True
    )
    # The session's model: loading it per test costs seconds.
    engine = Engine(app_paths(), embedder=embedder)
    engine.settings.workers = 1
    w = MainWindow(engine, use_tray=False)
    w.opened = opened  # type: ignore[attr-defined]
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    yield w
    w.shutdown()
    assert not w.indexing.running


def _index(qtbot, w: MainWindow, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Add ``folder`` through the Folders page and wait until indexing is done."""
    w.folders.add_folder(str(folder))
    qtbot.waitUntil(lambda: w.indexing.state == ix.IDLE, timeout=INDEX_WAIT_MS)


def _search(qtbot, w: MainWindow, text: str) -> list:  # type: ignore[no-untyped-def]
    w.search.field.clear()
    with qtbot.waitSignal(
        w.search.searched, timeout=30_000, check_params_cb=lambda q, n: q == text
    ):
        qtbot.keyClicks(w.search.field, text)
    return w.search.model.hits


def test_add_folder_shows_progress_up_to_100_percent(window, qtbot, tmp_path):
    w = window
    folder = _docs(tmp_path / "docs")
    w.tabs.setCurrentWidget(w.folders)
    seen = []
    bar = []  # what the bar showed right after each indexing progress (the view's slot runs first)

    def _read_bar(p) -> None:  # type: ignore[no-untyped-def]
        seen.append(p)
        if p.phase == "indexing":
            bar.append((p.done, p.total, w.folders.bar.value(), w.folders.bar.text()))

    w.indexing.progress.connect(_read_bar)
    _index(qtbot, w, folder)
    assert w.engine.settings.folders == [str(folder)]
    assert w.folders.folder_list.item(0).text() == str(folder)
    last = [p for p in seen if p.phase == "indexing"][-1]
    assert last.total == 4 and last.done == 4
    # The idle state sets 100% whatever happened, so read the bar while indexing ran: it follows
    # done/total and reaches 100% with the last file.
    assert bar[-1] == (4, 4, 1000, "100%"), bar
    assert all(v == done * 1000 // total for done, total, v, _ in bar if total), bar
    assert w.folders.bar.text() == "100%"
    assert w.folders.state_label.text().startswith("Up to date")
    qtbot.waitUntil(lambda: "4 files indexed" in w.folders.counts_label.text(), timeout=10_000)
    assert w.index_label.text() == "Index up to date"
    # pause and resume
    w.folders.pause_button.click()
    qtbot.waitUntil(lambda: w.indexing.state == ix.PAUSED, timeout=30_000)
    assert w.folders.pause_button.text() == "Resume"
    w.folders.pause_button.click()
    qtbot.waitUntil(lambda: w.indexing.state == ix.IDLE, timeout=30_000)


def test_search_as_you_type_preview_highlight_and_keyboard(window, qtbot, tmp_path):
    w = window
    _index(qtbot, w, _docs(tmp_path / "docs"))
    w.search.field.setFocus()
    with qtbot.waitSignal(w.search.preview.rendered, timeout=30_000):
        hits = _search(qtbot, w, "inverter warranty")
    top = hits[0]
    assert Path(top.path).name == "solar-report.pdf" and top.page == 2
    assert w.search.current_hit() is top  # the top hit is selected and previewed
    view = w.search.preview.page_view
    assert view is not None and view.page == 2
    assert view.rects, "the passage is highlighted on the rendered page"
    r = view.rects[-1]
    x = int(r.center().x() * view.image.devicePixelRatio())
    y = int((r.top() + 2) * view.image.devicePixelRatio())
    colour = QColor(view.image.pixel(x, y))
    assert colour.red() > 200 and colour.blue() < 200, "highlight colour on the page"
    # the highlight is scrolled into view
    bar = w.search.preview.scroll.verticalScrollBar()
    vp = w.search.preview.scroll.viewport().height()
    assert bar.value() <= r.top() <= bar.value() + vp

    # keyboard: Down moves the selection while typing, Enter opens, Ctrl+Enter reveals
    qtbot.keyClick(w.search.field, Qt.Key.Key_Down)
    assert w.search.list.currentIndex().row() == 1
    qtbot.keyClick(w.search.field, Qt.Key.Key_Up)
    qtbot.keyClick(w.search.field, Qt.Key.Key_Return)
    qtbot.keyClick(w.search.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert w.opened == [(top.path, 2), (top.path, "reveal")]

    # a file without pages: the text around the passage, highlighted
    hits = _search(qtbot, w, "tram tickets")
    assert Path(hits[0].path).name == "travel.md"
    qtbot.waitUntil(
        lambda: w.search.preview.stack.currentWidget() is w.search.preview.text, timeout=20_000
    )
    doc_text = w.search.preview.text.toPlainText()
    assert "tram 28 tickets" in doc_text
    cur = w.search.preview.text.document().find("tram")
    assert cur.charFormat().background().color().alpha() > 0

    # filters: only PDFs
    w.search.filters.type.setCurrentText("PDF")
    qtbot.waitUntil(
        lambda: all(h.path.endswith(".pdf") for h in w.search.model.hits), timeout=20_000
    )


def test_stale_results_are_dropped(window, qtbot, tmp_path):
    w = window
    _index(qtbot, w, _docs(tmp_path / "docs"))
    got = []
    w.search.searched.connect(lambda q, n: got.append(q))
    w.search.field.setText("sourdough")
    w.search.run_search()
    w.search.field.setText("kickoff meeting")
    w.search.run_search()
    qtbot.waitUntil(lambda: "kickoff meeting" in got, timeout=30_000)
    qtbot.wait(300)
    assert got == ["kickoff meeting"]
    assert Path(w.search.model.hits[0].path).name == "kickoff.docx"


def test_deleted_file_vanishes_from_results(window, qtbot, tmp_path):
    w = window
    folder = _docs(tmp_path / "docs")
    _index(qtbot, w, folder)
    hits = _search(qtbot, w, "sourdough starter")
    assert Path(hits[0].path).name == "sourdough.pdf"
    (folder / "sourdough.pdf").unlink()
    qtbot.waitUntil(
        lambda: all(Path(h.path).name != "sourdough.pdf" for h in w.search.model.hits),
        timeout=60_000,
    )
    assert Path(w.search.model.index(0).data(HitRole).path).exists()


def test_ask_streams_an_answer_with_clickable_citations(window, qtbot, tmp_path, llm):
    w = window
    w.engine._llm = llm  # the session's model (the window's engine exists already)
    _index(qtbot, w, _docs(tmp_path / "docs"))
    w.tabs.setCurrentWidget(w.ask)
    tokens = []
    w.asking.token.connect(lambda req, t: tokens.append(t))
    quotes = []
    w.asking.extract.connect(lambda req, q: quotes.append((q, len(tokens))))
    qtbot.keyClicks(w.ask.field, "When does the inverter warranty expire?")
    with qtbot.waitSignal(w.ask.answered, timeout=150_000) as sig:
        qtbot.keyClick(w.ask.field, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(tokens), timeout=150_000)
        assert w.ask.stop_button.isEnabled()
        qtbot.waitUntil(lambda: w.ask.answer.toPlainText().strip() != "", timeout=10_000)
    outcome = sig.args[0]
    assert len(tokens) > 1, "the answer arrived token by token"
    # The quoted sentence came first, before any token, and is shown as a card.
    quote, tokens_before = quotes[0]
    assert tokens_before == 0 and quote is not None and "warranty" in quote.text
    assert w.ask.card.isVisible() and quote.text[:20] in w.ask.card.text()
    assert outcome.answer.citations, "the answer lists its sources"
    html = w.ask.answer.toHtml()
    assert "cite:" in html
    assert not w.ask.stop_button.isEnabled()
    assert w.ask.questions()[0] == "When does the inverter warranty expire?"
    first = outcome.answer.citations[0]
    with qtbot.waitSignal(w.ask.preview.rendered, timeout=30_000):
        w.ask._link(QUrl(f"cite:{first.n}"))  # what clicking the [n] link does
    assert w.ask.preview.hit is not None and w.ask.preview.hit.chunk_id == first.chunk_id
    if first.page:
        assert w.ask.preview.page_view is not None and w.ask.preview.page_view.rects


def test_ask_says_when_the_answer_is_not_in_the_files(window, qtbot, tmp_path, llm):
    w = window
    w.engine._llm = llm
    empty = tmp_path / "empty"
    empty.mkdir()
    _index(qtbot, w, empty)
    with qtbot.waitSignal(w.ask.answered, timeout=60_000) as sig:
        w.ask.ask("What is the boiling point of tungsten?")
    assert not sig.args[0].answer.found
    assert "Not in your files" in w.ask.answer.toPlainText()


def test_ctrl_o_carries_the_launchers_prefixes_into_the_window(window, qtbot, tmp_path):
    """The launcher's Ctrl+O hands its text over; the window narrows by the same prefixes."""
    w = window
    folder = _docs(tmp_path / "docs")
    (folder / "warranty-notes.md").write_text(
        "# Warranty\n\nThe warranty on the inverters is kept in the blue folder.\n",
        encoding="utf-8",
    )
    _index(qtbot, w, folder)
    everything = _search(qtbot, w, "warranty inverters")
    assert {Path(h.path).suffix for h in everything} >= {".pdf", ".md"}
    with qtbot.waitSignal(w.search.searched, timeout=30_000):
        w.launcher.field.setText("md: warranty inverters")
        w.launcher.main_requested.emit(w.launcher.field.text())
    hits = w.search.model.hits
    assert w.tabs.currentWidget() is w.search
    assert hits and Path(hits[0].path).name == "warranty-notes.md"
    assert {Path(h.path).suffix for h in hits} == {".md"}  # the PDF that matches is left out
