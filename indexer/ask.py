"""Grounded answers: retrieve passages, quote them in a prompt, stream the LLM, map citations.

Document text is treated as data. Each passage is quoted as exactly one line that starts with its
number; line breaks inside a passage are folded away, so document text cannot end its quote, start
another source or pose as the question. Citation markers are only accepted for the numbers of
passages actually given to the model; a "[7]" written inside a document is neutralised before the
model sees it and can never produce a citation to something that was not retrieved.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from indexer.search import Hit, Searcher, SearchFilters
from indexer.snippet import STOP_WORDS, make_snippet, stem

log = logging.getLogger(__name__)

NOT_FOUND_MARK = "NOT IN FILES"
NOT_FOUND_TEXT = "I couldn't find the answer to that in your files."
_CITE = re.compile(r"\[(\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*)\]")
_WORD = re.compile(r"\w+", re.UNICODE)
# A keyword-only hit counts as relevant when it holds this share of the question's words.
KEYWORD_COVERAGE = 0.6
# An answer without citation markers must share this much vocabulary with some passage.
MIN_SUPPORT = 0.4

INSTRUCTIONS = (
    "Read the sources and answer the question in one sentence. Cite the source number like [1]. "
    f"If the sources do not answer it, reply {NOT_FOUND_MARK}."
)


class ChatModel(Protocol):
    """What ``ask`` needs from an LLM (implemented by :class:`models.llm.Llm`)."""

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = ...,
        temperature: float = ...,
        should_stop: Callable[[], bool] | None = ...,
        stop: list[str] | None = ...,
    ) -> Any: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True)
class AskConfig:
    """Answering settings.

    Attributes:
        passages: Passages retrieved and quoted.
        context_tokens: Token budget for the quoted passages.
        max_answer_tokens: Upper bound on the answer's length.
    """

    passages: int = 5
    context_tokens: int = 2400
    max_answer_tokens: int = 320


@dataclass
class Citation:
    """A passage given to the model, and whether the answer cites it."""

    n: int
    path: str
    page: int | None
    snippet: str
    chunk_id: str
    section: str | None = None
    cited: bool = False
    support: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape (CLI ``--json``)."""
        return {
            "n": self.n,
            "path": self.path,
            "page": self.page,
            "snippet": self.snippet,
            "chunk_id": self.chunk_id,
            "section": self.section,
            "cited": self.cited,
            "support": round(self.support, 3),
        }


@dataclass
class Answer:
    """The outcome of a question."""

    answer: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    stopped: bool = False

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape (CLI ``--json``)."""
        return {
            "answer": self.answer,
            "found": self.found,
            "stopped": self.stopped,
            "citations": [c.to_json() for c in self.citations],
        }


def neutralise(text: str) -> str:
    """Make passage text inert inside the prompt.

    Each source is exactly one line that starts with ``[n]``: line breaks are folded into spaces,
    so a passage can never start a line of its own (and pose as another source or as the
    question), and bracketed numbers become ``(n)``, so a document cannot carry citation markers.
    """
    text = " ".join(text.split())
    return _CITE.sub(lambda m: "(" + m.group(1).strip() + ")", text)


def build_prompt(question: str, hits: list[Hit]) -> list[dict[str, str]]:
    """Chat messages that quote ``hits`` as numbered one-line sources for ``question``.

    Instructions come first and the question last, each source on one line of its own: the
    layout that small local models follow best (measured on SmolLM2-135M), and one where
    document text has no way to leave its line.
    """
    lines = [f"[{n}] {neutralise(h.text)}" for n, h in enumerate(hits, start=1)]
    user = (
        f"{INSTRUCTIONS}\n\nSources:\n"
        + "\n".join(lines)
        + f"\n\nQuestion: {' '.join(question.split())}"
    )
    return [{"role": "user", "content": user}]


def parse_citations(answer: str, n_sources: int) -> list[int]:
    """Source numbers cited in ``answer``, in order of first appearance, limited to 1..n."""
    seen: list[int] = []
    for m in _CITE.finditer(answer):
        for part in re.split(r"[,;]", m.group(1)):
            n = int(part.strip())
            if 1 <= n <= n_sources and n not in seen:
                seen.append(n)
    return seen


def strip_invalid_markers(answer: str, n_sources: int) -> str:
    """Remove markers that point at no source (the model invented them)."""

    def fix(m: re.Match[str]) -> str:
        nums = [p.strip() for p in re.split(r"[,;]", m.group(1))]
        keep = [p for p in nums if p.isdigit() and 1 <= int(p) <= n_sources]
        return f"[{', '.join(keep)}]" if keep else ""

    return _CITE.sub(fix, answer)


def _content_words(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS and len(w) > 2}


def support(answer: str, passage: str) -> float:
    """How well the passage backs the answer (0–1).

    The best sentence counts: the share of its content words found in the passage. A long answer
    whose first sentence is taken from the passage and the rest is padding still counts as
    supported; a one-line answer from the model's general knowledge does not.
    """
    words = _content_words(passage)
    best = 0.0
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", _CITE.sub(" ", answer)):
        a = _content_words(sentence)
        if len(a) >= 2:
            best = max(best, len(a & words) / len(a))
    return best


def is_not_found(answer: str) -> bool:
    """Whether the model said the sources do not answer the question."""
    low = answer.lower()
    return NOT_FOUND_MARK.lower() in low or "not in your files" in low or not answer.strip()


class Asker:
    """Answers questions from the index with a local LLM."""

    def __init__(self, searcher: Searcher, llm: ChatModel, config: AskConfig | None = None) -> None:
        self.searcher = searcher
        self.llm = llm
        self.config = config or AskConfig()

    def retrieve(self, question: str, filters: SearchFilters | None = None) -> list[Hit]:
        """Passages worth quoting: relevant, within the token budget."""
        result = self.searcher.search(question, limit=self.config.passages * 2, filters=filters)
        min_sim = self.searcher.config.min_similarity
        terms = _content_words(question)
        relevant = [
            h
            for h in result.hits
            if (h.similarity is not None and h.similarity >= min_sim)
            or (
                h.keyword_rank is not None
                and terms
                and len(terms & _content_words(h.text)) / len(terms) >= KEYWORD_COVERAGE
            )
        ]
        chosen: list[Hit] = []
        used = 0
        for h in relevant:
            cost = self.llm.count_tokens(h.text) + 24
            if used + cost > self.config.context_tokens:
                continue
            chosen.append(h)
            used += cost
            if len(chosen) >= self.config.passages:
                break
        return chosen

    def ask(
        self,
        question: str,
        *,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Answer ``question``, streaming pieces to ``on_token``."""
        hits = self.retrieve(question, filters)
        if not hits:
            return Answer(NOT_FOUND_TEXT, found=False)
        messages = build_prompt(question, hits)
        pieces: list[str] = []
        stop = should_stop or (lambda: False)
        for piece in self.llm.stream_chat(
            messages,
            max_tokens=self.config.max_answer_tokens,
            temperature=0.1,
            should_stop=stop,
            stop=["\nSources:", "\nQuestion:"],
        ):
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)
        raw = "".join(pieces).strip()
        return self.finish(question, raw, hits, stopped=stop())

    def finish(self, question: str, raw: str, hits: list[Hit], *, stopped: bool = False) -> Answer:
        """Turn the model's raw text into an :class:`Answer` with mapped citations."""
        if is_not_found(raw) and not stopped:
            return Answer(
                NOT_FOUND_TEXT,
                found=False,
                citations=self._citations(hits, raw, []),
                stopped=stopped,
            )
        text = strip_invalid_markers(raw, len(hits))
        cited = parse_citations(text, len(hits))
        citations = self._citations(hits, text, cited)
        if not cited and not stopped and max(c.support for c in citations) < MIN_SUPPORT:
            # No marker and hardly a word of the answer is in the sources: the model answered
            # from its own knowledge, which is not what Findling promises.
            log.info("Answer not grounded in the retrieved passages; reporting not found")
            return Answer(NOT_FOUND_TEXT, found=False, citations=citations)
        return Answer(text, found=True, citations=citations, stopped=stopped)

    def _citations(self, hits: list[Hit], answer: str, cited: list[int]) -> list[Citation]:
        out = []
        for n, h in enumerate(hits, start=1):
            out.append(
                Citation(
                    n=n,
                    path=h.path,
                    page=h.page,
                    snippet=make_snippet(h.text, answer).text,
                    chunk_id=h.chunk_id,
                    section=h.section,
                    cited=n in cited,
                    support=support(answer, h.text),
                )
            )
        order = {n: i for i, n in enumerate(cited)}
        out.sort(key=lambda c: (0, order[c.n]) if c.cited else (1, -c.support))
        return out
