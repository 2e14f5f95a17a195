"""The result list: an item model of hits and a delegate that draws them like a search engine."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.gui.icons import file_type_icon
from indexer import Hit

HitRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def short_folder(path: str) -> str:
    """The folder of ``path``, with the home folder written as ``~``."""
    folder = Path(path).parent
    try:
        return "~/" + str(folder.relative_to(Path.home()))
    except ValueError:
        return str(folder)


def location(hit: Hit) -> str:
    """ "page 3 · Section · ~/Documents" for the second line of a result."""
    parts = []
    if hit.page:
        parts.append(f"page {hit.page}")
    if hit.message:
        parts.append(f"message {hit.message}")
    if hit.section:
        parts.append(hit.section)
    parts.append(short_folder(hit.path))
    if hit.offline:
        parts.append("offline")
    if hit.ocr:
        parts.append("OCR")  # badge: the text was read from an image and may hold misreadings
    if hit.other_paths:
        n = len(hit.other_paths)
        parts.append(f"also in {n} other file{'s' if n > 1 else ''}")
    return " · ".join(parts)


def snippet_html(snippet: str, highlights: tuple[tuple[int, int], ...], mark: str) -> str:
    """The snippet as HTML with the matched words in bold on a soft highlight."""
    out, pos = [], 0
    for s, e in sorted(highlights):
        if s < pos:
            continue
        out.append(html.escape(snippet[pos:s]))
        out.append(f'<b style="background-color:{mark}">{html.escape(snippet[s:e])}</b>')
        pos = e
    out.append(html.escape(snippet[pos:]))
    return "".join(out).replace("\n", " ")


class ResultsModel(QAbstractListModel):
    """The hits of the latest search."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[Hit] = []

    def set_hits(self, hits: list[Hit]) -> None:
        """Replace the results."""
        self.beginResetModel()
        self.hits = list(hits)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.hits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.hits):
            return None
        hit = self.hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(hit.path).name
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join([hit.path, *(f"also: {p}" for p in hit.other_paths)])
        if role == Qt.ItemDataRole.DecorationRole:
            return file_type_icon(Path(hit.path).suffix)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{Path(hit.path).name}, {location(hit)}: {hit.snippet}"
        if role == HitRole:
            return hit
        return None


class ResultDelegate(QStyledItemDelegate):
    """Icon, bold file name, grey location line and a two-line snippet with highlights."""

    PAD = 8
    ICON = 32

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        title = QFont(option.font)
        title.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.9))
        return title, small

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        title, small = self._fonts(option)

        h = (
            QFontMetrics(title).height()
            + QFontMetrics(small).height()
            + 2 * QFontMetrics(option.font).lineSpacing()
            + 3 * self.PAD
        )
        return QSize(300, h)

    def snippet(self, hit: Hit) -> tuple[str, tuple[tuple[int, int], ...]]:
        """The snippet text and its highlighted spans, as drawn."""
        return hit.snippet, hit.highlights

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        hit: Hit | None = index.data(HitRole)
        if hit is None:
            return super().paint(painter, option, index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else QApplication.style()
        opt.text = ""
        opt.icon = QIcon()  # drawn below; the style draws only the background
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        pal = opt.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text_col = pal.color(text_role)
        dim = pal.color(text_role)
        dim.setAlphaF(0.65)
        title_f, small_f = self._fonts(opt)
        r = opt.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        painter.save()
        icon = file_type_icon(Path(hit.path).suffix)
        icon.paint(painter, QRect(r.left(), r.top() + 2, self.ICON, self.ICON))
        x = r.left() + self.ICON + self.PAD
        w = r.right() - x

        painter.setFont(title_f)
        painter.setPen(text_col)
        tfm = QFontMetrics(title_f)
        painter.drawText(
            QRect(x, r.top(), w, tfm.height()),
            Qt.AlignmentFlag.AlignLeft,
            tfm.elidedText(Path(hit.path).name, Qt.TextElideMode.ElideMiddle, w),
        )
        y = r.top() + tfm.height() + 1
        painter.setFont(small_f)
        painter.setPen(dim)
        sfm = QFontMetrics(small_f)
        painter.drawText(
            QRect(x, y, w, sfm.height()),
            Qt.AlignmentFlag.AlignLeft,
            sfm.elidedText(location(hit), Qt.TextElideMode.ElideMiddle, w),
        )
        y += sfm.height() + self.PAD // 2
        mark = "rgba(255, 200, 0, 0.45)" if not selected else "rgba(255, 255, 255, 0.25)"
        doc = QTextDocument()
        doc.setDefaultFont(opt.font)
        doc.setDocumentMargin(0)
        doc.setTextWidth(w)
        doc.setHtml(snippet_html(*self.snippet(hit), mark))
        lines = max(1, (r.bottom() - y) // QFontMetrics(opt.font).lineSpacing())
        clip_h = lines * QFontMetrics(opt.font).lineSpacing()  # whole lines only
        painter.translate(x, y)
        painter.setClipRect(QRect(0, 0, w, clip_h))
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.palette.setColor(QPalette.ColorRole.Text, text_col)
        doc.documentLayout().draw(painter, ctx)
        painter.restore()
