"""A sentence is read under its page's opening line, so a title that only names the subject no
longer outranks the sentence that answers (real stack: PyMuPDF, ONNX Runtime, LanceDB)."""

from pathlib import Path

import pytest

from indexer.ask import Asker
from indexer.pipeline import Indexer
from indexer.quote import score_sentences
from indexer.search import Searcher
from tests.conftest import index_config, make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TITLE = "Bicycle insurance certificate."
PREMIUM = "Cover runs from 1 June 2024 to 31 May 2025, and the annual premium is 96 euros."


@pytest.fixture(scope="module")
def asker(tmp_path_factory, embedder):
    d = tmp_path_factory.mktemp("papers")
    make_pdf(
        d / "bike-insurance.pdf",
        [
            f"{TITLE} Insured: Jonas Weber, 12 Harbour Lane, Kiel. {PREMIUM} Theft from a "
            "locked shed is covered.",
            "Claims. Report a theft to the police within 48 hours and send us the crime number.",
        ],
    )
    make_pdf(
        d / "pension.pdf",
        ["Annual pension statement for Marta Silva. Your fund was worth 48,200 euros in 2024."],
    )
    make_pdf(
        d / "two-papers.pdf",
        [
            "Sleep and memory in students. Short sleep impaired recall of word lists.",
            "Coffee and heart rhythm. Four cups a day did not change the heart rate of adults.",
        ],
    )
    (d / "notes.txt").write_text("Travel notes. Bus 7 goes to the harbour every ten minutes.")
    idx = d.parent / (d.name + "-index")
    with Indexer(index_config(idx, d), embedder) as ix:
        assert ix.sync().added == 4
    return Asker(Searcher(idx, embedder), None)


def test_the_sentence_that_answers_beats_the_title_that_names_the_subject(asker):
    question = "How much is the yearly premium for the bike insurance?"
    hits = asker.retrieve(question)
    # Setup check: read on their own, the title's sentence outranks the answer.
    alone = score_sentences(question, hits, asker.embedder)
    assert alone[0].text.startswith(TITLE), [(e.score, e.text) for e in alone[:3]]
    ans = asker.ask(question)
    assert ans.extract is not None and ans.extract.text == PREMIUM
    assert Path(ans.extract.path).name == "bike-insurance.pdf" and ans.extract.page == 1


def test_each_page_is_read_under_its_own_opening_not_the_documents_first(asker):
    # A file of several papers has a title on every page: page 2 is about coffee.
    coffee = asker.retrieve("Did coffee change the heart rate?")
    sleep = asker.retrieve("Did short sleep impair recall?")
    openings = {**asker._openings(coffee), **asker._openings(sleep)}
    first = {
        h.page: openings.get(h.chunk_id)
        for h in coffee + sleep
        if Path(h.path).name == "two-papers.pdf"
    }
    assert first == {1: "Sleep and memory in students.", 2: "Coffee and heart rhythm."}
    # Looked up in the index for a passage that does not start its page; a file without
    # pages opens with its first passage.
    doc = next(h.doc for h in coffee if Path(h.path).name == "two-papers.pdf")
    notes = asker.retrieve("Which bus goes to the harbour?")
    txt = next(h for h in notes if Path(h.path).name == "notes.txt")
    found = asker.searcher.page_openings([(doc, 2), (doc, 1), (txt.doc, None), ("nothing", 1)])
    assert found[(doc, 2)].startswith("Coffee and heart rhythm.")
    assert found[(doc, 1)].startswith("Sleep and memory in students.")
    assert found[(txt.doc, None)].startswith("Travel notes.")
    assert ("nothing", 1) not in found
