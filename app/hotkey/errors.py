"""Why a global shortcut could not be set up (messages are for the user)."""

from __future__ import annotations


class HotkeyError(Exception):
    """The shortcut could not be set up; the message is for the user."""


class HotkeyTaken(HotkeyError):
    """Another program already owns this key combination."""


class HotkeyUnavailable(HotkeyError):
    """This desktop offers no way for Findling to set a global shortcut."""
