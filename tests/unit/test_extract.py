import subprocess
import sys
from pathlib import Path

import pytest

from indexer.errors import EmptyFileError, EncryptedError, UnsupportedError
from indexer.extract import extract
from tests.conftest import make_docx, make_pdf, shared_path


def test_pdf_pages_and_outline(tmp_path):
    p = make_pdf(
        tmp_path / "a.pdf",
        ["First page text.", "Second page text."],
        toc=[(1, "Intro", 1), (1, "Details", 2)],
    )
    doc = extract(p)
    assert doc.paged and [s.page for s in doc.segments] == [1, 2]
    assert doc.segments[1].heading == "Details"
    assert "Second page" in doc.segments[1].text


def test_docx_headings_and_paragraphs(tmp_path):
    p = make_docx(tmp_path / "a.docx", [("Budget", 1), ("We spent less.", 0)])
    doc = extract(p)
    blocks = doc.segments[0].blocks
    assert (blocks[0].text, blocks[0].level) == ("Budget", 1)
    assert blocks[1].text == "We spent less."


def test_markdown_and_html(tmp_path):
    md = tmp_path / "n.md"
    md.write_text("# Title\n\nPara one\ncontinues.\n\n## Sub\n\nPara two.\n")
    b = extract(md).segments[0].blocks
    assert [(x.text, x.level) for x in b] == [
        ("Title", 1),
        ("Para one continues.", 0),
        ("Sub", 2),
        ("Para two.", 0),
    ]
    html = tmp_path / "p.html"
    html.write_text(
        "<html><head><title>T</title><script>x=1</script></head><body>"
        "<h2>Head</h2><p>Body &amp; soul</p></body></html>"
    )
    d = extract(html)
    assert d.title == "T"
    assert [(x.text, x.level) for x in d.segments[0].blocks] == [("Head", 2), ("Body & soul", 0)]


def test_non_utf8_text_is_read(tmp_path):
    p = tmp_path / "latin.txt"
    p.write_bytes("Café déjà vu".encode("cp1252"))
    assert "Café" in extract(p).segments[0].text


def test_errors_have_states(tmp_path):
    (tmp_path / "e.pdf").write_bytes(b"")
    with pytest.raises(EmptyFileError):
        extract(tmp_path / "e.pdf")
    (tmp_path / "x.xyz").write_text("hi")
    with pytest.raises(UnsupportedError):
        extract(tmp_path / "x.xyz")


def test_encrypted_pdf_from_shared_corpus():
    p = next(shared_path("corpus", "bad-pdfs").rglob("aes-256.pdf"))
    with pytest.raises(EncryptedError) as e:
        extract(p)
    assert e.value.state == "encrypted" and "password" in e.value.reason


def test_odt_from_shared_corpus():
    odts = sorted(shared_path("corpus", "office").rglob("*.odt"))
    assert odts
    ok = 0
    for p in odts:
        try:
            ok += extract(Path(p)).has_text
        except Exception as exc:  # every failure must be a typed, explained error
            assert getattr(exc, "reason", None), (p, exc)
    assert ok >= 1


def _write_epub(path, chapters):
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
            'opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/c.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        items = "".join(
            f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
            for i in range(len(chapters))
        )
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        z.writestr(
            "OEBPS/c.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" '
            'version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/'
            'elements/1.1/"><dc:identifier id="id">x</dc:identifier><dc:title>Book'
            "</dc:title><dc:language>en</dc:language></metadata>"
            f"<manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for i, (title, body) in enumerate(chapters):
            z.writestr(
                f"OEBPS/c{i}.xhtml",
                '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
                f"<title>{title}</title></head><body><h1>{title}</h1><p>{body}</p>"
                "</body></html>",
            )


def test_epub_is_paged_as_pymupdf_lays_it_out(tmp_path):
    p = tmp_path / "book.epub"
    _write_epub(
        p,
        [
            ("Chapter One", "The lighthouse keeper kept a diary. " * 5),
            ("Chapter Two", "Storms arrived every October. " * 5),
        ],
    )
    doc = extract(p)
    assert doc.paged and len(doc.segments) >= 2
    pages_with_storms = [s.page for s in doc.segments if "Storms arrived" in s.text]
    assert pages_with_storms and pages_with_storms[0] >= 2
    assert all(s.page == i + 1 for i, s in enumerate(doc.segments))


def test_a_section_starting_mid_page_heads_the_passages_after_it(tmp_path):
    from indexer.chunk import Chunker

    text = (
        "Editors keep their own lock files under the state directory.\n\n\n"
        "5.9. /var/lock : Lock files\n\n\n"
        "Device lock files are named LCK.. followed by the device name."
    )
    toc = [(1, "Variable state", 1), (2, "/var/lock : Lock files", 1)]
    p = make_pdf(tmp_path / "fhs.pdf", [text], toc=toc)
    doc = extract(p)
    levels = {b.text: b.level for b in doc.segments[0].blocks}
    assert levels["5.9. /var/lock : Lock files"] == 2
    assert levels["Device lock files are named LCK.. followed by the device name."] == 0
    chunks = Chunker(lambda s: len(s.split()) + 2).chunks(doc)
    lock = next(c for c in chunks if "LCK.." in c.text)
    assert lock.heading is not None and lock.heading.endswith("5.9. /var/lock : Lock files")
    assert "Editors" not in lock.text


def test_supported_suffixes_do_not_load_pymupdf():
    # The indexer's main process only asks which suffixes exist; PyMuPDF (34 MB resident) is
    # for the extraction workers (benchmarks/README.md, "Memory").
    code = (
        "import sys\n"
        "from indexer.extract.dispatch import supported_suffixes\n"
        "s = supported_suffixes()\n"
        "assert '.pdf' in s and '.epub' in s, s\n"
        "assert 'pymupdf' not in sys.modules, 'pymupdf imported'\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_paged_reader_reads_its_suffixes_through_the_lazy_registry(tmp_path):
    from indexer.extract import dispatch, paged

    assert paged.SUFFIXES == dispatch.PAGED_SUFFIXES
    pdf = make_pdf(tmp_path / "a.pdf", ["A page about lazy imports."])
    doc = extract(pdf)
    assert doc.paged and "lazy imports" in doc.segments[0].text
