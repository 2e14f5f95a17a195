"""An X server for the tests that need a real one (the global shortcut, two processes).

CI runs as root on Debian with no display: the packages are installed there when missing
(scripts/setup.sh installs them too). Elsewhere, without Xvfb, the tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

PACKAGES = [
    "xvfb",
    "xdotool",
    "libx11-6",
    "libxtst6",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libxcb-render-util0",
    "libxcb-image0",
    "libxcb-xkb1",
    "libegl1",
    "libgl1",
    "libfontconfig1",
    "libdbus-1-3",
]


def _missing() -> list[str]:
    """The packages above that dpkg does not list as installed (all of them without dpkg)."""
    if not shutil.which("dpkg-query"):
        return [] if shutil.which("Xvfb") and shutil.which("xdotool") else list(PACKAGES)
    r = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *PACKAGES],
        capture_output=True,
        text=True,
    )
    installed = {ln.split()[0] for ln in r.stdout.splitlines() if ln.endswith(" installed")}
    return [p for p in PACKAGES if p not in installed]


def _install() -> str | None:
    """Install Xvfb, xdotool and the Qt xcb plugin's libraries when root on Debian; returns why
    not, or None. Xvfb alone is not enough: without e.g. libxcb-cursor0 Qt cannot open a window."""
    if not _missing():
        return None
    if shutil.which("Xvfb") and shutil.which("xdotool") and os.name == "posix" and os.geteuid():
        return None  # not root: use what is there and let Qt say what it lacks
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return "Xvfb/xdotool are not installed and this is not root on Debian (apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in range(3):
        cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if r.returncode != 0 and attempt == 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=900)
        if not _missing():
            return None
        time.sleep(5)  # perhaps another dpkg holds the lock
    return f"apt-get could not install Xvfb: {r.stderr[-300:]}"


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[str]:
    """A fresh Xvfb server's DISPLAY (e.g. ``:5``), stopped at the end of the session."""
    why = _install()
    if why:
        pytest.skip(f"no X server can be had: {why}")
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    number = b""
    deadline = time.monotonic() + 30
    while not number.endswith(b"\n") and time.monotonic() < deadline:
        chunk = os.read(read, 16)
        if not chunk:
            break
        number += chunk
    os.close(read)
    if not number.strip():
        proc.kill()
        pytest.fail("Xvfb did not start")
    display = ":" + number.decode().strip()
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(10)


def xdotool(display: str, *args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run xdotool against ``display``."""
    return subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def visible_window(display: str, title: str) -> bool:
    """Whether a mapped window called exactly ``title`` exists."""
    r = xdotool(display, "search", "--onlyvisible", "--name", f"^{title}$")
    return r.returncode == 0 and bool(r.stdout.strip())


def has_focus(display: str, title: str) -> bool:
    """Whether the mapped window called exactly ``title`` has the keyboard focus."""
    r = xdotool(display, "search", "--onlyvisible", "--name", f"^{title}$")
    focus = xdotool(display, "getwindowfocus", "-f")
    return r.returncode == 0 and focus.stdout.strip() in r.stdout.split()


def wait_for(predicate, timeout: float = 60.0, every: float = 0.2) -> bool:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it holds or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False
