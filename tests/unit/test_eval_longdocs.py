"""The long-document question set is well formed and its scoring counts the right pages."""

from __future__ import annotations

import json
from types import SimpleNamespace

from benchmarks.eval_longdocs import DATA, Built, load_questions, rank_of, ranked_pages, scores


def test_question_set_is_well_formed() -> None:
    docs = json.loads((DATA / "documents.json").read_text())["documents"]
    qs = load_questions(DATA / "questions.jsonl")
    assert len(qs) >= 40
    assert len({q.id for q in qs}) == len(qs)
    assert 6 <= len({q.doc for q in qs}) <= 10
    for q in qs:
        assert q.doc in docs, q.id
        assert q.pages and all(1 <= p <= docs[q.doc]["pages"] for p in q.pages), q.id
        assert q.question and q.answer and q.type, q.id
    tables_numbers = sum(q.type in ("table-cell", "number") for q in qs)
    assert tables_numbers >= len(qs) / 3


def test_a_hit_is_the_labelled_document_at_a_labelled_page() -> None:
    q = load_questions(DATA / "questions.jsonl")[0]
    built = Built(DATA, {"a.pdf": q.doc, "b.pdf": "other"}, 0.0, 0, 0)
    hits = [
        SimpleNamespace(path="/x/b.pdf", page=q.pages[0]),  # right page, wrong document
        SimpleNamespace(path="/x/a.pdf", page=q.pages[0] + 1),
        SimpleNamespace(path="/x/a.pdf", page=q.pages[0] + 1),  # the same page again
        SimpleNamespace(path="/x/a.pdf", page=q.pages[0]),
    ]
    ranked = ranked_pages(built, hits)
    assert rank_of(q, ranked) == 3
    assert scores(3) == {"hit@1": 0.0, "hit@5": 1.0, "mrr@10": 1 / 3}
    assert scores(None) == {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0}
