"""What the Ask page writes for an answer: the quote card and sentences not in the sources."""

import pytest
from PySide6.QtGui import QTextDocument

from app.gui.ask_view import answer_html, extract_html
from app.gui.asking import AskOutcome
from indexer.ask import Answer, Citation, Sentence
from indexer.quote import Extract

pytestmark = pytest.mark.gui


def _cite(n, cited):
    return Citation(n, f"/f/r{n}.pdf", n, f"snippet {n}", f"c{n}", cited=cited)


def _plain(rich: str) -> str:
    doc = QTextDocument()
    doc.setHtml(rich)
    return doc.toPlainText()


def test_card_quotes_file_page_and_sentence_and_says_not_found_without_one(qapp):
    quote = Extract("The rent is 1,240 euros.", "/f/lease.pdf", 2, "c9", 10, 34, 0.7)
    card = extract_html(quote, "How much is the rent?")
    assert _plain(card) == "From lease.pdf, page 2: \u00abThe rent is 1,240 euros.\u00bb"
    assert "<b>1,240</b>" in card  # the words that answer, emphasised
    assert '<a href="extract:">lease.pdf, page 2</a>' in card  # opens the sentence's page
    assert "Not found in your files" in extract_html(None)


def test_sentences_missing_from_the_sources_are_struck_and_labelled(qtbot):
    from app.gui.inline_answer import InlineAnswer

    ans = Answer(
        "It costs 1,240 euros [1]. It was signed in Munich [2].",
        found=True,
        citations=[_cite(1, True), _cite(2, True)],
        sentences=[
            Sentence("It costs 1,240 euros [1].", [1], True),
            Sentence("It was signed in Munich [2].", [2], False, ["munich"]),
        ],
    )
    html = answer_html(AskOutcome("q", ans))
    assert html.count("not in the sources") == 1
    assert "<s>It was signed in Munich" in html
    assert '<a href="cite:1">1</a>' in html and "<s>It costs" not in html
    # the launcher's inline answer likewise
    inline = InlineAnswer()
    qtbot.addWidget(inline)
    inline.finish(AskOutcome("Where was it signed?", ans))
    rich = inline.html()
    assert rich.count("not in the sources") == 1 and "<s>It was signed in Munich" in rich
    assert "<s>It costs" not in rich and '<a href="cite:1">[1]</a>' in rich
    assert "It costs 1,240 euros [1]. It was signed in Munich [2]." in inline.toPlainText()


def test_not_found_lists_closest_passages_as_possibly_related():
    ans = Answer("I couldn't find it.", found=False, citations=[_cite(1, False)])
    html = answer_html(AskOutcome("q", ans))
    assert "Possibly related" in html and "r1.pdf" in html


def test_not_found_names_what_no_file_mentions_on_the_page_and_in_the_launcher(qtbot):
    from app.gui.inline_answer import InlineAnswer

    ans = Answer(
        "Nothing in your files mentions \u201cPeru\u201d.",
        found=False,
        citations=[_cite(1, False)],
        unmentioned=["Peru"],
    )
    assert "mentions \u201cPeru\u201d" in _plain(answer_html(AskOutcome("q", ans)))
    inline = InlineAnswer()
    qtbot.addWidget(inline)
    inline.finish(AskOutcome("What caused the accident in Peru?", ans))
    text = inline.toPlainText()
    assert "Not found in your files" in text and "mentions \u201cPeru\u201d" in text
    assert "r1.pdf" in text  # the closest passage, as possibly related


def test_a_found_answer_still_names_what_no_file_mentions(qtbot):
    from app.gui.inline_answer import InlineAnswer

    ans = Answer(
        "Fuel contamination with water [1].",
        found=True,
        citations=[_cite(1, True)],
        unmentioned=["Peru"],
    )
    page = _plain(answer_html(AskOutcome("Causes in Panama and in Peru?", ans)))
    assert (
        "Fuel contamination" in page and "Nothing in your files mentions \u201cPeru\u201d" in page
    )
    inline = InlineAnswer()
    qtbot.addWidget(inline)
    inline.finish(AskOutcome("Causes in Panama and in Peru?", ans))
    text = inline.toPlainText()
    assert "Fuel contamination" in text and "mentions \u201cPeru\u201d" in text
    # without such a name, no such line
    plain = Answer("Fuel contamination with water [1].", found=True, citations=[_cite(1, True)])
    assert "mentions" not in _plain(answer_html(AskOutcome("q", plain)))
