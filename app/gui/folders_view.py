"""Folders and status: what is indexed, live progress, pause/resume, failed files."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine import Engine
from app.gui import indexing as ix
from app.gui import semantic_note
from app.gui.indexing import IndexService, ProgressInfo
from app.gui.tasks import TaskRunner
from app.humanize import human_size, human_speed, human_time, rebuild_note
from indexer import FileState, IndexStatus, read_status

log = logging.getLogger(__name__)

STATE_TEXT = {
    ix.STARTING: "Starting…",
    ix.INDEXING: "Indexing…",
    ix.IDLE: "Up to date — watching for changes",
    ix.PAUSED: "Paused",
    ix.LOCKED: "Another Findling process is updating the index",
    ix.FAILED: "Stopped because of an error",
}


class FoldersView(QWidget):
    """Manage folders and ignore patterns and watch the indexer work.

    Signals:
        folders_changed(): the settings' folders or ignore patterns were changed and saved.
        status_updated(IndexStatus): fresh counts are on screen (tests wait for it).
    """

    folders_changed = Signal()
    status_updated = Signal(object)

    def __init__(
        self,
        engine: Engine,
        service: IndexService,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.service = service
        self.runner = runner
        self.last_progress: ProgressInfo | None = None

        # folders
        self.folder_list = QListWidget()
        self.folder_list.setAccessibleName("Indexed folders")
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setEnabled(False)
        self.folder_list.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.folder_list.selectedItems()))
        )
        self.add_button.clicked.connect(self._ask_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        self.ignore = QPlainTextEdit()
        self.ignore.setPlaceholderText("One pattern per line, e.g.\nnode_modules/\n*.tmp")
        self.ignore.setMaximumHeight(90)
        self.apply_ignore = QPushButton("Apply patterns")
        self.apply_ignore.clicked.connect(self._apply_ignore)

        fbox = QGroupBox("Folders")
        fl = QVBoxLayout(fbox)
        fl.addWidget(self.folder_list, 1)
        brow = QHBoxLayout()
        brow.addWidget(self.add_button)
        brow.addWidget(self.remove_button)
        brow.addStretch(1)
        fl.addLayout(brow)
        fl.addWidget(QLabel("Ignore patterns (gitignore style, in every folder):"))
        fl.addWidget(self.ignore)
        irow = QHBoxLayout()
        irow.addStretch(1)
        irow.addWidget(self.apply_ignore)
        fl.addLayout(irow)

        # status
        self.state_label = QLabel()
        f = self.state_label.font()
        f.setBold(True)
        self.state_label.setFont(f)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.files_label = QLabel("—")
        self.current_label = QLabel("—")
        self.current_label.setTextFormat(Qt.TextFormat.PlainText)
        self.current_label.setMinimumWidth(100)
        self.rate_label = QLabel("—")
        self.eta_label = QLabel("—")
        self.counts_label = QLabel("—")
        self.size_label = QLabel("—")
        self.semantic_label = QLabel()
        self.semantic_label.setAccessibleName("Meaning search")
        self.semantic_label.setWordWrap(True)
        italic = self.semantic_label.font()
        italic.setItalic(True)
        self.semantic_label.setFont(italic)
        self.semantic_label.hide()
        # While the index is rebuilt for another model or chunker, the old one still answers.
        self.rebuild_label = QLabel()
        self.rebuild_label.setAccessibleName("Re-indexing")
        self.rebuild_label.setWordWrap(True)
        self.rebuild_label.setFont(italic)
        self.rebuild_label.hide()
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self._toggle_pause)
        sbox = QGroupBox("Status")
        sl = QVBoxLayout(sbox)
        top = QHBoxLayout()
        top.addWidget(self.state_label, 1)
        top.addWidget(self.pause_button)
        sl.addLayout(top)
        sl.addWidget(self.bar)
        form = QFormLayout()
        form.addRow("Files:", self.files_label)
        form.addRow("Now reading:", self.current_label)
        form.addRow("Speed:", self.rate_label)
        form.addRow("Time left:", self.eta_label)
        form.addRow("In the index:", self.counts_label)
        form.addRow("Index size:", self.size_label)
        sl.addLayout(form)
        sl.addWidget(self.semantic_label)
        sl.addWidget(self.rebuild_label)
        self.failed = QTreeWidget()
        self.failed.setHeaderLabels(["File", "Why it was not indexed"])
        self.failed.setRootIsDecorated(False)
        self.failed.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.failed.header().setStretchLastSection(True)
        self.failed_box = QGroupBox("Files not indexed")
        QVBoxLayout(self.failed_box).addWidget(self.failed)

        right = QVBoxLayout()
        right.addWidget(sbox)
        right.addWidget(self.failed_box, 1)
        lay = QHBoxLayout(self)
        lay.addWidget(fbox, 2)
        lay.addLayout(right, 3)

        service.progress.connect(self.show_progress)
        service.state_changed.connect(self.show_state)
        service.synced.connect(lambda _r: self.refresh_status())
        self._poll = QTimer(self, interval=5000)
        self._poll.timeout.connect(self.refresh_status)
        self._poll.start()
        self.load_settings()
        self.show_state(service.state)
        self.refresh_status()

    # -- folders ------------------------------------------------------------------------------
    def load_settings(self) -> None:
        """Show the settings' folders and patterns."""
        s = self.engine.settings
        self.folder_list.clear()
        for f in s.folders:
            self.folder_list.addItem(f)
        self.ignore.setPlainText("\n".join(s.ignore))

    def add_folder(self, path: str) -> None:
        """Add a folder and start indexing it."""
        new = self.engine.settings.add_folders([Path(path)])
        if not new:
            return
        self._changed()

    def remove_folder(self, path: str) -> None:
        """Stop indexing a folder and drop it from the index."""
        if self.engine.settings.remove_folder(path):
            self._changed()

    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder to index", str(Path.home()))
        if path:
            self.add_folder(path)

    def _remove_selected(self) -> None:
        for item in self.folder_list.selectedItems():
            self.remove_folder(item.text())

    def _apply_ignore(self) -> None:
        patterns = [ln.strip() for ln in self.ignore.toPlainText().splitlines() if ln.strip()]
        if patterns != self.engine.settings.ignore:
            self.engine.settings.ignore = patterns
            self._changed()

    def _changed(self) -> None:
        self.engine.save_settings()
        self.load_settings()
        self.folders_changed.emit()

    # -- status -------------------------------------------------------------------------------
    def show_progress(self, p: ProgressInfo) -> None:
        """Show a progress snapshot."""
        self.last_progress = p
        if p.phase == "scanning":
            self.bar.setRange(0, 0)  # busy: the total is not known yet
            self.files_label.setText("Looking for new and changed files…")
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(p.fraction * 1000))
            self.bar.setFormat(f"{p.fraction:.0%}")
            self.files_label.setText(
                (f"{p.done:,} of {p.total:,}" if p.total else "No new or changed files")
                + (f" · {p.failed} not indexed" if p.failed else "")
            )
        self.current_label.setText(p.doing or "—")
        self.current_label.setToolTip(p.current or "")
        self.rate_label.setText(human_speed(p.rate, p.passage_rate) or "—")
        self.eta_label.setText(human_time(p.eta_s) if p.done < p.total else "—")

    def show_state(self, state: str) -> None:
        """Show the indexer's state."""
        self.state_label.setText(STATE_TEXT.get(state, state))
        paused = state in (ix.PAUSED, ix.FAILED)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setEnabled(state != ix.LOCKED)
        if state in (ix.IDLE, ix.PAUSED, ix.FAILED, ix.LOCKED):
            if self.bar.maximum() == 0:
                self.bar.setRange(0, 1000)
            if state == ix.IDLE:
                self.bar.setValue(1000)
                self.bar.setFormat("100%")
                self.current_label.setText("—")
                self.eta_label.setText("—")

    def _toggle_pause(self) -> None:
        if self.service.state in (ix.PAUSED, ix.FAILED):
            self.service.start()
        else:
            self.service.pause()

    def refresh_status(self) -> None:
        """Re-read counts, failures and size (on a pool thread)."""
        self.runner.submit(lambda: read_status(self.engine.paths.index_dir), self._status)

    def _status(self, st: IndexStatus) -> None:
        c = st.counts
        parts = [f"{c.get(FileState.INDEXED, 0):,} files indexed"]
        if c.get(FileState.PENDING):
            parts.append(f"{c[FileState.PENDING]:,} waiting")
        if c.get(FileState.OFFLINE):
            parts.append(f"{c[FileState.OFFLINE]:,} offline")
        if st.failed:
            parts.append(f"{len(st.failed):,} not indexed")
        self.counts_label.setText(" · ".join(parts))
        self.size_label.setText(human_size(st.size))
        note = semantic_note.semantic_note(st.semantic_pending_files)
        self.semantic_label.setText(note)
        self.semantic_label.setVisible(bool(note))
        self.rebuild_label.setText(rebuild_note(st.rebuild) if st.rebuild else "")
        self.rebuild_label.setVisible(st.rebuild is not None)
        self.failed.clear()
        for row in sorted(st.failed, key=lambda r: r.path):
            path, reason = row.path, row.reason or row.state
            item = QTreeWidgetItem([Path(path).name, reason])
            item.setToolTip(0, path)
            item.setToolTip(1, reason)
            self.failed.addTopLevelItem(item)
        self.failed_box.setTitle(
            f"Files not indexed ({len(st.failed)})" if st.failed else "Files not indexed"
        )
        self.status_updated.emit(st)
