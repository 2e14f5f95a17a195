from indexer.snippet import make_snippet, query_terms, stem


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
