"""The desktop app quits with exit code 0, in a process of its own (``findling-gui``'s main).

A window left for PySide's atexit clean-up is destroyed from inside ``~QApplication``: Qt warns
"shared QObject was deleted directly" and the process dies with SIGBUS (-7) after the window
showed; first seen with the frozen build (tests/packaging). ``app/gui/main.py`` destroys its
windows before returning; this runs the same entry point as the frozen GUI, unfrozen, so a
regression is caught without building a package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(240)]
ROOT = Path(__file__).resolve().parents[2]


def test_gui_shows_its_window_then_exits_0(tmp_path):
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    (home / "run").chmod(0o700)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "PYTHONPATH": str(ROOT),
        "FINDLING_HOME": str(tmp_path / "data"),
        "QT_QPA_PLATFORM": "offscreen",
        "FINDLING_SMOKE_TEST": "1",  # packaging/entry_gui.py: quit once the window is shown
    }
    r = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "entry_gui.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )
    events = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("findling-smoke:")]
    assert events == ["welcome-shown", "window-shown"], r.stdout + r.stderr
    assert "shared QObject was deleted directly" not in r.stderr, r.stderr
    assert r.returncode == 0, f"exit {r.returncode}:\n{r.stderr[-2000:]}"
