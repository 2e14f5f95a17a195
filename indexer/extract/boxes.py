"""Where the query's words are on an OCR'd page, for the preview (issue 13). No Qt.

The boxes come from the OCR cache, looked up under the key the extractor stored them with (a
PDF page's source key, an image frame's PNG hash), so nothing is rendered or recognised again.
They are fractions of the page's width and height: :func:`scale_box` maps one onto the page
rendered at any size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from indexer.extract import ocr

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 as fractions (0–1) of the page's width and height."""

_WORD = re.compile(r"\w+", re.UNICODE)


def _page_result(path: str, page: int | None, cache_dir: Path) -> ocr.OcrResult | None:
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".pdf":
        import pymupdf

        from indexer.extract.paged import page_source_key

        if not page:
            return None
        with pymupdf.open(path) as doc:
            if not 1 <= page <= doc.page_count:
                return None
            key = page_source_key(doc, doc.load_page(page - 1))
        return ocr.cached_result(key, cache_dir)
    from indexer.extract import image

    if suffix not in image.SUFFIXES:
        return None
    from PIL import Image

    with Image.open(path) as img:
        png = image.frame_png(img, (page or 1) - 1)
    return ocr.cached_result(hashlib.sha256(png).hexdigest(), cache_dir)


def matching_boxes(boxes: Iterable[ocr.TextBox], words: Iterable[str]) -> list[Box]:
    """The boxes whose text holds any of ``words`` (whole words, case-insensitive)."""
    wanted = {w.casefold() for phrase in words for w in _WORD.findall(phrase)}
    if not wanted:
        return []
    return [
        (b.x0, b.y0, b.x1, b.y1)
        for b in boxes
        if wanted & {w.casefold() for w in _WORD.findall(b.text)}
    ]


def ocr_boxes(
    path: str, page: int | None, words: Iterable[str], cache_dir: Path | None
) -> list[Box]:
    """Boxes of the OCR'd text pieces on ``page`` of ``path`` that contain any of ``words``.

    Args:
        path: A scanned PDF or an image file.
        page: 1-based page (PDF) or frame (TIFF); None for a single image.
        words: The words to find (query words, or the words a snippet highlights).
        cache_dir: The index's OCR cache.

    Returns:
        Page-relative boxes, or [] when the page was never OCR'd here, its cache entry predates
        boxes, or the file cannot be read.
    """
    if cache_dir is None:
        return []
    try:
        result = _page_result(path, page, cache_dir)
    except Exception as exc:  # a file gone, replaced or damaged: nothing to highlight
        log.debug("OCR boxes of %s page %s: %s", path, page, exc)
        return []
    return matching_boxes(result.boxes, words) if result is not None else []


def scale_box(box: Box, width: float, height: float) -> Box:
    """``box`` in the pixels of the page shown ``width`` × ``height``: x, y, width, height."""
    x0, y0, x1, y1 = box
    return x0 * width, y0 * height, (x1 - x0) * width, (y1 - y0) * height
