"""The launcher's inline answer: the quoted sentence first, then the streamed answer.

As soon as search returns, the card "From *report.pdf*, page 1: «…»" (the words that answer in
bold) is on screen, before the model writes a word; Enter or a click on it opens the file at
that page. When no sentence clears the bar it says "Not found in your files" and, once the
answer ends, lists the closest passages as "possibly related", never a confident card.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.gui.answer_card import EXTRACT_LINK, NOT_FOUND, card_html, where
from app.gui.asking import AskOutcome
from app.gui.opener import location as open_location
from indexer import Citation, Hit
from indexer.ask import Answer, not_mentioned_text
from indexer.quote import Extract

CARD_BG = "#e9f6ee"  # a pale tint of the preview's answer green


class InlineAnswer(QTextBrowser):
    """Shows one question's answer as it arrives.

    Signals:
        open_requested(path, location): the card or a source was chosen (Enter or a click).
    """

    open_requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Answer")
        self.anchorClicked.connect(self._clicked)
        self.question = ""
        self.quote: Extract | None = None
        self.quote_known = False  # whether search has returned (with or without a sentence)
        self.sources: dict[str, Hit] = {}
        self.text = ""
        self.status = ""
        self.outcome: AskOutcome | None = None
        self.error: str | None = None

    # -- what arrives -------------------------------------------------------------------------
    def start(self, question: str) -> None:
        """A new question: nothing known yet."""
        self.question = question
        self.quote, self.quote_known, self.sources = None, False, {}
        self.text, self.status, self.outcome, self.error = "", "Thinking…", None, None
        self._render()

    def set_status(self, text: str) -> None:
        """What the worker is doing (shown until the first token)."""
        self.status = text
        if not self.text:
            self._render()

    def set_sources(self, hits: dict[str, Hit]) -> None:
        """The passages the answer reads (to open the sentence's file at its place)."""
        self.sources = dict(hits)

    def set_extract(self, quote: Extract | None) -> None:
        """The quoted sentence (``None``: not found in the files), before any token."""
        self.quote, self.quote_known = quote, True
        self._render()

    def add_token(self, text: str) -> None:
        """One more piece of the model's answer."""
        self.text += text
        self._render()

    def finish(self, outcome: AskOutcome) -> None:
        """The answer is complete (its sentences checked, its sources mapped)."""
        self.outcome = outcome
        a = outcome.answer
        # the model may have read the passages and found no answer after all: no card then
        self.quote = a.extract if a.found else None
        self.quote_known = True
        self._render()

    def fail(self, message: str) -> None:
        """The answer could not be made."""
        self.error = message
        self._render()

    # -- where Enter and clicks go --------------------------------------------------------------
    def target(self) -> tuple[str, object] | None:
        """The file and place of the quoted sentence, when there is a confident one."""
        q = self.quote
        if q is None:
            return None
        hit = self.sources.get(q.chunk_id)
        if hit is None and self.outcome is not None:
            hit = self.outcome.hits.get(q.chunk_id)
        if hit is not None:
            loc = open_location(hit)
            return q.path, loc
        return q.path, q.page

    def citation(self, n: int) -> tuple[str, int | None] | None:
        """The file and page of citation ``n`` of the finished answer."""
        if self.outcome is None:
            return None
        c = next((c for c in self.outcome.answer.citations if c.n == n), None)
        return (c.path, c.page) if c is not None else None

    def _clicked(self, url: QUrl) -> None:
        s = url.toString()
        target: tuple[str, object] | None = None
        if s == EXTRACT_LINK:
            target = self.target()
        elif s.startswith("cite:") and s[5:].isdigit():
            target = self.citation(int(s[5:]))
        if target is not None:
            self.open_requested.emit(*target)

    # -- showing ------------------------------------------------------------------------------
    def html(self) -> str:
        """Everything known so far, as rich text."""
        if self.error is not None:
            return f"<b>Could not answer:</b> {html.escape(self.error)}"
        parts = []
        o = self.outcome
        if o is not None and not o.answer.found:
            parts.append(f"<p style='font-size:large'><b>{NOT_FOUND}</b></p>")
            if o.answer.unmentioned:  # "Nothing in your files mentions “Peru”."
                parts.append(f"<p>{html.escape(o.answer.answer)}</p>")
            parts.append(_list("Possibly related", o.answer.citations))
            return "".join(parts)
        if self.quote_known and (o is None or self.quote is not None):
            parts.append(self._card())
        if o is not None:
            body = _body(o.answer)
            parts.append(f"<div style='font-size:large'>{body}</div>")
            if o.answer.unmentioned:  # the part of the question about them is not answered
                parts.append(
                    f"<p><i>{html.escape(not_mentioned_text(o.answer.unmentioned))}</i></p>"
                )
            cited = [c for c in o.answer.citations if c.cited]
            # a small model may cite nothing: then every source it was given is listed
            parts.append(_list("Sources", cited or o.answer.citations))
        elif self.text:
            parts.append(_links(html.escape(self.text).replace("\n", "<br>")))
        elif not self.quote_known or self.quote is not None:
            parts.append(f"<i>{html.escape(self.status)}</i>")
        return "".join(parts)

    def _card(self) -> str:
        card = card_html(self.quote, self.question)
        hint = " <span style='color:gray'>— Enter opens</span>" if self.quote else ""
        return (
            f"<table width='100%' cellpadding='8' bgcolor='{CARD_BG}'><tr><td>"
            f"{card}{hint}</td></tr></table>"
        )

    def _render(self) -> None:
        self.setHtml(self.html())


def _body(answer: Answer) -> str:
    """The answer's text; a sentence whose facts are not in the sources greyed and struck, as
    on the Ask page, so that the launcher never shows an unchecked fact as an answer."""
    if not answer.sentences:
        return _links(html.escape(answer.answer).replace("\n", "<br>"))
    out = []
    for s in answer.sentences:
        text = _links(html.escape(s.text))
        if not s.grounded:
            text = f"<span style='color:gray'><s>{text}</s> <i>(not in the sources)</i></span>"
        out.append(text)
    return " ".join(out)


def _links(body: str) -> str:
    return re.sub(r"\[(\d+)\]", r'<a href="cite:\1">[\1]</a>', body)


def _list(title: str, cites: list[Citation]) -> str:
    rows = [f'<a href="cite:{c.n}">[{c.n}] {where(c.path, c.page)}</a>' for c in cites]
    if not rows:
        return ""
    return f"<p style='color:gray'>{title}</p>" + "<br>".join(rows)
