"""BEIR-format datasets for the retrieval evaluation: loading, sampling and writing corpora.

A BEIR dataset is ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (``query-id``, ``corpus-id``, ``score``). The corpus is
written to disk as ordinary files so that Findling indexes it through its real extraction path:

* ``markdown``: one ``<doc-id>.md`` per document, the title as a ``#`` heading.
* ``pdf``: documents grouped into multi-page PDFs, one document per page (title line, then the
  abstract); a manifest maps ``(file name, page)`` back to the document id.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Dataset:
    """A loaded BEIR dataset restricted to one split's queries."""

    name: str
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]  # id -> text, only queries with judgements in ``qrels``
    qrels: Qrels


def load(folder: Path, split: str) -> Dataset:
    """Load ``folder`` (a BEIR dataset) with the judgements of ``split``."""
    corpus: dict[str, tuple[str, str]] = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            corpus[str(d["_id"])] = (str(d.get("title") or ""), str(d.get("text") or ""))
    qrels: Qrels = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].strip().lstrip("-").isdigit():
                continue  # header row
            qid, did, score = parts[0], parts[1], int(parts[2])
            if score > 0 and did in corpus:
                qrels.setdefault(qid, {})[did] = score
    queries: dict[str, str] = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if str(d["_id"]) in qrels:
                queries[str(d["_id"])] = str(d["text"])
    qrels = {q: r for q, r in qrels.items() if q in queries}
    return Dataset(folder.name, corpus, queries, qrels)


def sample(ds: Dataset, n_queries: int, n_distractors: int, seed: int) -> Dataset:
    """A fixed-seed subset: ``n_queries`` queries, their relevant documents and distractors."""
    rnd = random.Random(seed)
    qids = sorted(ds.queries, key=lambda q: (len(q), q))
    qids = sorted(rnd.sample(qids, min(n_queries, len(qids))), key=lambda q: (len(q), q))
    relevant = {d for q in qids for d in ds.qrels[q]}
    others = sorted(set(ds.corpus) - relevant)
    keep = relevant | set(rnd.sample(others, min(n_distractors, len(others))))
    return Dataset(
        ds.name,
        {d: ds.corpus[d] for d in sorted(keep)},
        {q: ds.queries[q] for q in qids},
        {q: ds.qrels[q] for q in qids},
    )


def write_markdown(ds: Dataset, folder: Path) -> dict[str, str]:
    """One Markdown file per document; returns file name -> document id."""
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for did, (title, text) in ds.corpus.items():
        name = f"{did}.md"
        body = f"# {title}\n\n{text}\n" if title else f"{text}\n"
        (folder / name).write_text(body, encoding="utf-8")
        names[name] = did
    return names


def write_pdfs(
    ds: Dataset, folder: Path, per_pdf: int = 12, seed: int = 5
) -> dict[str, dict[int, str]]:
    """Documents as multi-page PDFs, one per page; returns file name -> {page: document id}.

    The PDFs have no outline: the title is only a bold line at the top of its page, as in a
    scanned-in collection of papers, so nothing but extraction and chunking carries it.
    """
    import pymupdf

    folder.mkdir(parents=True, exist_ok=True)
    ids = list(ds.corpus)
    random.Random(seed).shuffle(ids)
    manifest: dict[str, dict[int, str]] = {}
    for n, i in enumerate(range(0, len(ids), per_pdf)):
        group = ids[i : i + per_pdf]
        pdf = pymupdf.open()
        pages: dict[int, str] = {}
        for did in group:
            title, text = ds.corpus[did]
            page = pdf.new_page()  # A4
            y = 56.0
            if title:
                rect = pymupdf.Rect(56, y, 539, y + 80)
                left = page.insert_textbox(rect, title, fontsize=13, fontname="hebo")
                y += 80 - max(0.0, left) + 14
            for size in (10.0, 9.0, 8.0, 7.0, 6.0):
                if (
                    page.insert_textbox(
                        pymupdf.Rect(56, y, 539, 800), text, fontsize=size, fontname="helv"
                    )
                    >= 0
                ):
                    break
            else:
                raise ValueError(f"document {did} does not fit on a page")
            pages[pdf.page_count] = did
        name = f"collection-{n:04d}.pdf"
        pdf.save(str(folder / name), garbage=3, deflate=True)
        pdf.close()
        manifest[name] = pages
    return manifest
