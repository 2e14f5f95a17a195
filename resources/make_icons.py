#!/usr/bin/env python3
"""Regenerate Findling's raster icons from the SVG sources in ``resources/icons``.

Uses only PySide6 (already a Findling dependency): SVGs are rendered with ``QSvgRenderer``
on the ``offscreen`` Qt platform, so no display is needed. The ``.ico`` and ``.icns``
containers are written directly (both simply wrap PNG data), so Pillow is not required.

    python resources/make_icons.py              # PNGs, findling.ico, findling.icns
    python resources/make_icons.py --filetypes  # also rewrite filetypes/*.svg (needs a bold
                                                # sans-serif font, e.g. DejaVu Sans Bold)

Outputs (all under ``resources/icons``):

* ``png/findling-<N>.png`` for N in 16, 24, 32, 48, 64, 128, 256, 512
  (16 and 24 are rendered from the simplified ``findling-small.svg``);
* ``findling.ico`` (16-256 px) and ``findling.icns`` (16-1024 px, including @2x);
* ``png/tray-<state>-<N>.png`` for every ``tray-*.svg`` at 22 and 44 px.

SPDX-License-Identifier: AGPL-3.0-or-later
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
)
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
ICONS = HERE / "icons"
PNG_DIR = ICONS / "png"

APP_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
SMALL_MAX = 24  # sizes up to this use findling-small.svg
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
TRAY_SIZES = (22, 44)

# ICNS chunk types that hold PNG data: (type, pixel size).
ICNS_TYPES = (
    ("icp4", 16),
    ("icp5", 32),
    ("icp6", 64),
    ("ic07", 128),
    ("ic08", 256),
    ("ic09", 512),
    ("ic11", 32),
    ("ic12", 64),
    ("ic13", 256),
    ("ic14", 512),
    ("ic10", 1024),
)


# --------------------------------------------------------------------------- rendering


def render(svg: Path, size: int) -> QImage:
    """Render ``svg`` into a transparent ``size`` x ``size`` image."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: cannot parse {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise SystemExit("error: PNG encoding failed")
    buf.close()
    return bytes(data.data())


def app_icon(size: int) -> bytes:
    small = ICONS / "findling-small.svg"
    source = small if size <= SMALL_MAX and small.is_file() else ICONS / "findling.svg"
    return png_bytes(render(source, size))


def write_ico(path: Path, pngs: dict[int, bytes]) -> None:
    """A Windows icon whose entries are PNG-compressed (supported since Windows Vista)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    path.write_bytes(header + entries + blobs)


def write_icns(path: Path, pngs: dict[int, bytes]) -> None:
    """A macOS icon family; every chunk holds PNG data."""
    chunks = b"".join(
        kind.encode("ascii") + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
        for kind, size in ICNS_TYPES
    )
    path.write_bytes(b"icns" + struct.pack(">I", 8 + len(chunks)) + chunks)


# --------------------------------------------------------------------- file-type icons

# family -> (label, colour, content). Colours match the painted fallbacks in app/gui/icons.py.
FILETYPES: dict[str, tuple[str, str, str]] = {
    "pdf": ("PDF", "#D93025", "lines"),
    "epub": ("EPUB", "#8E44AD", "lines"),
    "docx": ("DOC", "#2B579A", "lines"),
    "odt": ("ODT", "#2B579A", "lines"),
    "sheet": ("XLS", "#217346", "grid"),
    "csv": ("CSV", "#217346", "grid"),
    "ods": ("ODS", "#217346", "grid"),
    "slides": ("PPT", "#D24726", "slide"),
    "odp": ("ODP", "#D24726", "slide"),
    "html": ("HTML", "#E8710A", "code"),
    "markdown": ("MD", "#5F6368", "lines"),
    "text": ("TXT", "#5F6368", "lines"),
    "generic": ("", "#80868B", "lines"),
}

PAGE = (
    "M7.5 1.5 H19.5 L26.5 8.5 V28.5 A2 2 0 0 1 24.5 30.5 H7.5 "
    "A2 2 0 0 1 5.5 28.5 V3.5 A2 2 0 0 1 7.5 1.5 Z"
)
FOLD = "M19.5 1.5 V6.5 A2 2 0 0 0 21.5 8.5 H26.5 Z"
BAND = (3.0, 17.0, 20.0, 9.0)  # x, y, width, height


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _label_path(text: str) -> str:
    """SVG path data for ``text`` in a bold sans-serif, fitted and centred in the band."""
    font = QFont("DejaVu Sans")
    font.setBold(True)
    font.setPixelSize(100)
    path = QPainterPath()
    path.addText(QPointF(0, 0), font, text)
    rect = path.boundingRect()
    bx, by, bw, bh = BAND
    cap = 4.6 if len(text) <= 3 else 4.0  # glyph height in icon units
    scale = min(cap / rect.height(), (bw - 3.0) / rect.width())
    ox = bx + (bw - rect.width() * scale) / 2 - rect.left() * scale
    oy = by + (bh - rect.height() * scale) / 2 - rect.top() * scale
    out: list[str] = []
    i = 0
    while i < path.elementCount():
        e = path.elementAt(i)
        pt = lambda el: f"{_fmt(ox + el.x * scale)} {_fmt(oy + el.y * scale)}"  # noqa: E731
        if e.isMoveTo():
            if out:
                out.append("Z")
            out.append(f"M{pt(e)}")
            i += 1
        elif e.isLineTo():
            out.append(f"L{pt(e)}")
            i += 1
        else:  # CurveTo followed by two CurveToData elements
            c2, end = path.elementAt(i + 1), path.elementAt(i + 2)
            out.append(f"C{pt(e)} {pt(c2)} {pt(end)}")
            i += 3
    if out:
        out.append("Z")
    return "".join(out)


def _content(kind: str, colour: str, generic: bool) -> list[str]:
    grey = "#C9CED6"
    if generic:
        return [
            f'  <path d="M9 11.5 H19 M9 15 H22 M9 18.5 H22 M9 22 H22 M9 25.5 H17" '
            f'stroke="{grey}" stroke-width="1.6" stroke-linecap="round"/>'
        ]
    if kind == "grid":
        return [
            f'  <rect x="9.5" y="6.5" width="10" height="8" rx="0.5" fill="none" '
            f'stroke="{colour}" stroke-width="1"/>',
            f'  <path d="M9.5 9.17 H19.5 M9.5 11.83 H19.5 M13 6.5 V14.5" '
            f'stroke="{colour}" stroke-width="1"/>',
        ]
    if kind == "slide":
        return [
            f'  <rect x="9.5" y="7" width="11" height="7.5" rx="1" fill="{colour}" '
            'fill-opacity="0.18" stroke="' + colour + '" stroke-width="1"/>',
            f'  <path d="M12 11.75 L14.25 9.5 L16 11 L18 9" fill="none" stroke="{colour}" '
            'stroke-width="1" stroke-linecap="round" stroke-linejoin="round"/>',
        ]
    if kind == "code":
        return [
            f'  <path d="M12 7.5 L9.5 10.75 L12 14 M17.5 7.5 L20 10.75 L17.5 14 M15.5 6.75 '
            f'L14 14.75" fill="none" stroke="{colour}" stroke-width="1.4" '
            'stroke-linecap="round" stroke-linejoin="round"/>'
        ]
    return [
        f'  <path d="M9 8 H17 M9 11 H20 M9 14 H15" stroke="{grey}" stroke-width="1.6" '
        'stroke-linecap="round"/>'
    ]


def filetype_svg(name: str) -> str:
    label, colour, kind = FILETYPES[name]
    generic = not label
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- Findling file-type icon: {name}. Generated by resources/make_icons.py "
        "(filetypes option). SPDX-License-Identifier: AGPL-3.0-or-later -->",
        '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32">',
        f'  <path d="{PAGE}" fill="#FFFFFF" stroke="#AEB5C1" stroke-width="1" '
        'stroke-linejoin="round"/>',
        f'  <path d="{FOLD}" fill="#E3E7EE" stroke="#AEB5C1" stroke-width="1" '
        'stroke-linejoin="round"/>',
        *_content(kind, colour, generic),
    ]
    if not generic:
        x, y, w, h = BAND
        lines += [
            f'  <rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(w)}" height="{_fmt(h)}" '
            f'rx="1.5" fill="{colour}"/>',
            f'  <path d="{_label_path(label)}" fill="#FFFFFF"/>',
        ]
    lines += ["</svg>", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--filetypes",
        action="store_true",
        help="also regenerate icons/filetypes/*.svg (outlines the labels)",
    )
    args = parser.parse_args(argv)
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])

    if args.filetypes:
        out_dir = ICONS / "filetypes"
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in FILETYPES:
            (out_dir / f"{name}.svg").write_text(filetype_svg(name), encoding="utf-8")
        print(f"wrote {len(FILETYPES)} SVGs in {out_dir.relative_to(HERE.parent)}")

    PNG_DIR.mkdir(parents=True, exist_ok=True)
    pngs = {size: app_icon(size) for size in sorted({*APP_SIZES, *ICO_SIZES, 1024})}
    for size in APP_SIZES:
        (PNG_DIR / f"findling-{size}.png").write_bytes(pngs[size])
    write_ico(ICONS / "findling.ico", {s: pngs[s] for s in ICO_SIZES})
    write_icns(ICONS / "findling.icns", pngs)

    for svg in sorted(ICONS.glob("tray-*.svg")):
        for size in TRAY_SIZES:
            (PNG_DIR / f"{svg.stem}-{size}.png").write_bytes(png_bytes(render(svg, size)))

    print(f"wrote PNGs in {PNG_DIR.relative_to(HERE.parent)}, findling.ico, findling.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
