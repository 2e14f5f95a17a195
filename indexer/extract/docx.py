"""DOCX with python-docx: paragraphs, heading styles and table cells in document order."""

from __future__ import annotations

import zipfile
from pathlib import Path

from indexer.errors import EncryptedError
from indexer.extract.document import Block, Document, ExtractLimits, Segment, wrap_error

SUFFIXES = (".docx",)


def _heading_level(style_name: str) -> int:
    name = style_name.lower()
    if name == "title":
        return 1
    if name.startswith("heading"):
        digits = "".join(c for c in name if c.isdigit())
        return min(6, int(digits)) if digits else 1
    return 0


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read a Word document."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise EncryptedError("The document is password-protected (or an old binary .doc)")
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise wrap_error(exc, "DOCX") from exc
    except Exception as exc:  # python-docx raises PackageNotFoundError and lxml errors
        raise wrap_error(exc, "DOCX") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = " ".join(item.text.split())
            if text:
                style = item.style.name if item.style is not None else ""
                blocks.append(Block(text, level=_heading_level(style or "")))
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    t = " ".join(cell.text.split())
                    if t and (not cells or cells[-1] != t):
                        cells.append(t)
                if cells:
                    blocks.append(Block(" | ".join(cells)))
    title = document.core_properties.title or None
    return Document((Segment(tuple(blocks)),), title=title, paged=False)
