"""Questions about the collection ("which files mention…", "how many…", "the latest…") are
answered from the whole index, through the real pipeline, LanceDB and ONNX model."""

import os
from pathlib import Path

import pytest

from indexer import aggregate
from indexer.aggregate import parse
from indexer.ask import Asker
from indexer.pipeline import Indexer
from indexer.search import Searcher
from tests.conftest import index_config, make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.mark.parametrize(
    ("question", "kind", "topic"),
    [
        ("Which files mention the heat pump?", "which", "the heat pump"),
        ("how many documents talk about solar panels", "count", "solar panels"),
        ("What is the latest report about the footbridge?", "latest", "the footbridge"),
        ("What caused the accident in Panama?", None, None),
    ],
)
def test_parse_recognises_collection_questions(question, kind, topic):
    got = parse(question)
    assert (got is None and kind is None) or got == (kind, topic)


@pytest.fixture
def collection(tmp_path, embedder):
    d = tmp_path / "docs"
    # More matching files than the five passages a model would be shown, so top-k cannot work.
    for i in range(7):
        make_pdf(
            d / f"quote-{i}.pdf",
            [
                f"Offer number {i} for roof work.",
                f"The heat pump model HX{i} costs {900 + i} euros.",
            ],
        )
        os.utime(d / f"quote-{i}.pdf", (1_600_000_000 + i * 86400,) * 2)
    make_pdf(
        d / "garden.pdf",
        ["The lawn mower blades are sharpened and its engine is oiled every spring."],
    )
    (d / "notes.txt").write_text("Ask the plumber about the boiler pressure valve.")
    idx = tmp_path / "index"
    with Indexer(index_config(idx, d), embedder) as ix:
        assert ix.sync().failed == 0
    return d, Asker(Searcher(idx, embedder), None)


def test_which_files_lists_every_match_with_pages(collection):
    _, asker = collection
    ans = asker.ask("Which files mention the heat pump?")
    assert ans.found and ans.aggregate is not None
    names = sorted(Path(f.path).name for f in ans.aggregate.files)
    assert names == [f"quote-{i}.pdf" for i in range(7)]
    assert all(f.pages == [2] for f in ans.aggregate.files)
    assert ans.to_json()["aggregate"]["count"] == 7


def test_how_many_counts_and_latest_is_newest(collection):
    _, asker = collection
    assert asker.ask("How many documents mention the heat pump?").aggregate.to_json()["count"] == 7
    latest = asker.ask("What is the latest quote about the heat pump?")
    assert Path(latest.aggregate.files[0].path).name == "quote-6.pdf"
    assert "quote-6.pdf" in latest.answer


def test_a_topic_no_file_mentions_is_not_found(collection):
    _, asker = collection
    ans = asker.ask("Which files mention the swimming pool?")
    assert not ans.found and ans.aggregate.files == []


def test_the_count_is_every_file_the_index_holds_not_the_best_passages(collection, monkeypatch):
    # The deep search takes the best DEPTH passages (400); a collection with more matching
    # passages than that is the same case as seven files with a depth of three.
    _, asker = collection
    monkeypatch.setattr(aggregate, "DEPTH", 3)
    ans = asker.ask("How many documents mention the heat pump?")
    assert ans.aggregate is not None and ans.aggregate.to_json()["count"] == 7, ans.answer
    assert all(f.pages == [2] and f.passages == 1 for f in ans.aggregate.files)
    assert ans.answer.startswith('7 files mention "the heat pump"')
    # the search's best passages are still cited (three of them here)
    assert len([f for f in ans.aggregate.files if f.first is not None]) == 3
    assert sum(c.cited for c in ans.citations) == 3


def test_a_folder_filter_limits_the_count(collection):
    d, asker = collection
    from indexer.query import SearchFilters

    only = SearchFilters(folders=(str(d),))
    assert asker.searcher.keyword_passages(["heat", "pump"], only) is not None
    elsewhere = SearchFilters(folders=(str(d / "nowhere"),))
    assert asker.searcher.keyword_passages(["heat", "pump"], elsewhere) == {}
    ans = asker.ask("How many documents mention the heat pump?", filters=elsewhere)
    assert not ans.found and ans.aggregate.files == []


def test_a_word_that_only_shares_the_index_stem_is_no_mention(collection):
    # LanceDB's stemmer makes "engine" and "engineers" one word; the garden note names an
    # engine, and no file names an engineer.
    _, asker = collection
    assert asker.searcher.keyword_passages(["engineers"]), "setup: the index conflates them"
    ans = asker.ask("Which files mention engineers?")
    assert not ans.found and ans.aggregate.files == [], ans.answer
    one = asker.ask("Which files mention the engine?")
    assert [Path(f.path).name for f in one.aggregate.files] == ["garden.pdf"]
    assert one.answer.startswith('1 file mentions "the engine"')
