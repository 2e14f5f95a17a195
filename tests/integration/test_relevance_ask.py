"""Search relevance and grounded answers on a small real corpus (real ONNX + real llama.cpp)."""

from pathlib import Path

import pytest

from indexer.ask import NOT_FOUND_TEXT, Asker, support
from indexer.pipeline import Indexer
from indexer.search import SearchConfig, Searcher
from tests.conftest import index_config, make_docx, make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PAGES = {
    "household.pdf": [
        "Kitchen appliances. The dishwasher should be descaled every three months "
        "with citric acid.",
        "Heating. The boiler was serviced in March; the engineer, Ottoline Pemberton-Vasquez, "
        "replaced the pressure valve.",
        "Garden. The lawn mower blades are sharpened each spring before the first cut.",
    ],
    "finance.pdf": [
        "Insurance. Policy number QX-88213-ZB covers water damage up to 20,000 euros.",
        "Pension. Contributions rise to eight percent of gross salary from next January.",
        "Car. The vehicle loan will be fully repaid in the autumn of 2027.",
    ],
}


@pytest.fixture(scope="module")
def index(tmp_path_factory, embedder):
    d = tmp_path_factory.mktemp("corpus")
    for name, pages in PAGES.items():
        make_pdf(d / name, pages)
    make_docx(
        d / "pets.docx",
        [("Pets", 1), ("Our dog Biscuit must take his heartworm tablet monthly.", 0)],
    )
    # A distractor that matches the question's words better than the page with the answer.
    (d / "boiler-faq.md").write_text(
        "# Who replaced the boiler pressure valve?\n\nA boiler pressure valve is replaced when the "
        "boiler pressure valve leaks. Who replaced the pressure valve on the boiler matters less "
        "than the valve rating.\n"
    )
    (d / "travel.md").write_text("# Travel\n\nPassports expire in 2029; renew six months ahead.\n")
    idx = d.parent / (d.name + "-index")
    with Indexer(index_config(idx, d), embedder) as ix:
        assert ix.sync().failed == 0
    return d, idx


# Paraphrases that share no content word with the passage that answers them.
MEANING = [
    ("how often must I clean limescale out of the machine that washes plates", "household.pdf", 1),
    ("when will the automobile credit be paid off", "finance.pdf", 3),
    ("retirement savings percentage increase", "finance.pdf", 2),
    ("medicine schedule for the puppy", "pets.docx", None),
]
# Only the literal string can find these.
KEYWORD = [
    ("QX-88213-ZB", "finance.pdf", 1),
    ("Pemberton-Vasquez", "household.pdf", 2),
]


def _rank(hits, name, page):
    for i, h in enumerate(hits):
        if Path(h.path).name == name and (page is None or h.page == page):
            return i
    return None


@pytest.mark.parametrize(("query", "name", "page"), MEANING + KEYWORD)
def test_hybrid_puts_answer_in_top3(index, embedder, query, name, page):
    _, idx = index
    hits = Searcher(idx, embedder).search(query, 10).hits
    r = _rank(hits, name, page)
    assert r is not None and r < 3, [(Path(h.path).name, h.page) for h in hits[:5]]


def test_each_half_alone_misses_what_the_other_finds(index, embedder):
    _, idx = index
    s = Searcher(idx, embedder)
    kw = SearchConfig(mode="keyword")
    misses = [q for q, n, p in MEANING if _rank(s.search(q, 3, config=kw).hits, n, p) is None]
    assert misses, "keyword search alone should miss some paraphrases"


def test_ask_cites_right_page_when_answer_is_not_top_hit(index, embedder, llm):
    _, idx = index
    searcher = Searcher(idx, embedder)
    question = "Who replaced the pressure valve on the boiler?"
    hits = searcher.search(question, 5).hits
    assert _rank(hits, "household.pdf", 2) not in (None, 0), "setup: answer must not be top hit"
    asker = Asker(searcher, llm)
    passages = asker.retrieve(question)
    assert any(Path(h.path).name == "household.pdf" and h.page == 2 for h in passages)
    tokens = []
    ans = asker.ask(question, on_token=tokens.append)
    assert tokens, "the answer must stream"
    assert ans.found
    top = ans.citations[0]
    assert (Path(top.path).name, top.page) == ("household.pdf", 2), ans.to_json()
    # Citations are sorted cited-first, then by support, so "top" alone proves little: check
    # against the passages themselves that the answer rests on page 2, not on the top hit.
    page2 = next(h for h in passages if Path(h.path).name == "household.pdf" and h.page == 2)
    assert support(ans.answer, page2.text) > support(ans.answer, hits[0].text), ans.to_json()


def test_ask_says_so_when_nothing_relevant(index, embedder, llm):
    _, idx = index
    asker = Asker(Searcher(idx, embedder), llm)
    question = "What is the airspeed velocity of an unladen swallow in Jupiter's orbit?"
    # This is the retrieval gate's refusal: no passage is close enough to reach the model. The
    # model's own "not in files" reply on related passages is tested in
    # tests/unit/test_ask_citations.py (the default 135M model cannot be relied on to refuse).
    assert Searcher(idx, embedder).search(question, 5).hits, "setup: the index is not empty"
    assert asker.retrieve(question) == []
    ans = asker.ask(question)
    # The closest passages come back as "possibly related", none of them as a source.
    assert not ans.found and ans.answer == NOT_FOUND_TEXT
    assert not any(c.cited for c in ans.citations), ans.to_json()


def test_the_page_a_contents_or_index_page_points_to_ranks_above_it(tmp_path, embedder):
    d = tmp_path / "docs"
    make_pdf(
        d / "handbook.pdf",
        [
            "Contents\n1 Introduction . . . . . . . . . . . . . . 2\n"
            "2 Verifying the download . . . . . . . . 3\n"
            "3 Choosing a mirror . . . . . . . . . . 4\n"
            "4 Partitioning the disk . . . . . . . . . 4\n"
            "Index . . . . . . . . . . . . . . . . . 5",
            "Introduction. This handbook walks you through a first installation.",
            "Verifying the download. Compare the SHA-256 sum of the image you fetched with the "
            "value published on the project's site before writing it to a stick.",
            "Choosing a mirror. Pick a server close to you. Partitioning the disk. Keep a "
            "separate home partition.",
            "Index\ndisk, 4\ndownload, 3\nhome partition, 4\nimage, 3\ninstallation, 2\n"
            "mirror, 4\npartitioning, 4\nserver, 4\nSHA-256, 3\nverifying, 3",
        ],
    )
    idx = tmp_path / "index"
    with Indexer(index_config(idx, d), embedder) as ix:
        assert ix.sync().added == 1
    hits = Searcher(idx, embedder).search("verifying the download", 5).hits
    pages = [h.page for h in hits]
    assert pages[0] == 3, pages
    assert pages.index(1) > 0 and (5 not in pages or pages.index(5) > 0), pages
