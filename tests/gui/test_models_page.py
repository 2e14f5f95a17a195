"""Settings → Models: downloads with progress, pause/resume, cancel and the failure messages,
import and remove, through the real dialog, the real download code and a real HTTP server on
127.0.0.1 serving the packaged GGUF model."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

import app.model_admin as admin
from app.engine import Engine
from app.gui.model_downloads import Downloads
from app.gui.model_items import C_STATUS
from app.gui.models_page import ModelsPage
from app.gui.settings_dialog import SettingsDialog
from app.paths import app_paths
from models import download as dl
from models.catalogue import MANIFEST_NAME, ModelSpec, find_model
from models.gguf import read_gguf_metadata
from tests.model_server import ModelServer

pytestmark = [pytest.mark.gui, pytest.mark.integration, pytest.mark.timeout(120)]
MID = "Test-Chat-Q4_1"
WAIT_MS = 60_000
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def gguf() -> Path:
    return find_model(Path("/nonexistent"), None, "llm").file


@pytest.fixture(scope="module")
def model_bytes(gguf) -> bytes:
    return gguf.read_bytes()


@pytest.fixture
def server(model_bytes):
    bad = bytearray(model_bytes)
    bad[len(bad) // 2] ^= 0xFF  # one flipped byte: same size, other hash
    srv = ModelServer(files={"/m.gguf": model_bytes, "/bad.gguf": bytes(bad)}).start()
    yield srv
    srv.stop()


def entry(url: str, data: bytes) -> ModelSpec:
    return ModelSpec(
        id=MID, kind="llm", file=Path("test-chat.gguf"), licence="Apache-2.0", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), url=url, source="catalogue",
        display_name="Test Chat (Q4_1)", purpose="answers: a test entry", quantisation="Q4_1",
        min_ram=1 << 30,
    )  # fmt: skip


@pytest.fixture
def page(home, qtbot, monkeypatch, server, model_bytes):
    """The Models page of a real Settings dialog whose catalogue lists the served file."""
    url = f"{server.url}/m.gguf"
    monkeypatch.setattr(admin, "catalogue", lambda: [entry(url, model_bytes)])
    dlg = SettingsDialog(Engine(app_paths()))
    qtbot.addWidget(dlg)
    dlg.tabs.setCurrentWidget(dlg.models)
    dlg.show()
    yield dlg.models
    dlg.models.shutdown()


def slow(server: ModelServer) -> None:
    """About 5 MB/s, so a pause lands in the middle of the 98 MB file."""
    server.block, server.delay = 1 << 16, 0.012


def start(qtbot, page: ModelsPage) -> None:
    page.select(MID)
    assert page.download_btn.isEnabled() and page.status_text(MID) == "Not downloaded"
    qtbot.mouseClick(page.download_btn, LEFT)
    qtbot.waitUntil(lambda: MID in page._bars, timeout=WAIT_MS)


def wait_progress(qtbot, page: ModelsPage, at_least: float) -> None:
    bar = page._bars[MID]
    qtbot.waitUntil(lambda: bar.value() >= 1000 * at_least, timeout=WAIT_MS)


def target(home: Path) -> Path:
    return home / "models" / MID / "test-chat.gguf"


def test_download_shows_progress_and_lands_a_verified_model(qtbot, page, server, home, gguf):
    slow(server)
    start(qtbot, page)
    wait_progress(qtbot, page, 0.02)
    bar = page._bars[MID]
    assert 0 < bar.value() < 1000 and "%" in bar.text() and "MB" in bar.text()
    assert not page.download_btn.isEnabled() and page.pause_btn.text() == "Pause"
    server.delay = 0
    with qtbot.waitSignal(page.downloads.finished, timeout=WAIT_MS):
        pass
    assert page.status_text(MID) == "Installed"
    assert "checksum is verified" in page.notice.text()
    f = target(home)
    assert (
        hashlib.sha256(f.read_bytes()).hexdigest() == hashlib.sha256(gguf.read_bytes()).hexdigest()
    )
    assert read_gguf_metadata(f)["general.architecture"] == "llama"
    assert json.loads((f.parent / MANIFEST_NAME).read_text())["id"] == MID
    # Now it can be chosen: "Use" puts it in the answers box, and OK saves it.
    assert page.llm.findData(MID) >= 0
    page.select(MID)
    assert page.use_btn.isEnabled()
    qtbot.mouseClick(page.use_btn, LEFT)
    assert page.llm.currentData() == MID and page.status_text(MID) == "✓ In use"


def test_pause_then_resume_continues_with_a_range_request(qtbot, page, server, home, model_bytes):
    slow(server)
    start(qtbot, page)
    wait_progress(qtbot, page, 0.05)
    with qtbot.waitSignal(page.downloads.stopped, timeout=WAIT_MS) as stopped:
        qtbot.mouseClick(page.pause_btn, LEFT)
    assert stopped.args == [MID, False]
    part = dl.partial_path(page.row(MID).spec, home / "models")
    have = part.stat().st_size
    assert 0 < have < len(model_bytes)
    assert page.status_text(MID) == f"Paused at {have / len(model_bytes):.0%}"
    assert page.pause_btn.text() == "Resume" and page.cancel_btn.isEnabled()
    assert not page.download_btn.isEnabled() and not target(home).exists()

    server.delay = 0
    with qtbot.waitSignal(page.downloads.finished, timeout=WAIT_MS):
        qtbot.mouseClick(page.pause_btn, LEFT)  # "Resume"
    assert server.ranges("/m.gguf") == [None, f"bytes={have}-"]
    assert (
        hashlib.sha256(target(home).read_bytes()).hexdigest()
        == hashlib.sha256(model_bytes).hexdigest()
    )
    assert not part.exists() and page.status_text(MID) == "Installed"


def test_cancel_removes_the_partial_file(qtbot, page, server, home):
    slow(server)
    start(qtbot, page)
    wait_progress(qtbot, page, 0.02)
    folder = home / "models" / MID
    with qtbot.waitSignal(page.downloads.stopped, timeout=WAIT_MS) as stopped:
        qtbot.mouseClick(page.cancel_btn, LEFT)
    assert stopped.args == [MID, True]
    assert not folder.exists()
    assert page.status_text(MID) == "Not downloaded" and "cancelled" in page.notice.text()

    # A paused download can be cancelled too.
    start(qtbot, page)
    wait_progress(qtbot, page, 0.02)
    with qtbot.waitSignal(page.downloads.stopped, timeout=WAIT_MS):
        qtbot.mouseClick(page.pause_btn, LEFT)
    assert any(folder.glob("*.part"))
    with qtbot.waitSignal(page.downloads.stopped, timeout=WAIT_MS):
        qtbot.mouseClick(page.cancel_btn, LEFT)
    assert not folder.exists() and page.status_text(MID) == "Not downloaded"


def test_a_corrupted_file_shows_bad_hash_on_its_row_and_is_not_installed(
    qtbot, home, monkeypatch, server, model_bytes
):
    monkeypatch.setattr(admin, "catalogue", lambda: [entry(f"{server.url}/bad.gguf", model_bytes)])
    page = ModelsPage(Engine(app_paths()), admin.Machine(16 << 30, 4))
    qtbot.addWidget(page)
    page.select(MID)
    with qtbot.waitSignal(page.downloads.failed, timeout=WAIT_MS):
        qtbot.mouseClick(page.download_btn, LEFT)
    assert page.status_text(MID).startswith("Bad download")
    assert "Checksum mismatch" in page.item(MID).toolTip(C_STATUS)
    assert not any((home / "models" / MID).glob("*.gguf*"))  # neither installed nor kept
    assert not page.row(MID).installed and page.llm.findData(MID) < 0
    page.shutdown()


def test_no_network_and_full_disk_are_said_on_the_row(qtbot, home, monkeypatch, model_bytes):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/m.gguf"
    monkeypatch.setattr(admin, "catalogue", lambda: [entry(url, model_bytes)])
    page = ModelsPage(Engine(app_paths()), admin.Machine(16 << 30, 4))
    qtbot.addWidget(page)
    page.select(MID)
    with qtbot.waitSignal(page.downloads.failed, timeout=WAIT_MS):
        qtbot.mouseClick(page.download_btn, LEFT)
    assert page.status_text(MID).startswith("No network")

    class Usage:
        free = 10 << 20

    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: Usage)
    page.select(MID)
    with qtbot.waitSignal(page.downloads.failed, timeout=WAIT_MS):
        qtbot.mouseClick(page.download_btn, LEFT)
    assert page.status_text(MID).startswith("Disk full")
    assert "MB are free" in page.item(MID).toolTip(C_STATUS)
    page.shutdown()


def test_import_fills_the_row_from_the_gguf_header_and_remove_refuses_the_active_model(
    qtbot, page, home, gguf, monkeypatch
):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(gguf), ""))
    stem = gguf.stem
    qtbot.mouseClick(page.import_btn, LEFT)
    qtbot.waitUntil(lambda: page.row(stem) is not None, timeout=WAIT_MS)
    assert page.selected_id() == stem and "Imported" in page.notice.text()
    item = page.item(stem)
    assert item.text(3) == "Q4_1" and page.status_text(stem) == "Installed"
    assert "llama, 8,192-token context" in page.details.text()

    # The model in use (saved in the settings) cannot be removed, and the row says why.
    page.engine.settings.llm_model = stem
    page.refresh()
    page.select(stem)
    assert page.remove_btn.isEnabled()
    qtbot.mouseClick(page.remove_btn, LEFT)
    assert page.status_text(stem) == "In use: choose another model first"
    assert "is the model in use" in page.item(stem).toolTip(C_STATUS)
    assert (home / "models" / stem).is_dir()

    # Once another model is chosen and saved, it goes (after a confirmation).
    page.engine.settings.llm_model = None
    page.llm.setCurrentIndex(page.llm.findData("SmolLM2-135M-Instruct-Q4_1"))
    page.messages.clear()
    page.select(stem)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(page.remove_btn, LEFT)
    qtbot.waitUntil(lambda: page.row(stem) is None, timeout=WAIT_MS)
    assert not (home / "models" / stem).exists() and gguf.is_file()
    assert "Removed" in page.notice.text()


def test_choosing_an_imported_embedding_model_is_saved_for_the_rebuild(
    qtbot, home, tmp_path, monkeypatch
):
    packaged = find_model(Path("/nonexistent"), None, "embedding")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(packaged.file, src / "mini.onnx")
    shutil.copy(packaged.tokenizer, src / "tokenizer.json")
    dlg = SettingsDialog(Engine(app_paths()))
    qtbot.addWidget(dlg)
    page = dlg.models
    page.import_file(str(src / "mini.onnx"), dims=384)
    qtbot.waitUntil(lambda: page.row("mini") is not None, timeout=WAIT_MS)
    assert page.item("mini").text(1) == "Search"
    qtbot.mouseClick(page.use_btn, LEFT)
    assert dlg.embedding.currentData() == "mini" and "new index" in page.notice.text()
    dlg.apply()
    assert dlg.restart_needed
    assert Engine(app_paths()).settings.embedding_model == "mini"
    page.shutdown()


def test_a_download_goes_on_after_settings_close_and_shows_when_reopened(
    qtbot, home, monkeypatch, server, model_bytes
):
    monkeypatch.setattr(admin, "catalogue", lambda: [entry(f"{server.url}/m.gguf", model_bytes)])
    slow(server)
    runner = Downloads(home / "models")  # the main window's, which outlives the dialog
    first = SettingsDialog(Engine(app_paths()), downloads=runner)
    qtbot.addWidget(first)
    start(qtbot, first.models)
    first.reject()
    assert runner.running(MID) and not first.downloads_paused
    qtbot.waitUntil(lambda: (runner.progress_of(MID) or (0, 0))[0] > 0, timeout=WAIT_MS)

    again = SettingsDialog(Engine(app_paths()), downloads=runner)
    qtbot.addWidget(again)
    page = again.models
    assert MID in page._bars and page._bars[MID].value() > 0  # picked up where it is
    server.delay = 0
    with qtbot.waitSignal(runner.finished, timeout=WAIT_MS):
        pass
    qtbot.waitUntil(lambda: page.status_text(MID) == "Installed", timeout=WAIT_MS)
    again.reject()
    runner.shutdown()


def test_closing_a_dialog_that_runs_its_own_download_pauses_it(
    qtbot, home, monkeypatch, server, model_bytes
):
    monkeypatch.setattr(admin, "catalogue", lambda: [entry(f"{server.url}/m.gguf", model_bytes)])
    slow(server)
    dlg = SettingsDialog(Engine(app_paths()))
    qtbot.addWidget(dlg)
    start(qtbot, dlg.models)
    wait_progress(qtbot, dlg.models, 0.01)
    dlg.reject()
    assert dlg.downloads_paused and not target(home).exists()
    assert any((home / "models" / MID).glob("*.part"))
