"""The first-run welcome: pick folders, see the models, start indexing."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.engine import Engine
from app.gui.icons import app_icon
from models.catalogue import find_model


def default_folders() -> list[str]:
    """The Documents folder, if there is one."""
    docs = Path(platformdirs.user_documents_dir())
    return [str(docs)] if docs.is_dir() else []


def model_line(engine: Engine, kind: str, chosen: str | None) -> str:
    """ "Name (size)" of the model in use, or why it is missing."""
    try:
        spec = find_model(engine.paths.models_dir, chosen, kind)  # type: ignore[arg-type]
    except Exception as exc:
        return f"not available ({exc})"
    size = f", {spec.size / 2**20:.0f} MB" if spec.size else ""
    return f"{spec.display_name or spec.id}{size}" + ("" if spec.available else " — missing")


class WelcomeDialog(QDialog):
    """Shown once, when no folder is configured yet."""

    def __init__(self, engine: Engine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Findling")
        self.engine = engine
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(64, 64))
        title = QLabel(
            "<h2>Welcome to Findling</h2>"
            "<p>Search and ask questions about your own files — everything stays on "
            "this computer.</p>"
        )
        title.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(title, 1)

        self.folders = QListWidget()
        self.folders.setAccessibleName("Folders to index")
        for f in default_folders():
            self.folders.addItem(f)
        add = QPushButton("Add folder…")
        remove = QPushButton("Remove")
        add.clicked.connect(self._add)
        remove.clicked.connect(
            lambda: [
                self.folders.takeItem(self.folders.row(i)) for i in self.folders.selectedItems()
            ]
        )
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        s = engine.settings
        models = QLabel(
            "<b>Models in use</b> (they run on this computer):<br>"
            f"Search: {model_line(engine, 'embedding', s.embedding_model)}<br>"
            f"Answers: {model_line(engine, 'llm', s.llm_model)}"
        )
        models.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.start = buttons.addButton("Start indexing", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(QLabel("<b>Folders to search</b> — you can change them any time:"))
        lay.addWidget(self.folders)
        lay.addLayout(row)
        lay.addWidget(models)
        lay.addWidget(buttons)
        self.resize(560, 440)

    def _add(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
        if path and not self.folders.findItems(path, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(path)

    def chosen(self) -> list[str]:
        """The folders the user kept."""
        return [self.folders.item(i).text() for i in range(self.folders.count())]
