"""The preview pane: the page with the passage highlighted, or the text around it; an answer's
quoted sentence is highlighted in its own colour and scrolled into view."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPixmap, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.gui.icons import file_type_icon
from app.gui.ocr_overlay import render_ocr_page
from app.gui.opener import location
from app.gui.render import (
    ANSWER_HIGHLIGHT,
    HIGHLIGHT,
    PAGED,
    AnswerSpan,
    PageView,
    TextView,
    render_page,
    text_around,
)
from app.gui.results import short_folder
from app.gui.tasks import TaskRunner
from indexer import Hit, Passage, Searcher
from indexer.extract.image import SUFFIXES as IMAGE_SUFFIXES
from indexer.quote import Extract

log = logging.getLogger(__name__)


class PassageSource(Protocol):
    """Where the preview reads stored passages (a :class:`~indexer.Searcher`)."""

    def passages(self, doc: str, page: int | None) -> list[Passage]:
        """The stored passages of one page of a document, in order."""
        ...


class StoredPassages:
    """A :class:`PassageSource` that opens its reader of the index on first use, so that it is
    opened on the thread that reads (the preview's) and loads nothing before a preview."""

    def __init__(self, open_reader: Callable[[], Searcher]) -> None:
        self._open = open_reader
        self._reader: Searcher | None = None

    def passages(self, doc: str, page: int | None) -> list[Passage]:
        """The stored passages of one page of a document, in order."""
        if self._reader is None:
            self._reader = self._open()
        return self._reader.passages(doc, page)

    def close(self) -> None:
        """Release the index (the preview thread must be idle)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class PreviewPane(QWidget):
    """Shows one hit. Rendering happens on a pool thread; stale renders are dropped.

    Signals:
        open_requested(path, page), reveal_requested(path), rendered(): the last one fires when
        the page or text is on screen (tests wait for it).
    """

    open_requested = Signal(str, object)
    reveal_requested = Signal(str)
    rendered = Signal()
    failed = Signal(str)
    # The page's scroll area; the name hides QWidget.scroll(dx, dy), which nothing here calls.
    scroll: QScrollArea  # type: ignore[assignment]

    def __init__(
        self,
        runner: TaskRunner,
        passages: PassageSource | None = None,
        parent: QWidget | None = None,
        ocr_cache: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.passages = passages  # read on the runner's thread only
        self.ocr_cache = ocr_cache  # the index's OCR cache: boxes of OCR'd words on scans
        self.hit: Hit | None = None
        self.answer: AnswerSpan | None = None  # the quoted answer sentence shown with the hit
        self.page_view: PageView | None = None
        self.text_view: TextView | None = None
        self._req = 0

        self.icon = QLabel()
        self.title = QLabel()
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title.setFont(font)
        self.where = QLabel()
        self.where.setEnabled(False)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open in the default app (Enter)")
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.setToolTip("Show the file in the file manager (Ctrl+Enter)")
        self.open_button.clicked.connect(self._open)
        self.reveal_button.clicked.connect(
            lambda: self.hit and self.reveal_requested.emit(self.hit.path)
        )

        head = QHBoxLayout()
        head.addWidget(self.icon)
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.title)
        names.addWidget(self.where)
        head.addLayout(names, 1)
        head.addWidget(self.open_button)
        head.addWidget(self.reveal_button)

        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.page_label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setBackgroundRole(self.palette().ColorRole.Dark)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.placeholder = QLabel("Select a result to see it here.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.stack = QStackedWidget()
        for w in (self.placeholder, self.scroll, self.text):
            self.stack.addWidget(w)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.header = QWidget()
        self.header.setLayout(head)
        lay.addWidget(self.header)
        lay.addWidget(self.stack, 1)
        self.clear()

    # -- public -----------------------------------------------------------------------------
    def clear(self, message: str = "Select a result to see it here.") -> None:
        """Show the placeholder."""
        self._req += 1
        self.hit = None
        self.answer = None
        self.page_view = None
        self.text_view = None
        self.placeholder.setText(message)
        self.header.setVisible(False)
        self.stack.setCurrentWidget(self.placeholder)

    def show_hit(self, hit: Hit, answer: Extract | None = None) -> None:
        """Show ``hit``: its page (paged formats) or the text around it.

        ``answer``, the quoted answer sentence, is highlighted too (in its own colour, and
        scrolled to) where it lies on the page or in the text shown: found on a PDF page by its
        words, in the text by its offsets into its passage.
        """
        self._req += 1
        req = self._req
        self.hit = hit
        self.page_view = None
        self.text_view = None
        same_page = answer is not None and answer.path == hit.path and answer.page == hit.page
        self.answer = (
            AnswerSpan(answer.chunk_id, answer.start, answer.end, answer.text)
            if answer is not None and same_page
            else None
        )
        quoted = self.answer.text if self.answer is not None else None
        p = Path(hit.path)
        self.icon.setPixmap(file_type_icon(p.suffix).pixmap(32, 32))
        self.title.setText(p.name)
        where = short_folder(hit.path)
        if hit.page:
            where = f"Page {hit.page} · {where}"
        self.where.setText(where)
        self.header.setVisible(True)
        picture = p.suffix.lower() in IMAGE_SUFFIXES
        if (p.suffix.lower() in PAGED and hit.page) or picture:
            width = max(300, self.scroll.viewport().width() - 24)
            ratio = self.devicePixelRatioF()
            page = hit.page or 1  # an image file is one page (a TIFF frame has its number)
            render: Callable[[], PageView] = partial(
                render_page, hit.path, page, hit.text, width, ratio, quoted
            )
            if hit.ocr and self.ocr_cache is not None:  # a scan: highlight the OCR'd words
                words = [hit.snippet[s:e] for s, e in hit.highlights]
                render = partial(
                    render_ocr_page, hit.path, page, hit.text, words, width, ratio, self.ocr_cache
                )
            self.runner.submit(
                render,
                lambda v: self._show_page(req, v),
                # a picture MuPDF cannot draw still has its OCR'd text to show
                (lambda e: self._show_stored(req, hit))
                if picture
                else (lambda e: self._failed(req, e)),
            )
        else:
            self._show_stored(req, hit)

    def _show_stored(self, req: int, hit: Hit) -> None:
        answer = self.answer
        alone = TextView(hit.text, 0, len(hit.text))
        if answer is not None and answer.chunk_id == hit.chunk_id:
            alone.answer = (answer.start, answer.end)
        self.runner.submit(
            lambda: self._text_view(hit, answer),
            lambda v: self._show_text(req, v),
            lambda e: self._show_text(req, alone),
        )

    def _text_view(self, hit: Hit, answer: AnswerSpan | None = None) -> TextView:
        """The stored text around ``hit`` (on the runner's thread): never the file itself."""
        # A mailbox's message number is kept where a page number would be (one message, one
        # stored "page"), so its preview shows that message's passages only.
        page = hit.page if hit.page is not None else hit.message
        stored = self.passages.passages(hit.doc, page) if self.passages is not None else []
        return text_around(stored, hit, answer=answer)

    # -- results ------------------------------------------------------------------------------
    def _show_page(self, req: int, view: PageView) -> None:
        if req != self._req:
            return
        self.page_view = view
        self.page_label.setPixmap(QPixmap.fromImage(view.image))
        self.stack.setCurrentWidget(self.scroll)
        if view.answer_rects or view.rects:
            self._scroll_to(view.answer_rects or view.rects)
        else:
            self.scroll.verticalScrollBar().setValue(0)
        self.rendered.emit()

    def _scroll_to(self, rects: list[QRectF]) -> None:
        top = min(r.top() for r in rects)
        bottom = max(r.bottom() for r in rects)
        self.page_label.adjustSize()
        # the pixmap is centred horizontally and top-aligned in the label
        vh = self.scroll.viewport().height()
        target = int(top - max(24, (vh - (bottom - top)) / 3))
        self.scroll.verticalScrollBar().setValue(max(0, target))

    def _show_text(self, req: int, view: TextView) -> None:
        if req != self._req:
            return
        self.text_view = view
        self.text.setPlainText(view.text)
        self._paint(view.start, view.end, HIGHLIGHT)
        # the sentence's own colour over the passage's; the view is brought to the sentence
        start, end = view.answer or (view.start, view.end)
        if view.answer is not None:
            self._paint(start, end, ANSWER_HIGHLIGHT)
        self.stack.setCurrentWidget(self.text)
        last = QTextCursor(self.text.document())
        last.setPosition(min(end, len(view.text)))
        self.text.setTextCursor(last)
        self.text.ensureCursorVisible()
        first = QTextCursor(self.text.document())
        first.setPosition(start)
        self.text.setTextCursor(first)
        self.text.ensureCursorVisible()
        self.rendered.emit()

    def _paint(self, start: int, end: int, colour: QColor) -> None:
        cur = QTextCursor(self.text.document())
        cur.setPosition(start)
        cur.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(colour)
        cur.mergeCharFormat(fmt)

    def _failed(self, req: int, exc: BaseException) -> None:
        if req != self._req:
            return
        msg = f"Cannot show this file: {exc}"
        self.placeholder.setText(msg)
        self.stack.setCurrentWidget(self.placeholder)
        self.failed.emit(msg)

    def _open(self) -> None:
        if self.hit is not None:
            self.open_requested.emit(self.hit.path, location(self.hit))
