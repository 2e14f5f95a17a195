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


def test_words_in_unspaced_scripts_are_highlighted_inside_runs():
    text = "我们明天去北京开会讨论预算。東京の天気は晴れです。"
    snip = make_snippet(text, "北京 预算")
    assert {snip.text[a:b] for a, b in snip.highlights} == {"北京", "预算"}
    # A longer query run is matched by its two-character pieces.
    snip = make_snippet(text, "天気予報")
    assert [snip.text[a:b] for a, b in snip.highlights] == ["天気"]
    terms, phrases = query_terms("Müller 北京")
    assert terms == ["müller"] and phrases == ["北京"]
