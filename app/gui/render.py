"""Page rendering for the preview (runs on a pool thread): PyMuPDF page -> QImage with the
passage highlighted, or the text around a passage for formats without pages (from the stored
passages)."""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field

import pymupdf
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from indexer import Hit, Passage

log = logging.getLogger(__name__)

PAGED = {".pdf", ".xps", ".oxps", ".epub", ".mobi", ".fb2", ".cbz"}
_WORD = re.compile(r"\w+", re.UNICODE)
HIGHLIGHT = QColor(255, 208, 0, 110)
MIN_RUN = 2  # words; shorter matches are coincidences


@dataclass
class PageView:
    """A rendered page and where the passage is on it (image pixels)."""

    image: QImage
    rects: list[QRectF]
    page: int
    pages: int


@dataclass
class TextView:
    """Text around a passage; ``start``/``end`` locate the passage in ``text``."""

    text: str
    start: int
    end: int
    highlights: list[tuple[int, int]] = field(default_factory=list)


def _norm(word: str) -> str:
    return word.lower()


def passage_rects(page: pymupdf.Page, passage: str) -> list[pymupdf.Rect]:
    """Rectangles (one per line) covering ``passage`` on ``page``.

    Matches the passage's words against the page's words in reading order, so line breaks,
    hyphenation and block order do not defeat it, and merges the matched words line by line.
    """
    words = page.get_text("words", sort=True)  # x0, y0, x1, y1, word, block, line, n
    if not words:
        return []
    page_tokens: list[tuple[str, int]] = []  # (token, index into words)
    for i, w in enumerate(words):
        for tok in _WORD.findall(w[4]):
            page_tokens.append((_norm(tok), i))
    want = [_norm(t) for t in _WORD.findall(passage)]
    if not want:
        return []
    sm = difflib.SequenceMatcher(None, [t for t, _ in page_tokens], want, autojunk=False)
    hit_words: set[int] = set()
    for block in sm.get_matching_blocks():
        if block.size >= MIN_RUN or (block.size and len(want) <= 3):
            hit_words.update(page_tokens[block.a + k][1] for k in range(block.size))
    if not hit_words:  # fall back to PyMuPDF's own search for the passage's first words
        return list(page.search_for(" ".join(want[:6])))
    lines: dict[tuple[int, int], pymupdf.Rect] = {}
    for i in sorted(hit_words):
        x0, y0, x1, y1, _, block_no, line_no, _ = words[i]
        key = (block_no, line_no)
        r = pymupdf.Rect(x0, y0, x1, y1)
        lines[key] = lines[key] | r if key in lines else r
    return list(lines.values())


def render_page(
    path: str, page_no: int, passage: str, width_px: int, device_ratio: float = 1.0
) -> PageView:
    """Render page ``page_no`` (1-based) about ``width_px`` wide with ``passage`` highlighted."""
    with pymupdf.open(path) as doc:
        n = doc.page_count
        page = doc[max(0, min(n - 1, page_no - 1))]
        zoom = max(0.4, min(4.0, width_px / max(page.rect.width, 1))) * device_ratio
        pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        image = QImage(
            pix.samples, pix.width, pix.height, pix.stride, QImage.Format.Format_RGB888
        ).copy()  # copy: pix's buffer goes away
        image.setDevicePixelRatio(device_ratio)
        scale = zoom / device_ratio
        rects = [
            QRectF(
                (r.x0 - 1) * scale,
                (r.y0 - 1) * scale,
                (r.width + 2) * scale,
                (r.height + 2) * scale,
            )
            for r in passage_rects(page, passage)
        ]
    painter = QPainter(image)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
    for r in rects:
        painter.fillRect(r, HIGHLIGHT)
    painter.end()
    return PageView(image, rects, page_no, n)


def text_around(passages: list[Passage], hit: Hit, context: int = 2500) -> TextView:
    """The text around ``hit``, put together from the stored passages of its page (or of the
    whole document, for formats without pages) in order: the file is not read again, so this
    works for a file that has changed or gone since it was indexed.

    Neighbouring passages of one section overlap (the chunker repeats a sentence or two); the
    repeat is shown once. A passage that does not continue the one before starts a new paragraph.
    A passage's text is the document's with paragraphs joined by single spaces, so this is the
    document's wording, not its exact layout.
    """
    out = ""
    s = e = -1
    prev: Passage | None = None
    for p in passages:
        # offsets say whether two passages overlap; the texts say by how much (a passage's
        # text joins its paragraphs with other spacing than the document, so offsets do not)
        same = prev is not None and prev.start <= p.start < prev.end
        k = _shared(prev.text, p.text) if prev is not None and same else 0
        if k:
            at = len(out) - k
            out += p.text[k:]
        else:
            sep = "" if not out else " " if prev and p.start == prev.end + 1 else "\n\n"
            at = len(out) + len(sep)
            out += sep + p.text
        if p.chunk_id == hit.chunk_id:
            s, e = at, at + len(p.text)
        prev = p
    if s < 0:  # not stored (any more): the passage alone
        return TextView(hit.text, 0, len(hit.text))
    lo = max(0, s - context)
    hi = min(len(out), e + context)
    if lo > 0:
        lo = out.find("\n", lo, s) + 1 or lo
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(out) else ""
    off = len(prefix) - lo
    return TextView(prefix + out[lo:hi] + suffix, s + off, e + off)


def _shared(before: str, after: str) -> int:
    """The length of the longest end of ``before`` that ``after`` starts with: the sentences the
    chunker repeats from one passage in the next."""
    if not after:
        return 0
    for j in range(max(0, len(before) - len(after)), len(before)):
        if before[j] == after[0] and after.startswith(before[j:]):
            return len(before) - j
    return 0
