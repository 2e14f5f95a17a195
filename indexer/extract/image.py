"""Image files (PNG, JPEG, TIFF, WebP, BMP) read with OCR; each frame of a TIFF is a page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from indexer.errors import CorruptError
from indexer.extract import ocr
from indexer.extract.document import Block, Document, ExtractLimits, Segment, clean_text, wrap_error

SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")

MAX_PIXELS = 40_000_000
"""Larger images are scaled down before OCR (a 40-megapixel photo is plenty)."""


def frame_png(img: Any, number: int) -> bytes:
    """Frame ``number`` of an open PIL image as the PNG bytes that OCR reads (and that its
    cache is keyed by)."""
    img.seek(number)
    frame = img.convert("RGB")
    if frame.width * frame.height > MAX_PIXELS:
        scale = (MAX_PIXELS / (frame.width * frame.height)) ** 0.5
        frame = frame.resize((int(frame.width * scale), int(frame.height * scale)))
    buf = io.BytesIO()
    frame.save(buf, "PNG")
    return buf.getvalue()


def extract(path: Path, limits: ExtractLimits) -> Document:
    """OCR every frame of an image file."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(path)
        frames = getattr(img, "n_frames", 1)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise wrap_error(exc, "image") from exc
    segments: list[Segment] = []
    try:
        for number in range(min(frames, limits.max_pages)):
            png = frame_png(img, number)
            text = clean_text("\n".join(ocr.ocr_png(png, limits.ocr_cache_dir)))
            blocks = (Block(text),) if text else ()
            segments.append(Segment(blocks, page=number + 1 if frames > 1 else None))
    except ocr.OcrUnavailableError as exc:
        raise CorruptError(str(exc)) from exc
    except (OSError, ValueError, EOFError) as exc:
        raise wrap_error(exc, "image") from exc
    finally:
        img.close()
    return Document(tuple(segments), paged=frames > 1)
