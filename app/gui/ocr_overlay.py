"""A scanned page in the preview with the OCR'd boxes of the searched words highlighted.

Runs on the preview's pool thread like :func:`app.gui.render.render_page`, which it builds on:
the boxes come from the OCR cache (:func:`indexer.extract.boxes.ocr_boxes`), page-relative, so
they land on the page whatever its zoom.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter

from app.gui.render import PageView, render_page
from indexer.extract.boxes import ocr_boxes, scale_box

OCR_HIGHLIGHT = QColor(255, 208, 0, 110)  # the colour of a text page's passage highlight
PAD = 2.0  # logical pixels around a box: the detector's boxes hug the glyphs


def ocr_rects(boxes: Sequence[tuple[float, float, float, float]], view: PageView) -> list[QRectF]:
    """``boxes`` (page-relative) in the logical pixels of the rendered page."""
    ratio = view.image.devicePixelRatio() or 1.0
    w, h = view.image.width() / ratio, view.image.height() / ratio
    return [QRectF(*scale_box(b, w, h)).adjusted(-PAD, -PAD, PAD, PAD) for b in boxes]


def render_ocr_page(
    path: str,
    page_no: int,
    passage: str,
    words: Sequence[str],
    width_px: int,
    device_ratio: float,
    cache_dir: Path | None,
) -> PageView:
    """Render a scanned page like :func:`render_page`, with the boxes of ``words`` painted on.

    The view's ``rects`` are those boxes (the preview scrolls to them); a page with no cached
    boxes is the plain rendered page.
    """
    view = render_page(path, page_no, passage, width_px, device_ratio)
    rects = ocr_rects(ocr_boxes(path, page_no, words, cache_dir), view)
    if rects:
        painter = QPainter(view.image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
        for r in rects:
            painter.fillRect(r, OCR_HIGHLIGHT)
        painter.end()
        view.rects = rects + view.rects
    return view
