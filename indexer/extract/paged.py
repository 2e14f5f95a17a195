"""PDF, XPS, EPUB, FB2, MOBI, CBZ through PyMuPDF: one segment per physical page."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pymupdf

from indexer.errors import CorruptError, EncryptedError, NoTextError, TooLargeError
from indexer.extract.document import Block, Document, ExtractLimits, Segment, clean_text, wrap_error

log = logging.getLogger(__name__)

SUFFIXES = (".pdf", ".xps", ".oxps", ".epub", ".fb2", ".mobi", ".cbz")

pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)
if hasattr(pymupdf, "no_recommend_layout"):
    pymupdf.no_recommend_layout()  # its tables would suggest the add-on kept out in __init__


def _open(path: Path) -> pymupdf.Document:
    kind = path.suffix.lower().lstrip(".").upper()
    try:
        return pymupdf.open(str(path), filetype=path.suffix.lower().lstrip("."))
    except pymupdf.FileDataError as exc:
        raise wrap_error(exc, kind) from exc
    except (RuntimeError, ValueError) as exc:
        raise wrap_error(exc, kind) from exc


def _heading_per_page(doc: pymupdf.Document) -> dict[int, str]:
    """The outline entry each page starts in (0-based page -> 'A > B')."""
    try:
        toc = doc.get_toc(simple=True)
    except Exception:  # broken or cyclic outlines must not stop extraction
        return {}
    starts: list[tuple[int, str]] = []
    stack: list[str] = []
    for entry in toc[:5000]:
        level, title, page = int(entry[0]), str(entry[1]).strip(), int(entry[2])
        if page < 1 or not title:
            continue
        del stack[level - 1 :]
        stack.append(" ".join(title.split())[:120])
        starts.append((page - 1, " > ".join(stack[-3:])))
    starts.sort(key=lambda t: t[0])
    result: dict[int, str] = {}
    current: str | None = None
    idx = 0
    for pno in range(doc.page_count):
        while idx < len(starts) and starts[idx][0] <= pno:
            current = starts[idx][1]
            idx += 1
        if current:
            result[pno] = current
    return result


def _titles_per_page(doc: pymupdf.Document) -> dict[int, list[tuple[int, str]]]:
    """The outline entries that start on each page (0-based page -> [(level, title)])."""
    try:
        toc = doc.get_toc(simple=True)
    except Exception:
        return {}
    out: dict[int, list[tuple[int, str]]] = {}
    for entry in toc[:5000]:
        level, title, page = int(entry[0]), " ".join(str(entry[1]).split()), int(entry[2])
        if page >= 1 and len(title) >= 3:
            out.setdefault(page - 1, []).append((min(max(level, 1), 6), title.lower()))
    return out


def _mark_headings(blocks: list[Block], titles: list[tuple[int, str]]) -> list[Block]:
    """Blocks that show an outline entry of their page become headings of its level, so that
    the passages after a section starting mid-page carry that section's heading."""
    if not titles:
        return blocks
    pending = list(titles)
    out = []
    for b in blocks:
        low = b.text.lower()
        for i, (level, title) in enumerate(pending):
            # The block is the heading line itself (perhaps with its number before the title),
            # not a paragraph that happens to mention it.
            if len(low) <= len(title) + 24 and title in low:
                b = Block(b.text, level)
                del pending[i]
                break
        out.append(b)
    return out


def page_source_key(doc: pymupdf.Document, page: pymupdf.Page) -> str:
    """A key for a scanned page's OCR result that needs no rendering: the page's size and the
    raw bytes of the images it shows (the same scan in a renamed or copied file has the same
    key), so a run that resumes OCR finds the pages already read at once."""
    from indexer.extract import ocr

    h = hashlib.sha256(f"page-src:{ocr.OCR_DPI}:{tuple(page.rect)}".encode())
    for img in page.get_images(full=False):
        h.update(doc.xref_stream_raw(img[0]) or b"")
    return h.hexdigest()


def _ocr_page(
    doc: pymupdf.Document, pno: int, path: Path, cache_dir: Path | None, allowed: bool
) -> tuple[list[Block], str]:
    """OCR a page that has no text layer but shows images (a scan).

    Returns its blocks ([] if it shows no images or OCR cannot run) and what happened:
    ``"read"`` (OCR ran), ``"cached"``, ``"waiting"`` (not read before, and not ``allowed``
    because the file's budget of new OCR pages is spent: a later round reads it; see
    ``ocr_pending``) or ``"none"``."""
    from indexer.extract import ocr

    try:
        page = doc.load_page(pno)
        if not page.get_images(full=False):
            return [], "none"
        key = page_source_key(doc, page)
        lines = ocr.cached_lines(key, cache_dir)
        status = "cached"
        if lines is None:
            if not allowed:
                return [], "waiting"
            png = page.get_pixmap(dpi=ocr.OCR_DPI).tobytes("png")
            result = ocr.recognise_png(png, cache_dir)
            ocr.store_result(key, result, cache_dir)  # with its boxes, for the preview
            lines = result.lines
            status = "read"
    except ocr.OcrUnavailableError as exc:
        log.info("%s page %d: %s", path, pno + 1, exc)
        return [], "none"
    except Exception as exc:  # a damaged image must not lose the other pages
        log.debug("OCR of page %d of %s failed: %s", pno + 1, path, exc)
        return [], "none"
    text = clean_text("\n".join(lines))
    return ([Block(text)] if text else []), status


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Extract every page's text blocks, in reading order."""
    kind = path.suffix.lower().lstrip(".").upper()
    doc = _open(path)
    try:
        if doc.needs_pass and not doc.authenticate(""):
            raise EncryptedError(f"The {kind} is password-protected; Findling cannot open it")
        try:
            count = doc.page_count
        except Exception as exc:
            raise wrap_error(exc, kind) from exc
        if count > limits.max_pages:
            raise TooLargeError(
                f"The {kind} has {count:,} pages, over the {limits.max_pages:,}-page limit"
            )
        if count == 0:
            raise CorruptError(f"The {kind} has no pages")
        headings = _heading_per_page(doc)
        titles = _titles_per_page(doc)
        segments: list[Segment] = []
        failed = 0
        ocr_left = limits.ocr_pages
        ocr_pending = 0
        for pno in range(count):
            try:
                page = doc.load_page(pno)
                raw_blocks = page.get_text("blocks", sort=True, flags=pymupdf.TEXTFLAGS_SEARCH)
            except Exception as exc:  # one broken page must not lose the others
                failed += 1
                log.debug("page %d of %s failed: %s", pno + 1, path, exc)
                raw_blocks = []
            blocks = []
            for b in raw_blocks:
                if len(b) > 6 and b[6] != 0:
                    continue
                text = clean_text(str(b[4]))
                if text:
                    blocks.append(Block(text))
            blocks = _mark_headings(blocks, titles.get(pno, []))
            if not blocks and kind == "PDF":
                blocks, status = _ocr_page(doc, pno, path, limits.ocr_cache_dir, ocr_left > 0)
                ocr_left -= status == "read"  # a page from the cache costs nothing
                ocr_pending += status == "waiting"
            segments.append(Segment(tuple(blocks), page=pno + 1, heading=headings.get(pno)))
        if failed == count:
            raise CorruptError(f"None of the {kind}'s {count} pages could be read")
        result = Document(
            tuple(segments),
            title=(doc.metadata or {}).get("title") or None,
            paged=True,
            ocr_pending=ocr_pending,
        )
        if not result.has_text:
            if kind == "PDF":
                raise NoTextError(
                    "No text layer, and OCR found no text: the PDF looks like images only"
                )
            raise NoTextError(f"No text found in the {kind}")
        return result
    finally:
        doc.close()
