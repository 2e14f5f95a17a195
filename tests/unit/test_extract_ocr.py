"""OCR through the real rapidocr-onnxruntime models: scanned PDFs and image files."""

import pymupdf
import pytest

from indexer.errors import CorruptError, NoTextError
from indexer.extract import extract
from tests.conftest import shared_path

pytestmark = pytest.mark.timeout(120)

KNOWN = "The inverter warranty lasts twelve years. Serial ZX-5521 is under the lid."


def _page_png(text, dpi):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(pymupdf.Rect(72, 72, 520, 760), text, fontsize=14)
    return page.get_pixmap(dpi=dpi).tobytes("png")


def test_scanned_pdf_from_the_corpus_is_read_by_ocr():
    # francais.pdf is a scanned page without a text layer (MANIFEST_pypdf.csv: no-text-layer).
    doc = extract(shared_path("corpus", "bad-pdfs", "pikepdf", "pdfa", "francais.pdf"))
    text = doc.segments[0].text.lower()
    assert doc.segments[0].page == 1
    assert "whisky au juge" in text and "capharna" in text


def test_png_image_is_read_by_ocr(tmp_path):
    p = tmp_path / "note.png"
    p.write_bytes(_page_png(KNOWN, 150))
    text = extract(p).segments[0].text
    assert "inverter warranty lasts twelve years" in text and "ZX-5521" in text


def test_scanned_pdf_built_from_an_image(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(page.rect, stream=_page_png(KNOWN, 200))
    p = tmp_path / "scan.pdf"
    doc.save(p)
    assert "ZX-5521" in extract(p).segments[0].text


def test_blank_and_garbage_images(tmp_path):
    blank = tmp_path / "blank.png"
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 300, 200), False)
    pix.set_rect(pix.irect, (255, 255, 255))
    blank.write_bytes(pix.tobytes("png"))
    with pytest.raises(NoTextError):
        extract(blank)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    with pytest.raises(CorruptError, match="image"):
        extract(bad)


def test_passage_is_ocr_only_for_scanned_pages_and_images(tmp_path):
    from indexer.extract.ocr import passage_is_ocr

    scan = shared_path("corpus", "bad-pdfs", "pikepdf", "pdfa", "francais.pdf")
    assert passage_is_ocr(str(scan), 1)
    text_pdf = tmp_path / "t.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "A page with a text layer.")
    doc.save(text_pdf)
    assert not passage_is_ocr(str(text_pdf), 1)
    assert passage_is_ocr(str(tmp_path / "photo.JPG"), None)
    assert not passage_is_ocr(str(tmp_path / "gone.pdf"), 1)


def test_ocr_results_are_cached_by_page_image_hash(tmp_path):
    from indexer.extract import ExtractLimits

    cache = tmp_path / "ocr-cache"
    limits = ExtractLimits(ocr_cache_dir=cache)
    first = tmp_path / "a.png"
    first.write_bytes(_page_png(KNOWN, 150))
    assert "ZX-5521" in extract(first, limits).segments[0].text
    (entry,) = cache.rglob("*.json")
    # A second copy under another name is answered from the cache (edited here to prove it).
    entry.write_text('["read from the cache"]', "utf-8")
    copy = tmp_path / "renamed copy.png"
    copy.write_bytes(first.read_bytes())
    assert extract(copy, limits).segments[0].text == "read from the cache"
    assert len(list(cache.rglob("*.json"))) == 1


def test_cache_keeps_boxes_and_reads_old_entries_without_them(tmp_path):
    from indexer.extract import ocr

    result = ocr.OcrResult(["Serial ZX-5521"], [ocr.TextBox(0.1, 0.2, 0.5, 0.25, "Serial ZX-5521")])
    ocr.store_result("ab" * 32, result, tmp_path)
    assert ocr.cached_result("ab" * 32, tmp_path) == result
    assert ocr.cached_lines("ab" * 32, tmp_path) == ["Serial ZX-5521"]
    old = tmp_path / "cd" / f"{'cd' * 32}.json"
    old.parent.mkdir()
    old.write_text('["line one", "line two"]', "utf-8")  # written before boxes were kept
    assert ocr.cached_result("cd" * 32, tmp_path) == ocr.OcrResult(["line one", "line two"], [])
    damaged = tmp_path / "ef" / f"{'ef' * 32}.json"
    damaged.parent.mkdir()
    damaged.write_text('{"lines": ["kept"], "boxes": [[0.1, "x"], [0, 0, 1, 1, "ok"]]}', "utf-8")
    assert ocr.cached_result("ef" * 32, tmp_path) == ocr.OcrResult(
        ["kept"], [ocr.TextBox(0, 0, 1, 1, "ok")]
    )


def test_box_coordinates_are_page_relative_and_scale_to_any_zoom():
    from indexer.extract.boxes import matching_boxes, scale_box
    from indexer.extract.ocr import TextBox, png_size, relative_box

    # rapidocr's four corners in the pixels of a 400 x 200 image (one point outside it)
    box = relative_box([[40, 20], [200, 22], [201, 60], [39, 58.5], [410, 30]], 400, 200)
    assert box == (39 / 400, 20 / 200, 1.0, 60 / 200)
    x, y, w, h = scale_box((0.1, 0.2, 0.5, 0.3), 1000, 500)
    assert (x, y) == (100, 100) and abs(w - 400) < 1e-9 and abs(h - 50) < 1e-9
    boxes = [TextBox(0, 0, 0.5, 0.1, "The Inverter warranty"), TextBox(0, 0.2, 1, 0.3, "inverters")]
    assert matching_boxes(boxes, ["inverter"]) == [(0, 0, 0.5, 0.1)]  # whole words only
    assert matching_boxes(boxes, ["INVERTERS lasts"]) == [(0, 0.2, 1, 0.3)]
    assert matching_boxes(boxes, []) == []
    pix = pymupdf.open().new_page(width=300, height=100).get_pixmap(dpi=144)
    assert png_size(pix.tobytes("png")) == (pix.width, pix.height) == (600, 200)
    with pytest.raises(ValueError):
        png_size(b"GIF89a" + bytes(30))


def test_ocr_boxes_of_an_image_file_cover_the_word(tmp_path):
    from indexer.extract import ExtractLimits
    from indexer.extract.boxes import ocr_boxes

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_textbox(pymupdf.Rect(72, 72, 520, 760), KNOWN, fontsize=14)
    (true,) = page.search_for("warranty")
    p = tmp_path / "note.png"
    p.write_bytes(page.get_pixmap(dpi=150).tobytes("png"))
    cache = tmp_path / "cache"
    assert ocr_boxes(str(p), None, ["warranty"], cache) == []  # nothing cached yet
    extract(p, ExtractLimits(ocr_cache_dir=cache))
    boxes = ocr_boxes(str(p), None, ["warranty"], cache)
    assert boxes
    w, h = page.rect.width, page.rect.height
    assert any(
        x0 * w < true.x1 and true.x0 < x1 * w and y0 * h < true.y1 and true.y0 < y1 * h
        for x0, y0, x1, y1 in boxes
    )
    assert ocr_boxes(str(p), None, ["absent"], cache) == []
    assert ocr_boxes(str(tmp_path / "gone.png"), None, ["warranty"], cache) == []
