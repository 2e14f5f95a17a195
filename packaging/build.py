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
import re
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


def readelf(path: Path) -> str:
    """``readelf -S -d`` of ``path`` (its sections and dynamic entries); "" if not ELF."""
    with path.open("rb") as fh:
        if fh.read(4) != b"\x7fELF":
            return ""
    return subprocess.run(
        ["readelf", "-S", "-d", "-W", str(path)], capture_output=True, text=True, check=False
    ).stdout


def foreign_search_path(info: str) -> str | None:
    """The RPATH/RUNPATH in ``info`` when none of its folders is inside the bundle."""
    for m in re.finditer(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]", info):
        if "$ORIGIN" not in m.group(1):
            return m.group(1)
    return None


def strip_binaries(onedir: Path) -> int:
    """Strip the bundle's ELF files as Debian's dh_strip would; returns the bytes saved.

    Shared libraries and extension modules lose their debug sections and symbol tables
    (``strip --strip-unneeded``: the dynamic symbols stay); other ELF files only their debug
    sections. A search path that points only outside the bundle (the build machine's Python,
    ``/root/.pyenv/.../lib``; ``/usr/local/lib64``) is deleted with ``chrpath -d``: on a user's
    machine it could load a different library. Left alone: the two top-level executables
    (PyInstaller's bootloader, which finds its archive in its own file) and libraries in
    ``*.libs`` folders, rewritten by auditwheel/patchelf when their wheel was built: strip can
    break their program headers (NumPy's OpenBLAS then fails to load).
    """
    if not sys.platform.startswith("linux") or not shutil.which("strip"):
        return 0
    chrpath = shutil.which("chrpath")
    if not chrpath:
        print("chrpath not found (apt-get install chrpath): build-machine RUNPATHs kept")
    saved = dropped = 0
    for path in sorted(onedir.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.parent == onedir:
            continue
        if any(part.endswith(".libs") for part in path.parts):
            continue
        info = readelf(path)
        if not info:
            continue
        if chrpath and foreign_search_path(info):
            subprocess.run([chrpath, "-d", str(path)], check=True, capture_output=True)
            dropped += 1
        library = path.suffix == ".so" or ".so." in path.name
        if library and (" .symtab " in info or " .debug_info " in info):
            flag = "--strip-unneeded"
        elif " .debug_info " in info:
            flag = "--strip-debug"
        else:
            continue
        before = path.stat().st_size
        subprocess.run(["strip", flag, str(path)], check=True)
        saved += before - path.stat().st_size
    print(f"stripped debug sections and symbol tables: {saved / 2**20:.1f} MiB saved", flush=True)
    print(f"deleted search paths outside the bundle from {dropped} files", flush=True)
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
        strip_binaries(DIST / "Findling")
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
