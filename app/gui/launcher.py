"""The quick-search launcher: a frameless popup that searches as you type and asks inline.

The controller logic follows the search page: each keystroke restarts a very short single-shot
timer, the query runs on the search pool tagged with a request number, and only the latest
request's results reach the list (stale ones are dropped, typing never waits).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QFontMetrics, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSizePolicy,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.engine import Engine
from app.gui import semantic_note
from app.gui.asking import AskOutcome, AskService
from app.gui.inline_answer import InlineAnswer
from app.gui.opener import location as open_location
from app.gui.results import HitRole, Index, ResultDelegate, ResultsModel, location
from app.gui.tasks import TaskRunner
from indexer import Hit, Query, Searcher, SearchFilters, SearchResult
from indexer import query as lq
from indexer.quote import Extract

log = logging.getLogger(__name__)

TITLE = "Findling Quick Search"
DEBOUNCE_MS = 0  # a 0 ms timer coalesces keys already queued; the request tag drops the rest
LIMIT = 8
WIDTH = 720
LEAD_CHARS = 24  # characters of context kept before the first matched word of a row's snippet

NO_MATCHES = "No matches — try other words"
NO_FOLDERS = "No folders yet — open Findling to add some"
HINT = "Type to search your files · Tab asks · Enter opens · Esc closes"


def building_text(remaining: int) -> str:
    """The empty state while the first indexing run is under way."""
    return f"Index is still being built ({remaining:,} file{'s' if remaining != 1 else ''} to go)"


def lead_in(
    text: str, highlights: tuple[tuple[int, int], ...], lead: int = LEAD_CHARS
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``text`` starting a few words before its first highlight, so that a one-line row shows
    the matched words however late they come in the snippet."""
    if not highlights:
        return text, highlights
    first = min(s for s, _ in highlights)
    if first <= lead:
        return text, highlights
    space = text.rfind(" ", 0, first - lead + 1)
    start = space + 1 if space >= 0 else first - lead
    prefix = "… "
    shift = len(prefix) - start
    return prefix + text[start:], tuple((s + shift, e + shift) for s, e in highlights if s >= start)


class OneLineDelegate(ResultDelegate):
    """A result row with a one-line snippet (the launcher is a glance, not a reading pane)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), size.height() - QFontMetrics(option.font).lineSpacing())

    def snippet(self, hit: Hit) -> tuple[str, tuple[tuple[int, int], ...]]:
        return lead_in(hit.snippet, hit.highlights)


class Launcher(QWidget):
    """The popup. The owner connects the request signals to the window's opener.

    Signals:
        searched(query, n_hits): the latest query's results are on screen.
        open_requested(path, page), reveal_requested(path), main_requested(query).
        answered(question): an inline answer has finished streaming.
    """

    searched = Signal(str, int)
    open_requested = Signal(str, object)
    reveal_requested = Signal(str)
    main_requested = Signal(str)
    answered = Signal(str)

    def __init__(
        self,
        engine: Engine,
        runner: TaskRunner,
        asking: AskService | None = None,
        parent: QWidget | None = None,
    ) -> None:
        flags = (
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        super().__init__(parent, flags)
        self.engine = engine
        self.runner = runner
        self.asking = asking
        self.setWindowTitle(TITLE)
        self.setAccessibleName(TITLE)
        self.setObjectName("launcher")
        self._searcher: Searcher | None = None
        self._req = 0
        self._ask_req = 0
        self._ask_token = 0
        self._outcome: AskOutcome | None = None
        self.remaining: int | None = None  # files still to index in a first run
        self.pending_files = 0  # indexed files whose meaning search is not ready yet
        self.hide_on_deactivate = True

        frame = QFrame(self)
        frame.setObjectName("launcherFrame")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)
        lay = QVBoxLayout(frame)
        lay.setContentsMargins(12, 12, 12, 10)
        lay.setSpacing(8)

        self.field = QLineEdit()
        self.field.setPlaceholderText("Search your files…")
        self.field.setAccessibleName("Quick search")
        f = self.field.font()
        f.setPointSizeF(f.pointSizeF() * 1.5)
        self.field.setFont(f)
        self.field.setMinimumHeight(44)
        self.field.setFrame(False)
        lay.addWidget(self.field)

        self.chips = QWidget()
        self.chip_layout = QHBoxLayout(self.chips)
        self.chip_layout.setContentsMargins(0, 0, 0, 0)
        self.chip_layout.setSpacing(6)
        self.chips.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.chips.hide()
        lay.addWidget(self.chips)

        self.note = QLabel()
        self.note.setObjectName("launcherNote")
        self.note.setAccessibleName("Meaning search")
        small = self.note.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        small.setItalic(True)
        self.note.setFont(small)
        self.note.setEnabled(False)  # the palette's dim text: a note, not an error
        self.note.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.note.hide()
        lay.addWidget(self.note)

        self.model = ResultsModel()
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(OneLineDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setFrameShape(QFrame.Shape.NoFrame)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setAccessibleName("Results")
        self.list.clicked.connect(lambda i: self._open(i.data(HitRole)))
        lay.addWidget(self.list, 1)

        self.ask_row = QLabel()
        self.ask_row.setObjectName("askRow")
        self.ask_row.setTextFormat(Qt.TextFormat.RichText)
        self.ask_row.setCursor(Qt.CursorShape.PointingHandCursor)
        self.ask_row.mousePressEvent = lambda _e: self.ask()  # type: ignore[method-assign]
        self.ask_row.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.ask_row)

        self.answer_view = InlineAnswer()
        self.answer_view.open_requested.connect(self._open_at)
        self.answer_view.setMaximumHeight(300)
        self.answer_view.hide()
        lay.addWidget(self.answer_view, 1)

        self.preview = QLabel()
        self.preview.setWordWrap(True)
        self.preview.setObjectName("launcherPreview")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.hide()
        lay.addWidget(self.preview)

        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.empty.setMinimumHeight(48)
        lay.addWidget(self.empty)

        self.setStyleSheet(
            "#launcherFrame { border-radius: 10px; border: 1px solid palette(mid);"
            " background: palette(base); }"
            "#askRow { padding: 6px; border-radius: 6px; background: palette(alternate-base); }"
            "#launcherPreview { padding: 6px; border-radius: 6px;"
            " background: palette(alternate-base); }"
        )
        self.timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.timer.timeout.connect(self.run_search)
        self.field.textChanged.connect(self._text_changed)
        self.field.installEventFilter(self)
        if asking is not None:
            asking.sources.connect(self._ask_sources)
            asking.extract.connect(self._extract)
            asking.token.connect(self._token)
            asking.status.connect(self._ask_status)
            asking.finished.connect(self._ask_done)
            asking.failed.connect(self._ask_failed)
        self.resize(WIDTH, 120)
        self._show_state()

    # -- showing ------------------------------------------------------------------------------
    def popup(self) -> None:
        """Show centred on the screen under the mouse, the last query selected."""
        screen = QGuiApplication.screenAt(self.cursor().pos()) or QGuiApplication.primaryScreen()
        geo = screen.availableGeometry()
        self._fit()
        self.move(geo.center().x() - self.width() // 2, geo.top() + geo.height() // 4)
        self.show()
        self.raise_()
        self.activateWindow()
        self.field.setFocus()
        self.field.selectAll()
        # X11 sets the focus only once the window is mapped, and a busy server or window
        # manager can drop that request: ask again a moment later if it has not come.
        for ms in (150, 600):
            QTimer.singleShot(ms, self._claim_focus)
        self.refresh_note()
        if self.field.text().strip():
            self.run_search()  # the index may have changed since

    def _claim_focus(self) -> None:
        if self.isVisible() and not self.isActiveWindow():
            self.raise_()
            self.activateWindow()

    def toggle(self) -> None:
        """The hotkey and ``findling-gui --launcher``: show, or hide when showing. A popup the
        window manager did not focus (focus-stealing prevention) hides too, or it could never
        be dismissed from the keyboard."""
        if self.isVisible():
            self.hide()
        else:
            self.popup()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.WindowDeactivate and self.hide_on_deactivate:
            QTimer.singleShot(0, self._hide_if_inactive)
        return super().event(e)

    def _hide_if_inactive(self) -> None:
        if not self.isActiveWindow():
            self.hide()

    def _fit(self) -> None:
        rows = self.model.rowCount()
        if self.answer_view.isVisible():
            h = 340
        elif rows:
            row_h = self.list.sizeHintForRow(0) if rows else 0
            self.list.setFixedHeight(min(rows, 6) * row_h + 4)
            h = 0
        else:
            h = 0
        layout = self.layout()
        if layout is not None:
            layout.activate()
        self.resize(WIDTH, max(h, self.sizeHint().height()))

    # -- searching ----------------------------------------------------------------------------
    def _text_changed(self, _text: str) -> None:
        self._show_chips(lq.parse(self.field.text()))
        self.timer.start()

    def run_search(self) -> None:
        """Search for the field's text now (normally called by the debounce timer)."""
        self.timer.stop()
        self._req += 1
        req = self._req
        q = lq.parse(self.field.text())
        self._leave_answer()
        if not q.text.strip():
            self.model.set_hits([])
            self._show_state()
            self.searched.emit("", 0)
            return
        roots = list(self.engine.settings.folders)
        self.runner.submit(
            lambda: self._search(req, q, roots),
            lambda r: self._results(req, q, r),
            lambda e: self._failed(req, e),
        )

    def _search(self, req: int, q: Query, roots: list[str]) -> SearchResult | None:
        if req != self._req:  # typed on: skip the work
            return None
        if self._searcher is None:
            self._searcher = self.engine.searcher()
        return self._searcher.search(q.resolve(roots), limit=LIMIT)

    def _results(self, req: int, q: Query, result: SearchResult | None) -> None:
        if result is None or req != self._req:
            return  # stale
        self.model.set_hits(result.hits)
        if result.hits:
            self.list.selectionModel().setCurrentIndex(
                self.model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        self._show_state()
        self._update_preview()
        self.searched.emit(q.text, len(result.hits))

    def _failed(self, req: int, exc: BaseException) -> None:
        if req == self._req:
            self.model.set_hits([])
            self._show_state(f"Search failed: {exc}")

    def _show_state(self, error: str | None = None) -> None:
        query = lq.parse(self.field.text()).text.strip()
        rows = self.model.rowCount()
        text: str | None = error
        if text is None and not rows:
            if not self.engine.settings.folders:
                text = NO_FOLDERS
            elif self.remaining:
                text = building_text(self.remaining)
            elif query:
                text = NO_MATCHES
            else:
                text = HINT
        self.empty.setText(text or "")
        self.empty.setVisible(text is not None)
        self.list.setVisible(bool(rows))
        can_ask = bool(query) and self.asking is not None and bool(self.engine.settings.folders)
        self.ask_row.setVisible(can_ask and not self.answer_view.isVisible())
        if can_ask:
            self.ask_row.setText(
                f"<b>Ask</b> “{html.escape(query)}” <span style='color:gray'>— Tab</span>"
            )
        if self.isVisible():
            self._fit()

    def _show_chips(self, q: Query) -> None:
        while self.chip_layout.count():
            item = self.chip_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for chip in q.prefixes:
            label = QLabel(chip.label)
            label.setObjectName("chip")
            bg = "#c0392b" if chip.kind == "error" else "palette(highlight)"
            label.setStyleSheet(
                f"QLabel#chip {{ background: {bg}; color: palette(highlighted-text);"
                " border-radius: 9px; padding: 2px 10px; }"
            )
            label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            label.setAccessibleName(f"Filter: {chip.label}")
            self.chip_layout.addWidget(label)
        self.chip_layout.addStretch(1)
        self.chips.setVisible(bool(q.prefixes))
        if self.isVisible():
            QTimer.singleShot(0, self._fit)  # once the new chips have their sizes

    def chip_labels(self) -> list[str]:
        """The chips shown (for tests and screen readers)."""
        out = []
        for i in range(self.chip_layout.count()):
            item = self.chip_layout.itemAt(i)
            w = item.widget() if item is not None else None
            if isinstance(w, QLabel) and not w.property("deleted"):
                out.append(w.text())
        return out

    # -- keys ---------------------------------------------------------------------------------
    def current_hit(self) -> Hit | None:
        """The selected hit."""
        idx = self.list.currentIndex()
        return idx.data(HitRole) if idx.isValid() else None

    def _move(self, step: int) -> None:
        rows = self.model.rowCount()
        if not rows:
            return
        row = max(0, min(rows - 1, self.list.currentIndex().row() + step))
        self.list.selectionModel().setCurrentIndex(
            self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self._update_preview()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if self._key(event):
                return True
        return super().eventFilter(obj, event)

    def _key(self, event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier))
        if key == Qt.Key.Key_Escape:
            if self.answer_view.isVisible():
                self._leave_answer()
                self._show_state()
            else:
                self.hide()
            return True
        if key == Qt.Key.Key_Down or (ctrl and key == Qt.Key.Key_N):
            self._move(1)
            return True
        if key == Qt.Key.Key_Up or (ctrl and key == Qt.Key.Key_P):
            self._move(-1)
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            target = self.answer_view.target() if self.answer_view.isVisible() else None
            if target is not None and not ctrl:  # the quoted sentence's file, at its page
                self._open_at(*target)
                return True
            hit = self.current_hit()
            if hit is not None:
                if ctrl:
                    self.reveal_requested.emit(hit.path)
                else:
                    self._open(hit)
            return True
        if key == Qt.Key.Key_Tab:
            self.ask()
            return True
        if ctrl and key == Qt.Key.Key_C and not self.field.hasSelectedText():
            hit = self.current_hit()
            if hit is not None:
                QGuiApplication.clipboard().setText(hit.text)
                return True
        if ctrl and key == Qt.Key.Key_O:
            self.main_requested.emit(self.field.text())
            self.hide()
            return True
        at_end = self.field.cursorPosition() == len(self.field.text())
        if key == Qt.Key.Key_Right and at_end and self.current_hit() is not None:
            self.preview.setVisible(not self.preview.isVisible())
            self._update_preview()
            self._fit()
            return True
        return False

    def _open(self, hit: Hit | None) -> None:
        if hit is not None:
            self._open_at(hit.path, open_location(hit))

    def _open_at(self, path: str, where: object) -> None:
        self.open_requested.emit(path, where)
        self.hide()

    def _update_preview(self) -> None:
        hit = self.current_hit()
        if hit is None:
            self.preview.hide()
        elif self.preview.isVisible():
            self.preview.setText(f"{location(hit)}\n\n{hit.text.strip()[:900]}")

    # -- asking -------------------------------------------------------------------------------
    def ask(self) -> None:
        """Ask the query as a question; the answer streams in below."""
        q = lq.parse(self.field.text())
        if self.asking is None or not q.text.strip():
            return
        self._outcome = None
        self.answer_view.start(q.text)
        self.answer_view.show()
        self.list.hide()
        self.ask_row.hide()
        self.empty.hide()
        self.preview.hide()
        self._ask_req = 0  # until it is asked, nothing streams here
        self._ask_token += 1
        token, roots = self._ask_token, list(self.engine.settings.folders)
        # ``in:Name`` looks through the folders on disk: never on the GUI thread
        self.runner.submit(
            lambda: q.resolve(roots).filters,
            lambda filters: self._start_ask(token, q.text, filters),
            lambda exc: self._ask_failed(0, str(exc)) if token == self._ask_token else None,
        )
        self._fit()

    def _start_ask(self, token: int, question: str, filters: SearchFilters | None) -> None:
        if token != self._ask_token or self.asking is None:
            return  # left the answer (Esc, typing) before it was asked
        self._ask_req = self.asking.ask(question, filters)

    def _leave_answer(self) -> None:
        if self.answer_view.isVisible():
            if self.asking is not None and self.asking.busy:
                self.asking.stop()
            self._ask_req = -1
            self._ask_token += 1
            self.answer_view.hide()

    def _ask_status(self, req: int, text: str) -> None:
        if req == self._ask_req:
            self.answer_view.set_status(text)

    def _ask_sources(self, req: int, hits: object) -> None:
        if req == self._ask_req and isinstance(hits, dict):
            self.answer_view.set_sources(hits)

    def _extract(self, req: int, quote: object) -> None:
        if req == self._ask_req and (quote is None or isinstance(quote, Extract)):
            self.answer_view.set_extract(quote)

    def _token(self, req: int, text: str) -> None:
        if req == self._ask_req:
            self.answer_view.add_token(text)

    def _ask_done(self, req: int, outcome: object) -> None:
        if req != self._ask_req or not isinstance(outcome, AskOutcome):
            return
        self._outcome = outcome
        self.answer_view.finish(outcome)
        self.answered.emit(outcome.question)

    def _ask_failed(self, req: int, message: str) -> None:
        if req == self._ask_req:
            self.answer_view.fail(message)

    def citation(self, n: int) -> tuple[str, int | None] | None:
        """The file and page of citation ``n`` of the last answer."""
        return self.answer_view.citation(n)

    def _citation_clicked(self, url: QUrl) -> None:
        """What a click on a link of the answer does (the card's or a citation's)."""
        self.answer_view.anchorClicked.emit(url)

    # -- lifetime -----------------------------------------------------------------------------
    def set_remaining(self, remaining: int | None) -> None:
        """Files still to index (None or 0 once the index is complete)."""
        self.remaining = remaining
        if not self.model.rowCount():
            self._show_state()

    def refresh(self) -> None:
        """Search again (the index changed)."""
        if self.isVisible():
            self.refresh_note()
            if self.field.text().strip():
                self.run_search()

    def refresh_note(self) -> None:
        """Re-read how many files still wait for meaning search (on the search pool)."""
        index_dir = self.engine.paths.index_dir
        self.runner.submit(lambda: semantic_note.pending_files(index_dir), self._set_pending)

    def _set_pending(self, files: int) -> None:
        self.pending_files = files
        text = semantic_note.semantic_note(files) if self.engine.settings.folders else ""
        self.note.setText(text)
        self.note.setVisible(bool(text))
        if self.isVisible():
            self._fit()

    def close_searcher(self) -> None:
        """Release the index (the search pool must be idle)."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None


def connect_opener(
    launcher: Launcher, open_fn: Callable[[str, object], None], reveal_fn: Callable[[str], None]
) -> None:
    """Wire the launcher to the window's opener."""
    launcher.open_requested.connect(open_fn)
    launcher.reveal_requested.connect(reveal_fn)
