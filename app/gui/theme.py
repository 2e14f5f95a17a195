"""Light, dark or the system's colours for the whole app."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

SCHEMES = {
    "light": Qt.ColorScheme.Light,
    "dark": Qt.ColorScheme.Dark,
    "system": Qt.ColorScheme.Unknown,
}


def dark_palette() -> QPalette:
    """A dark palette for platforms whose theme ignores a requested colour scheme."""
    p = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 48), QColor(223, 225, 229)
    for role, colour in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Highlight, QColor(53, 116, 240)),
        (QPalette.ColorRole.HighlightedText, QColor("white")),
        (QPalette.ColorRole.Link, QColor(110, 160, 255)),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 143, 148)),
        (QPalette.ColorRole.Dark, QColor(20, 21, 23)),
        (QPalette.ColorRole.Mid, base),
    ):
        p.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 122, 128))
    return p


def apply_theme(theme: str) -> None:
    """Light, dark or whatever the system uses (Qt follows the system by default)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    wanted = SCHEMES.get(theme, Qt.ColorScheme.Unknown)
    app.styleHints().setColorScheme(wanted)
    if wanted == Qt.ColorScheme.Dark and app.styleHints().colorScheme() != wanted:
        app.setPalette(dark_palette())  # the platform theme ignored the request
        app.setProperty("findling_dark_palette", True)
    elif app.property("findling_dark_palette"):
        app.setPalette(app.style().standardPalette())
        app.setProperty("findling_dark_palette", False)
