"""The Settings dialog: models, GPU offload, launch at login, theme."""

from __future__ import annotations

import logging
import os
import sys
from typing import cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
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
    QVBoxLayout,
    QWidget,
)

from app import autostart
from app.engine import Engine
from app.hotkey import default_hotkey
from models.catalogue import Kind, all_models, find_model, machine_memory, recommend_llm
from models.llm import gpu_offload_supported

log = logging.getLogger(__name__)

THEMES = [("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")]
LOGIN_WHERE = {
    "win32": "Windows: Run key of your user",
    "darwin": "macOS: a LaunchAgent in ~/Library/LaunchAgents",
}


def model_combo(engine: Engine, kind: Kind, current: str | None) -> QComboBox:
    """The available models of one kind; the current (or default) one selected."""
    combo = QComboBox()
    try:
        default = find_model(engine.paths.models_dir, None, kind).id
    except Exception:
        default = None
    for spec in all_models(engine.paths.models_dir, kind):
        label = spec.display_name or spec.id
        if spec.id == default:
            label += " (default)"
        if not spec.available:
            label += " — not downloaded"
        combo.addItem(label, spec.id)
        if not spec.available:
            # A QComboBox made without setModel() keeps its items in a QStandardItemModel.
            items = cast(QStandardItemModel, combo.model())
            items.item(combo.count() - 1).setEnabled(False)
    i = combo.findData(current or default)
    combo.setCurrentIndex(max(0, i))
    return combo


class SettingsDialog(QDialog):
    """Edits :class:`app.settings.Settings`; saves on OK.

    Attributes:
        restart_needed: A change (of model) only takes effect after a restart.
    """

    def __init__(
        self, engine: Engine, parent: QWidget | None = None, shortcut_error: str | None = None
    ) -> None:
        """``shortcut_error``: why the global shortcut is not set, or which trigger the desktop
        chose (shown under the field)."""
        super().__init__(parent)
        self.setWindowTitle("Findling Settings")
        self.engine = engine
        self.shortcut_error = shortcut_error
        self.restart_needed = False
        s = engine.settings

        self.embedding = model_combo(engine, "embedding", s.embedding_model)
        self.llm = model_combo(engine, "llm", s.llm_model)
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
        supported = gpu_offload_supported()
        gpu_note = QLabel(
            "GPU offload is available."
            if supported
            else "This build of llama.cpp runs on the CPU only."
        )
        gpu_note.setEnabled(False)
        if not supported:
            self.gpu_mode.setEnabled(False)
            self.gpu_layers.setEnabled(False)

        models = QGroupBox("Models")
        mf = QFormLayout(models)
        mf.addRow("Search (embeddings):", self.embedding)
        mf.addRow("Answers (language model):", self.llm)
        mf.addRow("GPU offload:", gpu_row)
        mf.addRow("", gpu_note)
        ram, cores = machine_memory(), os.cpu_count() or 1
        best = recommend_llm(ram, cores, gpu=supported)
        self.recommendation = QLabel(
            f"Recommended for this computer ({ram / 2**30:.0f} GB RAM, {cores} cores): "
            f"<b>{best}</b>"
            + ("" if best in {self.llm.itemData(i) for i in range(self.llm.count())}
               else " — get it with <code>findling models download " + best + "</code>")
        )  # fmt: skip
        self.recommendation.setObjectName("modelRecommendation")
        self.recommendation.setWordWrap(True)
        mf.addRow(self.recommendation)
        note = QLabel(
            "Changing the search model re-indexes your files. Model changes apply "
            "after Findling restarts."
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        mf.addRow(note)

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
        lay = QVBoxLayout(self)
        lay.addWidget(models)
        lay.addWidget(general)
        lay.addWidget(buttons)

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
        before = (s.embedding_model, s.llm_model, s.gpu_layers)
        s.embedding_model = self.embedding.currentData()
        s.llm_model = self.llm.currentData()
        s.gpu_layers = self.gpu_value()
        s.theme = self.theme.currentData()
        s.hotkey = self.hotkey.text().strip() or default_hotkey()
        self.restart_needed = before != (s.embedding_model, s.llm_model, s.gpu_layers)
        want = self.login.isChecked()
        if want != autostart.is_enabled():
            autostart.set_enabled(want)
        s.launch_at_login = want
        self.engine.save_settings()
