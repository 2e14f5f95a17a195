"""Icons from ``resources/icons``, with painted fallbacks when a file is missing."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap

FAMILIES: dict[str, tuple[str, str]] = {
    # suffix -> (icon family, fallback colour)
    "pdf": ("pdf", "#d93025"),
    "xps": ("pdf", "#d93025"),
    "oxps": ("pdf", "#d93025"),
    "epub": ("epub", "#8e44ad"),
    "mobi": ("epub", "#8e44ad"),
    "fb2": ("epub", "#8e44ad"),
    "cbz": ("epub", "#8e44ad"),
    "docx": ("docx", "#2b579a"),
    "doc": ("docx", "#2b579a"),
    "odt": ("odt", "#2b579a"),
    "rtf": ("docx", "#2b579a"),
    "xlsx": ("sheet", "#217346"),
    "ods": ("sheet", "#217346"),
    "csv": ("sheet", "#217346"),
    "tsv": ("sheet", "#217346"),
    "xlsm": ("sheet", "#217346"),
    "pptx": ("slides", "#d24726"),
    "odp": ("slides", "#d24726"),
    "html": ("html", "#e8710a"),
    "htm": ("html", "#e8710a"),
    "xhtml": ("html", "#e8710a"),
    "md": ("markdown", "#5f6368"),
    "markdown": ("markdown", "#5f6368"),
    "txt": ("text", "#5f6368"),
    "rst": ("text", "#5f6368"),
}


def resources_dir() -> Path:
    """``resources/`` in a checkout, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def _file_icon(*names: str) -> QIcon | None:
    base = resources_dir() / "icons"
    for name in names:
        p = base / name
        if p.is_file():
            icon = QIcon(str(p))
            if not icon.isNull():
                return icon
    return None


@cache
def app_icon() -> QIcon:
    """Findling's icon (SVG plus the generated PNG sizes)."""
    icon = QIcon()
    png_dir = resources_dir() / "icons" / "png"
    if png_dir.is_dir():
        for p in sorted(png_dir.glob("findling-*.png")):
            icon.addFile(str(p))
    svg = resources_dir() / "icons" / "findling.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    if icon.isNull():
        icon = QIcon(_badge("F", "#3367d6", 64, round_=True))
    return icon


@cache
def tray_icon(busy: bool) -> QIcon:
    """The tray icon while idle or indexing."""
    name = "tray-busy.svg" if busy else "tray-idle.svg"
    return _file_icon(name) or app_icon()


@cache
def file_type_icon(suffix: str) -> QIcon:
    """The icon for a file suffix (without dot), e.g. ``"pdf"``."""
    suffix = suffix.lower().lstrip(".")
    family, colour = FAMILIES.get(suffix, ("file", "#80868b"))
    found = _file_icon(
        f"filetypes/{suffix}.svg",
        f"filetypes/{family}.svg",
        "filetypes/file.svg",
        "filetypes/generic.svg",
    )
    if found is not None:
        return found
    return QIcon(_badge(suffix[:4].upper() or "?", colour, 64))


def _badge(text: str, colour: str, size: int, round_: bool = False) -> QPixmap:
    """A page-shaped coloured badge with a label: the fallback file icon."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    rect = QRectF(size * 0.12, size * 0.04, size * 0.76, size * 0.92)
    if round_:
        rect = QRectF(2, 2, size - 4, size - 4)
    path = QPainterPath()
    path.addRoundedRect(rect, size * 0.1, size * 0.1)
    p.fillPath(path, QColor(colour))
    p.setPen(QColor("white"))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * (0.5 if len(text) == 1 else 0.22)))
    p.setFont(font)
    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return pm
