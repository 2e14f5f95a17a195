"""Hybrid retrieval: BM25 full-text + vector search + file names, rolled up to pages and fused.

Readers never block the writer and never take its lock: LanceDB serves a consistent version and
the state record is SQLite in WAL mode. A reader reads the generation that answers searches
(:mod:`indexer.generations`) with the model that built it, and reopens when it is replaced.
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.ann import AnnConfig
from indexer.extract.code import passage_line
from indexer.extract.mail import message_number
from indexer.extract.ocr import passage_is_ocr
from indexer.generations import active_layout, pointer_stamp
from indexer.query import Query, SearchFilters
from indexer.snippet import STOP_WORDS, is_listing, make_snippet
from indexer.state import FileRow, StateDB
from indexer.states import FileState
from indexer.store import ChunkStore, RawHit
from models.embedder import Embedder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchConfig:
    """Retrieval and fusion settings.

    Attributes:
        mode: ``"hybrid"``, ``"keyword"`` or ``"vector"``.
        depth: Candidates taken from each retriever before fusion.
        rrf_k: Reciprocal-rank-fusion constant.
        keyword_weight: Weight of the BM25 list in the fusion.
        vector_weight: Weight of the vector list.
        name_weight: Weight of the file-name list.
        per_doc: At most this many passages of one document in the results.
        min_similarity: Vector hits below this cosine count as unrelated when deciding
            whether anything relevant was found (used by ``ask``).
        group: ``"chunk"`` ranks every passage on its own; ``"page"`` rolls passages up to
            their page (a whole document for unpaged formats) *before* fusion: each retriever
            contributes the best rank of any passage on that page, and the page is shown by
            its best passage. Otherwise a keyword match in one passage and a semantic match
            in its neighbour never reinforce each other.
        fusion: ``"rrf"`` (reciprocal rank fusion with ``rrf_k``) or ``"score"``: each list's
            scores min-max normalised to [0, 1] over its candidates, then summed with the
            weights (a convex combination when the weights add up to 1).
        listing_weight: Factor on the fused score of a passage from a table of contents or a
            back-of-book index: it names every topic of a book, so it matches many queries
            while the page it points to is the one that answers them.
        page_support: With ``group="page"``, a page also gets this share of what its other
            passages in the same list would contribute (its best passage counts in full): the
            page as a retrieval unit beside its best passage. 0 ranks by the best passage only.
    """

    mode: str = "hybrid"
    depth: int = 50
    rrf_k: int = 60
    keyword_weight: float = 0.5
    vector_weight: float = 0.5
    name_weight: float = 0.5
    per_doc: int = 3
    min_similarity: float = 0.30
    # Page roll-up with score fusion beat chunk-level RRF on SciFact (train 0.730 vs 0.711
    # nDCG@10, test in benchmarks/results/scifact.md) at the same latency.
    group: str = "page"
    fusion: str = "score"
    listing_weight: float = 0.5
    page_support: float = 0.0


@dataclass
class Hit:
    """One ranked passage, resolved to a file."""

    path: str
    page: int | None
    section: str | None
    score: float
    snippet: str
    chunk_id: str
    doc: str
    text: str
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...] = ()
    other_paths: list[str] = field(default_factory=list)
    offline: bool = False
    keyword_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None
    ocr: bool = False  # read by OCR (issue 13): a scanned page or an image file
    line: int | None = None  # source code: the line its part starts at (opens there)
    message: int | None = None  # a mailbox's message (1-based); its passages have no page

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of a hit (CLI ``--json``)."""
        return {
            "path": self.path,
            "page": self.page,
            "section": self.section,
            "score": round(self.score, 6),
            "snippet": self.snippet,
            "chunk_id": self.chunk_id,
            "highlights": [list(h) for h in self.highlights],
            "other_paths": self.other_paths,
            "offline": self.offline,
            "ocr": self.ocr,
            "line": self.line,
            "message": self.message,
        }


@dataclass(frozen=True)
class Passage:
    """One stored passage, as :meth:`Searcher.passages` returns it.

    Attributes:
        text: The passage as it appears in the document.
        heading: The section it sits under, or None.
        page: Its page (paged formats), else None.
        start: Where ``text`` starts in its page's (or section's) text.
        end: Where it ends (exclusive).
        chunk_id: Its id (a :class:`Hit` names the same one).
    """

    text: str
    heading: str | None
    page: int | None
    start: int
    end: int
    chunk_id: str


@dataclass
class SearchResult:
    """Hits plus what happened (for the UI and the evaluation harness)."""

    hits: list[Hit]
    took_ms: float
    keyword_hits: int = 0
    vector_hits: int = 0
    # Milliseconds per stage (``embed``, ``vector``, ``keyword``, ...; see Searcher.search):
    # the keyword and name searches overlap the others, ``*_wait`` is what was left to wait.
    stages: dict[str, float] = field(default_factory=dict)


# Query vectors kept for repeats: search-as-you-type sends the same text again (a key that
# changed nothing, a filter toggled, backspace), and embedding is the largest single stage.
QUERY_CACHE = 64
# Passages fetched to tell which files mention a term (Searcher.mentioning): a name or number
# a question asks about is rare, so this many usually holds every file that mentions it.
MENTION_FETCH = 400
# Passages whose text ``keyword_passages`` reads to confirm a match (about 10 MB of text).
VERIFY_PASSAGES = 20_000
# A model, error or part code: capitals then two or more digits ("F28", "E10", "CX24", "A320").
CODE = re.compile(r"(?<![\w-])([A-Z]{1,3})-?(\d{2,})(?![\w-])")

# Returns the embedding model with this id (None: it is not installed), for the queries of a
# generation that another model built.
EmbedderFor = Callable[[str], "Embedder | None"]


class Searcher:
    """Read-only access to an index for search. Safe to use from one thread at a time.

    Queries are embedded by the model that built the generation being read: ``embedder`` when
    it did, else the one ``embedder_for`` returns (while a new generation is being built with
    ``embedder``, the old one keeps answering with its own model). Where that model is not at
    hand, the search is keyword-only rather than comparing vectors of two models.
    """

    def __init__(
        self,
        index_dir: Path,
        embedder: Embedder,
        config: SearchConfig | None = None,
        ann: AnnConfig | None = None,
        *,
        embedder_for: EmbedderFor | None = None,
    ) -> None:
        self.index_dir = index_dir
        self._default = embedder
        self._embedder = embedder  # the model of the generation open now
        self._vectors = True  # whether that model is at hand (vector search on)
        self.embedder_for = embedder_for
        self.config = config or SearchConfig()
        self.ann = ann
        self._keyword_pool: ThreadPoolExecutor | None = None
        self._query_vectors: OrderedDict[tuple[str, str], npt.NDArray[np.float32]] = OrderedDict()
        self.query_cache = QUERY_CACHE  # 0 turns the cache off (benchmarks of cold queries)
        self._filter_cache: tuple[Any, set[str], int] | None = None
        self._store: ChunkStore | None = None
        self._state: StateDB | None = None
        self._stamp: tuple[int, int, int] | None = None
        self.generation: str | None = None  # the generation open now (None: none open)

    @property
    def embedder(self) -> Embedder:
        """The embedding model of the generation being read (the given one before any read)."""
        return self._embedder

    def _open(self) -> bool:
        stamp = pointer_stamp(self.index_dir)
        if self._store is not None and stamp != self._stamp:
            log.info("The index switched to a new generation; reopening it")
            self._release()
        if self._store is None:
            layout = active_layout(self.index_dir)
            if not layout.exists():
                return False
            state = StateDB(layout.state, readonly=True)
            try:
                model, dims = state.get_meta("embed_model"), state.get_meta("dims")
                self._embedder, self._vectors = self._query_model(model)
                width = self._embedder.dims if self._vectors or not dims else int(dims)
                self._store = ChunkStore(layout, width, readonly=True, ann=self.ann)
            except BaseException:
                state.close()
                raise
            self._state, self._stamp, self.generation = state, stamp, layout.generation
        return True

    def _query_model(self, model_id: str | None) -> tuple[Embedder, bool]:
        """The model that embeds queries for a generation built by ``model_id``, and whether
        it is that generation's own model."""
        if self.embedder_for is not None and model_id is not None:
            try:
                found = self.embedder_for(model_id)
            except Exception as exc:  # a model that fails to load: keyword search still works
                log.warning("Cannot load the embedding model %s: %s", model_id, exc)
                found = None
            if found is not None and found.model_id == model_id:
                return found, True
        if model_id is None or model_id == self._default.model_id:
            return self._default, True
        log.warning(
            "The index was built with the embedding model %s, which is not at hand: "
            "searching by keywords only until the index is rebuilt",
            model_id,
        )
        return self._default, False

    def _moved(self) -> bool:
        """Whether the generation open now is no longer the one that answers."""
        return self._store is not None and pointer_stamp(self.index_dir) != self._stamp

    def _release(self) -> None:
        if self._state is not None:
            self._state.close()
        self._state = None
        self._store = None
        self.generation = None

    def close(self) -> None:
        """Release the databases."""
        self._release()
        if self._keyword_pool is not None:
            self._keyword_pool.shutdown(wait=True)
        self._keyword_pool = None

    def search(
        self,
        query: str | Query,
        limit: int = 10,
        filters: SearchFilters | None = None,
        config: SearchConfig | None = None,
    ) -> SearchResult:
        """Rank passages for ``query``. An empty index or empty query gives no hits.

        A string is taken as typed (no prefixes) with ``filters``; a :class:`Query` brings its
        own filters (its ``in:`` names are looked up under the indexed folders if the caller
        has not resolved them), and ``filters``, when given, replace them.
        """
        try:
            return self._search(query, limit, filters, config)
        except Exception:
            # The writer switched generations between this reader's check and its read, and
            # deleted the old one: read the new one.
            if not self._moved():
                raise
            self._release()
            return self._search(query, limit, filters, config)

    def _search(
        self,
        query: str | Query,
        limit: int,
        filters: SearchFilters | None,
        config: SearchConfig | None,
    ) -> SearchResult:
        t0 = time.perf_counter()
        cfg = config or self.config
        text = (query.text if isinstance(query, Query) else query).strip()
        if not text or not self._open():
            return SearchResult([], 0.0)
        assert self._store is not None and self._state is not None
        if isinstance(query, Query) and filters is None:
            if not query.resolved:
                query = query.resolve(self._state.roots())
            filters = query.filters
        query = text
        if filters is not None and not filters.active:
            filters = None
        allowed: set[str] | None = None
        rows: int | None = None  # the chunks the filter leaves (it picks how each search filters)
        if filters is not None:
            allowed, rows = self._filtered(filters)
            if not allowed:
                return SearchResult([], (time.perf_counter() - t0) * 1000)
        stages: dict[str, float] = {}
        clock = _Clock(stages, t0)
        clock("prepare")  # opening, the filters' documents in the state database
        phrases = [p.strip().lower() for p in re.findall(r'"([^"]+)"', query) if p.strip()]
        depth = max(cfg.depth, limit * 3)
        kw: list[RawHit] = []
        vec: list[RawHit] = []
        pending: Future[list[RawHit]] | None = None
        pending_names: Future[list[RawHit]] | None = None
        if cfg.mode == "hybrid":
            # BM25 and the file names run beside the query embedding and the vector search:
            # all wait in native code (LanceDB, ONNX Runtime, SQLite) with the GIL released,
            # so on two cores they cost little (benchmarks/results/scale-*.json).
            if self._keyword_pool is None:
                self._keyword_pool = ThreadPoolExecutor(2, thread_name_prefix="findling-bm25")
            pending = self._keyword_pool.submit(
                _timed, stages, "keyword", self._store.text_search, query, depth, allowed, rows=rows
            )
            pending_names = self._keyword_pool.submit(
                _timed, stages, "names", self._name_hits, query, filters
            )
        elif cfg.mode == "keyword":
            kw = self._store.text_search(query, depth, allowed, rows=rows)
            clock("keyword")
        if cfg.mode in ("hybrid", "vector") and self._vectors:
            qv = self._query_vector(query.replace('"', ""))
            clock("embed")
            vec = self._store.vector_search(qv, depth, allowed, rows=rows)
            clock("vector")
        if pending is not None:
            kw = pending.result()
            clock("keyword_wait")
        names = pending_names.result() if pending_names is not None else []
        clock("names_wait")
        if phrases:
            kw = [h for h in kw if _has_phrases(h.row, phrases)]
            vec = [h for h in vec if _has_phrases(h.row, phrases)]
        fused = fuse(kw, vec, names, cfg)
        clock("fusion")
        hits = self._resolve(fused, query, limit, cfg, filters)
        clock("resolve")  # the hits' files in the state database, snippets
        return SearchResult(hits, (time.perf_counter() - t0) * 1000, len(kw), len(vec), stages)

    def _scope(self, filters: SearchFilters | None) -> tuple[set[str] | None, int | None]:
        """The documents ``filters`` leave and their chunk count; ``(None, None)``: all."""
        if filters is None or not filters.active:
            return None, None
        return self._filtered(filters)

    def _filtered(self, filters: SearchFilters) -> tuple[set[str], int]:
        """The documents that pass ``filters`` and how many chunks they hold; kept while the
        state database is unchanged, since while typing every keystroke brings the same
        filters (a folder filter over 2,500 files took 21 ms to evaluate on a loaded machine)."""
        assert self._state is not None
        version = self._state.conn.execute("PRAGMA data_version").fetchone()[0]
        key = (filters, version, self.generation)
        if self._filter_cache is not None and self._filter_cache[0] == key:
            return self._filter_cache[1], self._filter_cache[2]
        allowed = self._state.docs_matching(filters)
        rows = self._state.chunk_count(allowed) if allowed else 0
        self._filter_cache = (key, allowed, rows)
        return allowed, rows

    def _query_vector(self, text: str) -> npt.NDArray[np.float32]:
        """The query's embedding, from the cache when the same text was embedded lately."""
        key = (self.embedder.model_id, text)
        cached = self._query_vectors.get(key)
        if cached is not None:
            self._query_vectors.move_to_end(key)
            return cached
        vector = self.embedder.embed_query(text)
        if self.query_cache > 0:
            self._query_vectors[key] = vector
            while len(self._query_vectors) > self.query_cache:
                self._query_vectors.popitem(last=False)
        return vector

    def clear_query_cache(self) -> None:
        """Forget the cached query embeddings."""
        self._query_vectors.clear()

    def passages(self, doc: str, page: int | None) -> list[Passage]:
        """The stored passages of one page of a document (``page`` None: a document without
        pages), in order: what a preview shows, even when the file is gone."""
        if not self._open():
            return []
        assert self._store is not None
        try:
            rows = self._store.passages(doc, page)
        except Exception:
            if not self._moved():
                raise
            self._release()
            if not self._open():
                return []
            assert self._store is not None
            rows = self._store.passages(doc, page)
        return [
            Passage(
                text=r["text"],
                heading=r["heading"],
                page=r["page"],
                start=r["start"] or 0,
                end=r["end"] or 0,
                chunk_id=r["chunk_id"],
            )
            for r in rows
        ]

    def page_openings(self, pages: Iterable[tuple[str, int | None]]) -> dict[Any, str]:
        """The text of the first passage of each ``(doc, page)`` (``page`` None: of the
        document), in one query; a page not in the index is left out."""
        if not self._open():
            return {}
        assert self._store is not None
        return self._store.page_openings(pages)

    def mentioning(
        self,
        term: str,
        among: Collection[str] | None = None,
        filters: SearchFilters | None = None,
    ) -> set[str] | None:
        """The documents whose text or file name holds ``term`` (a word, a number, or every word
        of a name of several words), as the full-text index tells it (stemmed, any case).

        With ``among``, every one of those documents is checked; without it, the first
        :data:`MENTION_FETCH` passages that hold the term are (enough to tell whether any file
        mentions it). ``filters`` limit the documents looked at. ``None``: the index cannot
        tell (no index, or ``term`` is only stop words).
        """
        words = [w for w in re.findall(r"\w+", term.lower()) if w not in STOP_WORDS]
        if not words or not self._open():
            return None
        assert self._store is not None and self._state is not None
        allowed, rows = self._scope(filters)
        # Each word with the other ways it is written (a query's words are ORed, a quoted
        # phrase is one alternative): "2000" is also "2,000", and a code "F28" also "F-28",
        # which the index holds as two words.
        alternatives: list[list[tuple[str, re.Pattern[str] | None]]] = [[(w, None)] for w in words]
        if re.fullmatch(r"\d+(?:[.,]\d+)*", term):
            alternatives = [[(" ".join(number_forms(term)), None)]]
        elif (code := CODE.fullmatch(term)) is not None:
            # "F-28" is two words in the index, and a one-letter word is not indexed: the
            # phrase finds passages with the number, and the text tells which hold the code.
            written = re.compile(rf"\b{code[1]}[- ]?{code[2]}\b", re.I)
            alternatives = [[(code[1] + code[2], None), (f'"{code[1]} {code[2]}"', written)]]
        found: set[str] | None = None
        for forms in alternatives:  # "Fjordfly Dash" in "the Fjordfly Dash 8": each word
            docs: set[str] = set()
            for form, check in forms:
                docs |= self._mention_docs(form, among, allowed, rows, check)
            first = forms[0][0].split(" ")[0]
            docs |= self._state.docs_matching(filters, name_terms=[first])
            found = docs if found is None else found & docs
        assert found is not None
        return found & set(among) if among is not None else found

    def keyword_passages(
        self,
        words: Collection[str],
        filters: SearchFilters | None = None,
        verify: Callable[[str], bool] | None = None,
    ) -> dict[str, list[int | None]] | None:
        """Every passage whose text holds all of ``words``, as the full-text index tells it
        (stemmed, any case) and ``verify`` confirms on its text when given (up to
        :data:`VERIFY_PASSAGES` passages; the index's match stands beyond): file path -> the
        page of each such passage (``None`` where the format has none, or for a message of a
        mailbox). Complete, not the best few: what "which files mention …" and "how many
        documents …" count. ``None``: the index cannot tell (no index, or only stop words).
        """
        terms = [w for w in words if w.lower() not in STOP_WORDS]
        if not terms or not self._open():
            return None
        assert self._store is not None and self._state is not None
        allowed, rows = self._scope(filters)
        if allowed is not None and not allowed:
            return {}
        everything = max(1, self._store.count())
        found: dict[str, tuple[str, int | None]] | None = None
        for word in terms:
            hits = self._store.text_search(
                word,
                everything,
                allowed if found is None else {doc for doc, _ in found.values()},
                rows=rows if found is None else None,
                columns=("chunk_id", "page"),
            )
            these = {h.row["chunk_id"]: (h.row["doc"], h.row["page"]) for h in hits}
            found = these if found is None else {k: v for k, v in found.items() if k in these}
        assert found is not None
        if verify is not None and 0 < len(found) <= VERIFY_PASSAGES:
            # The index's stemmer is coarser than the snippets' ("engine" and "engineers"
            # share a stem there): the passage's own words decide. Their text is read only
            # for a bounded number of passages; beyond that the index's match stands.
            texts = self._store.text_search(
                terms[-1],
                everything,
                {doc for doc, _ in found.values()},
                columns=("chunk_id", "text"),
            )
            keep = {h.row["chunk_id"] for h in texts if verify(h.row["text"])}
            found = {k: v for k, v in found.items() if k in keep}
        files = self._state.paths_for_docs({doc for doc, _ in found.values()}, filters)
        out: dict[str, list[int | None]] = {}
        for doc, page in found.values():
            rows_of = files.get(doc)
            if not rows_of:
                continue  # deleted since the chunk was written
            primary = _primary(rows_of)
            message = message_number(primary.path, page)
            out.setdefault(primary.path, []).append(None if message else page)
        return out

    def _mention_docs(
        self,
        query: str,
        among: Collection[str] | None,
        allowed: set[str] | None,
        rows: int | None,
        check: re.Pattern[str] | None = None,
    ) -> set[str]:
        """The documents whose text matches ``query`` (all of ``among`` checked, when given),
        and ``check`` too when given."""
        assert self._store is not None
        columns = ("text",) if check is not None else ()

        def docs_of(found: list[RawHit]) -> set[str]:
            return {h.row["doc"] for h in found if check is None or check.search(h.row["text"])}

        hits = self._store.text_search(query, MENTION_FETCH, allowed, rows=rows, columns=columns)
        docs = docs_of(hits)
        if among is not None:
            rest = set(among) - docs
            if allowed is not None:
                rest &= allowed
            if rest and len(hits) >= MENTION_FETCH:  # a common word: look in those files
                docs |= docs_of(
                    self._store.text_search(query, MENTION_FETCH, rest, columns=columns)
                )
        return docs

    def _name_hits(self, query: str, filters: SearchFilters | None) -> list[RawHit]:
        """Documents whose file name contains every word of the query."""
        assert self._state is not None and self._store is not None
        words = [
            w
            for w in re.findall(r"[\w.-]+", query.lower().replace('"', ""))
            if len(w) >= 3 and w not in STOP_WORDS
        ]
        if not words or len(words) > 4:
            return []
        docs = self._state.docs_matching(filters, name_terms=words)
        if not docs or len(docs) > 50:
            return []
        rows = self._store.first_chunks(docs)
        return [RawHit(rows[d], 1.0) for d in sorted(docs) if d in rows]

    def _resolve(
        self,
        fused: list[Candidate],
        query: str,
        limit: int,
        cfg: SearchConfig,
        filters: SearchFilters | None = None,
    ) -> list[Hit]:
        assert self._state is not None
        # with filters, only the files that pass them (several files can hold one document)
        files = self._state.paths_for_docs((c.row["doc"] for c in fused[: limit * 4 + 20]), filters)
        hits: list[Hit] = []
        per_doc: dict[tuple[str, int | None], int] = {}
        # The same passage on the same page of two different files (a document saved twice with
        # other metadata, a copy in another format) shows once, with the other file listed.
        same_passage: dict[tuple[str, int | None], Hit] = {}
        for c in fused:
            score, row, kr, vr, sim = c.score, c.row, c.keyword_rank, c.vector_rank, c.similarity
            rows = files.get(row["doc"])
            if not rows:
                continue  # deleted since the chunk was written
            twin = same_passage.get((row["text"], row["page"]))
            if twin is not None:
                twin.other_paths.extend(
                    r.path for r in rows if r.path != twin.path and r.path not in twin.other_paths
                )
                continue
            primary = _primary(rows)
            # Each message of a mailbox counts as a document of its own.
            message = message_number(primary.path, row["page"])
            unit = (row["doc"], message)
            if per_doc.get(unit, 0) >= cfg.per_doc:
                continue
            per_doc[unit] = per_doc.get(unit, 0) + 1
            snip = make_snippet(row["text"], query)
            hit = Hit(
                path=primary.path,
                page=None if message else row["page"],
                section=row["heading"],
                score=score,
                snippet=snip.text,
                chunk_id=row["chunk_id"],
                doc=row["doc"],
                text=row["text"],
                start=row["start"] or 0,
                end=row["end"] or 0,
                highlights=snip.highlights,
                ocr=passage_is_ocr(primary.path, row["page"]),
                line=passage_line(primary.path, row["heading"]),
                message=message,
                other_paths=[r.path for r in rows if r.path != primary.path],
                offline=primary.state == FileState.OFFLINE,
                keyword_rank=kr,
                vector_rank=vr,
                similarity=sim,
            )
            hits.append(hit)
            same_passage[(row["text"], row["page"])] = hit
            if len(hits) >= limit:
                break
        return hits


class _Clock:
    """Records the milliseconds since the previous mark under each stage's name."""

    def __init__(self, stages: dict[str, float], t0: float) -> None:
        self.stages, self.last = stages, t0

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = (now - self.last) * 1000
        self.last = now


def _timed(
    stages: dict[str, float], stage: str, fn: Callable[..., Any], *args: Any, **kw: Any
) -> Any:
    t = time.perf_counter()
    try:
        return fn(*args, **kw)
    finally:
        stages[stage] = (time.perf_counter() - t) * 1000


@dataclass
class Candidate:
    """One passage (or page) in fusion: its fused score, the row shown, and per-retriever ranks."""

    score: float
    row: dict[str, Any]
    keyword_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None
    best_part: float = 0.0  # the largest single contribution; its row is the one shown


def fuse(
    kw: list[RawHit], vec: list[RawHit], names: list[RawHit], cfg: SearchConfig
) -> list[Candidate]:
    """Fuse keyword, vector and file-name hits into candidates, best first."""
    table: dict[Any, Candidate] = {}
    for weight, hits, slot in (
        (cfg.keyword_weight, kw, "keyword"),
        (cfg.vector_weight, vec, "vector"),
        (cfg.name_weight, names, None),
    ):
        support: dict[tuple[str, int | None], float] = {}
        if cfg.group == "page":
            if cfg.page_support and hits:
                support = _page_support(hits, weight, cfg)
            hits = _best_per_page(hits)
        for rank, (h, part) in enumerate(
            zip(hits, _contributions(hits, weight, cfg), strict=True), start=1
        ):
            key = (h.row["doc"], h.row["page"]) if cfg.group == "page" else h.row["chunk_id"]
            c = table.setdefault(key, Candidate(0.0, h.row))
            c.score += part + support.get(key, 0.0)
            if part > c.best_part:  # show the passage that contributed most
                c.row, c.best_part = h.row, part
            if slot == "keyword" and c.keyword_rank is None:
                c.keyword_rank = rank
            if slot == "vector":
                if c.vector_rank is None:
                    c.vector_rank = rank
                c.similarity = h.score
    if cfg.listing_weight != 1.0:
        for c in table.values():
            if is_listing(c.row["text"]):
                c.score *= cfg.listing_weight
    return sorted(table.values(), key=lambda c: -c.score)


def _primary(rows: list[FileRow]) -> FileRow:
    """The file a document is shown as: the first one online (an offline drive's copy only
    when there is no other)."""
    return ([r for r in rows if r.state != FileState.OFFLINE] or rows)[0]


def number_forms(number: str) -> list[str]:
    """The ways a whole number is written: "2000" and "2,000" (and "4,095" and "4095")."""
    if not re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", number):
        return [number]  # a decimal: one way
    plain = number.replace(",", "")
    grouped = f"{int(plain):,}" if len(plain) >= 4 and not plain.startswith("0") else plain
    return list(dict.fromkeys([number, plain, grouped]))


def _best_per_page(hits: list[RawHit]) -> list[RawHit]:
    """The best-ranked passage of each page (each document, when it has no pages)."""
    seen: set[tuple[str, int | None]] = set()
    out = []
    for h in hits:
        key = (h.row["doc"], h.row["page"])
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def _page_support(
    hits: list[RawHit], weight: float, cfg: SearchConfig
) -> dict[tuple[str, int | None], float]:
    """Per page, ``page_support`` times what its passages after the best one contribute."""
    out: dict[tuple[str, int | None], float] = {}
    seen: set[tuple[str, int | None]] = set()
    for h, part in zip(hits, _contributions(hits, weight, cfg), strict=True):
        key = (h.row["doc"], h.row["page"])
        if key in seen:
            out[key] = out.get(key, 0.0) + cfg.page_support * part
        seen.add(key)
    return out


def _contributions(hits: list[RawHit], weight: float, cfg: SearchConfig) -> list[float]:
    """What each hit of one ranked list adds to its fused score."""
    if cfg.fusion == "score" and hits:
        scores = [h.score for h in hits]
        lo, hi = min(scores), max(scores)
        span = hi - lo
        return [weight * ((s - lo) / span if span > 0 else 1.0) for s in scores]
    return [weight / (cfg.rrf_k + rank) for rank in range(1, len(hits) + 1)]


def _has_phrases(row: dict[str, Any], phrases: list[str]) -> bool:
    text = " ".join(str(row.get("heading") or "").split() + str(row["text"]).split()).lower()
    return all(" ".join(p.split()) in text for p in phrases)
