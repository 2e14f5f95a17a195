"""OCR on ONNX Runtime with rapidocr-onnxruntime's PP-OCRv4 models, for pages without text.

The engine is loaded once per worker process. :func:`ocr_png` takes a page rendered as PNG
bytes and returns its text lines in reading order (top to bottom, then left to right).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from indexer.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

OCR_DPI = 200
"""Resolution at which a text-less PDF page is rendered for OCR."""


class OcrUnavailableError(RuntimeError):
    """rapidocr-onnxruntime (or one of its dependencies) is not installed."""


@functools.cache
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OcrUnavailableError(f"OCR is not available: {exc}") from exc
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return RapidOCR()


def available() -> bool:
    """Whether the OCR engine can be loaded here."""
    try:
        _engine()
    except OcrUnavailableError:
        return False
    return True


def _cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def cached_lines(key: str, cache_dir: Path | None) -> list[str] | None:
    """The lines stored under ``key``, or None when that image was never OCR'd here."""
    if cache_dir is None:
        return None
    try:
        lines = json.loads(_cache_file(cache_dir, key).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return [str(x) for x in lines] if isinstance(lines, list) else None


def store_lines(key: str, lines: list[str], cache_dir: Path | None) -> None:
    """Keep ``lines`` under ``key`` (atomically; a failure only costs a repeat OCR later)."""
    if cache_dir is None:
        return
    cached = _cache_file(cache_dir, key)
    try:
        atomic_write_bytes(cached, json.dumps(lines, ensure_ascii=False).encode("utf-8"))
    except OSError as exc:
        log.debug("OCR cache write failed: %s", exc)


def ocr_png(png: bytes, cache_dir: Path | None = None) -> list[str]:
    """Text lines recognised in a PNG image, in reading order.

    With ``cache_dir``, results are kept under the SHA-256 of the image bytes, so the same page
    (a re-index, a renamed file, a second copy) is never OCR'd twice.
    """
    key = hashlib.sha256(png).hexdigest()
    lines = cached_lines(key, cache_dir)
    if lines is None:
        lines = _recognise(png)
        store_lines(key, lines, cache_dir)
    return lines


def _recognise(png: bytes) -> list[str]:
    result, _elapse = _engine()(png)
    if not result:
        return []
    boxes = []
    for box, text, _score in result:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        boxes.append((min(ys), max(ys), min(xs), str(text).strip()))
    boxes.sort()
    # Group boxes whose vertical centres are close into one line, then order each by x.
    lines: list[list[tuple[float, str]]] = []
    last_mid = None
    for top, bottom, left, text in boxes:
        mid, height = (top + bottom) / 2, max(1.0, bottom - top)
        if last_mid is not None and abs(mid - last_mid) < height / 2:
            lines[-1].append((left, text))
        else:
            lines.append([(left, text)])
            last_mid = mid
    return [" ".join(t for _, t in sorted(line) if t) for line in lines]


_IMAGE_SUFFIXES = frozenset((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"))


def passage_is_ocr(path: str, page: int | None) -> bool:
    """Whether a passage of ``path`` (on ``page``) was read by OCR.

    Image files always are; a PDF passage is when its page has no text layer but shows images
    (the rule :mod:`indexer.extract.paged` applies). Decided from the file, so the index needs
    no extra column; a file that is gone or unreadable answers False.
    """
    suffix = os.path.splitext(path)[1].lower()
    if suffix in _IMAGE_SUFFIXES:
        return True
    if suffix != ".pdf" or not page:
        return False
    try:
        st = os.stat(path)
    except OSError:
        return False
    return _pdf_page_is_scan(path, st.st_size, st.st_mtime_ns, page)


@functools.lru_cache(maxsize=512)
def _pdf_page_is_scan(path: str, size: int, mtime_ns: int, page: int) -> bool:
    import pymupdf

    try:
        with pymupdf.open(path) as doc:
            pg = doc.load_page(page - 1)
            text = pg.get_text("text", flags=pymupdf.TEXTFLAGS_SEARCH).strip()
            return not text and bool(pg.get_images(full=False))
    except Exception:  # a damaged or replaced file: not marked
        return False
