"""The engine loads its two models under separate locks: a search never waits for the LLM."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app import engine as engine_mod
from app.engine import Engine
from app.paths import app_paths
from app.settings import Settings

pytestmark = pytest.mark.timeout(30)


def test_embedder_is_available_while_the_llm_is_still_loading(home, monkeypatch):
    loading, release = threading.Event(), threading.Event()

    class SlowLlm:
        def __init__(self, *a: Any, **k: Any) -> None:
            loading.set()
            release.wait(20)

    class QuickEmbedder:
        max_tokens = 128

        def __init__(self, *a: Any, **k: Any) -> None:
            pass

    monkeypatch.setattr(engine_mod, "find_model", lambda *a: object())
    monkeypatch.setattr(engine_mod, "Llm", SlowLlm)
    monkeypatch.setattr(engine_mod, "Embedder", QuickEmbedder)
    engine = Engine(app_paths(), Settings())
    llm_thread = threading.Thread(target=lambda: engine.llm)
    llm_thread.start()
    try:
        assert loading.wait(10)
        got: list[object] = []
        search_thread = threading.Thread(target=lambda: got.append(engine.embedder))
        search_thread.start()
        search_thread.join(10)  # a generous bound: with one lock this waits for `release`
        assert got and isinstance(got[0], QuickEmbedder)
        assert not release.is_set()  # the LLM was still loading when the embedder came
    finally:
        release.set()
        llm_thread.join(10)


def test_the_embed_device_setting_reaches_the_embedder(home, monkeypatch):
    seen: list[Any] = []

    class RecordingEmbedder:
        def __init__(self, spec: Any, config: Any = None) -> None:
            seen.append(config)

    monkeypatch.setattr(engine_mod, "find_model", lambda *a: object())
    monkeypatch.setattr(engine_mod, "Embedder", RecordingEmbedder)
    engine = Engine(app_paths(), Settings(embed_device="cpu"))
    assert engine.embedder is not None
    assert [c.device for c in seen] == ["cpu"]
