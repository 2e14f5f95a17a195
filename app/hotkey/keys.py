"""Key combinations as text ("Ctrl+Space") and as parts the backends translate (Qt-free)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from app.hotkey.errors import HotkeyError

MODIFIERS = {
    "ctrl": "ctrl",
    "control": "ctrl",
    "shift": "shift",
    "alt": "alt",
    "option": "alt",
    "meta": "super",
    "super": "super",
    "win": "super",
    "cmd": "cmd",
    "command": "cmd",
}
KEY_NAMES = {
    "space": "space",
    "enter": "return",
    "return": "return",
    "tab": "tab",
    "esc": "escape",
    "escape": "escape",
}
KEY_NAMES.update({f"f{i}": f"f{i}" for i in range(1, 13)})


@dataclass(frozen=True)
class KeyCombo:
    """Modifiers (``ctrl``, ``shift``, ``alt``, ``super``, ``cmd``) plus one key (lower case)."""

    modifiers: frozenset[str]
    key: str

    def __str__(self) -> str:
        order = ["cmd", "ctrl", "alt", "shift", "super"]
        names = {"cmd": "Cmd", "ctrl": "Ctrl", "alt": "Alt", "shift": "Shift", "super": "Super"}
        mods = [names[m] for m in order if m in self.modifiers]
        key = self.key.capitalize() if len(self.key) > 1 else self.key.upper()
        return "+".join([*mods, key])


def parse(text: str) -> KeyCombo:
    """``"Ctrl+Space"`` → KeyCombo; raises HotkeyError naming what is wrong."""
    parts = [p.strip().lower() for p in text.replace(" ", "").split("+") if p.strip()]
    if not parts:
        raise HotkeyError("The shortcut is empty")
    *mods, key = parts
    bad = [m for m in mods if m not in MODIFIERS]
    if bad:
        raise HotkeyError(f"Unknown modifier “{bad[0]}” in “{text}” (use Ctrl, Shift, Alt, Super)")
    if not mods:
        raise HotkeyError(f"“{text}” needs a modifier such as Ctrl or Alt")
    if key in KEY_NAMES:
        key = KEY_NAMES[key]
    elif not (len(key) == 1 and key.isalnum()):
        raise HotkeyError(f"Unknown key “{key}” in “{text}”")
    return KeyCombo(frozenset(MODIFIERS[m] for m in mods), key)


def default_hotkey(platform: str | None = None) -> str:
    """Ctrl+Space, or Cmd+Shift+Space on macOS (where Ctrl+Space switches input sources)."""
    return "Cmd+Shift+Space" if (platform or sys.platform) == "darwin" else "Ctrl+Space"
