"""Office Open XML slides and workbooks: PPTX with python-pptx, XLSX/XLSM with openpyxl.

A slide is a page (``page`` = slide number): its title, text frames, tables and speaker notes.
A sheet is a segment whose heading is the sheet name; each row is written next to the header
row (see :func:`indexer.extract.table.row_blocks`), and a huge sheet is capped.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from indexer.errors import EncryptedError
from indexer.extract.document import Block, Document, ExtractLimits, Segment, wrap_error
from indexer.extract.table import MAX_ROWS, row_blocks

SUFFIXES = (".pptx", ".xlsx", ".xlsm")

MAX_SHEET_ROWS = 20_000
"""Rows read per sheet; also bounded by :data:`indexer.extract.table.MAX_ROWS` per workbook."""


def _has_ole_stream(path: Path, name: str, limit: int = 64 * 1024 * 1024) -> bool:
    """Whether an OLE compound file names the stream ``name`` in its directory (its entries
    store names as UTF-16-LE; looked for in the first ``limit`` bytes, read in pieces)."""
    needle = name.encode("utf-16-le")
    tail = b""
    with path.open("rb") as fh:
        for _ in range(0, limit, 1 << 20):
            piece = fh.read(1 << 20)
            if not piece:
                return False
            if needle in tail + piece:
                return True
            tail = piece[-len(needle) :]
    return False


def _check_container(path: Path, kind: str) -> None:
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        # Encrypted OOXML is stored inside an OLE compound file, next to its EncryptionInfo
        # stream; an OLE file without one is an old binary (.xls/.ppt) under a new name.
        if _has_ole_stream(path, "EncryptionInfo"):
            raise EncryptedError(f"The {kind} file is password-protected")
        raise wrap_error(
            ValueError(f"an old binary Office file (not {kind}) saved under the {kind} name"), kind
        )
    if not zipfile.is_zipfile(path):
        raise wrap_error(ValueError("not a zip archive (truncated or damaged)"), kind)


def _shape_blocks(shape: Any) -> list[Block]:
    blocks: list[Block] = []
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for para in shape.text_frame.paragraphs:
            text = " ".join(para.text.split())
            if text:
                blocks.append(Block(text))
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            cells = [" ".join(c.text.split()) for c in row.cells]
            if any(cells):
                blocks.append(Block(" | ".join(c for c in cells if c)))
    for sub in getattr(shape, "shapes", ()):  # group shapes
        blocks.extend(_shape_blocks(sub))
    return blocks


def _pptx(path: Path, limits: ExtractLimits) -> Document:
    import pptx

    try:
        prs = pptx.Presentation(str(path))
    except Exception as exc:  # python-pptx raises PackageNotFoundError, KeyError, lxml errors
        raise wrap_error(exc, "PPTX") from exc
    segments: list[Segment] = []
    for number, slide in enumerate(prs.slides, 1):
        if number > limits.max_pages:
            break
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None else ""
        blocks = [Block(title, level=1)] if title else []
        for shape in slide.shapes:
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            blocks.extend(_shape_blocks(shape))
        if slide.has_notes_slide:
            notes = " ".join(slide.notes_slide.notes_text_frame.text.split())
            if notes:
                blocks.append(Block(f"Speaker notes: {notes}"))
        segments.append(Segment(tuple(blocks), page=number, heading=title or None))
    doc_title = prs.core_properties.title or None
    return Document(tuple(segments), title=doc_title, paged=True)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx(path: Path, limits: ExtractLimits) -> Document:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, KeyError, lxml and openpyxl's own errors
        raise wrap_error(exc, "XLSX") from exc
    segments: list[Segment] = []
    budget = MAX_ROWS
    try:
        for ws in wb.worksheets:
            header: list[str] = []
            rows: list[list[str]] = []
            for values in ws.iter_rows(values_only=True):
                cells = [_cell_text(v) for v in values]
                if not any(c.strip() for c in cells):
                    continue
                if not header:
                    header = [" ".join(c.split()) for c in cells]
                    continue
                rows.append(cells)
                if len(rows) >= min(MAX_SHEET_ROWS, budget):
                    break
            budget -= len(rows)
            blocks = row_blocks(header, rows) if rows else row_blocks([], [header])
            segments.append(Segment(tuple(blocks), heading=ws.title))
            if budget <= 0:
                break
    except Exception as exc:
        raise wrap_error(exc, "XLSX") from exc
    finally:
        wb.close()
    return Document(tuple(segments), title=wb.properties.title or None, paged=False)


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read a PowerPoint presentation or an Excel workbook."""
    if path.suffix.lower() == ".pptx":
        _check_container(path, "PPTX")
        return _pptx(path, limits)
    _check_container(path, "XLSX")
    return _xlsx(path, limits)
