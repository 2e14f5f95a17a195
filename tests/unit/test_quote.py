"""The quoted answer sentence and the grounding check (logic; the embedder is the real one)."""

import dataclasses

import pytest

from indexer.ask import check_grounding, is_not_found, recite, restates, term_groups
from indexer.quote import (
    exact_terms,
    find_extract,
    holds_what_is_asked,
    named_terms,
    score_sentences,
    sentence_spans,
)
from indexer.search import Hit, number_forms
from tests.fakes import FakeSearcher, ScriptedLlm


def _hit(text: str, chunk: str = "c1", page: int | None = 1) -> Hit:
    return Hit(
        path="/files/report.pdf",
        page=page,
        section=None,
        score=1.0,
        snippet=text[:80],
        chunk_id=chunk,
        doc="d",
        text=text,
        start=0,
        end=len(text),
    )


def test_sentence_spans_keep_offsets_and_numbers_whole():
    text = "  The rent is 1,240.50 euros a month. Dr. Smith signed it!\n\nHeating is extra.  "
    spans = sentence_spans(text)
    parts = [text[a:b] for a, b in spans]
    assert parts[0] == "The rent is 1,240.50 euros a month."
    assert parts[-1] == "Heating is extra."
    assert all(not text[a].isspace() and not text[b - 1].isspace() for a, b in spans)


def test_exact_terms_are_numbers_and_names_not_sentence_starts():
    terms = exact_terms("When did the Cessna crash near David on 12 March 2019?")
    assert {"12", "2019", "march", "cessna", "david"} <= terms
    assert "when" not in terms


def test_extract_picks_the_answering_sentence_with_exact_offsets(embedder):
    # The case: the page that names Panama is not the page that gives the cause.
    page1 = _hit(
        "Aviation Accident Report AR-2019-07. On 12 March 2019 a Cessna 208 Caravan crashed "
        "shortly after take-off from Enrique Malek airport near David, Panama. The two pilots "
        "survived with minor injuries.",
        "p1",
        1,
    )
    page2 = _hit(
        "Probable cause. The investigation determined that the probable cause of the accident "
        "was fuel contamination with water, which led to a loss of engine power at 400 feet.",
        "p2",
        2,
    )
    other = _hit("The board meeting approved a new boat for the rowing club.", "c2")
    ex = find_extract("What caused the accident in Panama?", [other, page1, page2], embedder)
    assert ex is not None and ex.chunk_id == "p2", ex
    assert "fuel contamination" in ex.text
    assert page2.text[ex.start : ex.end] == ex.text
    assert ex.to_json()["start"] == ex.start


def test_extract_bar_rejects_unrelated_passages(embedder):
    hits = [_hit("The lawn mower blades are sharpened each spring before the first cut.")]
    q = "What is the interest rate on the car loan?"
    ranked = score_sentences(q, hits, embedder)
    assert find_extract(q, hits, embedder, bar=ranked[0].score + 0.01) is None
    assert find_extract(q, hits, embedder) is None  # the measured default bar


def test_grounding_flags_a_number_missing_from_the_cited_passage():
    hits = [
        _hit("The inverter warranty lasts 10 years from installation.", "a"),
        _hit("The panels carry a performance warranty of 25 years.", "b"),
    ]
    sents = check_grounding(
        "The inverter warranty lasts 10 years [1]. The panels last 30 years [2].", hits
    )
    assert [s.grounded for s in sents] == [True, False]
    assert sents[1].missing == ["30"]
    # A fact found only in the *other* source does not ground a cited sentence.
    wrong = check_grounding("The panels last 10 years [2].", hits)
    assert not wrong[0].grounded


def test_words_that_neither_the_question_nor_a_source_holds_are_the_models_own():
    hits = [_hit("Walk 12. The path follows the beck upstream to the falls, then climbs.")]
    question = "Who maintains the path to the falls?"
    invented = check_grounding("The path is maintained by the local community [1].", hits, question)
    assert not invented[0].grounded and invented[0].missing == ["community", "local", "maintain"]
    # one word of its own is a verb's other form or a paraphrase, not a fact
    took = check_grounding("The path climbed to the falls [1].", hits, "Where does the path go?")
    assert took[0].grounded
    said = "According to the sources, the path follows the beck to the falls [1]."
    assert check_grounding(said, hits, "Where does the path go?")[0].grounded


def test_the_questions_words_must_be_in_the_sources_a_sentence_cites():
    lease = dataclasses.replace(
        _hit("The monthly rent is 1,240 euros plus 210 euros for heating.", "lease"), page=2
    )
    title = {"d": "Residential lease for the apartment at Kastanienallee 41, Berlin."}
    quote = dataclasses.replace(
        _hit("Offer for a heat pump, installation in May.", "offer"), doc="o", page=1
    )
    q = "How much did the heat pump installation cost?"
    answer = "The heat pump installation cost 1,240 euros [1]."
    # the cited lease never speaks of a heat pump (another document does): two mixed up
    mixed = check_grounding(answer, [lease, quote], q, title)
    assert not mixed[0].grounded and mixed[0].missing == ["cost", "installation", "pump"]
    assert check_grounding("The rent is 1,240 euros [1].", [lease, quote], q, title)[0].grounded
    # the subject named in the document's title is the document's, though its page lacks it
    q = "How much is the rent of the Berlin apartment?"
    rent = check_grounding("The Berlin apartment's rent is 1,240 euros [1].", [lease], q, title)
    assert rent[0].grounded, rent
    untitled = check_grounding("The Berlin apartment's rent is 1,240 euros [1].", [lease], q)
    assert untitled[0].missing == ["berlin"]  # a name: checked as a fact


@pytest.mark.parametrize(
    ("answer", "question", "only_repeats"),
    [
        ("The study was published in the journal [1].", "Which journal published the study?", True),
        ("According to the sources, it was published [1].", "Was it published?", True),
        ("14 panels were installed [1].", "How many panels were installed?", False),
        ("It appeared in Sleep Research [1].", "Which journal published it?", False),
        ("Yes, bikes are covered [1].", "Are bikes covered?", False),
        ("[1]", "How many people were burned?", False),  # a bare marker points at the source
        ("The boiler runs on gas [1].", "Does the boiler run on gas or oil?", False),
    ],
)
def test_an_answer_that_only_repeats_the_question_says_nothing(answer, question, only_repeats):
    assert restates(answer, question) is only_repeats


def test_a_small_number_is_grounded_by_the_same_number_written_out():
    hits = [_hit("Students who slept eight hours recalled more words than the others.")]
    assert check_grounding("They slept 8 hours [1].", hits)[0].grounded
    nine = check_grounding("They slept 9 hours [1].", hits)[0]
    assert not nine.grounded and nine.missing == ["9"]


def test_an_ordinal_is_not_the_number_of_a_house_but_a_date_is_a_date():
    hits = [_hit("The apartment at Kastanienallee 41, Berlin. The lease starts on 12 March 2019.")]
    floor = check_grounding("The apartment is on the 41st floor [1].", hits)[0]
    assert not floor.grounded and floor.missing == ["41st"]
    start = check_grounding("The lease starts on March 12th, 2019 [1].", hits)[0]
    assert start.grounded, start


def test_a_sentence_that_cites_the_wrong_passage_cites_the_one_that_holds_its_facts():
    hits = [
        _hit("Invoice 2023-0412 from Helios Solar to Martina Keller, dated 18 April 2023.", "a"),
        _hit("Total amount due: 11,860 euros. Payment within 30 days.", "b"),
    ]
    answer = "The invoice must be paid within 30 days. [1]\nIt totals 11,860 euros [1, 2]."
    fixed = recite(answer, hits)
    # (the second sentence's sources hold its facts between them: left as cited)
    assert fixed == "The invoice must be paid within 30 days. [2]\nIt totals 11,860 euros [1, 2]."
    assert all(s.grounded for s in check_grounding(fixed, hits))
    # Two facts from two passages, cited to one of them: both are cited.
    two = recite("It totals 11,860 euros and is dated 18 April 2023 [2].", hits)
    assert two == "It totals 11,860 euros and is dated 18 April 2023 [1, 2]."
    assert check_grounding(two, hits)[0].grounded
    # Two documents: each part of the sentence must find its facts in one of them.
    panama = dataclasses.replace(
        _hit("The accident near David, Panama, was at night.", "p"), doc="p"
    )
    norway = dataclasses.replace(_hit("The runway held 4 centimetres of snow.", "n"), doc="n")
    mixed = "The accident in Panama happened in 4 centimetres of snow [1]."
    assert recite(mixed, [panama, norway]) == mixed  # one clause: the mix-up stays flagged
    assert not check_grounding(mixed, [panama, norway])[0].grounded
    both = "The accident was in Panama, and the runway held 4 centimetres of snow [2]."
    assert recite(both, [panama, norway]).endswith("[1, 2].")
    # Facts the cited passage holds, or that no passage holds, keep their markers.
    kept = "It is dated 18 April 2023 [1]. It was paid in 45 days [1]."
    assert recite(kept, hits) == kept
    assert [s.grounded for s in check_grounding(kept, hits)] == [True, False]


@pytest.mark.parametrize(
    ("reply", "declined"),
    [
        ("The average age of the students was not provided in the sources.", True),
        ("The sources do not mention which journal published it.", True),
        ("NOT IN FILES", True),
        ("", True),
        # an answer that says what a source leaves out is still an answer
        ("Nobody was hurt [1]. The report does not mention injuries to the crew.", False),
        ("The study was published in 2021 [1].", False),
    ],
)
def test_a_model_that_declines_in_its_own_words_has_not_found_it(reply, declined):
    assert is_not_found(reply) is declined


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("It lasts 10 years.", True),  # uncited: found in one source
        ("It was installed in Munich.", False),  # a place in no source
        ("It lasts long.", True),  # no facts to check
    ],
)
def test_grounding_uncited_sentences_need_one_source(answer, ok):
    hits = [_hit("The inverter warranty lasts 10 years from installation.")]
    assert check_grounding(answer, hits)[0].grounded is ok


def test_below_the_bar_the_model_is_not_asked_and_passages_are_possibly_related(embedder):
    from indexer.ask import Asker

    hits = [_hit("The lawn mower blades are sharpened each spring before the first cut.")]
    # Similar enough to pass retrieval's filter, so only the extract bar decides.
    searcher = FakeSearcher(hits, similarity=0.9)
    llm = ScriptedLlm(["The rate is 4% [1]."])
    seen = []
    ans = Asker(searcher, llm, embedder=embedder).ask(  # type: ignore[arg-type]
        "What is the interest rate on the car loan?", on_extract=lambda q, h: seen.append(q)
    )
    assert llm.prompts == [], "the model must not be asked when the files do not answer"
    assert seen == [None]
    assert not ans.found and ans.extract is None
    assert [c.chunk_id for c in ans.citations] == ["c1"] and not ans.citations[0].cited
    assert ans.to_json()["extract"] is None


def test_a_marker_after_the_full_stop_belongs_to_its_sentence():
    hits = [_hit("The probable cause was fuel contamination at 400 feet.")]
    sents = check_grounding("The cause in Peru was fuel contamination at 400 feet. [1]", hits)
    assert len(sents) == 1 and sents[0].cites == [1]
    assert not sents[0].grounded and sents[0].missing == ["peru"]


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("What caused the accident in Peru?", ["Peru"]),
        ("When did the Cessna crash near Panama City?", ["Cessna", "Panama City"]),
        ("How many passengers were on the Boeing 737?", ["Boeing", "737"]),
        ("What is Martina Keller's phone number?", ["Martina Keller"]),
        ("What did O'Brien tell the NTSB in 2023?", ["O'Brien", "NTSB", "2023"]),
        ("How much is 4,095 plus 2.5?", ["4,095"]),  # a decimal or a small number: not literal
        ("How many passengers were there?", []),
        ("Peru: what caused it?", []),  # the first word is capitalised anyway
        # identifiers written many ways, a two-letter acronym, digits inside words
        ("What do my papers say about this: CX3CR1 on Th2 cells in the UK in the 1990s?", []),
        # a code of capitals and two or more digits is written one way (or with a hyphen)
        ("What does error code F28 mean?", ["F28"]),
        ("What is the output of the Thermo CX24?", ["CX24"]),
        ("Which parts fit the A-320?", ["A-320"]),
        ("Is the F2 key or the 2FA code broken?", []),
        # German capitalises every noun: only numbers and codes count there
        ("Was kostet die Reparatur des Daches in München?", []),
        ("Wer hat das Boot im Jahr 2019 gekauft?", ["2019"]),
        ("Was bedeutet der Fehler F28 an der Therme?", ["F28"]),
        ("What did Der Spiegel report?", ["Der Spiegel"]),  # one German word is not German
    ],
)
def test_named_terms_are_the_plain_names_and_numbers_a_file_must_mention(question, terms):
    assert named_terms(question) == terms


def test_a_whole_number_is_looked_up_in_both_of_its_forms():
    assert number_forms("2000") == ["2000", "2,000"]
    assert number_forms("4,095") == ["4,095", "4095"]
    assert number_forms("737") == ["737"]
    assert number_forms("2.5") == ["2.5"]
    assert number_forms("0412") == ["0412"]


@pytest.mark.parametrize(
    ("question", "sentence", "holds"),
    [
        ("How many passengers were on board?", "The two pilots and six passengers survived.", True),
        ("How many bearings were corroded?", "Corrosion was found in 3 of the 8 bearings.", True),
        ("How many people were hurt?", "Nobody was hurt.", True),
        # a date, a year, a report number, a time or the question's own number is no count
        (
            "How many people were on board the Dash 8?",
            "Report AR-2020-02. On 3 February 2020 a Dash 8 overran the runway at 14:30.",
            False,
        ),
        ("How many students took part?", "The study ran from March 2019 to 2021.", False),
        # a decimal of four characters is a count, not a year (it crashed the check once)
        ("How many kilometres is the walk?", "A circular walk of 14.5 kilometres.", True),
        # the count must be of what is asked: its word soon after, or people for people
        ("How many people were burned?", "A walk of 14.5 km with 620 m of ascent.", False),
        ("How many people were burned?", "Four customers have reported minor burns.", True),
        ("How many employees does the firm have?", "It installed 14 photovoltaic panels.", False),
        ("How many bearings were corroded?", "Corrosion in 3 of the 8 steel bearings.", True),
        ("How many more visitors came?", "The museum had 4,000 more visitors.", True),
        ("How many were hurt?", "A walk of 14.5 km with 620 m of ascent.", True),
        # a number that names a thing counts nothing
        ("How many kettles are affected?", "Kettles with batch numbers 2302 to 2315.", False),
        ("How many tenants live there?", "The flat at 17 Millbrook Road, Leeds.", False),
        ("How many seats are in row 4?", "Row 4 has seats 12 to 18.", False),
        ("How much did the new boat cost?", "A new boat was bought for 38,500 pounds.", True),
        ("How much did the repair cost?", "It cost \u20ac1,200 including VAT.", True),
        ("How much did the repair cost?", "The total was 1.2 million dollars.", True),
        ("What was the price of the heat pump?", "Installed on 2 May by three engineers.", False),
        ("How much will replacing the bearings cost?", "Replace them within 18 months.", False),
        # "how much" without a price, and questions that ask neither, are not checked
        ("How much notice must the tenant give?", "Three months' notice.", True),
        ("Who chaired the meeting?", "Minutes of the meeting of 9 November 2021.", True),
    ],
)
def test_a_count_or_price_question_needs_a_count_or_an_amount(question, sentence, holds):
    assert holds_what_is_asked(question, sentence) is holds


@pytest.mark.parametrize(
    ("sentence", "holds"),
    [
        ("Payment within 30 days.", True),
        ("The invoice is payable within thirty calendar days.", True),
        # a count of something else is not a number of days
        ("Installation of 14 photovoltaic panels on 18 April 2023.", False),
    ],
)
def test_how_many_of_a_unit_needs_a_number_of_that_unit(sentence, holds):
    question = "Within how many days must the solar invoice be paid?"
    assert holds_what_is_asked(question, sentence) is holds


@pytest.mark.parametrize(
    ("question", "groups"),
    [
        ("What caused the accidents in Panama and in Norway?", [["Panama"], ["Norway"]]),
        ("Were there accidents in Panama, Norway or Chile?", [["Panama"], ["Norway"], ["Chile"]]),
        # names in one clause go together; "and" between clauses starts another group
        (
            "When did the Cessna crash near David and the Dash 8 overrun at Bodo?",
            [["Cessna", "David"], ["Dash", "Bodo"]],
        ),
        ("What did the Riverside Rowing Club decide in 2023?", [["Riverside Rowing Club", "2023"]]),
    ],
)
def test_names_the_question_joins_are_alternatives(question, groups):
    assert term_groups(question, named_terms(question)) == groups
