import hashlib
import http.server
import json
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from models.catalogue import MANIFEST_NAME, ModelSpec, all_models, find_model
from models.download import download_model
from models.errors import DownloadError, ModelLoadError, ModelNotFoundError


def test_packaged_defaults_are_found_without_importing(embedder):
    specs = {s.id: s for s in all_models(Path("/nonexistent"))}
    assert specs["all-MiniLM-L6-v2"].available
    assert specs["SmolLM2-135M-Instruct-Q4_1"].available


def test_embedder_produces_unit_vectors_and_meaningful_similarity(embedder):
    v = embedder.embed(
        [
            "A cat sleeps on the sofa.",
            "The kitten naps on the couch.",
            "Quarterly tax filing deadlines.",
        ]
    )
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_embedder_truncates_long_input_at_model_limit(embedder):
    long = "word " * 2000
    assert embedder.count_tokens(long) > 1000
    v = embedder.embed([long, "short"])  # must not fail on > 512 positions
    assert v.shape == (2, 384)


def test_batches_stay_under_the_token_budget_and_results_keep_input_order(embedder, monkeypatch):
    texts = [f"topic {i} " * (1 + (i * 37) % 120) for i in range(70)] + ["tiny"] * 30
    seen = []
    real = embedder._run

    def spy(batch):
        seen.append((len(batch), max(len(x) for x in batch)))
        return real(batch)

    monkeypatch.setattr(embedder, "_run", spy)
    out = embedder.embed(texts)
    budget = embedder.config.batch_tokens
    assert all(n * width <= budget or n == 1 for n, width in seen), seen
    assert all(n <= embedder.config.batch_size for n, _ in seen)
    assert sum(n for n, _ in seen) == len(texts)
    assert max(n for n, _ in seen) > 8  # short texts still go in large batches
    # Row i is text i's vector, whatever batch it was computed in.
    for i in (0, 5, 33, 69, 99):
        alone = embedder.embed([texts[i]])[0]
        assert float(alone @ out[i]) > 0.99, i


def test_embedder_session_keeps_no_memory_patterns_and_trims_the_heap_once_made(
    embedder, monkeypatch
):
    # Batches padded to their longest text rarely repeat a shape: a memory pattern planned
    # for each one would only hold memory (benchmarks/README.md, "Memory").
    assert embedder._session.get_session_options().enable_mem_pattern is False
    from models import embedder as embedder_mod
    from models import heap

    calls = []
    real_create = embedder_mod.create_session

    def create(*args, **kwargs):
        calls.append("session")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(embedder_mod, "create_session", create)
    monkeypatch.setattr(heap, "trim", lambda: calls.append("trim") or True)
    again = embedder_mod.Embedder(embedder.spec, embedder.config)
    assert calls == ["session", "trim"]
    assert again.embed(["one passage"]).shape == (1, again.dims)


def test_user_model_folder_takes_precedence_and_broken_model_is_reported(tmp_path):
    folder = tmp_path / "models" / "mine"
    folder.mkdir(parents=True)
    (folder / "model.gguf").write_bytes(b"not a gguf")
    (folder / MANIFEST_NAME).write_text(
        json.dumps({"id": "SmolLM2-135M-Instruct-Q4_1", "kind": "llm", "file": "model.gguf"})
    )
    spec = find_model(tmp_path / "models", None, "llm")
    assert spec.source == "user" and spec.file == folder / "model.gguf"
    from models.llm import Llm

    with pytest.raises(ModelLoadError):
        Llm(spec)


def test_unknown_model_id():
    with pytest.raises(ModelNotFoundError):
        find_model(Path("/nonexistent"), "no-such-model", "embedding")


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    payload = b""
    requests: ClassVar[list[str | None]] = []

    def do_GET(self):
        type(self).requests.append(self.headers.get("Range"))
        data = self.payload
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture
def server():
    gguf = find_model(Path("/nonexistent"), None, "llm").file
    _RangeHandler.payload = gguf.read_bytes()
    _RangeHandler.requests = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", _RangeHandler.payload
    srv.shutdown()


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_download_verifies_resumes_and_the_model_runs(tmp_path, server):
    url, payload = server
    digest = hashlib.sha256(payload).hexdigest()
    models_dir = tmp_path / "models"
    spec = ModelSpec(
        id="tiny-chat",
        kind="llm",
        file=Path("tiny.gguf"),
        url=f"{url}/tiny.gguf",
        sha256=digest,
        size=len(payload),
        source="user",
    )
    # A previous, interrupted download left the first half behind.
    part = models_dir / "tiny-chat" / "tiny.gguf.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(payload[: len(payload) // 2])
    installed = download_model(spec, models_dir)
    assert _RangeHandler.requests[-1] == f"bytes={len(payload) // 2}-"
    assert installed.file.read_bytes() == payload
    found = find_model(models_dir, "tiny-chat", "llm")
    assert found.source == "user"
    from models.llm import Llm

    out = "".join(Llm(found).stream_chat([{"role": "user", "content": "Say hi."}], max_tokens=8))
    assert out.strip()


@pytest.mark.timeout(60)
def test_download_with_wrong_checksum_is_rejected(tmp_path, server):
    url, _payload = server
    spec = ModelSpec(
        id="bad",
        kind="llm",
        file=Path("bad.gguf"),
        url=f"{url}/bad.gguf",
        sha256="0" * 64,
        source="user",
    )
    with pytest.raises(DownloadError, match="Checksum"):
        download_model(spec, tmp_path)
    assert not (tmp_path / "bad" / "bad.gguf").exists()


def test_a_gguf_dropped_in_the_models_folder_is_found_without_manifest(tmp_path):
    import shutil

    src = find_model(Path("/nonexistent"), None, "llm").file
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    shutil.copy(src, models_dir / "my-chat.gguf")
    spec = find_model(models_dir, "my-chat", "llm")
    assert spec.source == "user" and spec.available
    from models.llm import Llm

    assert "".join(Llm(spec).stream_chat([{"role": "user", "content": "Hi"}], max_tokens=4))
