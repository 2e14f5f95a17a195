"""Mailbox messages as results of their own, and OCR'd words highlighted on a scanned page's
preview (issue 13). The real window, index, ONNX embedder, rapidocr and PyMuPDF; offscreen Qt."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pymupdf
import pytest
from PySide6.QtGui import QColor, QImage

from app.engine import Engine
from app.gui import indexing as ix
from app.gui.results import location
from app.gui.window import MainWindow
from app.paths import app_paths

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture
def window(home, qtbot, embedder):  # type: ignore[no-untyped-def]
    engine = Engine(app_paths(), embedder=embedder)
    engine.settings.workers = 1
    w = MainWindow(engine, use_tray=False)
    qtbot.addWidget(w)
    w.resize(1100, 800)
    w.show()
    yield w
    w.shutdown()


def _index_and_search(qtbot, w: MainWindow, folder: Path, query: str) -> list:  # type: ignore[no-untyped-def]
    w.folders.add_folder(str(folder))
    qtbot.waitUntil(lambda: w.indexing.state == ix.IDLE, timeout=120_000)
    with (
        qtbot.waitSignal(w.search.preview.rendered, timeout=60_000),
        qtbot.waitSignal(
            w.search.searched, timeout=30_000, check_params_cb=lambda q, n: q == query
        ),
    ):
        qtbot.keyClicks(w.search.field, query)
    return w.search.model.hits


def test_each_message_of_a_mailbox_is_a_result(window, qtbot, tmp_path):
    from tests.unit.test_extract_mail import make_message

    d = tmp_path / "mail"
    d.mkdir()
    box = mailbox.mbox(str(d / "club.mbox"))
    subjects = [f"Allotment committee update {n}" for n in range(1, 7)]
    for n, subject in enumerate(subjects, start=1):
        box.add(make_message(subject, f"The allotment committee met about compost, week {n}."))
    box.flush()
    box.close()
    hits = _index_and_search(qtbot, window, d, "allotment committee compost")
    assert sorted(h.section for h in hits) == sorted(subjects)
    assert {location(h).split(" · ")[0] for h in hits} == {f"message {n}" for n in range(1, 7)}
    # The preview shows the selected message's own stored text, not the whole mailbox.
    pane = window.search.preview
    n = pane.hit.message
    shown = pane.text.toPlainText()
    assert f"week {n}." in shown
    assert not [m for m in range(1, 7) if m != n and f"week {m}." in shown], shown


def _yellow(c: QColor) -> bool:
    return c.red() > 200 and c.green() > 150 and c.blue() < 200


def _count(image: QImage, x0: int, y0: int, x1: int, y1: int, test) -> int:  # type: ignore[no-untyped-def]
    return sum(test(QColor(image.pixel(x, y))) for x in range(x0, x1) for y in range(y0, y1))


def test_scanned_page_preview_highlights_the_ocr_word_boxes(window, qtbot, tmp_path):
    d = tmp_path / "scans"
    d.mkdir()
    text = "Ask the lighthouse keeper for the key to the boathouse."
    src = pymupdf.open()
    page = src.new_page(width=400, height=300)
    page.insert_textbox(pymupdf.Rect(20, 120, 380, 280), text, fontsize=18)
    (true,) = page.search_for("lighthouse")
    scan = pymupdf.open()
    scan.new_page(width=400, height=300).insert_image(
        pymupdf.Rect(0, 0, 400, 300), stream=page.get_pixmap(dpi=150).tobytes("png")
    )
    scan.save(d / "scan.pdf")

    hits = _index_and_search(qtbot, window, d, "lighthouse keeper")
    top = hits[0]
    assert top.ocr and top.page == 1 and window.search.current_hit() is top
    view = window.search.preview.page_view
    assert view is not None and view.rects, "OCR boxes drawn on the page"
    image = window.search.preview.page_label.pixmap().toImage()
    ratio = image.devicePixelRatio()
    scale = image.width() / ratio / 400  # logical pixels per PDF point
    r = view.rects[0]
    # The box lies where the word was drawn ...
    assert r.left() < true.x1 * scale and true.x0 * scale < r.right()
    assert r.top() < true.y1 * scale and true.y0 * scale < r.bottom()
    # ... and is painted: tinted pixels inside it, none in the blank band above the text.
    px = [int(v * ratio) for v in (r.left() + 3, r.top() + 3, r.right() - 3, r.bottom() - 3)]
    inside = _count(image, *px, _yellow)
    assert inside > 0.3 * (px[2] - px[0]) * (px[3] - px[1])
    above = [px[0], int(20 * scale * ratio), px[2], int(20 * scale * ratio) + (px[3] - px[1])]
    assert _count(image, *above, _yellow) == 0
    assert _count(image, *above, lambda c: c.blue() > 240) == (above[2] - above[0]) * (
        above[3] - above[1]
    )


def test_an_image_file_previews_as_a_picture_with_its_ocr_boxes(window, qtbot, tmp_path):
    d = tmp_path / "photos"
    d.mkdir()
    src = pymupdf.open()
    page = src.new_page(width=400, height=300)
    page.insert_textbox(
        pymupdf.Rect(20, 120, 380, 280), "The harbour ferry leaves at noon.", fontsize=18
    )
    (true,) = page.search_for("harbour")
    (d / "notice.png").write_bytes(page.get_pixmap(dpi=150).tobytes("png"))

    hits = _index_and_search(qtbot, window, d, "harbour ferry")
    top = hits[0]
    assert top.ocr and top.path.endswith("notice.png")
    pane = window.search.preview
    assert pane.stack.currentWidget() is pane.scroll, "the picture itself, not its text"
    view = pane.page_view
    assert view is not None and view.rects, "OCR boxes drawn on the picture"
    image = pane.page_label.pixmap().toImage()
    scale = image.width() / image.devicePixelRatio() / 400
    r = view.rects[0]
    assert r.left() < true.x1 * scale and true.x0 * scale < r.right()
    assert r.top() < true.y1 * scale and true.y0 * scale < r.bottom()
