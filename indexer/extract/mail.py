"""E-mail: ``.eml`` (one message) and ``.mbox`` (many), with the standard library's parser.

Each message is a segment whose heading is its subject (``section`` in search results): the
From/To/Date lines, the plain body (or the HTML body as text), the attachment names, and the
text of text-like attachments (plain, CSV, HTML), which are cheap to read in place.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message
from pathlib import Path

from indexer.errors import CorruptError
from indexer.extract.document import Block, Document, ExtractLimits, Segment, wrap_error
from indexer.extract.html import parse_html
from indexer.extract.text import parse_paragraphs

SUFFIXES = (".eml", ".mbox")

_HEADERS = ("from", "to", "subject", "date", "message-id")
MAX_MESSAGES = 20_000


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


def message_segment(msg: EmailMessage) -> Segment:
    """One message as a segment: headers, body, attachment names and text attachments."""
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
    for part in msg.iter_attachments():
        name = part.get_filename() or part.get_content_type()
        names.append(name)
        if part.get_content_maintype() == "text":
            blocks.append(Block(f"Attachment {name}:"))
            blocks.extend(_text_blocks(part))
    if names:
        blocks.append(Block("Attachments: " + ", ".join(names)))
    return Segment(tuple(blocks), heading=subject)


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


def extract(path: Path, limits: ExtractLimits) -> Document:
    """Read an e-mail message or a mailbox."""
    raw = path.read_bytes()
    parts = split_mbox(raw)[:MAX_MESSAGES] if path.suffix.lower() == ".mbox" else [raw]
    segments: list[Segment] = []
    for part in parts:
        try:
            segments.append(message_segment(_parse(part)))
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
