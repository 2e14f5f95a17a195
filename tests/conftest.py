"""Shared fixtures: real models loaded once, an isolated FINDLING_HOME, document builders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("RUST_LOG", "error")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def shared_path(*parts: str) -> Path:
    """A path in ../shared; fails (never skips) when CI's shared folder is missing."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.fail(f"{p} is missing: ../shared must sit beside the checkout")
    return p


# Markers by directory, so ``-m unit`` or ``-m "not gui"`` select whole layers without each
# module having to remember its ``pytestmark``.
_DIR_MARKERS = {
    "unit": ("unit",),
    "integration": ("integration",),
    "reliability": ("reliability", "integration"),
    "gui": ("gui",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add each test's directory markers (see ``_DIR_MARKERS``)."""
    for item in items:
        for name in _DIR_MARKERS.get(item.path.parent.name, ()):
            item.add_marker(name)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real default embedding model (ONNX MiniLM), loaded once per session."""
    from models.catalogue import find_model
    from models.embedder import Embedder

    return Embedder(find_model(Path("/nonexistent-models-dir"), None, "embedding"))


@pytest.fixture(scope="session")
def llm():  # type: ignore[no-untyped-def]
    """The real default LLM (SmolLM2-135M GGUF through llama.cpp), loaded once per session."""
    from models.catalogue import find_model
    from models.llm import Llm, LlmConfig

    return Llm(find_model(Path("/nonexistent-models-dir"), None, "llm"), LlmConfig(n_ctx=4096))


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated FINDLING_HOME for every test, so none can touch a real user's data."""
    h = tmp_path / "findling-home"
    monkeypatch.setenv("FINDLING_HOME", str(h))
    yield h


def make_pdf(
    path: Path,
    pages: list[str],
    *,
    title: str | None = None,
    toc: list[tuple[int, str, int]] | None = None,
) -> Path:
    """Write a real PDF with one text page per entry (PyMuPDF)."""
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(56, 56, 540, 790), text, fontsize=10)
    if title:
        doc.set_metadata({"title": title})
    if toc:
        doc.set_toc([list(t) for t in toc])
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    doc.close()
    return path


def make_docx(path: Path, blocks: list[tuple[str, int]]) -> Path:
    """Write a real DOCX; blocks are (text, heading level or 0 for a paragraph)."""
    import docx

    d = docx.Document()
    for text, level in blocks:
        if level:
            d.add_heading(text, level=level)
        else:
            d.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path


def index_config(index_dir: Path, *folders: Path, **kw):  # type: ignore[no-untyped-def]
    """An IndexConfig with one extraction worker (the default on CI's 2 cores)."""
    from indexer.config import IndexConfig
    from indexer.sandbox import SandboxConfig

    kw.setdefault("sandbox", SandboxConfig(workers=1, timeout_s=120))
    return IndexConfig(index_dir=index_dir, folders=tuple(folders), **kw)


def make_hit(n: int, text: str, **fields):  # type: ignore[no-untyped-def]
    """A search hit for unit tests: passage ``n`` of ``/docs/file{n}.pdf`` (fields overridable)."""
    from indexer.search import Hit

    base = {
        "path": f"/docs/file{n}.pdf",
        "page": None,
        "section": None,
        "score": 1.0 / n,
        "snippet": text,
        "chunk_id": f"h{n}:0",
        "doc": f"h{n}",
        "text": text,
        "start": 0,
        "end": len(text),
    }
    return Hit(**{**base, **fields})


def lorem_text(path: Path, mb: float) -> Path:
    """A text file of ``mb`` megabytes of real words (tokenizing it takes seconds)."""
    line = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor\n"
    path.write_text(line * int(mb * 1024 * 1024 / len(line)))
    return path


def cli_env(home: Path) -> dict[str, str]:
    """The environment of a ``findling`` subprocess whose data lives in ``home``."""
    return {**os.environ, "FINDLING_HOME": str(home), "PYTHONPATH": str(ROOT)}


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run ``findling ARGS`` to completion, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start a long-running ``findling ARGS`` (e.g. ``watch --json``) with piped output."""
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
