"""First run (welcome dialog) and the tray: closing the window keeps Findling running."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QSystemTrayIcon

from app.engine import Engine
from app.gui import indexing as ix
from app.gui import welcome as welcome_mod
from app.gui.main import first_run
from app.gui.window import MainWindow
from app.paths import app_paths

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(180)]


def _window(qtbot, embedder, *, use_tray: bool) -> MainWindow:  # type: ignore[no-untyped-def]
    engine = Engine(app_paths(), embedder=embedder)
    engine.settings.workers = 1
    w = MainWindow(engine, use_tray=use_tray)
    qtbot.addWidget(w)
    w.show()
    return w


def test_welcome_suggests_documents_and_starts_indexing(
    home, tmp_path, qtbot, embedder, monkeypatch
):
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "letter.txt").write_text("The landlord raised the rent by four percent in April.")
    monkeypatch.setattr(welcome_mod.platformdirs, "user_documents_dir", lambda: str(docs))
    shown: list[list[str]] = []

    def fake_exec(self):  # type: ignore[no-untyped-def]
        shown.append(self.chosen())
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(welcome_mod.WelcomeDialog, "exec", fake_exec)
    w = _window(qtbot, embedder, use_tray=False)
    try:
        assert first_run(w.engine, w)
        assert shown == [[str(docs)]]
        assert w.engine.settings.folders == [str(docs)]
        qtbot.waitUntil(lambda: w.indexing.state == ix.IDLE, timeout=90_000)
        hits = w.engine.searcher().search("rent increase", 3).hits
        assert hits and hits[0].path == str(docs / "letter.txt")
        # Only once: the next start does not ask again.
        assert not first_run(w.engine, w)
    finally:
        w.shutdown()


def test_closing_the_window_keeps_running_in_the_tray(home, tmp_path, qtbot, embedder, monkeypatch):
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Herons wait motionless at the edge of the pond.")
    w = _window(qtbot, embedder, use_tray=True)
    try:
        assert w.tray is not None and w.tray.available
        w.folders.add_folder(str(folder))
        qtbot.waitUntil(lambda: w.indexing.state == ix.IDLE, timeout=90_000)
        assert "up to date" in w.tray.icon.toolTip()
        w.close()
        assert not w.isVisible()
        assert w.indexing.running, "indexing must go on while the window is hidden"
        w.tray.show_requested.emit()
        assert w.isVisible()
        w.tray.quit_requested.emit()
        qtbot.waitUntil(lambda: not w.indexing.running, timeout=30_000)
    finally:
        w.shutdown()
