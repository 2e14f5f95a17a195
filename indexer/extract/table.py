"""CSV and TSV: each row as text next to its header row, the encoding detected."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from indexer.extract.document import (
    Block,
    Document,
    ExtractLimits,
    Segment,
    read_text_file,
    wrap_error,
)

SUFFIXES = (".csv", ".tsv")

MAX_ROWS = 50_000
"""Rows read per file (or per sheet); the rest of a huge table is left out."""


def row_blocks(header: list[str], rows: list[list[str]]) -> list[Block]:
    """Render rows as ``Header: value; …`` paragraphs (plain ``a | b`` without a header)."""
    blocks: list[Block] = []
    for row in rows:
        cells = [" ".join(str(c).split()) for c in row]
        if not any(cells):
            continue
        if header:
            parts = [
                f"{header[i]}: {c}" if i < len(header) and header[i] else c
                for i, c in enumerate(cells)
                if c
            ]
            blocks.append(Block("; ".join(parts)))
        else:
            blocks.append(Block(" | ".join(c for c in cells if c)))
    return blocks


def _looks_like_header(first: list[str], second: list[str] | None) -> bool:
    cells = [c.strip() for c in first]
    if not cells or not all(cells):
        return False
    if any(_is_number(c) for c in cells):
        return False
    return second is None or any(_is_number(c) for c in second) or len(set(cells)) == len(cells)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").strip())
    except ValueError:
        return False
    return True


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read a CSV or TSV file."""
    text = read_text_file(path)
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise wrap_error(exc, "CSV") from exc
    if not rows:
        return Document((Segment(()),))
    header: list[str] = []
    if _looks_like_header(rows[0], rows[1] if len(rows) > 1 else None) and len(rows) > 1:
        header = [" ".join(c.split()) for c in rows[0]]
        rows = rows[1:]
    heading = " | ".join(h for h in header if h)[:200] or None
    return Document((Segment(tuple(row_blocks(header, rows)), heading=heading),), paged=False)
