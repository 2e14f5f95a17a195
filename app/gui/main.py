"""``findling-gui``: start the desktop app."""

from __future__ import annotations

import argparse
import logging
import sys

import shiboken6
from PySide6.QtWidgets import QApplication

from app.engine import Engine
from app.gui import single
from app.gui.errors import ErrorReporter, settings_error_box
from app.gui.icons import app_icon
from app.gui.theme import apply_theme
from app.gui.welcome import WelcomeDialog
from app.gui.window import MainWindow
from app.logs import setup_logging
from app.paths import app_paths
from app.settings import SettingsError

log = logging.getLogger(__name__)


def make_app(argv: list[str]) -> QApplication:
    """The QApplication, with names, icon and a style that follows the system's colours."""
    app = QApplication.instance() or QApplication(argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Findling")
    app.setOrganizationName("Findling")
    app.setApplicationDisplayName("Findling")
    app.setDesktopFileName("io.findling.Findling")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the tray keeps it alive
    if sys.platform.startswith("linux"):
        app.setStyle("Fusion")  # follows the colour scheme on every Linux desktop
    return app


def first_run(engine: Engine, window: MainWindow) -> bool:
    """Show the welcome dialog once, when no folder is configured; returns whether it showed."""
    if engine.settings.folders or engine.settings.ui.get("welcomed"):
        return False
    welcome = WelcomeDialog(engine, window)
    accepted = welcome.exec()
    engine.settings.ui["welcomed"] = True
    if accepted and welcome.chosen():
        for f in welcome.chosen():
            window.folders.add_folder(f)  # saves and starts indexing
    engine.save_settings()
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the app. ``--tray`` starts hidden in the tray (launch at login); ``--launcher``
    toggles the quick-search popup. A running Findling takes over either request."""
    parser = argparse.ArgumentParser(prog="findling-gui")
    parser.add_argument("--tray", action="store_true", help="start hidden in the tray")
    parser.add_argument(
        "--launcher",
        action="store_true",
        help="show or hide the quick-search popup (of the running Findling, if one runs)",
    )
    args, qt_args = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    paths = app_paths()
    setup_logging(paths.log_dir)
    app = make_app([sys.argv[0], *qt_args])
    name = single.server_name(str(paths.data_dir))
    if single.send(name, "launcher" if args.launcher else "show"):
        log.info("Handed over to the running Findling")
        return 0
    server = single.InstanceServer(name, app)
    server.listen()
    reporter = ErrorReporter(app)
    reporter.install()
    try:
        engine = Engine(paths)
    except SettingsError as exc:
        log.error("%s", exc)
        settings_error_box(exc).exec()
        return 1
    apply_theme(engine.settings.theme)
    window = MainWindow(engine, reporter)
    server.command.connect(window.run_command)
    welcomed = first_run(engine, window)
    hidden = (args.tray or args.launcher) and window.tray is not None and window.tray.available
    if welcomed or not hidden:
        window.show()
    window.start()
    window.set_shortcut(engine.settings.hotkey)
    warm_up(window)
    if args.launcher:
        window.launcher.popup()
    code = app.exec()
    close_down(server, window)
    return code


def close_down(server: single.InstanceServer, window: MainWindow) -> None:
    """Stop every thread, then destroy the windows while the QApplication still exists.

    Whatever is left at interpreter exit is destroyed by PySide's atexit clean-up from inside
    ``~QApplication``. The window was (its last reference sat in a slot connected to
    ``server``, a child of the application, unless a garbage collection happened to free it
    first): its widgets were deleted inside a half-destroyed application, Qt warned "shared
    QObject was deleted directly" and the process died with SIGBUS (exit -7) in about two runs
    of three instead of exiting 0 (tests/gui/test_app_exit.py).
    """
    server.close()
    server.command.disconnect()
    window.shutdown()
    window.reporter.dialog_parent = None
    for widget in (window.launcher, window):  # the launcher is a top-level of its own
        if shiboken6.isValid(widget):
            shiboken6.delete(widget)


def warm_up(window: MainWindow) -> None:
    """Load the embedder now, off the GUI thread, so the first quick search does not wait."""
    engine = window.engine
    window.launcher_runner.submit(lambda: engine.embedder.embed_query("warm up"), lambda _: None)


if __name__ == "__main__":
    sys.exit(main())
