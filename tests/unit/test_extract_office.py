"""PPTX, XLSX/XLSM and RTF, built with each format's own library, plus one damaged file each."""

import pytest

from indexer.errors import CorruptError, EncryptedError
from indexer.extract import extract


def make_pptx(path):
    import pptx
    from pptx.util import Inches

    prs = pptx.Presentation()
    s1 = prs.slides.add_slide(prs.slide_layouts[1])
    s1.shapes.title.text = "Quarterly results"
    s1.placeholders[1].text_frame.text = "Revenue grew by nine percent"
    s1.notes_slide.notes_text_frame.text = "Mention the new warehouse in Lyon"
    s2 = prs.slides.add_slide(prs.slide_layouts[5])
    s2.shapes.title.text = "Regions"
    table = s2.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (r, c), text in {(0, 0): "Region", (0, 1): "Sales", (1, 0): "North", (1, 1): "42"}.items():
        table.cell(r, c).text = text
    prs.save(path)
    return path


def test_pptx_slides_titles_tables_notes(tmp_path):
    doc = extract(make_pptx(tmp_path / "deck.pptx"))
    assert doc.paged and [s.page for s in doc.segments] == [1, 2]
    first, second = doc.segments
    assert first.heading == "Quarterly results"
    assert [b.text for b in first.blocks] == [
        "Quarterly results",
        "Revenue grew by nine percent",
        "Speaker notes: Mention the new warehouse in Lyon",
    ]
    assert second.heading == "Regions" and "North | 42" in second.text


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_xlsx_sheets_rows_with_header(tmp_path, suffix):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Inventory"
    ws.append(["Item", "Count", "Shelf"])
    ws.append(["Bolts", 120, "B3"])
    ws.append([None, None, None])
    ws.append(["Washers", 2.0, "C1"])
    wb.create_sheet("Notes").append(["Reorder when below fifty"])
    p = tmp_path / f"stock{suffix}"
    wb.save(p)
    doc = extract(p)
    assert [s.heading for s in doc.segments] == ["Inventory", "Notes"]
    assert [b.text for b in doc.segments[0].blocks] == [
        "Item: Bolts; Count: 120; Shelf: B3",
        "Item: Washers; Count: 2; Shelf: C1",
    ]
    assert doc.segments[1].text == "Reorder when below fifty"


def test_rtf_paragraphs_and_escapes(tmp_path):
    p = tmp_path / "letter.rtf"
    p.write_bytes(
        b"{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f0 Arial;}}\\f0\\fs24 "
        b"Dear Ren\\'e9,\\par The caf\\'e9 opens at {\\b nine}.\\par}"
    )
    assert [b.text for b in extract(p).segments[0].blocks] == [
        "Dear René,",
        "The café opens at nine.",
    ]


def test_damaged_office_files_get_specific_states(tmp_path):
    deck = make_pptx(tmp_path / "deck.pptx")
    truncated = tmp_path / "truncated.pptx"
    truncated.write_bytes(deck.read_bytes()[: deck.stat().st_size // 2])
    with pytest.raises(CorruptError, match="PPTX"):
        extract(truncated)
    # An OLE compound file without an encrypted package: an old binary file renamed.
    old_binary = tmp_path / "old.xlsx"
    old_binary.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    with pytest.raises(CorruptError, match="old binary Office file"):
        extract(old_binary)
    notrtf = tmp_path / "broken.rtf"
    notrtf.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(CorruptError, match="RTF"):
        extract(notrtf)


def test_password_protected_workbook_is_reported_as_encrypted(tmp_path):
    """A workbook really encrypted with a password (Agile encryption, as Excel writes it)."""
    import msoffcrypto.format.ooxml
    import openpyxl

    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["account", "balance"])
    wb.active.append(["savings", 1200])
    wb.save(plain)
    locked = tmp_path / "salaries.xlsx"
    with plain.open("rb") as src, locked.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(src).encrypt("s3cret", out)
    assert locked.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    with pytest.raises(EncryptedError, match="XLSX file is password-protected"):
        extract(locked)
