"""The Settings dialog: a General page (launch at login, theme, shortcut) and a Models page
(see :mod:`app.gui.models_page`)."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import autostart
from app.engine import Engine
from app.gui.model_downloads import Downloads
from app.gui.models_page import ModelsPage
from app.hotkey import default_hotkey
from app.model_admin import Machine
from models.llm import gpu_offload_supported

log = logging.getLogger(__name__)

THEMES = [("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")]
LOGIN_WHERE = {
    "win32": "Windows: Run key of your user",
    "darwin": "macOS: a LaunchAgent in ~/Library/LaunchAgents",
}


# How long the running app keeps the language model loaded without a question (seconds; 0: always).
UNLOAD_CHOICES = [
    ("After 1 minute idle", 60),
    ("After 5 minutes idle", 300),
    ("After 15 minutes idle", 900),
    ("After 1 hour idle", 3600),
    ("Never (keep it loaded)", 0),
]


class SettingsDialog(QDialog):
    """Edits :class:`app.settings.Settings`; saves on OK.

    Attributes:
        restart_needed: A change (of model) only takes effect after a restart.
        downloads_paused: Closing the dialog paused a model download.
    """

    def __init__(
        self,
        engine: Engine,
        parent: QWidget | None = None,
        shortcut_error: str | None = None,
        downloads: Downloads | None = None,
    ) -> None:
        """``shortcut_error``: why the global shortcut is not set, or which trigger the desktop
        chose (shown under the field). ``downloads``: the main window's download runner (model
        downloads go on after the dialog closes); without one, closing pauses them."""
        super().__init__(parent)
        self.setWindowTitle("Findling Settings")
        self.engine = engine
        self.shortcut_error = shortcut_error
        self.restart_needed = False
        self.downloads_paused = False
        s = engine.settings

        supported = gpu_offload_supported()
        self.models = ModelsPage(engine, Machine.this(gpu=supported), downloads=downloads)
        self.embedding = self.models.embedding
        self.llm = self.models.llm
        self.recommendation = self.models.recommendation
        self.gpu_mode = QComboBox()
        for label, v in (
            ("Automatic", "auto"),
            ("Off (CPU only)", "off"),
            ("Number of layers", "layers"),
        ):
            self.gpu_mode.addItem(label, v)
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(1, 200)
        self.gpu_layers.setValue(int(s.gpu_layers) if s.gpu_layers.isdigit() else 32)
        mode = s.gpu_layers if s.gpu_layers in ("auto", "off") else "layers"
        self.gpu_mode.setCurrentIndex(self.gpu_mode.findData(mode))
        self.gpu_mode.currentIndexChanged.connect(self._gpu_mode_changed)
        self._gpu_mode_changed()
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu_mode, 1)
        gpu_row.addWidget(self.gpu_layers)
        gpu_note = QLabel(
            "GPU offload is available."
            if supported
            else "This build of llama.cpp runs on the CPU only."
        )
        gpu_note.setEnabled(False)
        if not supported:
            self.gpu_mode.setEnabled(False)
            self.gpu_layers.setEnabled(False)
        self.unload = QComboBox()
        for label, secs in UNLOAD_CHOICES:
            self.unload.addItem(label, secs)
        if self.unload.findData(s.llm_unload_after_s) < 0:  # a value set in settings.toml
            self.unload.addItem(f"After {s.llm_unload_after_s} s idle", s.llm_unload_after_s)
        self.unload.setCurrentIndex(self.unload.findData(s.llm_unload_after_s))
        self.unload.setToolTip(
            "Frees the language model's memory when no question was asked for this long; "
            "the next question loads it again (a second or two)."
        )
        mf = self.models.form
        mf.addRow("GPU offload:", gpu_row)
        mf.addRow("", gpu_note)
        mf.addRow("Release answer model:", self.unload)

        self.login = QCheckBox("Start Findling in the tray when I log in")
        self.login.setChecked(s.launch_at_login or autostart.is_enabled())
        self.login.setToolTip(LOGIN_WHERE.get(sys.platform, "XDG autostart (~/.config/autostart)"))
        self.theme = QComboBox()
        for label, v in THEMES:
            self.theme.addItem(label, v)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.theme)))
        self.hotkey = QLineEdit(s.hotkey)
        self.hotkey.setPlaceholderText(default_hotkey())
        self.hotkey.setToolTip(
            "Opens the quick-search popup from anywhere, e.g. Ctrl+Space or Ctrl+Alt+F. "
            "You can also bind “findling-gui --launcher” in your desktop's keyboard settings."
        )
        self.hotkey_note = QLabel(self.shortcut_error or "")
        self.hotkey_note.setWordWrap(True)
        self.hotkey_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hotkey_note.setVisible(bool(self.shortcut_error))
        general = QGroupBox("General")
        gf = QFormLayout(general)
        gf.addRow(self.login)
        gf.addRow("Appearance:", self.theme)
        gf.addRow("Quick-search shortcut:", self.hotkey)
        gf.addRow(self.hotkey_note)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        general_page = QWidget()
        gl = QVBoxLayout(general_page)
        gl.addWidget(general)
        gl.addStretch(1)
        self.tabs = QTabWidget()
        self.tabs.addTab(general_page, "General")
        self.tabs.addTab(self.models, "Models")
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(buttons)
        self.resize(1040, 640)

    def done(self, result: int) -> None:
        """Closing stops the page's threads (and pauses downloads it runs itself)."""
        self.downloads_paused = self.models.shutdown() or self.downloads_paused
        super().done(result)

    def _gpu_mode_changed(self) -> None:
        self.gpu_layers.setVisible(self.gpu_mode.currentData() == "layers")

    def gpu_value(self) -> str:
        """``auto``, ``off`` or a number of layers."""
        mode = self.gpu_mode.currentData()
        return str(self.gpu_layers.value()) if mode == "layers" else str(mode)

    def apply(self) -> None:
        """Write the choices into the settings and the platform (launch at login).

        Raises:
            autostart.AutostartError: launch at login could not be changed.
        """
        s = self.engine.settings
        before = (s.embedding_model, s.llm_model, s.gpu_layers, s.llm_unload_after_s)
        s.embedding_model = self.embedding.currentData()
        s.llm_model = self.llm.currentData()
        s.gpu_layers = self.gpu_value()
        s.llm_unload_after_s = int(self.unload.currentData())
        s.theme = self.theme.currentData()
        s.hotkey = self.hotkey.text().strip() or default_hotkey()
        self.restart_needed = before != (
            s.embedding_model, s.llm_model, s.gpu_layers, s.llm_unload_after_s
        )  # fmt: skip
        want = self.login.isChecked()
        if want != autostart.is_enabled():
            autostart.set_enabled(want)
        s.launch_at_login = want
        self.engine.save_settings()
