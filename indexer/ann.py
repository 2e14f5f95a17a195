"""The approximate vector index of the chunk table: when to build it, keep it and query it.

Below :attr:`AnnConfig.min_vectors` vectors, search is exact (LanceDB scans every vector). Above
it an IVF_PQ index with the cosine metric answers instead: a scan of compressed codes (one byte
per 8 dimensions) over the nearest partitions, the best ``refine_candidates`` re-ranked on the
full vectors, which keeps recall@10 against the exact search at or above 0.95
(``benchmarks/bench_scale.py``). Rows added after the
index was trained sit in unindexed fragments that LanceDB still scans exactly, so they are found
at once; the writer's compaction folds them into the index, and :func:`ensure` builds it and
retrains it when the collection has outgrown what the index was trained on — for the indexer
on a thread of its own (:mod:`indexer.ann_build`), so that training never holds up indexing.

Rows of the keyword tier have a NULL vector: LanceDB trains and searches the index over the
non-NULL ones only (``tests/integration/test_ann.py``), and the size test counts only those.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# The number of vectors an index was trained on is part of its name, so that it travels with
# the index itself (no side file that a crash could leave out of step). Bump the version when
# the index settings change: writers then replace an index of another name.
VECTOR_INDEX_PREFIX = "vector_ivfpq1_n"
DOC_INDEX_NAME = "doc_btree"
_TRAINED = re.compile(re.escape(VECTOR_INDEX_PREFIX) + r"(\d+)$")


@dataclass(frozen=True)
class AnnConfig:
    """When the approximate index exists and how queries use it.

    Attributes:
        min_vectors: Vectors in the table before the index is built. LanceDB's exact scan of
            384-d vectors took 12 ms at 10,000 and 161 ms at 100,000 on the two development
            cores (``benchmarks/results/scale-*.json``): about 25 ms at this size, half the
            whole query's budget at a million, while training here takes seconds, far less
            than embedding those passages took (20,000 at 10-20 passages/s is 20-30 minutes).
        nprobes: IVF partitions searched per query (of about one per 8,192 vectors).
        refine_candidates: Candidates taken from the compressed codes (at least twice the
            results wanted) and re-ranked on the full vectors: at 100,000 passages 100 gave
            recall@10 0.90, 200 gave 0.98.
        refine_share: At least this share of the indexed vectors is taken as candidates: at
            1,000,000 passages 200 candidates gave recall@10 0.85 whatever the nprobes (20 to
            160), 500 gave 0.947 and 750 gave 0.98 over 30 queries
            (``benchmarks/results/scale-1000000.json``).
        dims_per_sub_vector: Vector dimensions per one-byte PQ code (LanceDB's default is 16:
            recall@10 0.84 at 100 candidates where 8 gave 0.96; 4 gave 0.99 at twice the
            size and training time).
        retrain_growth: Retrain when the table holds this many times the vectors the index
            was trained on (partitions and codebooks drift as the collection grows).
        exact_filtered_rows: A filtered query whose filter leaves at most this many rows is
            answered exactly (the ``doc`` index makes that a scan of those rows only); a
            filter that removes most rows is where the compressed codes rank worst (50,000 of
            1,000,000: recall@10 0.81 at 200 candidates, 0.98 at 1,000 in about the time of
            the exact scan).
    """

    min_vectors: int = 20_000
    nprobes: int = 20
    refine_candidates: int = 200
    refine_share: float = 0.00075
    retrain_growth: float = 2.0
    exact_filtered_rows: int = 60_000
    dims_per_sub_vector: int = 8


def vector_index_names(table: Any) -> list[str]:
    """Names of the approximate indexes on ``vector`` (normally none or one)."""
    return [ix.name for ix in table.list_indices() if ix.name.startswith("vector_")]


def trained_on(name: str) -> int:
    """How many vectors the index called ``name`` was trained on (0 for a foreign name)."""
    m = _TRAINED.match(name)
    return int(m.group(1)) if m else 0


def ensure(table: Any, config: AnnConfig, vectors: int | None = None) -> str | None:
    """Build, retrain or drop the approximate index as the table's size asks.

    Called by the writer after ``optimize`` has folded new rows into existing indexes.
    ``vectors`` is how many rows have a vector when the caller knows (the state database
    does); counting them in the table scans the column (2-3 s at 100,000 rows with NULLs), so
    it is skipped when the row count alone settles it. Returns what was done (``"built"``,
    ``"retrained"``, ``"dropped"``) or None.
    """
    from lancedb.index import BTree

    if vectors is None:
        rows = int(table.count_rows())
        has = bool(vector_index_names(table))
        if rows < config.min_vectors and not (has and rows < config.min_vectors // 2):
            return None
        vectors = int(table.count_rows("vector IS NOT NULL"))
    names = vector_index_names(table)
    current = next((n for n in names if _TRAINED.match(n)), None)
    if current is not None and vectors < config.min_vectors // 2:
        # The collection shrank: exact search is cheap again and the codebooks describe
        # passages that are mostly gone.
        for n in names:
            table.drop_index(n)
        log.info("Dropped the approximate vector index (%d vectors left)", vectors)
        return "dropped"
    if vectors < config.min_vectors:
        return None
    if DOC_INDEX_NAME not in {ix.name for ix in table.list_indices()}:
        # Filters are `doc IN (...)`: with this index a filtered query reads only its rows.
        table.create_index("doc", config=BTree(), name=DOC_INDEX_NAME, replace=True)
    if current is not None:
        stats = table.index_stats(current)
        stale = stats is not None and stats.num_unindexed_rows > stats.num_indexed_rows // 2
        if vectors < config.retrain_growth * trained_on(current) and not stale:
            return None
    _train(table, vectors, config)
    for n in names:  # the new index answers from here on; the old one goes
        table.drop_index(n)
    done = "retrained" if current is not None else "built"
    log.info("Approximate vector index %s over %d vectors", done, vectors)
    return done


def _train(table: Any, vectors: int, config: AnnConfig) -> None:
    from lancedb.index import IvfPq

    kw: dict[str, Any] = {}
    dims = int(table.schema.field("vector").type.list_size)
    if config.dims_per_sub_vector > 0 and dims % config.dims_per_sub_vector == 0:
        kw["num_sub_vectors"] = dims // config.dims_per_sub_vector
    table.create_index(
        "vector",
        config=IvfPq(distance_type="cosine", **kw),
        name=f"{VECTOR_INDEX_PREFIX}{vectors}",
        replace=True,
    )


def tune(
    query: Any,
    table: Any,
    config: AnnConfig,
    where: Any,
    limit: int,
    rows: int | None = None,
) -> Any:
    """Set a vector query's search parameters for the index the table has now (if any).

    ``where`` is the query's filter (SQL or a LanceDB expression); ``rows`` is how many rows
    it leaves, when the caller knows: the state database counts a filter's chunks in about a
    millisecond where LanceDB's ``count_rows`` of a 1,250-document filter took 30 ms at
    100,000 passages.
    """
    names = vector_index_names(table)
    if not names:
        return query  # exact already
    if where is not None:
        if rows is None:  # a SQL string, or a LanceDB expression
            rows = int(table.count_rows(where if isinstance(where, str) else where.to_sql()))
        if rows <= config.exact_filtered_rows:
            return query.bypass_vector_index()
    trained = max((trained_on(n) for n in names), default=0)
    candidates = max(config.refine_candidates, int(config.refine_share * trained))
    refine = max(2, -(-candidates // max(1, limit)))
    return query.nprobes(config.nprobes).refine_factor(refine)
