"""E-mail: ``.eml`` (one message) and ``.mbox`` (many), with the standard library's parser.

Each message is a segment whose heading is its subject (``section`` in search results): the
From/To/Date lines, the plain body (or the HTML body as text), the attachment names, the text of
text-like attachments (plain, CSV, HTML), and the text of attachments in any format Findling
reads (PDF, DOCX, slides, sheets, ...), each under an ``Attachment <name>:`` line. A mailbox's
messages are numbered in the segments' ``page`` (see :func:`message_number`), so that search
treats each message as a document of its own; the document itself has no pages.
"""

from __future__ import annotations

import contextvars
import dataclasses
import email
import email.policy
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from email.message import EmailMessage, Message
from pathlib import Path

from indexer.errors import CorruptError
from indexer.extract.document import (
    Block,
    Document,
    ExtractLimits,
    Extractor,
    Segment,
    wrap_error,
)
from indexer.extract.html import parse_html
from indexer.extract.text import parse_paragraphs

log = logging.getLogger(__name__)

SUFFIXES = (".eml", ".mbox")

_HEADERS = ("from", "to", "subject", "date", "message-id")
MAX_MESSAGES = 20_000

ATTACHMENT_MAX_BYTES = 20 * 2**20
"""Attachments larger than this are only named (a 200 MB video is not a document)."""
MESSAGE_ATTACHMENT_BUDGET = 50 * 2**20
"""Bytes of attachments read per message, all together."""
MAX_DEPTH = 2
"""How deep attached messages (and .eml/.mbox files attached to them) are read."""
_SKIPPED_SUFFIXES = frozenset((".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"))
"""Images would need OCR, which is not cheap: logos and signatures are only named."""

ReaderFor = Callable[[str], Extractor | None]
"""The extractor for a file name (by its suffix), or None; injected by the dispatcher."""

_depth: contextvars.ContextVar[int] = contextvars.ContextVar("findling_mail_depth", default=0)


def message_number(path: str, page: int | None) -> int | None:
    """The 1-based message number of a passage of ``path`` stored with ``page``, for mailboxes.

    A mailbox's passages carry their message's number in the index's page column; any other
    file's page is a page.
    """
    return page if page and os.path.splitext(path)[1].lower() == ".mbox" else None


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _text_blocks(part: Message) -> list[Block]:
    text = _decoded(part)
    if part.get_content_subtype() == "html":
        return parse_html(text)[0]
    return parse_paragraphs(text, markdown=False)


class _Attachments:
    """Reads one message's attachments within its byte budget."""

    def __init__(self, limits: ExtractLimits, reader: ReaderFor | None) -> None:
        self.limits = limits
        self.reader = reader
        self.budget = MESSAGE_ATTACHMENT_BUDGET

    def blocks(self, part: EmailMessage, name: str) -> list[Block]:
        """The attachment's text as body blocks (headings flattened, so that the message's
        subject stays the section of every passage), or [] when it is not read."""
        depth = _depth.get()
        if part.get_content_type() == "message/rfc822":
            if depth >= MAX_DEPTH:
                return []
            inner = part.get_content()
            if not isinstance(inner, EmailMessage):
                return []
            token = _depth.set(depth + 1)
            try:
                return list(message_segment(inner, self.limits, self.reader).blocks)
            finally:
                _depth.reset(token)
        if part.get_content_maintype() == "text":  # plain, CSV, HTML: cheap to read in place
            return _text_blocks(part)
        suffix = os.path.splitext(name)[1].lower()
        fn = self.reader(name) if self.reader and suffix not in _SKIPPED_SUFFIXES else None
        if fn is None:
            return []
        if suffix in SUFFIXES and depth >= MAX_DEPTH:
            return []
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            return []
        if len(data) > min(ATTACHMENT_MAX_BYTES, self.budget, self.limits.max_bytes):
            log.info("attachment %r not read: %d bytes is over the budget", name, len(data))
            return []
        self.budget -= len(data)
        return list(self._read(fn, data, suffix, name, depth))

    def _read(
        self, fn: Extractor, data: bytes, suffix: str, name: str, depth: int
    ) -> Iterator[Block]:
        # A private folder, never next to the user's files; only the suffix of the sender's
        # file name is used (the name itself may hold path separators).
        limits = dataclasses.replace(self.limits, ocr_pages=0)  # OCR is not cheap
        token = _depth.set(depth + 1)
        try:
            with tempfile.TemporaryDirectory(prefix="findling-mail-") as tmp:
                path = Path(tmp) / f"attachment{suffix}"
                path.write_bytes(data)
                doc = fn(path, limits)
        except Exception as exc:  # broken, encrypted, scanned: the message is still read
            log.info("attachment %r not read: %s", name, getattr(exc, "reason", exc))
            return
        finally:
            _depth.reset(token)
        for seg in doc.segments:
            texts = [b.text for b in seg.blocks if b.text.strip()]
            if texts and doc.paged and seg.page:
                yield Block(f"Attachment {name}, page {seg.page}:")
            yield from (Block(t) for t in texts)


def message_segment(
    msg: EmailMessage,
    limits: ExtractLimits | None = None,
    reader: ReaderFor | None = None,
    page: int | None = None,
) -> Segment:
    """One message as a segment: headers, body, attachment names and readable attachments.

    Args:
        msg: The parsed message.
        limits: Limits for reading its attachments.
        reader: Finds the extractor for an attachment's file name; None reads only text parts.
        page: The message's number in its mailbox (stored as the segment's page).
    """
    subject = " ".join(str(msg.get("subject", "")).split()) or "(no subject)"
    blocks = [Block(subject, level=1)]
    for name in ("From", "To", "Cc", "Date"):
        value = " ".join(str(msg.get(name, "")).split())
        if value:
            blocks.append(Block(f"{name}: {value}"))
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        blocks.extend(_text_blocks(body))
    names: list[str] = []
    attachments = _Attachments(limits or ExtractLimits(), reader)
    for part in msg.iter_attachments():
        assert isinstance(part, EmailMessage)
        name = part.get_filename() or part.get_content_type()
        names.append(name)
        try:
            read = attachments.blocks(part, name)
        except Exception as exc:  # a broken MIME part must not lose the message
            log.info("attachment %r not read: %s", name, type(exc).__name__)
            read = []
        if read:
            blocks.append(Block(f"Attachment {name}:"))
            blocks.extend(Block(b.text) for b in read)
    if names:
        blocks.append(Block("Attachments: " + ", ".join(names)))
    return Segment(tuple(blocks), heading=subject, page=page)


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    if not any(msg.get(h) for h in _HEADERS):
        raise CorruptError("The e-mail is damaged or not an e-mail: it has no message headers")
    return msg


def split_mbox(raw: bytes) -> list[bytes]:
    """Split an mbox file at its ``From `` separator lines (``>From`` quoting undone)."""
    if not raw.startswith(b"From "):
        raise CorruptError("The mailbox is damaged or not an mbox: it does not start with 'From '")
    messages: list[bytes] = []
    for chunk in raw.split(b"\nFrom "):
        lines = chunk.split(b"\n")[1:]  # drop the separator line itself
        lines = [ln[1:] if ln.startswith(b">From ") else ln for ln in lines]
        messages.append(b"\n".join(lines))
    return messages


def extract(path: Path, limits: ExtractLimits, reader: ReaderFor | None = None) -> Document:
    """Read an e-mail message or a mailbox.

    Args:
        path: The ``.eml`` or ``.mbox`` file.
        limits: Per-file limits (also applied to each attachment).
        reader: Finds the extractor for an attachment's file name (the dispatcher passes its
            own); None reads only text attachments.
    """
    raw = path.read_bytes()
    mbox = path.suffix.lower() == ".mbox"
    parts = split_mbox(raw)[:MAX_MESSAGES] if mbox else [raw]
    segments: list[Segment] = []
    for number, part in enumerate(parts, start=1):
        try:
            msg = _parse(part)
            segments.append(message_segment(msg, limits, reader, number if mbox else None))
        except CorruptError:
            if len(parts) == 1:
                raise
        except Exception as exc:  # the parser is lenient; decoding a broken part may still fail
            if len(parts) == 1:
                raise wrap_error(exc, "e-mail") from exc
    if not segments:
        raise CorruptError("The mailbox holds no readable message")
    title = segments[0].heading if len(segments) == 1 else None
    return Document(tuple(segments), title=title, paged=False)
