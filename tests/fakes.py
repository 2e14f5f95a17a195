"""Shared fakes for unit tests that isolate logic (``Asker``, retrieval, prompt handling).

Each feature is also tested through the real stack (tests/integration, tests/reliability); these
stand-ins only remove the model or the index so a unit test can say exactly what it was given.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.ask import AskConfig
from indexer.query import SearchFilters
from indexer.search import Hit, SearchConfig, SearchResult


class FakeSearcher:
    """Returns the given hits for any query and records the queries it was asked."""

    def __init__(
        self,
        hits: list[Hit] | None = None,
        *,
        similarity: float | None = 0.9,
        config: SearchConfig | None = None,
    ) -> None:
        self.hits = hits or []
        self.similarity = similarity
        self.config = config or SearchConfig()
        self.queries: list[str] = []

    def search(
        self,
        query: str,
        limit: int = 10,
        filters: SearchFilters | None = None,
        config: SearchConfig | None = None,
    ) -> SearchResult:
        self.queries.append(query)
        for h in self.hits:
            h.similarity = self.similarity
        return SearchResult(self.hits[:limit], 1.0)

    def page_openings(self, pages: object) -> dict[object, str]:
        """Only its hits: the first one of each page, as the index would hold it."""
        out: dict[object, str] = {}
        for h in sorted(self.hits, key=lambda h: h.start):
            out.setdefault((h.doc, h.page), h.text)
        return out

    def mentioning(
        self, term: str, among: object = None, filters: SearchFilters | None = None
    ) -> set[str] | None:
        """No full-text index behind it: which files mention a name cannot be told."""
        return None


class ScriptedLlm:
    """A model that streams the given pieces, whatever it is asked, and records each prompt."""

    def __init__(self, pieces: Sequence[str]) -> None:
        self.pieces = list(pieces)
        self.prompts: list[list[dict[str, str]]] = []

    @property
    def messages(self) -> list[dict[str, str]]:
        """The last prompt (empty when the model was never called)."""
        return self.prompts[-1] if self.prompts else []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        should_stop: Callable[[], bool] | None = None,
        **_: Any,
    ) -> Iterator[str]:
        self.prompts.append(messages)
        for piece in self.pieces:
            if should_stop is not None and should_stop():
                return
            yield piece


class FakeEmbedder:
    """Deterministic bag-of-words vectors: texts sharing words are close, others are not."""

    model_id = "fake-embedder"
    max_tokens = 256

    def __init__(self, dims: int = 64) -> None:
        self.dims = dims

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vector(self, text: str) -> npt.NDArray[np.float32]:
        v = np.zeros(self.dims, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
            v[int.from_bytes(digest, "little") % self.dims] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, query: str) -> npt.NDArray[np.float32]:
        return self._vector(query)


# An ``AskConfig`` whose quoted-sentence bar every sentence clears, for unit tests of what the
# model's reply becomes: the fake embedder's scores say nothing about relevance, and the bar
# itself is tested with the real embedder in tests/unit/test_quote.py.
MODEL_ONLY = AskConfig(extract_bar=float("-inf"))
