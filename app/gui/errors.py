"""One place where errors become messages for the user: the status bar (and the tray when the
window is hidden). Uncaught exceptions are logged and shown in a dialog."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from app.settings import SettingsError
from indexer.errors import IndexLockedError

log = logging.getLogger(__name__)


def user_message(exc: BaseException) -> str:
    """A short, human sentence for an exception."""
    if isinstance(exc, IndexLockedError):
        return (
            "Another Findling process is updating the index; this window searches it and "
            "will take over when it stops."
        )
    text = str(exc).strip() or exc.__class__.__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return text[:1].upper() + text[1:]


class ErrorReporter(QObject):
    """Routes messages to whatever shows them (the main window's status bar and tray).

    Signals:
        message(text, level): ``level`` is ``"info"``, ``"warning"`` or ``"error"``.
    """

    message = Signal(str, str)
    _crash = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.last: tuple[str, str] | None = None
        self._crash.connect(self._show_crash)
        self.dialog_parent: QWidget | None = None

    def info(self, text: str) -> None:
        """A passing notice."""
        self._send(text, "info")

    def warning(self, text: str) -> None:
        """Something the user may want to act on."""
        log.warning("%s", text)
        self._send(text, "warning")

    def error(self, text: str | BaseException) -> None:
        """Something failed."""
        msg = user_message(text) if isinstance(text, BaseException) else text
        log.error("%s", msg)
        self._send(msg, "error")

    def _send(self, text: str, level: str) -> None:
        self.last = (text, level)
        self.message.emit(text, level)

    # -- uncaught exceptions ------------------------------------------------------------------
    def install(self) -> None:
        """Log and show uncaught exceptions from any thread."""
        sys.excepthook = self._excepthook
        threading.excepthook = lambda a: self._excepthook(a.exc_type, a.exc_value, a.exc_traceback)

    def _excepthook(
        self, etype: type[BaseException], value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if etype is KeyboardInterrupt:
            sys.__excepthook__(etype, value or etype(), tb)
            return
        detail = "".join(traceback.format_exception(etype, value, tb))
        log.error("Uncaught exception:\n%s", detail)
        self._crash.emit(user_message(value or etype()), detail)  # queued if not GUI thread

    @Slot(str, str)
    def _show_crash(self, text: str, detail: str) -> None:
        self._send(f"Unexpected error: {text}", "error")
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Findling — unexpected error",
            "Something went wrong. Findling keeps running; details are in the log.",
            QMessageBox.StandardButton.Ok,
            self.dialog_parent,
        )
        box.setInformativeText(text)
        box.setDetailedText(detail)
        box.setModal(False)
        box.show()


def settings_error_box(exc: SettingsError, parent: QWidget | None = None) -> QMessageBox:
    """The dialog shown when settings.toml did not load: the same message as the command line,
    a button that opens the file in the user's editor, and Quit (nothing is indexed meanwhile)."""
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        "Findling — settings file not valid",
        "Findling did not start because its settings file is not valid. Nothing was indexed or "
        "changed. Fix the file (or move it away to start from defaults) and start Findling again.",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    box.setInformativeText(str(exc))
    open_button = box.addButton("Open Settings File", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)

    def open_file() -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(exc.path)))

    open_button.clicked.connect(open_file)
    return box
