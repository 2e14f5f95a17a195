"""The structured text model every extractor produces, and helpers the format readers share.

Format modules import only this module; :mod:`indexer.extract.dispatch` imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import CorruptError, ExtractError


@dataclass(frozen=True)
class Block:
    """A paragraph or heading. ``level`` is 0 for body text, 1–6 for headings."""

    text: str
    level: int = 0


@dataclass(frozen=True)
class Segment:
    """A page (paged formats) or the whole text / a top-level part (unpaged formats).

    Attributes:
        blocks: The segment's paragraphs and headings, in reading order.
        page: 1-based physical page number, or None for unpaged formats.
        heading: The section the segment starts in (from the outline), if known.
    """

    blocks: tuple[Block, ...]
    page: int | None = None
    heading: str | None = None

    @property
    def text(self) -> str:
        """The segment's text; chunk character offsets index into this string."""
        return "\n\n".join(b.text for b in self.blocks)


@dataclass(frozen=True)
class Document:
    """An extracted file: its segments, title and whether it has pages."""

    segments: tuple[Segment, ...]
    title: str | None = None
    paged: bool = False
    ocr_pending: int = 0  # scanned pages left for a later OCR round (ExtractLimits.ocr_pages)

    @property
    def has_text(self) -> bool:
        """Whether any segment holds non-whitespace text."""
        return any(b.text.strip() for s in self.segments for b in s.blocks)


@dataclass(frozen=True)
class ExtractLimits:
    """Per-file limits; a file over them is marked too-large rather than indexed."""

    max_bytes: int = 512 * 1024 * 1024
    max_pages: int = 20_000
    ocr_cache_dir: Path | None = None  # OCR results by page-image hash (issue 13); None: no cache
    # Text-less pages OCR'd afresh per extraction, so that a long scan stays inside the
    # per-file CPU budget; the rest are counted in Document.ocr_pending and read by the
    # indexer's OCR rounds once every file's text is in (cached pages cost nothing).
    ocr_pages: int = 25


Extractor = Callable[[Path, ExtractLimits], Document]


def clean_text(text: str) -> str:
    """Normalise extracted text: join hyphenated line breaks, collapse runs of spaces."""
    text = text.replace("\u00ad", "").replace("\x00", "")
    text = text.replace("-\n", "").replace("\r", "")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return " ".join(line for line in lines if line)


def read_text_file(path: Path) -> str:
    """Read a text file, detecting its encoding.

    A byte-order mark wins, then strict UTF-8, then charset-normalizer's best guess (so GBK,
    Shift-JIS or KOI8-R text is not garbled), and cp1252 only when nothing fits.

    Raises:
        CorruptError: the bytes are binary data, not text (NUL bytes, not UTF-8, no UTF-16 mark).
    """
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    head = raw[:65536]
    if b"\x00" in head:
        raise CorruptError("The file holds binary data, not text (despite its extension)")
    import charset_normalizer

    matches = list(charset_normalizer.from_bytes(raw[: 4 * 2**20]))
    if matches:
        # Short Western text fits many code pages equally well: then keep the usual cp1252.
        least = min(m.chaos for m in matches)
        tied = [m.encoding for m in matches if m.chaos == least]
        encoding = "cp1252" if "cp1252" in tied else tied[0]
        return raw.decode(encoding, errors="replace")
    return raw.decode("cp1252", errors="replace")


def wrap_error(exc: Exception, kind: str) -> ExtractError:
    """Turn a parser's exception into a corrupt-file error with a readable reason."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return CorruptError(f"The {kind} file is damaged or not a valid {kind}: {msg[:200]}")
