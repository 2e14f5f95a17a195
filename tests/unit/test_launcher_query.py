"""The launcher's narrowing prefixes (parsed by :mod:`indexer.query`, shown as chips)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from indexer import query as lq


def test_prefixes_become_filters_and_chips(tmp_path: Path) -> None:
    q = lq.parse("pdf: solar in:Papers after:2024-01 before:2025 panels")
    assert q.text == "solar panels"
    assert q.types == ("pdf",)
    assert q.folder_names == ("Papers",)
    assert q.after == datetime(2024, 1, 1).timestamp()
    assert q.before == datetime(2025, 1, 1).timestamp()
    assert [c.label for c in q.prefixes] == ["PDF", "in Papers", "after 2024-01", "before 2025"]


def test_words_with_colons_and_half_typed_prefixes() -> None:
    assert lq.parse("ratio 3:4 http://x").text == "ratio 3:4 http://x"
    q = lq.parse("docx:budget in: after:")
    assert q.types == ("docx",) and q.text == "budget" and not q.folder_names
    bad = lq.parse("after:soon report")
    assert bad.after is None and bad.prefixes[0].kind == "error" and bad.text == "report"


def test_folder_names_resolve_to_indexed_folders(tmp_path: Path) -> None:
    root = tmp_path / "Docs"
    (root / "work" / "Papers").mkdir(parents=True)
    (root / "Other").mkdir()
    found = lq.resolve_folders(("papers",), [str(root)])
    assert found == (str(root / "work" / "Papers"),)
    assert lq.resolve_folders(("docs",), [str(root)]) == (str(root),)
    f = lq.parse("in:nowhere x").resolve([str(root)]).filters
    assert f is not None and f.folders and not Path(f.folders[0]).exists()
    assert lq.parse("plain words").resolve([str(root)]).filters is None
