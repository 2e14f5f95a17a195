"""macOS: Carbon's ``RegisterEventHotKey`` through ctypes (still the supported way for a global
shortcut that needs no Accessibility permission). Import-safe everywhere: the framework is loaded
only when a shortcut is registered."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from typing import Any

from app.hotkey.base import HotkeyBackend, HotkeyError, HotkeyTaken, HotkeyUnavailable
from app.hotkey.keys import KeyCombo

log = logging.getLogger(__name__)

CMD_KEY, SHIFT_KEY, OPTION_KEY, CONTROL_KEY = 1 << 8, 1 << 9, 1 << 11, 1 << 12
MODIFIERS = {"cmd": CMD_KEY, "super": CMD_KEY, "shift": SHIFT_KEY, "alt": OPTION_KEY}
MODIFIERS["ctrl"] = CONTROL_KEY
# ANSI virtual key codes (Events.h)
KEYCODES = {"space": 49, "return": 36, "tab": 48, "escape": 53}
KEYCODES.update(
    dict(zip("asdfhgzxcv", (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
    | {"b": 11, "q": 12, "w": 13, "e": 14, "r": 15, "y": 16, "t": 17, "o": 31, "u": 32}
    | {"i": 34, "p": 35, "l": 37, "j": 38, "k": 40, "n": 45, "m": 46}
)
EVENT_CLASS_KEYBOARD = int.from_bytes(b"keyb", "big")
EVENT_HOTKEY_PRESSED = 5
EVENT_HOTKEY_EXISTS = -9878
SIGNATURE = int.from_bytes(b"Fndl", "big")


class EventHotKeyID(ctypes.Structure):
    _fields_ = [("signature", ctypes.c_uint32), ("id", ctypes.c_uint32)]


class EventTypeSpec(ctypes.Structure):
    _fields_ = [("eventClass", ctypes.c_uint32), ("eventKind", ctypes.c_uint32)]


HANDLER = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


def load_carbon() -> Any:
    """The Carbon framework (raises HotkeyUnavailable elsewhere)."""
    path = ctypes.util.find_library("Carbon")
    if not path:
        raise HotkeyUnavailable("The Carbon framework exists only on macOS")
    lib = ctypes.CDLL(path)
    lib.GetApplicationEventTarget.restype = ctypes.c_void_p
    return lib


class MacHotkey(HotkeyBackend):
    """One Carbon hot key; its handler runs on the main thread's run loop (Qt's event loop)."""

    name = "macos"

    def __init__(self, carbon: Any = None) -> None:
        super().__init__()
        self._carbon = carbon
        self._ref = ctypes.c_void_p()
        self._handler_ref = ctypes.c_void_p()
        self._handler = HANDLER(self._on_event)

    def _on_event(self, _call: Any, _event: Any, _data: Any) -> int:
        self._fire()
        return 0

    def register(self, combo: KeyCombo, callback: Callable[[], None]) -> None:
        carbon = self._carbon if self._carbon is not None else load_carbon()
        self._carbon = carbon
        self.unregister()
        if combo.key not in KEYCODES:
            raise HotkeyError(f"The key “{combo.key}” cannot be a macOS shortcut here")
        mods = 0
        for m in combo.modifiers:
            mods |= MODIFIERS[m]
        target = carbon.GetApplicationEventTarget()
        if not self._handler_ref:
            spec = EventTypeSpec(EVENT_CLASS_KEYBOARD, EVENT_HOTKEY_PRESSED)
            carbon.InstallEventHandler(
                target, self._handler, 1, ctypes.byref(spec), None, ctypes.byref(self._handler_ref)
            )
        status = carbon.RegisterEventHotKey(
            KEYCODES[combo.key],
            mods,
            EventHotKeyID(SIGNATURE, 1),
            target,
            0,
            ctypes.byref(self._ref),
        )
        if status == EVENT_HOTKEY_EXISTS:
            raise HotkeyTaken(f"{combo} is already used by another program; choose another one")
        if status != 0:
            raise HotkeyError(f"macOS refused the shortcut {combo} (status {status})")
        self.combo, self.callback = combo, callback
        log.info("Global shortcut %s registered (macOS)", combo)

    def unregister(self) -> None:
        if self._carbon is not None and self._ref:
            self._carbon.UnregisterEventHotKey(self._ref)
            self._ref = ctypes.c_void_p()
        self.combo = None
