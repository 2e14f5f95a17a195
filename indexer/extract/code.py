"""Source code and config files: passages split at top-level definitions, line numbers kept.

Each part becomes a segment whose heading names where it starts (``def parse · line 12``), so
a hit shows ``line N`` in its section. The split is a cheap look at indentation and keywords,
not a parser: a top-level ``def``/``class``/``function``/``func``/``fn``… line that follows a
blank line starts a new part.
"""

from __future__ import annotations

import re
from pathlib import Path

from indexer.extract.document import Block, Document, ExtractLimits, Segment, read_text_file

SUFFIXES = (
    ".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".c", ".h", ".cc", ".cpp",
    ".cxx", ".hpp", ".hh", ".java", ".kt", ".go", ".rs", ".rb", ".php", ".cs", ".swift",
    ".sh", ".bash", ".zsh", ".ps1", ".sql", ".lua", ".r", ".json", ".yaml", ".yml", ".toml",
    ".xml", ".ini", ".cfg", ".conf", ".properties",
)  # fmt: skip

_DEF = re.compile(
    r"^(?:export\s+)?(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:static\s+)?"
    r"(?:def|class|function|func|fn|impl|struct|enum|trait|interface|module|type)\s+"
    r"([A-Za-z_$][\w$]*)"
)
_SECTION = re.compile(r"^\[([^\]]+)\]\s*$")  # INI / TOML tables
_MAX_PART_LINES = 80
_HEADING_LINE = re.compile(r"(?:^| · )line (\d+)$")


def passage_line(path: str, heading: str | None) -> int | None:
    """The 1-based line where a code passage's part starts, read back from its heading (see
    :func:`extract`); None for other formats, whose headings are the document's own."""
    if not heading or not path.lower().endswith(SUFFIXES):
        return None
    m = _HEADING_LINE.search(heading)
    return int(m.group(1)) if m else None


def _start_name(line: str) -> str | None:
    m = _DEF.match(line)
    if m:
        return m.group(1)
    m = _SECTION.match(line)
    return m.group(1).strip() if m else None


def parts(text: str) -> list[tuple[int, str | None, list[str]]]:
    """Split into ``(first line number, name, lines)`` parts at top-level definitions."""
    out: list[tuple[int, str | None, list[str]]] = []
    start, name = 1, None
    cur: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines, 1):
        new = _start_name(line)
        if line.startswith("@"):  # a decorator starts the part of the definition below it
            below = next((x for x in lines[i:] if not x.startswith("@")), "")
            new = _start_name(below)
        prev_blank = i == 1 or not lines[i - 2].strip()
        if cur and ((new and prev_blank) or len(cur) >= _MAX_PART_LINES):
            out.append((start, name, cur))
            start, cur = i, []
            name = new if new else name
        elif new and not cur:
            name = new
        cur.append(line)
    if cur:
        out.append((start, name, cur))
    return out


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read a source or config file."""
    text = read_text_file(path)
    segments: list[Segment] = []
    for start, name, lines in parts(text):
        if not any(x.strip() for x in lines):
            continue
        # Paragraphs split on blank lines; each keeps its own line breaks and indentation.
        blocks: list[Block] = []
        para: list[str] = []
        for line in [*lines, ""]:
            if line.strip():
                para.append(line.rstrip())
            elif para:
                blocks.append(Block("\n".join(para)))
                para = []
        heading = f"{name} · line {start}" if name else f"line {start}"
        segments.append(Segment(tuple(blocks), heading=heading))
    return Document(tuple(segments), title=path.name, paged=False)
