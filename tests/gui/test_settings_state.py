"""Settings dialog, launch at login, persisted UI state and the one place errors appear."""

from __future__ import annotations

import sys

import pytest

from app import autostart
from app.engine import Engine
from app.gui.settings_dialog import SettingsDialog
from app.gui.window import MainWindow
from app.paths import app_paths
from models.catalogue import catalogue

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def xdg(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG backend")
def test_autostart_writes_and_removes_an_xdg_entry(xdg):
    assert not autostart.is_enabled()
    autostart.set_enabled(True, ["/opt/findling/findling", "--tray"])
    entry = (xdg / "autostart" / f"{autostart.APP_ID}.desktop").read_text()
    assert "Exec=/opt/findling/findling --tray" in entry and "Type=Application" in entry
    assert autostart.is_enabled()
    autostart.set_enabled(False)
    assert not autostart.is_enabled()


def test_settings_dialog_saves_choices(home, qtbot, xdg, monkeypatch):
    monkeypatch.setattr(autostart, "launch_command", lambda: ["findling-gui", "--tray"])
    engine = Engine(app_paths())
    dlg = SettingsDialog(engine)
    qtbot.addWidget(dlg)
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
    dlg.login.setChecked(True)
    dlg.gpu_mode.setCurrentIndex(dlg.gpu_mode.findData("off"))
    assert dlg.unload.currentData() == engine.settings.llm_unload_after_s == 300
    dlg.unload.setCurrentIndex(dlg.unload.findData(0))
    dlg.apply()
    again = Engine(app_paths()).settings
    assert again.theme == "dark" and again.launch_at_login
    assert again.gpu_layers == "off"
    assert again.llm_unload_after_s == 0
    assert dlg.llm.count() >= 1 and dlg.embedding.count() >= 1
    # The recommendation names one model and, when it is not installed, how to get it.
    rec = dlg.recommendation.text()
    assert sum(s.display_name in rec for s in catalogue()) + ("SmolLM2" in rec) == 1
    assert ("press Download" in rec) == any(s.display_name in rec for s in catalogue())
    if sys.platform not in ("win32", "darwin"):
        assert autostart.is_enabled()


def test_an_unload_time_from_the_settings_file_is_kept(home, qtbot, xdg):
    engine = Engine(app_paths())
    engine.settings.llm_unload_after_s = 42
    dlg = SettingsDialog(engine)
    qtbot.addWidget(dlg)
    assert dlg.unload.currentData() == 42 and "42 s" in dlg.unload.currentText()
    dlg.apply()
    assert Engine(app_paths()).settings.llm_unload_after_s == 42


def test_window_state_survives_a_restart_and_errors_reach_the_status_bar(home, qtbot):
    engine = Engine(app_paths())
    engine.settings.folders = ["/nonexistent/findling-a"]
    w = MainWindow(engine, use_tray=False)
    qtbot.addWidget(w)
    w.resize(700, 500)  # fits the offscreen screen (800x600)
    w.show()
    w.search.filters.type.setCurrentText("PDF")
    w.search.filters.date.setCurrentText("Past month")
    w.reporter.error("Could not open /x.pdf")
    assert "Could not open /x.pdf" in w.statusBar().currentMessage()
    w.shutdown()

    w2 = MainWindow(Engine(app_paths()), use_tray=False)
    qtbot.addWidget(w2)
    assert w2.search.filters.type.currentText() == "PDF"
    assert w2.search.filters.date.currentText() == "Past month"
    assert w2.engine.settings.ui["geometry"]
    assert w2.size().width() == 700
    w2.shutdown()
