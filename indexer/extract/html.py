"""HTML: visible text split into headings and paragraphs with the standard library parser."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from indexer.extract.document import Block, Document, ExtractLimits, Segment, read_text_file

SUFFIXES = (".html", ".htm", ".xhtml")

_SKIP = {"script", "style", "noscript", "template", "svg", "head"}
_BREAK = {
    "p",
    "div",
    "li",
    "tr",
    "br",
    "section",
    "article",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
    "figcaption",
    "header",
    "footer",
    "main",
    "nav",
    "aside",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self._buf: list[str] = []
        self._skip = 0
        self._level = 0
        self._in_title = False

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        self._buf.clear()
        if text:
            self.blocks.append(Block(text, level=self._level))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _SKIP:
            self._skip += 1
        elif tag in _HEADINGS:
            self._flush()
            self._level = _HEADINGS[tag]
        elif tag in _BREAK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS:
            self._flush()
            self._level = 0
        elif tag in _BREAK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        elif not self._skip:
            self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(markup: str) -> tuple[list[Block], str | None]:
    """The visible text of ``markup`` as blocks, and its ``<title>``."""
    parser = _Parser()
    parser.feed(markup)
    parser.close()
    return parser.blocks, parser.title or None


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read an HTML file's visible text."""
    blocks, title = parse_html(read_text_file(path))
    return Document((Segment(tuple(blocks)),), title=title, paged=False)
