"""Snippets: the part of a passage where the query matched, with highlight spans."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces between words (CJK, kana, Hangul syllables, Thai): a query word
# cannot be matched as a whole word there, so it is matched as substrings (bigrams when longer).
_UNSPACED = re.compile(
    "[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


def stem(word: str) -> str:
    """A light English suffix-stripper, enough to match 'warranties' with 'warranty'."""
    w = word.lower()
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ly", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: len(w) - len(suffix)] + repl
    return w


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """(stemmed content words, strings to find verbatim: quoted phrases and unspaced-script
    pieces) of a query."""
    phrases = [p.strip() for p in re.findall(r'"([^"]+)"', query) if p.strip()]
    spaced = _UNSPACED.sub(" ", query.lower())
    words = [stem(w) for w in _WORD.findall(spaced) if w not in STOP_WORDS]
    for run in _UNSPACED.findall(query):
        pieces = [run] if len(run) <= 2 else [run[i : i + 2] for i in range(len(run) - 1)]
        phrases.extend(pieces)
    return list(dict.fromkeys(words)), list(dict.fromkeys(phrases))


@dataclass(frozen=True)
class Snippet:
    """A window of passage text and the spans in it that matched the query."""

    text: str
    highlights: tuple[tuple[int, int], ...]


def match_spans(text: str, terms: list[str], phrases: list[str]) -> list[tuple[int, int]]:
    """Character spans in ``text`` of words matching ``terms`` and of exact ``phrases``."""
    spans: list[tuple[int, int]] = []
    lower = text.lower()
    for ph in phrases:
        start = 0
        needle = ph.lower()
        while (i := lower.find(needle, start)) >= 0:
            spans.append((i, i + len(needle)))
            start = i + len(needle)
    tset = set(terms)
    for m in _WORD.finditer(text):
        if stem(m.group()) in tset:
            spans.append((m.start(), m.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


# Dot leaders of a table of contents: "3.1 Tree syntax . . . . . . . 5".
_LEADERS = re.compile(r"(?:\s?[.·…]){4,}\s*(?=\d)")
# Entries of a back-of-book index: "trees, 5, 12–14".
_INDEX_ENTRY = re.compile(r"[^\W\d]{3},\s\d{1,4}(?![\d.%])")


def is_listing(text: str) -> bool:
    """Whether a passage reads as a table of contents or a back-of-book index: a list of topics
    with page numbers rather than prose."""
    # Counting characters first spares the regular expressions on prose (fusion asks this of
    # every candidate): three leaders need twelve dots, eight entries eight commas.
    dots = text.count(".") + text.count("·") + text.count("…")
    if dots >= 12 and len(_LEADERS.findall(text)) >= 3:
        return True
    return text.count(",") >= 8 and len(_INDEX_ENTRY.findall(text)) >= 8


def make_snippet(text: str, query: str, width: int = 240) -> Snippet:
    """The ``width``-character window of ``text`` with the most query matches (dot leaders
    shortened to one "…")."""
    text = _LEADERS.sub(" … ", text)
    terms, phrases = query_terms(query)
    spans = match_spans(text, terms, phrases)
    if len(text) <= width:
        return Snippet(text, tuple(spans))
    best_start, best_score = 0, -1
    for s, _ in spans or [(0, 0)]:
        start = max(0, s - width // 4)
        score = sum(1 for a, b in spans if a >= start and b <= start + width)
        if score > best_score:
            best_start, best_score = start, score
    # Start and end on word boundaries.
    if best_start > 0:
        space = text.rfind(" ", 0, best_start + 1)
        best_start = space + 1 if space >= 0 and best_start - space < 30 else best_start
    end = min(len(text), best_start + width)
    if end < len(text):
        space = text.rfind(" ", best_start, end)
        end = space if space > best_start + width // 2 else end
    prefix = "… " if best_start > 0 else ""
    suffix = " …" if end < len(text) else ""
    body = text[best_start:end]
    shift = len(prefix) - best_start
    hl = tuple((a + shift, b + shift) for a, b in spans if a >= best_start and b <= end)
    return Snippet(prefix + body + suffix, hl)
