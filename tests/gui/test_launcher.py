"""The quick-search launcher driven by keys over a real index (LanceDB, ONNX, llama.cpp)."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

from app.engine import Engine
from app.gui import launcher as launcher_mod
from app.gui import window as window_mod
from app.gui.results import location
from app.gui.window import MainWindow
from app.paths import app_paths
from tests.conftest import make_docx, make_pdf

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(240)]


def _docs(root: Path) -> Path:
    make_pdf(
        root / "Reports" / "solar-report.pdf",
        [
            "Annual Solar Report\n\nThe rooftop array produced 48 megawatt hours in 2023.",
            "Maintenance\n\nThe warranty on the inverters expires in March 2031. Replacement "
            "costs are estimated at 12,000 euros.",
        ],
    )
    make_pdf(
        root / "sourdough.pdf",
        ["Sourdough bread\n\nFeed the starter twice a day. Bake the loaf at 250 degrees."],
    )
    make_docx(
        root / "kickoff.docx",
        [("Project Kickoff", 1), ("The warranty of the bridge contract ends in 2040.", 0)],
    )
    return root


@pytest.fixture
def app_window(home, tmp_path, qtbot, embedder, llm, monkeypatch):  # type: ignore[no-untyped-def]
    engine = Engine(app_paths(), embedder=embedder, llm=llm)
    engine.settings.workers = 1
    opened: list[tuple[str, object]] = []
    # The system opener is replaced by a recorder: the window's own _open/_reveal (what the
    # launcher is wired to) still run, but no viewer or file manager is launched.
    monkeypatch.setattr(
        window_mod, "open_file", lambda p, page=None, line=None: opened.append((p, page)) or True
    )
    monkeypatch.setattr(window_mod, "reveal_file", lambda p: opened.append((p, "reveal")) or True)
    w = MainWindow(engine, use_tray=False)
    w.launcher.hide_on_deactivate = False  # tests of focus loss turn it back on
    w.opened = opened  # type: ignore[attr-defined]
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def _index(w: MainWindow, qtbot, docs: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(w.indexing.synced, timeout=120_000):
        w.folders.add_folder(str(docs))


def _popup_over_docs(w: MainWindow, qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The test documents indexed through the window, and the launcher shown over them."""
    docs = _docs(tmp_path / "docs")
    _index(w, qtbot, docs)
    w.launcher.popup()
    return docs, w.launcher


def _type(qtbot, launcher, text: str) -> None:  # type: ignore[no-untyped-def]
    launcher.field.selectAll()
    words = launcher_mod.lq.parse(text).text

    def latest(query: str, _n: int) -> bool:
        return query == words

    with qtbot.waitSignal(launcher.searched, timeout=20_000, check_params_cb=latest):
        qtbot.keyClicks(launcher.field, text)


def test_empty_states(app_window, qtbot):  # type: ignore[no-untyped-def]
    lz = app_window.launcher
    lz.popup()
    assert lz.windowTitle() == "Findling Quick Search"
    assert lz.isVisible()
    assert lz.empty.text() == launcher_mod.NO_FOLDERS
    app_window.engine.settings.folders = ["/somewhere"]
    lz.set_remaining(12)
    assert lz.empty.text() == "Index is still being built (12 files to go)"
    qtbot.keyClick(lz.field, Qt.Key.Key_Escape)
    assert not lz.isVisible()


def test_type_move_open_reveal_copy(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    docs, lz = _popup_over_docs(app_window, qtbot, tmp_path)
    _type(qtbot, lz, "inverter warranty expires")
    hits = lz.model.hits
    assert hits, lz.empty.text()
    assert Path(hits[0].path).name == "solar-report.pdf" and hits[0].page == 2
    qtbot.keyClick(lz.field, Qt.Key.Key_Return)
    assert app_window.opened[-1] == (str(docs / "Reports" / "solar-report.pdf"), 2)
    assert not lz.isVisible()

    with qtbot.waitSignal(lz.searched, timeout=20_000):
        lz.popup()  # the last query comes back, selected
    assert lz.field.text() == "inverter warranty expires"
    assert lz.field.selectedText() == lz.field.text()
    assert len(lz.model.hits) >= 2
    qtbot.keyClick(lz.field, Qt.Key.Key_Down)
    second = lz.model.hits[1]
    assert lz.current_hit() is second
    qtbot.keyClick(lz.field, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert lz.current_hit() is lz.model.hits[0]
    qtbot.keyClick(lz.field, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(lz.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert app_window.opened[-1] == (second.path, "reveal")

    with qtbot.waitSignal(lz.searched, timeout=20_000):
        lz.popup()
    lz.field.deselect()
    qtbot.keyClick(lz.field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == lz.model.hits[0].text
    assert "inverters expires" in QGuiApplication.clipboard().text()

    qtbot.keyClick(lz.field, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert app_window.search.field.text() == "inverter warranty expires"
    assert not lz.isVisible()

    lz.popup()
    _type(qtbot, lz, "pptx: warranty")  # no slides among the files
    assert lz.model.hits == []
    assert lz.empty.text() == launcher_mod.NO_MATCHES


def test_prefixes_filter_and_show_chips(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    _, lz = _popup_over_docs(app_window, qtbot, tmp_path)
    _type(qtbot, lz, "warranty")
    names = {Path(h.path).name for h in lz.model.hits}
    assert {"solar-report.pdf", "kickoff.docx"} <= names
    _type(qtbot, lz, "docx: warranty")
    assert lz.chip_labels() == ["DOCX"]
    assert {Path(h.path).suffix for h in lz.model.hits} == {".docx"}
    _type(qtbot, lz, "in:reports warranty")
    assert lz.chip_labels() == ["in reports"]
    assert lz.model.hits and all("/Reports/" in h.path for h in lz.model.hits)
    future = "after:2099-01 warranty"
    _type(qtbot, lz, future)
    assert lz.chip_labels() == ["after 2099-01"]
    assert lz.model.hits == [] and lz.empty.text() == launcher_mod.NO_MATCHES


def test_stale_results_dropped_when_typing_fast(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    _, lz = _popup_over_docs(app_window, qtbot, tmp_path)
    shown: list[str] = []
    lz.searched.connect(lambda q, n: shown.append(q))
    # every keystroke searches at once (no debounce), so earlier requests are still running or
    # queued when later ones arrive
    for i in range(1, len("sourdough starter") + 1):
        lz.field.setText("sourdough starter"[:i])
        lz.run_search()
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == "sourdough starter", timeout=30_000)
    qtbot.wait(300)
    assert shown == ["sourdough starter"]  # no earlier prefix ever reached the list
    assert Path(lz.model.hits[0].path).name == "sourdough.pdf"


def test_tab_asks_and_streams_with_citations(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    _, lz = _popup_over_docs(app_window, qtbot, tmp_path)
    _type(qtbot, lz, "When does the inverter warranty expire?")
    assert lz.ask_row.isVisible()
    tokens: list[str] = []
    app_window.asking.token.connect(lambda _r, t: tokens.append(t))
    with qtbot.waitSignal(lz.answered, timeout=180_000):
        qtbot.keyClick(lz.field, Qt.Key.Key_Tab)
    assert len(tokens) > 1  # streamed, not delivered in one piece
    assert lz.answer_view.isVisible()
    outcome = lz._outcome
    assert outcome is not None and outcome.answer.citations
    c = outcome.answer.citations[0]
    assert lz.citation(c.n) == (c.path, c.page)
    assert os.path.exists(c.path)
    lz._citation_clicked(__import__("PySide6.QtCore").QtCore.QUrl(f"cite:{c.n}"))
    assert app_window.opened[-1] == (c.path, c.page)
    lz.popup()
    qtbot.keyClick(lz.field, Qt.Key.Key_Escape)  # leaves the answer
    assert not lz.answer_view.isVisible()
    qtbot.keyClick(lz.field, Qt.Key.Key_Escape)  # hides
    assert not lz.isVisible()


def test_tab_on_a_name_no_file_mentions_says_so(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    # Through the window's real asking worker and engine: the named-term check must reach it.
    _, lz = _popup_over_docs(app_window, qtbot, tmp_path)
    _type(qtbot, lz, "When does the inverter warranty expire in Peru?")
    with qtbot.waitSignal(lz.answered, timeout=180_000):
        qtbot.keyClick(lz.field, Qt.Key.Key_Tab)
    outcome = lz._outcome
    assert outcome is not None and not outcome.answer.found, outcome and outcome.answer.to_json()
    assert outcome.answer.unmentioned == ["Peru"]
    assert "mentions \u201cPeru\u201d" in lz.answer_view.toPlainText()


# -- behaviour, one promise per test -------------------------------------------------------------

LATE = (
    "Minutes of the garden committee meeting held on Tuesday evening in the village hall, with "
    "tea and biscuits served before the long talk about hedges, parking, the summer fete and "
    "lost keys. At the very end the cobalt turbine was mentioned."
)
MARK = (255, 230, 140)  # the snippet highlight, rgba(255, 200, 0, 0.45) over a white row


def _row_image(lz, row: int) -> QImage:  # type: ignore[no-untyped-def]
    """Row ``row`` of the result list painted by its delegate, not selected, on white."""
    idx = lz.model.index(row)
    opt = QStyleOptionViewItem()
    opt.initFrom(lz.list)
    opt.widget = lz.list
    opt.state = QStyle.StateFlag.State_Enabled
    delegate = lz.list.itemDelegate()
    height = delegate.sizeHint(opt, idx).height()
    opt.rect = QRect(0, 0, lz.list.viewport().width(), height)
    img = QImage(opt.rect.size(), QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    delegate.paint(painter, opt, idx)
    painter.end()
    return img


def _marked_pixels(img: QImage) -> int:
    n = 0
    for y in range(img.height()):
        for x in range(img.width()):
            c = img.pixelColor(x, y)
            if abs(c.red() - MARK[0]) <= 3 and abs(c.green() - MARK[1]) <= 6:
                n += abs(c.blue() - MARK[2]) <= 8
    return n


def _focus_main(qtbot, w: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Give the focus to the main window, as a window manager does when the user clicks it."""
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)


def test_esc_focus_loss_and_the_toggle_hide(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    _index(app_window, qtbot, _docs(tmp_path / "docs"))
    lz = app_window.launcher
    lz.hide_on_deactivate = True
    app_window.show()
    _focus_main(qtbot, app_window)
    lz.popup()
    qtbot.waitUntil(lz.isActiveWindow)
    qtbot.keyClick(lz.field, Qt.Key.Key_Escape)
    assert not lz.isVisible()

    _focus_main(qtbot, app_window)
    lz.popup()
    qtbot.waitUntil(lz.isActiveWindow)
    app_window.activateWindow()  # the user clicks elsewhere: the popup hides
    qtbot.waitUntil(lambda: not lz.isVisible())

    _focus_main(qtbot, app_window)
    lz.toggle()  # the hotkey and `findling-gui --launcher` call toggle()
    assert lz.isVisible()
    qtbot.waitUntil(lz.isActiveWindow)
    assert lz.focusWidget() is lz.field
    lz.toggle()
    assert not lz.isVisible()

    # The window manager may refuse the popup focus (focus-stealing prevention): the shortcut
    # pressed again must still hide it, not show it once more.
    _focus_main(qtbot, app_window)
    lz.hide_on_deactivate = False
    lz.toggle()
    qtbot.waitUntil(lz.isActiveWindow)
    _focus_main(qtbot, app_window)
    assert lz.isVisible() and not lz.isActiveWindow()
    lz.toggle()
    assert not lz.isVisible()


def test_showing_again_selects_the_last_query_so_typing_replaces_it(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    _index(app_window, qtbot, _docs(tmp_path / "docs"))
    lz = app_window.launcher
    lz.toggle()
    _type(qtbot, lz, "sourdough starter")
    qtbot.keyClick(lz.field, Qt.Key.Key_Escape)
    assert not lz.isVisible()
    with qtbot.waitSignal(lz.searched, timeout=20_000):
        lz.toggle()
    assert lz.isVisible()
    assert lz.field.text() == "sourdough starter"
    assert lz.field.selectedText() == "sourdough starter"
    assert Path(lz.model.hits[0].path).name == "sourdough.pdf"
    words = "inverter warranty"

    with qtbot.waitSignal(lz.searched, timeout=20_000, check_params_cb=lambda q, _n: q == words):
        qtbot.keyClicks(lz.field, words)  # no selectAll here: the popup left it selected
    assert lz.field.text() == words
    assert Path(lz.model.hits[0].path).name == "solar-report.pdf"


def test_rows_show_name_page_folder_and_a_highlighted_snippet(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    docs = _docs(tmp_path / "docs")
    (docs / "Minutes").mkdir()
    (docs / "Minutes" / "committee.txt").write_text(LATE, encoding="utf-8")
    _index(app_window, qtbot, docs)
    lz = app_window.launcher
    lz.popup()
    _type(qtbot, lz, "inverter warranty expires")
    hit = lz.model.hits[0]
    idx = lz.model.index(0)
    assert idx.data(Qt.ItemDataRole.DisplayRole) == "solar-report.pdf"
    assert location(hit).startswith("page 2 · ") and location(hit).endswith("Reports")
    spoken = idx.data(Qt.ItemDataRole.AccessibleTextRole)
    assert spoken.startswith("solar-report.pdf, page 2") and "inverters expires" in spoken
    marked = [hit.snippet[s:e].lower() for s, e in hit.highlights]
    assert {"inverters", "warranty", "expires"} <= set(marked)
    assert _marked_pixels(_row_image(lz, 0)) > 50, "no highlighted word is drawn"

    # A match late in a short passage: the one-line row must still show the highlighted words.
    _type(qtbot, lz, "cobalt turbine")
    hit = lz.model.hits[0]
    assert Path(hit.path).name == "committee.txt"
    assert location(hit).endswith("Minutes")
    assert _marked_pixels(_row_image(lz, 0)) > 50, "the highlighted words are cut off"


class _Gate:
    """The real searcher, holding a search for ``slow`` until released."""

    def __init__(self, real, slow: str) -> None:  # type: ignore[no-untyped-def]
        self.real, self.slow = real, slow
        self.entered, self.release = threading.Event(), threading.Event()
        self.slow_hits: list[str] = []

    def search(self, query, **kw):  # type: ignore[no-untyped-def]
        result = self.real.search(query, **kw)
        if getattr(query, "text", query) == self.slow:  # the launcher passes a parsed Query
            self.entered.set()
            self.release.wait(60)
            self.slow_hits = [h.path for h in result.hits]
        return result

    def close(self) -> None:
        self.real.close()


def test_a_slow_earlier_query_never_replaces_a_newer_one(app_window, qtbot, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    _index(app_window, qtbot, _docs(tmp_path / "docs"))
    lz = app_window.launcher
    real = app_window.engine.searcher
    gates: list[_Gate] = []
    monkeypatch.setattr(
        app_window.engine, "searcher", lambda: gates.append(_Gate(real(), "warranty")) or gates[-1]
    )
    lz.popup()
    shown: list[tuple[str, list[str]]] = []
    lz.searched.connect(lambda q, _n: shown.append((q, [h.path for h in lz.model.hits])))
    try:
        lz.field.setText("warranty")  # as typed: the 0 ms timer starts the search
        qtbot.waitUntil(lambda: bool(gates) and gates[0].entered.is_set(), timeout=20_000)
        lz.field.setText("sourdough starter")  # typed on while "warranty" is still running
        qtbot.wait(50)  # the newer request is queued behind the slow one
    finally:
        if gates:
            gates[0].release.set()
    qtbot.waitUntil(lambda: any(q == "sourdough starter" for q, _ in shown), timeout=20_000)
    qtbot.wait(200)  # anything else queued arrives by now
    assert gates[0].slow_hits, "the slow query found nothing: the test proves nothing"
    assert [q for q, _ in shown] == ["sourdough starter"]
    assert Path(lz.model.hits[0].path).name == "sourdough.pdf"
    assert Path(gates[0].slow_hits[0]).name != "sourdough.pdf"  # it would have shown otherwise


def test_keys_move_and_open_at_the_page(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    docs, lz = _popup_over_docs(app_window, qtbot, tmp_path)
    _type(qtbot, lz, "warranty")
    hits = lz.model.hits
    assert len(hits) >= 3
    assert lz.current_hit() is hits[0]
    qtbot.keyClick(lz.field, Qt.Key.Key_Up)  # already at the top
    assert lz.current_hit() is hits[0]
    qtbot.keyClick(lz.field, Qt.Key.Key_Down)
    qtbot.keyClick(lz.field, Qt.Key.Key_Down)
    assert lz.current_hit() is hits[2]
    qtbot.keyClick(lz.field, Qt.Key.Key_Up)
    assert lz.current_hit() is hits[1]
    qtbot.keyClick(lz.field, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(lz.field, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert lz.current_hit() is hits[1]
    for _ in range(len(hits) + 2):
        qtbot.keyClick(lz.field, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert lz.current_hit() is hits[-1]  # stops at the bottom
    qtbot.keyClick(lz.field, Qt.Key.Key_Up)
    target = lz.current_hit()
    assert target is not None
    qtbot.keyClick(lz.field, Qt.Key.Key_Enter)  # the keypad's Enter too
    assert app_window.opened == [(target.path, target.page)]
    assert not lz.isVisible()

    pdf = next(h for h in hits if h.path.endswith("solar-report.pdf"))
    with qtbot.waitSignal(lz.searched, timeout=20_000):
        lz.popup()
    while lz.current_hit() != pdf:
        qtbot.keyClick(lz.field, Qt.Key.Key_Down)
    qtbot.keyClick(lz.field, Qt.Key.Key_Return)
    assert app_window.opened[-1] == (str(docs / "Reports" / "solar-report.pdf"), 2)

    with qtbot.waitSignal(lz.searched, timeout=20_000):
        lz.popup()
    qtbot.keyClick(lz.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert app_window.opened[-1] == (lz.model.hits[0].path, "reveal")
    assert len(app_window.opened) == 3  # Ctrl+Enter reveals and opens nothing


def test_copy_passage_and_open_the_window_on_the_query(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    docs = _docs(tmp_path / "docs")
    (docs / "committee.txt").write_text(f"{LATE} {LATE.replace('cobalt', 'copper')}")
    _index(app_window, qtbot, docs)
    lz = app_window.launcher
    lz.popup()
    _type(qtbot, lz, "cobalt turbine")
    hit = lz.model.hits[0]
    assert Path(hit.path).name == "committee.txt"
    assert hit.snippet != hit.text  # the row shows a window of the passage; Ctrl+C copies it all
    QGuiApplication.clipboard().setText("something else")
    qtbot.keyClick(lz.field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text()
    assert copied == hit.text and copied.startswith("Minutes of the garden committee")
    assert "copper turbine" in copied
    assert lz.isVisible()
    lz.field.selectAll()  # with query text selected, Ctrl+C copies that text, as fields do
    qtbot.keyClick(lz.field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "cobalt turbine"
    qtbot.keyClick(lz.field, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert not lz.isVisible()
    assert app_window.isVisible()
    assert app_window.tabs.currentWidget() is app_window.search
    assert app_window.search.field.text() == "cobalt turbine"


def test_tab_asks_the_query_with_its_filters(app_window, qtbot, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    (tmp_path / "docs" / "Reports").mkdir(parents=True)
    app_window.engine.settings.folders = [str(tmp_path / "docs")]
    asked: list[tuple[str, object]] = []
    monkeypatch.setattr(app_window.asking, "ask", lambda q, f=None: asked.append((q, f)) or 7)
    walked_on: list[threading.Thread] = []
    resolve = launcher_mod.lq.resolve_folders

    def recording_resolve(names, roots):  # type: ignore[no-untyped-def]
        walked_on.append(threading.current_thread())
        return resolve(names, roots)

    monkeypatch.setattr(launcher_mod.lq, "resolve_folders", recording_resolve)
    lz = app_window.launcher
    lz.popup()
    _type(qtbot, lz, "pdf: in:reports when does the warranty expire")
    assert lz.ask_row.isVisible() and "when does the warranty expire" in lz.ask_row.text()
    walked_on.clear()
    qtbot.keyClick(lz.field, Qt.Key.Key_Tab)
    assert lz.answer_view.isVisible() and not lz.list.isVisible()
    qtbot.waitUntil(lambda: bool(asked), timeout=20_000)
    assert len(asked) == 1
    question, filters = asked[0]
    assert question == "when does the warranty expire"
    assert filters is not None
    assert filters.types == ("pdf",)  # type: ignore[attr-defined]
    assert filters.folders == (str(tmp_path / "docs" / "Reports"),)  # type: ignore[attr-defined]
    assert walked_on and threading.main_thread() not in walked_on  # the disk walk is off the GUI
    assert lz._ask_req == 7  # its streamed tokens reach the answer view
    assert lz.focusWidget() is lz.field  # typing goes on in the field

    qtbot.keyClick(lz.field, Qt.Key.Key_Tab)  # asked again, then left before it starts
    qtbot.keyClick(lz.field, Qt.Key.Key_Escape)
    assert not lz.answer_view.isVisible() and lz.isVisible()
    qtbot.wait(200)
    assert len(asked) == 1, "a question left with Esc was still asked"


def test_prefix_chips_pdf_folder_and_date(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    docs = _docs(tmp_path / "docs")
    old = datetime(2023, 6, 1).timestamp()
    os.utime(docs / "sourdough.pdf", (old, old))
    make_pdf(docs / "kettle.pdf", ["Kettle\n\nThe warranty of the kettle lasts two years."])
    _index(app_window, qtbot, docs)
    lz = app_window.launcher
    lz.popup()
    _type(qtbot, lz, "sourdough starter")
    assert Path(lz.model.hits[0].path).name == "sourdough.pdf"
    _type(qtbot, lz, "after:2024-01 sourdough starter")
    assert lz.chip_labels() == ["after 2024-01"]
    assert "sourdough.pdf" not in {Path(h.path).name for h in lz.model.hits}
    _type(qtbot, lz, "before:2024-01 sourdough starter")
    assert {Path(h.path).name for h in lz.model.hits} == {"sourdough.pdf"}

    _type(qtbot, lz, "pdf: warranty")
    assert lz.chip_labels() == ["PDF"]
    names = {Path(h.path).name for h in lz.model.hits}
    assert {"solar-report.pdf", "kettle.pdf"} <= names and all(n.endswith(".pdf") for n in names)

    _type(qtbot, lz, "pdf: in:Reports after:2024-01 warranty")
    assert lz.chip_labels() == ["PDF", "in Reports", "after 2024-01"]
    assert lz.chips.isVisible()
    assert lz.model.hits
    assert {Path(h.path).name for h in lz.model.hits} == {"solar-report.pdf"}
    _type(qtbot, lz, "warranty")
    assert lz.chip_labels() == [] and not lz.chips.isVisible()


def test_building_state_follows_the_first_indexing_run(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    docs = _docs(tmp_path / "docs")
    lz = app_window.launcher
    lz.popup()
    assert lz.empty.text() == launcher_mod.NO_FOLDERS
    seen: list[str] = []
    app_window.indexing.progress.connect(lambda _p: seen.append(lz.empty.text()))
    _index(app_window, qtbot, docs)
    building = [t for t in seen if t.startswith("Index is still being built")]
    assert building, seen
    assert building[0] == "Index is still being built (3 files to go)"
    assert lz.empty.text() == launcher_mod.HINT  # done: the building state is gone
    _type(qtbot, lz, "zebra quasar nebula")
    if not lz.model.hits:  # meaning search may find something for any words
        assert lz.empty.text() == launcher_mod.NO_MATCHES


def test_meaning_search_note_in_launcher_and_status(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    docs = _docs(tmp_path / "docs")
    engine = app_window.engine
    engine.settings.folders = [str(docs)]
    engine.save_settings()
    with engine.open_indexer() as ix:
        ix.sync(semantic=False)  # keyword tier only: every file waits for its vectors
        assert ix.state.semantic_pending()[1] == 3
    lz = app_window.launcher
    note = "meaning search is still being prepared for 3 files"
    lz.popup()
    _type(qtbot, lz, "inverter warranty expires")
    assert Path(lz.model.hits[0].path).name == "solar-report.pdf"  # results still shown
    qtbot.waitUntil(lambda: lz.note.text() == note, timeout=20_000)
    assert lz.note.isVisible() and lz.list.isVisible()
    status = app_window.folders
    with qtbot.waitSignal(status.status_updated, timeout=20_000):
        status.refresh_status()
    assert status.semantic_label.text() == note and not status.semantic_label.isHidden()

    with engine.open_indexer() as ix:
        ix.sync()  # the second tier fills in the vectors
        assert ix.state.semantic_pending() == (0, 0)
    lz.hide()
    with qtbot.waitSignal(lz.searched, timeout=20_000):
        lz.popup()
    qtbot.waitUntil(lambda: lz.note.isHidden(), timeout=20_000)
    assert lz.note.text() == ""
    with qtbot.waitSignal(status.status_updated, timeout=20_000):
        status.refresh_status()
    assert status.semantic_label.isHidden()


def test_right_arrow_previews_the_passage_at_its_page(app_window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    _index(app_window, qtbot, _docs(tmp_path / "docs"))
    lz = app_window.launcher
    lz.popup()
    _type(qtbot, lz, "inverter warranty expires")
    assert not lz.preview.isVisible()
    qtbot.keyClick(lz.field, Qt.Key.Key_Right)  # at the end of the query: preview
    assert lz.preview.isVisible()
    text = lz.preview.text()
    assert text.startswith("page 2 · ") and "Replacement costs are estimated" in text
    assert lz.field.text() == "inverter warranty expires"
    qtbot.keyClick(lz.field, Qt.Key.Key_Down)  # follows the selection
    second = lz.model.hits[1]
    assert lz.preview.text().startswith(location(second))
    assert second.text.strip()[:40] in lz.preview.text()
    qtbot.keyClick(lz.field, Qt.Key.Key_Right)
    assert not lz.preview.isVisible()
    lz.field.setCursorPosition(0)  # in the middle of the query → moves the cursor
    qtbot.keyClick(lz.field, Qt.Key.Key_Right)
    assert not lz.preview.isVisible() and lz.field.cursorPosition() == 1
