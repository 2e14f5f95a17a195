"""The tray icon: indexing state at a glance; the app keeps running there."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.gui import indexing as ix
from app.gui.icons import tray_icon

TIPS = {
    ix.INDEXING: "Findling — indexing…",
    ix.STARTING: "Findling — starting…",
    ix.IDLE: "Findling — up to date",
    ix.PAUSED: "Findling — indexing paused",
    ix.LOCKED: "Findling — another Findling process is indexing",
    ix.FAILED: "Findling — indexing stopped (error)",
}


class Tray(QObject):
    """Wraps QSystemTrayIcon (absent when the desktop has no tray).

    Signals:
        show_requested, launcher_requested, toggle_pause_requested, quit_requested.
    """

    show_requested = Signal()
    launcher_requested = Signal()
    toggle_pause_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self.icon = QSystemTrayIcon(tray_icon(False), self)
        self.menu = QMenu()
        self.launcher_action = QAction("Quick search", self.menu)
        self.show_action = QAction("Open Findling", self.menu)
        self.pause_action = QAction("Pause indexing", self.menu)
        quit_action = QAction("Quit Findling", self.menu)
        self.launcher_action.triggered.connect(self.launcher_requested)
        self.show_action.triggered.connect(self.show_requested)
        self.pause_action.triggered.connect(self.toggle_pause_requested)
        quit_action.triggered.connect(self.quit_requested)
        self.menu.addAction(self.launcher_action)
        self.menu.addAction(self.show_action)
        self.menu.addAction(self.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(quit_action)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.set_state(ix.PAUSED)
        if self.available:
            self.icon.show()

    def set_hotkey(self, hotkey: str | None) -> None:
        """Show the launcher's shortcut beside "Quick search" (None: no global shortcut)."""
        self.launcher_action.setText(f"Quick search\t{hotkey}" if hotkey else "Quick search")

    def set_state(self, state: str) -> None:
        """Reflect the indexer's state."""
        self.icon.setIcon(tray_icon(state in (ix.INDEXING, ix.STARTING)))
        self.icon.setToolTip(TIPS.get(state, "Findling"))
        self.pause_action.setText(
            "Resume indexing" if state in (ix.PAUSED, ix.FAILED) else "Pause indexing"
        )

    def notify(self, title: str, text: str, error: bool = False) -> None:
        """A desktop notification from the tray (if there is one)."""
        if self.available and self.icon.isVisible():
            icon = (
                QSystemTrayIcon.MessageIcon.Warning
                if error
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.icon.showMessage(title, text, icon, 6000)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_requested.emit()

    def hide(self) -> None:
        """Remove the icon (on quit)."""
        self.icon.hide()
