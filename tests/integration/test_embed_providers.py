"""An accelerated provider that cannot run leaves a working CPU session (real onnxruntime)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from models.catalogue import find_model
from models.embedder import Embedder, EmbedderConfig
from models.providers import CPU

TEXTS = [
    "The inverter's warranty lasts ten years.",
    "A kitten naps on the couch while rain falls outside.",
    "Mean pooling averages the token vectors under the attention mask. " * 6,
]


@pytest.fixture(scope="module")
def cpu_vectors() -> np.ndarray[Any, Any]:
    spec = find_model(Path("/nonexistent-models-dir"), None, "embedding")
    plain = Embedder(spec, EmbedderConfig(device="cpu"))
    assert plain.provider == CPU
    return plain.embed(TEXTS)


def _spec():  # type: ignore[no-untyped-def]
    return find_model(Path("/nonexistent-models-dir"), None, "embedding")


def test_cuda_asked_for_but_not_in_this_runtime_embeds_on_cpu(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    cpu_vectors: np.ndarray[Any, Any],
) -> None:
    # Findling is told the runtime has CUDA; the real onnxruntime build has not, so the
    # session it makes with [CUDA, CPU] runs on the CPU -- which Findling must notice.
    real = list(ort.get_available_providers())
    assert "CUDAExecutionProvider" not in real, "this test needs a CPU-only onnxruntime"
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", *real])
    with caplog.at_level(logging.WARNING, logger="models.providers"):
        emb = Embedder(_spec(), EmbedderConfig(device="cuda"))
    assert emb.provider == CPU
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "CUDAExecutionProvider" in warned[0], warned
    got = emb.embed(TEXTS)
    assert np.allclose(got, cpu_vectors, atol=1e-6)


def test_session_that_fails_with_the_accelerator_is_made_again_on_cpu(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    cpu_vectors: np.ndarray[Any, Any],
) -> None:
    real_session = ort.InferenceSession
    tried: list[list[str]] = []

    def session(path: str, sess_options: Any = None, providers: Any = None) -> Any:
        tried.append(list(providers))
        if providers[0] != CPU:
            raise RuntimeError("DirectML device removed")  # what a broken driver gives
        return real_session(path, sess_options=sess_options, providers=providers)

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["DmlExecutionProvider", CPU])
    monkeypatch.setattr(ort, "InferenceSession", session)
    with caplog.at_level(logging.WARNING, logger="models.providers"):
        emb = Embedder(_spec(), EmbedderConfig(device="auto"))
    assert tried == [["DmlExecutionProvider", CPU], [CPU]]
    assert emb.provider == CPU
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "device removed" in warned[0], warned
    assert np.allclose(emb.embed(TEXTS), cpu_vectors, atol=1e-6)


def test_default_device_on_this_machine_is_the_cpu_and_says_so(embedder: Embedder) -> None:
    assert embedder.config.device == "auto"
    assert embedder.provider in ort.get_available_providers()
