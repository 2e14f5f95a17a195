"""OpenDocument text, spreadsheets and presentations, read from content.xml."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

from indexer.errors import EncryptedError
from indexer.extract.document import Block, Document, ExtractLimits, Segment, wrap_error

SUFFIXES = (".odt", ".ods", ".odp")

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_MAX_XML = 200 * 1024 * 1024


def _text_of(el: ElementTree.Element) -> str:
    parts: list[str] = []
    if el.text:
        parts.append(el.text)
    for child in el:
        tag = child.tag.split("}")[-1]
        if tag == "s" or tag in ("tab", "line-break"):
            parts.append(" ")
        else:
            parts.append(_text_of(child))
        if child.tail:
            parts.append(child.tail)
    return "".join(parts)


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read an ODF file's headings, paragraphs, cells and slide text."""
    try:
        with zipfile.ZipFile(path) as zf:
            if "META-INF/manifest.xml" in zf.namelist():
                manifest = zf.read("META-INF/manifest.xml")
                if b"encryption-data" in manifest:
                    raise EncryptedError("The document is password-protected")
            info = zf.getinfo("content.xml")
            if info.file_size > _MAX_XML:
                raise wrap_error(ValueError("content.xml is implausibly large"), "OpenDocument")
            root = ElementTree.fromstring(zf.read("content.xml"))
    except EncryptedError:
        raise
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError) as exc:
        raise wrap_error(exc, "OpenDocument") from exc
    blocks: list[Block] = []
    segments: list[Segment] = []
    for el in root.iter():
        tag = el.tag
        if tag == f"{{{_DRAW}}}page" and blocks:
            segments.append(Segment(tuple(blocks)))
            blocks = []
        if tag == f"{{{_TEXT}}}h":
            text = " ".join(_text_of(el).split())
            if text:
                level = int(el.get(f"{{{_TEXT}}}outline-level", "1") or 1)
                blocks.append(Block(text, level=min(6, max(1, level))))
        elif tag == f"{{{_TEXT}}}p":
            text = " ".join(_text_of(el).split())
            if text:
                blocks.append(Block(text))
    if blocks:
        segments.append(Segment(tuple(blocks)))
    return Document(tuple(segments) or (Segment(()),), paged=False)
