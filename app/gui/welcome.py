"""The first-run welcome: pick folders, see the models, start indexing."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
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
from models.catalogue import Kind, find_model


def standard_folders() -> list[tuple[str, str, bool]]:
    """(label, path, ticked) for the user's Documents, Desktop and Downloads folders that exist.

    Only Documents is ticked at first: Desktop and Downloads are offered, the user decides. A
    folder that is the home folder itself (XDG user dirs unset) or repeats one is left out.
    """
    home = Path.home().resolve()
    found: list[tuple[str, str, bool]] = []
    seen: set[Path] = set()
    for label, where, ticked in (
        ("Documents", platformdirs.user_documents_dir, True),
        ("Desktop", platformdirs.user_desktop_dir, False),
        ("Downloads", platformdirs.user_downloads_dir, False),
    ):
        try:
            path = Path(where())
        except Exception:  # platformdirs can fail on an odd platform set-up: offer less
            continue
        real = path.resolve()
        if not path.is_dir() or real == home or real in seen:
            continue
        seen.add(real)
        found.append((label, str(path), ticked))
    return found


def default_folders() -> list[str]:
    """The standard folders ticked at first (Documents, if there is one)."""
    return [path for _label, path, ticked in standard_folders() if ticked]


def model_line(engine: Engine, kind: Kind, chosen: str | None) -> str:
    """ "Name (size)" of the model in use, or why it is missing."""
    try:
        spec = find_model(engine.paths.models_dir, chosen, kind)
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

        self.standard: list[tuple[QCheckBox, str]] = []
        for label, path, ticked in standard_folders():
            box = QCheckBox(f"{label} ({path})")
            box.setChecked(ticked)
            self.standard.append((box, path))
        self.folders = QListWidget()
        self.folders.setAccessibleName("Other folders to index")
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
        for box, _path in self.standard:
            lay.addWidget(box)
        lay.addWidget(QLabel("Other folders:"))
        lay.addWidget(self.folders)
        lay.addLayout(row)
        lay.addWidget(models)
        lay.addWidget(buttons)
        self.resize(560, 440)

    def _add(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
        if not path:
            return
        for box, known in self.standard:
            if known == path:
                box.setChecked(True)
                return
        if not self.folders.findItems(path, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(path)

    def chosen(self) -> list[str]:
        """The ticked standard folders, then the other folders the user added."""
        ticked = [path for box, path in self.standard if box.isChecked()]
        return ticked + [self.folders.item(i).text() for i in range(self.folders.count())]
