"""Questions about the collection, answered from the index rather than from the top passages.

"Which files mention X?", "How many documents are about X?" and "What is the latest report
about X?" need every matching file, not the five best passages a model is shown. A file matches when
one of its passages contains every content word of the topic (a keyword match, so "mention"
means what it says; the full-text index lists every such passage, however many) or, for
"about" questions, is close in meaning (a deep keyword + vector search, which also picks the
passages to cite). Files are grouped with their matching pages, counted, and dated by
modification time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from indexer.query import SearchFilters
from indexer.quote import content_words
from indexer.search import Hit, SearchConfig, Searcher

_DOCS = r"(?:files?|documents?|docs|reports?|papers?|pdfs?|notes|letters|invoices|emails?|pages)"
_WHICH = re.compile(
    rf"^\s*(?:which|what|list(?: all)?(?: the)?|show(?: me)?(?: all)?(?: the)?)\s+(?:of my\s+)?"
    rf"{_DOCS}\s+(?:(?:do|does|did)\s+)?(?:mention|mentions|talk about|talks about|contain|"
    rf"contains|refer to|refers to|are about|is about|discuss|discusses|say anything about|"
    rf"cover)\s+(.+)$",
    re.I,
)
_COUNT = re.compile(
    rf"^\s*how many\s+(?:of my\s+)?{_DOCS}\s+(?:(?:do|does)\s+)?(?:i have\s+)?"
    rf"(?:mention|mentions|talk about|contain|contains|are about|refer to|discuss|about|on|with)\s+"
    rf"(.+)$",
    re.I,
)
_LATEST = re.compile(
    rf"^\s*(?:what|which|show(?: me)?|find)?\s*(?:is|was|are)?\s*(?:the|my)?\s*"
    rf"(?:latest|newest|most recent|last)\s+(?:{_DOCS}|\w+)?\s*"
    rf"(?:about|on|mentioning|regarding|for)\s+(.+)$",
    re.I,
)
# Depth of the search for a topic; enough for a personal collection's matching pages.
DEPTH = 400
# Cosine a passage needs to count as "about" the topic when no passage names it.
STRICT_SIM = 0.5


@dataclass
class FileMatch:
    """One file that matches the topic."""

    path: str
    pages: list[int] = field(default_factory=list)
    passages: int = 0
    modified: float | None = None
    first: Hit | None = None

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape."""
        return {
            "path": self.path,
            "pages": self.pages,
            "passages": self.passages,
            "modified": self.modified,
        }


@dataclass
class Aggregate:
    """The outcome of a question about the collection."""

    kind: str  # "which" | "count" | "latest"
    topic: str
    files: list[FileMatch]

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape (``findling ask --json``, the ``aggregate`` key)."""
        return {
            "kind": self.kind,
            "topic": self.topic,
            "count": len(self.files),
            "files": [f.to_json() for f in self.files],
        }

    def text(self) -> str:
        """A one-paragraph answer."""
        n = len(self.files)
        if not n:
            return f'No file in your index mentions "{self.topic}".'
        names = ", ".join(os.path.basename(f.path) for f in self.files[:10])
        more = f" and {n - 10} more" if n > 10 else ""
        if self.kind == "latest":
            return f'The most recent file about "{self.topic}" is {names.split(", ")[0]}.'
        verb = "mentions" if n == 1 else "mention"
        return f'{n} file{"s" if n != 1 else ""} {verb} "{self.topic}": {names}{more}.'


def parse(question: str) -> tuple[str, str] | None:
    """``(kind, topic)`` when ``question`` asks about the collection, else ``None``."""
    q = question.strip().rstrip("?.! ")
    for kind, rx in (("count", _COUNT), ("which", _WHICH), ("latest", _LATEST)):
        m = rx.match(q)
        if m:
            topic = m.group(1).strip().strip("\"'“”")
            if content_words(topic):
                return kind, topic
    return None


def collect(
    searcher: Searcher, kind: str, topic: str, filters: SearchFilters | None = None
) -> Aggregate:
    """Every indexed file that matches ``topic``, grouped by file (newest first for "latest").

    A file mentions the topic when one of its passages holds every content word of it; the
    full-text index lists every such passage (``Searcher.keyword_passages``), so the count does
    not stop at the :data:`DEPTH` best passages. The deep search supplies each file's best
    passage to cite, and, for "latest", files close in meaning when none names the topic.
    """
    cfg = SearchConfig(
        mode="hybrid", depth=DEPTH, per_doc=DEPTH, min_similarity=searcher.config.min_similarity
    )
    result = searcher.search(topic, limit=DEPTH, filters=filters, config=cfg)
    words = content_words(topic)
    matching = [h for h in result.hits if words and words <= content_words(h.text)]
    complete = searcher.keyword_passages(
        [w for w in re.findall(r"\w+", topic.lower()) if len(w) > 2],
        filters,
        verify=lambda text: words <= content_words(text),
    )
    if not matching and not complete and kind == "latest":
        # Nothing names the topic word for word: "about" may still be meant by meaning.
        matching = [
            h for h in result.hits if h.similarity is not None and h.similarity >= STRICT_SIM
        ]
    files: dict[str, FileMatch] = {}
    for path, pages in (complete or {}).items():
        files[path] = FileMatch(
            path,
            pages=[p for p in dict.fromkeys(pages) if p is not None],
            passages=len(pages),
            modified=_modified(path),
        )
    counted = set(files)  # passages counted from the index; the search adds what it missed
    for h in matching:
        f = files.get(h.path)
        if f is None:
            f = files[h.path] = FileMatch(h.path, modified=_modified(h.path))
        if f.first is None:
            f.first = h
        if h.path in counted:
            continue
        f.passages += 1
        if h.page is not None and h.page not in f.pages:
            f.pages.append(h.page)
    out = list(files.values())
    for f in out:
        f.pages.sort()
    if kind == "latest":
        out.sort(key=lambda f: -(f.modified or 0.0))
    else:
        out.sort(key=lambda f: (-f.passages, f.path))
    return Aggregate(kind, topic, out)


def _modified(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None
