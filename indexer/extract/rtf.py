"""RTF with striprtf: control words dropped, paragraphs kept."""

from __future__ import annotations

from pathlib import Path

from indexer.errors import CorruptError
from indexer.extract.document import Document, ExtractLimits, Segment, wrap_error
from indexer.extract.text import parse_paragraphs

SUFFIXES = (".rtf",)


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read a Rich Text Format file."""
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes()
    if not raw.lstrip().startswith(b"{\\rtf"):
        raise CorruptError("The RTF file is damaged or not RTF: it does not start with {\\rtf")
    try:
        # RTF is 7-bit text; \'hh escapes and \ansicpg are decoded by striprtf.
        text: str = rtf_to_text(raw.decode("latin-1"), errors="replace")  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise wrap_error(exc, "RTF") from exc
    text = text.replace("\r\n", "\n")
    blocks = parse_paragraphs(text.replace("\n", "\n\n"), markdown=False)
    return Document((Segment(tuple(blocks)),), paged=False)
