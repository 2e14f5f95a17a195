"""Structure-aware chunking measured in the embedding model's tokens.

Chunks follow headings and paragraphs, never span two segments (pages), and fit the embedding
model's sequence limit *including* special tokens and the heading line that travels with them.
Neighbouring chunks of a segment overlap by a sentence or two so a fact cut at a boundary is
still found whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from indexer.extract.document import Document, Segment

CHUNKER_VERSION = 3

TokenCounter = Callable[[str], int]
_SENTENCE = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9À-ÖØ-Þ])")


@dataclass(frozen=True)
class ChunkerConfig:
    """Chunk sizes in model tokens.

    Attributes:
        max_tokens: Hard limit per chunk including special tokens (the model's limit).
        target_tokens: Preferred size; a chunk is closed once adding a paragraph would pass it.
        overlap_tokens: Up to this many tokens of trailing sentences repeat in the next chunk.
        special_tokens: Tokens the model adds around every input ([CLS], [SEP]).
    """

    max_tokens: int = 256
    target_tokens: int = 200
    overlap_tokens: int = 32
    special_tokens: int = 2


@dataclass(frozen=True)
class Chunk:
    """A passage ready to embed.

    Attributes:
        text: The passage as it appears in the document (what snippets and previews show).
        heading: The section path the passage sits under, or None.
        page: 1-based page for paged formats, else None.
        start: Character offset of ``text`` in its segment's text.
        end: End offset (exclusive) in the segment's text.
        ordinal: Position in the document, from 0.
    """

    text: str
    heading: str | None
    page: int | None
    start: int
    end: int
    ordinal: int

    @property
    def embed_text(self) -> str:
        """The text that is embedded and full-text indexed: heading line, then the passage."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass
class _Piece:
    text: str
    start: int
    tokens: int


class Chunker:
    """Splits extracted documents into :class:`Chunk` objects."""

    def __init__(self, count_tokens: TokenCounter, config: ChunkerConfig | None = None) -> None:
        self.count = count_tokens
        self.config = config or ChunkerConfig()

    def chunks(self, doc: Document) -> list[Chunk]:
        """All chunks of ``doc`` in reading order."""
        out: list[Chunk] = []
        stack: list[tuple[int, str]] = []
        for seg in doc.segments:
            for text, heading, start, end in self._segment(seg, stack):
                out.append(Chunk(text, heading, seg.page, start, end, len(out)))
        return out

    def _segment(
        self, seg: Segment, stack: list[tuple[int, str]]
    ) -> Iterator[tuple[str, str | None, int, int]]:
        cfg = self.config
        offset = 0
        pieces: list[_Piece] = []
        heading = self._heading(stack, seg)
        budget = self._budget(heading)

        def emit() -> Iterator[tuple[str, str | None, int, int]]:
            nonlocal pieces
            if not pieces:
                return
            text, start, end = self._join(seg.text, pieces)
            yield text, heading, start, end
            pieces = self._overlap(pieces)

        for i, block in enumerate(seg.blocks):
            start = offset
            offset += len(block.text) + (2 if i < len(seg.blocks) - 1 else 0)
            if block.level > 0:
                yield from emit()
                pieces = []
                del stack[
                    next((j for j, (lv, _) in enumerate(stack) if lv >= block.level), len(stack)) :
                ]
                stack.append((block.level, block.text[:150]))
                heading = self._heading(stack, seg)
                budget = self._budget(heading)
                continue
            for piece in self._pieces(block.text, start, budget):
                used = sum(p.tokens for p in pieces)
                if pieces and used + piece.tokens > min(budget, cfg.target_tokens):
                    yield from emit()
                    used = sum(p.tokens for p in pieces)
                    if used + piece.tokens > budget:
                        pieces = []
                pieces.append(piece)
        if pieces and any(p.start >= 0 for p in pieces):
            text, start, end = self._join(seg.text, pieces)
            if not self._is_pure_overlap(pieces):
                yield text, heading, start, end

    def _heading(self, stack: list[tuple[int, str]], seg: Segment) -> str | None:
        if stack:
            return " > ".join(t for _, t in stack[-3:])
        return seg.heading

    def _budget(self, heading: str | None) -> int:
        cfg = self.config
        head = self.count(heading + "\n") - cfg.special_tokens if heading else 0
        # Heading lines are capped so that a huge heading cannot starve the passage.
        return max(32, cfg.max_tokens - cfg.special_tokens - min(head, cfg.max_tokens // 3) - 2)

    def _pieces(self, text: str, start: int, budget: int) -> Iterator[_Piece]:
        """A paragraph as one piece, or split at sentences/tokens when it is too long."""
        n = self._tok(text)
        if n <= budget:
            yield _Piece(text, start, n)
            return
        pos = 0
        for sent in _SENTENCE.split(text):
            idx = text.find(sent, pos)
            pos = idx + len(sent)
            m = self._tok(sent)
            if m <= budget:
                yield _Piece(sent, start + idx, m)
            else:
                yield from self._hard_split(sent, start + idx, budget)

    def _hard_split(self, text: str, start: int, budget: int) -> Iterator[_Piece]:
        """Split text with no sentence breaks at word boundaries, by token count."""
        words = list(re.finditer(r"\S+", text))
        lo = 0
        while lo < len(words):
            hi = min(len(words), lo + budget)
            while hi > lo + 1:
                span = text[words[lo].start() : words[hi - 1].end()]
                if self._tok(span) <= budget:
                    break
                hi = max(lo + 1, lo + (hi - lo) * 3 // 4)
            span_start, span_end = words[lo].start(), words[hi - 1].end()
            span = text[span_start:span_end]
            tokens = self._tok(span)
            if tokens > budget:  # a single giant "word": cut it by characters
                span = span[: budget * 2]
                span_end = span_start + len(span)
                tokens = self._tok(span)
            yield _Piece(span, start + span_start, tokens)
            lo = hi

    def _tok(self, text: str) -> int:
        return max(0, self.count(text) - self.config.special_tokens)

    def _overlap(self, pieces: list[_Piece]) -> list[_Piece]:
        """Trailing pieces (sentences) worth at most ``overlap_tokens``, marked as carried."""
        keep: list[_Piece] = []
        total = 0
        for p in reversed(pieces):
            if total + p.tokens > self.config.overlap_tokens:
                break
            real = p.start if p.start >= 0 else -1 - p.start
            keep.insert(0, _Piece(p.text, -1 - real, p.tokens))  # negative start: carried over
            total += p.tokens
        return keep

    @staticmethod
    def _is_pure_overlap(pieces: list[_Piece]) -> bool:
        return all(p.start < 0 for p in pieces)

    @staticmethod
    def _join(seg_text: str, pieces: list[_Piece]) -> tuple[str, int, int]:
        starts = [p.start if p.start >= 0 else -1 - p.start for p in pieces]
        start = starts[0]
        end = starts[-1] + len(pieces[-1].text)
        text = seg_text[start:end]
        if len(text) > 4 * sum(len(p.text) for p in pieces):  # pieces far apart: join instead
            text = " ".join(p.text for p in pieces)
        return " ".join(text.split()), start, end
