"""New formats through the real stack (CLI, sandboxed extraction, LanceDB, ONNX embedder)."""

import json
from pathlib import Path

from tests.conftest import cli_env, run_cli


def _lines(out):
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_code_csv_and_garbage_index_search_status(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "billing.py").write_text(
        "import math\n\n\ndef helper():\n    return 1\n\n\n"
        "def compute_invoice_total(lines):\n"
        '    """Sum the invoice lines and add the value added tax."""\n'
        "    return sum(lines) * 1.2\n"
    )
    (d / "plants.csv").write_bytes(
        ("plant,watering\n" + "Фикус каучуконосный,раз в неделю\nКактус,раз в месяц\n" * 5).encode(
            "cp1251"
        )
    )
    (d / "garbage.tsv").write_bytes(bytes(range(256)) * 40)
    home = tmp_path / "home"
    env = cli_env(home)
    r = run_cli(env, "index", str(d), "--json", timeout=240)
    assert r.returncode == 0, r.stderr
    summary = _lines(r.stdout)[-1]
    assert summary["added"] == 2 and summary["failed"] == 1

    r = run_cli(env, "search", "compute invoice total tax", "--json", "--limit", "3", timeout=240)
    top = _lines(r.stdout)[0]
    assert Path(top["path"]).name == "billing.py" and top["ocr"] is False
    assert top["section"] == "compute_invoice_total · line 8" and top["line"] == 8

    r = run_cli(env, "search", "Фикус каучуконосный", "--json", "--limit", "3", timeout=240)
    top = _lines(r.stdout)[0]
    assert Path(top["path"]).name == "plants.csv" and "Фикус" in top["snippet"]
    assert top["line"] is None  # not source code: no line to open at

    files = {
        Path(o["path"]).name: o
        for o in _lines(run_cli(env, "status", "--json", timeout=240).stdout)
        if "path" in o
    }
    assert files["garbage.tsv"]["state"] == "corrupt"
    assert "binary data" in files["garbage.tsv"]["reason"]


def test_slides_sheets_rtf_and_a_truncated_deck(tmp_path):
    import openpyxl

    from tests.unit.test_extract_office import make_pptx

    d = tmp_path / "docs"
    d.mkdir()
    deck = make_pptx(d / "deck.pptx")
    (d / "half.pptx").write_bytes(deck.read_bytes()[:4000])
    wb = openpyxl.Workbook()
    wb.active.title = "Inventory"
    wb.active.append(["Item", "Count"])
    wb.active.append(["Galvanised carriage bolts", 120])
    wb.save(d / "stock.xlsx")
    import msoffcrypto.format.ooxml

    with (d / "stock.xlsx").open("rb") as src, (d / "payroll.xlsx").open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(src).encrypt("s3cret", out)
    (d / "memo.rtf").write_bytes(b"{\\rtf1\\ansi The boiler service is booked for March.\\par}")
    from tests.unit.test_extract_mail import make_message

    msg = make_message("Passport renewal", "Your appointment at the consulate is confirmed.")
    (d / "passport.eml").write_bytes(msg.as_bytes())
    (d / "broken.eml").write_bytes(bytes(range(256)) * 8)
    home = tmp_path / "home"
    env = cli_env(home)
    r = run_cli(env, "index", str(d), "--json", timeout=240)
    assert r.returncode == 0, r.stderr
    summary = _lines(r.stdout)[-1]
    assert summary["added"] == 4 and summary["failed"] == 3

    def top(query, *extra):
        r = run_cli(env, "search", query, "--json", "--limit", "3", *extra, timeout=240)
        assert r.returncode == 0, r.stderr
        return _lines(r.stdout)[0]

    hit = top("warehouse in Lyon")
    assert Path(hit["path"]).name == "deck.pptx" and hit["page"] == 1
    hit = top("galvanised carriage bolts", "--type", "xlsx")
    assert Path(hit["path"]).name == "stock.xlsx" and hit["section"] == "Inventory"
    assert Path(top("boiler service booked")["path"]).name == "memo.rtf"
    files = {
        Path(o["path"]).name: o
        for o in _lines(run_cli(env, "status", "--json", timeout=240).stdout)
        if "path" in o
    }
    assert files["half.pptx"]["state"] == "corrupt" and "PPTX" in files["half.pptx"]["reason"]
    assert files["broken.eml"]["state"] == "corrupt" and "headers" in files["broken.eml"]["reason"]
    assert files["payroll.xlsx"]["state"] == "encrypted"
    assert "password-protected" in files["payroll.xlsx"]["reason"]
    hit = top("consulate appointment confirmed", "--type", "eml")
    assert Path(hit["path"]).name == "passport.eml" and hit["section"] == "Passport renewal"


def test_scanned_pdf_is_found_through_ocr(tmp_path):
    import shutil

    from tests.conftest import shared_path

    d = tmp_path / "docs"
    d.mkdir()
    shutil.copy(shared_path("corpus", "bad-pdfs", "pikepdf", "pdfa", "francais.pdf"), d)
    env = cli_env(tmp_path / "home")
    r = run_cli(env, "index", str(d), "--json", timeout=240)
    assert r.returncode == 0, r.stderr
    assert _lines(r.stdout)[-1]["added"] == 1
    # One page, cached under its rendered image and under its source key (no render to look up).
    assert len(list((tmp_path / "home" / "index" / "ocr-cache").rglob("*.json"))) == 2
    r = run_cli(env, "search", "whisky juge blond", "--json", "--limit", "1", timeout=240)
    hit = _lines(r.stdout)[0]
    assert Path(hit["path"]).name == "francais.pdf" and hit["page"] == 1
    assert hit["ocr"] is True


def test_mailbox_messages_are_documents_and_attachments_are_read(tmp_path):
    import mailbox

    from tests.conftest import make_docx, make_pdf
    from tests.unit.test_extract_mail import make_message

    d = tmp_path / "docs"
    d.mkdir()
    pdf = make_pdf(tmp_path / "att" / "lease.pdf", ["Tenancy terms", "The xylophone clause."])
    docx = make_docx(tmp_path / "att" / "plan.docx", [("Plan", 1), ("Quinoa harvest rota.", 0)])
    box = mailbox.mbox(str(d / "club.mbox"))
    subjects = [f"Allotment committee update {n}" for n in range(1, 7)]
    for n, subject in enumerate(subjects, start=1):
        body = f"The allotment committee met about the compost heap, week {n}."
        attachments = []
        if n == 4:
            attachments = [
                ("lease.pdf", pdf.read_bytes(), "application", "pdf"),
                ("plan.docx", docx.read_bytes(), "application", "octet-stream"),
            ]
        box.add(make_message(subject, body, attachments=attachments))
    box.flush()
    box.close()
    env = cli_env(tmp_path / "home")
    r = run_cli(env, "index", str(d), "--json", timeout=240)
    assert r.returncode == 0, r.stderr

    r = run_cli(env, "search", "allotment committee compost", "--json", "--limit", "10")
    hits = _lines(r.stdout)
    assert all(h["path"] == str(d / "club.mbox") and h["page"] is None for h in hits)
    # Every message is its own document: all six show, once each, under their own subject.
    assert sorted(h["section"] for h in hits) == sorted(subjects)
    assert sorted(h["message"] for h in hits) == [1, 2, 3, 4, 5, 6]

    for words in ("xylophone clause", "quinoa harvest rota"):
        hit = _lines(run_cli(env, "search", words, "--json", "--limit", "1").stdout)[0]
        assert hit["section"] == subjects[3] and hit["message"] == 4, words
        assert words.split()[0] in hit["snippet"].lower()
