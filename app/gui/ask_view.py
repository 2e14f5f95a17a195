"""The Ask page: a question box, the quoted answer sentence, the streamed answer with clickable
citations, a history. Opening the sentence's source (or a citation on its page) shows the page
with the sentence highlighted in the preview."""

from __future__ import annotations

import contextlib
import dataclasses
import html
import logging
import re
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.gui.answer_card import EXTRACT_LINK, card_html
from app.gui.asking import AskOutcome, AskService
from app.gui.preview import PassageSource, PreviewPane
from app.gui.tasks import TaskRunner
from indexer import Citation, Hit
from indexer.ask import not_mentioned_text
from indexer.quote import Extract

log = logging.getLogger(__name__)

HISTORY = 20
_MARK = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")


def extract_html(quote: Extract | None, question: str = "") -> str:
    """The quoted-sentence card: where it is from (a link that shows it on its page) and the
    sentence itself, the words that answer ``question`` in bold."""
    return card_html(quote, question)


def _link(m: re.Match[str]) -> str:
    nums = [n.strip() for n in re.split(r"[,;]", m.group(1))]
    return "[" + ", ".join(f'<a href="cite:{n}">{n}</a>' for n in nums) + "]"


def answer_html(outcome: AskOutcome) -> str:
    """The answer with its [n] markers as links, and the numbered sources under it.

    Sentences whose facts are not in the sources are greyed and marked "not in the sources".
    """
    a = outcome.answer
    if not a.found:
        body = (
            '<p style="font-size:large"><b>Not in your files.</b></p>'
            f"<p>{html.escape(a.answer)}</p>"
        )
    elif a.sentences:
        out = []
        for s in a.sentences:
            text = _MARK.sub(_link, html.escape(s.text))
            if not s.grounded:
                text = f'<span style="color:gray"><s>{text}</s> <i>(not in the sources)</i></span>'
            out.append(text)
        body = "<p>" + " ".join(out) + "</p>"
        if a.stopped:
            body += "<p><i>(stopped)</i></p>"
    else:
        text = html.escape(a.answer)
        body = "".join(f"<p>{_MARK.sub(_link, para)}</p>" for para in text.split("\n\n") if para)
        if a.stopped:
            body += "<p><i>(stopped)</i></p>"
    if a.found and a.unmentioned:  # "… in Panama and in Peru": the Peru part is not answered
        body += f"<p><i>{html.escape(not_mentioned_text(a.unmentioned))}</i></p>"
    cited = [c for c in a.citations if c.cited] if a.found else []
    others = [c for c in a.citations if not c.cited]
    parts = [body]
    if cited:
        parts.append("<h4>Sources</h4>" + _sources(cited))
    if others and not cited:
        parts.append(
            ("<h4>Sources</h4>" if a.found else "<h4>Possibly related</h4>") + _sources(others)
        )
    return "".join(parts)


def _sources(cites: list[Citation]) -> str:
    rows = []
    for c in cites:
        where = html.escape(Path(c.path).name) + (f", page {c.page}" if c.page else "")
        rows.append(
            f'<p><a href="cite:{c.n}"><b>[{c.n}]</b> {where}</a><br>'
            f'<span style="color:gray">{html.escape(c.snippet)}</span></p>'
        )
    return "".join(rows)


class AskView(QWidget):
    """Ask a question about your files.

    Signals:
        answered(AskOutcome): the answer is complete (tests wait for it).
        error(message).
    """

    answered = Signal(object)
    error = Signal(str)
    history_changed = Signal(list)

    def __init__(
        self,
        service: AskService,
        preview_runner: TaskRunner,
        history: list[str] | None = None,
        parent: QWidget | None = None,
        passages: PassageSource | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.outcome: AskOutcome | None = None
        self.quote: Extract | None = None  # the answer sentence on the card, when confident
        self._question = ""
        self._sources: dict[str, Hit] = {}  # the passages of the question being answered
        self._req = 0
        self._answers: dict[str, AskOutcome] = {}

        self.field = QLineEdit()
        self.field.setPlaceholderText("Ask a question about your files…")
        self.field.setClearButtonEnabled(True)
        f = self.field.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        self.field.setFont(f)
        self.field.setMinimumHeight(36)
        self.ask_button = QPushButton("Ask")
        self.ask_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.status = QLabel()
        self.status.setEnabled(False)
        self.card = QLabel()
        self.card.setObjectName("extractCard")
        self.card.setAccessibleName("Answer sentence from your files")
        self.card.setWordWrap(True)
        self.card.setTextFormat(Qt.TextFormat.RichText)
        self.card.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.card.setOpenExternalLinks(False)
        self.card.setToolTip("Click the file name to see the sentence on its page")
        self.card.linkActivated.connect(self._card_link)
        self.card.setStyleSheet(
            "#extractCard { border-left: 4px solid palette(highlight); padding: 8px; }"
        )
        self.card.hide()
        self.answer = QTextBrowser()
        self.answer.setOpenLinks(False)
        self.answer.setPlaceholderText(
            "Answers come from your indexed files only, with numbered sources you can click."
        )
        self.answer.anchorClicked.connect(self._link)
        af = self.answer.font()
        af.setPointSizeF(af.pointSizeF() * 1.1)
        self.answer.setFont(af)
        self.history = QListWidget()
        self.history.setAccessibleName("Recent questions")
        self.history.setMaximumHeight(150)
        self.history.itemActivated.connect(lambda it: self._from_history(it.text()))
        self.history.itemClicked.connect(lambda it: self._from_history(it.text()))
        for q in (history or [])[:HISTORY]:
            self.history.addItem(q)
        self.preview = PreviewPane(preview_runner, passages)
        self.preview.clear("Click a numbered source to see the passage on its page.")

        row = QHBoxLayout()
        row.addWidget(self.field, 1)
        row.addWidget(self.ask_button)
        row.addWidget(self.stop_button)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.card)
        ll.addWidget(self.answer, 3)
        ll.addWidget(self.status)
        hist_label = QLabel("Recent questions")
        hist_label.setEnabled(False)
        ll.addWidget(hist_label)
        ll.addWidget(self.history, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.splitter, 1)

        self.field.returnPressed.connect(self.ask)
        self.ask_button.clicked.connect(self.ask)
        self.stop_button.clicked.connect(self.service.stop)
        service.sources.connect(self._got_sources)
        service.extract.connect(self._extract)
        service.token.connect(self._token)
        service.status.connect(self._status)
        service.finished.connect(self._finished)
        service.failed.connect(self._failed)

    # -- asking -------------------------------------------------------------------------------
    def ask(self, question: str | None = None) -> None:
        """Ask the field's question (or ``question``)."""
        q = (question if isinstance(question, str) else self.field.text()).strip()
        if not q:
            return
        if self.service.busy:
            self.service.stop()
        self.field.setText(q)
        self.outcome = None
        self.quote = None
        self._question = q
        self._sources = {}
        self.card.hide()
        self.answer.clear()
        self.preview.clear("Click a numbered source to see the passage on its page.")
        self._req = self.service.ask(q)
        self.stop_button.setEnabled(True)
        self.status.setText("Thinking…")
        self._remember(q)

    def _got_sources(self, req: int, hits: dict[str, Hit]) -> None:
        if req == self._req:
            self._sources = dict(hits)

    def _extract(self, req: int, quote: Extract | None) -> None:
        if req != self._req:
            return
        self.quote = quote
        self.card.setText(extract_html(quote, self._question))
        self.card.show()

    def _token(self, req: int, text: str) -> None:
        if req != self._req:
            return
        if self.status.text() != "Writing…":
            self.status.setText("Writing…")
        cur = self.answer.textCursor()
        cur.movePosition(QTextCursor.MoveOperation.End)
        cur.insertText(text)
        self.answer.setTextCursor(cur)
        self.answer.ensureCursorVisible()

    def _status(self, req: int, text: str) -> None:
        if req == self._req:
            self.status.setText(text)

    def _finished(self, req: int, outcome: AskOutcome) -> None:
        if req != self._req:
            return
        self.outcome = outcome
        self._answers[outcome.question] = outcome
        self._show(outcome)
        self.answered.emit(outcome)

    def _show(self, outcome: AskOutcome) -> None:
        self.outcome = outcome
        self.stop_button.setEnabled(False)
        a = outcome.answer
        # a sentence the model then found no answer in is not shown as a confident card
        self.quote = a.extract if a.found or a.aggregate else None
        self._question = outcome.question
        self.card.setText(extract_html(self.quote, outcome.question))
        self.card.show()
        self.answer.setHtml(answer_html(outcome))
        n = sum(c.cited for c in a.citations)
        if a.stopped:
            text = "Stopped."
        elif not a.found:
            text = "The answer is not in your indexed files."
        elif n:
            text = f"Answered from {n} source{'s' if n != 1 else ''}."
        else:
            text = "Answered from the passages listed under Sources."
        self.status.setText(text)

    def _failed(self, req: int, message: str) -> None:
        if req != self._req:
            return
        self.stop_button.setEnabled(False)
        self.status.setText("")
        self.error.emit(f"Could not answer: {message}")

    def _remember(self, q: str) -> None:
        for i in range(self.history.count() - 1, -1, -1):
            item = self.history.item(i)
            if item is not None and item.text() == q:
                self.history.takeItem(i)
        self.history.insertItem(0, q)
        while self.history.count() > HISTORY:
            self.history.takeItem(self.history.count() - 1)
        self.history_changed.emit(self.questions())

    def questions(self) -> list[str]:
        """The history, newest first."""
        return [self.history.item(i).text() for i in range(self.history.count())]

    def _from_history(self, q: str) -> None:
        if q in self._answers and not self.service.busy:
            self.field.setText(q)
            self._show(self._answers[q])
        else:
            self.ask(q)

    # -- citations ----------------------------------------------------------------------------
    def citation_hit(self, n: int) -> Hit | None:
        """The passage behind citation ``n`` of the current answer."""
        if self.outcome is None:
            return None
        c = next((c for c in self.outcome.answer.citations if c.n == n), None)
        if c is None:
            return None
        hit = self.outcome.hits.get(c.chunk_id)
        if hit is not None:
            return hit
        return Hit(
            path=c.path,
            page=c.page,
            section=c.section,
            score=0.0,
            snippet=c.snippet,
            chunk_id=c.chunk_id,
            doc="",
            text=c.snippet,
            start=0,
            end=0,
        )

    def show_citation(self, n: int) -> None:
        """Select citation ``n``: show its passage on its page (with the answer sentence
        highlighted when it is on that page)."""
        hit = self.citation_hit(n)
        if hit is not None:
            self.preview.show_hit(hit, self.quote)

    def extract_hit(self) -> Hit | None:
        """The passage the answer sentence was quoted from."""
        q = self.quote
        if q is None:
            return None
        hits = self.outcome.hits if self.outcome is not None else {}
        hit = self._sources.get(q.chunk_id) or hits.get(q.chunk_id)
        if hit is not None:
            return hit
        return Hit(
            path=q.path,
            page=q.page,
            section=q.section,
            score=q.score,
            snippet=q.text,
            chunk_id=q.chunk_id,
            doc="",
            text=q.text,
            start=0,
            end=0,
        )

    def show_extract(self) -> None:
        """Open the answer sentence's source: its page in the preview, the sentence highlighted
        and scrolled into view."""
        hit, quote = self.extract_hit(), self.quote
        if hit is None or quote is None:
            return
        if hit.text == quote.text and quote.start:  # the passage is not known: the quote alone
            quote = dataclasses.replace(quote, start=0, end=len(quote.text))
        self.preview.show_hit(hit, quote)

    def _card_link(self, href: str) -> None:
        if href == EXTRACT_LINK:
            self.show_extract()

    def _link(self, url: QUrl) -> None:
        if url.scheme() == "cite":
            with contextlib.suppress(ValueError):
                self.show_citation(int(url.path()))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.service.busy:
            self.service.stop()
            return
        super().keyPressEvent(event)
