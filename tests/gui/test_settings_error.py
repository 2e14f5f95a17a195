"""An invalid settings file stops the app with the CLI's message and a way to open the file."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from app.gui import errors as errors_mod
from app.gui import main as main_mod

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def test_invalid_settings_show_the_message_and_offer_to_open_the_file(home, qtbot, monkeypatch):
    settings = home / "config" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text('folders = "/home/me/Docs"\n')
    before = settings.read_bytes()
    shown: list[QMessageBox] = []
    opened: list[str] = []

    def fake_exec(box: QMessageBox) -> int:
        shown.append(box)
        [button] = [b for b in box.buttons() if b.text() == "Open Settings File"]
        button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(
        errors_mod.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile())
    )
    windows: list[object] = []
    monkeypatch.setattr(main_mod, "MainWindow", lambda *a, **k: windows.append(a))

    assert main_mod.main([]) == 1
    assert len(shown) == 1
    text = shown[0].informativeText()
    assert "line 1: folders: expected a list of strings" in text and str(settings) in text
    assert opened == [str(settings)]
    assert windows == []  # no window, so nothing is indexed
    assert settings.read_bytes() == before
    assert not (home / "index" / "state.sqlite").exists()
