"""The LanceDB chunk table: schema, writes keyed by content hash, and the two raw searches."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from indexer import ann
from indexer.ann import AnnConfig
from indexer.errors import IndexCorruptError, IndexLockedError
from indexer.layout import IndexLayout
from indexer.lock import WriterLock

log = logging.getLogger(__name__)

TABLE = "chunks"
FTS_COLUMN = "search_text"
# Bump the suffix when the full-text settings change: writers rebuild an index of another name.
FTS_INDEX_NAME = "search_text_fts_icu1"


def schema(dims: int) -> pa.Schema:
    """The chunk table's Arrow schema for ``dims``-wide vectors."""
    return pa.schema(
        [
            pa.field("chunk_id", pa.string(), nullable=False),
            pa.field("doc", pa.string(), nullable=False),
            pa.field("ordinal", pa.int32(), nullable=False),
            pa.field("page", pa.int32()),
            pa.field("heading", pa.string()),
            pa.field("text", pa.string(), nullable=False),
            pa.field(FTS_COLUMN, pa.string(), nullable=False),
            pa.field("start", pa.int32()),
            pa.field("end", pa.int32()),
            pa.field("th", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dims)),
        ]
    )


def _null_ok(rows: list[dict[str, Any]]) -> str:
    """LanceDB's check for a batch: rows of the keyword tier have no vector yet (None), which
    its default check takes for a malformed one."""
    return "null" if any(r.get("vector") is None for r in rows) else "error"


@dataclass(frozen=True)
class RawHit:
    """A chunk returned by one of the raw searches, with that search's score."""

    row: dict[str, Any]
    score: float


# Punctuation the full-text parser must not see, except a '.' or ',' between two word
# characters: the ICU tokenizer keeps "2.5", "4,095", "0.77s" and "ja_JP.sjis" as one token
# each, so the query must too ("2 5" matches nothing, "4 095" the wrong number).
_FTS_SAFE = re.compile(r"[^\w\s\"'.,-]|(?<!\w)[.,]|[.,](?!\w)", re.UNICODE)
_COLUMNS = ["chunk_id", "doc", "ordinal", "page", "heading", "text", "start", "end"]


def fts_query(text: str) -> str:
    """Make user input safe for the full-text parser: keep words and balanced quotes."""
    cleaned = _FTS_SAFE.sub(" ", text)
    if cleaned.count('"') % 2:
        cleaned = cleaned.replace('"', " ")
    # A leading '-' or bare operators confuse the parser; words are what matter.
    words = [w.strip("-'") for w in cleaned.split()]
    return " ".join(w for w in words if w and w.upper() not in ("AND", "OR", "NOT"))


def sql_str(value: str) -> str:
    """Quote a string literal for a LanceDB filter."""
    return "'" + value.replace("'", "''") + "'"


# Longer ``doc IN (...)`` filters cost more to parse than they save (about 35 µs a name).
MAX_IN_FILTER = 5000
_WIDEN = 4  # how much more each round fetches when a long list is checked after the search
MAX_FETCH = 20_000  # at most this many rows are fetched to fill a long list's results
# A filter that leaves at least this share of the rows is checked on the hits too: a LanceDB
# prefilter over half of 100,000 passages cost 60 ms a search, fetching twice the results
# needed and dropping the others a few (the same scores; only ties may come in another order).
POSTFILTER_SHARE = 0.2


def _restricted(
    run: Callable[[Any, int], list[RawHit]],
    limit: int,
    docs: Collection[str] | None,
    share: float | None = None,
) -> list[RawHit]:
    """``run(where, n)`` restricted to the chunks of ``docs`` (None: all chunks).

    A short list that leaves few rows (``share``: the part of the table's rows it leaves, when
    known) becomes a filter applied before ranking (an expression, which spares LanceDB
    parsing a long SQL list); a long one, or one that leaves much of the table, is checked on
    the hits, fetching more until ``limit`` pass or nothing more is there.
    """
    if docs is None:
        return run(None, limit)
    if not docs:
        return []
    wide = share is not None and share >= POSTFILTER_SHARE
    if len(docs) <= MAX_IN_FILTER and not wide:
        from lancedb.expr import col

        return run(col("doc").isin(sorted(docs)), limit)
    allowed = docs if isinstance(docs, (set, frozenset)) else set(docs)
    # Expect ``share`` of the hits to pass: fetch twice what that needs, more if too few do.
    n = max(limit, int(limit * 2 / share) // _WIDEN) if wide and share else limit
    while True:
        n = min(n * _WIDEN, MAX_FETCH)
        hits = run(None, n)
        kept = [h for h in hits if h.row["doc"] in allowed]
        if len(kept) >= limit or len(hits) < n or n >= MAX_FETCH:
            return kept[:limit]


class ChunkStore:
    """The chunk table. Writers and readers each open their own instance.

    Args:
        where: The generation whose table this is, or an index folder (its first generation).
        dims: The width of the vectors.
        readonly: A reader's instance (sees each new version as it is committed).
        ann: Approximate vector index settings.
    """

    def __init__(
        self,
        where: IndexLayout | Path,
        dims: int,
        *,
        readonly: bool = False,
        ann: AnnConfig | None = None,
    ) -> None:
        import lancedb

        self.dims = dims
        self.readonly = readonly
        self.ann = ann or AnnConfig()
        self._layout = where if isinstance(where, IndexLayout) else IndexLayout(where)
        self._path = self._layout.lance
        try:
            self._db = lancedb.connect(
                str(self._path), read_consistency_interval=timedelta(0) if readonly else None
            )
            names = self._db.list_tables().tables
        except Exception as exc:  # lancedb raises many types for damaged folders
            raise IndexCorruptError(f"The index at {self._path} cannot be opened: {exc}") from exc
        self._table: Any = None
        if TABLE in names:
            try:
                self._table = self._db.open_table(TABLE)
                width = self._table.schema.field("vector").type.list_size
            except Exception as exc:
                raise IndexCorruptError(f"The chunk table cannot be opened: {exc}") from exc
            if width != dims:
                raise IndexCorruptError(
                    f"The index holds {width}-d vectors but the model makes {dims}-d vectors"
                )
        elif not readonly:
            self._table = self._db.create_table(TABLE, schema=schema(dims))

    @property
    def empty(self) -> bool:
        """Whether there is no chunk table or it has no rows."""
        return self._table is None or self.count() == 0

    def count(self) -> int:
        """Number of chunks."""
        return 0 if self._table is None else int(self._table.count_rows())

    def version(self) -> int:
        """The table's current version number."""
        return 0 if self._table is None else int(self._table.version)

    def drop(self) -> None:
        """Delete every chunk (used when the embedding model changes)."""
        if TABLE in self._db.list_tables().tables:
            self._db.drop_table(TABLE)
        self._table = self._db.create_table(TABLE, schema=schema(self.dims))

    # -- writing ------------------------------------------------------------------------------
    def replace_docs(self, docs: Sequence[str], rows: list[dict[str, Any]]) -> None:
        """Make the chunks of ``docs`` exactly ``rows``, in one atomic commit."""
        if not docs:
            return
        data = pa.Table.from_pylist(rows, schema=schema(self.dims))
        cond = f"doc IN ({','.join(sql_str(d) for d in docs)})"
        (
            self._table.merge_insert("chunk_id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(cond)
            .execute(data, on_bad_vectors=_null_ok(rows))
        )
        self.ensure_fts()

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """Insert or update chunks by id, in one commit (parts of a document being written)."""
        if not rows:
            return
        data = pa.Table.from_pylist(rows, schema=schema(self.dims))
        (
            self._table.merge_insert("chunk_id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute(data, on_bad_vectors=_null_ok(rows))
        )

    def set_vectors(self, vectors: dict[str, npt.NDArray[np.float32]]) -> None:
        """Fill in the vectors of existing chunks by id, in one commit (the semantic tier).

        Only the ``vector`` column is written; text, pages and the full-text index are untouched.
        """
        if not vectors:
            return
        part = pa.schema([schema(self.dims).field("chunk_id"), schema(self.dims).field("vector")])
        data = pa.Table.from_pylist(
            [{"chunk_id": k, "vector": v} for k, v in vectors.items()], schema=part
        )
        self._table.merge_insert("chunk_id").when_matched_update_all().execute(data)

    def unembedded(self, docs: Sequence[str]) -> list[dict[str, Any]]:
        """Chunks of ``docs`` that have no vector yet: ``chunk_id``, ``doc``, ``th``, text."""
        if self._table is None or not docs:
            return []
        out: list[dict[str, Any]] = []
        for i in range(0, len(docs), 500):
            part = docs[i : i + 500]
            res = (
                self._table.search()
                .where(f"doc IN ({','.join(sql_str(d) for d in part)}) AND vector IS NULL")
                .select(["chunk_id", "doc", "ordinal", "th", FTS_COLUMN])
                .limit(10_000_000)
                .to_arrow()
                .to_pylist()
            )
            out.extend(res)
        order = {d: i for i, d in enumerate(docs)}
        out.sort(key=lambda r: (order[r["doc"]], r["ordinal"]))
        return out

    def delete_docs(self, docs: Iterable[str]) -> int:
        """Remove all chunks of ``docs``. Returns how many documents were named."""
        docs = list(docs)
        for i in range(0, len(docs), 500):
            part = docs[i : i + 500]
            self._table.delete(f"doc IN ({','.join(sql_str(d) for d in part)})")
        return len(docs)

    def doc_chunk_counts(self) -> dict[str, int]:
        """Chunks per document, read from the table itself (for consistency checks)."""
        if self._table is None:
            return {}
        n = self.count()
        if n == 0:
            return {}
        # A projected scan: reading the whole table (texts and vectors) would need gigabytes for
        # a large index.
        col = self._table.search().select(["doc"]).limit(n).to_arrow().column("doc")
        return {str(v["values"]): int(v["counts"]) for v in pc.value_counts(col).to_pylist()}

    def vectors_for_text_hashes(self, hashes: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        """Existing vectors for chunk texts already embedded (the embedding cache)."""
        hs = list(set(hashes))
        out: dict[str, npt.NDArray[np.float32]] = {}
        if self._table is None or not hs or self.count() == 0:
            return out
        for i in range(0, len(hs), 500):
            part = hs[i : i + 500]
            res = (
                self._table.search()
                .where(f"th IN ({','.join(sql_str(h) for h in part)}) AND vector IS NOT NULL")
                .select(["th", "vector"])
                .limit(len(part) * 4)
                .to_arrow()
            )
            for th, vec in zip(
                res.column("th").to_pylist(), res.column("vector").to_pylist(), strict=True
            ):
                out[th] = np.asarray(vec, dtype=np.float32)
        return out

    def ensure_fts(self) -> bool:
        """Create the full-text index, or rebuild one made with other tokenizer settings.

        The index's name carries its settings' version (:data:`FTS_INDEX_NAME`), so an index
        built by an older Findling is found and replaced once, without re-embedding anything.
        Returns whether an index was (re)built.
        """
        if self._table is None or self.readonly:
            return False
        fts = [ix for ix in self._table.list_indices() if ix.index_type == "FTS"]
        if any(ix.name == FTS_INDEX_NAME for ix in fts):
            damage = self.fts_damage()
            if damage is None:
                return False
            log.warning("The full-text index is damaged (%s); rebuilding it", damage)
        from lancedb.index import FTS

        for ix in fts:
            if ix.name != FTS_INDEX_NAME:
                log.info("Rebuilding the full-text index %s with new tokenizer settings", ix.name)
            self._table.drop_index(ix.name)
        self._table.create_index(
            FTS_COLUMN,
            config=FTS(
                with_position=True,
                # ICU word segmentation: identical to the simple tokenizer on English
                # (benchmarks/results/scifact.md) and it also splits Chinese, Japanese and Thai,
                # which have no spaces between words.
                base_tokenizer="icu",
                stem=True,
                remove_stop_words=True,
                ascii_folding=True,
                language="English",
            ),
            name=FTS_INDEX_NAME,
            replace=True,
        )
        return True

    def optimize(
        self,
        keep_versions_for: timedelta = timedelta(minutes=5),
        vectors: int | None = None,
        *,
        build_index: bool = True,
    ) -> None:
        """Compact small files, bring indexes up to date (rows added since an index was trained
        are folded into it), delete versions older than given; then, with ``build_index``,
        build, retrain or drop the approximate vector index as the size asks
        (:func:`indexer.ann.ensure`; ``vectors``: rows with a vector, if known). The indexer
        leaves that last step to :class:`indexer.ann_build.AnnBuilder`."""
        if self._table is None:
            return
        self._table.optimize(cleanup_older_than=keep_versions_for)
        if build_index:
            self.ensure_vector_index(vectors)

    def ensure_vector_index(self, vectors: int | None = None) -> str | None:
        """Build, retrain or drop the approximate vector index (see :mod:`indexer.ann`)."""
        if self._table is None or self.readonly:
            return None
        return ann.ensure(self._table, self.ann, vectors)

    # -- reading ------------------------------------------------------------------------------
    def vector_search(
        self,
        vector: npt.NDArray[np.float32],
        limit: int,
        docs: Collection[str] | None = None,
        *,
        exact: bool = False,
        rows: int | None = None,
    ) -> list[RawHit]:
        """Nearest chunks by cosine similarity (score = cosine, higher is better), of ``docs``
        only when given.

        Exact below the approximate index's size threshold, approximate above it (with the
        filter still applied before ranking; exact when the filter leaves few rows: ``rows``
        is how many chunks ``docs`` hold, counted in the table when not given); rows without
        a vector never match. ``exact`` always scans every vector (the baseline the
        approximate index is measured against).
        """
        if self._table is None:
            return []

        def run(where: Any, n: int) -> list[RawHit]:
            q = self._table.search(vector, vector_column_name="vector").distance_type("cosine")
            if exact:
                q = q.bypass_vector_index()
            else:
                known = rows if where is not None else None
                q = ann.tune(q, self._table, self.ann, where, n, known)
            if where is not None:
                q = q.where(where, prefilter=True)
            res = q.select([*_COLUMNS, "_distance"]).limit(n).to_arrow().to_pylist()
            return [RawHit(r, 1.0 - float(r.pop("_distance"))) for r in res]

        return _restricted(run, limit, docs, self._share(rows))

    def _share(self, rows: int | None) -> float | None:
        """The part of the table's rows that ``rows`` is (None: not known)."""
        if rows is None:
            return None
        return rows / max(1, self.count())

    def text_search(
        self,
        query: str,
        limit: int,
        docs: Collection[str] | None = None,
        *,
        rows: int | None = None,
        columns: Sequence[str] = _COLUMNS,
        _repaired: bool = False,
    ) -> list[RawHit]:
        """BM25 full-text search over heading + passage text (score = BM25), of ``docs`` only
        when given (``rows``: how many chunks they hold, when known). ``columns``: what each
        hit's row holds (``doc`` always).

        A damaged full-text index is rebuilt (logged as a warning) and the query run again.
        """
        q_text = fts_query(query)
        if self._table is None or not q_text:
            return []

        def run(where: Any, n: int) -> list[RawHit]:
            q = self._table.search(q_text, query_type="fts", fts_columns=FTS_COLUMN)
            if where is not None:
                q = q.where(where, prefilter=True)
            wanted = list(dict.fromkeys(["doc", *columns, "_score"]))
            res = q.select(wanted).limit(n).to_arrow().to_pylist()
            return [RawHit(r, float(r.pop("_score"))) for r in res]

        try:
            return _restricted(run, limit, docs, self._share(rows))
        except Exception as exc:
            damage = self.fts_damage()
            if damage is None:  # the index answers a plain word: the parser rejected this input
                log.info("Full-text query %r failed (%s); using vector results only", q_text, exc)
                return []
            if _repaired or not self._repair_fts(damage):
                return []
            return self.text_search(query, limit, docs, rows=rows, columns=columns, _repaired=True)

    def fts_damage(self) -> str | None:
        """Why the full-text index cannot answer a plain one-word query, or None if it can.

        A missing index, or index files that are gone or truncated, make every full-text query
        fail; telling that apart from a query the parser rejects keeps a damaged index from
        passing as "no keyword hits".
        """
        if self._table is None or self.count() == 0:
            return None
        try:
            (
                self._table.search("findling", query_type="fts", fts_columns=FTS_COLUMN)
                .select(["chunk_id"])
                .limit(1)
                .to_arrow()
            )
        except Exception as exc:  # lancedb raises IO, value and runtime errors alike
            return str(exc).split(", /")[0]  # drop the Rust source locations
        return None

    def _repair_fts(self, damage: str) -> bool:
        """Rebuild a damaged full-text index; a reader does it under the writer lock.

        Returns whether the index was rebuilt. When another process holds the lock, keyword
        search stays off here until that writer rebuilds it (:meth:`ensure_fts` checks on
        every commit and when an indexer opens).
        """
        if not self.readonly:
            return self.ensure_fts()
        lock = WriterLock(self._layout.root, role="full-text repair")
        try:
            lock.acquire()
        except IndexLockedError as exc:
            log.warning(
                "The full-text index is damaged (%s); keyword search is off until it is rebuilt. "
                "%s and rebuilds it when it next writes",
                damage,
                exc,
            )
            return False
        try:
            rebuilt = ChunkStore(self._layout, self.dims).ensure_fts()
        finally:
            lock.release()
        self._table.checkout_latest()
        return rebuilt and self.fts_damage() is None

    def chunks_of(self, doc: str, limit: int = 100_000) -> list[dict[str, Any]]:
        """All chunks of one document in order (for previews and tests)."""
        return self._in_order(f"doc = {sql_str(doc)}", limit)

    def passages(self, doc: str, page: int | None) -> list[dict[str, Any]]:
        """The chunks of one page of a document in order (``page`` None: a document without
        pages, all of it): what a preview shows without reading the file again."""
        page_cond = "page IS NULL" if page is None else f"page = {int(page)}"
        return self._in_order(f"doc = {sql_str(doc)} AND {page_cond}", 100_000)

    def _in_order(self, where: str, limit: int) -> list[dict[str, Any]]:
        """The chunks matching ``where``, by their order in the document."""
        if self._table is None:
            return []
        res = self._table.search().where(where).select(_COLUMNS).limit(limit).to_arrow()
        return sorted(res.to_pylist(), key=lambda r: r["ordinal"])

    def first_chunk(self, doc: str) -> dict[str, Any] | None:
        """The first chunk of a document (what a file-name match shows)."""
        if self._table is None:
            return None
        res = (
            self._table.search()
            .where(f"doc = {sql_str(doc)} AND ordinal = 0")
            .select(_COLUMNS)
            .limit(1)
            .to_arrow()
            .to_pylist()
        )
        return res[0] if res else None

    def first_chunks(self, docs: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The first chunk of each document, in one query (what file-name matches show)."""
        ds = sorted(set(docs))
        if self._table is None or not ds:
            return {}
        res = (
            self._table.search()
            .where(f"doc IN ({', '.join(sql_str(d) for d in ds)}) AND ordinal = 0")
            .select(_COLUMNS)
            .limit(len(ds) * 2)
            .to_arrow()
            .to_pylist()
        )
        out: dict[str, dict[str, Any]] = {}
        for row in res:
            out.setdefault(row["doc"], row)
        return out

    def page_openings(self, pages: Iterable[tuple[str, int | None]]) -> dict[Any, str]:
        """The text of the first chunk of each ``(doc, page)`` (``page`` None: of the
        document), in one query."""
        keys = sorted(set(pages), key=lambda k: (k[0], -1 if k[1] is None else k[1]))
        if self._table is None or not keys:
            return {}
        conds = [
            f"(doc = {sql_str(d)} AND " + ("ordinal = 0)" if p is None else f"page = {int(p)})")
            for d, p in keys
        ]
        res = (
            self._table.search()
            .where(" OR ".join(conds))
            .select(["doc", "page", "ordinal", "text"])
            .limit(100_000)
            .to_arrow()
            .to_pylist()
        )
        first: dict[Any, tuple[int, str]] = {}
        wanted = set(keys)
        for row in res:
            for key in ((row["doc"], row["page"]), (row["doc"], None)):
                fits = key in wanted and (key[1] is not None or row["ordinal"] == 0)
                if fits and (key not in first or row["ordinal"] < first[key][0]):
                    first[key] = (row["ordinal"], row["text"])
        return {k: text for k, (_, text) in first.items()}

    def size_bytes(self) -> int:
        """Disk space used by the table, including old versions not yet cleaned up."""
        return sum(f.stat().st_size for f in self._path.rglob("*") if f.is_file())
