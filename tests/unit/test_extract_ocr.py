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
