"""Wayland: no client may grab keys. The XDG desktop portal's GlobalShortcuts interface is the
one sanctioned way (KDE Plasma 6, GNOME 48+, Hyprland through xdg-desktop-portal-hyprland);
where the desktop does not offer it, the user binds ``findling-gui --launcher`` in the desktop's
own keyboard settings (Settings says exactly how).

The portal is driven over D-Bus with jeepney (pure Python; imported only when a shortcut is
registered, so this module imports everywhere). Setup is blocking with time limits — a portal
that never answers costs a few seconds, then :class:`HotkeyUnavailable` — and presses arrive
as ``Activated`` signals read by :meth:`WaylandHotkey.dispatch` when :meth:`fileno` is readable.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import deque
from collections.abc import Callable
from typing import Any

from app.hotkey.base import HotkeyBackend, HotkeyUnavailable
from app.hotkey.keys import KeyCombo, parse

log = logging.getLogger(__name__)

PORTAL_SERVICE = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"
REQUEST = "org.freedesktop.portal.Request"
SESSION = "org.freedesktop.portal.Session"
REGISTRY = "org.freedesktop.host.portal.Registry"
APP_ID = "io.findling.Findling"  # the .desktop file's name, as app/gui/main.py sets it
SHORTCUT_ID = "quick-search"
DESCRIPTION = "Findling Quick Search"

INSTRUCTIONS = (
    "Wayland does not let programs set global shortcuts themselves. Open your desktop's "
    "keyboard settings and add a custom shortcut that runs:\n\n    findling-gui --launcher\n\n"
    "GNOME: Settings → Keyboard → View and Customise Shortcuts → Custom Shortcuts. "
    "KDE Plasma: System Settings → Shortcuts → Add New → Command or Script. "
    "Sway/Hyprland: bindsym/bind in the config file."
)
RESPONSES = {
    1: "The shortcut was declined in the desktop's dialog",
    2: "The desktop portal refused the shortcut",
}
# Triggers as the XDG shortcuts specification writes them: modifiers, then an xkb keysym name.
PORTAL_MODIFIERS = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "super": "LOGO", "cmd": "LOGO"}
PORTAL_KEYS = {"space": "space", "return": "Return", "tab": "Tab", "escape": "Escape"}

_tokens = itertools.count(1)


def portal_trigger(combo: KeyCombo) -> str:
    """``Ctrl+Space`` → ``"CTRL+space"``, the form of the portal's ``preferred_trigger``."""
    order = ["ctrl", "alt", "shift", "super", "cmd"]
    mods = dict.fromkeys(PORTAL_MODIFIERS[m] for m in order if m in combo.modifiers)
    fkey = combo.key[0] == "f" and combo.key[1:].isdigit()
    key = PORTAL_KEYS.get(combo.key, combo.key.upper() if fkey else combo.key)
    return "+".join([*mods, key])


def request_path(unique_name: str, token: str) -> str:
    """The object path the portal gives the Request of a call made with ``handle_token``."""
    sender = unique_name.lstrip(":").replace(".", "_")
    return f"{PORTAL_PATH}/request/{sender}/{token}"


def unavailable(reason: str) -> HotkeyUnavailable:
    """What Settings shows: what the portal said, then how to bind the command instead."""
    return HotkeyUnavailable(f"{reason}\n\n{INSTRUCTIONS}")


def _same_trigger(description: str, combo: KeyCombo) -> bool:
    try:
        return parse(description.replace("<", "").replace(">", "+")) == combo
    except Exception:
        return False


class WaylandHotkey(HotkeyBackend):
    """One shortcut bound through the desktop portal's GlobalShortcuts session.

    Args:
        address: The D-Bus address of the session bus (default ``DBUS_SESSION_BUS_ADDRESS``).
        timeout: Seconds to wait for each answer of the portal while setting up.
        confirm_timeout: Seconds to wait for the answer to BindShortcuts, which the desktop may
            give only after the user confirmed in its dialog (GNOME asks the first time).
    """

    name = "wayland"

    def __init__(
        self,
        address: str | None = None,
        timeout: float = 5.0,
        confirm_timeout: float = 30.0,
    ) -> None:
        super().__init__()
        self._address = address
        self._timeout = timeout
        self._confirm_timeout = confirm_timeout
        self._conn: Any = None  # jeepney.io.blocking.DBusConnection
        self._session: str | None = None
        self._signals: deque[Any] = deque()  # Activated and Session.Closed, in arrival order
        self._app_registered = False

    # -- setting up -------------------------------------------------------------------------

    def register(self, combo: KeyCombo, callback: Callable[[], None]) -> None:
        self.unregister()
        conn = self._connect()
        try:
            if not self._app_registered:
                self._register_app()
                self._app_registered = True
            if GLOBAL_SHORTCUTS not in self._introspect():
                raise unavailable("Your desktop's portal does not offer global shortcuts.")
            session = self._create_session()
            self._session = session
            bound = self._bind(session, combo)
        except TimeoutError as exc:
            self.unregister()
            raise unavailable(
                f"The desktop portal did not answer within {self._timeout:g} s."
            ) from exc
        except HotkeyUnavailable:
            self.unregister()
            raise
        except Exception as exc:  # a D-Bus error reply, a dropped connection
            self.unregister()
            raise unavailable(f"The desktop portal failed: {exc}") from exc
        self.combo, self.callback = combo, callback
        self.bound_as = bound if bound and not _same_trigger(bound, combo) else None
        log.info(
            "Global shortcut %s bound through the desktop portal (%s) on %s",
            combo,
            bound or "trigger not reported",
            conn.unique_name,
        )

    def _connect(self) -> Any:
        if self._conn is not None:
            return self._conn
        address = self._address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        if not address:
            raise unavailable("There is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset).")
        try:
            from jeepney.bus_messages import MatchRule
            from jeepney.io.blocking import open_dbus_connection
        except ImportError as exc:
            raise unavailable("The jeepney package (D-Bus) is not installed.") from exc
        try:
            conn = open_dbus_connection(address, auth_timeout=self._timeout)
        except Exception as exc:
            raise unavailable(f"Cannot reach the D-Bus session bus ({exc}).") from exc
        self._conn = conn
        # Subscribe before any call, so that no signal can come before its match rule.
        activated = MatchRule(
            type="signal", interface=GLOBAL_SHORTCUTS, member="Activated", path=PORTAL_PATH
        )
        closed = MatchRule(type="signal", interface=SESSION, member="Closed")
        try:
            for rule in (activated, closed):
                self._bus_call("AddMatch", rule)
        except Exception as exc:
            self.close()
            raise unavailable(f"The D-Bus session bus did not answer ({exc}).") from exc
        conn.filter(activated, queue=self._signals)
        conn.filter(closed, queue=self._signals)
        return conn

    def _bus_call(self, method: str, *args: Any) -> tuple[Any, ...]:
        from jeepney.bus_messages import message_bus
        from jeepney.wrappers import unwrap_msg

        msg = getattr(message_bus, method)(*args)
        return tuple(unwrap_msg(self._conn.send_and_get_reply(msg, timeout=self._timeout)))

    def _call(self, path: str, interface: str, method: str, sig: str, body: tuple[Any, ...]) -> Any:
        """One method call on the portal; raises DBusErrorResponse or TimeoutError."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        msg = new_method_call(DBusAddress(path, PORTAL_SERVICE, interface), method, sig, body)
        return unwrap_msg(self._conn.send_and_get_reply(msg, timeout=self._timeout))

    def _register_app(self) -> None:
        """Tell the portal our app id, before any other portal call (a program not in a sandbox
        has none otherwise; portals older than 1.19 lack the registry, which is fine)."""
        from jeepney.wrappers import DBusErrorResponse

        try:
            self._call(PORTAL_PATH, REGISTRY, "Register", "sa{sv}", (APP_ID, {}))
        except DBusErrorResponse as exc:
            log.debug("Portal registry not available: %s", exc)

    def _introspect(self) -> str:
        from jeepney.wrappers import DBusErrorResponse

        try:
            reply = self._call(
                PORTAL_PATH, "org.freedesktop.DBus.Introspectable", "Introspect", "", ()
            )
        except DBusErrorResponse as exc:  # no portal service on this bus
            raise unavailable(f"No desktop portal is running ({exc.name}).") from exc
        return str(reply[0])

    def _request(
        self, method: str, sig: str, body: Callable[[str], tuple[Any, ...]], timeout: float
    ) -> tuple[int, dict[str, Any]]:
        """Call a portal method that answers through a Request object: (response, results)."""
        from jeepney.bus_messages import MatchRule

        token = f"findling{os.getpid()}_{next(_tokens)}"
        rule = MatchRule(
            type="signal",
            interface=REQUEST,
            member="Response",
            path=request_path(self._conn.unique_name, token),
        )
        self._bus_call("AddMatch", rule)
        answers: deque[Any] = deque()
        handles = [self._conn.filter(rule, queue=answers)]
        try:
            (handle,) = self._call(PORTAL_PATH, GLOBAL_SHORTCUTS, method, sig, body(token))
            if handle != rule.header_fields["path"]:  # portals older than 0.9 chose their own
                other = MatchRule(type="signal", interface=REQUEST, member="Response", path=handle)
                self._bus_call("AddMatch", other)
                handles.append(self._conn.filter(other, queue=answers))
            try:
                reply = self._conn.recv_until_filtered(answers, timeout=timeout)
            except TimeoutError as exc:
                self._close_request(handle)
                raise unavailable(
                    f"The desktop portal did not answer {method} within {timeout:g} s."
                ) from exc
        finally:
            for h in handles:
                h.close()
        response, results = reply.body
        return int(response), {k: v[1] for k, v in results.items()}

    def _close_request(self, handle: str) -> None:
        """Withdraw a call the portal has not answered (the desktop drops its dialog)."""
        try:
            self._call(handle, REQUEST, "Close", "", ())
        except Exception as exc:
            log.info("Closing the portal request failed: %s", exc)

    def _create_session(self) -> str:
        def body(token: str) -> tuple[Any, ...]:
            return ({"handle_token": ("s", token), "session_handle_token": ("s", token)},)

        response, results = self._request("CreateSession", "a{sv}", body, self._timeout)
        if response != 0 or "session_handle" not in results:
            raise unavailable(
                RESPONSES.get(response, "The desktop portal refused a shortcut session")
                + f" (response {response})."
            )
        return str(results["session_handle"])

    def _bind(self, session: str, combo: KeyCombo) -> str:
        """Bind the quick-search shortcut; the trigger the desktop reports ("" if none)."""
        shortcut = {
            "description": ("s", DESCRIPTION),
            "preferred_trigger": ("s", portal_trigger(combo)),
        }

        def body(token: str) -> tuple[Any, ...]:
            return (session, [(SHORTCUT_ID, shortcut)], "", {"handle_token": ("s", token)})

        response, results = self._request(
            "BindShortcuts", "oa(sa{sv})sa{sv}", body, self._confirm_timeout
        )
        if response != 0:
            raise unavailable(RESPONSES.get(response, RESPONSES[2]) + f" (response {response}).")
        bound = {sid: props for sid, props in results.get("shortcuts", [])}
        if SHORTCUT_ID not in bound:
            raise unavailable("The desktop portal bound no shortcut for Findling.")
        trigger = bound[SHORTCUT_ID].get("trigger_description", ("s", ""))[1]
        return str(trigger)

    # -- running ------------------------------------------------------------------------------

    def fileno(self) -> int | None:
        if self._conn is None:
            return None
        return int(self._conn.sock.fileno())

    def dispatch(self) -> int:
        if self._conn is None:
            return 0
        from jeepney import HeaderFields

        try:
            while True:  # everything already waiting, without blocking
                self._conn.recv_messages(timeout=0)
        except TimeoutError:
            pass
        except OSError as exc:  # the bus went away (ConnectionResetError among them)
            log.warning("D-Bus connection lost; the global shortcut no longer works: %s", exc)
            self._session = None
            self.close()
        presses = 0
        while self._signals:
            msg = self._signals.popleft()
            if self._session is None:
                continue
            if msg.header.fields.get(HeaderFields.member) == "Closed":
                if msg.header.fields.get(HeaderFields.path) == self._session:
                    log.warning("The desktop closed the global-shortcut session")
                    self._session = None
                continue
            session, shortcut_id, *_ = msg.body
            if session == self._session and shortcut_id == SHORTCUT_ID:
                presses += 1
        for _ in range(presses):
            self._fire()
        return presses

    def unregister(self) -> None:
        session, self._session = self._session, None
        self.combo, self.bound_as = None, None
        if session is None or self._conn is None:
            return
        try:
            self._call(session, SESSION, "Close", "", ())
        except Exception as exc:  # the session is gone either way once we forget it
            log.info("Closing the portal session failed: %s", exc)

    def close(self) -> None:
        self.unregister()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()
