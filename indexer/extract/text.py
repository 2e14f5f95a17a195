"""Plain text and Markdown: paragraphs split on blank lines, Markdown headings kept."""

from __future__ import annotations

import re
from pathlib import Path

from indexer.extract.document import Block, Document, ExtractLimits, Segment, read_text_file

SUFFIXES = (".txt", ".text", ".md", ".markdown", ".rst", ".org", ".log", ".tex")

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")


def parse_paragraphs(text: str, markdown: bool) -> list[Block]:
    """Split text into paragraph and heading blocks."""
    blocks: list[Block] = []
    para: list[str] = []
    in_fence = False

    def flush() -> None:
        if para:
            joined = " ".join(" ".join(p.split()) for p in para).strip()
            if joined:
                blocks.append(Block(joined))
            para.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if markdown and stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if markdown and not in_fence:
            m = _ATX.match(stripped)
            if m:
                flush()
                title = m.group(2).strip()
                if title:
                    blocks.append(Block(title, level=len(m.group(1))))
                continue
            if _SETEXT.match(stripped) and len(para) == 1:
                title = para[0].strip()
                para.clear()
                blocks.append(Block(title, level=1 if stripped[0] == "=" else 2))
                continue
        if not stripped:
            flush()
        else:
            para.append(stripped)
    flush()
    return blocks


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read a text or Markdown file."""
    text = read_text_file(path)
    markdown = path.suffix.lower() in (".md", ".markdown")
    blocks = parse_paragraphs(text, markdown)
    title = next((b.text for b in blocks if b.level == 1), None)
    return Document((Segment(tuple(blocks)),), title=title, paged=False)
