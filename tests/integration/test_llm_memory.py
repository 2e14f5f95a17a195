"""The LLM between questions, on the real stack (llama.cpp with SmolLM2, the real engine).

A follow-up on the same passages reads only what changed (llama.cpp's own counters say how many
prompt tokens it evaluated), and the resident engine releases the model after its idle time and
loads it again for the next question.
"""

from __future__ import annotations

import gc
import time
import weakref
from pathlib import Path

import pytest

from app.engine import Engine
from app.paths import app_paths
from app.settings import Settings
from indexer.ask import build_prompt
from models.catalogue import find_model
from models.llm import Llm, LlmConfig
from tests.conftest import make_hit, make_pdf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PASSAGES = [
    "Boiler log. The boiler was serviced in March by the engineer, who replaced the pressure "
    "valve and checked the flue for leaks; the next service is due in the spring.",
    "Boiler log. The boiler pressure should read between one and two bar when the heating is "
    "cold; top it up with the filling loop under the boiler if it drops below one bar.",
    "Boiler notes. The boiler sits in the cellar next to the water softener. Its flue runs up "
    "the north wall and leaves the roof beside the chimney of the old fireplace.",
    "Radiators. Bleed the radiators each autumn before the heating season starts, beginning "
    "with the one furthest from the boiler, and check the pressure again afterwards.",
]


def _answer(llm: Llm, question: str) -> str:
    hits = [make_hit(n, text) for n, text in enumerate(PASSAGES, start=1)]
    return "".join(llm.stream_chat(build_prompt(question, hits), max_tokens=12, temperature=0.0))


def test_a_follow_up_on_the_same_passages_reads_only_the_new_question():
    engine = Engine(app_paths(), Settings(llm_unload_after_s=0))
    llm = engine.llm
    _answer(llm, "Where is the boiler?")
    first = llm.last_stats
    assert first is not None
    # A fresh context reads the whole prompt: the counter measures what it claims to.
    assert first.evaluated_tokens == first.prompt_tokens > 200

    assert engine.llm is llm, "the engine must keep one model, and with it the cache"
    _answer(llm, "When is the next service due?")
    again = llm.last_stats
    assert again is not None and again.prompt_tokens > 200
    # Instructions and sources come before the question, so only the question and the chat
    # template's tail are read again. Were the question put first, or a new Llama made for each
    # question, nearly the whole prompt would be evaluated.
    assert again.evaluated_tokens < 0.15 * again.prompt_tokens, again
    assert again.reused_tokens > 0.85 * again.prompt_tokens, again

    other = Llm(find_model(Path("/nonexistent"), None, "llm"), LlmConfig(n_ctx=4096))
    _answer(other, "When is the next service due?")
    assert other.last_stats is not None
    assert other.last_stats.evaluated_tokens == other.last_stats.prompt_tokens


def test_unload_waits_for_an_answer_in_progress():
    llm = Llm(find_model(Path("/nonexistent"), None, "llm"), LlmConfig(n_ctx=2048))
    hits = [make_hit(n, text) for n, text in enumerate(PASSAGES, start=1)]
    stream = llm.stream_chat(build_prompt("Where is the boiler?", hits), max_tokens=12)
    next(stream)  # generating now
    assert not llm.unload() and llm.loaded
    for _ in stream:
        pass
    assert llm.unload() and not llm.loaded
    assert not llm.unload(), "nothing left to release"
    assert _answer(llm, "Where is the boiler?").strip(), "a released model loads again"
    assert llm.loaded and llm.loads == 2


def test_no_idle_timer_when_unloading_is_off():
    llm = Llm(find_model(Path("/nonexistent"), None, "llm"), LlmConfig(n_ctx=2048))
    _answer(llm, "Where is the boiler?")
    assert llm._timer is None and llm.loaded


@pytest.mark.slow
def test_the_engine_releases_the_llm_when_idle_and_the_next_ask_works(tmp_path, embedder):
    docs = tmp_path / "docs"
    make_pdf(docs / "boiler-log.pdf", PASSAGES[:2])
    (docs / "boiler-notes.md").write_text("# Boiler\n\n" + PASSAGES[2] + "\n")
    settings = Settings(folders=[str(docs)], llm_unload_after_s=1, workers=1)
    engine = Engine(app_paths(), settings, embedder=embedder)
    with engine.open_indexer() as ix:
        assert ix.sync().added == 2

    first = engine.asker().ask("Where is the boiler?")
    assert first.found and "cellar" in first.answer.lower(), first.to_json()
    llm = engine.llm
    assert engine.llm_loaded
    released = weakref.ref(llm._llama)

    deadline = time.monotonic() + 30
    while engine.llm_loaded and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not engine.llm_loaded, "the model was not released after 1 s idle"
    gc.collect()
    assert released() is None, "something still holds the released llama.cpp model"

    again = engine.asker().ask("Where is the boiler?")
    assert again.found and "cellar" in again.answer.lower(), again.to_json()
    assert engine.llm is llm and llm.loaded and llm.loads == 2
