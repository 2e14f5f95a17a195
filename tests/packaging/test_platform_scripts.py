"""The macOS and Windows packaging steps, run here with their OS tools replaced.

codesign, hdiutil, ditto, xcrun and ISCC.exe do not exist on Linux: each test swaps the
module's command runner for a recorder and checks the commands, their order and arguments, the
file layout they work on, and the Info.plist / Inno Setup contents.
"""

from __future__ import annotations

import importlib.util
import plistlib
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "packaging"
MACHO = b"\xcf\xfa\xed\xfe" + b"\0" * 60


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"t_{name}", PKG / name / "package.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def macos(monkeypatch):
    mod = load("macos")
    calls: list[list[str]] = []

    def fake_run(*cmd: str) -> None:
        calls.append(list(cmd))
        if cmd[0] == "hdiutil":  # "create" writes the image
            Path(cmd[-1]).write_bytes(b"dmg")
        if cmd[0] == "ditto":  # copies the bundle into the staging folder
            import shutil

            shutil.copytree(cmd[1], cmd[2], symlinks=True)

    monkeypatch.setattr(mod, "run", fake_run)
    monkeypatch.setattr(mod.sys, "platform", "darwin")
    monkeypatch.setattr(mod.platform, "machine", lambda: "arm64")
    mod.calls = calls
    return mod


def fake_app(tmp_path: Path) -> Path:
    app = tmp_path / "Findling.app"
    macos_dir = app / "Contents" / "MacOS"
    frameworks = app / "Contents" / "Frameworks" / "PySide6" / "Qt" / "lib"
    frameworks.mkdir(parents=True)
    macos_dir.mkdir(parents=True)
    for exe in ("Findling", "findling-cli"):
        (macos_dir / exe).write_bytes(MACHO)
    (frameworks / "QtCore").write_bytes(MACHO)
    (app / "Contents" / "Frameworks" / "libllama.dylib").write_bytes(MACHO)
    (app / "Contents" / "Resources").mkdir()
    (app / "Contents" / "Resources" / "LICENSE").write_text("AGPL")  # not Mach-O: not signed
    return app


def test_macos_unsigned_build_makes_only_a_dmg(macos, tmp_path, monkeypatch):
    monkeypatch.delenv("FINDLING_CODESIGN_IDENTITY", raising=False)
    monkeypatch.delenv("FINDLING_NOTARY_PROFILE", raising=False)
    app = fake_app(tmp_path)
    made = macos.package(app, "1.2.3", tmp_path / "dist")
    assert made == [tmp_path / "dist" / "Findling-1.2.3-macos-arm64.dmg"]
    tools = [c[0] for c in macos.calls]
    assert tools == ["ditto", "hdiutil"], "no codesign or notarytool without the env vars"
    hdiutil = macos.calls[1]
    assert hdiutil[1] == "create" and hdiutil[hdiutil.index("-volname") + 1] == "Findling 1.2.3"
    assert hdiutil[hdiutil.index("-format") + 1] == "UDZO"


def test_macos_signing_is_inside_out_and_notarises(macos, tmp_path, monkeypatch):
    monkeypatch.setenv("FINDLING_CODESIGN_IDENTITY", "Developer ID Application: Test (ABC)")
    monkeypatch.setenv("FINDLING_NOTARY_PROFILE", "findling-notary")
    app = fake_app(tmp_path)
    macos.package(app, "1.2.3", tmp_path / "dist")
    signs = [c for c in macos.calls if c[0] == "codesign" and "--sign" in c]
    targets = [Path(c[-1]) for c in signs]
    contents = app / "Contents"
    # Nested libraries first (deepest first), then both executables, then the bundle, then dmg.
    assert targets[:2] == [
        contents / "Frameworks/PySide6/Qt/lib/QtCore",
        contents / "Frameworks/libllama.dylib",
    ]
    assert set(targets[2:4]) == {contents / "MacOS/Findling", contents / "MacOS/findling-cli"}
    assert targets[4] == app and targets[5].suffix == ".dmg"
    assert all("runtime" in c and "Developer ID Application: Test (ABC)" in c for c in signs[:5])
    assert all(str(macos.ENTITLEMENTS) in c for c in signs[2:5])
    assert contents / "Resources/LICENSE" not in targets
    notary = [c for c in macos.calls if c[:3] == ["xcrun", "notarytool", "submit"]]
    assert notary and notary[0][notary[0].index("--keychain-profile") + 1] == "findling-notary"
    assert macos.calls[-1][:3] == ["xcrun", "stapler", "staple"]


def test_macos_info_plist_and_entitlements(monkeypatch):
    mod = load("macos")
    monkeypatch.delenv("FINDLING_MAC_TRAY_ONLY", raising=False)
    info = mod.info_plist("2.0.1")
    assert info["CFBundleIdentifier"] == "io.findling.Findling"
    assert info["CFBundleShortVersionString"] == info["CFBundleVersion"] == "2.0.1"
    assert info["CFBundleExecutable"] == "Findling" and info["CFBundleIconFile"] == "findling.icns"
    assert info["LSUIElement"] is False
    for key in (
        "NSDocumentsFolderUsageDescription",
        "NSDesktopFolderUsageDescription",
        "NSDownloadsFolderUsageDescription",
    ):
        assert info[key]
    monkeypatch.setenv("FINDLING_MAC_TRAY_ONLY", "1")
    assert mod.info_plist("2.0.1")["LSUIElement"] is True
    plistlib.dumps(mod.info_plist("2.0.1"))  # serialisable as a real plist
    with (PKG / "macos" / "entitlements.plist").open("rb") as fh:
        ent = plistlib.load(fh)
    assert not ent.get("com.apple.security.cs.allow-jit")
    assert not ent.get("com.apple.security.cs.disable-library-validation")
    icns = (ROOT / "resources" / "icons" / "findling.icns").read_bytes()
    assert icns[:4] == b"icns" and int.from_bytes(icns[4:8], "big") == len(icns)


def test_macos_step_refuses_other_systems(tmp_path, monkeypatch):
    mod = load("macos")
    monkeypatch.setattr(mod.sys, "platform", "linux")
    with pytest.raises(SystemExit, match="needs macOS"):
        mod.package(fake_app(tmp_path), "1.0", tmp_path)


def test_windows_step_calls_iscc_with_defines(tmp_path, monkeypatch):
    mod = load("windows")
    onedir = tmp_path / "Findling"
    onedir.mkdir()
    for exe in ("Findling.exe", "findling-cli.exe"):
        (onedir / exe).write_bytes(b"MZ")
    iscc = tmp_path / "Inno Setup 6" / "ISCC.exe"
    iscc.parent.mkdir()
    iscc.write_bytes(b"MZ")
    monkeypatch.setenv("ISCC", str(iscc))
    calls = []
    monkeypatch.setattr(mod.subprocess, "run", lambda cmd, check: calls.append(cmd))
    made = mod.package(onedir, "3.1.4", tmp_path / "dist")
    assert made == [tmp_path / "dist" / "Findling-3.1.4-windows-x64-setup.exe"]
    (cmd,) = calls
    assert cmd[0] == str(iscc) and cmd[-1] == str(mod.SCRIPT)
    assert "/DAppVersion=3.1.4" in cmd and f"/DSourceDir={onedir}" in cmd
    # A missing executable stops before Inno Setup runs.
    (onedir / "findling-cli.exe").unlink()
    with pytest.raises(SystemExit, match=r"findling-cli\.exe"):
        mod.package(onedir, "3.1.4", tmp_path / "dist")
    assert len(calls) == 1


def test_windows_no_iscc_is_a_clear_error(monkeypatch, tmp_path):
    mod = load("windows")
    for var in ("ISCC", "ProgramFiles(x86)", "ProgramFiles", "LOCALAPPDATA"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(mod.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="Inno Setup"):
        mod.find_iscc()


def iss_sections() -> dict[str, list[str]]:
    text = (PKG / "windows" / "findling.iss").read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        m = re.match(r"^\[(\w+)\]\s*$", line)
        if m:
            current = m.group(1)
            continue
        if line.strip() and not line.startswith(";"):
            sections.setdefault(current, []).append(line)
    return sections


def test_inno_setup_script_per_user_start_menu_autostart_keeps_data():
    s = iss_sections()
    setup = dict(line.split("=", 1) for line in s["Setup"])
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"].startswith("{autopf}")
    assert setup["OutputBaseFilename"] == "Findling-{#AppVersion}-windows-x64-setup"
    assert any(ln.startswith('Name: "{autoprograms}\\{#AppName}"') for ln in s["Icons"])
    autostart = next(ln for ln in s["Tasks"] if ln.startswith('Name: "autostart"'))
    assert "Flags: unchecked" in autostart
    (reg,) = s["Registry"]
    # The same entry app/autostart.py writes: HKCU Run, value "Findling", the exe with --tray.
    from app import autostart

    assert "Root: HKCU" in reg and 'ValueName: "{#AppName}"' in reg and "--tray" in reg
    assert f'#define RunKey "{autostart.RUN_KEY}"' in s[""]
    assert autostart.RUN_VALUE == "Findling"
    code = "\n".join(s["Code"])
    # Data is removed only when the user says yes, never on a silent uninstall.
    assert "MB_DEFBUTTON2" in code and "UninstallSilent" in code
    assert code.index("IDYES") < code.index("DelTree")


def test_autostart_registers_the_packaged_executable(monkeypatch):
    from app import autostart

    monkeypatch.delenv("APPIMAGE", raising=False)
    monkeypatch.setattr(autostart.sys, "frozen", True, raising=False)
    for exe in (
        "/opt/findling/Findling",
        "/Applications/Findling.app/Contents/MacOS/Findling",
        r"C:\Users\ann\AppData\Local\Programs\Findling\Findling.exe",
    ):
        monkeypatch.setattr(autostart.sys, "executable", exe)
        assert autostart.launch_command() == [exe, "--tray"]
    monkeypatch.setenv("APPIMAGE", "/home/ann/Apps/Findling-0.1.0-x86_64.AppImage")
    assert autostart.launch_command()[0].endswith(".AppImage")


def test_release_workflow_builds_and_smoke_tests_macos_and_windows():
    import yaml

    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    job = wf["jobs"]["build"]
    oses = [entry["os"] for entry in job["strategy"]["matrix"]["include"]]
    assert any(o.startswith("macos") for o in oses) and any(o.startswith("windows") for o in oses)
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    assert any("packaging/build.py" in r for r in runs)
    assert any("test_platform_scripts.py" in r for r in runs)
    smoke = {s["if"]: s["run"] for s in steps if s.get("name", "").startswith("Smoke test")}
    assert "hdiutil attach" in smoke["runner.os == 'macOS'"]
    assert "Contents/MacOS/findling-cli" in smoke["runner.os == 'macOS'"]
    win = smoke["runner.os == 'Windows'"]
    assert "/VERYSILENT" in win.replace("//", "/") and "unins000.exe" in win
    # What the platform steps produce is what the workflow uploads.
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["if-no-files-found"] == "error"
    patterns = {e["os"]: e["artefacts"].split() for e in job["strategy"]["matrix"]["include"]}
    assert Path("dist/Findling-1.0-macos-arm64.dmg").match(patterns["macos-14"][0])
    assert Path("dist/Findling-1.0-windows-x64-setup.exe").match(patterns["windows-2022"][0])


# ------------------------------------------------------------------ Linux: appimagetool


def fake_onedir(tmp_path: Path) -> Path:
    """A stand-in for PyInstaller's dist/Findling: the two executables, as shell scripts."""
    onedir = tmp_path / "dist" / "Findling"
    (onedir / "_internal").mkdir(parents=True)
    for exe in ("Findling", "findling"):
        (onedir / exe).write_text("#!/bin/sh\necho frozen\n")
        (onedir / exe).chmod(0o755)
    return onedir


def fake_appimagetool(bindir: Path, body: str) -> Path:
    """An ``appimagetool`` script on a PATH of its own; it logs its arguments and $ARCH."""
    bindir.mkdir(parents=True, exist_ok=True)
    tool = bindir / "appimagetool"
    tool.write_text(f'#!/bin/sh\necho "$ARCH $*" >> "{bindir}/calls"\n{body}\n')
    tool.chmod(0o755)
    return tool


@pytest.fixture
def linux(monkeypatch, tmp_path):
    """packaging/linux/package.py with a PATH that holds only the fake tools (so no dpkg-deb)."""
    mod = load("linux")
    monkeypatch.delenv("APPIMAGETOOL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    (tmp_path / "bin").mkdir()
    return mod


def test_appimage_skipped_with_a_message_without_appimagetool(linux, tmp_path, capsys):
    appdir = linux.make_appdir(fake_onedir(tmp_path), tmp_path / "Findling.AppDir")
    out = tmp_path / "Findling-1.0-x86_64.AppImage"
    assert linux.make_appimage(appdir, out, "x86_64") is None
    assert "appimagetool not found" in capsys.readouterr().out
    assert not out.exists()


def test_appimage_made_by_a_working_appimagetool(linux, tmp_path):
    fake_appimagetool(tmp_path / "bin", 'printf "\\177ELF" > "$2"')
    appdir = linux.make_appdir(fake_onedir(tmp_path), tmp_path / "Findling.AppDir")
    out = tmp_path / "Findling-1.0-x86_64.AppImage"
    assert linux.make_appimage(appdir, out, "x86_64") == out
    assert out.read_bytes() == b"\x7fELF"
    assert (tmp_path / "bin" / "calls").read_text() == f"x86_64 {appdir} {out}\n"
    assert (appdir / "AppRun").stat().st_mode & 0o111 and (appdir / ".DirIcon").is_symlink()


def test_failing_appimagetool_is_a_clear_error(linux, tmp_path, monkeypatch):
    # Fails after writing part of the image: nothing half-made may stay behind.
    fail = 'echo partial > "$2"; echo "squashfs: no space" >&2; exit 3'
    fake_appimagetool(tmp_path / "bin", fail)
    appdir = linux.make_appdir(fake_onedir(tmp_path), tmp_path / "Findling.AppDir")
    out = tmp_path / "Findling-1.0-x86_64.AppImage"
    with pytest.raises(SystemExit, match=r"^error: appimagetool \(.*\) failed with exit code 3"):
        linux.make_appimage(appdir, out, "x86_64")
    assert not out.exists()
    # Named by $APPIMAGETOOL but not runnable: the same kind of message, not a traceback.
    broken = tmp_path / "not-executable"
    broken.write_text("#!/bin/sh\n")
    monkeypatch.setenv("APPIMAGETOOL", str(broken))
    with pytest.raises(SystemExit, match=r"^error: cannot run appimagetool .*not-executable"):
        linux.make_appimage(appdir, out, "x86_64")


def test_build_py_exits_1_without_traceback_when_appimagetool_fails(tmp_path):
    """The whole ``build.py --skip-pyinstaller`` in a process of its own: the tarball is made,
    then the failing appimagetool ends it with exit code 1 and one ``error:`` line."""
    import os
    import subprocess
    import sys

    fake_onedir(tmp_path)
    bindir = tmp_path / "bin"
    fake_appimagetool(bindir, 'echo "appimagetool: broken runtime" >&2; exit 2')
    driver = (
        "import importlib.util, pathlib, sys\n"
        f"spec = importlib.util.spec_from_file_location('b', {str(PKG / 'build.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        f"m.DIST = pathlib.Path({str(tmp_path / 'dist')!r})\n"
        f"m.BUILD = pathlib.Path({str(tmp_path / 'build')!r})\n"
        "sys.exit(m.main(['--skip-pyinstaller']))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "APPIMAGETOOL"}
    env["PATH"] = str(bindir)  # only the fake tool: no dpkg-deb, so no .deb step
    r = subprocess.run(
        [sys.executable, "-c", driver], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "appimagetool: broken runtime" in r.stderr  # the tool's own words reach the user
    assert r.stderr.strip().splitlines()[-1].startswith("error: appimagetool (")
    import platform
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    made = sorted(p.name for p in (tmp_path / "dist").iterdir())
    assert made == ["Findling", f"findling-{version}-linux-{platform.machine()}.tar.gz"]


def test_only_search_paths_outside_the_bundle_are_foreign():
    spec = importlib.util.spec_from_file_location("t_build", PKG / "build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    line = " 0x000000000000001d ({}) Library {}: [{}]\n"
    pyenv = line.format("RUNPATH", "runpath", "/root/.pyenv/versions/3.11.7/lib")
    assert build.foreign_search_path(pyenv) == "/root/.pyenv/versions/3.11.7/lib"
    assert build.foreign_search_path(line.format("RPATH", "rpath", "/usr/local/lib64"))
    assert build.foreign_search_path(line.format("RUNPATH", "runpath", "$ORIGIN/../x.libs")) is None
    assert build.foreign_search_path(" 0x01 (NEEDED) Shared library: [libc.so.6]\n") is None


def test_deb_modes(tmp_path):
    linux = load("linux")
    files = {
        "lib.so.1": (b"\x7fELF", 0o755, 0o644),  # libraries: 0644 even when shipped +x
        "tool": (b"\x7fELF", 0o644, 0o755),  # an ELF executable
        "run.sh": (b"#!/bin/sh\n", 0o755, 0o755),
        "notes.py": (b"#!/usr/bin/env python\n", 0o644, 0o644),  # a script that was not +x
        "METADATA": (b"Metadata-Version: 2.1\n", 0o755, 0o644),  # protobuf's dist-info
    }
    for name, (data, mode, want) in files.items():
        (tmp_path / name).write_bytes(data)
        (tmp_path / name).chmod(mode)
        assert linux.deb_mode(tmp_path / name) == want, name
    assert linux.deb_mode(tmp_path) == 0o755
