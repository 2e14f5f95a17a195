"""Type, folder and date filters through the real stack: decided once, in the state database,
and applied by the chunk store before ranking; and the stored passages a preview reads."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from indexer import store as store_mod
from indexer.pipeline import Indexer
from indexer.query import SearchFilters, parse
from indexer.search import Searcher
from tests.conftest import index_config, make_docx, make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

OLD = datetime(2020, 6, 1).timestamp()
NEW = datetime(2024, 6, 1).timestamp()
SOLAR = "The solar panels on the barn roof produced energy all summer long."


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("filters")
    docs = root / "docs"
    make_pdf(docs / "a" / "barn.pdf", [f"Barn report. {SOLAR}"])
    (docs / "a" / "notes.md").write_text(f"# Notes\n\n{SOLAR} Clean them in spring.\n")
    make_docx(docs / "b" / "Papers" / "study.docx", [("Study", 1), (f"{SOLAR} A study.", 0)])
    # the same bytes twice: one document, two files of different types and folders
    (docs / "b" / "twin.txt").write_text(f"Twin. {SOLAR} Twice.\n")
    shutil.copy(docs / "b" / "twin.txt", docs / "a" / "twin.rst")
    for p in docs.rglob("*.*"):
        when = NEW if p.name in ("notes.md", "study.docx") else OLD
        os.utime(p, (when, when))
    idx = root / "index"
    with Indexer(index_config(idx, docs), embedder) as ix:
        assert ix.sync().failed == 0
    return docs, idx


def _names(s: Searcher, query: object, filters: SearchFilters | None = None) -> set[str]:
    """The files the hits name, the copies listed with a hit ("also in") included."""
    hits = s.search(query, limit=20, filters=filters).hits  # type: ignore[arg-type]
    return {Path(p).name for h in hits for p in (h.path, *h.other_paths)}


def test_each_filter_kind_returns_only_matching_files(corpus, embedder) -> None:  # type: ignore[no-untyped-def]
    docs, idx = corpus
    s = Searcher(idx, embedder)
    everything = _names(s, "solar panels barn")
    assert {"barn.pdf", "notes.md", "study.docx"} <= everything
    assert {"twin.txt", "twin.rst"} <= everything  # one document, two files

    assert _names(s, "solar panels", SearchFilters(types=("pdf",))) == {"barn.pdf"}
    assert _names(s, "solar panels", SearchFilters(types=(".MD", "docx"))) == {
        "notes.md",
        "study.docx",
    }
    # the twin document is shown by the file that passes, never by its copy
    assert _names(s, "solar panels twice", SearchFilters(types=("rst",))) == {"twin.rst"}
    assert _names(s, "solar panels twice", SearchFilters(types=("txt",))) == {"twin.txt"}

    assert _names(s, "solar panels", SearchFilters(folders=(str(docs / "b"),))) == {
        "study.docx",
        "twin.txt",
    }
    assert _names(s, "solar panels", SearchFilters(folders=(str(docs / "a"),))) == {
        "barn.pdf",
        "notes.md",
        "twin.rst",
    }
    recent = SearchFilters(modified_after=datetime(2023, 1, 1).timestamp())
    assert _names(s, "solar panels", recent) == {"notes.md", "study.docx"}
    older = SearchFilters(modified_before=datetime(2023, 1, 1).timestamp())
    assert _names(s, "solar panels", older) == {"barn.pdf", "twin.txt", "twin.rst"}
    s.close()


def test_a_filter_that_matches_nothing_returns_nothing(corpus, embedder) -> None:  # type: ignore[no-untyped-def]
    docs, idx = corpus
    s = Searcher(idx, embedder)
    assert _names(s, "solar panels", SearchFilters(types=("epub",))) == set()
    assert _names(s, "solar panels", SearchFilters(folders=(str(docs / "nowhere"),))) == set()
    future = SearchFilters(modified_after=datetime(2100, 1, 1).timestamp())
    assert _names(s, "solar panels", future) == set()
    both = SearchFilters(types=("pdf",), folders=(str(docs / "b"),))
    assert _names(s, "solar panels", both) == set()
    s.close()


def test_a_parsed_query_brings_its_filters(corpus, embedder) -> None:  # type: ignore[no-untyped-def]
    docs, idx = corpus
    s = Searcher(idx, embedder)
    assert _names(s, parse("pdf: solar panels")) == {"barn.pdf"}
    # in: names unresolved by the caller are looked up under the index's folders
    assert _names(s, parse("in:papers solar panels")) == {"study.docx"}
    assert _names(s, parse("in:nowhere solar panels")) == set()
    assert _names(s, parse("after:2023 solar panels")) == {"notes.md", "study.docx"}
    base = SearchFilters(folders=(str(docs / "a"),))
    assert _names(s, parse("md: solar panels", base_filters=base)) == {"notes.md"}
    s.close()


def test_long_document_lists_are_checked_after_the_search_with_the_same_result(
    corpus, embedder, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    docs, idx = corpus
    s = Searcher(idx, embedder)
    short = {f: _names(s, "solar panels", SearchFilters(folders=(str(docs / f),))) for f in "ab"}
    monkeypatch.setattr(store_mod, "MAX_IN_FILTER", 0)  # every list counts as long
    for f in "ab":
        assert _names(s, "solar panels", SearchFilters(folders=(str(docs / f),))) == short[f]
    assert _names(s, "solar panels", SearchFilters(types=("pdf",))) == {"barn.pdf"}
    s.close()


def test_passages_of_a_page_are_read_from_the_index_even_when_the_file_is_gone(
    tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    pages = [
        "First page about the orchard and its apple trees.",
        "Second page. " + " ".join(f"Sentence {i} about the cider press." for i in range(120)),
    ]
    pdf = make_pdf(docs / "orchard.pdf", pages)
    paragraphs = [f"Paragraph {i} tells how the heron fished in pond {i}." for i in range(60)]
    md = docs / "heron.md"
    md.write_text("# Heron\n\n" + "\n\n".join(paragraphs) + "\n")
    idx = tmp_path / "index"
    with Indexer(index_config(idx, docs), embedder) as ix:
        assert ix.sync().failed == 0
    s = Searcher(idx, embedder)
    hit = s.search("cider press", limit=1).hits[0]
    assert Path(hit.path) == pdf and hit.page == 2
    pdf.unlink()
    md.unlink()
    second = s.passages(hit.doc, 2)
    assert len(second) > 1, "a long page is several passages"
    assert {p.page for p in second} == {2}
    assert hit.chunk_id in [p.chunk_id for p in second]
    assert [p.start for p in second] == sorted(p.start for p in second)
    assert "Sentence 0 " in second[0].text and "Sentence 119 " in second[-1].text
    assert all("orchard" not in p.text for p in second)
    first = s.passages(hit.doc, 1)
    assert [p.text for p in first] and "orchard" in first[0].text

    heron = s.search("heron fished pond 42", limit=1).hits[0]
    assert Path(heron.path) == md and heron.page is None
    whole = s.passages(heron.doc, None)
    assert len(whole) > 1 and "Paragraph 0 " in whole[0].text
    assert "Paragraph 59 " in whole[-1].text
    assert s.passages("no-such-document", None) == []
    s.close()


def test_a_filter_kept_between_searches_sees_files_indexed_after_it(tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The searcher keeps a filter's documents for the next keystroke, but not past a change
    the writer commits: a file indexed afterwards passes the same filter at once."""
    docs = tmp_path / "docs"
    (docs / "a").mkdir(parents=True)
    (docs / "a" / "first.txt").write_text(f"First. {SOLAR}\n")
    idx = tmp_path / "index"
    only_a = SearchFilters(folders=(str(docs / "a"),))
    with Indexer(index_config(idx, docs), embedder) as ix:
        ix.sync()
        s = Searcher(idx, embedder)
        try:
            assert _names(s, "solar panels", only_a) == {"first.txt"}
            assert _names(s, "solar panels barn", only_a) == {"first.txt"}  # kept
            (docs / "a" / "second.txt").write_text(f"Second. {SOLAR}\n")
            ix.sync(paths=[docs / "a" / "second.txt"])
            assert _names(s, "solar panels", only_a) == {"first.txt", "second.txt"}
        finally:
            s.close()
