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
* ``dist/findling_<version>_<debarch>.deb``: built with ``dpkg-deb`` when it is installed. Files
  under /opt/findling, links in /usr/bin, the menu entry, AppStream metainfo, icons and a
  ``Depends:`` line worked out from the libraries the bundle's ELF files need and do not carry
  (the Qt xcb platform plugin's libxcb-*, libxkbcommon, fontconfig, ...), mapped to Debian
  packages with ``dpkg -S``.
* ``dist/Findling-<version>-<arch>.AppImage``: made when ``appimagetool`` is on PATH (or named
  by ``$APPIMAGETOOL``); skipped with a message otherwise (never downloaded). An appimagetool
  that is there but fails stops the build with an ``error:`` line and exit code 1.

Run by packaging/build.py; usable alone: ``python packaging/linux/package.py dist/Findling 0.1.0``.

SPDX-License-Identifier: AGPL-3.0-or-later
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
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


# ----------------------------------------------------------------------------- Debian package

DEB_NAME = "findling"
MAINTAINER = "The Findling developers <findling@users.noreply.github.com>"
HOMEPAGE = "https://github.com/findling/findling"
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "i686": "i386"}
# Never listed in Depends: provided by the bundle's own loader, or by libc6 itself.
# Libraries that only optional Qt plugins need (Wayland: Qt falls back to xcb without them),
# with their Debian packages, for when the build machine does not have them installed.
RECOMMENDED = {
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
# The Qt xcb platform plugin's system libraries and their Debian packages: used when the
# build machine lacks one (dpkg -S finds nothing), so Depends stays complete.
KNOWN_PACKAGES = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
}
LIBC_SONAMES = re.compile(r"^(libc|libm|libdl|libpthread|librt|libutil|ld-linux.*)\.so")


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def needed_sonames(tree: Path) -> tuple[set[str], set[str]]:
    """(sonames the ELF files under ``tree`` need, sonames the tree itself provides)."""
    needed: set[str] = set()
    provided: set[str] = set()
    for path in tree.rglob("*"):
        if path.is_symlink() or not path.is_file() or not is_elf(path):
            continue
        provided.add(path.name)
        out = subprocess.run(
            ["objdump", "-p", str(path)], capture_output=True, text=True, check=False
        ).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "NEEDED":
                needed.add(parts[1])
            elif len(parts) == 2 and parts[0] == "SONAME":
                provided.add(parts[1])
    return needed, provided


def system_library_paths() -> dict[str, str]:
    """soname -> path for this machine's libraries (``ldconfig -p``), native arch first."""
    out = subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=False
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and ("x86-64" in m.group(2) or "64" in m.group(2) or not found.get(m.group(1))):
            found.setdefault(m.group(1), m.group(3))
    return found


def owning_package(path: str) -> str | None:
    """The Debian package that installed ``path`` (``dpkg -S``), without its :arch suffix."""
    for candidate in (path, os.path.realpath(path)):
        r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if r.returncode == 0 and r.stdout:
            return r.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def glibc_version() -> str:
    return platform.libc_ver()[1] or "2.31"


def deb_depends(tree: Path) -> tuple[list[str], list[str], list[str]]:
    """(Depends, Recommends, sonames that no installed package provides)."""
    needed, provided = needed_sonames(tree)
    libs = system_library_paths()
    packages = {f"libc6 (>= {glibc_version()})"}
    missing = []
    recommends = set()
    for soname in sorted(needed - provided):
        if LIBC_SONAMES.match(soname):
            continue
        if soname in RECOMMENDED:
            recommends.add(RECOMMENDED[soname])
            continue
        path = libs.get(soname)
        pkg = (owning_package(path) if path else None) or KNOWN_PACKAGES.get(soname)
        if pkg is None:
            missing.append(soname)
        elif pkg != "libc6":
            packages.add(pkg)
    return sorted(packages), sorted(recommends), missing


def installed_size_kib(tree: Path) -> int:
    return (
        sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
        + 1
    )


COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Findling
Source: {homepage}

Files: *
Copyright: 2026 The Findling developers
License: AGPL-3.0-or-later
 Findling is free software: you can redistribute it and/or modify it under the terms of
 the GNU Affero General Public License as published by the Free Software Foundation,
 either version 3 of the License, or (at your option) any later version.
 .
 The full text is in /opt/findling/LICENSE. The bundled third-party components and their
 licences are listed in /opt/findling/THIRD_PARTY_NOTICES.md; the licence files of every
 bundled Python distribution are in its .dist-info folder under /opt/findling/_internal.
"""


def deb_mode(path: Path) -> int:
    """Debian's modes: 0755 for folders, ELF executables and scripts that were executable;
    0644 for shared libraries and every other file (wheels ship some text files with x bits,
    such as protobuf's .dist-info files)."""
    if path.is_dir():
        return 0o755
    if path.suffix == ".so" or ".so." in path.name:
        return 0o644
    if is_elf(path):
        return 0o755
    with path.open("rb") as fh:
        script = fh.read(2) == b"#!"
    return 0o755 if script and os.access(path, os.X_OK) else 0o644


def make_deb(appdir: Path, out: Path, version: str, arch: str, work: Path) -> Path | None:
    """Build ``out`` with dpkg-deb from ``appdir``; None (with a message) without dpkg-deb."""
    if not shutil.which("dpkg-deb"):
        print("dpkg-deb not found (apt-get install dpkg): Debian package skipped")
        return None
    root = work / "deb-root"
    if root.exists():
        shutil.rmtree(root)
    opt = root / "opt" / "findling"
    opt.parent.mkdir(parents=True)
    shutil.copytree(appdir / "usr" / "lib" / "findling", opt, symlinks=True)
    bindir = root / "usr" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "findling").symlink_to("/opt/findling/findling")
    (bindir / "findling-gui").symlink_to("/opt/findling/Findling")
    shutil.copytree(appdir / "usr" / "share", root / "usr" / "share", symlinks=True)
    doc = root / "usr" / "share" / "doc" / DEB_NAME
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT.format(homepage=HOMEPAGE), encoding="utf-8")
    changelog = (
        f"{DEB_NAME} ({version}) unstable; urgency=medium\n\n"
        f"  * Release {version}.\n\n -- {MAINTAINER}  Thu, 01 Jan 2026 00:00:00 +0000\n"
    )
    with gzip.GzipFile(doc / "changelog.gz", "wb", mtime=0, compresslevel=9) as fh:
        fh.write(changelog.encode())
    man1 = root / "usr" / "share" / "man" / "man1"
    man1.mkdir(parents=True)
    for page in sorted((HERE / "man").glob("*.1")):  # findling.1, findling-gui.1
        with gzip.GzipFile(man1 / f"{page.name}.gz", "wb", mtime=0, compresslevel=9) as fh:
            fh.write(page.read_bytes())
    overrides = root / "usr" / "share" / "lintian" / "overrides"
    overrides.mkdir(parents=True)
    shutil.copyfile(HERE / "lintian-overrides", overrides / DEB_NAME)
    depends, recommends, missing = deb_depends(opt)
    if missing:
        print(f"warning: no Debian package provides {', '.join(missing)} (left out of Depends)")
    control = root / "DEBIAN"
    control.mkdir()
    (control / "control").write_text(
        f"Package: {DEB_NAME}\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_size_kib(root)}\n"
        f"Depends: {', '.join(depends)}\n"
        f"Recommends: {', '.join(recommends)}\n"
        "Section: utils\n"
        "Priority: optional\n"
        f"Homepage: {HOMEPAGE}\n"
        "Description: search and question your own files, entirely offline\n"
        " Findling indexes the folders you choose (PDF, EPUB, DOCX, OpenDocument, HTML,\n"
        " Markdown, text) and lets you search them and ask questions about them with a\n"
        " small local language model. Nothing leaves the computer.\n"
        " .\n"
        " This package is a self-contained build: Python, Qt and the models are inside\n"
        " /opt/findling.\n",
        encoding="utf-8",
    )
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(deb_mode(path))
    for exe in ("Findling", "findling"):
        (opt / exe).chmod(0o755)
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(root), str(out)],
        check=True,
    )
    return out


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
    """Run appimagetool if it is available; return the AppImage, or None when it is not.

    An appimagetool that cannot run or fails raises ``SystemExit`` with a one-line message
    (exit code 1, no traceback), after the tarball and .deb were made."""
    tool = os.environ.get("APPIMAGETOOL") or shutil.which("appimagetool")
    if not tool:
        print("appimagetool not found (set APPIMAGETOOL or put it on PATH): AppImage skipped")
        return None
    env = {**os.environ, "ARCH": arch}
    cmd = [tool, str(appdir), str(out)]
    print("+", " ".join(cmd), flush=True)
    hint = (
        "the tarball and the .deb are made; fix appimagetool, or build without an AppImage "
        "by taking it off PATH and unsetting APPIMAGETOOL"
    )
    try:
        result = subprocess.run(cmd, env=env, check=False)
    except OSError as exc:  # not executable, not found at $APPIMAGETOOL, wrong architecture
        raise SystemExit(f"error: cannot run appimagetool {tool}: {exc}; {hint}") from None
    if result.returncode != 0:
        out.unlink(missing_ok=True)  # never leave a half-written AppImage in dist/
        how = (
            f"was killed by signal {-result.returncode}"
            if result.returncode < 0
            else f"failed with exit code {result.returncode}"
        )
        raise SystemExit(f"error: appimagetool ({tool}) {how}: AppImage not made; {hint}")
    if not out.is_file():
        raise SystemExit(f"error: appimagetool ({tool}) exited 0 but made no {out}; {hint}")
    return out


def package(onedir: Path, version: str, dist: Path, build: Path) -> list[Path]:
    arch = platform.machine() or "x86_64"
    appdir = make_appdir(onedir, build / "Findling.AppDir")
    made = [
        make_tarball(
            appdir, dist / f"findling-{version}-linux-{arch}.tar.gz", f"findling-{version}"
        )
    ]
    debarch = DEB_ARCH.get(arch, arch)
    deb = make_deb(appdir, dist / f"{DEB_NAME}_{version}_{debarch}.deb", version, debarch, build)
    if deb:
        made.append(deb)
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
