"""Which reader handles which file, and the one entry point :func:`extract`.

Adding a format is adding a module with ``SUFFIXES`` and ``extract(path, limits)`` and one line in
:func:`_registry`. The format modules are imported on first use (some load large libraries).
"""

from __future__ import annotations

import errno
import functools
import os
from pathlib import Path

from indexer.errors import (
    EmptyFileError,
    ExtractError,
    NoTextError,
    TooLargeError,
    UnreadableError,
    UnsupportedError,
)
from indexer.extract.document import Document, ExtractLimits, Extractor

# Read with PyMuPDF (:mod:`indexer.extract.paged`). It is imported when such a file is read, not
# when the indexer's main process asks which suffixes exist: importing it there held 34 MB for
# the whole run (benchmarks/README.md, "Memory"). The same as ``paged.SUFFIXES`` (a test checks).
PAGED_SUFFIXES = (".pdf", ".xps", ".oxps", ".epub", ".fb2", ".mobi", ".cbz")


def _paged(path: Path, limits: ExtractLimits) -> Document:
    from indexer.extract import paged

    return paged.extract(path, limits)


def _registry() -> dict[str, Extractor]:
    from indexer.extract import code, docx, html, image, mail, odf, ooxml, rtf, text
    from indexer.extract import table as csv_tsv

    table: dict[str, Extractor] = {}
    for suffixes, fn in (
        (PAGED_SUFFIXES, _paged),
        (text.SUFFIXES, text.extract),
        (html.SUFFIXES, html.extract),
        (docx.SUFFIXES, docx.extract),
        (odf.SUFFIXES, odf.extract),
        (csv_tsv.SUFFIXES, csv_tsv.extract),
        (code.SUFFIXES, code.extract),
        (ooxml.SUFFIXES, ooxml.extract),
        (rtf.SUFFIXES, rtf.extract),
        (mail.SUFFIXES, functools.partial(mail.extract, reader=_extractor_for)),
        (image.SUFFIXES, image.extract),
    ):
        for s in suffixes:
            table[s] = fn
    return table


def _extractor_for(name: str) -> Extractor | None:
    """The reader for a file name by its suffix (e-mail attachments), or None."""
    return _registry().get(os.path.splitext(name)[1].lower())


def supported_suffixes() -> frozenset[str]:
    """Lower-case file suffixes (with dot) that Findling indexes."""
    return frozenset(_registry())


def extract(path: Path, limits: ExtractLimits | None = None) -> Document:
    """Extract ``path``'s text. The file is only ever opened for reading.

    Raises:
        ExtractError: a subclass whose ``state`` and ``reason`` say why the file has no text.
    """
    limits = limits or ExtractLimits()
    fn = _registry().get(path.suffix.lower())
    if fn is None:
        raise UnsupportedError(f"Unsupported file type '{path.suffix or path.name}'")
    try:
        st = path.stat()
        if not os.access(path, os.R_OK):
            raise UnreadableError("Permission denied: Findling cannot read this file")
    except FileNotFoundError as exc:
        raise UnreadableError("The file vanished before it could be read") from exc
    except PermissionError as exc:
        raise UnreadableError("Permission denied: Findling cannot read this file") from exc
    except OSError as exc:
        raise UnreadableError(f"Cannot read the file: {exc.strerror or exc}") from exc
    if st.st_size == 0:
        raise EmptyFileError("The file is empty (0 bytes)")
    if st.st_size > limits.max_bytes:
        raise TooLargeError(
            f"The file is {st.st_size / 2**20:.0f} MB, over the {limits.max_bytes / 2**20:.0f} MB"
            " limit (Settings → Indexing)"
        )
    try:
        doc = fn(path, limits)
    except ExtractError:
        raise
    except FileNotFoundError as exc:
        raise UnreadableError("The file vanished while it was being read") from exc
    except PermissionError as exc:
        raise UnreadableError("Permission denied: Findling cannot read this file") from exc
    except OSError as exc:
        if exc.errno in (errno.EIO, errno.ENXIO, errno.ENODEV):
            raise UnreadableError(f"I/O error while reading: {exc.strerror}") from exc
        raise UnreadableError(f"Cannot read the file: {exc}") from exc
    if not doc.has_text:
        raise NoTextError("No text found in the file")
    return doc
