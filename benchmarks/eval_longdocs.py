"""Does the right page come up under the answer, in long real documents with tables?

Hand-labelled questions (``benchmarks/data/longdocs/questions.jsonl``: the document, the
1-based answer page(s), a reference answer and a question type) over eight long Debian manuals
(``documents.json``). The manuals are indexed into a private ``FINDLING_HOME`` through the
product's own path (``Engine`` → ``Indexer.sync``, as ``findling index``) and each question is
asked as ``findling search`` asks it (``query.parse`` → ``Searcher.search(limit=10)``, the
default per-file cap included) over all eight documents at once. A result counts when it is the
labelled document at one of the labelled pages; reported: page hit@1, hit@5 and MRR@10, overall
and per question type, for the default hybrid and for keyword-only and vector-only, with a
paired bootstrap interval of each variant's MRR minus the default's.

The documents come from Debian packages; fetch them once (about 86 MB, all DFSG-free) with

    bash /work/shared/corpus/fetch-debdocs.sh /work/data/debdocs

then

    .venv/bin/python benchmarks/eval_longdocs.py --debdocs /work/data/debdocs

Each document is checked by path and page count before anything is indexed. The built index is
kept under ``benchmarks/.cache`` keyed by the source of the extraction and chunking code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("RUST_LOG", "error")

DATA = ROOT / "benchmarks" / "data" / "longdocs"
CACHE = ROOT / "benchmarks" / ".cache"
RESULTS = ROOT / "benchmarks" / "results" / "longdocs.json"
# Source files whose change can change what is indexed: a change builds a new cached index.
INDEX_SOURCES = (
    "indexer/chunk.py",
    "indexer/pipeline.py",
    "indexer/extract/paged.py",
    "indexer/extract/document.py",
    "indexer/extract/table.py",
)
LIMIT = 10  # what `findling search` asks for


@dataclass(frozen=True)
class Question:
    """One labelled question."""

    id: str
    doc: str
    pages: tuple[int, ...]
    type: str
    question: str
    answer: str


def load_questions(path: Path) -> list[Question]:
    """The questions file, one JSON object a line."""
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(
                Question(
                    d["id"], d["doc"], tuple(d["pages"]), d["type"], d["question"], d["answer"]
                )
            )
    return out


def check_documents(debdocs: Path, docs: dict[str, Any]) -> dict[str, Path]:
    """Each document's file, after checking that it is there with the expected page count.

    Raises:
        SystemExit: a document is missing or has another page count (a different version).
    """
    import pymupdf

    found: dict[str, Path] = {}
    for key, d in docs.items():
        path = debdocs / d["path"]
        if not path.is_file():
            raise SystemExit(
                f"{path} is missing: fetch the documents with "
                f"`bash /work/shared/corpus/fetch-debdocs.sh {debdocs}`"
            )
        with pymupdf.open(str(path)) as pdf:
            if pdf.page_count != d["pages"]:
                raise SystemExit(
                    f"{path} has {pdf.page_count} pages, the labels are for {d['pages']}: "
                    "another version of the document"
                )
        found[key] = path
    return found


def _fingerprint(files: dict[str, Path]) -> str:
    from indexer.store import FTS_INDEX_NAME

    h = hashlib.sha256(FTS_INDEX_NAME.encode())
    for rel in INDEX_SOURCES:
        p = ROOT / rel
        if p.exists():
            h.update(rel.encode() + p.read_bytes())
    for key in sorted(files):
        h.update(key.encode() + files[key].name.encode() + str(files[key].stat().st_size).encode())
    return h.hexdigest()[:12]


@dataclass
class Built:
    """An indexed copy of the documents in its own FINDLING_HOME."""

    home: Path
    names: dict[str, str]  # file name -> document key
    index_seconds: float
    chunks: int
    pages: int


def build(files: dict[str, Path], home: Path | None, rebuild: bool) -> Built:
    """Copy the documents into a fresh FINDLING_HOME and index them as ``findling index``
    does (reusing an index built by the same code)."""
    home = home or CACHE / f"longdocs-{_fingerprint(files)}"
    meta_file = home / "built.json"
    names = {p.name: k for k, p in files.items()}
    if meta_file.exists() and not rebuild:
        meta = json.loads(meta_file.read_text())
        return Built(home, names, meta["index_seconds"], meta["chunks"], meta["pages"])
    shutil.rmtree(home, ignore_errors=True)
    docs = home / "docs"
    docs.mkdir(parents=True)
    pages = 0
    for p in files.values():
        shutil.copy2(p, docs / p.name)
    import pymupdf

    for p in files.values():
        with pymupdf.open(str(p)) as pdf:
            pages += pdf.page_count
    engine = _engine(home)
    engine.settings.add_folders([docs])
    engine.save_settings()
    t0 = time.perf_counter()
    with engine.open_indexer() as ix:
        report = ix.sync()
        chunks = ix.store.count()
    seconds = round(time.perf_counter() - t0, 1)
    if report.failed:
        raise SystemExit(f"{report.failed} document(s) failed to index")
    meta_file.write_text(json.dumps({"index_seconds": seconds, "chunks": chunks, "pages": pages}))
    return Built(home, names, seconds, chunks, pages)


def _engine(home: Path) -> Any:
    os.environ["FINDLING_HOME"] = str(home)
    from app.engine import Engine
    from app.paths import app_paths

    return Engine(app_paths())


def ranked_pages(built: Built, hits: Sequence[Any]) -> list[tuple[str, int | None]]:
    """Hits as (document key, page), best first, each page once."""
    out: dict[tuple[str, int | None], None] = {}
    for h in hits:
        key = built.names.get(Path(h.path).name)
        if key is not None:
            out.setdefault((key, h.page), None)
    return list(out)


def rank_of(q: Question, ranked: list[tuple[str, int | None]]) -> int | None:
    """1-based rank of the first result on an answer page, or None."""
    for i, (doc, page) in enumerate(ranked, start=1):
        if doc == q.doc and page in q.pages:
            return i
    return None


def scores(rank: int | None) -> dict[str, float]:
    """Per-question hit@1, hit@5 and reciprocal rank (within the top ``LIMIT``)."""
    return {
        "hit@1": float(rank == 1),
        "hit@5": float(rank is not None and rank <= 5),
        "mrr@10": 1.0 / rank if rank is not None and rank <= LIMIT else 0.0,
    }


def summarise(per_q: dict[str, dict[str, float]], qs: list[Question]) -> dict[str, Any]:
    """Means overall and per question type."""

    def means(ids: list[str]) -> dict[str, float]:
        return {
            m: round(statistics.fmean(per_q[i][m] for i in ids), 4)
            for m in ("hit@1", "hit@5", "mrr@10")
        } | {"n": len(ids)}

    types = sorted({q.type for q in qs})
    # tables and numbers together: the third of the set the task singles out
    tn = [q.id for q in qs if q.type in ("table-cell", "number")]
    return {
        "all": means([q.id for q in qs]),
        "by_type": {t: means([q.id for q in qs if q.type == t]) for t in types}
        | {"table-cell+number": means(tn)},
    }


def variants(names: list[str] | None) -> list[tuple[str, Any]]:
    """The configurations compared: the default hybrid and each half alone."""
    from indexer.search import SearchConfig

    base = SearchConfig()
    allv = [
        ("hybrid", base),
        ("keyword", replace(base, mode="keyword")),
        ("vector", replace(base, mode="vector")),
    ]
    # experiments (issue 12 section 4d), run when named with --variants
    extra = [(f"hybrid-page-support-{w}", replace(base, page_support=w)) for w in (0.1, 0.25, 0.5)]
    if not names:
        return allv
    return [v for v in allv + extra if v[0] in names]


def evaluate(built: Built, qs: list[Question], names: list[str] | None) -> list[dict[str, Any]]:
    """Every question through every configuration (taking turns, question by question)."""
    from indexer.query import parse

    engine = _engine(built.home)
    searcher = engine.searcher()
    searcher.search("warm up", limit=LIMIT)
    vs = variants(names)
    per: list[dict[str, dict[str, float]]] = [{} for _ in vs]
    ranks: list[dict[str, int | None]] = [{} for _ in vs]
    lat: list[list[float]] = [[] for _ in vs]
    for q in qs:
        query = parse(q.question).resolve(list(engine.settings.folders))
        for i, (_, cfg) in enumerate(vs):
            t = time.perf_counter()
            res = searcher.search(query, limit=LIMIT, config=cfg)
            lat[i].append((time.perf_counter() - t) * 1000)
            r = rank_of(q, ranked_pages(built, res.hits))
            ranks[i][q.id] = r
            per[i][q.id] = scores(r)
    searcher.close()
    out = []
    for i, (name, cfg) in enumerate(vs):
        out.append(
            {
                "variant": name,
                "config": asdict(cfg),
                **summarise(per[i], qs),
                "latency_ms_p50": round(statistics.median(lat[i]), 1),
                "ranks": ranks[i],
                "per_question_mrr@10": {k: round(v["mrr@10"], 6) for k, v in per[i].items()},
            }
        )
    _add_bootstrap(out)
    return out


def _add_bootstrap(results: list[dict[str, Any]]) -> None:
    """Each variant's MRR@10 minus the default's: [mean, low, high] (95 %, paired)."""
    from benchmarks.metrics import delta_interval

    base = results[0]["per_question_mrr@10"]
    for r in results[1:]:
        r["mrr@10_delta"] = delta_interval(base, r["per_question_mrr@10"])


def markdown(results: list[dict[str, Any]], title: str) -> str:
    """The results as Markdown tables: overall, then per question type."""
    lines = [
        f"### {title}",
        "",
        "| variant | hit@1 | hit@5 | MRR@10 | MRR Δ vs hybrid [95% CI] | p50 ms |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for r in results:
        a = r["all"]
        d = r.get("mrr@10_delta")
        ci = f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]" if d else "—"
        lines.append(
            f"| {r['variant']} | {a['hit@1']:.3f} | {a['hit@5']:.3f} | {a['mrr@10']:.3f} | "
            f"{ci} | {r['latency_ms_p50']:.0f} |"
        )
    lines += ["", "Per question type (hit@1 / hit@5 / MRR@10):", ""]
    types = list(results[0]["by_type"])
    heads = [f"{t} (n={results[0]['by_type'][t]['n']})" for t in types]
    lines.append("| variant | " + " | ".join(heads) + " |")
    lines.append("|---|" + "---:|" * len(types))
    for r in results:
        cells = [
            f"{b['hit@1']:.2f} / {b['hit@5']:.2f} / {b['mrr@10']:.2f}"
            for b in (r["by_type"][t] for t in types)
        ]
        lines.append(f"| {r['variant']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument(
        "--debdocs",
        type=Path,
        default=Path("/work/data/debdocs"),
        help="where fetch-debdocs.sh put the documents",
    )
    ap.add_argument("--questions", type=Path, default=DATA / "questions.jsonl")
    ap.add_argument("--home", type=Path, help="FINDLING_HOME to build in (default: a cache folder)")
    ap.add_argument("--rebuild", action="store_true", help="ignore a cached index")
    ap.add_argument("--variants", nargs="*", help="only these configurations")
    ap.add_argument("--out", type=Path, default=RESULTS, help="JSON results (a .md beside)")
    ap.add_argument("--json", action="store_true", help="print the JSON results to stdout")
    args = ap.parse_args(argv)

    docs = json.loads((DATA / "documents.json").read_text())["documents"]
    qs = load_questions(args.questions)
    files = check_documents(args.debdocs, docs)
    print(f"{len(files)} documents found with the labelled page counts", file=sys.stderr)
    t0 = time.perf_counter()
    built = build(files, args.home, args.rebuild)
    print(
        f"index: {built.pages} pages, {built.chunks} passages, built in {built.index_seconds:.0f} s"
        f" (ready after {time.perf_counter() - t0:.0f} s)",
        file=sys.stderr,
    )
    results = evaluate(built, qs, args.variants)
    title = (
        f"Long documents: {len(qs)} questions over {len(files)} PDFs "
        f"({built.pages} pages, {built.chunks} passages)"
    )
    table = markdown(results, title)
    payload = {
        "questions": len(qs),
        "documents": {k: {"file": p.name, "pages": docs[k]["pages"]} for k, p in files.items()},
        "pages": built.pages,
        "chunks": built.chunks,
        "index_seconds": built.index_seconds,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "2 cores shared with other jobs (loaded): timings are indicative only",
        },
        "results": results,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(table)
    print(json.dumps(payload, indent=2) if args.json else table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
