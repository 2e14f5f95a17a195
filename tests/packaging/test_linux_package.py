"""The Linux packages, built for real and run from their installed files only.

``packaging/build.py`` makes the tarball and the .deb (cached by a hash of everything that goes
into them, see ``built``). Then, with a clean environment and a working folder outside the
checkout, the frozen executables from ``dpkg-deb -x`` and from ``install.sh --prefix`` index a
small folder, search it, answer a question with the packaged LLM, print ``status --json`` and
open the main window offscreen. Nothing of the checkout's code is imported by what runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import make_pdf

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(1500)]
ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.findling.Findling"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
ARCH = platform.machine()
DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(ARCH, ARCH)
# Inputs of the build: a change to any of them makes a new build.
INPUT_DIRS = ("app", "indexer", "models", "packaging", "resources")
INPUT_FILES = ("pyproject.toml", "LICENSE", "THIRD_PARTY_NOTICES.md")
# Debian tools the checks need, and the packages that provide them (installed when root).
TOOLS = {
    "dpkg-deb": "dpkg",
    "objdump": "binutils",
    "chrpath": "chrpath",  # packaging/build.py deletes build-machine RUNPATHs with it
    "desktop-file-validate": "desktop-file-utils",
    "appstreamcli": "appstream",
    "lintian": "lintian",
}
# The shipped lintian overrides: the tags inherent to a frozen bundle (README, "lintian").
OVERRIDES = "usr/share/lintian/overrides/findling"


def input_hash() -> str:
    """A hash of the build's inputs: sources, packaging files, the environment's packages."""
    h = hashlib.sha256()
    for d in INPUT_DIRS:
        for p in sorted((ROOT / d).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                h.update(p.relative_to(ROOT).as_posix().encode() + b"\0")
                h.update(hashlib.sha256(p.read_bytes()).digest())
    for f in INPUT_FILES:
        h.update(f.encode() + b"\0" + (ROOT / f).read_bytes())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions())
    h.update("\n".join([sys.version, *dists]).encode())
    return h.hexdigest()[:20]


def cache_root() -> Path:
    """Outside the checkout, so a clean CI checkout on the same machine reuses it."""
    env = os.environ.get("FINDLING_BUILD_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "findling-build"


def ensure_tools() -> None:
    """Install the Debian tools the checks need (CI runs as root); skip where that is impossible."""
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if not missing:
        return
    if not sys.platform.startswith("linux") or not shutil.which("apt-get"):
        pytest.skip(f"needs Debian tools {missing}: no apt-get on this system")
    if os.geteuid() != 0:
        pytest.skip(f"needs Debian tools {missing}: run as root, or apt-get install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert r.returncode == 0, f"apt-get install {missing} failed:\n{r.stdout}{r.stderr}"


@pytest.fixture(scope="module")
def built() -> dict[str, Path]:
    """The tarball and .deb for the current inputs: from the cache, or built now (~3 min)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux packages are built on Linux")
    ensure_tools()
    names = {
        "tar": f"findling-{VERSION}-linux-{ARCH}.tar.gz",
        "deb": f"findling_{VERSION}_{DEB_ARCH}.deb",
    }
    entry = cache_root() / input_hash()
    if not all((entry / n).is_file() for n in names.values()):
        r = subprocess.run(
            [sys.executable, str(ROOT / "packaging" / "build.py")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert r.returncode == 0, f"build failed:\n{r.stdout[-4000:]}\n{r.stderr[-8000:]}"
        tmp = entry.with_name(entry.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for n in names.values():
            shutil.copy2(ROOT / "dist" / n, tmp / n)
        (tmp / "build.log").write_text(r.stdout + r.stderr)
        shutil.rmtree(entry, ignore_errors=True)
        tmp.rename(entry)
        # Keep the two newest builds only: each is a few hundred MB.
        old = sorted(
            (p for p in cache_root().iterdir() if p.is_dir() and p != entry),
            key=lambda p: p.stat().st_mtime,
        )
        for p in old[:-1]:
            shutil.rmtree(p, ignore_errors=True)
    return {k: entry / n for k, n in names.items()}


@pytest.fixture(scope="module")
def deb_root(built, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg-deb", "-x", str(built["deb"]), str(root)], check=True)
    return root


@pytest.fixture(scope="module")
def tar_prefix(built, tmp_path_factory) -> Path:
    unpack = tmp_path_factory.mktemp("tar-unpack")
    with tarfile.open(built["tar"]) as tar:
        tar.extractall(unpack, filter="tar")
    (top,) = list(unpack.iterdir())
    prefix = tmp_path_factory.mktemp("prefix")
    r = subprocess.run(
        ["sh", str(top / "install.sh"), "--prefix", str(prefix)],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path_factory.mktemp("installer-home")),
        cwd=unpack,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return prefix


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    make_pdf(
        d / "boat.pdf",
        [
            "Chapter one describes the harbour and the morning tide.",
            "The rudder bearing must be greased every forty engine hours.",
            "Chapter three lists the spare parts kept on board.",
        ],
    )
    (d / "shopping.txt").write_text("Buy oat milk, lentils and a new kettle descaler.")
    # An image with text and no text layer: read by OCR (rapidocr's models must be bundled).
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=420, height=120)
    page.insert_text((20, 60), "The anchor chain is galvanised steel.", fontsize=18)
    page.get_pixmap(dpi=200).save(d / "scan.png")
    doc.close()
    return d


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No PYTHONPATH, no virtual environment, no display: only what a user's session has."""
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        **extra,
    }


def lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def run(exe: Path, env: dict[str, str], cwd: Path, *args: str, timeout: float = 300):
    return subprocess.run(
        [str(exe), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def exercise(cli: Path, gui: Path, corpus: Path, work: Path) -> subprocess.CompletedProcess:
    """index -> search -> ask -> status -> GUI window, all with the frozen executables; returns
    the GUI's run, whose exit is checked by :func:`gui_quit_cleanly` after the other checks."""
    work.mkdir(parents=True, exist_ok=True)
    env = clean_env(work / "home", FINDLING_HOME=str(work / "data"))
    r = run(cli, env, work, "--version")
    assert r.returncode == 0 and r.stdout.strip() == f"findling {VERSION}", r.stdout + r.stderr

    r = run(cli, env, work, "index", str(corpus), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    summary = lines(r.stdout)[-1]
    assert summary["added"] == 3 and summary["failed"] == 0, summary

    r = run(cli, env, work, "search", "how often should the rudder be lubricated", "--json")
    assert r.returncode == 0, r.stderr
    top = lines(r.stdout)[0]
    assert top["path"] == str(corpus / "boat.pdf") and top["page"] == 2, top
    r = run(cli, env, work, "search", "kettle descaler", "--json")
    assert lines(r.stdout)[0]["path"] == str(corpus / "shopping.txt")
    r = run(cli, env, work, "search", "galvanised anchor chain", "--json")
    top = lines(r.stdout)[0]
    assert top["path"] == str(corpus / "scan.png") and top["ocr"] is True, top

    r = run(cli, env, work, "ask", "How often must the rudder bearing be greased?", "--json")
    assert r.returncode == 0, r.stderr
    final = lines(r.stdout)[-1]
    assert final["found"] is True and final["answer"].strip(), final
    assert final["citations"][0]["path"] == str(corpus / "boat.pdf")
    assert final["citations"][0]["page"] == 2

    r = run(cli, env, work, "status", "--json")
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    assert out[-1]["summary"] is True and out[-1]["indexed"] == 3, out[-1]
    names = {Path(o["path"]).name for o in out if "path" in o}
    assert names == {"boat.pdf", "shopping.txt", "scan.png"}

    # The window, offscreen. A fresh data folder: the welcome dialog must appear first.
    genv = clean_env(
        work / "gui-home",
        FINDLING_HOME=str(work / "gui-data"),
        QT_QPA_PLATFORM="offscreen",
        FINDLING_SMOKE_TEST="1",
    )
    r = run(gui, genv, work, timeout=180)
    events = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("findling-smoke:")]
    assert events == ["welcome-shown", "window-shown"], r.stdout + r.stderr
    return r


def gui_quit_cleanly(r: subprocess.CompletedProcess) -> None:
    """The GUI, quit by the smoke probe once its window showed, exits 0 (it once died with
    SIGBUS, -7, in PySide's clean-up at interpreter exit: app/gui/main.py, close_down)."""
    assert r.returncode == 0, f"frozen GUI exited {r.returncode}:\n{r.stderr[-2000:]}"
    assert "shared QObject was deleted directly" not in r.stderr, r.stderr[-2000:]


def test_deb_installed_files_run(deb_root, corpus, tmp_path):
    opt = deb_root / "opt" / "findling"
    for link, target in (("findling", "findling"), ("findling-gui", "Findling")):
        assert os.readlink(deb_root / "usr" / "bin" / link) == f"/opt/findling/{target}"
        assert os.access(opt / target, os.X_OK)
    gui = exercise(opt / "findling", opt / "Findling", corpus, tmp_path)
    gui_quit_cleanly(gui)


def test_tarball_install_runs_and_uninstalls(built, tar_prefix, corpus, tmp_path):
    bindir = tar_prefix / "bin"
    gui = exercise(bindir / "findling", bindir / "findling-gui", corpus, tmp_path / "run")
    desktop = tar_prefix / "share" / "applications" / f"{APP_ID}.desktop"
    assert f"Exec={bindir}/findling-gui" in desktop.read_text()
    # Uninstall: the program goes, the user's data stays.
    data = tmp_path / "run" / "data"
    assert (data / "index").is_dir()
    unpacked = next(p for p in tar_prefix.parent.glob("tar-unpack*/findling-*"))
    r = subprocess.run(
        ["sh", str(unpacked / "install.sh"), "--prefix", str(tar_prefix), "--uninstall"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert not (tar_prefix / "lib" / "findling").exists() and not (bindir / "findling").exists()
    assert not desktop.exists()
    assert (data / "index").is_dir() and (data / "config" / "settings.toml").is_file()
    gui_quit_cleanly(gui)


def deb_field(deb: Path, field: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_deb_metadata_desktop_files_and_lintian(built, deb_root):
    deb = built["deb"]
    assert deb_field(deb, "Package") == "findling" and deb_field(deb, "Version") == VERSION
    depends = [d.split()[0] for d in deb_field(deb, "Depends").split(", ")]
    # The Qt xcb platform plugin's system libraries (it is what opens a window on X11).
    # (libxcb-cursor0, libxkbcommon-x11-0 ... are still bundled by PyInstaller today; when the
    # spec's cut of them takes effect they must appear here as well.)
    bundled = {p.name for p in (deb_root / "opt" / "findling" / "_internal").iterdir()}
    for pkg, soname in (
        ("libc6", None),
        ("libxcb1", "libxcb.so.1"),
        ("libegl1", None),
        ("libxcb-cursor0", "libxcb-cursor.so.0"),
        ("libxkbcommon-x11-0", "libxkbcommon-x11.so.0"),
        ("libfontconfig1", "libfontconfig.so.1"),
    ):
        assert pkg in depends or soname in bundled, (pkg, depends)
    share = deb_root / "usr" / "share"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    assert (share / "doc" / "findling" / "copyright").is_file()

    desktop = share / "applications" / f"{APP_ID}.desktop"
    r = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert r.returncode == 0 and "error" not in r.stdout.lower(), r.stdout
    metainfo = share / "metainfo" / f"{APP_ID}.metainfo.xml"
    r = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr

    r = subprocess.run(
        [
            "lintian",
            *("--tag-display-limit", "0", "--fail-on", "none"),  # the tags are judged below
            *("--display-info", "--show-overrides", str(deb)),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert r.returncode == 0 and "findling" in r.stdout, r.stdout + r.stderr
    check_lintian(r.stdout, deb_root / OVERRIDES)


def check_lintian(out: str, overrides: Path) -> None:
    """No error or warning but the shipped overrides, each of them used and explained."""
    problems = [ln for ln in out.splitlines() if ln.split()[:1] in (["E:"], ["W:"])]
    assert not problems, "lintian found packaging mistakes:\n" + "\n".join(problems)
    stale = [ln for ln in out.splitlines() if re.search(r"\b(unused|mismatched)-override\b", ln)]
    assert not stale, "overrides that no longer match:\n" + "\n".join(stale)
    used = {ln.split()[2] for ln in out.splitlines() if ln.startswith("O:")}
    shipped: set[str] = set()
    comment = False
    for line in overrides.read_text().splitlines():
        if line.startswith("#"):
            comment = True
        elif line.strip():
            assert comment, f"override without a comment saying why: {line}"
            assert line.startswith("findling: "), line
            shipped.add(line.split()[1])
        else:
            comment = False
    assert used == shipped, (used, shipped)
    # packaging/README.md names each of them (a documentation check; nothing is imported).
    readme = (ROOT / "packaging" / "README.md").read_text()
    assert all(f"`{tag}`" in readme for tag in shipped), shipped
