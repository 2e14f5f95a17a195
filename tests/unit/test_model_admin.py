"""app.model_admin: the model list's states, the recommendation, removal refusals, messages."""

from __future__ import annotations

import json

import pytest

from app.model_admin import (
    Machine,
    active_ids,
    download_message,
    model_rows,
    recommended_ids,
    removal_refusal,
)
from app.settings import Settings
from models.catalogue import (
    DEFAULT_EMBEDDING_ID,
    DEFAULT_LLM_ID,
    MANIFEST_NAME,
    QWEN_05B_ID,
    QWEN_15B_ID,
    catalogue,
)
from models.download import partial_path
from models.errors import ChecksumError, DiskFullError, DownloadError, NetworkError

GIB = 1 << 30


def test_rows_list_installed_packaged_and_catalogue_models_with_their_state(tmp_path):
    models = tmp_path / "models"
    mine = models / "my-chat"
    mine.mkdir(parents=True)
    (mine / "chat.gguf").write_bytes(b"GGUF")
    (mine / MANIFEST_NAME).write_text(json.dumps({"id": "my-chat", "kind": "llm"}))
    qwen = next(s for s in catalogue() if s.id == QWEN_05B_ID)
    part = partial_path(qwen, models)
    part.parent.mkdir()
    part.write_bytes(b"x" * 1234)

    settings = Settings(llm_model="my-chat")
    rows = {r.spec.id: r for r in model_rows(models, active_ids(settings), Machine(16 * GIB, 4))}
    assert next(iter(rows)) == "my-chat"  # the user's models first
    assert set(rows) >= {"my-chat", DEFAULT_EMBEDDING_ID, DEFAULT_LLM_ID, QWEN_05B_ID, QWEN_15B_ID}
    assert rows["my-chat"].active and rows["my-chat"].removable
    assert not rows[DEFAULT_LLM_ID].active and not rows[DEFAULT_LLM_ID].removable  # packaged
    assert rows[DEFAULT_EMBEDDING_ID].active and rows[DEFAULT_EMBEDDING_ID].recommended
    assert rows[QWEN_05B_ID].partial == 1234 and rows[QWEN_05B_ID].downloadable
    assert rows[QWEN_15B_ID].partial == 0 and rows[QWEN_15B_ID].recommended
    assert sum(r.recommended for r in rows.values() if r.spec.kind == "llm") == 1


@pytest.mark.parametrize(
    ("machine", "llm"),
    [
        (Machine(16 * GIB, 4), QWEN_15B_ID),
        (Machine(16 * GIB, 1), QWEN_05B_ID),
        (Machine(16 * GIB, 1, gpu=True), QWEN_15B_ID),
        (Machine(2 * GIB, 8), DEFAULT_LLM_ID),
    ],
)
def test_the_recommendation_follows_ram_cores_and_gpu(machine, llm):
    assert recommended_ids(machine) == {"embedding": DEFAULT_EMBEDDING_ID, "llm": llm}
    assert f"{machine.cores} cores" in machine.describe()


def test_models_in_use_cannot_be_removed(tmp_path):
    settings = Settings(llm_model="a", embedding_model="e")
    index = tmp_path / "index"
    assert "is the model in use" in (removal_refusal(settings, index, "a") or "")
    assert "is the model in use" in (removal_refusal(settings, index, "e") or "")
    assert "is the model in use" in (removal_refusal(settings, index, "b", ["b"]) or "")
    assert removal_refusal(settings, index, "b") is None


def test_each_download_failure_has_a_short_line():
    assert download_message(NetworkError("x")).startswith("No network")
    assert download_message(DiskFullError("x")).startswith("Disk full")
    assert download_message(ChecksumError("x")).startswith("Bad download")
    assert download_message(DownloadError("the server answered 404")) == "The server answered 404"


def test_a_machine_reads_this_computer():
    m = Machine.this()
    assert m.cores >= 1 and m.ram > 0
