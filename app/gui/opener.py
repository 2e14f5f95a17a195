"""Open a file in the system viewer (at a page where the viewer allows it) or reveal it."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from indexer import Hit

log = logging.getLogger(__name__)
_Argv = Callable[[str, int], list[str]]

# Linux PDF viewers that take a page on the command line.
_PAGE_VIEWERS: tuple[tuple[str, _Argv], ...] = (
    ("okular", lambda p, n: ["okular", "--page", str(n), p]),
    ("evince", lambda p, n: ["evince", f"--page-index={n}", p]),
    ("zathura", lambda p, n: ["zathura", f"--page={n}", p]),
)


# Editors that open a file at a line, keyed by a word of their .desktop id (xdg-mime's answer
# for the file's type), so the user's own default editor is the one asked.
_LINE_EDITORS: tuple[tuple[str, _Argv], ...] = (
    ("codium", lambda p, n: ["codium", "-g", f"{p}:{n}"]),
    ("code", lambda p, n: ["code", "-g", f"{p}:{n}"]),
    ("sublime", lambda p, n: ["subl", f"{p}:{n}"]),
    ("kate", lambda p, n: ["kate", "-l", str(n), p]),
    ("kwrite", lambda p, n: ["kwrite", "-l", str(n), p]),
    ("gedit", lambda p, n: ["gedit", f"+{n}", p]),
)


@dataclass(frozen=True)
class Line:
    """Where to open a source file: a 1-based line (the location a code hit carries)."""

    n: int


def location(hit: Hit) -> int | Line | None:
    """What an open request carries for ``hit``: its page, or for source code its line."""
    if hit.page is not None:
        return hit.page
    return Line(hit.line) if hit.line else None


def _query(*args: str) -> str:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=3, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def line_command(path: str, line: int) -> list[str] | None:
    """The command that opens ``path`` at ``line`` in the user's default editor for its type,
    when that editor takes a line on its command line (Linux; None elsewhere or when unknown)."""
    if not sys.platform.startswith("linux") or not shutil.which("xdg-mime"):
        return None
    mime = _query("xdg-mime", "query", "filetype", path)
    app = _query("xdg-mime", "query", "default", mime).lower() if mime else ""
    for word, cmd in _LINE_EDITORS:
        if word in app:
            argv = cmd(path, line)
            return argv if shutil.which(argv[0]) else None
    return None


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


def open_file(path: str, page: int | None = None, line: int | None = None) -> bool:
    """Open ``path``; PDFs open at ``page`` with a viewer that supports it, source files at
    ``line`` with an editor that does."""
    if not Path(path).exists():
        return False
    if line:
        argv = line_command(path, line)
        if argv is not None and _spawn(argv):
            return True
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
