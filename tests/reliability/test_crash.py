"""SIGKILL at random and at targeted moments, many times; the index must stay exact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.scan import content_hash
from tests.reliability.helpers import consistent

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHILD = Path(__file__).with_name("_crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
WORDS = [
    "tide",
    "harbour",
    "lantern",
    "granite",
    "meadow",
    "compass",
    "ferry",
    "glacier",
    "orchard",
    "quarry",
    "saddle",
    "thimble",
    "velvet",
    "walnut",
    "yarrow",
    "zephyr",
    "anchor",
    "beacon",
    "cobalt",
    "dune",
    "ember",
    "falcon",
    "gravel",
    "heron",
]
LOOP_S = 75.0
MID_WORK = {
    "READY",
    "EMBED_START",
    "EMBED_END",
    "MERGE_START",
    "MERGE_END",
    "COMMITTED",
    "OPT_START",
    "OPT_END",
    "DELETE_START",
    "DELETE_END",
}


def _write_doc(folder: Path, n: int, rng: random.Random) -> None:
    body = " ".join(rng.choice(WORDS) for _ in range(45))
    (folder / f"note{n:04d}.txt").write_text(f"Note token zq{n}x. {body}.\n")


class Markers:
    """Reads the child's marker file as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[list[str]] = []
        self._pos = 0

    def poll(self) -> list[list[str]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as f:
            f.seek(self._pos)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self._pos += end
        new = [ln.split()[:-1] for ln in data[:end].decode().splitlines() if ln.strip()]
        self.lines += new
        return new

    @property
    def last(self) -> str:
        return self.lines[-1][0] if self.lines else "NOT_STARTED"


def _run_child(index_dir: Path, corpus: Path, marker_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(index_dir), str(corpus), str(marker_file)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.timeout(360)
def test_sigkill_anywhere_loses_nothing_and_duplicates_nothing(tmp_path, embedder):
    rng = random.Random(int(os.environ.get("FINDLING_CRASH_SEED", "20240607")))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    next_id = 0
    for _ in range(60):
        _write_doc(corpus, next_id, rng)
        next_id += 1
    index_dir = tmp_path / "index"
    landed: dict[str, int] = {}
    merged_before_kill: list[set[str]] = []
    ready_docs: list[set[str]] = []
    merged_ever: set[str] = set()
    redone: list[str] = []
    lost_batches = 0
    completed = 0
    kills = 0
    t_end = time.monotonic() + LOOP_S
    it = 0
    while time.monotonic() < t_end:
        it += 1
        if completed or it % 3 == 0:
            # Give the next run fresh work: edits, additions and deletions between runs.
            files = sorted(corpus.glob("*.txt"))
            for p in rng.sample(files, 3):
                p.write_text(p.read_text() + f" Edited {it} {rng.choice(WORDS)}.\n")
            for p in rng.sample([f for f in files], 2):
                p.unlink()
            for _ in range(4):
                _write_doc(corpus, next_id, rng)
                next_id += 1
            completed = 0
        mf = tmp_path / f"markers-{it:03d}.txt"
        m = Markers(mf)
        proc = _run_child(index_dir, corpus, mf)
        strategy = it % 4
        target_delay = rng.uniform(0.0, 2.5)
        ready_at: float | None = None
        fire_at: float | None = None
        while proc.poll() is None:
            for line in m.poll():
                tag = line[0]
                if tag == "READY":
                    ready_at = time.monotonic()
                    ready_docs.append(set(line[1:]))
                    if strategy == 0:
                        fire_at = ready_at + target_delay
                elif fire_at is None and (
                    (strategy == 1 and tag == "MERGE_END")
                    or (strategy == 2 and tag == "OPT_START")
                    or (strategy == 3 and tag == "MERGE_START")
                ):
                    fire_at = time.monotonic() + (0.0 if strategy == 2 else rng.uniform(0, 0.08))
            if fire_at is not None and time.monotonic() >= fire_at:
                m.poll()
                where = m.last
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                landed[where] = landed.get(where, 0) + 1
                break
            if time.monotonic() > t_end + 30:
                proc.kill()
                proc.wait()
                pytest.fail("the child did not finish in time")
            time.sleep(0.004)
        else:
            err = proc.stderr.read().decode() if proc.stderr else ""
            assert proc.returncode == 0, err[-3000:]
            completed = 1
        m.poll()
        if proc.stderr:
            proc.stderr.close()
        # Work accounting for this run.
        merged_now: set[str] = set()
        for line in m.lines:
            if line[0] == "MERGE_START":
                redone += [h for h in line[1:] if h in merged_ever]
            elif line[0] == "MERGE_END":
                merged_now.update(line[1:])
        started = [ln for ln in m.lines if ln[0] == "MERGE_START"]
        ended = [ln for ln in m.lines if ln[0] == "MERGE_END"]
        lost_batches += len(started) - len(ended)
        embeds = [ln for ln in m.lines if ln[0] == "EMBED_END"]
        lost_batches += max(0, len(embeds) - len(started))
        merged_ever |= merged_now
        merged_before_kill.append(merged_now)

    # One last run without interruption, then verify everything.
    mf = tmp_path / "markers-final.txt"
    proc = _run_child(index_dir, corpus, mf)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    final = Markers(mf)
    final.poll()
    ready_docs.append(set(next(ln for ln in final.lines if ln[0] == "READY")[1:]))
    redone += [
        h for ln in final.lines if ln[0] == "MERGE_START" for h in ln[1:] if h in merged_ever
    ]

    print(
        f"\n{kills} kills in {it} runs; landed: {landed}; lost in-flight batches: "
        f"{lost_batches}; documents re-embedded after being written: {len(redone)}"
    )
    assert kills >= 6, f"only {kills} kills in {LOOP_S:.0f}s"
    mid = sum(n for k, n in landed.items() if k in MID_WORK)
    assert mid >= 0.7 * kills, f"only {mid}/{kills} kills landed mid-work: {landed}"
    assert landed.get("MERGE_END", 0) >= 1, f"no kill between chunk write and state: {landed}"
    assert landed.get("MERGE_START", 0) + landed.get("OPT_START", 0) >= 1, landed

    # Work done before each kill was kept: every document whose chunks reached LanceDB is still
    # there after recovery (adopted if its state update never happened) and never re-embedded.
    for i, merged in enumerate(merged_before_kill):
        assert merged <= ready_docs[i + 1], f"run {i + 1}: written documents were dropped"
    assert not redone, f"{len(redone)} document(s) were embedded again after being written"

    # The index matches the disk exactly: each file once, no orphan or missing chunks.
    counts = consistent(index_dir)
    from indexer.state import StateDB
    from indexer.store import ChunkStore

    db = StateDB(index_dir / "state.sqlite", readonly=True)
    rows = {r.path: r for r in db.files()}
    db.close()
    on_disk = {str(p): content_hash(p) for p in corpus.glob("*.txt")}
    assert set(rows) == set(on_disk)
    for p, h in on_disk.items():
        assert rows[p].state == "indexed" and rows[p].hash == h, (p, rows[p])
    assert set(counts) == set(on_disk.values())
    table = ChunkStore(index_dir, embedder.dims, readonly=True)._table.to_arrow()
    ids = table.column("chunk_id").to_pylist()
    assert len(ids) == len(set(ids)), "duplicate chunks"
    by_doc: dict[str, list[int]] = {}
    for d, o in zip(
        table.column("doc").to_pylist(), table.column("ordinal").to_pylist(), strict=True
    ):
        by_doc.setdefault(d, []).append(o)
    assert all(sorted(v) == list(range(len(v))) for v in by_doc.values())

    # The index opens and answers, and a further sync has nothing to redo.
    from indexer.search import Searcher

    probe = max(int(Path(p).stem[4:]) for p in on_disk)
    hits = Searcher(index_dir, embedder).search(f"zq{probe}x", 5).hits
    assert hits and Path(hits[0].path).name == f"note{probe:04d}.txt"
    from indexer.pipeline import Indexer
    from tests.conftest import index_config

    with Indexer(index_config(index_dir, corpus), embedder) as ix:
        r = ix.sync()
    assert r.embedded == 0 and not r.changed and r.unchanged == len(on_disk)
