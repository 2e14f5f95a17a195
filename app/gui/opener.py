"""Open a file in the system viewer (at a page where the viewer allows it) or reveal it."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger(__name__)

# Linux PDF viewers that take a page on the command line.
_PAGE_VIEWERS = (
    ("okular", lambda p, n: ["okular", "--page", str(n), p]),
    ("evince", lambda p, n: ["evince", f"--page-index={n}", p]),
    ("zathura", lambda p, n: ["zathura", f"--page={n}", p]),
)


def _spawn(cmd: list[str]) -> bool:
    try:
        subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return True
    except OSError as exc:
        log.warning("Could not run %s: %s", cmd[0], exc)
        return False


def open_file(path: str, page: int | None = None) -> bool:
    """Open ``path``; PDFs open at ``page`` with a viewer that supports it."""
    if not Path(path).exists():
        return False
    if page and path.lower().endswith(".pdf") and sys.platform.startswith("linux"):
        for exe, cmd in _PAGE_VIEWERS:
            if shutil.which(exe) and _spawn(cmd(path, page)):
                return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def reveal_file(path: str) -> bool:
    """Show ``path`` selected in the platform's file manager."""
    p = Path(path)
    if not p.exists():
        return False
    if sys.platform == "win32":
        return _spawn(["explorer", f"/select,{p}"])
    if sys.platform == "darwin":
        return _spawn(["open", "-R", str(p)])
    if shutil.which("dbus-send") and _spawn(
        [
            "dbus-send",
            "--session",
            "--dest=org.freedesktop.FileManager1",
            "--type=method_call",
            "/org/freedesktop/FileManager1",
            "org.freedesktop.FileManager1.ShowItems",
            f"array:string:{p.as_uri()}",
            "string:",
        ]
    ):
        return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(p.parent)))
