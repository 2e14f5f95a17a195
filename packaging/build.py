#!/usr/bin/env python3
"""Build Findling's installable package for the current OS. One entry point for all three.

    python packaging/build.py [--clean] [--skip-pyinstaller] [--no-installer] [--no-smoke-test]

Steps:

1. PyInstaller with ``packaging/findling.spec`` -> ``dist/Findling/`` (Linux, Windows) or
   ``dist/Findling.app`` (macOS): one folder with the desktop app and the command-line tool.
2. A smoke test: the frozen command-line tool must start and print its ``--help``.
3. The platform step:
   * Linux:   ``packaging/linux/package.py``   -> tar.gz, .deb (+ AppImage when appimagetool
     exists)
   * macOS:   ``packaging/macos/package.py``   -> .dmg (signed/notarised when configured)
   * Windows: ``packaging/windows/package.py`` -> Inno Setup installer (.exe)

A failing step ends the build with one ``error:`` line on stderr and exit code 1 (no traceback).

Run it with the Python of the environment that has Findling and its dependencies installed
(``scripts/setup.sh`` on Linux) plus PyInstaller (``pip install pyinstaller``). PyInstaller
does not cross-compile: build each OS's package on that OS.

SPDX-License-Identifier: AGPL-3.0-or-later
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
SPEC = HERE / "findling.spec"


def version() -> str:
    env = os.environ.get("FINDLING_VERSION")
    if env:
        return env
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def load_step(name: str) -> ModuleType:
    """Import packaging/<name>/package.py by path (``packaging`` is not a Python package)."""
    path = HERE / name / "package.py"
    spec = importlib.util.spec_from_file_location(f"findling_packaging_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PYINSTALLER_REQ = "pyinstaller>=6.10,<7"


def ensure_pyinstaller() -> None:
    """Install PyInstaller into this environment when it is missing (a build-only tool)."""
    if importlib.util.find_spec("PyInstaller") is not None:
        return
    print(f"+ pip install {PYINSTALLER_REQ} (PyInstaller is not installed here)", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", PYINSTALLER_REQ], check=True)
    importlib.invalidate_caches()


def run_pyinstaller(ver: str, clean: bool) -> None:
    ensure_pyinstaller()
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(BUILD / "pyinstaller"),
        str(SPEC),
    ]
    if clean:
        cmd.insert(3, "--clean")
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, "FINDLING_VERSION": ver})


def cli_path() -> Path:
    if sys.platform == "darwin":
        return DIST / "Findling.app" / "Contents" / "MacOS" / "findling-cli"
    if sys.platform == "win32":
        return DIST / "Findling" / "findling-cli.exe"
    return DIST / "Findling" / "findling"


def smoke_test() -> None:
    """The frozen CLI must start: catches missing modules and libraries early."""
    exe = cli_path()
    print(f"+ {exe} --help", flush=True)
    # A throw-away home, so the test never touches the builder's own Findling data.
    home = BUILD / "smoke-home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "FINDLING_HOME": str(home)}
    result = subprocess.run(
        [str(exe), "--help"], env=env, capture_output=True, text=True, timeout=180
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"error: smoke test failed: {exe} --help exited {result.returncode}")


def has_debug_info(path: Path) -> bool:
    """Whether the ELF file ``path`` carries DWARF debug sections."""
    with path.open("rb") as fh:
        if fh.read(4) != b"\x7fELF":
            return False
    out = subprocess.run(
        ["readelf", "-S", "-W", str(path)], capture_output=True, text=True, check=False
    ).stdout
    return ".debug_info" in out


def strip_debug(onedir: Path) -> int:
    """``strip --strip-debug`` every ELF file with debug sections; returns the bytes saved.

    Libraries in ``*.libs`` folders were rewritten by auditwheel/patchelf when their wheel was
    built; strip can break their program headers (NumPy's OpenBLAS then fails to load), so
    they are left alone.
    """
    if not sys.platform.startswith("linux") or not shutil.which("strip"):
        return 0
    saved = 0
    for path in sorted(onedir.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if any(part.endswith(".libs") for part in path.parts) or not has_debug_info(path):
            continue
        before = path.stat().st_size
        subprocess.run(["strip", "--strip-debug", str(path)], check=True)
        saved += before - path.stat().st_size
    print(f"stripped debug sections: {saved / 2**20:.1f} MiB saved", flush=True)
    return saved


def add_licences() -> None:
    """Put LICENSE and the notices beside the executables (the .app has them in Resources)."""
    if sys.platform == "darwin":
        return
    for name in ("LICENSE", "THIRD_PARTY_NOTICES.md"):
        shutil.copy2(ROOT / name, DIST / "Findling" / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--clean", action="store_true", help="empty PyInstaller's cache and the build folder first"
    )
    parser.add_argument(
        "--skip-pyinstaller",
        action="store_true",
        help="reuse the existing dist/ output and only run the platform step",
    )
    parser.add_argument(
        "--no-installer",
        action="store_true",
        help="stop after PyInstaller (no tarball/AppImage/dmg/setup.exe)",
    )
    parser.add_argument(
        "--no-smoke-test",
        action="store_true",
        help="do not run the frozen CLI's --help after building",
    )
    args = parser.parse_args(argv)
    try:
        return build(args)
    except subprocess.CalledProcessError as exc:  # PyInstaller, strip, dpkg-deb ...: no traceback
        cmd = exc.cmd if isinstance(exc.cmd, str) else shlex.join(str(c) for c in exc.cmd)
        print(f"error: {cmd} failed with exit code {exc.returncode}", file=sys.stderr)
        return 1


def build(args: argparse.Namespace) -> int:
    """The steps of :func:`main`. A failing step raises ``SystemExit("error: ...")`` (exit 1)."""
    ver = version()
    print(f"Building Findling {ver} for {sys.platform}")

    if not args.skip_pyinstaller:
        if args.clean:
            shutil.rmtree(BUILD, ignore_errors=True)
        run_pyinstaller(ver, args.clean)
        strip_debug(DIST / "Findling")
        add_licences()
        if not args.no_smoke_test:
            smoke_test()
    if args.no_installer:
        return 0

    if sys.platform == "darwin":
        made = load_step("macos").package(DIST / "Findling.app", ver, DIST)
    elif sys.platform == "win32":
        made = load_step("windows").package(DIST / "Findling", ver, DIST)
    else:
        made = load_step("linux").package(DIST / "Findling", ver, DIST, BUILD / "linux")
    for path in made:
        print(f"made {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
