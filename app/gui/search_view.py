"""The search page: a search field with filters, the result list and the preview."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.engine import Engine
from app.gui.filters import FilterBar
from app.gui.opener import location
from app.gui.preview import PassageSource, PreviewPane
from app.gui.results import HitRole, ResultDelegate, ResultsModel
from app.gui.tasks import TaskRunner
from indexer import Hit, Query, Searcher, SearchResult
from indexer.layout import IndexLayout
from indexer.query import parse

log = logging.getLogger(__name__)

DEBOUNCE_MS = 150
LIMIT = 30


class SearchView(QWidget):
    """Results as you type.

    Each keystroke restarts a short single-shot timer; when it fires the query runs on the search
    pool, tagged with a request number, and results for anything but the latest request are
    dropped.

    Signals:
        searched(query, n_hits): the results for the latest query are on screen.
        open_requested(path, page), reveal_requested(path), error(message).
    """

    searched = Signal(str, int)
    open_requested = Signal(str, object)
    reveal_requested = Signal(str)
    error = Signal(str)

    def __init__(
        self,
        engine: Engine,
        search_runner: TaskRunner,
        preview_runner: TaskRunner,
        parent: QWidget | None = None,
        passages: PassageSource | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.runner = search_runner
        self._searcher: Searcher | None = None
        self._req = 0
        self._shown_req = 0
        self._shown_query = ""

        self.field = QLineEdit()
        self.field.setPlaceholderText("Search your files…")
        self.field.setClearButtonEnabled(True)
        self.field.setAccessibleName("Search")
        f = self.field.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        self.field.setFont(f)
        self.field.setMinimumHeight(36)
        self.filters = FilterBar()
        self.info = QLabel()
        self.info.setEnabled(False)

        self.model = ResultsModel()
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(ResultDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setAccessibleName("Results")
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.list.activated.connect(lambda i: self._open(i.data(HitRole)))
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)

        self.preview = PreviewPane(
            preview_runner, passages, ocr_cache=IndexLayout(engine.paths.index_dir).ocr_cache
        )
        self.preview.open_requested.connect(self.open_requested)
        self.preview.reveal_requested.connect(self.reveal_requested)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.list, 1)
        ll.addWidget(self.empty, 1)
        ll.addWidget(self.info)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)

        lay = QVBoxLayout(self)
        lay.addWidget(self.field)
        lay.addWidget(self.filters)
        lay.addWidget(self.splitter, 1)

        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(self.run_search)
        self.field.textChanged.connect(lambda _: self.timer.start())
        self.filters.changed.connect(self.run_search)
        self.field.installEventFilter(self)
        self.list.installEventFilter(self)
        self._set_empty("Type to search. Results appear as you type.")

    # -- searching ----------------------------------------------------------------------------
    def run_search(self) -> None:
        """Search for the field's text now (normally called by the debounce timer)."""
        self.timer.stop()
        query = self.field.text().strip()
        self._req += 1
        req = self._req
        if not query:
            self._shown_req = req
            self.model.set_hits([])
            self.preview.clear()
            self.info.clear()
            self._set_empty("Type to search. Results appear as you type.")
            self.searched.emit("", 0)
            return
        # the same prefixes as the launcher (pdf: in:Papers after:2024-01) narrow the filter bar
        q = parse(query, base_filters=self.filters.filters())
        roots = list(self.engine.settings.folders)
        self.runner.submit(
            lambda: self._search(req, q, roots),
            lambda r: self._results(req, query, r),
            lambda e: self._failed(req, e),
        )

    def refresh(self) -> None:
        """Search again (the index changed)."""
        if self.field.text().strip():
            self.run_search()

    def _search(self, req: int, q: Query, roots: list[str]) -> SearchResult | None:
        if req != self._req:  # a newer query is waiting: skip the work
            return None
        if self._searcher is None:
            self._searcher = self.engine.searcher()
        return self._searcher.search(q.resolve(roots), limit=LIMIT)

    def _results(self, req: int, query: str, result: SearchResult | None) -> None:
        if result is None or req != self._req:
            return  # stale
        self._shown_req = req
        # the same query again (the index changed): keep the selection; a new query: the top hit
        selected = self.current_hit() if query == self._shown_query else None
        self._shown_query = query
        self.model.set_hits(result.hits)
        if result.hits:
            row = 0
            if selected is not None:
                row = next(
                    (i for i, h in enumerate(result.hits) if h.chunk_id == selected.chunk_id), 0
                )
            self.list.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self._set_empty(None)
            n = len(result.hits)
            self.info.setText(f"{n} result{'s' if n != 1 else ''} · {result.took_ms:.0f} ms")
        else:
            self.preview.clear("No results.")
            hint = (
                " Try other words or clear the filters."
                if self.filters.filters()
                else " Try other words."
            )
            self._set_empty(f"Nothing found for “{query}”.{hint}")
            self.info.clear()
        self.searched.emit(query, len(result.hits))

    def _failed(self, req: int, exc: BaseException) -> None:
        if req == self._req:
            self.error.emit(f"Search failed: {exc}")

    def _set_empty(self, text: str | None) -> None:
        self.empty.setText(text or "")
        self.empty.setVisible(text is not None)
        self.list.setVisible(text is None)

    # -- selection and keys -------------------------------------------------------------------
    def current_hit(self) -> Hit | None:
        """The selected hit."""
        idx = self.list.currentIndex()
        return idx.data(HitRole) if idx.isValid() else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        hit = current.data(HitRole) if current.isValid() else None
        if hit is None:
            self.preview.clear()
        elif self.preview.hit is None or self.preview.hit.chunk_id != hit.chunk_id:
            self.preview.show_hit(hit)

    def _open(self, hit: Hit | None) -> None:
        if hit is not None:
            self.open_requested.emit(hit.path, location(hit))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key, mods = event.key(), event.modifiers()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                hit = self.current_hit()
                if hit is not None:
                    ctrl = mods & (
                        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier
                    )
                    if ctrl:
                        self.reveal_requested.emit(hit.path)
                    else:
                        self._open(hit)
                    return True
            if obj is self.field and key in (
                Qt.Key.Key_Down,
                Qt.Key.Key_Up,
                Qt.Key.Key_PageDown,
                Qt.Key.Key_PageUp,
            ):
                self.list.keyPressEvent(event)  # the list moves its selection; typing goes on
                return True
            if obj is self.list and key == Qt.Key.Key_Escape:
                self.field.setFocus()
                self.field.selectAll()
                return True
        return super().eventFilter(obj, event)

    def close_searcher(self) -> None:
        """Release the index (the search pool must be idle)."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
