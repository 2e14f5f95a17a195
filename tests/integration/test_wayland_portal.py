"""The Wayland backend against a real D-Bus: a private dbus-daemon and a small fake desktop
portal (jeepney) that serves GlobalShortcuts the way xdg-desktop-portal does — Request objects
answered by Response signals, then Activated signals for presses."""

from __future__ import annotations

import queue
import select
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jeepney import DBusAddress, HeaderFields, Message, MessageType, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, Proxy, open_dbus_connection
from jeepney.wrappers import new_error, new_method_return

from app.hotkey import HotkeyUnavailable, parse
from app.hotkey.wayland import (
    GLOBAL_SHORTCUTS,
    PORTAL_PATH,
    PORTAL_SERVICE,
    REQUEST,
    SESSION,
    SHORTCUT_ID,
    WaylandHotkey,
    request_path,
)

INTROSPECT = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"


@pytest.fixture
def bus_daemon() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A private session bus of our own: its address and its process."""
    exe = shutil.which("dbus-daemon")
    if exe is None:
        pytest.skip("dbus-daemon is not installed (Debian/Ubuntu: apt install dbus-daemon)")
    proc = subprocess.Popen(
        [exe, "--session", "--print-address", "--nofork"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    assert address.startswith("unix:"), address
    yield address, proc
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def bus(bus_daemon: tuple[str, subprocess.Popen[str]]) -> str:
    return bus_daemon[0]


class FakePortal(threading.Thread):
    """org.freedesktop.portal.Desktop with GlobalShortcuts, on its own thread and connection.

    Args:
        shortcuts: Whether the portal offers GlobalShortcuts at all.
        bind_response: The Response code BindShortcuts answers (0 bound, 1 cancelled, 2 other).
        bound_trigger: The trigger_description the desktop reports for a bound shortcut.
        answer: The methods whose Request gets its Response signal (the others never do).
        mute: True: the portal does not even reply to method calls.
    """

    def __init__(
        self,
        address: str,
        *,
        shortcuts: bool = True,
        bind_response: int = 0,
        bound_trigger: str = "Ctrl+Space",
        answer: tuple[str, ...] = ("CreateSession", "BindShortcuts"),
        mute: bool = False,
    ) -> None:
        super().__init__(daemon=True)
        self.shortcuts, self.bind_response, self.bound_trigger = (
            shortcuts,
            bind_response,
            bound_trigger,
        )
        self.answer, self.mute = answer, mute
        self.conn: DBusConnection = open_dbus_connection(address)
        Proxy(message_bus, self.conn, timeout=5).RequestName(PORTAL_SERVICE)
        self.commands: queue.Queue[Callable[[], None]] = queue.Queue()
        self.stopping = threading.Event()
        self.sessions: list[str] = []
        self.closed: list[str] = []
        self.requests: list[str] = []
        self.withdrawn: list[str] = []
        self.preferred: list[str] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            while not self.commands.empty():
                self.commands.get()()
            try:
                msg = self.conn.receive(timeout=0.05)
            except TimeoutError:
                continue
            except OSError:  # the bus went away
                return
            # What the test queued before this call was sent goes out before the reply (sync()
            # relies on that: its Ping must not overtake an end_session() or activate()).
            while not self.commands.empty():
                self.commands.get()()
            if msg.header.message_type == MessageType.method_call and not self.mute:
                self.handle(msg)

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
        self.conn.close()

    def emit(self, path: str, interface: str, member: str, sig: str, body: tuple[Any, ...]) -> None:
        self.conn.send(new_signal(DBusAddress(path, interface=interface), member, sig, body))

    def activate(self, session: str, shortcut_id: str = SHORTCUT_ID) -> None:
        """Emit Activated (from the portal's thread) as if the user pressed the shortcut."""
        body: tuple[Any, ...] = (session, shortcut_id, 123456, {})
        self.commands.put(
            lambda: self.emit(PORTAL_PATH, GLOBAL_SHORTCUTS, "Activated", "osta{sv}", body)
        )

    def end_session(self, session: str) -> None:
        """Emit Session.Closed, as a desktop does when the user revokes the shortcuts."""
        self.commands.put(lambda: self.emit(session, SESSION, "Closed", "a{sv}", ({},)))

    def handle(self, msg: Message) -> None:
        fields = msg.header.fields
        iface, member = fields.get(HeaderFields.interface), fields[HeaderFields.member]
        path, sender = fields[HeaderFields.path], fields[HeaderFields.sender]
        if iface == INTROSPECT and member == "Introspect":
            names = [INTROSPECT, "org.freedesktop.portal.Settings"]
            names += [GLOBAL_SHORTCUTS] if self.shortcuts else []
            xml = "<node>" + "".join(f'<interface name="{n}"/>' for n in names) + "</node>"
            self.conn.send(new_method_return(msg, "s", (xml,)))
        elif iface == PEER and member == "Ping":
            self.conn.send(new_method_return(msg))
        elif iface == GLOBAL_SHORTCUTS and self.shortcuts and member == "CreateSession":
            options = msg.body[0]
            token = options["handle_token"][1]
            session = f"{PORTAL_PATH}/session/{sender[1:].replace('.', '_')}/"
            session += options["session_handle_token"][1]
            self.sessions.append(session)
            self.reply_request(
                msg, request_path(sender, token), 0, {"session_handle": ("s", session)}
            )
        elif iface == GLOBAL_SHORTCUTS and self.shortcuts and member == "BindShortcuts":
            session, shortcuts, _parent, options = msg.body
            assert session in self.sessions
            self.preferred += [props["preferred_trigger"][1] for _, props in shortcuts]
            bound = [
                (
                    sid,
                    {
                        "description": props["description"],
                        "trigger_description": ("s", self.bound_trigger),
                    },
                )
                for sid, props in shortcuts
            ]
            results = {"shortcuts": ("a(sa{sv})", bound)} if self.bind_response == 0 else {}
            token = options["handle_token"][1]
            self.reply_request(msg, request_path(sender, token), self.bind_response, results)
        elif iface == REQUEST and member == "Close" and path in self.requests:
            self.withdrawn.append(path)
            self.conn.send(new_method_return(msg))
        elif iface == SESSION and member == "Close" and path in self.sessions:
            self.closed.append(path)
            self.conn.send(new_method_return(msg))
        else:
            error = "org.freedesktop.DBus.Error.UnknownMethod"
            self.conn.send(new_error(msg, error, "s", (f"No {iface}.{member} here",)))

    def reply_request(
        self, msg: Message, request: str, response: int, results: dict[str, Any]
    ) -> None:
        self.requests.append(request)
        self.conn.send(new_method_return(msg, "o", (request,)))
        if (
            msg.header.fields[HeaderFields.member] in self.answer
        ):  # broadcast, so that only the backend's match rule brings it there
            self.emit(request, REQUEST, "Response", "ua{sv}", (response, results))


@pytest.fixture
def portal_factory(bus: str) -> Iterator[Callable[..., FakePortal]]:
    started: list[FakePortal] = []

    def start(**kwargs: Any) -> FakePortal:
        portal = FakePortal(bus, **kwargs)
        portal.start()
        started.append(portal)
        return portal

    yield start
    for portal in started:
        portal.stop()


def wait_for_press(backend: WaylandHotkey, pressed: list[Any]) -> None:
    """Select on the backend's descriptor and dispatch, as the GUI's socket notifier does."""
    fd = backend.fileno()
    assert fd is not None
    while not pressed:
        readable, _, _ = select.select([fd], [], [], 10)
        assert readable, "no Activated signal reached the backend's connection"
        backend.dispatch()


def sync(backend: WaylandHotkey) -> None:
    """A round trip to the portal on the backend's own connection, then dispatch: every signal
    the portal sent before has then been read (the bus keeps one sender's messages in order)."""
    from jeepney import new_method_call

    ping = new_method_call(DBusAddress(PORTAL_PATH, PORTAL_SERVICE, PEER), "Ping")
    reply = backend._conn.send_and_get_reply(ping, timeout=10)
    assert reply.header.message_type == MessageType.method_return
    backend.dispatch()


def test_binds_through_the_portal_and_fires_on_activated(
    bus: str, portal_factory: Callable[..., FakePortal]
) -> None:
    portal = portal_factory()
    backend = WaylandHotkey(bus)
    pressed: list[int] = []
    backend.register(parse("Ctrl+Space"), lambda: pressed.append(1))
    assert portal.preferred == ["CTRL+space"]
    assert backend.combo == parse("Ctrl+Space") and backend.bound_as is None
    (session,) = portal.sessions
    portal.activate(session)
    # Another shortcut id and another session are not ours.
    portal.activate(session, "something-else")
    portal.activate(session.replace("findling", "other"))
    wait_for_press(backend, pressed)
    sync(backend)
    assert pressed == [1]
    backend.close()
    assert portal.closed == [session]
    assert backend.fileno() is None


def test_reregistering_closes_the_old_session(
    bus: str, portal_factory: Callable[..., FakePortal]
) -> None:
    portal = portal_factory()
    backend = WaylandHotkey(bus)
    pressed: list[str] = []
    backend.register(parse("Ctrl+Space"), lambda: pressed.append("old"))
    fd = backend.fileno()
    backend.register(parse("Ctrl+Alt+F"), lambda: pressed.append("new"))
    assert portal.preferred == ["CTRL+space", "CTRL+ALT+f"]
    assert portal.closed == portal.sessions[:1] and len(portal.sessions) == 2
    assert backend.fileno() == fd  # one connection: the GUI's socket notifier stays valid
    portal.activate(portal.sessions[0])  # the closed session's press is ignored
    portal.activate(portal.sessions[1])
    wait_for_press(backend, pressed)
    sync(backend)
    assert pressed == ["new"]
    backend.close()


def test_the_trigger_the_desktop_chose_reaches_tray_and_settings(
    bus: str, portal_factory: Callable[..., FakePortal], qtbot: Any
) -> None:
    from app.gui.shortcut import GlobalShortcut

    portal = portal_factory(bound_trigger="Ctrl+Alt+K")
    shortcut = GlobalShortcut(WaylandHotkey(bus))
    assert shortcut.set("Ctrl+Space"), shortcut.error
    assert shortcut.text == "Ctrl+Alt+K"  # what the tray shows
    assert shortcut.note is not None and "Ctrl+Alt+K" in shortcut.note
    with qtbot.waitSignal(shortcut.activated, timeout=10_000):
        portal.activate(portal.sessions[0])  # through QSocketNotifier → dispatch
    shortcut.close()
    assert portal.closed == portal.sessions


def test_declined_bind_explains_the_command(
    bus: str, portal_factory: Callable[..., FakePortal]
) -> None:
    portal = portal_factory(bind_response=1)
    backend = WaylandHotkey(bus)
    with pytest.raises(HotkeyUnavailable, match="declined") as caught:
        backend.register(parse("Ctrl+Space"), lambda: None)
    assert "findling-gui --launcher" in str(caught.value)
    assert portal.closed == portal.sessions and len(portal.sessions) == 1
    assert backend.combo is None
    backend.close()


def test_other_refusal_names_the_response(
    bus: str, portal_factory: Callable[..., FakePortal]
) -> None:
    portal_factory(bind_response=2)
    backend = WaylandHotkey(bus)
    with pytest.raises(HotkeyUnavailable, match=r"refused the shortcut \(response 2\)"):
        backend.register(parse("Ctrl+Space"), lambda: None)
    backend.close()


def test_portal_without_global_shortcuts(
    bus: str, portal_factory: Callable[..., FakePortal]
) -> None:
    portal = portal_factory(shortcuts=False)
    backend = WaylandHotkey(bus)
    with pytest.raises(HotkeyUnavailable, match="does not offer global shortcuts") as caught:
        backend.register(parse("Ctrl+Space"), lambda: None)
    assert "findling-gui --launcher" in str(caught.value)
    assert portal.sessions == []
    backend.close()


def test_no_portal_on_the_bus(bus: str) -> None:
    backend = WaylandHotkey(bus)
    with pytest.raises(HotkeyUnavailable, match="No desktop portal is running"):
        backend.register(parse("Ctrl+Space"), lambda: None)
    backend.close()


@pytest.mark.parametrize("kind", ["never replies", "never emits Response", "never binds"])
def test_portal_that_never_answers_gives_up(
    bus: str, portal_factory: Callable[..., FakePortal], kind: str
) -> None:
    answer = ("CreateSession",) if kind == "never binds" else ()
    portal = portal_factory(answer=answer, mute=kind == "never replies")
    backend = WaylandHotkey(bus, timeout=0.5, confirm_timeout=0.5)
    with pytest.raises(HotkeyUnavailable, match="did not answer") as caught:
        backend.register(parse("Ctrl+Space"), lambda: None)
    assert "findling-gui --launcher" in str(caught.value)
    # The unanswered call is withdrawn and a half-made session is not left behind.
    assert portal.withdrawn == portal.requests[-1:]
    assert len(portal.requests) == {"never replies": 0, "never emits Response": 1}.get(kind, 2)
    if kind == "never binds":
        assert portal.closed == portal.sessions and len(portal.sessions) == 1
    backend.close()


def test_losing_the_bus_stops_quietly(
    bus_daemon: tuple[str, subprocess.Popen[str]], portal_factory: Callable[..., FakePortal]
) -> None:
    portal_factory()
    backend = WaylandHotkey(bus_daemon[0])
    backend.register(parse("Ctrl+Space"), lambda: None)
    fd = backend.fileno()
    assert fd is not None
    bus_daemon[1].terminate()
    bus_daemon[1].wait(10)
    readable, _, _ = select.select([fd], [], [], 10)
    assert readable  # end of file
    assert backend.dispatch() == 0
    assert backend.fileno() is None and backend.combo is None
    backend.close()


def test_a_session_the_desktop_closed_fires_no_more(
    bus: str, portal_factory: Callable[..., FakePortal]
) -> None:
    portal = portal_factory()
    backend = WaylandHotkey(bus)
    pressed: list[int] = []
    backend.register(parse("Ctrl+Space"), lambda: pressed.append(1))
    portal.activate(portal.sessions[0])
    wait_for_press(backend, pressed)
    portal.end_session(portal.sessions[0])
    portal.activate(portal.sessions[0])
    sync(backend)
    assert pressed == [1]
    backend.close()
    assert portal.closed == []  # nothing left to close
