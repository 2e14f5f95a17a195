from indexer.snippet import is_listing, make_snippet, query_terms, stem


def test_stemming_matches_plural_and_singular():
    assert stem("warranties") == stem("warranty")
    assert stem("inverters") == stem("inverter")


def test_snippet_window_contains_match_and_highlights_it():
    text = (
        "Unrelated words. " * 40
        + "The warranty period for the inverter is twelve years."
        + " More filler." * 40
    )
    snip = make_snippet(text, "inverter warranty", width=120)
    assert "warranty period" in snip.text
    words = {snip.text[a:b].lower() for a, b in snip.highlights}
    assert {"warranty", "inverter"} <= words
    assert snip.text.startswith("… ") and snip.text.endswith(" …")


def test_quoted_phrase_is_highlighted_whole():
    _terms, phrases = query_terms('"cooling fans" cost')
    assert phrases == ["cooling fans"]
    snip = make_snippet("The cooling fans were replaced.", '"cooling fans"')
    assert (4, 16) in snip.highlights


def test_words_in_unspaced_scripts_are_highlighted_inside_runs():
    text = "我们明天去北京开会讨论预算。東京の天気は晴れです。"
    snip = make_snippet(text, "北京 预算")
    assert {snip.text[a:b] for a, b in snip.highlights} == {"北京", "预算"}
    # A longer query run is matched by its two-character pieces.
    snip = make_snippet(text, "天気予報")
    assert [snip.text[a:b] for a, b in snip.highlights] == ["天気"]
    terms, phrases = query_terms("Müller 北京")
    assert terms == ["müller"] and phrases == ["北京"]


CONTENTS = (
    "Contents 1 Introduction . . . . . . . . . . . . 1 2 Installing . . . . . . . . . . 3 "
    "2.1 Choosing a mirror . . . . . . . . . 4 2.2 Verifying the download . . . . . . . 6 "
    "3 Basic usage . . . . . . . . . . . . 9"
)
BOOK_INDEX = (
    "Index mirrors, 4, 12 checksums, 6 download, 3, 6 installer, 3 keyboard, 21 locale, 22 "
    "network, 14 partitions, 17, 18 passwords, 25 printing, 30"
)


def test_contents_and_back_of_book_index_pages_are_listings():
    assert is_listing(CONTENTS) and is_listing(BOOK_INDEX)


def test_prose_with_numbers_and_ellipses_is_not_a_listing():
    prose = [
        "The hazard ratio was 1.8 (95% CI, 1.2 to 2.6; P, 0.01) in women, 2.1 in men, and "
        "rose at 6, 12 and 24 months... We measured 4, 8, 16 and 32 threads. Wait... what?",
        "Revenue, 2023: 1,250,000 euros; costs, 2023: 980,000 euros; margin, 2023: 22%.",
        "Chapter 2 explains installing. See page 3 for mirrors and page 6 for checksums.",
    ]
    assert not any(is_listing(p) for p in prose)


def test_dot_leaders_are_shortened_in_snippets_and_highlights_still_fit():
    snip = make_snippet(CONTENTS, "verifying the download")
    assert ". . . ." not in snip.text and "Verifying the download … 6" in snip.text
    assert [snip.text[a:b].lower() for a, b in snip.highlights] == ["verifying", "download"]
