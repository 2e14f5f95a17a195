"""One parser for every front end: search words, prefixes and the filters they imply."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from indexer.query import NO_FOLDER, Query, SearchFilters, parse, parse_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024", datetime(2024, 1, 1)),
        ("2024-03", datetime(2024, 3, 1)),
        ("2024-3-9", datetime(2024, 3, 9)),
        ("2024-02-29", datetime(2024, 2, 29)),
        ("2024-01-15T10:30", datetime(2024, 1, 15, 10, 30)),  # the CLI's full ISO form
        (" 2025-12-31 ", datetime(2025, 12, 31)),
    ],
)
def test_dates_are_the_start_of_their_period(value: str, expected: datetime) -> None:
    assert parse_date(value) == expected.timestamp()


@pytest.mark.parametrize(
    "value", ["soon", "2023-02-29", "2024-13", "2024-00", "1969", "2201-01-01", "24-01", ""]
)
def test_bad_dates_are_none(value: str) -> None:
    assert parse_date(value) is None


def test_prefixes_are_recognised_with_their_spans() -> None:
    raw = "pdf: solar in:Papers after:2024-01 panels"
    q = parse(raw)
    assert isinstance(q, Query) and q.raw == raw
    assert q.text == "solar panels"
    assert [(p.kind, p.token) for p in q.prefixes] == [
        ("type", "pdf:"),
        ("folder", "in:Papers"),
        ("after", "after:2024-01"),
    ]
    for p in q.prefixes:
        assert raw[p.span[0] : p.span[1]] == p.token
    assert q.narrowed


def test_type_aliases_and_values_glued_to_a_type() -> None:
    q = parse("DOC:budget text: md:notes pdf: PDF:")
    assert q.types == ("docx", "txt", "md", "pdf")  # each once, aliases mapped
    assert q.text == "budget notes"
    assert [p.label for p in q.prefixes] == ["DOCX", "TXT", "MD", "PDF"]


def test_unknown_prefixes_and_colons_stay_search_words() -> None:
    q = parse("ratio 3:4 http://example.org todo:later")
    assert q.text == "ratio 3:4 http://example.org todo:later"
    assert q.prefixes == () and not q.narrowed and q.filters is None


def test_quoted_words_are_never_prefixes() -> None:
    q = parse('"after:lunch meeting" pdf: "in:Papers"')
    assert q.text == '"after:lunch meeting" "in:Papers"'
    assert q.types == ("pdf",) and q.after is None and q.folder_names == ()


def test_bad_dates_become_error_chips_and_narrow_nothing() -> None:
    q = parse("before:yesterday after:2024-13 report")
    assert q.before is None and q.after is None
    assert [p.kind for p in q.prefixes] == ["error", "error"]
    assert "yesterday" in q.prefixes[0].label and q.text == "report"
    assert q.filters is None


def test_half_typed_prefixes_are_dropped() -> None:
    q = parse("in: after: before: report")
    assert q.text == "report" and q.prefixes == () and q.filters is None


def test_filters_merge_with_the_base_a_prefix_replacing_its_kind() -> None:
    base = SearchFilters(folders=("/data",), types=("docx",), modified_after=5.0)
    q = parse("pdf: before:2024 solar", base_filters=base)
    f = q.filters
    assert f == SearchFilters(
        folders=("/data",),
        types=("pdf",),
        modified_after=5.0,
        modified_before=datetime(2024, 1, 1).timestamp(),
    )
    assert parse("solar", base_filters=base).filters == base
    assert parse("solar", base_filters=SearchFilters()).filters is None


def test_folder_names_must_be_resolved_before_filters(tmp_path: Path) -> None:
    root = tmp_path / "Docs"
    (root / "a" / "Papers").mkdir(parents=True)
    q = parse("in:papers solar", base_filters=SearchFilters(folders=(str(root),)))
    assert not q.resolved
    with pytest.raises(ValueError, match="resolve"):
        _ = q.filters
    r = q.resolve([str(root)])
    assert r.resolved and r.filters is not None
    assert r.filters.folders == (str(root / "a" / "Papers"),)  # replaces the base folder
    nowhere = parse("in:nowhere solar").resolve([str(root)])
    assert nowhere.filters == SearchFilters(folders=(NO_FOLDER,))
    assert parse("solar").resolve([str(root)]) == parse("solar")
