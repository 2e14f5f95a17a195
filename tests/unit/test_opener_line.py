"""Opening a code hit at its line in the user's default editor (the logic, with the desktop's
xdg-mime answers and the spawned process replaced)."""

import pytest

from app.gui import opener
from indexer.extract.code import passage_line
from tests.conftest import make_hit


@pytest.fixture
def desktop(monkeypatch):
    answers = {"filetype": "text/x-python", "default": "code.desktop"}
    spawned: list[list[str]] = []

    def query(*args):
        return answers.get(args[2], "")

    monkeypatch.setattr(opener.sys, "platform", "linux")
    monkeypatch.setattr(opener, "_query", query)
    monkeypatch.setattr(opener.shutil, "which", lambda exe: f"/usr/bin/{exe}")
    monkeypatch.setattr(opener, "_spawn", lambda argv: spawned.append(argv) or True)
    return answers, spawned


def test_code_hit_opens_at_its_line_in_the_default_editor(tmp_path, desktop):
    answers, spawned = desktop
    f = tmp_path / "billing.py"
    f.write_text("x = 1\n")
    assert opener.open_file(str(f), line=8)
    assert spawned == [["code", "-g", f"{f}:8"]]
    answers["default"] = "org.gnome.gedit.desktop"
    assert opener.line_command(str(f), 3) == ["gedit", "+3", str(f)]
    answers["default"] = "org.kde.kate.desktop"
    assert opener.line_command(str(f), 3) == ["kate", "-l", "3", str(f)]


def test_unknown_editor_falls_back_to_a_plain_open(tmp_path, desktop, monkeypatch):
    answers, spawned = desktop
    answers["default"] = "org.gnome.TextEditor.desktop"
    assert opener.line_command(str(tmp_path / "a.py"), 3) is None
    opened = []
    monkeypatch.setattr(opener.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    f = tmp_path / "a.py"
    f.write_text("y = 2\n")
    assert opener.open_file(str(f), line=3) and not spawned and len(opened) == 1


def test_location_is_the_page_or_the_line():
    assert opener.location(make_hit(1, "t", page=4)) == 4
    assert opener.location(make_hit(1, "t", line=12)) == opener.Line(12)
    assert opener.location(make_hit(1, "t")) is None


def test_passage_line_reads_only_code_headings():
    assert passage_line("/x/billing.py", "compute_invoice_total · line 8") == 8
    assert passage_line("/x/app.ini", "line 1") == 1
    assert passage_line("/x/report.docx", "Production line 3") is None
    assert passage_line("/x/billing.py", None) is None
