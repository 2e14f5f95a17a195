"""models.download: stop and resume with a Range request, verification before the file gets its
name, cancel, and one error class per cause. Against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from pathlib import Path

import pytest

from models import download as dl
from models.catalogue import MANIFEST_NAME, ModelSpec, user_models
from models.errors import ChecksumError, DiskFullError, DownloadStopped, NetworkError
from tests.model_server import ModelServer

pytestmark = pytest.mark.timeout(60)

DATA = bytes(range(256)) * 8192  # 2 MiB, every byte position distinguishable
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def server():
    srv = ModelServer(files={"/m.gguf": DATA}).start()
    yield srv
    srv.stop()


def spec(url: str, **kw) -> ModelSpec:
    base = dict(
        id="test-model", kind="llm", file=Path("m.gguf"), size=len(DATA), sha256=DIGEST,
        url=url, source="catalogue", display_name="Test model",
    )  # fmt: skip
    return ModelSpec(**{**base, **kw})


def test_a_stopped_download_keeps_its_part_and_resumes_with_a_range_request(tmp_path, server):
    s = spec(f"{server.url}/m.gguf")
    stop = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int | None) -> None:
        seen.append(done)
        assert total == len(DATA)
        if done >= len(DATA) // 3:
            stop.set()

    with pytest.raises(DownloadStopped):
        dl.download_model(s, tmp_path, progress=progress, stop=stop)
    part = dl.partial_path(s, tmp_path)
    have = part.stat().st_size
    assert 0 < have < len(DATA) and dl.partial_size(s, tmp_path) == have
    assert part.read_bytes() == DATA[:have]
    assert not dl.download_target(s, tmp_path).exists()
    assert user_models(tmp_path) == []  # a half-downloaded model is not a model

    resumed: list[int] = []
    installed = dl.download_model(s, tmp_path, progress=lambda d, t: resumed.append(d))
    assert server.ranges("/m.gguf") == [None, f"bytes={have}-"]
    assert resumed[0] == have and resumed[-1] == len(DATA)  # counted on from the part
    assert installed.file is not None and dl.sha256_file(installed.file) == DIGEST
    assert not part.exists()
    manifest = json.loads((tmp_path / "test-model" / MANIFEST_NAME).read_text())
    assert manifest["sha256"] == DIGEST and manifest["file"] == "m.gguf"
    assert [m.id for m in user_models(tmp_path)] == ["test-model"]


def test_a_server_that_ignores_range_gets_the_whole_file_again(tmp_path, server):
    s = spec(f"{server.url}/m.gguf")
    part = dl.partial_path(s, tmp_path)
    part.parent.mkdir(parents=True)
    part.write_bytes(DATA[:1000])
    server.honour_ranges = False
    installed = dl.download_model(s, tmp_path)
    assert server.ranges("/m.gguf") == ["bytes=1000-"]
    assert installed.file is not None and installed.file.read_bytes() == DATA


def test_a_part_that_is_not_a_prefix_fails_the_checksum_and_is_deleted(tmp_path, server):
    s = spec(f"{server.url}/m.gguf")
    part = dl.partial_path(s, tmp_path)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\xff" * 1000)  # resumed onto: the whole has the right size, wrong hash
    with pytest.raises(ChecksumError, match="Checksum mismatch"):
        dl.download_model(s, tmp_path)
    assert not part.exists() and not dl.download_target(s, tmp_path).exists()


def test_a_dropped_connection_keeps_the_part_and_a_retry_completes(tmp_path, server):
    s = spec(f"{server.url}/m.gguf")
    server.cut_at = 700_000
    with pytest.raises(NetworkError, match="ended after 700000"):
        dl.download_model(s, tmp_path)
    assert dl.partial_size(s, tmp_path) == 700_000
    server.cut_at = None
    installed = dl.download_model(s, tmp_path)
    assert server.ranges("/m.gguf")[-1] == "bytes=700000-"
    assert installed.file is not None and dl.sha256_file(installed.file) == DIGEST


def test_a_complete_but_unverified_part_is_only_checked(tmp_path, server):
    s = spec(f"{server.url}/m.gguf")
    part = dl.partial_path(s, tmp_path)
    part.parent.mkdir(parents=True)
    part.write_bytes(DATA)  # e.g. the app quit between the last byte and the rename
    installed = dl.download_model(s, tmp_path)
    assert server.requests == [] and installed.file is not None and installed.file.is_file()


def test_no_network_and_full_disk_have_their_own_errors(tmp_path, monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetworkError, match="Cannot reach"):
        dl.download_model(spec(f"http://127.0.0.1:{port}/m.gguf"), tmp_path)

    class Usage:
        free = 1 << 20

    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: Usage)
    with pytest.raises(DiskFullError, match="Not enough free space"):
        dl.download_model(spec(f"http://127.0.0.1:{port}/m.gguf"), tmp_path)


def test_discard_partial_deletes_the_part_and_only_an_empty_folder(tmp_path, server):
    s = spec(f"{server.url}/m.gguf")
    part = dl.partial_path(s, tmp_path)
    part.parent.mkdir(parents=True)
    part.write_bytes(DATA[:10])
    dl.discard_partial(s, tmp_path)
    assert not part.exists() and not part.parent.exists()
    dl.download_model(s, tmp_path)
    dl.discard_partial(s, tmp_path)  # nothing partial: the installed model stays
    assert dl.download_target(s, tmp_path).is_file()
