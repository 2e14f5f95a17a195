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
