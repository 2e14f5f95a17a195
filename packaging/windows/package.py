"""Windows step: compile the Inno Setup installer from the PyInstaller onedir build.

Needs Inno Setup 6.3 or later (https://jrsoftware.org/isinfo.php). ISCC.exe is looked up in
``$ISCC``, on PATH, then in the default install folders.

Run by packaging/build.py; usable alone:
``python packaging\\windows\\package.py dist\\Findling 0.1.0``.

SPDX-License-Identifier: AGPL-3.0-or-later
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRIPT = HERE / "findling.iss"


def find_iscc() -> str:
    candidates = [os.environ.get("ISCC"), shutil.which("iscc"), shutil.which("ISCC")]
    for var in ("ProgramFiles(x86)", "ProgramFiles", "LOCALAPPDATA"):
        base = os.environ.get(var)
        if base:
            sub = "Programs/Inno Setup 6" if var == "LOCALAPPDATA" else "Inno Setup 6"
            candidates.append(str(Path(base) / sub / "ISCC.exe"))
    for path in candidates:
        if path and Path(path).is_file():
            return path
    raise SystemExit("error: Inno Setup's ISCC.exe not found; install Inno Setup 6 or set ISCC")


def package(onedir: Path, version: str, dist: Path) -> list[Path]:
    for exe in ("Findling.exe", "findling-cli.exe"):
        if not (onedir / exe).is_file():
            raise SystemExit(f"error: {onedir / exe} is missing; run PyInstaller first")
    dist.mkdir(parents=True, exist_ok=True)
    cmd = [
        find_iscc(),
        f"/DAppVersion={version}",
        f"/DSourceDir={onedir}",
        f"/DOutputDir={dist.resolve()}",
        str(SCRIPT),
    ]
    print("+", " ".join(cmd))
    subprocess.run(cmd, check=True)
    return [dist / f"Findling-{version}-windows-x64-setup.exe"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("onedir", type=Path, help="PyInstaller output, e.g. dist\\Findling")
    parser.add_argument("version")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    for path in package(args.onedir.resolve(), args.version, args.dist):
        print(f"made {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
