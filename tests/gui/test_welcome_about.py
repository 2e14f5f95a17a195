"""Welcome dialog: standard folders as checkboxes. About dialog: version, licences, data."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QTextBrowser

from app import __version__
from app.engine import Engine
from app.gui import about as about_mod
from app.gui import welcome as welcome_mod
from app.gui.about import AboutDialog
from app.gui.window import MainWindow
from app.paths import app_paths

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Documents and Downloads exist; Desktop does not (so it must not be offered)."""
    home = tmp_path / "user"
    dirs = {name: home / name for name in ("Documents", "Desktop", "Downloads")}
    dirs["Documents"].mkdir(parents=True)
    dirs["Downloads"].mkdir()
    monkeypatch.setattr(welcome_mod.Path, "home", staticmethod(lambda: home))
    for name, fn in (
        ("Documents", "user_documents_dir"),
        ("Desktop", "user_desktop_dir"),
        ("Downloads", "user_downloads_dir"),
    ):
        monkeypatch.setattr(welcome_mod.platformdirs, fn, lambda p=dirs[name]: str(p))
    return dirs


def test_standard_folders_that_exist_are_offered_documents_ticked(user_dirs):
    found = welcome_mod.standard_folders()
    assert found == [
        ("Documents", str(user_dirs["Documents"]), True),
        ("Downloads", str(user_dirs["Downloads"]), False),
    ]
    assert welcome_mod.default_folders() == [str(user_dirs["Documents"])]


def test_standard_folder_that_is_home_or_a_repeat_is_left_out(user_dirs, monkeypatch):
    # Unset XDG user dirs make platformdirs answer the home folder itself; Downloads -> Documents.
    home = user_dirs["Documents"].parent
    monkeypatch.setattr(welcome_mod.platformdirs, "user_documents_dir", lambda: str(home))
    monkeypatch.setattr(
        welcome_mod.platformdirs, "user_downloads_dir", lambda: str(user_dirs["Downloads"])
    )
    user_dirs["Desktop"].symlink_to(user_dirs["Downloads"])
    labels = [label for label, _p, _t in welcome_mod.standard_folders()]
    assert labels == ["Desktop"]


def test_welcome_dialog_checkboxes_decide_the_folders(
    home, qtbot, embedder, user_dirs, monkeypatch
):
    engine = Engine(app_paths(), embedder=embedder)
    dlg = welcome_mod.WelcomeDialog(engine)
    qtbot.addWidget(dlg)
    boxes = {path: box for box, path in dlg.standard}
    assert set(boxes) == {str(user_dirs["Documents"]), str(user_dirs["Downloads"])}
    assert "Documents" in boxes[str(user_dirs["Documents"])].text()
    assert dlg.chosen() == [str(user_dirs["Documents"])]

    boxes[str(user_dirs["Documents"])].setChecked(False)
    boxes[str(user_dirs["Downloads"])].setChecked(True)
    assert dlg.chosen() == [str(user_dirs["Downloads"])]

    # "Add folder…" on a standard folder ticks its box instead of listing it twice.
    boxes[str(user_dirs["Downloads"])].setChecked(False)
    other = user_dirs["Documents"].parent / "Projects"
    other.mkdir()
    picks = iter([str(user_dirs["Downloads"]), str(other), str(other)])
    monkeypatch.setattr(
        welcome_mod.QFileDialog, "getExistingDirectory", staticmethod(lambda *a: next(picks))
    )
    dlg._add()
    dlg._add()
    dlg._add()
    assert dlg.chosen() == [str(user_dirs["Downloads"]), str(other)]
    assert dlg.folders.count() == 1


def test_about_dialog_shows_version_licences_and_data_folders(home, qtbot):
    paths = app_paths()
    dlg = AboutDialog(paths)
    qtbot.addWidget(dlg)
    text = dlg.summary.text()
    assert f"Findling {__version__}" in text
    assert "Affero General Public License" in text
    for p in (paths.index_dir, paths.settings_file, paths.models_dir, paths.log_dir):
        assert str(p) in text
        assert str(p).startswith(str(home))
    views = {v.objectName(): v for v in dlg.tabs.findChildren(QTextBrowser)}
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in views["LICENSE"].toPlainText()
    notices = views["THIRD_PARTY_NOTICES.md"].toPlainText()
    assert "PySide6" in notices and "llama" in notices.lower()


def test_about_dialog_says_when_a_licence_file_is_missing(home, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(about_mod, "licence_dirs", lambda: [tmp_path / "empty"])
    dlg = AboutDialog(app_paths())
    qtbot.addWidget(dlg)
    views = {v.objectName(): v for v in dlg.tabs.findChildren(QTextBrowser)}
    assert "LICENSE was not found" in views["LICENSE"].toPlainText()


def test_about_dialog_reads_licences_from_a_frozen_bundle(tmp_path, monkeypatch):
    bundle = tmp_path / "_internal"
    bundle.mkdir()
    (bundle / "LICENSE").write_text("bundled licence text")
    monkeypatch.setattr(about_mod.sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setattr(about_mod.sys, "executable", str(tmp_path / "Findling"))
    assert about_mod.licence_dirs()[0] == bundle
    assert about_mod.read_text("LICENSE") == "bundled licence text"


def test_help_menu_opens_the_about_dialog(home, qtbot, embedder, monkeypatch):
    opened: list[AboutDialog] = []
    monkeypatch.setattr(AboutDialog, "exec", lambda self: opened.append(self) or 0)
    engine = Engine(app_paths(), embedder=embedder)
    w = MainWindow(engine, use_tray=False)
    qtbot.addWidget(w)
    try:
        (action,) = [
            a
            for m in w.menuBar().actions()
            if m.menu()
            for a in m.menu().actions()
            if a.text() == "&About Findling"
        ]
        action.trigger()
        assert len(opened) == 1
        assert str(engine.paths.index_dir) in opened[0].summary.text()
    finally:
        w.shutdown()
