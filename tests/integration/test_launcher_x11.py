"""The global shortcut and the single instance under a real X server (Xvfb, XTest via xdotool)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.hotkey import HotkeyTaken, parse
from app.hotkey.x11 import X11Hotkey
from tests.conftest import ROOT
from tests.xvfb import has_focus, visible_window, wait_for, xdisplay, xdotool

__all__ = ["xdisplay"]  # the fixture
pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

POPUP = "Findling Quick Search"


def test_x11_backend_grabs_ctrl_space_for_real(xdisplay: str) -> None:
    b = X11Hotkey(xdisplay)
    pressed: list[int] = []
    b.register(parse("Ctrl+Space"), lambda: pressed.append(1))
    try:
        assert xdotool(xdisplay, "key", "ctrl+space").returncode == 0  # XTest
        assert wait_for(lambda: b.dispatch() > 0 or bool(pressed), timeout=10)
        assert pressed
        xdotool(xdisplay, "key", "ctrl+a")  # another combination is not ours
        time.sleep(0.3)
        assert b.dispatch() == 0
        other = X11Hotkey(xdisplay)  # another client: the server answers BadAccess
        with pytest.raises(HotkeyTaken, match="Ctrl\\+Space is already used"):
            other.register(parse("Ctrl+Space"), lambda: None)
        other.close()
    finally:
        b.close()
    again = X11Hotkey(xdisplay)  # released: free for others
    again.register(parse("Ctrl+Space"), lambda: None)
    again.close()


def _gui(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.gui.main", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.gui
def test_hotkey_and_second_process_show_the_running_popup(xdisplay: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.toml").write_text(
        'schema = 1\nhotkey = "Ctrl+Space"\n[ui]\nwelcomed = true\n', encoding="utf-8"
    )
    env = {
        **os.environ,
        "FINDLING_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "DISPLAY": xdisplay,
        "QT_QPA_PLATFORM": "xcb",
    }
    env.pop("WAYLAND_DISPLAY", None)
    first = _gui(env)
    try:
        assert wait_for(lambda: visible_window(xdisplay, "Findling"), 90), "window never showed"
        assert not visible_window(xdisplay, POPUP)
        # the shortcut is grabbed once the window is up; press it until the popup shows
        assert wait_for(
            lambda: (
                xdotool(xdisplay, "key", "ctrl+space").returncode == 0
                and wait_for(lambda: visible_window(xdisplay, POPUP), 2)
            ),
            60,
        ), "Ctrl+Space did not show the popup"
        # A person types into the popup once it is there: it must take the keyboard focus (on a
        # loaded machine that comes a moment after the window is mapped).
        assert wait_for(lambda: has_focus(xdisplay, POPUP), 20), "the popup took no focus"
        xdotool(xdisplay, "key", "Escape")
        assert wait_for(lambda: not visible_window(xdisplay, POPUP), 20), "Esc did not hide it"

        second = subprocess.run(
            [sys.executable, "-m", "app.gui.main", "--launcher"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stdout + second.stderr
        assert wait_for(lambda: visible_window(xdisplay, POPUP), 20), "--launcher did not show it"
        assert first.poll() is None  # the first one keeps running

        third = subprocess.run(
            [sys.executable, "-m", "app.gui.main"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert third.returncode == 0, third.stdout + third.stderr
        assert first.poll() is None
    finally:
        first.terminate()
        try:
            out, _ = first.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            first.kill()
            out, _ = first.communicate()
        print(out[-3000:])
