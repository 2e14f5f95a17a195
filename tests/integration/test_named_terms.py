"""A quote answers a question that names something only from a file that mentions it (real stack:
PyMuPDF, ONNX Runtime, LanceDB's full-text index)."""

from pathlib import Path

import pytest

from indexer.ask import NOT_FOUND_TEXT, Asker
from indexer.pipeline import Indexer
from indexer.quote import EXTRACT_BAR, W_LACKS, holds_what_is_asked, score_sentences
from indexer.search import Searcher
from tests.conftest import index_config, make_pdf
from tests.fakes import ScriptedLlm

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def asker(tmp_path_factory, embedder):
    d = tmp_path_factory.mktemp("reports")
    make_pdf(
        d / "accident-panama.pdf",
        [
            "Aviation Accident Report. On 12 March 2019 a Cessna 208 Caravan crashed shortly "
            "after take-off from the airport near David, Panama.",
            "Probable cause. The investigation determined that the probable cause of the "
            "accident was fuel contamination with water, which led to a loss of engine power.",
        ],
    )
    make_pdf(
        d / "minutes-rowing.pdf",
        [
            "Minutes of the board meeting of the Riverside Rowing Club, held on 9 November 2021.",
            "The board approved the purchase of a new eight-seat boat for 38,500 pounds.",
        ],
    )
    make_pdf(
        d / "accident-norway.pdf",
        [
            "Aviation Accident Report. On 3 February 2020 a De Havilland Dash 8 operated by "
            "Fjordfly overran the runway while landing at Bodo airport, Norway, in heavy snowfall.",
            "Probable cause. The board found that the aircraft landed on a runway covered with 4 "
            "centimetres of wet snow, and the braking action was worse than reported.",
        ],
    )
    make_pdf(d / "invoice.pdf", ["Invoice 2023-0412 for 14 solar panels, dated 18 April 2023."])
    make_pdf(
        d / "manual-boiler.pdf",
        [
            "Installation manual for the Thermo CX24 gas boiler. Error code F-28 means the boiler "
            "failed to ignite; check that the gas supply valve is open and press reset."
        ],
    )
    idx = d.parent / (d.name + "-index")
    with Indexer(index_config(idx, d), embedder) as ix:
        assert ix.sync().added == 5
    return Asker(Searcher(idx, embedder), None)


def _bar_alone_would_quote(asker: Asker, question: str) -> str:
    """Setup check: the sentence score alone clears the bar, so the named-term check decides."""
    hits = asker.retrieve(question)
    ranked = score_sentences(question, hits, asker.embedder)
    assert ranked and ranked[0].score >= EXTRACT_BAR, [(e.score, e.text) for e in ranked[:3]]
    return Path(ranked[0].path).name


def _cleared_the_bar_without_the_gate(asker: Asker, question: str) -> set[str]:
    """Setup check: files with a sentence that lacks what is asked (a count, a price) and
    would have cleared the bar but for that."""
    ranked = score_sentences(question, asker.retrieve(question), asker.embedder)
    return {
        Path(e.path).name
        for e in ranked
        if not holds_what_is_asked(question, e.text) and e.score + W_LACKS >= EXTRACT_BAR
    }


def test_the_file_that_names_the_place_answers(asker):
    ans = asker.ask("What caused the accident in Panama?")
    assert ans.found and ans.extract is not None, ans.to_json()
    assert (Path(ans.extract.path).name, ans.extract.page) == ("accident-panama.pdf", 2)
    assert "fuel contamination" in ans.extract.text and ans.unmentioned == []


@pytest.mark.parametrize(
    ("question", "quoted", "term"),
    [
        ("What caused the accident in Peru?", "accident-panama.pdf", "Peru"),
        ("What does error code F22 mean?", "manual-boiler.pdf", "F22"),  # the manual has F-28
    ],
)
def test_a_name_or_code_no_file_mentions_is_not_found_and_named(asker, question, quoted, term):
    assert _bar_alone_would_quote(asker, question) == quoted
    ans = asker.ask(question)
    assert not ans.found and ans.extract is None, ans.to_json()
    assert ans.unmentioned == [term]
    assert ans.answer == f"Nothing in your files mentions \u201c{term}\u201d."
    assert ans.to_json()["unmentioned"] == [term]
    # the closest passages are still offered, as possibly related, none cited
    assert ans.citations and not any(c.cited for c in ans.citations)


def test_a_year_only_another_file_mentions_is_not_found(asker):
    # 2023 is in the index (the invoice), but not in the rowing club's minutes that match.
    question = "What did the rowing club board decide in 2023?"
    assert _bar_alone_would_quote(asker, question) == "minutes-rowing.pdf"
    ans = asker.ask(question)
    assert not ans.found and ans.extract is None, ans.to_json()
    assert ans.unmentioned == [] and ans.answer == NOT_FOUND_TEXT


def test_a_number_is_found_however_its_thousands_are_written(asker):
    ans = asker.ask("What did the rowing club buy for 38500 pounds?")
    assert ans.found and ans.extract is not None, ans.to_json()
    assert Path(ans.extract.path).name == "minutes-rowing.pdf" and "boat" in ans.extract.text


def test_the_answering_sentence_beats_the_title_sentence_that_names_the_subject(asker):
    question = "How deep was the snow on the runway at Bodo?"
    hits = asker.retrieve(question)
    # Setup: scored on the whole question, the title sentence that names Bodo comes first.
    plain = score_sentences(question, hits, asker.embedder)
    assert "centimetres" not in plain[0].text, [(e.score, e.text) for e in plain[:3]]
    ans = asker.ask(question)
    assert ans.found and ans.extract is not None, ans.to_json()
    assert (Path(ans.extract.path).name, ans.extract.page) == ("accident-norway.pdf", 2)
    assert "4 centimetres of wet snow" in ans.extract.text


def test_sources_of_an_answer_are_only_files_that_mention_what_it_names(asker):
    question = "What caused the accident in Panama?"
    # Setup: retrieval also brings the other accident report (the same kind of text).
    retrieved = {Path(h.path).name for h in asker.retrieve(question)}
    assert "accident-norway.pdf" in retrieved, retrieved
    seen: list[list[str]] = []
    ans = asker.ask(question, on_extract=lambda _q, hits: seen.append([h.path for h in hits]))
    assert ans.found and ans.citations
    assert {Path(c.path).name for c in ans.citations} == {"accident-panama.pdf"}
    assert seen and {Path(p).name for p in seen[0]} == {"accident-panama.pdf"}


def test_a_code_is_found_however_it_is_written(asker):
    ans = asker.ask("What does error code F28 mean?")  # the manual writes "F-28"
    assert ans.found and ans.extract is not None, ans.to_json()
    assert Path(ans.extract.path).name == "manual-boiler.pdf" and "ignite" in ans.extract.text


@pytest.mark.parametrize(
    ("answered", "holds", "gated"),
    [
        # The report's title sentence names the Dash 8 and holds a date, but no count of people.
        (
            "How many solar panels were installed?",
            "14",
            "How many people were on board the Dash 8?",
        ),
        # …and no amount of money.
        (
            "How much did the new boat cost?",
            "38,500",
            "How much will clearing the snow from the runway at Bodo cost?",
        ),
    ],
)
def test_a_count_or_a_price_is_answered_only_by_a_sentence_that_holds_one(
    asker, answered, holds, gated
):
    found = asker.ask(answered)
    assert found.found and found.extract is not None and holds in found.extract.text
    assert "accident-norway.pdf" in _cleared_the_bar_without_the_gate(asker, gated)
    ans = asker.ask(gated)
    assert not ans.found and ans.extract is None, ans.to_json()


def test_a_model_that_declines_in_its_own_words_is_not_found(asker):
    question = "What caused the accident in Panama?"
    answered = Asker(asker.searcher, ScriptedLlm(["Fuel contamination with water [1]."]))
    assert answered.ask(question).found  # the contrast: the same question, answered
    llm = ScriptedLlm(["The cause of the accident was not mentioned in the sources."])
    ans = Asker(asker.searcher, llm).ask(question)
    assert llm.prompts, "the model was asked"
    assert not ans.found and ans.answer == NOT_FOUND_TEXT, ans.to_json()


def test_an_ordinal_the_sources_lack_is_flagged_not_in_the_sources(asker):
    llm = ScriptedLlm(["The 8th new boat cost 38,500 pounds [1]."])
    ans = Asker(asker.searcher, llm).ask("How much did the new boat cost?")
    assert ans.sentences and not ans.sentences[0].grounded, ans.to_json()
    assert ans.sentences[0].missing == ["8th"]


def test_a_fact_cited_to_the_wrong_passage_cites_the_page_that_holds_it(asker):
    question = "How much did the Riverside Rowing Club pay for the new boat?"
    hits = asker.retrieve(question)
    assert len(hits) >= 2, [h.text for h in hits]  # setup: a wrong passage to cite
    right = next(
        n for n, h in enumerate(hits, 1) if "38,500" in h.text and h.path.endswith("rowing.pdf")
    )
    wrong = 1 if right != 1 else 2
    llm = ScriptedLlm([f"The club paid 38,500 pounds for the boat [{wrong}]."])
    ans = Asker(asker.searcher, llm).ask(question)
    assert ans.found and ans.answer == f"The club paid 38,500 pounds for the boat [{right}].", (
        ans.answer
    )
    first = ans.citations[0]
    assert (Path(first.path).name, first.page, first.cited) == ("minutes-rowing.pdf", 2, True)
    assert ans.sentences[0].grounded


def test_names_joined_by_and_are_alternatives_each_file_a_source(asker):
    question = "What were the probable causes of the accidents in Panama and in Norway?"
    seen: list[list[str]] = []
    llm = ScriptedLlm(["Water in the fuel [1] and wet snow on the runway [2]."])
    ans = Asker(asker.searcher, llm).ask(
        question, on_extract=lambda _q, hits: seen.append([h.path for h in hits])
    )
    assert ans.found and ans.unmentioned == [], ans.to_json()
    # the model read both reports, and nothing else
    assert seen and {Path(p).name for p in seen[0]} == {
        "accident-panama.pdf",
        "accident-norway.pdf",
    }
    # A name the question joins to another ("in Panama and in Peru") is still named when no
    # file mentions it.
    peru = Asker(asker.searcher, None).ask("What caused the accidents in Panama and in Peru?")
    assert peru.found and Path(peru.extract.path).name == "accident-panama.pdf"
    assert peru.unmentioned == ["Peru"] and peru.to_json()["unmentioned"] == ["Peru"]


def test_a_part_of_the_question_that_names_nothing_brings_its_own_sources(asker):
    # "What caused the accident in Panama" would limit the sources to files that mention
    # Panama; the other part, about the rowing club's boat, names nothing and has its own.
    question = "What caused the accident in Panama, and what did the rowing club buy?"
    seen: list[list[str]] = []
    # one sentence with a fact from each file, cited to one of them
    llm = ScriptedLlm(
        ["The Cessna crashed in 2019, and the club bought a boat for 38,500 pounds [1]."]
    )
    ans = Asker(asker.searcher, llm).ask(
        question, on_extract=lambda _q, hits: seen.append([h.path for h in hits])
    )
    assert ans.extract is not None, ans.to_json()  # setup: the sources were narrowed
    names = {Path(p).name for p in seen[0]}
    assert {"minutes-rowing.pdf", "accident-panama.pdf"} <= names, names
    assert "invoice.pdf" not in names
    # the sentence now cites both passages that hold its facts, and is grounded
    cited = {(Path(c.path).name, c.page) for c in ans.citations if c.cited}
    assert cited == {("accident-panama.pdf", 1), ("minutes-rowing.pdf", 2)}, ans.answer
    assert ans.sentences[0].grounded
    # A part that asks about something no file holds adds no source: "Peru" still decides.
    peru = Asker(asker.searcher, None).ask("What caused the accident in Peru and who was hurt?")
    assert not peru.found and peru.unmentioned == ["Peru"], peru.to_json()
