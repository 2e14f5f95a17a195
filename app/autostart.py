"""Launch at login, one backend per platform (Qt-free).

* Linux and other XDG desktops: a ``.desktop`` file in ``$XDG_CONFIG_HOME/autostart``.
* Windows: a value under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.
* macOS: a LaunchAgent property list in ``~/Library/LaunchAgents``.

Each backend starts Findling with ``--tray`` so that it comes up hidden in the tray.
"""

from __future__ import annotations

import contextlib
import logging
import os
import plistlib
import shlex
import sys
from pathlib import Path

from indexer.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

APP_ID = "io.findling.Findling"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Findling"


class AutostartError(Exception):
    """Launch at login could not be changed."""


def launch_command() -> list[str]:
    """The command that starts the app hidden in the tray."""
    appimage = os.environ.get("APPIMAGE")
    if appimage:  # inside an AppImage sys.executable lives on a temporary mount
        return [appimage, "--tray"]
    if getattr(sys, "frozen", False):  # a PyInstaller build: the executable is the app
        return [sys.executable, "--tray"]
    return [sys.executable, "-m", "app.gui.main", "--tray"]


def _xdg_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / f"{APP_ID}.desktop"


def _mac_file() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def is_enabled() -> bool:
    """Whether Findling is set to start at login."""
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
            return True
        except OSError:
            return False
    if sys.platform == "darwin":
        return _mac_file().exists()
    return _xdg_file().exists()


def set_enabled(enabled: bool, command: list[str] | None = None) -> None:
    """Turn launch at login on or off.

    Raises:
        AutostartError: the platform's autostart entry could not be written or removed.
    """
    cmd = command or launch_command()
    try:
        if sys.platform == "win32":
            _set_windows(enabled, cmd)
        elif sys.platform == "darwin":
            _set_file(_mac_file(), enabled, _plist(cmd))
        else:
            _set_file(_xdg_file(), enabled, _desktop_entry(cmd))
    except OSError as exc:
        raise AutostartError(f"Could not change launch at login: {exc}") from exc
    log.info("Launch at login %s", "enabled" if enabled else "disabled")


def _desktop_entry(cmd: list[str]) -> bytes:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Findling\n"
        "Comment=Search and question your own files, offline\n"
        f"Exec={shlex.join(cmd)}\n"
        "Icon=io.findling.Findling\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    ).encode()


def _plist(cmd: list[str]) -> bytes:
    return plistlib.dumps(
        {"Label": APP_ID, "ProgramArguments": cmd, "RunAtLoad": True, "ProcessType": "Interactive"}
    )


def _set_file(path: Path, enabled: bool, content: bytes) -> None:
    if enabled:
        atomic_write_bytes(path, content)
    else:
        path.unlink(missing_ok=True)


def _set_windows(enabled: bool, cmd: list[str]) -> None:
    if sys.platform != "win32":  # winreg exists only there (and typeshed says so to mypy)
        raise OSError("the Windows registry is only available on Windows")
    import subprocess
    import winreg

    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        if enabled:
            winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, subprocess.list2cmdline(cmd))
        else:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, RUN_VALUE)
