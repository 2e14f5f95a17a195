"""The public `findling` command: JSON lines, exit codes, FINDLING_HOME."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cli_env, make_pdf, run_cli, start_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]


def run(home, *args, timeout=240):
    return run_cli(cli_env(home), *args, timeout=timeout)


def lines(out):
    return [json.loads(x) for x in out.splitlines() if x.strip()]


@pytest.fixture
def docs(tmp_path):
    d = tmp_path / "docs"
    make_pdf(
        d / "solar.pdf",
        [
            "Introduction to the array.",
            "The inverter warranty lasts twelve years from installation.",
        ],
    )
    (d / "notes.txt").write_text("Serial ZX-5521 is printed under the battery lid.")
    (d / "locked.pdf").write_bytes(b"%PDF-1.7 nonsense")
    return d


def test_index_search_ask_status_json(tmp_path, docs):
    home = tmp_path / "home"
    r = run(home, "index", str(docs), "--json")
    assert r.returncode == 0, r.stderr
    summary = lines(r.stdout)[-1]
    assert summary["added"] == 2 and summary["failed"] == 1
    assert (home / "index" / "state.sqlite").exists() and (
        home / "config" / "settings.toml"
    ).exists()

    r = run(home, "search", "how long is the inverter guaranteed", "--json", "--limit", "3")
    assert r.returncode == 0, r.stderr
    hits = lines(r.stdout)
    assert hits and len(hits) <= 3
    top = hits[0]
    assert top["path"] == str(docs / "solar.pdf") and top["page"] == 2
    assert Path(top["path"]).is_absolute() and isinstance(top["score"], float)
    assert "warranty" in top["snippet"] and top["chunk_id"]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)

    r = run(home, "search", "ZX-5521", "--json")
    txt = next(h for h in lines(r.stdout) if h["path"].endswith("notes.txt"))
    assert txt["page"] is None

    r = run(home, "ask", "How long does the inverter warranty last?", "--json")
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    final = out[-1]
    # The quoted answer sentence comes first, as soon as search returns, then the tokens.
    extract = out[0]["extract"]
    assert extract["path"] == str(docs / "solar.pdf") and extract["page"] == 2
    assert "twelve years" in extract["text"] and extract["end"] - extract["start"] == len(
        extract["text"]
    )
    tokens = out[1:-1]
    assert tokens and all("token" in o for o in tokens), out  # the answer streamed
    assert set(final) >= {"answer", "found", "grounded", "extract", "sentences", "citations"}
    assert final["found"] is True
    assert final["citations"][0]["path"] == str(docs / "solar.pdf")
    assert final["citations"][0]["page"] == 2

    # A name that no file mentions: not found, and the answer says which.
    r = run(home, "ask", "How long does the Vestas inverter warranty last?", "--json")
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    assert out[0] == {"extract": None} and out[-1]["found"] is False, out
    assert out[-1]["unmentioned"] == ["Vestas"] and "Vestas" in out[-1]["answer"]

    r = run(home, "status", "--json")
    out = lines(r.stdout)
    files = {Path(o["path"]).name: o for o in out if "path" in o}
    assert files["locked.pdf"]["state"] == "corrupt" and files["locked.pdf"]["reason"]
    assert files["solar.pdf"]["state"] == "indexed" and files["solar.pdf"]["chunks"] >= 1
    assert out[-1]["summary"] is True and out[-1]["indexed"] == 2 and out[-1]["failed"] == 1
    # The provider the indexer embedded on, recorded by the writer (no model loaded for it).
    assert out[-1]["embed_device"] == "auto"
    assert out[-1]["embed_provider"] == "CPUExecutionProvider"


def test_plain_ask_says_which_named_place_no_file_mentions(tmp_path):
    # A found answer about one of two places names the other, in plain text as in --json.
    docs = tmp_path / "docs"
    make_pdf(
        docs / "warranty.pdf",
        ["Terms of sale.", "In Spain the inverter warranty lasts twelve years from installation."],
    )
    home = tmp_path / "home"
    assert run(home, "index", str(docs)).returncode == 0
    r = run(home, "ask", "How long does the inverter warranty last in Spain and in Peru?")
    assert r.returncode == 0, r.stderr
    assert "From warranty.pdf, page 2:" in r.stdout and "twelve years" in r.stdout, r.stdout
    assert "Nothing in your files mentions \u201cPeru\u201d." in r.stdout, r.stdout
    assert "Spain\u201d" not in r.stdout


def test_exit_codes_usage_and_locked(tmp_path, docs):
    home = tmp_path / "home"
    assert run(home, "frobnicate").returncode == 1
    assert run(home, "search").returncode == 1
    assert run(home, "index", str(tmp_path / "missing")).returncode == 1
    # Hold the lock from another process that does not accept requests.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; sys.path.insert(0, sys.argv[1]);"
            "from indexer.lock import WriterLock;"
            " l=WriterLock(__import__('pathlib').Path(sys.argv[2]),"
            " role='test'); l.acquire(); print('held', flush=True); time.sleep(60)",
            str(ROOT),
            str(home / "index"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        t = time.monotonic()
        r = run(home, "index", str(docs))
        assert r.returncode == 2 and "pid" in r.stderr
        assert time.monotonic() - t < 30
        # Readers never block.
        assert run(home, "status", "--json").returncode == 0
        assert run(home, "search", "inverter", "--json").returncode == 0
    finally:
        holder.kill()
        holder.wait()


def _eventually_found(home, query, path, seconds):
    """Whether a search finds ``path`` within ``seconds`` (polling the public CLI)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        res = run(home, "search", query, "--json")
        if any(h["path"] == str(path) for h in lines(res.stdout)):
            return True
        time.sleep(0.5)
    return False


def test_index_hands_over_to_running_watch(tmp_path, docs):
    home = tmp_path / "home"
    assert run(home, "index", str(docs)).returncode == 0
    watch = start_cli(cli_env(home), "watch", "--json")
    try:
        first = json.loads(watch.stdout.readline())
        assert first["event"] == "ready"
        more = tmp_path / "more"
        more.mkdir()
        (more / "x.md").write_text("# Recipes\n\nThe secret ingredient is cardamom.")
        r = run(home, "index", str(more), "--json")
        assert r.returncode == 0 and "handed" in r.stderr.lower()
        assert _eventually_found(home, "cardamom", more / "x.md", 60)
        # A change on disk is picked up within seconds.
        (docs / "new.txt").write_text("Flamingos stand on one leg to save heat.")
        assert _eventually_found(home, "flamingos", docs / "new.txt", 30)
    finally:
        watch.terminate()
        watch.wait(30)
    assert watch.returncode == 0


def _next_event(proc: subprocess.Popen[str], timeout: float) -> dict | None:
    """The next JSON line of a running ``watch --json``, or None after ``timeout`` seconds."""
    import select

    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return json.loads(proc.stdout.readline()) if ready else None  # type: ignore[union-attr]


def test_watch_adds_the_folders_it_is_given_and_reports_a_rename_as_a_move(tmp_path, docs):
    home = tmp_path / "home"
    watch = start_cli(cli_env(home), "watch", str(docs), "--json")
    try:
        ready = _next_event(watch, 120)
        assert ready and ready["event"] == "ready" and ready["added"] == 2 and ready["failed"] == 1
        # Right after "ready": the watcher is already following (nothing waits for a rescan).
        (docs / "notes.txt").rename(docs / "battery-notes.txt")
        event = _next_event(watch, 30)
        assert event and event["event"] == "sync", event
        assert (event["moved"], event["removed"], event["embedded"]) == (1, 0, 0), event
        assert _eventually_found(home, "ZX-5521", docs / "battery-notes.txt", 30)
    finally:
        watch.terminate()
        watch.wait(30)
    assert watch.returncode == 0
    assert run(home, "watch", str(tmp_path / "missing")).returncode == 1


def test_invalid_settings_exit_1_naming_key_and_line_and_nothing_is_indexed(tmp_path, docs):
    home = tmp_path / "home"
    settings = home / "config" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f'schema = 1\nfolders = "{docs}"\nmax_file_mb = "big"\n')
    before = settings.read_bytes()
    for args in (("folders", "list"), ("index",), ("index", str(docs)), ("status", "--json")):
        r = run(home, *args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "line 2: folders: expected a list of strings" in r.stderr, r.stderr
        assert "line 3: max_file_mb: expected a whole number" in r.stderr, r.stderr
        assert r.stdout == ""
    assert settings.read_bytes() == before
    assert not (home / "index" / "state.sqlite").exists()


def test_a_bad_date_prefix_is_reported_not_silently_dropped(tmp_path):
    env = cli_env(tmp_path / "home")
    r = run_cli(env, "search", "after:20x harbour")
    assert r.returncode == 0, r.stderr
    assert "“20x” is not a date" in r.stderr and "searching without it" in r.stderr
    ok = run_cli(env, "search", "after:2020 harbour")
    assert "not a date" not in ok.stderr
