"""E-mail messages and mailboxes, built with the standard library's email and mailbox modules."""

import mailbox
from email.message import EmailMessage

import pytest

from indexer.errors import CorruptError
from indexer.extract import extract


def make_message(subject, body, html=None, attachments=()):
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = "Ana Pérez <ana@example.org>"
    msg["To"] = "team@example.org"
    msg["Date"] = "Tue, 03 Mar 2026 09:15:00 +0100"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for name, data, maintype, subtype in attachments:
        if maintype == "text":
            msg.add_attachment(data, subtype=subtype, filename=name)
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def test_eml_headers_body_and_attachments(tmp_path):
    msg = make_message(
        "Roof repair quote",
        "The roofer can start on Monday.\n\nThe quote is attached.",
        attachments=[
            ("items.csv", "tiles,40\nnails,500\n", "text", "csv"),
            ("scan.pdf", b"%PDF-1.4 fake", "application", "pdf"),
        ],
    )
    p = tmp_path / "quote.eml"
    p.write_bytes(msg.as_bytes())
    doc = extract(p)
    (seg,) = doc.segments
    assert seg.heading == "Roof repair quote" and doc.title == "Roof repair quote"
    texts = [b.text for b in seg.blocks]
    assert "From: Ana Pérez <ana@example.org>" in texts
    assert "The roofer can start on Monday." in texts
    assert "tiles,40 nails,500" in texts
    assert texts[-1] == "Attachments: items.csv, scan.pdf"


def test_html_only_body_is_converted(tmp_path):
    msg = EmailMessage()
    msg["Subject"] = "Newsletter"
    msg["From"] = "news@example.org"
    msg.set_content("<html><body><p>Spring <b>sale</b> starts today</p></body></html>", "html")
    p = tmp_path / "n.eml"
    p.write_bytes(msg.as_bytes())
    assert "Spring sale starts today" in [b.text for b in extract(p).segments[0].blocks]


def test_mbox_one_segment_per_message(tmp_path):
    p = tmp_path / "archive.mbox"
    box = mailbox.mbox(str(p))
    box.add(make_message("Dentist on Friday", "From now on, appointments are at 8."))
    box.add(make_message("Invoice 2291", "Please pay by the end of the month."))
    box.flush()
    box.close()
    doc = extract(p)
    assert [s.heading for s in doc.segments] == ["Dentist on Friday", "Invoice 2291"]
    assert "From now on, appointments are at 8." in doc.segments[0].text


@pytest.mark.parametrize("name", ["broken.eml", "broken.mbox"])
def test_malformed_mail_is_corrupt(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(CorruptError, match=r"e-mail|mbox"):
        extract(p)


def _office_attachments(tmp_path):
    from tests.conftest import make_docx, make_pdf

    pdf = make_pdf(tmp_path / "a" / "survey.pdf", ["Cover page", "The damp course is breached."])
    docx = make_docx(tmp_path / "a" / "minutes.docx", [("Agenda", 1), ("Quorum of seven.", 0)])
    return [
        ("survey.pdf", pdf.read_bytes(), "application", "pdf"),
        ("minutes.docx", docx.read_bytes(), "application", "octet-stream"),
    ]


def test_pdf_and_docx_attachments_are_passages_of_their_message(tmp_path):
    msg = make_message("Survey", "See attached.", attachments=_office_attachments(tmp_path))
    p = tmp_path / "survey.eml"
    p.write_bytes(msg.as_bytes())
    (seg,) = extract(p).segments
    texts = [b.text for b in seg.blocks]
    at = texts.index("Attachment survey.pdf:")
    assert texts[at + 1] == "Attachment survey.pdf, page 1:"
    assert "Attachment survey.pdf, page 2:" in texts and "The damp course is breached." in texts
    assert "Attachment minutes.docx:" in texts and "Quorum of seven." in texts
    # Attachment headings are body text: every passage stays under the message's subject.
    assert all(b.level == 0 for b in seg.blocks[1:])
    assert texts[-1] == "Attachments: survey.pdf, minutes.docx"


def test_broken_oversized_and_image_attachments_are_only_named(tmp_path, monkeypatch, caplog):
    import indexer.extract.mail as mail

    good = _office_attachments(tmp_path)
    attachments = [
        ("broken.pdf", b"%PDF-1.4 not really", "application", "pdf"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image", "png"),
        ("big.docx", good[1][1], "application", "octet-stream"),
    ]
    monkeypatch.setattr(mail, "ATTACHMENT_MAX_BYTES", len(good[1][1]) - 1)
    msg = make_message("Odd mail", "Body text stays.", attachments=attachments)
    p = tmp_path / "odd.eml"
    p.write_bytes(msg.as_bytes())
    with caplog.at_level("INFO", logger="indexer.extract.mail"):
        (seg,) = extract(p).segments
    texts = [b.text for b in seg.blocks]
    assert "Body text stays." in texts
    assert not [t for t in texts if t.startswith("Attachment ") and t.endswith(":")]
    assert texts[-1] == "Attachments: broken.pdf, logo.png, big.docx"
    assert "broken.pdf" in caplog.text and "big.docx" in caplog.text


def test_nested_messages_stop_at_a_bounded_depth(tmp_path):
    import indexer.extract.mail as mail

    inner = make_message("Level 0", "Words at level zero.")
    for level in range(1, 6):
        outer = make_message(f"Level {level}", f"Words at level {level}.")
        outer.add_attachment(inner)  # message/rfc822
        inner = outer
    # ...and the same message attached as an .eml file.
    as_file = make_message("Carrier", "Carrier body.")
    as_file.add_attachment(
        inner.as_bytes(), maintype="application", subtype="octet-stream", filename="fwd.eml"
    )
    p = tmp_path / "nested.eml"
    p.write_bytes(as_file.as_bytes())
    text = extract(p).segments[0].text
    # The attached file is depth 1, the message attached to it depth 2: deeper ones are named.
    assert mail.MAX_DEPTH == 2
    assert "Words at level 5." in text and "Words at level 4." in text
    assert "Words at level 3." not in text and "Words at level 0." not in text
    assert text.count("Attachments: message/rfc822") == 2


def test_mbox_messages_are_numbered_as_their_own_documents(tmp_path):
    from indexer.extract.mail import message_number

    p = tmp_path / "box.mbox"
    box = mailbox.mbox(str(p))
    for i in range(3):
        box.add(make_message(f"Note {i}", f"Body {i}."))
    box.flush()
    box.close()
    doc = extract(p)
    assert [s.page for s in doc.segments] == [1, 2, 3] and not doc.paged
    assert message_number(str(p), 2) == 2
    assert message_number("/x/report.pdf", 2) is None and message_number(str(p), None) is None
