"""The Models page of the Settings dialog: the models Findling knows, which ones answer,
downloads with progress, pause/resume and cancel, importing a file, removing a model."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine import Engine
from app.gui.errors import user_message
from app.gui.model_downloads import Downloads
from app.gui.model_items import (
    C_KIND,
    C_NAME,
    C_STATUS,
    COLUMNS,
    ID_ROLE,
    details,
    fill_model_combo,
    make_item,
    set_bar,
    tone,
)
from app.gui.tasks import TaskRunner
from app.model_admin import Machine, ModelRow, model_rows, recommended_ids, removal_refusal
from models.catalogue import Kind, ModelSpec
from models.manage import import_model, remove_model

log = logging.getLogger(__name__)


class ModelsPage(QWidget):
    """The model list with its actions.

    Attributes:
        form: The rows above the list (the dialog adds GPU offload there).
        embedding, llm: The chosen search and answer models (saved by the dialog on OK).
        downloads: The download runner (pause/resume/cancel).
        messages: A line per model id shown in its Status column (a failure, or a refusal).
    """

    def __init__(
        self,
        engine: Engine,
        machine: Machine,
        parent: QWidget | None = None,
        downloads: Downloads | None = None,
    ) -> None:
        """``downloads``: the runner that outlives this page (the main window's); without one
        the page has its own, and closing it pauses its downloads."""
        super().__init__(parent)
        self.engine = engine
        self.machine = machine
        self.models_dir = engine.paths.models_dir
        self._own_downloads = downloads is None
        self.downloads = downloads or Downloads(self.models_dir, self)
        self.tasks = TaskRunner(1, self)
        self.messages: dict[str, tuple[str, str, str]] = {}  # id -> (line, tooltip, tone)
        self._progress: dict[str, tuple[int, int]] = {}
        self._bars: dict[str, QProgressBar] = {}
        self._rows: dict[str, ModelRow] = {}

        s = engine.settings
        self.embedding = QComboBox()
        self.llm = QComboBox()
        fill_model_combo(self.embedding, engine, "embedding", s.embedding_model)
        fill_model_combo(self.llm, engine, "llm", s.llm_model)
        self.embedding.currentIndexChanged.connect(self.refresh)
        self.llm.currentIndexChanged.connect(self.refresh)
        self.recommendation = QLabel()
        self.recommendation.setObjectName("modelRecommendation")
        self.recommendation.setWordWrap(True)
        note = QLabel(
            "A new search model builds a new index beside the current one (search keeps "
            "working meanwhile). Model changes apply after Findling restarts."
        )
        note.setWordWrap(True)
        note.setEnabled(False)

        self.tree = QTreeWidget()
        self.tree.setObjectName("modelList")
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setStyleSheet("QTreeView::item { padding: 4px 2px; }")
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAllColumnsShowFocus(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(C_NAME, QHeaderView.ResizeMode.Stretch)
        for c in range(C_KIND, C_STATUS):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        # Room for "45% · 420.3 MB of 1.0 GB" and for a failure's short message.
        header.setSectionResizeMode(C_STATUS, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(C_STATUS, self.fontMetrics().horizontalAdvance("M" * 22))
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_selected())

        self.download_btn = QPushButton("Download")
        self.pause_btn = QPushButton("Pause")
        self.cancel_btn = QPushButton("Cancel Download")
        self.use_btn = QPushButton("Use")
        self.remove_btn = QPushButton("Remove…")
        self.import_btn = QPushButton("Import File…")
        self.download_btn.clicked.connect(self.download_selected)
        self.pause_btn.clicked.connect(self.pause_or_resume_selected)
        self.cancel_btn.clicked.connect(self.cancel_selected)
        self.use_btn.clicked.connect(self.use_selected)
        self.remove_btn.clicked.connect(lambda: self.remove_selected())
        self.import_btn.clicked.connect(lambda: self.import_file())
        self.use_btn.setToolTip("Make the selected model the one that searches or answers")
        self.import_btn.setToolTip("Add a GGUF chat model or an ONNX embedding model you have")
        actions = QHBoxLayout()
        for b in (self.download_btn, self.pause_btn, self.cancel_btn, self.use_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        actions.addWidget(self.remove_btn)
        actions.addWidget(self.import_btn)

        self.details = QLabel()
        self.details.setObjectName("modelDetails")
        self.details.setWordWrap(True)
        self.details.setOpenExternalLinks(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.details.setMinimumHeight(self.fontMetrics().height() * 3)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.notice = QLabel()
        self.notice.setObjectName("modelNotice")
        self.notice.setWordWrap(True)

        self.form = QFormLayout()
        self.form.addRow("Search (embeddings):", self.embedding)
        self.form.addRow("Answers (language model):", self.llm)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.recommendation)
        lay.addWidget(note)
        lay.addWidget(self.tree, 1)
        lay.addLayout(actions)
        lay.addWidget(self.details)
        lay.addWidget(self.notice)

        d = self.downloads
        self._links: list[tuple[SignalInstance, Callable[..., None]]] = [
            (d.progress, self._on_progress),
            (d.finished, self._on_finished),
            (d.failed, self._on_failed),
            (d.stopped, self._on_stopped),
        ]
        for sig, slot in self._links:
            sig.connect(slot)
        self.refresh()

    # -- state ----------------------------------------------------------------------------------
    def chosen(self) -> dict[Kind, str]:
        """The model of each kind chosen on this page."""
        return {"embedding": self.embedding.currentData(), "llm": self.llm.currentData()}

    def row(self, model_id: str) -> ModelRow | None:
        """The listed model with ``model_id``."""
        return self._rows.get(model_id)

    def item(self, model_id: str) -> QTreeWidgetItem | None:
        """The list item of ``model_id``."""
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it is not None and it.data(C_NAME, ID_ROLE) == model_id:
                return it
        return None

    def status_text(self, model_id: str) -> str:
        """What the Status column of ``model_id`` says (the bar's text while downloading)."""
        bar = self._bars.get(model_id)
        if bar is not None:
            return bar.text()
        it = self.item(model_id)
        return it.text(C_STATUS) if it is not None else ""

    def selected_id(self) -> str | None:
        """The id of the selected model."""
        items = self.tree.selectedItems()
        return items[0].data(C_NAME, ID_ROLE) if items else None

    def select(self, model_id: str) -> None:
        """Select the row of ``model_id``."""
        it = self.item(model_id)
        if it is not None:
            self.tree.setCurrentItem(it)

    def refresh(self) -> None:
        """Re-read the models folder and redraw the list, keeping the selection."""
        keep = self.selected_id()
        rows = model_rows(self.models_dir, self.chosen(), self.machine)
        self._rows = {r.spec.id: r for r in rows}
        self.tree.clear()
        self._bars.clear()
        for r in rows:
            self.tree.addTopLevelItem(make_item(r, self.machine, self.messages.get(r.spec.id)))
            if self.downloads.running(r.spec.id):
                self._show_bar(r.spec.id)
        best = recommended_ids(self.machine)
        names = {
            k: escape(self._rows[v].spec.display_name if v in self._rows else v)
            for k, v in best.items()
        }
        llm = self._rows.get(best["llm"])
        hint = ""
        if llm and llm.downloadable:
            hint = f" Select it below and press {'Resume' if llm.partial else 'Download'}."
        self.recommendation.setText(
            f"Recommended for this computer ({self.machine.describe()}): "
            f"<b>{names['llm']}</b> for answers, <b>{names['embedding']}</b> for search.{hint}"
        )
        self.select(keep or self.chosen()["llm"])
        self._selection_changed()

    def _show_bar(self, model_id: str) -> None:
        it = self.item(model_id)
        if it is None:
            return
        bar = QProgressBar()
        bar.setObjectName("downloadProgress")
        bar.setMaximumHeight(self.fontMetrics().height() + 4)
        bar.setTextVisible(True)
        self.tree.setItemWidget(it, C_STATUS, bar)
        self._bars[model_id] = bar
        done, total = (
            self.downloads.progress_of(model_id) or self._progress.get(model_id) or (0, -1)
        )
        set_bar(bar, done, total)

    # -- buttons --------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        mid = self.selected_id()
        r = self._rows.get(mid) if mid else None
        busy = bool(mid) and self.downloads.running(mid or "")
        self.download_btn.setEnabled(bool(r and r.downloadable and not r.partial and not busy))
        self.pause_btn.setText("Resume" if r and r.partial and not busy else "Pause")
        self.pause_btn.setEnabled(bool(r and (busy or (r.partial and r.downloadable))))
        self.cancel_btn.setEnabled(bool(r and (busy or r.partial)))
        self.use_btn.setEnabled(bool(r and r.installed and not r.active))
        self.remove_btn.setEnabled(bool(r and r.removable))
        self.details.setText(details(r) if r else "")

    def download_selected(self) -> None:
        """Start (or resume) downloading the selected model."""
        r = self._rows.get(self.selected_id() or "")
        if r is None or not r.downloadable or self.downloads.running(r.spec.id):
            return
        self.messages.pop(r.spec.id, None)
        self._progress[r.spec.id] = (r.partial, r.spec.size or -1)
        self.downloads.start(r.spec)
        self.refresh()

    def pause_or_resume_selected(self) -> None:
        """Pause the selected download, or resume it from where it stopped."""
        mid = self.selected_id()
        if mid is None:
            return
        if self.downloads.running(mid):
            self.downloads.pause(mid)
            self.pause_btn.setEnabled(False)  # until the thread has stopped
            bar = self._bars.get(mid)
            if bar is not None:
                bar.setFormat("Pausing…")
        else:
            self.download_selected()

    def cancel_selected(self) -> None:
        """Stop the selected download and delete what it had fetched."""
        r = self._rows.get(self.selected_id() or "")
        if r is not None:
            self.cancel_btn.setEnabled(False)
            self.downloads.cancel(r.spec)

    def use_selected(self) -> None:
        """Choose the selected installed model for its kind (saved when the dialog's OK is
        pressed; a new search model rebuilds the index beside the current one)."""
        r = self._rows.get(self.selected_id() or "")
        if r is None or not r.installed:
            return
        combo = self.embedding if r.spec.kind == "embedding" else self.llm
        combo.setCurrentIndex(combo.findData(r.spec.id))
        if r.spec.kind == "embedding" and r.spec.id != self.engine.settings.embedding_model:
            self.say(
                "When you press OK, Findling builds a new index with this model beside the "
                "current one; search keeps working until it is ready."
            )

    def remove_selected(self, confirm: bool = True) -> None:
        """Delete the selected model's files, unless it is in use."""
        r = self._rows.get(self.selected_id() or "")
        if r is None or not r.removable:
            return
        mid = r.spec.id
        refusal = removal_refusal(
            self.engine.settings, self.engine.paths.index_dir, mid, self.chosen().values()
        )
        if refusal:
            self.messages[mid] = ("In use: choose another model first", refusal, "error")
            self.refresh()
            self.say(refusal, "error")
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                "Remove Model",
                f"Delete {r.spec.display_name or mid} and its files from this computer?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.tasks.submit(
            lambda: remove_model(self.models_dir, mid),
            lambda _p: self._removed(mid),
            lambda exc: self.say(user_message(exc), "error"),
        )

    def _removed(self, model_id: str) -> None:
        self.messages.pop(model_id, None)
        self._refill_combos()
        self.refresh()
        self.say(f"Removed {model_id}.")

    def import_file(self, path: str | None = None, dims: int | None = None) -> None:
        """Copy a GGUF or ONNX file into the models folder (asks for the file and, for ONNX,
        the embedding width when not given)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import a Model File", str(Path.home()), "Model files (*.gguf *.onnx)"
            )
            if not path:
                return
        if path.lower().endswith(".onnx") and dims is None:
            dims, ok = QInputDialog.getInt(
                self, "Embedding Width", "Vector size of this embedding model:", 384, 8, 8192
            )
            if not ok:
                return
        src = Path(path)
        self.import_btn.setEnabled(False)
        self.say(f"Importing {src.name}…")
        self.tasks.submit(
            lambda: import_model(src, self.models_dir, dims=dims or 0),
            self._imported,
            self._import_failed,
        )

    def _imported(self, spec: ModelSpec) -> None:
        self.import_btn.setEnabled(True)
        self._refill_combos()
        self.refresh()
        self.select(spec.id)
        what = ", ".join(
            x for x in (spec.architecture, spec.quantisation, f"licence {spec.licence}") if x
        )
        self.say(f"Imported {spec.id} ({what}).", "ok")

    def _import_failed(self, exc: BaseException) -> None:
        self.import_btn.setEnabled(True)
        self.say(user_message(exc), "error")

    def say(self, text: str, level: str = "") -> None:
        """A line under the list (the outcome of the last action)."""
        self.notice.setText(text)
        colour = tone(level).name() if level else ""
        self.notice.setStyleSheet(f"color: {colour};" if colour else "")

    def _refill_combos(self) -> None:
        chosen = self.chosen()
        fill_model_combo(self.embedding, self.engine, "embedding", chosen["embedding"])
        fill_model_combo(self.llm, self.engine, "llm", chosen["llm"])

    # -- download signals ---------------------------------------------------------------------
    def _on_progress(self, model_id: str, done: int, total: int) -> None:
        self._progress[model_id] = (done, total)
        bar = self._bars.get(model_id)
        if bar is not None and bar.format() != "Pausing…":
            set_bar(bar, done, total)

    def _on_finished(self, model_id: str, spec: ModelSpec) -> None:
        self._progress.pop(model_id, None)
        self.messages.pop(model_id, None)
        self._refill_combos()
        self.refresh()
        self.say(f"Downloaded {spec.display_name or model_id}; its checksum is verified.", "ok")

    def _on_failed(self, model_id: str, line: str, full: str) -> None:
        self._progress.pop(model_id, None)
        self.messages[model_id] = (line, full, "error")
        self.refresh()

    def _on_stopped(self, model_id: str, cancelled: bool) -> None:
        self._progress.pop(model_id, None)
        self.messages.pop(model_id, None)
        self.refresh()
        if cancelled:
            self.say("Download cancelled; the partial file was deleted.")

    def shutdown(self) -> bool:
        """Stop listening to downloads (pausing them when this page owns the runner) and stop
        the worker thread.

        Returns:
            Whether a download was paused.
        """
        for sig, slot in self._links:
            with contextlib.suppress(RuntimeError, TypeError):
                sig.disconnect(slot)
        self._links = []
        paused = self._own_downloads and self.downloads.any_running()
        if self._own_downloads:
            self.downloads.shutdown()
        self.tasks.shutdown()
        return paused
