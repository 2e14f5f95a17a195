"""Folder, file-type and date filters for the search."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from indexer import SearchFilters
from indexer.query import TYPES

DATES: list[tuple[str, float | None]] = [
    ("Any time", None),
    ("Past week", 7 * 86400),
    ("Past month", 31 * 86400),
    ("Past year", 366 * 86400),
]


class FilterBar(QWidget):
    """Three combo boxes; ``changed`` fires when any of them changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = QComboBox()
        self.folder.setToolTip("Only search in this folder")
        self.folder.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.type = QComboBox()
        self.type.setToolTip("Only this kind of file")
        for label, _ in TYPES:
            self.type.addItem(label)
        self.date = QComboBox()
        self.date.setToolTip("Only files changed recently")
        for label, _ in DATES:
            self.date.addItem(label)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (self.folder, self.type, self.date):
            lay.addWidget(w)
            w.currentIndexChanged.connect(self.changed)
        lay.addStretch(1)
        self.set_folders([])

    def set_folders(self, folders: list[str]) -> None:
        """The folders offered (the indexed ones); keeps the current choice if still there."""
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", None)
        for f in folders:
            self.folder.addItem(Path(f).name or f, f)
            self.folder.setItemData(self.folder.count() - 1, f, 3)  # tooltip: the full path
        i = self.folder.findData(current) if current else 0
        self.folder.setCurrentIndex(max(0, i))
        self.folder.blockSignals(False)
        if current and i < 0:
            self.changed.emit()

    def filters(self) -> SearchFilters | None:
        """The chosen filters, or None when nothing is filtered."""
        folder = self.folder.currentData()
        types = TYPES[self.type.currentIndex()][1]
        age = DATES[self.date.currentIndex()][1]
        f = SearchFilters(
            folders=(folder,) if folder else (),
            types=types,
            modified_after=time.time() - age if age else None,
        )
        return f if f.active else None

    def state(self) -> dict[str, Any]:
        """What to remember in settings.ui."""
        return {
            "folder": self.folder.currentData() or "",
            "type": self.type.currentText(),
            "date": self.date.currentText(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Bring back what :meth:`state` saved."""
        for combo, key in ((self.type, "type"), (self.date, "date")):
            i = combo.findText(str(state.get(key, "")))
            if i >= 0:
                combo.setCurrentIndex(i)
        i = self.folder.findData(state.get("folder") or None) if state.get("folder") else 0
        if i >= 0:
            self.folder.setCurrentIndex(i)
