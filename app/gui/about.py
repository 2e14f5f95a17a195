"""The About dialog: version, licences (AGPL and third-party notices) and where the data lives."""

from __future__ import annotations

import html
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.gui.icons import app_icon
from app.paths import AppPaths

ROOT = Path(__file__).resolve().parents[2]


def licence_dirs() -> list[Path]:
    """Where LICENSE and THIRD_PARTY_NOTICES.md are: the bundle's folder or the checkout."""
    found = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        found.append(Path(bundle))
        found.append(Path(sys.executable).resolve().parent)
    found.append(ROOT)
    return found


def read_text(name: str) -> str:
    """The first copy of ``name`` found in :func:`licence_dirs`, or a note that it is missing."""
    for d in licence_dirs():
        path = d / name
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
    return f"{name} was not found in this installation."


class AboutDialog(QDialog):
    """Version, licences and data folders."""

    def __init__(self, paths: AppPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Findling")
        self.version = __version__
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(64, 64))
        folders = "".join(
            f"<tr><td>{label}</td><td><code>{html.escape(str(p))}</code></td></tr>"
            for label, p in (
                ("Index", paths.index_dir),
                ("Settings", paths.settings_file),
                ("Models", paths.models_dir),
                ("Logs", paths.log_dir),
            )
        )
        self.summary = QLabel(
            f"<h2>Findling {html.escape(self.version)}</h2>"
            "<p>Search and question your own files, entirely offline.</p>"
            "<p>Findling is free software under the GNU Affero General Public License, "
            "version 3 or later. It comes with no warranty.</p>"
            f"<p><b>Your data</b> (kept when Findling is uninstalled):</p><table>{folders}</table>"
        )
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QHBoxLayout()
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.summary, 1)

        self.tabs = QTabWidget()
        for title, name in (
            ("Licence (AGPL-3.0)", "LICENSE"),
            ("Third-party notices", "THIRD_PARTY_NOTICES.md"),
        ):
            view = QTextBrowser()
            view.setObjectName(name)
            if name.endswith(".md"):
                view.setMarkdown(read_text(name))
            else:
                view.setPlainText(read_text(name))
            self.tabs.addTab(view, title)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(buttons)
        self.resize(640, 560)
