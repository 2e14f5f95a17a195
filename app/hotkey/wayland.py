"""Wayland: no client may grab keys. The XDG desktop portal's GlobalShortcuts interface is the
one sanctioned way; where the desktop does not offer it, the user binds ``findling-gui
--launcher`` in the desktop's own keyboard settings (Settings says exactly how)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.hotkey.base import HotkeyBackend, HotkeyUnavailable
from app.hotkey.keys import KeyCombo

log = logging.getLogger(__name__)

PORTAL_SERVICE = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"

INSTRUCTIONS = (
    "Wayland does not let programs set global shortcuts themselves. Open your desktop's "
    "keyboard settings and add a custom shortcut that runs:\n\n    findling-gui --launcher\n\n"
    "GNOME: Settings → Keyboard → View and Customise Shortcuts → Custom Shortcuts. "
    "KDE Plasma: System Settings → Shortcuts → Add New → Command or Script. "
    "Sway/Hyprland: bindsym/bind in the config file."
)


def portal_has_global_shortcuts(introspect: Callable[[], str] | None = None) -> bool:
    """Whether the session's desktop portal offers GlobalShortcuts (read via D-Bus)."""
    try:
        xml = (introspect or _introspect)()
    except Exception as exc:  # no session bus, no portal
        log.info("Desktop portal not reachable: %s", exc)
        return False
    return GLOBAL_SHORTCUTS in xml


def _introspect() -> str:
    from PySide6.QtDBus import QDBusConnection, QDBusInterface

    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        raise OSError("no D-Bus session bus")
    iface = QDBusInterface(PORTAL_SERVICE, PORTAL_PATH, "org.freedesktop.DBus.Introspectable", bus)
    reply = iface.call("Introspect")
    args: list[Any] = reply.arguments()
    return str(args[0]) if args else ""


class WaylandHotkey(HotkeyBackend):
    """Detects what the desktop allows and explains the user's choices."""

    name = "wayland"

    def __init__(self, introspect: Callable[[], str] | None = None) -> None:
        super().__init__()
        self._introspect = introspect

    def register(self, combo: KeyCombo, callback: Callable[[], None]) -> None:
        if portal_has_global_shortcuts(self._introspect):
            # The portal binds shortcuts through an interactive session the desktop shows the
            # user; until Findling drives that session, the desktop's own binding is the way.
            raise HotkeyUnavailable(
                "Your desktop offers global shortcuts through its portal, but Findling cannot "
                "bind them yet. " + INSTRUCTIONS
            )
        raise HotkeyUnavailable(INSTRUCTIONS)

    def unregister(self) -> None:
        self.combo = None
