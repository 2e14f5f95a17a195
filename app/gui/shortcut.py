"""The global shortcut in the running app: picks the backend, feeds it Qt's events."""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QAbstractNativeEventFilter,
    QByteArray,
    QCoreApplication,
    QObject,
    QSocketNotifier,
    Signal,
)

from app.hotkey import HotkeyBackend, HotkeyError, create_backend, parse
from app.hotkey.windows import WindowsHotkey, read_msg

log = logging.getLogger(__name__)


class _WinFilter(QAbstractNativeEventFilter):
    def __init__(self, backend: WindowsHotkey) -> None:
        super().__init__()
        self.backend = backend

    def nativeEventFilter(
        self, event_type: QByteArray | bytes | bytearray | memoryview, message: int
    ) -> object:
        # QByteArray supports bytes() at run time; its stubs do not declare the buffer protocol.
        if bytes(event_type) == b"windows_generic_MSG":  # type: ignore[arg-type]
            msg, wparam = read_msg(int(message))
            if self.backend.handle_message(msg, wparam):
                return True, 0
        return False, 0


class GlobalShortcut(QObject):
    """``activated`` fires on the GUI thread when the user presses the shortcut anywhere.

    Attributes:
        error: Why the last :meth:`set` failed (for Settings), or None.
        text: The shortcut as registered (as the desktop reports it, when it chose), or None.
    """

    activated = Signal()

    def __init__(self, backend: HotkeyBackend | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._backend = backend
        self._notifier: QSocketNotifier | None = None
        self._fd: int | None = None
        self._filter: _WinFilter | None = None
        self.error: str | None = None
        self.text: str | None = None

    def set(self, text: str) -> bool:
        """Register ``text`` (e.g. ``"Ctrl+Space"``); False with :attr:`error` set on failure."""
        self.error, self.text = None, None
        try:
            combo = parse(text)
            if self._backend is None:
                self._backend = create_backend()
            self._backend.register(combo, self.activated.emit)
        except HotkeyError as exc:
            self.error = str(exc)
            log.warning("Global shortcut %s not set: %s", text, exc)
            return False
        self.text = self._backend.bound_as or str(combo)
        fd = self._backend.fileno()
        if fd is not None and fd != self._fd and self._notifier is not None:
            self._notifier.setEnabled(False)  # the backend reconnected
            self._notifier = None
        if fd is not None and self._notifier is None:
            self._fd = fd
            self._notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(lambda *_: self.dispatch())
        if isinstance(self._backend, WindowsHotkey) and self._filter is None:
            app = QCoreApplication.instance()
            if app is not None:
                self._filter = _WinFilter(self._backend)
                app.installNativeEventFilter(self._filter)
        self.dispatch()  # anything that arrived before the notifier existed
        return True

    @property
    def note(self) -> str | None:
        """What Settings shows under the field: the error, or the trigger the desktop chose."""
        if self.error:
            return self.error
        if self._backend is not None and self._backend.bound_as:
            return (
                f"Your desktop bound quick search to {self._backend.bound_as}; change it in the "
                "desktop's keyboard settings."
            )
        return None

    def dispatch(self) -> None:
        """Handle the backend's waiting events."""
        if self._backend is not None:
            self._backend.dispatch()
            if self._notifier is not None and self._backend.fileno() != self._fd:
                self._notifier.setEnabled(False)  # its connection is gone (e.g. D-Bus)
                self._notifier, self._fd = None, None

    def close(self) -> None:
        """Release the shortcut."""
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None
        if self._backend is not None:
            self._backend.close()
