"""Answer benchmark: the quoted sentence, the generated answer and its grounding, per model.

Two sets, both indexed through the real pipeline and asked through the same ``Asker`` the CLI uses:

* ``facts``: fictional documents written for this benchmark (``benchmarks/data/facts.json``):
  questions with short reference answers (numbers, dates, names, causes) on a known page, and
  questions whose answer no document holds.
* ``heldout`` and ``fresh``: more questions on the same documents, present and absent, each
  written after the answer rules of its time were built, so that the rules are also measured
  on questions they were not made on (``heldout`` was then used to choose between variants;
  ``fresh`` was written at the start of stop 26).
* ``unseen``: six more documents of another kind (a recall notice, an insurance schedule, a
  vet's letter, a school newsletter, a car service record, a walking guide), pages of several
  sentences, and their questions, written at the start of stop 27 before any rule of that stop;
  their documents are indexed for every set.
* ``multi``: questions that need more than one of those documents: about the collection
  ("Which files mention euros?", scored on the exact set of files named) and comparisons that
  need a fact from each of two documents (scored on every reference in the answer and both
  documents among the cited sources).
* ``scifact``: multi-page PDFs of SciFact abstracts (one abstract per page): claims whose abstract
  is in the corpus (the right page is known) and claims whose abstract was left out. SciFact is
  CC BY-NC: used here for evaluation only, never shipped.

Per model it reports: extract hit rate (the quoted sentence is on the right page, and for facts
holds the reference), answer correctness (reference present in the final answer), citation
correctness (first source is the right page), "not found" on absent questions, sentences flagged
"not in the sources", facts shown as final that are in no source (must be 0), and median time to
the extract and to the first token. ``--calibrate`` instead records the best sentence score of
present and absent questions and the bar that separates them best (``indexer.quote.EXTRACT_BAR``).

    nice .venv/bin/python benchmarks/eval_answers.py --llm SmolLM2-135M-Instruct-Q4_1
    nice .venv/bin/python benchmarks/eval_answers.py --calibrate
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCIFACT = ROOT.parent / "shared" / "eval" / "scifact"
FACTS = ROOT / "benchmarks" / "data" / "facts.json"
RESULTS = ROOT / "benchmarks" / "results"
LATER = ("heldout", "fresh", "unseen")  # sets written after the rules they measure


def load_scifact() -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str]]:
    corpus = {}
    for line in (SCIFACT / "corpus.jsonl").open(encoding="utf-8"):
        d = json.loads(line)
        corpus[d["_id"]] = d
    queries = {}
    for line in (SCIFACT / "queries.jsonl").open(encoding="utf-8"):
        q = json.loads(line)
        queries[q["_id"]] = q["text"]
    rel: dict[str, str] = {}
    lines = (SCIFACT / "qrels" / "test.tsv").open(encoding="utf-8").read().splitlines()[1:]
    for line in lines:
        qid, did, _ = line.split("\t")
        rel.setdefault(qid, did)
    return corpus, queries, rel


def write_pdf(path: Path, pages: list[str]) -> None:
    import pymupdf

    pdf = pymupdf.open()
    for text in pages:
        pdf.new_page().insert_textbox(pymupdf.Rect(50, 50, 550, 800), text, fontsize=10)
    pdf.save(str(path))
    pdf.close()


def facts_set(folder: Path) -> list[dict[str, Any]]:
    """Write the facts documents; return the questions (absent ones have ``doc`` None)."""
    data = json.loads(FACTS.read_text(encoding="utf-8"))
    # the ``unseen`` set's documents are always there too: more files to tell apart
    for name, pages in {**data["documents"], **data["unseen_documents"]}.items():
        write_pdf(folder / name, pages)
    qs = [{**q, "doc": str(folder / q["doc"]), "set": "facts"} for q in data["questions"]]
    qs += [{"q": q, "ref": None, "doc": None, "page": None, "set": "facts"} for q in data["absent"]]
    return qs


def later_set(folder: Path, name: str) -> list[dict[str, Any]]:
    """Questions written after rules were built (``facts_set`` must have written the
    documents): ``heldout`` (stop 25), ``fresh`` (stop 26) and ``unseen`` (stop 27, on documents
    of its own), each reported as a set of its own, so a rule is also measured on questions it
    was not made on."""
    data = json.loads(FACTS.read_text(encoding="utf-8"))
    qs = [{**q, "doc": str(folder / q["doc"]), "set": name} for q in data[f"{name}_questions"]]
    qs += [
        {"q": q, "ref": None, "doc": None, "page": None, "set": name}
        for q in data[f"{name}_absent"]
    ]
    return qs


def multi_set(folder: Path) -> list[dict[str, Any]]:
    """Questions that need more than one of the facts documents (``facts_set`` must have
    written them): about the collection ("Which files mention euros?", the answer is the set
    of files) and comparisons that need a fact from each of two documents."""
    data = json.loads(FACTS.read_text(encoding="utf-8"))
    qs = [
        {"q": q["q"], "files": q["files"], "set": "multi", "doc": None, "ref": None}
        for q in data["multi_files"]
    ]
    qs += [
        {**q, "docs": [str(folder / d) for d in q["docs"]], "set": "multi", "doc": None}
        for q in data["multi_compare"]
    ]
    return qs


def multi_row(q: dict[str, Any], ans: Any) -> dict[str, Any]:
    """How a multi-document question went: for a question about the collection, whether the
    files named are exactly the right ones; for a comparison, whether the answer holds every
    reference and cites both documents."""
    row: dict[str, Any] = {"set": "multi", "q": q["q"], "found": ans.found, "answer": ans.answer}
    if "files" in q:
        # Only the facts documents count: SciFact abstracts indexed beside them may mention
        # "students" too, rightly.
        ours = set(json.loads(FACTS.read_text(encoding="utf-8"))["documents"])
        found = [Path(f.path).name for f in ans.aggregate.files] if ans.aggregate else []
        named = sorted(n for n in found if n in ours)
        row.update(kind="files", files=named, files_right=named == sorted(q["files"]))
    else:
        cited = {c.path for c in ans.citations if c.cited}
        row.update(
            kind="compare",
            all_refs=all(r.lower() in ans.answer.lower() for r in q["ref_all"]),
            both_cited=all(d in cited for d in q["docs"]),
            flagged=sum(not s.grounded for s in ans.sentences),
        )
    return row


def scifact_set(folder: Path, present: int, absent: int, seed: int) -> list[dict[str, Any]]:
    corpus, queries, rel = load_scifact()
    rnd = random.Random(seed)
    qids = sorted(rel, key=int)
    rnd.shuffle(qids)
    pres, abst = qids[:present], qids[present : present + absent]
    docs = [rel[q] for q in pres]
    left_out = {rel[q] for q in abst}
    docs += rnd.sample([d for d in corpus if d not in left_out and d not in docs], 150)
    rnd.shuffle(docs)
    where: dict[str, tuple[str, int]] = {}
    for i in range(0, len(docs), 5):
        path = folder / f"papers-{i // 5:03d}.pdf"
        chunk = docs[i : i + 5]
        write_pdf(path, [f"{corpus[d]['title']}\n\n{corpus[d]['text']}" for d in chunk])
        for page, d in enumerate(chunk, start=1):
            where[d] = (str(path), page)
    out = []
    for qid in pres + abst:
        target = where.get(rel[qid])
        out.append(
            {
                "q": f"What do my papers say about this: {queries[qid]}",
                "ref": None,
                "doc": target[0] if target else None,
                "page": target[1] if target else None,
                "set": "scifact",
                "present": qid in pres,
            }
        )
    return out


def has_ref(text: str, refs: list[str] | None) -> bool:
    low = text.lower()
    return bool(refs) and any(r.lower() in low for r in refs or [])


def share(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return round(sum(bool(v) for v in vals) / len(vals), 3) if vals else None


def calibrate(asker: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    from indexer.quote import best_score, named_terms

    scores = []
    for q in questions:
        if q["set"] == "multi":
            continue  # no one sentence answers them
        hits, _ = asker._retrieve(q["q"], None)
        present = q.get("present", q["doc"] is not None)
        opens = asker._openings(hits[:5])  # as Asker._extract reads them
        score = (
            best_score(q["q"], hits, asker.embedder, named_terms(q["q"]), opens) if hits else 0.0
        )
        scores.append((score, present))
    best = (0.0, 0.0)
    levels = sorted({s for s, _ in scores})
    for i, bar in enumerate(levels):
        tpr = sum(s >= bar for s, p in scores if p) / max(1, sum(p for _, p in scores))
        tnr = sum(s < bar for s, p in scores if not p) / max(1, sum(not p for _, p in scores))
        if (tpr + tnr) / 2 > best[1]:
            # the middle of the gap below the lowest score that passes: the widest margin
            below = levels[i - 1] if i else bar
            best = (round((below + bar) / 2, 3), (tpr + tnr) / 2)
    return {
        "bar": best[0],
        "balanced_accuracy": round(best[1], 3),
        "present_scores": sorted(round(s, 3) for s, p in scores if p),
        "absent_scores": sorted(round(s, 3) for s, p in scores if not p),
    }


def run_model(asker: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for q in questions:
        t0 = time.perf_counter()
        marks: dict[str, float] = {}

        def on_extract(_e: Any, _h: Any, marks: dict[str, float] = marks, t0: float = t0) -> None:
            marks["extract"] = time.perf_counter() - t0

        def on_token(_p: str, marks: dict[str, float] = marks, t0: float = t0) -> None:
            marks.setdefault("token", time.perf_counter() - t0)

        ans = asker.ask(q["q"], on_token=on_token, on_extract=on_extract)
        if q["set"] == "multi":
            rows.append({**multi_row(q, ans), "t_total": round(time.perf_counter() - t0, 3)})
            continue
        present = q.get("present", q["doc"] is not None)
        target = (q["doc"], q["page"]) if q["doc"] else None
        ex = ans.extract
        first = (ans.citations[0].path, ans.citations[0].page) if ans.citations else None
        flagged = [s for s in ans.sentences if not s.grounded]
        rows.append(
            {
                "set": q["set"],
                "q": q["q"],
                "present": present,
                "found": ans.found,
                "extract_hit": (
                    ex is not None
                    and (ex.path, ex.page) == target
                    and (q["ref"] is None or has_ref(ex.text, q["ref"]))
                )
                if present and target
                else None,
                "answer_correct": (ans.found and has_ref(ans.answer, q["ref"]))
                if present and q["ref"]
                else None,
                "extract_or_answer_correct": (
                    ans.found
                    and (
                        has_ref(ans.answer, q["ref"])
                        or (ex is not None and has_ref(ex.text, q["ref"]))
                    )
                )
                if present and q["ref"]
                else None,
                "first_source_right": (first == target)
                if present and target and ans.found
                else None,
                "not_found": (not ans.found) if not present else None,
                "sentences": len(ans.sentences),
                "flagged": len(flagged),
                "answer": ans.answer,
                "extract": ex.text if ex else None,
                "t_extract": round(marks.get("extract", 0.0), 3),
                "t_first_token": round(marks["token"], 3) if "token" in marks else None,
                "t_total": round(time.perf_counter() - t0, 3),
            }
        )
    out: dict[str, Any] = {}
    for name in ("facts", *LATER, "scifact"):
        rs = [r for r in rows if r["set"] == name]
        if not rs:
            continue
        pres = [r for r in rs if r["present"]]
        abst = [r for r in rs if not r["present"]]
        ft = [r["t_first_token"] for r in rs if r["t_first_token"] is not None]
        out[name] = {
            "present": len(pres),
            "absent": len(abst),
            "extract_hit_rate": share(pres, "extract_hit"),
            "answer_correct": share(pres, "answer_correct"),
            "extract_or_answer_correct": share(pres, "extract_or_answer_correct"),
            "found_rate_present": share(pres, "found"),
            "first_source_right": share(pres, "first_source_right"),
            "absent_not_found": share(abst, "not_found"),
            "sentences": sum(r["sentences"] for r in rs),
            "sentences_flagged_not_in_sources": sum(r["flagged"] for r in rs),
            "median_s_to_extract": round(statistics.median(r["t_extract"] for r in rs), 3),
            "median_s_to_first_token": round(statistics.median(ft), 2) if ft else None,
            "median_s_total": round(statistics.median(r["t_total"] for r in rs), 2),
        }
    multi = [r for r in rows if r["set"] == "multi"]
    if multi:
        files = [r for r in multi if r["kind"] == "files"]
        compare = [r for r in multi if r["kind"] == "compare"]
        out["multi"] = {
            "collection_questions": len(files),
            "files_exactly_right": share(files, "files_right"),
            "comparisons": len(compare),
            "comparison_all_refs": share(compare, "all_refs"),
            "comparison_both_documents_cited": share(compare, "both_cited"),
            "comparison_sentences_flagged": sum(r["flagged"] for r in compare),
        }
    out["rows"] = rows
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--llm", action="append", help="LLM id or GGUF path (repeatable)")
    ap.add_argument("--no-llm", action="store_true", help="extract only, no generation")
    ap.add_argument("--sets", default="facts,heldout,fresh,unseen,multi,scifact")
    ap.add_argument("--present", type=int, default=30, help="SciFact claims with their abstract")
    ap.add_argument("--absent", type=int, default=15, help="SciFact claims without")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from indexer.ask import Asker
    from indexer.config import IndexConfig
    from indexer.pipeline import Indexer
    from indexer.search import Searcher
    from models.catalogue import ModelSpec, find_model
    from models.embedder import Embedder
    from models.llm import Llm, LlmConfig

    emb = Embedder(find_model(Path("/nonexistent"), None, "embedding"))
    sets = args.sets.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        folder.mkdir()
        questions: list[dict[str, Any]] = []
        if {"facts", "multi", *LATER} & set(sets):
            facts = facts_set(folder)
            questions += facts if "facts" in sets else []
            for name in LATER:
                questions += later_set(folder, name) if name in sets else []
            questions += multi_set(folder) if "multi" in sets else []
        if "scifact" in sets:
            questions += scifact_set(folder, args.present, args.absent, args.seed)
        cfg = IndexConfig(index_dir=Path(tmp) / "index", folders=(folder,))
        with Indexer(cfg, emb) as ix:
            ix.sync()
        searcher = Searcher(cfg.index_dir, emb)
        if args.calibrate:
            result: dict[str, Any] = calibrate(Asker(searcher, None), questions)
            out = Path(args.out or RESULTS / "extract-calibration.json")
            out.write_text(json.dumps(result, indent=1))
            print(json.dumps({k: result[k] for k in ("bar", "balanced_accuracy")}))
            return
        models: list[Any] = [None] if args.no_llm else []
        for ident in [] if args.no_llm else args.llm or [None]:
            if ident and Path(ident).is_file():
                spec = ModelSpec(id=Path(ident).stem, kind="llm", file=Path(ident), source="user")
            else:
                spec = find_model(Path("/nonexistent"), ident, "llm")
            models.append(spec)
        result = {}
        for spec in models:
            llm = Llm(spec, LlmConfig(threads=args.threads)) if spec else None
            name = spec.id if spec else "extract-only"
            result[name] = run_model(Asker(searcher, llm), questions)
            summary = {k: v for k, v in result[name].items() if k != "rows"}
            print(json.dumps({name: summary}, indent=1), flush=True)
            del llm
    out = Path(args.out or RESULTS / "answers.json")
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
