"""macOS step: sign Findling.app (optional), build a .dmg, notarise it (optional).

Needs macOS with the Xcode command-line tools (codesign, hdiutil, xcrun).

Environment:

* ``FINDLING_CODESIGN_IDENTITY``: a "Developer ID Application: ..." identity. Without it the
  app stays unsigned (ad-hoc signed by PyInstaller), which is fine for local testing; users
  then have to right-click > Open on first launch.
* ``FINDLING_NOTARY_PROFILE``: a keychain profile created with
  ``xcrun notarytool store-credentials``. With it (and an identity) the .dmg is notarised and
  the ticket stapled.
* ``FINDLING_MAC_TRAY_ONLY=1`` (read by the spec through :func:`info_plist`): sets
  ``LSUIElement``, so Findling lives in the menu bar only, with no Dock icon.

Run by packaging/build.py; usable alone:
``python packaging/macos/package.py dist/Findling.app 0.1.0``.

SPDX-License-Identifier: AGPL-3.0-or-later
"""

from __future__ import annotations

import argparse
import os
import platform
import plistlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ENTITLEMENTS = HERE / "entitlements.plist"
INFO_PLIST = HERE / "Info.plist"
BUNDLE_ID = "io.findling.Findling"


def info_plist(version: str, tray_only: bool | None = None) -> dict[str, object]:
    """Info.plist's contents for ``version``; ``tray_only`` (default: $FINDLING_MAC_TRAY_ONLY)
    sets LSUIElement (menu-bar app without a Dock icon)."""
    with INFO_PLIST.open("rb") as fh:
        info: dict[str, object] = plistlib.load(fh)
    if tray_only is None:
        tray_only = os.environ.get("FINDLING_MAC_TRAY_ONLY") == "1"
    info.update(
        {
            "CFBundleIdentifier": BUNDLE_ID,
            "CFBundleShortVersionString": version,
            "CFBundleVersion": version,
            "CFBundleExecutable": "Findling",
            "LSUIElement": bool(tray_only),
        }
    )
    return info


MACHO_MAGIC = {
    b"\xfe\xed\xfa\xce",
    b"\xce\xfa\xed\xfe",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\xbe\xba\xfe\xca",  # universal binaries
}


def run(*cmd: str) -> None:
    print("+", " ".join(cmd))
    subprocess.run(cmd, check=True)


def is_macho(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(4) in MACHO_MAGIC


def sign_app(app: Path, identity: str) -> None:
    """Sign every Mach-O file inside-out, then the bundle, with the hardened runtime."""
    base = ["codesign", "--force", "--timestamp", "--options", "runtime", "--sign", identity]
    main_exes = {app / "Contents" / "MacOS" / name for name in ("Findling", "findling-cli")}
    nested = sorted(
        (p for p in app.rglob("*") if is_macho(p) and p not in main_exes),
        key=lambda p: len(p.parts),
        reverse=True,
    )
    for path in nested:
        run(*base, str(path))
    for exe in sorted(main_exes):
        if exe.exists():
            run(*base, "--entitlements", str(ENTITLEMENTS), str(exe))
    run(*base, "--entitlements", str(ENTITLEMENTS), str(app))
    run("codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app))


def make_dmg(app: Path, out: Path, version: str) -> Path:
    """A compressed disk image with the app, a link to /Applications and the licence."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "Findling"
        stage.mkdir()
        # ditto keeps symlinks, extended attributes and signatures intact.
        run("ditto", str(app), str(stage / app.name))
        (stage / "Applications").symlink_to("/Applications")
        shutil.copy2(ROOT / "LICENSE", stage / "LICENSE.txt")
        run(
            "hdiutil",
            "create",
            "-volname",
            f"Findling {version}",
            "-srcfolder",
            str(stage),
            "-fs",
            "HFS+",
            "-format",
            "UDZO",
            "-ov",
            str(out),
        )
    return out


def notarise(dmg: Path, profile: str) -> None:
    run("xcrun", "notarytool", "submit", str(dmg), "--keychain-profile", profile, "--wait")
    run("xcrun", "stapler", "staple", str(dmg))


def package(app: Path, version: str, dist: Path) -> list[Path]:
    if sys.platform != "darwin":
        raise SystemExit("error: the macOS step needs macOS (codesign, hdiutil)")
    identity = os.environ.get("FINDLING_CODESIGN_IDENTITY")
    if identity:
        sign_app(app, identity)
    else:
        print("FINDLING_CODESIGN_IDENTITY not set: app left unsigned (ad-hoc)")
    arch = platform.machine() or "arm64"
    dmg = make_dmg(app, dist / f"Findling-{version}-macos-{arch}.dmg", version)
    if identity:
        run("codesign", "--force", "--timestamp", "--sign", identity, str(dmg))
        profile = os.environ.get("FINDLING_NOTARY_PROFILE")
        if profile:
            notarise(dmg, profile)
        else:
            print("FINDLING_NOTARY_PROFILE not set: .dmg not notarised")
    return [dmg]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", type=Path, help="the PyInstaller bundle, e.g. dist/Findling.app")
    parser.add_argument("version")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    for path in package(args.app.resolve(), args.version, args.dist):
        print(f"made {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
