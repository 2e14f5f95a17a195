"""`findling models list|download|import|remove` through the real command, a real GGUF file and
a real HTTP server on 127.0.0.1 (the only place a download may go in a test)."""

import hashlib
import json
import socket
from pathlib import Path

import pytest

from models.catalogue import MANIFEST_NAME, catalogue, find_model, recommend_llm
from tests.conftest import cli_env, run_cli
from tests.model_server import ModelServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
GIB = 1 << 30


def run(home, *args):
    return run_cli(cli_env(home), *args, timeout=200)


def lines(out):
    return [json.loads(x) for x in out.splitlines() if x.strip()]


@pytest.fixture(scope="module")
def gguf():
    return find_model(Path("/nonexistent"), None, "llm").file


@pytest.fixture
def server(gguf):
    good = gguf.read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF  # one flipped byte in the middle: same size, other hash
    srv = ModelServer(files={"/good.gguf": good, "/corrupt.gguf": bytes(bad)}).start()
    yield srv.url, hashlib.sha256(good).hexdigest()
    srv.stop()


def test_import_reads_the_gguf_header_and_remove_deletes_only_the_copy(tmp_path, gguf):
    before = hashlib.sha256(gguf.read_bytes()).hexdigest()
    r = run(tmp_path, "models", "import", str(gguf), "--id", "my-chat", "--json")
    assert r.returncode == 0, r.stderr
    (entry,) = lines(r.stdout)
    assert entry["id"] == "my-chat" and entry["available"] and entry["source"] == "user"
    # Filled from the file's own header (SmolLM2 is a llama-architecture model, 8k context).
    assert entry["architecture"] == "llama" and entry["context_length"] == 8192
    assert entry["quantisation"] == "Q4_1" and entry["sha256"] == before
    folder = tmp_path / "models" / "my-chat"
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert "<|im_start|>" in manifest["chat_template"]
    assert hashlib.sha256(gguf.read_bytes()).hexdigest() == before  # the original is untouched
    listed = {e["id"]: e for e in lines(run(tmp_path, "models", "list", "--json").stdout)}
    assert listed["my-chat"]["available"] and not listed["my-chat"]["active"]
    # A second import under the same id is refused, the first stays.
    again = run(tmp_path, "models", "import", str(gguf), "--id", "my-chat")
    assert again.returncode == 1 and "already installed" in again.stderr
    r = run(tmp_path, "models", "remove", "my-chat")
    assert r.returncode == 0, r.stderr
    assert not folder.exists() and gguf.is_file()
    r = run(tmp_path, "models", "remove", "SmolLM2-135M-Instruct-Q4_1")  # packaged: stays
    assert r.returncode == 1 and "packaged models stay" in r.stderr
    assert find_model(tmp_path / "models", None, "llm").available


def test_a_truncated_gguf_is_refused_with_a_reason_and_leaves_nothing(tmp_path, gguf):
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gguf.read_bytes()[:5000])  # ends inside the header (vocabulary)
    r = run(tmp_path, "models", "import", str(cut))
    assert r.returncode == 1
    assert "cut short or corrupted" in r.stderr and str(cut) in r.stderr
    models = tmp_path / "models"
    assert not models.exists() or not any(models.iterdir())


def test_download_checks_the_hash_and_says_why_it_failed(tmp_path, server):
    url, digest = server
    r = run(tmp_path, "models", "download", "--id", "c1", "--url", f"{url}/corrupt.gguf",
            "--sha256", digest)  # fmt: skip
    assert r.returncode == 1 and "Checksum mismatch" in r.stderr
    assert not any((tmp_path / "models" / "c1").glob("*.gguf"))  # never given its final name
    listed = {e["id"] for e in lines(run(tmp_path, "models", "list", "--json").stdout)}
    assert "c1" not in listed
    with socket.socket() as s:  # a port nobody listens on: "no network"
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    r = run(tmp_path, "models", "download", "--id", "c2", "--url",
            f"http://127.0.0.1:{closed}/x.gguf")  # fmt: skip
    assert r.returncode == 1 and "Cannot reach" in r.stderr
    r = run(tmp_path, "models", "download", "--id", "c3", "--url", f"{url}/good.gguf",
            "--sha256", digest)  # fmt: skip
    assert r.returncode == 0, r.stderr
    listed = {e["id"]: e for e in lines(run(tmp_path, "models", "list", "--json").stdout)}
    assert listed["c3"]["available"] and listed["c3"]["sha256"] == digest


def test_catalogue_lists_verified_downloads_and_recommends_by_machine(tmp_path):
    listed = {e["id"]: e for e in lines(run(tmp_path, "models", "list", "--json").stdout)}
    for spec in catalogue():
        e = listed[spec.id]
        assert e["source"] == "catalogue" and not e["available"] and e["file"] is None
        assert len(e["sha256"]) == 64 and e["url"].startswith("https://")
        assert e["licence"] == "Apache-2.0" and e["size"] > 0 and e["min_ram"] > 0
    assert sum(e["recommended"] for e in listed.values()) == 1
    assert recommend_llm(16 * GIB, 2) == "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
    assert recommend_llm(16 * GIB, 1) == "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M"
    assert recommend_llm(16 * GIB, 1, gpu=True) == "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
    assert recommend_llm(6 * GIB, 8) == "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M"
    assert recommend_llm(2 * GIB, 8) == "SmolLM2-135M-Instruct-Q4_1"


def test_import_of_a_catalogue_file_takes_its_id_and_licence(tmp_path, gguf, monkeypatch):
    # Stand-in for a 1 GB Qwen file: a catalogue entry whose hash is the packaged GGUF's.
    import dataclasses

    import models.manage as manage
    from models.manage import import_model

    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    entry = dataclasses.replace(catalogue()[0], sha256=digest)
    monkeypatch.setattr(manage, "catalogue", lambda: [entry])
    spec = import_model(gguf, tmp_path / "models")
    assert spec.id == entry.id and spec.licence == "Apache-2.0" and spec.url == entry.url
    assert find_model(tmp_path / "models", entry.id, "llm").available


def test_import_of_an_onnx_embedder_needs_its_tokenizer_and_width_then_embeds(tmp_path):
    import shutil

    from models.embedder import Embedder

    packaged = find_model(Path("/nonexistent"), None, "embedding")
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(packaged.file, src / "mini.onnx")
    r = run(tmp_path, "models", "import", str(src / "mini.onnx"), "--dims", "384")
    assert r.returncode == 1 and "tokenizer.json" in r.stderr
    shutil.copy(packaged.tokenizer, src / "tokenizer.json")
    r = run(tmp_path, "models", "import", str(src / "mini.onnx"))
    assert r.returncode == 1 and "--dims" in r.stderr
    r = run(tmp_path, "models", "import", str(src / "mini.onnx"), "--dims", "384", "--json")
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout)[0]["kind"] == "embedding"
    spec = find_model(tmp_path / "models", "mini", "embedding")
    assert spec.source == "user" and spec.dims == 384
    v = Embedder(spec).embed(["A cat sleeps on the sofa.", "The kitten naps on the couch."])
    assert v.shape == (2, 384) and float(v[0] @ v[1]) > 0.5
