"""The quick-search launcher driven by keys over a real index (LanceDB, ONNX, llama.cpp)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.engine import Engine
from app.gui import launcher as launcher_mod
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
def app_window(home, tmp_path, qtbot, embedder, llm):  # type: ignore[no-untyped-def]
    engine = Engine(app_paths(), embedder=embedder, llm=llm)
    engine.settings.workers = 1
    w = MainWindow(engine, use_tray=False)
    opened: list[tuple[str, object]] = []
    # the opener is replaced by a recorder (the window's opener is what the launcher uses)
    w._open = lambda p, page: opened.append((p, page))  # type: ignore[method-assign]
    w._reveal = lambda p: opened.append((p, "reveal"))  # type: ignore[method-assign]
    w.launcher.open_requested.disconnect()
    w.launcher.reveal_requested.disconnect()
    w.launcher.open_requested.connect(lambda p, page: w._open(p, page))
    w.launcher.reveal_requested.connect(lambda p: w._reveal(p))
    w.launcher.hide_on_deactivate = False  # offscreen windows have no real activation
    w.opened = opened  # type: ignore[attr-defined]
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def _index(w: MainWindow, qtbot, docs: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(w.indexing.synced, timeout=120_000):
        w.folders.add_folder(str(docs))


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
    docs = _docs(tmp_path / "docs")
    _index(app_window, qtbot, docs)
    lz = app_window.launcher
    lz.popup()
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
    docs = _docs(tmp_path / "docs")
    _index(app_window, qtbot, docs)
    lz = app_window.launcher
    lz.popup()
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
    docs = _docs(tmp_path / "docs")
    _index(app_window, qtbot, docs)
    lz = app_window.launcher
    lz.popup()
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
    docs = _docs(tmp_path / "docs")
    _index(app_window, qtbot, docs)
    lz = app_window.launcher
    lz.popup()
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
