"""Answer quality of ``ask``: are the right pages cited, and is "not in your files" said when
the answer is absent?

Builds multi-page PDFs from SciFact abstracts (one abstract per page, several per file), so each
claim's supporting abstract sits on a known (file, page). For claims whose abstract is in the
corpus, it records whether the cited pages include that page (model-cited or, when the model gives
no markers, the best-supported source) and whether any retrieved source holds it; for claims
whose abstract was left out, how often the answer is "not found". Uses the real pipeline, search,
prompt and the default LLM. Results: benchmarks/results/answers.json.

SciFact is CC BY-NC: used here for evaluation only, never shipped.

    .venv/bin/python benchmarks/eval_answers.py [--present 30] [--absent 15]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCIFACT = ROOT.parent / "shared" / "eval" / "scifact"


def load(split: str = "test") -> tuple[dict[str, dict[str, str]], dict[str, str], dict[str, str]]:
    corpus = {}
    for line in (SCIFACT / "corpus.jsonl").open(encoding="utf-8"):
        d = json.loads(line)
        corpus[d["_id"]] = d
    queries = {}
    for line in (SCIFACT / "queries.jsonl").open(encoding="utf-8"):
        q = json.loads(line)
        queries[q["_id"]] = q["text"]
    rel: dict[str, str] = {}
    for line in (SCIFACT / "qrels" / f"{split}.tsv").open(encoding="utf-8").read().splitlines()[1:]:
        qid, did, _ = line.split("\t")
        rel.setdefault(qid, did)
    return corpus, queries, rel


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--present", type=int, default=30)
    ap.add_argument("--absent", type=int, default=15)
    ap.add_argument("--distractors", type=int, default=150)
    ap.add_argument("--per-pdf", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "answers.json"))
    args = ap.parse_args()

    import pymupdf

    from indexer.ask import Asker
    from indexer.config import IndexConfig
    from indexer.pipeline import Indexer
    from indexer.search import Searcher
    from models.catalogue import find_model
    from models.embedder import Embedder
    from models.llm import Llm

    corpus, queries, rel = load()
    rnd = random.Random(args.seed)
    qids = sorted(rel, key=int)
    rnd.shuffle(qids)
    present = qids[: args.present]
    absent = qids[args.present : args.present + args.absent]
    absent_docs = {rel[q] for q in absent}
    docs = [rel[q] for q in present]
    others = [d for d in corpus if d not in absent_docs and d not in docs]
    docs += rnd.sample(others, args.distractors)
    rnd.shuffle(docs)
    emb = Embedder(find_model(Path("/nonexistent"), None, "embedding"))
    llm = Llm(find_model(Path("/nonexistent"), None, "llm"))
    where: dict[str, tuple[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "papers"
        folder.mkdir()
        for i in range(0, len(docs), args.per_pdf):
            pdf = pymupdf.open()
            path = folder / f"papers-{i // args.per_pdf:03d}.pdf"
            for page, did in enumerate(docs[i : i + args.per_pdf], start=1):
                d = corpus[did]
                pdf.new_page().insert_textbox(
                    pymupdf.Rect(50, 50, 550, 800), f"{d['title']}\n\n{d['text']}", fontsize=9
                )
                where[did] = (str(path), page)
            pdf.save(str(path))
            pdf.close()
        cfg = IndexConfig(index_dir=Path(tmp) / "index", folders=(folder,))
        with Indexer(cfg, emb) as ix:
            ix.sync()
        asker = Asker(Searcher(cfg.index_dir, emb), llm)
        rows = []
        t0 = time.perf_counter()
        for qid in present + absent:
            claim = queries[qid]
            question = f"What do my papers say about this: {claim}"
            ans = asker.ask(question)
            target = where.get(rel[qid])
            cited = [(c.path, c.page) for c in ans.citations if c.cited]
            top = (ans.citations[0].path, ans.citations[0].page) if ans.citations else None
            rows.append(
                {
                    "qid": qid,
                    "present": qid in present,
                    "found": ans.found,
                    "model_cited_any": bool(cited),
                    "right_page_cited": target in cited if target else None,
                    "right_page_first_source": top == target if target else None,
                    "right_page_retrieved": (target in [(c.path, c.page) for c in ans.citations])
                    if target
                    else None,
                }
            )
        seconds = time.perf_counter() - t0
    pres = [r for r in rows if r["present"]]
    abst = [r for r in rows if not r["present"]]

    def share(rs: list[dict[str, object]], key: str) -> float:
        return round(sum(bool(r[key]) for r in rs) / max(1, len(rs)), 3)

    result = {
        "llm": llm.model_id,
        "questions_with_answer": len(pres),
        "questions_without": len(abst),
        "answer_present": {
            "found_rate": share(pres, "found"),
            "model_gave_markers_rate": share(pres, "model_cited_any"),
            "right_page_cited_by_model": share(pres, "right_page_cited"),
            "right_page_first_source": share(pres, "right_page_first_source"),
            "right_page_among_sources": share(pres, "right_page_retrieved"),
        },
        "answer_absent": {"not_found_rate": round(1 - share(abst, "found"), 3)},
        "seconds_per_question": round(seconds / max(1, len(rows)), 2),
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
