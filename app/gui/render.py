"""Page rendering for the preview (runs on a pool thread): PyMuPDF page -> QImage with the
passage highlighted (and an answer's quoted sentence in its own colour), or the text around a
passage for formats without pages (from the stored passages)."""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field

import pymupdf
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QRegion

from indexer import Hit, Passage

log = logging.getLogger(__name__)

PAGED = {".pdf", ".xps", ".oxps", ".epub", ".mobi", ".fb2", ".cbz"}
_WORD = re.compile(r"\w+", re.UNICODE)
HIGHLIGHT = QColor(255, 208, 0, 110)
# The quoted answer sentence: green, so it stands out from the passage's yellow around it.
ANSWER_HIGHLIGHT = QColor(60, 200, 110, 120)
MIN_RUN = 2  # words; shorter matches are coincidences
PIECE_WORDS = 4  # words per piece when the sentence as a whole is not found on the page


@dataclass
class PageView:
    """A rendered page and where the passage (and the answer's sentence) is on it, in logical
    pixels of the image."""

    image: QImage
    rects: list[QRectF]
    page: int
    pages: int
    answer_rects: list[QRectF] = field(default_factory=list)


@dataclass
class TextView:
    """Text around a passage; ``start``/``end`` locate the passage in ``text``, ``answer`` the
    quoted answer sentence when it is shown."""

    text: str
    start: int
    end: int
    highlights: list[tuple[int, int]] = field(default_factory=list)
    answer: tuple[int, int] | None = None


@dataclass(frozen=True)
class AnswerSpan:
    """The answer's quoted sentence: characters ``start:end`` of passage ``chunk_id`` (an
    :class:`indexer.quote.Extract`'s place), and its text, which is looked for on a page."""

    chunk_id: str
    start: int
    end: int
    text: str


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


def _lines(rects: list[pymupdf.Rect]) -> list[pymupdf.Rect]:
    """``rects`` merged line by line (pieces of one line overlap; painted twice they would
    darken where they meet)."""
    out: list[pymupdf.Rect] = []
    for r in sorted(rects, key=lambda r: (round(r.y0), r.x0)):
        last = out[-1] if out else None
        if last is not None and abs(last.y0 - r.y0) < 0.5 * r.height and r.x0 <= last.x1 + 4:
            out[-1] = last | r
        else:
            out.append(pymupdf.Rect(r))
    return out


def _near(rect: pymupdf.Rect, area: list[pymupdf.Rect]) -> float:
    """Vertical distance from ``rect`` to the nearest of ``area`` (0 inside)."""
    if not area:
        return 0.0
    return min(max(0.0, a.y0 - rect.y1, rect.y0 - a.y1) for a in area)


def sentence_rects(
    page: pymupdf.Page, sentence: str, near: list[pymupdf.Rect] | None = None
) -> list[pymupdf.Rect]:
    """Rectangles (one per line) covering the quoted ``sentence`` on ``page``.

    PyMuPDF's search runs with the indexer's own text flags (hyphens at line ends joined, the
    way the passage was extracted) and matches across line breaks, so the whole sentence is
    tried first. When the page's text differs somewhere inside it (a ligature, a quote mark, a
    column break), the sentence is looked for in pieces of a few words and the pieces found
    are kept. Where a piece occurs more than once, the occurrence next to the pieces already
    found (or to ``near``, the passage's lines) wins, so a common phrase elsewhere on the
    page is not lit up.
    """
    words = sentence.split()
    if not words:
        return []
    flags = pymupdf.TEXTFLAGS_SEARCH
    whole = page.search_for(" ".join(words), flags=flags)
    if whole:
        # the same sentence twice on the page: the one in the passage
        inside = [r for r in whole if near and _near(r, near) < r.height]
        return _lines(inside or whole)
    found: list[pymupdf.Rect] = []
    for i in range(0, len(words), PIECE_WORDS):
        piece = " ".join(words[i : i + PIECE_WORDS])
        if len(_WORD.findall(piece)) < 2 and i:  # a lone trailing word matches anywhere
            piece = " ".join(words[max(0, i - 1) : i + PIECE_WORDS])
        hits = page.search_for(piece, flags=flags)
        if not hits:
            continue
        anchor = found[-1:] or (near or [])
        # a piece split over two lines comes back as two rects: keep those of one occurrence
        best = min(hits, key=lambda r: _near(r, anchor))
        found += [r for r in hits if _near(r, [best]) <= best.height]
    return _lines(found)


def render_page(
    path: str,
    page_no: int,
    passage: str,
    width_px: int,
    device_ratio: float = 1.0,
    answer: str | None = None,
) -> PageView:
    """Render page ``page_no`` (1-based) about ``width_px`` wide with ``passage`` highlighted,
    and the quoted ``answer`` sentence, when given, in :data:`ANSWER_HIGHLIGHT` over it."""
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

        def on_image(r: pymupdf.Rect) -> QRectF:
            return QRectF(
                (r.x0 - 1) * scale,
                (r.y0 - 1) * scale,
                (r.width + 2) * scale,
                (r.height + 2) * scale,
            )

        found = passage_rects(page, passage)
        rects = [on_image(r) for r in found]
        answer_rects = [on_image(r) for r in sentence_rects(page, answer, found)] if answer else []
    painter = QPainter(image)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
    if answer_rects:  # the passage's yellow around the sentence, not under it
        outside = QRegion(QRectF(0, 0, image.width(), image.height()).toAlignedRect())
        for r in answer_rects:
            outside -= QRegion(r.toAlignedRect())
        painter.setClipRegion(outside)
    for r in rects:
        painter.fillRect(r, HIGHLIGHT)
    painter.setClipping(False)
    for r in answer_rects:
        painter.fillRect(r, ANSWER_HIGHLIGHT)
    painter.end()
    return PageView(image, rects, page_no, n, answer_rects)


def text_around(
    passages: list[Passage], hit: Hit, context: int = 2500, answer: AnswerSpan | None = None
) -> TextView:
    """The text around ``hit``, put together from the stored passages of its page (or of the
    whole document, for formats without pages) in order: the file is not read again, so this
    works for a file that has changed or gone since it was indexed.

    Neighbouring passages of one section overlap (the chunker repeats a sentence or two); the
    repeat is shown once. A passage that does not continue the one before starts a new paragraph.
    A passage's text is the document's with paragraphs joined by single spaces, so this is the
    document's wording, not its exact layout.

    ``answer``, a quoted sentence of one of these passages (by its offsets into that passage's
    text), is located in the text put together, as ``TextView.answer``.
    """
    out = ""
    s = e = -1
    a_at = -1
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
        if answer is not None and p.chunk_id == answer.chunk_id:
            a_at = at
        prev = p
    if s < 0:  # not stored (any more): the passage alone
        alone = answer is not None and answer.chunk_id == hit.chunk_id
        return TextView(hit.text, 0, len(hit.text), answer=_span(answer, 0) if alone else None)
    lo = max(0, s - context)
    hi = min(len(out), e + context)
    if lo > 0:
        lo = out.find("\n", lo, s) + 1 or lo
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(out) else ""
    off = len(prefix) - lo
    span = _span(answer, a_at + off) if answer is not None and a_at >= 0 else None
    text = prefix + out[lo:hi] + suffix
    if span is not None and not (0 <= span[0] < span[1] <= len(text)):
        span = None  # outside the context shown
    return TextView(text, s + off, e + off, answer=span)


def _span(answer: AnswerSpan | None, at: int) -> tuple[int, int] | None:
    """The answer's span in text where its passage starts at ``at``."""
    if answer is None:
        return None
    return at + answer.start, at + answer.end


def _shared(before: str, after: str) -> int:
    """The length of the longest end of ``before`` that ``after`` starts with: the sentences the
    chunker repeats from one passage in the next."""
    if not after:
        return 0
    for j in range(max(0, len(before) - len(after)), len(before)):
        if before[j] == after[0] and after.startswith(before[j:]):
            return len(before) - j
    return 0
