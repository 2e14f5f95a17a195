"""The main window: Search, Ask and Folders pages, the status bar, menus and the tray."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget

from app.engine import Engine
from app.gui import indexing as ix
from app.gui.about import AboutDialog
from app.gui.ask_view import AskView
from app.gui.asking import AskService
from app.gui.errors import ErrorReporter
from app.gui.folders_view import STATE_TEXT, FoldersView
from app.gui.icons import app_icon
from app.gui.indexing import IndexService, ProgressInfo
from app.gui.launcher import Launcher
from app.gui.model_downloads import Downloads
from app.gui.opener import Line, open_file, reveal_file
from app.gui.preview import StoredPassages
from app.gui.search_view import SearchView
from app.gui.settings_dialog import SettingsDialog
from app.gui.shortcut import GlobalShortcut
from app.gui.tasks import TaskRunner
from app.gui.theme import apply_theme
from app.gui.tray import Tray

log = logging.getLogger(__name__)

MESSAGE_MS = {"info": 5000, "warning": 10000, "error": 15000}


class MainWindow(QMainWindow):
    """Findling's window. ``start()`` begins indexing; ``shutdown()`` stops every thread."""

    def __init__(
        self, engine: Engine, reporter: ErrorReporter | None = None, use_tray: bool = True
    ) -> None:
        super().__init__()
        self.engine = engine
        self.setWindowTitle("Findling")
        self.setWindowIcon(app_icon())
        self.reporter = reporter or ErrorReporter(self)
        self.reporter.dialog_parent = self
        self._quitting = False
        self._closed = False
        self._told_about_tray = False

        self.search_runner = TaskRunner(1, self)
        self.preview_runner = TaskRunner(1, self)
        self.status_runner = TaskRunner(1, self)
        # Model downloads started in Settings → Models go on after the dialog closes.
        self.downloads = Downloads(engine.paths.models_dir, self)
        self.downloads.finished.connect(
            lambda mid, _spec: self.reporter.info(f"Downloaded {mid}; choose it in Settings.")
        )
        self.downloads.failed.connect(
            lambda mid, line, _full: self.reporter.error(f"Download of {mid}: {line}")
        )
        self.indexing = IndexService(engine, self)
        self.asking = AskService(engine, self, index_gate=self.indexing.gate)

        ui = engine.settings.ui
        # the previews' own reader of the index: used on the preview thread only
        self.preview_reader = StoredPassages(engine.searcher)
        self.search = SearchView(
            engine, self.search_runner, self.preview_runner, passages=self.preview_reader
        )
        self.ask = AskView(
            self.asking,
            self.preview_runner,
            list(ui.get("ask_history", [])),
            passages=self.preview_reader,
        )
        self.folders = FoldersView(engine, self.indexing, self.status_runner)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.search, "Search")
        self.tabs.addTab(self.ask, "Ask")
        self.tabs.addTab(self.folders, "Folders && status")
        self.setCentralWidget(self.tabs)

        self.index_label = QLabel()
        self.statusBar().addPermanentWidget(self.index_label)
        self.tray = Tray(self) if use_tray else None
        self.launcher_runner = TaskRunner(1, self)
        self.shortcut: GlobalShortcut | None = None  # set by the resident app (main.py)
        self.launcher = Launcher(engine, self.launcher_runner, self.asking)

        # wiring
        for view in (self.search, self.ask):
            view.error.connect(self.reporter.error)
        self.search.open_requested.connect(self._open)
        self.search.reveal_requested.connect(self._reveal)
        self.ask.preview.open_requested.connect(self._open)
        self.ask.preview.reveal_requested.connect(self._reveal)
        self.search.preview.failed.connect(self.reporter.warning)
        self.ask.history_changed.connect(self._save_history)
        self.folders.folders_changed.connect(self._folders_changed)
        self.indexing.progress.connect(self._progress)
        self.indexing.state_changed.connect(self._state)
        self.indexing.synced.connect(self._synced)
        self.indexing.error.connect(self.reporter.error)
        self.indexing.settings_changed.connect(self._settings_reloaded)
        self.reporter.message.connect(self.show_message)
        self.launcher.open_requested.connect(self._open)
        self.launcher.reveal_requested.connect(self._reveal)
        self.launcher.main_requested.connect(self.search_for)
        if self.tray is not None:
            self.tray.show_requested.connect(self.bring_to_front)
            self.tray.launcher_requested.connect(self.launcher.popup)
            self.tray.toggle_pause_requested.connect(self._toggle_pause)
            self.tray.quit_requested.connect(self.quit)

        self._menus()
        self._restore_ui()
        self.search.filters.set_folders(engine.settings.folders)
        self.search.filters.restore(ui.get("filters", {}))
        self._state(self.indexing.state)

    # -- set-up ---------------------------------------------------------------------------------
    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        find = QAction("&Search", self, shortcut=QKeySequence(QKeySequence.StandardKey.Find))
        find.triggered.connect(self.focus_search)
        ask = QAction("&Ask a question", self, shortcut=QKeySequence("Ctrl+Shift+A"))

        def show_ask() -> None:
            self.tabs.setCurrentWidget(self.ask)
            self.ask.field.setFocus()

        ask.triggered.connect(show_ask)
        add = QAction("Add &folder…", self)

        def add_folder() -> None:
            self.tabs.setCurrentWidget(self.folders)
            self.folders._ask_folder()

        add.triggered.connect(add_folder)
        settings = QAction(
            "Se&ttings…", self, shortcut=QKeySequence(QKeySequence.StandardKey.Preferences)
        )
        settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        settings.triggered.connect(self.open_settings)
        close = QAction(
            "&Close window", self, shortcut=QKeySequence(QKeySequence.StandardKey.Close)
        )
        close.triggered.connect(self.close)
        quit_ = QAction(
            "&Quit Findling", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit)
        )
        quit_.setMenuRole(QAction.MenuRole.QuitRole)
        quit_.triggered.connect(self.quit)
        for a in (find, ask, add, None, settings, None, close, quit_):
            if a is None:
                file_menu.addSeparator()
            else:
                file_menu.addAction(a)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Findling", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(lambda: AboutDialog(self.engine.paths, self).exec())
        help_menu.addAction(about)

    def _restore_ui(self) -> None:
        ui = self.engine.settings.ui
        geo = ui.get("geometry")
        if isinstance(geo, str) and geo:
            self.restoreGeometry(QByteArray.fromHex(geo.encode()))
        else:
            self.resize(1180, 760)
        for key, splitter in (
            ("search_splitter", self.search.splitter),
            ("ask_splitter", self.ask.splitter),
        ):
            sizes = ui.get(key)
            if isinstance(sizes, list) and all(isinstance(x, int) for x in sizes):
                splitter.setSizes(sizes)
            else:
                splitter.setSizes([460, 700])
        self.tabs.setCurrentIndex(int(ui.get("tab", 0)) if str(ui.get("tab", 0)).isdigit() else 0)

    def save_ui(self) -> None:
        """Remember geometry, splitters, the last filter and the tab."""
        ui = self.engine.settings.ui
        ui["geometry"] = bytes(self.saveGeometry().toHex().data()).decode()
        ui["search_splitter"] = self.search.splitter.sizes()
        ui["ask_splitter"] = self.ask.splitter.sizes()
        ui["filters"] = self.search.filters.state()
        ui["tab"] = self.tabs.currentIndex()
        ui["ask_history"] = self.ask.questions()
        try:
            self.engine.save_settings()
        except OSError as exc:
            log.error("Could not save the window state: %s", exc)

    # -- running ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start indexing (catch up, then watch)."""
        if self.engine.settings.folders:
            self.indexing.start()

    def focus_search(self) -> None:
        """Show the Search page with the field focused."""
        self.tabs.setCurrentWidget(self.search)
        self.search.field.setFocus()
        self.search.field.selectAll()

    def set_shortcut(self, text: str) -> bool:
        """(Re)register the global shortcut; a failure is reported and shown in Settings."""
        if self.shortcut is None:
            self.shortcut = GlobalShortcut(parent=self)
            self.shortcut.activated.connect(self.launcher.toggle)
        ok = self.shortcut.set(text)
        if self.tray is not None:
            self.tray.set_hotkey(self.shortcut.text)
        if not ok and self.shortcut.error:
            self.reporter.warning(f"Quick-search shortcut: {self.shortcut.error}")
        return ok

    def search_for(self, query: str) -> None:
        """Show the window's Search page on ``query`` (Ctrl+O in the launcher)."""
        self.bring_to_front()
        self.tabs.setCurrentWidget(self.search)
        self.search.field.setText(query)
        self.search.run_search()
        self.search.field.setFocus()

    def run_command(self, command: str) -> None:
        """A request from a second start of Findling (app/gui/single.py)."""
        if command == "launcher":
            self.launcher.toggle()
        else:
            self.bring_to_front()

    def bring_to_front(self) -> None:
        """Show the window (from the tray)."""
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def show_message(self, text: str, level: str) -> None:
        """The one place messages appear: the status bar, and the tray if hidden."""
        prefix = {"error": "⚠ ", "warning": "⚠ "}.get(level, "")
        self.statusBar().showMessage(prefix + text, MESSAGE_MS.get(level, 5000))
        if level == "error" and not self.isVisible() and self.tray is not None:
            self.tray.notify("Findling", text, error=True)

    def open_settings(self) -> None:
        """Show the Settings dialog."""
        shortcut = self.shortcut
        dlg = SettingsDialog(
            self.engine, self, shortcut.note if shortcut else None, downloads=self.downloads
        )
        before = self.engine.settings.hotkey
        accepted = dlg.exec()
        dlg.deleteLater()
        if accepted:
            try:
                dlg.apply()
            except Exception as exc:
                self.reporter.error(exc)
                return
            apply_theme(self.engine.settings.theme)
            if shortcut is not None and self.engine.settings.hotkey != before:
                self.set_shortcut(self.engine.settings.hotkey)
            if dlg.restart_needed:
                self.reporter.info("Model changes take effect when Findling restarts.")

    def _open(self, path: str, where: object) -> None:
        page = where if isinstance(where, int) else None
        line = where.n if isinstance(where, Line) else None
        if not open_file(path, page, line):
            self.reporter.error(f"Could not open {path}")

    def _reveal(self, path: str) -> None:
        if not reveal_file(path):
            self.reporter.error(f"Could not show {path} in the file manager")

    def _folders_changed(self) -> None:
        self.search.filters.set_folders(self.engine.settings.folders)
        self.indexing.folders_changed()

    def _settings_reloaded(self) -> None:
        self.folders.load_settings()
        self.search.filters.set_folders(self.engine.settings.folders)

    def _toggle_pause(self) -> None:
        if self.indexing.state in (ix.PAUSED, ix.FAILED):
            self.indexing.start()
        else:
            self.indexing.pause()

    def _progress(self, p: ProgressInfo) -> None:
        first_run = self.indexing.state == ix.INDEXING and not self.launcher.model.rowCount()
        self.launcher.set_remaining(max(0, p.total - p.done) if first_run and p.total else None)
        if p.phase == "indexing" and p.total:
            self.index_label.setText(f"Indexing {p.done:,}/{p.total:,} files · {p.fraction:.0%}")

    def _state(self, state: str) -> None:
        if state == ix.IDLE:
            self.index_label.setText("Index up to date")
        elif state != ix.INDEXING:
            self.index_label.setText(STATE_TEXT.get(state, state))
        if self.tray is not None:
            self.tray.set_state(state)

    def _synced(self, report: object) -> None:
        self.search.refresh()
        self.launcher.set_remaining(None)
        self.launcher.refresh()
        offline = getattr(report, "offline_folders", [])
        if offline:
            self.reporter.warning("Not reachable right now (results kept): " + ", ".join(offline))

    def _save_history(self, questions: list[str]) -> None:
        self.engine.settings.ui["ask_history"] = questions

    # -- closing ------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._quitting and self.tray is not None and self.tray.available:
            self.save_ui()
            self.hide()
            if not self._told_about_tray:
                self._told_about_tray = True
                self.tray.notify(
                    "Findling is still running",
                    "Findling keeps your index up to date from the tray.",
                )
            event.ignore()
            return
        self.shutdown()
        event.accept()
        if self._quitting:
            QTimer.singleShot(0, QApplication.quit)

    def quit(self) -> None:
        """Quit the app (not just hide the window)."""
        self._quitting = True
        self.close()

    def shutdown(self) -> None:
        """Save UI state and stop every thread (safe to call twice)."""
        if self._closed:
            return
        self._closed = True
        self.save_ui()
        self.asking.stop()
        self.downloads.shutdown()  # paused: the .part files resume next time
        self.indexing.shutdown()
        self.asking.shutdown()
        self.launcher.hide()
        for r in (
            self.search_runner,
            self.preview_runner,
            self.status_runner,
            self.launcher_runner,
        ):
            r.shutdown()
        self.search.close_searcher()
        self.launcher.close_searcher()
        self.preview_reader.close()
        if self.tray is not None:
            self.tray.hide()
        log.info("Findling window closed")
