"""Launch at login on macOS and Windows, with the OS parts replaced (logic only).

The XDG backend runs for real in tests/gui/test_settings_state.py; LaunchAgents and the Run key
can only be exercised for real on those systems.
"""

import plistlib
import sys
import types
from pathlib import Path

from app import autostart

CMD = ["/Applications/Findling.app/Contents/MacOS/Findling", "--tray"]


def test_macos_launch_agent(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    assert not autostart.is_enabled()
    autostart.set_enabled(True, CMD)
    plist = tmp_path / "Library" / "LaunchAgents" / f"{autostart.APP_ID}.plist"
    data = plistlib.loads(plist.read_bytes())
    assert data["ProgramArguments"] == CMD and data["RunAtLoad"] is True
    assert data["Label"] == autostart.APP_ID
    assert autostart.is_enabled()
    autostart.set_enabled(False, CMD)
    assert not plist.exists() and not autostart.is_enabled()


def test_windows_run_key(monkeypatch):
    values: dict[str, str] = {}

    class Key:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    def query(key, name):
        if name not in values:
            raise FileNotFoundError(name)
        return values[name], 1

    def delete(key, name):
        if name not in values:
            raise FileNotFoundError(name)
        del values[name]

    fake = types.SimpleNamespace(
        HKEY_CURRENT_USER=object(),
        KEY_SET_VALUE=2,
        REG_SZ=1,
        OpenKey=lambda *a: Key(),
        QueryValueEx=query,
        DeleteValue=delete,
        SetValueEx=lambda key, name, _r, _t, value: values.__setitem__(name, value),
    )
    monkeypatch.setitem(sys.modules, "winreg", fake)
    monkeypatch.setattr(sys, "platform", "win32")
    cmd = [r"C:\Program Files\Findling\Findling.exe", "--tray"]
    assert not autostart.is_enabled()
    autostart.set_enabled(True, cmd)
    assert values[autostart.RUN_VALUE] == '"C:\\Program Files\\Findling\\Findling.exe" --tray'
    assert autostart.is_enabled()
    autostart.set_enabled(False, cmd)
    assert not values and not autostart.is_enabled()
    autostart.set_enabled(False, cmd)  # already off: no error


def test_appimage_launch_command(monkeypatch):
    monkeypatch.setenv("APPIMAGE", "/home/u/Apps/Findling.AppImage")
    assert autostart.launch_command() == ["/home/u/Apps/Findling.AppImage", "--tray"]
