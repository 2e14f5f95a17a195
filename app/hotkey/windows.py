"""Windows: ``RegisterHotKey`` for the GUI thread; WM_HOTKEY arrives in Qt's native event filter.

Import-safe everywhere: ``user32`` is looked up only when a shortcut is registered.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from typing import Any

from app.hotkey.base import HotkeyBackend, HotkeyError, HotkeyTaken, HotkeyUnavailable
from app.hotkey.keys import KeyCombo

log = logging.getLogger(__name__)

MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
MODIFIERS = {"alt": MOD_ALT, "ctrl": MOD_CONTROL, "shift": MOD_SHIFT, "super": MOD_WIN}
MODIFIERS["cmd"] = MOD_WIN
VK = {"space": 0x20, "return": 0x0D, "tab": 0x09, "escape": 0x1B}
VK.update({f"f{i}": 0x6F + i for i in range(1, 13)})
WM_HOTKEY = 0x0312
ERROR_HOTKEY_ALREADY_REGISTERED = 1409
HOTKEY_ID = 0xF1D1


def virtual_key(key: str) -> int:
    """The Windows virtual-key code of ``key``."""
    if key in VK:
        return VK[key]
    if len(key) == 1 and key.isalnum():
        return ord(key.upper())
    raise HotkeyError(f"The key “{key}” cannot be a Windows shortcut")


class WindowsHotkey(HotkeyBackend):
    """``RegisterHotKey(NULL, id, mods, vk)``: the thread's message queue gets WM_HOTKEY."""

    name = "windows"

    def __init__(self, user32: Any = None, last_error: Callable[[], int] | None = None) -> None:
        super().__init__()
        self._user32 = user32
        self._last_error = last_error
        self._registered = False

    def _lib(self) -> Any:
        if self._user32 is None:
            windll = getattr(ctypes, "windll", None)
            if windll is None:
                raise HotkeyUnavailable("RegisterHotKey exists only on Windows")
            self._user32 = windll.user32
            self._last_error = ctypes.GetLastError  # type: ignore[attr-defined]
        return self._user32

    def register(self, combo: KeyCombo, callback: Callable[[], None]) -> None:
        user32 = self._lib()
        self.unregister()
        mods = MOD_NOREPEAT
        for m in combo.modifiers:
            mods |= MODIFIERS[m]
        if not user32.RegisterHotKey(None, HOTKEY_ID, mods, virtual_key(combo.key)):
            err = self._last_error() if self._last_error else 0
            if err == ERROR_HOTKEY_ALREADY_REGISTERED:
                raise HotkeyTaken(
                    f"{combo} is already used by another program; choose another shortcut"
                )
            raise HotkeyError(f"Windows refused the shortcut {combo} (error {err})")
        self._registered = True
        self.combo, self.callback = combo, callback
        log.info("Global shortcut %s registered (Windows)", combo)

    def unregister(self) -> None:
        if self._registered and self._user32 is not None:
            self._user32.UnregisterHotKey(None, HOTKEY_ID)
        self._registered = False
        self.combo = None

    def handle_message(self, message: int, wparam: int) -> bool:
        """Called by the native event filter with a MSG's fields; True when it was ours."""
        if self._registered and message == WM_HOTKEY and wparam == HOTKEY_ID:
            self._fire()
            return True
        return False


class MSG(ctypes.Structure):
    """The Win32 MSG structure the native event filter receives a pointer to."""

    _fields_ = [
        ("hwnd", ctypes.c_void_p),
        ("message", ctypes.c_uint),
        ("wParam", ctypes.c_size_t),
        ("lParam", ctypes.c_ssize_t),
        ("time", ctypes.c_ulong),
        ("pt_x", ctypes.c_long),
        ("pt_y", ctypes.c_long),
    ]


def read_msg(address: int) -> tuple[int, int]:
    """(message, wParam) of the MSG at ``address``."""
    msg = MSG.from_address(address)
    return int(msg.message), int(msg.wParam)
