"""X11: ``XGrabKey`` on the root window through libX11 (ctypes; libX11 ships with every X desktop).

A grab is made once per lock-modifier variant, so that the shortcut still works with NumLock,
CapsLock or ScrollLock on. When another client already grabs the combination the server answers
BadAccess, which becomes :class:`HotkeyTaken`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable
from typing import Any

from app.hotkey.base import HotkeyBackend, HotkeyError, HotkeyTaken, HotkeyUnavailable
from app.hotkey.keys import KeyCombo

log = logging.getLogger(__name__)

SHIFT, LOCK, CONTROL, MOD1, MOD2, MOD3, MOD4, MOD5 = (1 << i for i in range(8))
MODIFIER_MASKS = {"shift": SHIFT, "ctrl": CONTROL, "alt": MOD1, "super": MOD4, "cmd": MOD4}
# NumLock is Mod2 and ScrollLock Mod5 on common layouts; CapsLock is Lock.
LOCK_VARIANTS = tuple(a | b | c for a in (0, LOCK) for b in (0, MOD2) for c in (0, MOD5))
KEY_PRESS = 2
BAD_ACCESS = 10
GRAB_MODE_ASYNC = 1
KEYSYMS = {"space": "space", "return": "Return", "tab": "Tab", "escape": "Escape"}


class XErrorEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("resourceid", ctypes.c_ulong),
        ("serial", ctypes.c_ulong),
        ("error_code", ctypes.c_ubyte),
        ("request_code", ctypes.c_ubyte),
        ("minor_code", ctypes.c_ubyte),
    ]


class XKeyEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("root", ctypes.c_ulong),
        ("subwindow", ctypes.c_ulong),
        ("time", ctypes.c_ulong),
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("x_root", ctypes.c_int),
        ("y_root", ctypes.c_int),
        ("state", ctypes.c_uint),
        ("keycode", ctypes.c_uint),
        ("same_screen", ctypes.c_int),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xkey", XKeyEvent), ("pad", ctypes.c_long * 24)]


ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(XErrorEvent))


def load_xlib() -> Any:
    """libX11 with the prototypes used here (raises HotkeyUnavailable when missing)."""
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise HotkeyUnavailable(f"libX11 is not installed ({exc})") from exc
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XDefaultRootWindow.restype = ctypes.c_ulong
    lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    lib.XStringToKeysym.restype = ctypes.c_ulong
    lib.XStringToKeysym.argtypes = [ctypes.c_char_p]
    lib.XKeysymToKeycode.restype = ctypes.c_ubyte
    lib.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    lib.XGrabKey.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
    ]
    lib.XUngrabKey.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_ulong]
    lib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.XPending.argtypes = [ctypes.c_void_p]
    lib.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(XEvent)]
    lib.XConnectionNumber.argtypes = [ctypes.c_void_p]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    lib.XSetErrorHandler.restype = ctypes.c_void_p
    lib.XSetErrorHandler.argtypes = [ctypes.c_void_p]
    return lib


class X11Hotkey(HotkeyBackend):
    """Grabs one key combination on the X server's root window (its own connection)."""

    name = "x11"

    def __init__(self, display: str | None = None, xlib: Any = None) -> None:
        super().__init__()
        self._display_name = display
        self._xlib = xlib
        self._dpy: int | None = None
        self._grabs: list[tuple[int, int]] = []
        self._keycode = 0
        self._errors: list[int] = []
        self._handler = ERROR_HANDLER(self._on_error)  # kept alive as long as we are

    def _on_error(self, _dpy: Any, event: Any) -> int:
        self._errors.append(int(event.contents.error_code))
        return 0

    def _connect(self) -> Any:
        if self._xlib is None:
            self._xlib = load_xlib()
        x = self._xlib
        if self._dpy is None:
            name = self._display_name.encode() if self._display_name else None
            dpy = x.XOpenDisplay(name)
            if not dpy:
                raise HotkeyUnavailable(
                    f"Cannot connect to the X server {self._display_name or '(DISPLAY unset)'}"
                )
            self._dpy = dpy
        return x

    def register(self, combo: KeyCombo, callback: Callable[[], None]) -> None:
        x = self._connect()
        self.unregister()
        keysym = x.XStringToKeysym(KEYSYMS.get(combo.key, combo.key).encode())
        keycode = x.XKeysymToKeycode(self._dpy, keysym) if keysym else 0
        if not keycode:
            raise HotkeyError(f"The key “{combo.key}” is not on this keyboard layout")
        mods = 0
        for m in combo.modifiers:
            mods |= MODIFIER_MASKS[m]
        root = x.XDefaultRootWindow(self._dpy)
        previous = x.XSetErrorHandler(ctypes.cast(self._handler, ctypes.c_void_p))
        self._errors.clear()
        try:
            for extra in LOCK_VARIANTS:
                x.XGrabKey(
                    self._dpy, keycode, mods | extra, root, 0, GRAB_MODE_ASYNC, GRAB_MODE_ASYNC
                )
                self._grabs.append((keycode, mods | extra))
            x.XSync(self._dpy, 0)  # errors arrive here
        finally:
            x.XSetErrorHandler(previous)
        self._keycode = keycode
        if self._errors:
            self.unregister()
            if BAD_ACCESS in self._errors:
                raise HotkeyTaken(
                    f"{combo} is already used by another program; choose another shortcut"
                )
            raise HotkeyError(f"The X server refused {combo} (error {self._errors[0]})")
        self.combo, self.callback = combo, callback
        log.info("Global shortcut %s registered (X11)", combo)

    def unregister(self) -> None:
        if self._dpy is None or not self._grabs:
            self._grabs = []
            return
        x = self._xlib
        root = x.XDefaultRootWindow(self._dpy)
        for keycode, mods in self._grabs:
            x.XUngrabKey(self._dpy, keycode, mods, root)
        x.XSync(self._dpy, 0)
        self._grabs = []
        self.combo = None

    def fileno(self) -> int | None:
        if self._dpy is None:
            return None
        return int(self._xlib.XConnectionNumber(self._dpy))

    def dispatch(self) -> int:
        if self._dpy is None:
            return 0
        x, presses = self._xlib, 0
        event = XEvent()
        while x.XPending(self._dpy):
            x.XNextEvent(self._dpy, ctypes.byref(event))
            if event.type == KEY_PRESS and event.xkey.keycode == self._keycode:
                presses += 1
        for _ in range(presses):
            self._fire()
        return presses

    def close(self) -> None:
        self.unregister()
        if self._dpy is not None:
            self._xlib.XCloseDisplay(self._dpy)
            self._dpy = None
