"""OCR on ONNX Runtime with rapidocr-onnxruntime's PP-OCRv4 models, for pages without text.

The engine is loaded once per worker process. :func:`ocr_png` takes a page rendered as PNG
bytes and returns its text lines in reading order (top to bottom, then left to right);
:func:`recognise_png` also returns the box of each piece of text the detector found, as fractions
of the image's width and height, so that a box maps onto the page rendered at any zoom.

A cache entry is ``{"lines": [...], "boxes": [[x0, y0, x1, y1, text], ...]}``; entries written
before boxes were kept are a plain list of lines, still read (they have no boxes).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import struct
from dataclasses import dataclass
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


@dataclass(frozen=True)
class TextBox:
    """A piece of recognised text and where it is, as fractions (0–1) of the image's size."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass(frozen=True)
class OcrResult:
    """What OCR read on one image: its lines in reading order and the detected text boxes."""

    lines: list[str]
    boxes: list[TextBox]


def _cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def cached_result(key: str, cache_dir: Path | None) -> OcrResult | None:
    """The result stored under ``key``, or None when that image was never OCR'd here.

    An entry from before boxes were kept (a plain list of lines) has no boxes.
    """
    if cache_dir is None:
        return None
    try:
        data = json.loads(_cache_file(cache_dir, key).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, list):
        return OcrResult([str(x) for x in data], [])
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        return None
    boxes = []
    for b in data.get("boxes") or ():
        try:
            x0, y0, x1, y1 = (float(v) for v in b[:4])
            boxes.append(TextBox(x0, y0, x1, y1, str(b[4])))
        except (TypeError, ValueError, IndexError):
            continue  # a damaged box loses only itself
    return OcrResult([str(x) for x in data["lines"]], boxes)


def cached_lines(key: str, cache_dir: Path | None) -> list[str] | None:
    """The lines stored under ``key``, or None when that image was never OCR'd here."""
    result = cached_result(key, cache_dir)
    return None if result is None else result.lines


def store_result(key: str, result: OcrResult, cache_dir: Path | None) -> None:
    """Keep ``result`` under ``key`` (atomically; a failure only costs a repeat OCR later)."""
    if cache_dir is None:
        return
    data = {
        "lines": result.lines,
        "boxes": [[round(v, 5) for v in (b.x0, b.y0, b.x1, b.y1)] + [b.text] for b in result.boxes],
    }
    try:
        atomic_write_bytes(
            _cache_file(cache_dir, key), json.dumps(data, ensure_ascii=False).encode("utf-8")
        )
    except OSError as exc:
        log.debug("OCR cache write failed: %s", exc)


def ocr_png(png: bytes, cache_dir: Path | None = None) -> list[str]:
    """Text lines recognised in a PNG image, in reading order (see :func:`recognise_png`)."""
    return recognise_png(png, cache_dir).lines


def recognise_png(png: bytes, cache_dir: Path | None = None) -> OcrResult:
    """Text lines and boxes recognised in a PNG image.

    With ``cache_dir``, results are kept under the SHA-256 of the image bytes, so the same page
    (a re-index, a renamed file, a second copy) is never OCR'd twice.
    """
    key = hashlib.sha256(png).hexdigest()
    result = cached_result(key, cache_dir)
    if result is None:
        result = _recognise(png)
        store_result(key, result, cache_dir)
    return result


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG image, from its header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def relative_box(points: Any, width: int, height: int) -> tuple[float, float, float, float]:
    """The bounding box of a detector's corner points, as fractions of the image's size."""
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    w, h = max(1, width), max(1, height)

    def clip(v: float) -> float:
        return min(1.0, max(0.0, v))

    return clip(min(xs) / w), clip(min(ys) / h), clip(max(xs) / w), clip(max(ys) / h)


def _recognise(png: bytes) -> OcrResult:
    result, _elapse = _engine()(png)
    if not result:
        return OcrResult([], [])
    width, height = png_size(png)
    found = []
    boxes = []
    for box, text, _score in result:
        ys = [p[1] for p in box]
        xs = [p[0] for p in box]
        found.append((min(ys), max(ys), min(xs), str(text).strip()))
        if str(text).strip():
            boxes.append(TextBox(*relative_box(box, width, height), text=str(text).strip()))
    found.sort()
    # Group boxes whose vertical centres are close into one line, then order each by x.
    lines: list[list[tuple[float, str]]] = []
    last_mid = None
    for top, bottom, left, text in found:
        mid, height = (top + bottom) / 2, max(1.0, bottom - top)
        if last_mid is not None and abs(mid - last_mid) < height / 2:
            lines[-1].append((left, text))
        else:
            lines.append([(left, text)])
            last_mid = mid
    return OcrResult([" ".join(t for _, t in sorted(line) if t) for line in lines], boxes)


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
