"""PyInstaller entry point of the Findling desktop app (``app.gui.main:main``).

Diagnostic for packaging tests: with ``FINDLING_SMOKE_TEST=1`` in the environment the app
starts as usual, then prints one line ``findling-smoke: <event> <seconds since start>`` for the
welcome dialog (which it dismisses with "Later") and for the main window when each is first
shown, and quits once the main window is on screen (also appended to ``FINDLING_SMOKE_FILE``
when set). Nothing else changes: the same settings,
models and plugins are loaded, so a missing hidden import, data file, Qt plugin or shared
library fails here just as it would for a user.
"""

import multiprocessing
import os
import sys
import time

STARTED = time.monotonic()


def install_smoke_probe() -> None:
    """Report when the welcome dialog and the main window are shown, then quit."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv)

    class Probe(QObject):
        seen: set[str] = set()  # noqa: RUF012 - one probe per process

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() != QEvent.Type.Show:
                return False
            name = type(obj).__name__
            if name in self.seen:
                return False
            if isinstance(obj, QMainWindow):
                self.seen.add(name)
                report("window-shown", obj.windowTitle())
                QTimer.singleShot(0, app.quit)
            elif isinstance(obj, QDialog) and name == "WelcomeDialog":
                self.seen.add(name)
                report("welcome-shown", obj.windowTitle())
                QTimer.singleShot(0, obj.reject)
            return False

    probe = Probe(app)
    app.installEventFilter(probe)
    # Without a window the probe would wait for ever: give up after two minutes.
    QTimer.singleShot(120_000, lambda: (report("timeout", ""), app.exit(3)))


def report(event: str, detail: str) -> None:
    """One line on stdout and, if ``FINDLING_SMOKE_FILE`` names a file, appended to it (a
    windowed Windows executable has no stdout)."""
    line = f"findling-smoke: {event} {time.monotonic() - STARTED:.2f} {detail}"
    if sys.stdout is not None:
        print(line, flush=True)
    path = os.environ.get("FINDLING_SMOKE_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


if __name__ == "__main__":
    # Extraction runs in "spawn" worker processes; in a frozen build each worker re-runs this
    # executable, and freeze_support() turns it into the worker instead of a second window.
    multiprocessing.freeze_support()

    if os.environ.get("FINDLING_SMOKE_TEST") == "1":
        install_smoke_probe()

    from app.gui.main import main

    sys.exit(main())
