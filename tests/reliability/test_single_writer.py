"""One writer at a time: hand over or exit 2 at once, never hang; readers never block."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from indexer.errors import IndexLockedError
from indexer.pipeline import Indexer
from tests.conftest import cli_env, index_config, run_cli, start_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args, timeout=120)


@pytest.mark.timeout(300)
def test_second_writer_hands_over_or_exits_2_and_readers_work(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Owls hunt at night using silent feathers.")
    home = tmp_path / "home"
    env = cli_env(home)
    assert _cli(env, "index", str(docs)).returncode == 0
    index_dir = home / "index"

    # A writer that does not take requests (a one-shot index): others exit 2 at once.
    with Indexer(index_config(index_dir, docs), embedder):
        t0 = time.monotonic()
        r = _cli(env, "index", "--json")
        assert r.returncode == 2, r.stderr
        assert "Another Findling process" in r.stderr
        with pytest.raises(IndexLockedError):
            Indexer(index_config(index_dir, docs), embedder)
        # Readers do not wait for the writer.
        s = _cli(env, "search", "owls at night", "--json")
        st = _cli(env, "status", "--json")
        assert s.returncode == 0 and "a.txt" in s.stdout
        assert st.returncode == 0 and json.loads(st.stdout.splitlines()[-1])["writer"]
        assert time.monotonic() - t0 < 90

    # `watch` takes requests: `index` hands over (exit 0) and the watcher does the work.
    watch = start_cli(env, "watch", "--json")
    try:
        assert watch.stdout is not None
        line = watch.stdout.readline()
        assert json.loads(line)["event"] == "ready", line
        more = tmp_path / "more"
        more.mkdir()
        (more / "b.txt").write_text("Badgers dig long tunnels under hedgerows.")
        r = _cli(env, "index", str(more), "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout.splitlines()[-1])["event"] == "handed-over"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            s = _cli(env, "search", "badgers tunnels", "--json")
            assert s.returncode == 0
            if "b.txt" in s.stdout:
                break
            time.sleep(1)
        assert "b.txt" in s.stdout, "the watcher did not pick up the handed-over request"
        assert _cli(env, "watch").returncode == 2  # a second watcher exits at once
    finally:
        watch.terminate()
        watch.wait(30)
    assert watch.returncode == 0
