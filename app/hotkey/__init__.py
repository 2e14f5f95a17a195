"""Global hotkeys: one interface (:mod:`app.hotkey.base`), one module per platform, a factory."""

from __future__ import annotations

import os
import sys

from app.hotkey.base import HotkeyBackend, HotkeyError, HotkeyTaken, HotkeyUnavailable
from app.hotkey.keys import KeyCombo, default_hotkey, parse

__all__ = [
    "HotkeyBackend",
    "HotkeyError",
    "HotkeyTaken",
    "HotkeyUnavailable",
    "KeyCombo",
    "create_backend",
    "default_hotkey",
    "is_wayland",
    "parse",
]


def is_wayland(env: dict[str, str] | None = None) -> bool:
    """Whether the session is Wayland (where no program may grab keys globally)."""
    env = dict(os.environ) if env is None else env
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "") == "wayland"


def create_backend(platform: str | None = None, env: dict[str, str] | None = None) -> HotkeyBackend:
    """The backend for this platform (raises HotkeyUnavailable when there is none)."""
    platform = platform or sys.platform
    env = dict(os.environ) if env is None else env
    if platform == "win32":
        from app.hotkey.windows import WindowsHotkey

        return WindowsHotkey()
    if platform == "darwin":
        from app.hotkey.macos import MacHotkey

        return MacHotkey()
    if is_wayland(env) and env.get("QT_QPA_PLATFORM", "") not in ("xcb",):
        from app.hotkey.wayland import WaylandHotkey

        return WaylandHotkey()
    from app.hotkey.x11 import X11Hotkey

    return X11Hotkey(env.get("DISPLAY"))
