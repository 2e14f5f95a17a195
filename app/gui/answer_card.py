"""The quoted-sentence card shared by the Ask page and the launcher's inline answer.

"From *report.pdf*, page 1: «…»", the words that answer the question in bold, the source a link
(``extract:``) that shows the page (window) or opens the file there (launcher). Without a
sentence that clears the bar the card never pretends: it says "Not found in your files".
"""

from __future__ import annotations

import html
from pathlib import Path

from indexer.quote import Extract, answer_words

EXTRACT_LINK = "extract:"
NOT_FOUND = "Not found in your files."
NOT_FOUND_HTML = f"<b>{NOT_FOUND}</b> The closest passages are listed as possibly related."


def where(path: str, page: int | None) -> str:
    """``report.pdf, page 3`` (escaped for rich text)."""
    return html.escape(Path(path).name) + (f", page {page}" if page else "")


def quote_html(quote: Extract, question: str) -> str:
    """The quoted sentence with the words that answer ``question`` in bold."""
    text = quote.text
    out, pos = [], 0
    for a, b in answer_words(question, text):
        out.append(html.escape(text[pos:a]) + "<b>" + html.escape(text[a:b]) + "</b>")
        pos = b
    out.append(html.escape(text[pos:]))
    return "\u00ab" + "".join(out) + "\u00bb"


def card_html(quote: Extract | None, question: str = "", *, link: bool = True) -> str:
    """The card: where the sentence is from (a link to it) and the sentence itself."""
    if quote is None:
        return NOT_FOUND_HTML
    source = where(quote.path, quote.page)
    if link:
        source = f'<a href="{EXTRACT_LINK}">{source}</a>'
    return f"From <i>{source}</i>: {quote_html(quote, question)}"
