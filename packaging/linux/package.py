"""Linux step: turn the PyInstaller onedir build into a tarball and, if possible, an AppImage.

Both are made from one AppDir laid out like an installed application::

    AppRun                                        (AppImage entry point)
    io.findling.Findling.desktop, .png, .DirIcon  (what appimagetool expects at the top)
    usr/lib/findling/                             (the PyInstaller build: Findling, findling)
    usr/bin/findling, usr/bin/findling-gui        (relative links into usr/lib/findling)
    usr/share/applications/io.findling.Findling.desktop
    usr/share/metainfo/io.findling.Findling.metainfo.xml
    usr/share/icons/hicolor/<N>x<N>/apps/io.findling.Findling.png, scalable/apps/....svg

* ``dist/findling-<version>-linux-<arch>.tar.gz``: the AppDir plus ``install.sh`` (per-user
  install into ~/.local by default). Always made.
* ``dist/Findling-<version>-<arch>.AppImage``: made when ``appimagetool`` is on PATH (or named
  by ``$APPIMAGETOOL``); skipped with a message otherwise.

Run by packaging/build.py; usable alone: ``python packaging/linux/package.py dist/Findling 0.1.0``.

SPDX-License-Identifier: AGPL-3.0-or-later
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RES = ROOT / "resources"
APP_ID = "io.findling.Findling"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def make_appdir(onedir: Path, appdir: Path) -> Path:
    """Lay out ``appdir`` from the PyInstaller output folder ``onedir``."""
    for exe in ("Findling", "findling"):
        if not (onedir / exe).is_file():
            raise SystemExit(f"error: {onedir / exe} is missing; run PyInstaller first")
    if appdir.exists():
        shutil.rmtree(appdir)
    lib = appdir / "usr" / "lib" / "findling"
    shutil.copytree(onedir, lib, symlinks=True)
    for name in ("LICENSE", "THIRD_PARTY_NOTICES.md"):
        shutil.copy2(ROOT / name, lib / name)

    bindir = appdir / "usr" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "findling").symlink_to("../lib/findling/findling")
    (bindir / "findling-gui").symlink_to("../lib/findling/Findling")

    share = appdir / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    (share / "metainfo").mkdir(parents=True)
    desktop = RES / "linux" / f"{APP_ID}.desktop"
    shutil.copy2(desktop, share / "applications" / desktop.name)
    shutil.copy2(RES / "linux" / f"{APP_ID}.metainfo.xml", share / "metainfo")
    hicolor = share / "icons" / "hicolor"
    for size in ICON_SIZES:
        dest = hicolor / f"{size}x{size}" / "apps"
        dest.mkdir(parents=True)
        shutil.copy2(RES / "icons" / "png" / f"findling-{size}.png", dest / f"{APP_ID}.png")
    (hicolor / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(RES / "icons" / "findling.svg", hicolor / "scalable" / "apps" / f"{APP_ID}.svg")

    # Top-level files that the AppImage runtime and appimagetool look for.
    shutil.copy2(HERE / "AppRun", appdir / "AppRun")
    (appdir / "AppRun").chmod(0o755)
    shutil.copy2(desktop, appdir / desktop.name)
    shutil.copy2(RES / "icons" / "png" / "findling-256.png", appdir / f"{APP_ID}.png")
    (appdir / ".DirIcon").symlink_to(f"{APP_ID}.png")
    return appdir


def make_tarball(appdir: Path, out: Path, top: str) -> Path:
    """``out`` (.tar.gz) holding ``appdir``'s ``usr/`` tree and install.sh under ``top/``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        tar.add(appdir / "usr", arcname=f"{top}/usr")
        tar.add(HERE / "install.sh", arcname=f"{top}/install.sh")
        tar.add(ROOT / "LICENSE", arcname=f"{top}/LICENSE")
        tar.add(ROOT / "THIRD_PARTY_NOTICES.md", arcname=f"{top}/THIRD_PARTY_NOTICES.md")
    return out


def make_appimage(appdir: Path, out: Path, arch: str) -> Path | None:
    """Run appimagetool if it is available; return the AppImage or None."""
    tool = os.environ.get("APPIMAGETOOL") or shutil.which("appimagetool")
    if not tool:
        print("appimagetool not found (set APPIMAGETOOL or put it on PATH): AppImage skipped")
        return None
    env = {**os.environ, "ARCH": arch}
    subprocess.run([tool, str(appdir), str(out)], check=True, env=env)
    return out


def package(onedir: Path, version: str, dist: Path, build: Path) -> list[Path]:
    arch = platform.machine() or "x86_64"
    appdir = make_appdir(onedir, build / "Findling.AppDir")
    made = [
        make_tarball(
            appdir, dist / f"findling-{version}-linux-{arch}.tar.gz", f"findling-{version}"
        )
    ]
    image = make_appimage(appdir, dist / f"Findling-{version}-{arch}.AppImage", arch)
    if image:
        made.append(image)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("onedir", type=Path, help="PyInstaller output, e.g. dist/Findling")
    parser.add_argument("version")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "linux")
    args = parser.parse_args(argv)
    for path in package(args.onedir.resolve(), args.version, args.dist, args.build):
        print(f"made {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
