"""Hotkey backends with their OS calls replaced (the X11 one also runs for real under Xvfb)."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import pytest

from app.hotkey import (
    HotkeyError,
    HotkeyTaken,
    HotkeyUnavailable,
    create_backend,
    default_hotkey,
    is_wayland,
    macos,
    parse,
    wayland,
    windows,
    x11,
)


def test_parse_and_format() -> None:
    c = parse("ctrl + space")
    assert c.modifiers == frozenset({"ctrl"}) and c.key == "space"
    assert str(parse("shift+cmd+Space")) == "Cmd+Shift+Space"
    assert str(parse("Control+Alt+f")) == "Ctrl+Alt+F"
    for bad, word in (("Space", "modifier"), ("Ctrl+Hyper+K", "Hyper"), ("Ctrl+Ünicode", "key")):
        with pytest.raises(HotkeyError, match=word.lower() if word != "Hyper" else "hyper"):
            parse(bad)


def test_defaults_per_platform() -> None:
    assert default_hotkey("linux") == "Ctrl+Space"
    assert default_hotkey("win32") == "Ctrl+Space"
    assert default_hotkey("darwin") == "Cmd+Shift+Space"


def test_factory_picks_backend() -> None:
    assert create_backend("win32", {}).name == "windows"
    assert create_backend("darwin", {}).name == "macos"
    assert create_backend("linux", {"WAYLAND_DISPLAY": "wayland-0"}).name == "wayland"
    assert create_backend("linux", {"DISPLAY": ":0"}).name == "x11"
    assert is_wayland({"XDG_SESSION_TYPE": "wayland"}) and not is_wayland({"DISPLAY": ":1"})


class FakeUser32:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.calls: list[tuple[Any, ...]] = []

    def RegisterHotKey(self, hwnd: Any, ident: int, mods: int, vk: int) -> int:
        self.calls.append(("register", hwnd, ident, mods, vk))
        return int(self.ok)

    def UnregisterHotKey(self, hwnd: Any, ident: int) -> int:
        self.calls.append(("unregister", hwnd, ident))
        return 1


def test_windows_registers_and_handles_wm_hotkey() -> None:
    user32 = FakeUser32()
    b = windows.WindowsHotkey(user32, lambda: 0)
    pressed: list[int] = []
    b.register(parse("Ctrl+Alt+K"), lambda: pressed.append(1))
    mods = windows.MOD_CONTROL | windows.MOD_ALT | windows.MOD_NOREPEAT
    assert user32.calls == [("register", None, windows.HOTKEY_ID, mods, ord("K"))]
    assert not b.handle_message(0x0100, windows.HOTKEY_ID)  # WM_KEYDOWN: not ours
    assert b.handle_message(windows.WM_HOTKEY, windows.HOTKEY_ID)
    assert pressed == [1]
    b.unregister()
    assert user32.calls[-1] == ("unregister", None, windows.HOTKEY_ID)
    assert not b.handle_message(windows.WM_HOTKEY, windows.HOTKEY_ID)


def test_windows_taken_and_msg_layout() -> None:
    b = windows.WindowsHotkey(FakeUser32(ok=False), lambda: windows.ERROR_HOTKEY_ALREADY_REGISTERED)
    with pytest.raises(HotkeyTaken, match="Ctrl\\+Space is already used"):
        b.register(parse("Ctrl+Space"), lambda: None)
    msg = windows.MSG(None, windows.WM_HOTKEY, windows.HOTKEY_ID, 0, 0, 0, 0)
    assert windows.read_msg(ctypes.addressof(msg)) == (windows.WM_HOTKEY, windows.HOTKEY_ID)


def test_windows_backend_is_unavailable_off_windows() -> None:
    if hasattr(ctypes, "windll"):
        pytest.skip("this is Windows")
    with pytest.raises(HotkeyUnavailable):
        windows.WindowsHotkey().register(parse("Ctrl+Space"), lambda: None)


class FakeCarbon:
    def __init__(self, status: int = 0) -> None:
        self.status = status
        self.handler: Any = None
        self.registered: list[tuple[int, int]] = []
        self.unregistered = 0

    def GetApplicationEventTarget(self) -> int:
        return 1234

    def InstallEventHandler(
        self, target: int, handler: Any, n: int, spec: Any, data: Any, ref: Any
    ) -> int:
        self.handler = handler
        return 0

    def RegisterEventHotKey(
        self, code: int, mods: int, ident: Any, target: int, opts: int, ref: Any
    ) -> int:
        self.registered.append((code, mods))
        ref._obj.value = 42  # the out-parameter, as Carbon fills it
        return self.status

    def UnregisterEventHotKey(self, ref: Any) -> int:
        self.unregistered += 1
        return 0


def test_macos_registers_and_fires() -> None:
    carbon = FakeCarbon()
    b = macos.MacHotkey(carbon)
    pressed: list[int] = []
    b.register(parse("Cmd+Shift+Space"), lambda: pressed.append(1))
    assert carbon.registered == [(49, macos.CMD_KEY | macos.SHIFT_KEY)]
    carbon.handler(None, None, None)  # Carbon calls the handler on a press
    assert pressed == [1]
    b.unregister()
    assert carbon.unregistered == 1


def test_macos_taken() -> None:
    b = macos.MacHotkey(FakeCarbon(status=macos.EVENT_HOTKEY_EXISTS))
    with pytest.raises(HotkeyTaken):
        b.register(parse("Cmd+Shift+Space"), lambda: None)


def test_wayland_explains_how_to_bind_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    cases = [
        (wayland.WaylandHotkey(), "no D-Bus session bus"),
        (wayland.WaylandHotkey("unix:path=/nonexistent/bus"), "Cannot reach the D-Bus"),
    ]
    for backend, reason in cases:
        with pytest.raises(HotkeyUnavailable, match=reason) as caught:
            backend.register(parse("Ctrl+Space"), lambda: None)
        assert "findling-gui --launcher" in str(caught.value)
        assert backend.fileno() is None and backend.dispatch() == 0
        backend.close()
    monkeypatch.setitem(sys.modules, "jeepney", None)  # as where it is not installed
    monkeypatch.setitem(sys.modules, "jeepney.bus_messages", None)
    monkeypatch.setitem(sys.modules, "jeepney.io.blocking", None)
    with pytest.raises(HotkeyUnavailable, match="jeepney"):
        wayland.WaylandHotkey("unix:path=/x").register(parse("Ctrl+Space"), lambda: None)


def test_wayland_portal_triggers_and_request_paths() -> None:
    assert wayland.portal_trigger(parse("Ctrl+Space")) == "CTRL+space"
    assert wayland.portal_trigger(parse("Shift+Ctrl+Alt+F")) == "CTRL+ALT+SHIFT+f"
    assert wayland.portal_trigger(parse("Super+F12")) == "LOGO+F12"
    assert wayland.portal_trigger(parse("Alt+Enter")) == "ALT+Return"
    path = wayland.request_path(":1.42", "findling7")
    assert path == "/org/freedesktop/portal/desktop/request/1_42/findling7"


class FakeXlib:
    """libX11 as the backend calls it; ``refuse`` makes the server answer BadAccess."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.grabs: set[tuple[int, int]] = set()
        self.handler: Any = None
        self.events: list[int] = []

    def XOpenDisplay(self, name: Any) -> int:
        return 7

    def XDefaultRootWindow(self, dpy: int) -> int:
        return 1

    def XStringToKeysym(self, s: bytes) -> int:
        return 0x20 if s == b"space" else 0

    def XKeysymToKeycode(self, dpy: int, sym: int) -> int:
        return 65

    def XSetErrorHandler(self, h: Any) -> Any:
        prev, self.handler = self.handler, h
        return prev

    def XGrabKey(self, dpy: int, code: int, mods: int, *rest: Any) -> int:
        self.grabs.add((code, mods))
        return 1

    def XSync(self, dpy: int, discard: int) -> int:
        if self.refuse and self.handler:
            err = x11.XErrorEvent(0, None, 0, 0, x11.BAD_ACCESS, 33, 0)
            handler = ctypes.cast(self.handler, x11.ERROR_HANDLER)
            handler(None, ctypes.pointer(err))
        return 1

    def XUngrabKey(self, dpy: int, code: int, mods: int, root: int) -> int:
        self.grabs.discard((code, mods))
        return 1

    def XPending(self, dpy: int) -> int:
        return len(self.events)

    def XNextEvent(self, dpy: int, ev: Any) -> int:
        ev._obj.type = x11.KEY_PRESS
        ev._obj.xkey.keycode = self.events.pop(0)
        return 0

    def XConnectionNumber(self, dpy: int) -> int:
        return 99

    def XCloseDisplay(self, dpy: int) -> int:
        return 0


def test_x11_grabs_every_lock_variant_and_dispatches() -> None:
    xlib = FakeXlib()
    b = x11.X11Hotkey(":0", xlib)
    pressed: list[int] = []
    b.register(parse("Ctrl+Space"), lambda: pressed.append(1))
    mods = {m for _, m in xlib.grabs}
    assert x11.CONTROL in mods and x11.CONTROL | x11.MOD2 in mods  # NumLock on
    assert x11.CONTROL | x11.LOCK in mods  # CapsLock on
    assert len(xlib.grabs) == len(x11.LOCK_VARIANTS)
    xlib.events = [65, 12, 65]  # two presses of ours, one other key
    assert b.dispatch() == 2 and pressed == [1, 1]
    assert b.fileno() == 99
    b.close()
    assert xlib.grabs == set()


def test_x11_bad_access_means_taken() -> None:
    xlib = FakeXlib(refuse=True)
    b = x11.X11Hotkey(":0", xlib)
    with pytest.raises(HotkeyTaken, match="already used by another program"):
        b.register(parse("Ctrl+Space"), lambda: None)
    assert xlib.grabs == set()  # what was grabbed is released again
