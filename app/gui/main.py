"""``findling-gui``: start the desktop app."""

from __future__ import annotations

import argparse
import logging
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.engine import Engine
from app.gui.errors import ErrorReporter
from app.gui.icons import app_icon
from app.gui.welcome import WelcomeDialog
from app.gui.window import MainWindow
from app.logs import setup_logging
from app.paths import app_paths

log = logging.getLogger(__name__)

SCHEMES = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark,
           "system": Qt.ColorScheme.Unknown}


def apply_theme(theme: str) -> None:
    """Light, dark or whatever the system uses (Qt follows the system by default)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.styleHints().setColorScheme(SCHEMES.get(theme, Qt.ColorScheme.Unknown))


def make_app(argv: list[str]) -> QApplication:
    """The QApplication, with names, icon and a style that follows the system's colours."""
    app = QApplication.instance() or QApplication(argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Findling")
    app.setOrganizationName("Findling")
    app.setApplicationDisplayName("Findling")
    app.setDesktopFileName("io.github.findling.Findling")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the tray keeps it alive
    if sys.platform.startswith("linux"):
        app.setStyle("Fusion")  # follows the colour scheme on every Linux desktop
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the app. ``--tray`` starts hidden in the tray (launch at login)."""
    parser = argparse.ArgumentParser(prog="findling-gui")
    parser.add_argument("--tray", action="store_true", help="start hidden in the tray")
    args, qt_args = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    paths = app_paths()
    setup_logging(paths.log_dir)
    app = make_app([sys.argv[0], *qt_args])
    reporter = ErrorReporter(app)
    reporter.install()
    engine = Engine(paths)
    apply_theme(engine.settings.theme)
    window = MainWindow(engine, reporter)
    if not engine.settings.folders and not engine.settings.ui.get("welcomed"):
        welcome = WelcomeDialog(engine, window)
        accepted = welcome.exec()
        engine.settings.ui["welcomed"] = True
        if accepted and welcome.chosen():
            for f in welcome.chosen():
                window.folders.add_folder(f)  # saves and starts indexing
        engine.save_settings()
    if not (args.tray and window.tray is not None and window.tray.available):
        window.show()
    window.start()
    code = app.exec()
    window.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
