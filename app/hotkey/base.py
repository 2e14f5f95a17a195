"""The interface every hotkey backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from app.hotkey.errors import HotkeyError, HotkeyTaken, HotkeyUnavailable
from app.hotkey.keys import KeyCombo

__all__ = ["HotkeyBackend", "HotkeyError", "HotkeyTaken", "HotkeyUnavailable"]


class HotkeyBackend(ABC):
    """One global shortcut that calls ``callback`` on the GUI thread when pressed.

    ``register`` raises :class:`HotkeyTaken` or :class:`HotkeyUnavailable` with a message fit
    to show in Settings. Backends with a file descriptor to watch expose ``fileno()`` and
    ``dispatch()``; the GUI glue calls ``dispatch`` when it is readable. ``bound_as`` is the
    trigger in the system's words when the system chose another one than ``combo`` (a Wayland
    desktop decides which key its portal binds), else None.
    """

    name = "base"

    def __init__(self) -> None:
        self.callback: Callable[[], None] | None = None
        self.combo: KeyCombo | None = None
        self.bound_as: str | None = None

    @abstractmethod
    def register(self, combo: KeyCombo, callback: Callable[[], None]) -> None:
        """Grab ``combo`` (replacing any earlier one)."""

    @abstractmethod
    def unregister(self) -> None:
        """Release the shortcut (safe to call when none is set)."""

    def fileno(self) -> int | None:
        """A descriptor that becomes readable when events wait, or None."""
        return None

    def dispatch(self) -> int:
        """Handle waiting events; returns how many presses of the shortcut there were."""
        return 0

    def close(self) -> None:
        """Release everything."""
        self.unregister()

    def _fire(self) -> None:
        if self.callback is not None:
            self.callback()
