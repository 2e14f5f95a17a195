"""Bad input: real broken/encrypted/odd files, hangs and memory bombs, each recorded with a
reason while the run goes on."""

from __future__ import annotations

import os
import time

import pytest

from indexer.pipeline import Indexer
from indexer.sandbox import SandboxConfig
from tests.conftest import index_config, lorem_text, make_pdf, shared_path
from tests.reliability.helpers import FINAL_STATES, consistent

pytestmark = [pytest.mark.integration]


def _states(ix: Indexer) -> dict[str, tuple[str, str | None]]:
    return {r.path: (r.state, r.reason) for r in ix.state.files()}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_shared_bad_pdfs_and_office_files_all_get_a_state(tmp_path, embedder):
    bad = shared_path("corpus", "bad-pdfs")
    office = shared_path("corpus", "office")
    cfg = index_config(
        tmp_path / "index",
        bad,
        office,
        sandbox=SandboxConfig(workers=2, timeout_s=60, memory_mb=3072),
    )
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        states = _states(ix)
    from indexer.extract.dispatch import supported_suffixes

    on_disk = {
        str(p)
        for root in (bad, office)
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in supported_suffixes() and not p.name.startswith(".")
    }
    assert set(states) == on_disk, "every supported file has a record"
    by_state: dict[str, int] = {}
    for path, (state, reason) in states.items():
        assert state in FINAL_STATES, f"{path}: unexpected state {state}"
        by_state[state] = by_state.get(state, 0) + 1
        if state != "indexed":
            assert reason and len(reason) > 10 and "Traceback" not in reason, (path, reason)
    # The corpus really exercises the failure paths, and the good files still index.
    assert by_state.get("encrypted", 0) >= 3, by_state
    assert by_state.get("corrupt", 0) >= 1, by_state
    assert by_state.get("indexed", 0) >= len(on_disk) // 2, by_state
    assert r.failed == len(on_disk) - by_state["indexed"]
    # Every known-good ODF/DOCX fixture either indexes or says why.
    odt = [p for p in states if p.endswith("api-for-odfpy.odt")]
    assert odt and states[odt[0]][0] == "indexed"
    consistent(cfg.index_dir)
    print("states:", by_state, f"in {r.seconds:.1f}s")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_hanging_file_is_stopped_marked_and_not_retried(tmp_path, embedder):
    d = tmp_path / "docs"
    d.mkdir()
    slow = lorem_text(d / "a-slow.txt", 40)  # a hang stand-in that still ends eventually
    (d / "b-good.txt").write_text("Lighthouses guide ships along rocky coasts at night.")
    cfg = index_config(tmp_path / "index", d, sandbox=SandboxConfig(workers=1, timeout_s=4))
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        states = _states(ix)
        assert states[str(d / "b-good.txt")][0] == "indexed"
        state, reason = states[str(slow)]
        assert state == "failed" and "longer than" in (reason or ""), (state, reason)
        assert r.added == 1 and r.failed == 1

        extracted: list[str] = []
        real_pool_run = ix._pool.run  # type: ignore[union-attr]

        def spy(paths, stop=None):  # type: ignore[no-untyped-def]
            paths = list(paths)
            extracted.extend(str(p) for p in paths)
            return real_pool_run(paths, stop)

        ix._pool.run = spy  # type: ignore[union-attr,method-assign]
        r = ix.sync()
        assert r.unchanged == 2 and not r.changed
        # Touched but the same bytes: still not retried (the content hash is remembered).
        os.utime(slow, (time.time() + 10, time.time() + 10))
        t0 = time.monotonic()
        r = ix.sync()
        assert str(slow) not in extracted, "a file that timed out was extracted again"
        assert time.monotonic() - t0 < 4
        assert ix.state.file(str(slow)).state == "failed"  # type: ignore[union-attr]
        # Changed bytes: a fresh try is fair.
        slow.write_text("Now it is a short and harmless note about tide tables.")
        r = ix.sync()
        assert str(slow) in extracted and ix.state.file(str(slow)).state == "indexed"  # type: ignore[union-attr]
    consistent(cfg.index_dir)


@pytest.mark.timeout(180)
def test_memory_bomb_is_contained_by_the_memory_limit(tmp_path, embedder):
    d = tmp_path / "docs"
    d.mkdir()
    bomb = d / "a-bomb.txt"
    with bomb.open("wb") as f:  # sparse: instant to create, 400 MB to read
        f.truncate(400 * 1024 * 1024)
    (d / "b-good.txt").write_text("Barometers measure air pressure before storms.")
    make_pdf(d / "c-good.pdf", ["Tide tables list high and low water for each day."])
    cfg = index_config(
        tmp_path / "index", d, sandbox=SandboxConfig(workers=1, timeout_s=60, memory_mb=768)
    )
    with Indexer(cfg, embedder) as ix:
        r = ix.sync()
        states = _states(ix)
    assert states[str(bomb)][0] == "failed", states[str(bomb)]
    assert "memory" in (states[str(bomb)][1] or ""), states[str(bomb)]
    assert states[str(d / "b-good.txt")][0] == "indexed"
    assert states[str(d / "c-good.pdf")][0] == "indexed"
    assert r.added == 2
