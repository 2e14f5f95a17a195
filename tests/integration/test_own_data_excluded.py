"""Findling never indexes (or watches) its own data when a configured folder holds it."""

import json
from pathlib import Path

import pytest

from indexer.scan import IgnoreRules, walk
from indexer.watch import Watcher
from tests.conftest import cli_env, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_home_inside_an_indexed_folder_is_left_out(tmp_path):
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "recipe.txt").write_text("Knead the dough for ten minutes, then let it rise.")
    home = docs / "Findling data"  # not hidden: only the exclusion keeps it out
    env = cli_env(home)
    r = run_cli(env, "index", str(docs), "--json")
    assert r.returncode == 0, r.stderr
    # The run wrote settings.toml, the state database, logs… inside the folder it indexed.
    assert (home / "config" / "settings.toml").exists()
    r = run_cli(env, "index", "--json")  # a second pass sees the first pass's files too
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["added"] == 0
    r = run_cli(env, "status", "--json")
    paths = [json.loads(x)["path"] for x in r.stdout.splitlines() if '"path"' in x]
    assert paths == [str(docs / "recipe.txt")]


def test_scan_and_watcher_skip_excluded_folders_below_the_root_only(tmp_path):
    root = tmp_path / "me"
    own = root / "Findling"
    (own / "config").mkdir(parents=True)
    (own / "config" / "settings.toml").write_text("folders = []\n")
    (root / "notes.md").write_text("# Notes\n")
    rules = IgnoreRules((), exclude=(own,))
    assert [f.path for f in walk(root, rules)] == [root / "notes.md"]
    assert rules.excluded(own / "config" / "settings.toml", root)
    assert not rules.excluded(root / "notes.md", root)
    # Excluding a folder above the root must not hide the root's own files.
    assert not IgnoreRules((), exclude=(tmp_path,)).excluded(root / "notes.md", root)
    w = Watcher([root], exclude=(own,))
    assert not w._relevant(own / "config" / "settings.toml", root)
    assert w._relevant(Path(root / "notes.md"), root)
