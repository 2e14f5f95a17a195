"""Findling's keyword tier side by side with Recoll, on the same folder, in one run.

Issue 11 §1: a folder must be keyword-searchable at no less than half Recoll's pages per second,
and a no-op re-index (process start included) must take at most 2 s. This runs, one after the
other on the same machine:

1. ``recollindex -c CONF`` on a fresh configuration whose ``topdirs`` is the folder (Recoll
   reads PDFs with ``pdftotext`` from poppler-utils), then again with nothing changed;
2. ``findling index --keyword-only FOLDER`` with a fresh ``FINDLING_HOME`` (the command returns
   once every file is keyword-searchable), then again with nothing changed;
3. a keyword search for a word from the last file Findling indexed, which must find that file
   (so "searchable" is checked, not assumed);
4. with ``--semantic``, ``findling index`` again, which fills in the vectors (the second tier).

Pages are counted with PyMuPDF. Results go to ``benchmarks/results/recoll.json``.

    apt-get install recollcmd poppler-utils
    .venv/bin/python benchmarks/bench_recoll.py DIR [--semantic] [--json]

The Debian documentation set (``../shared/corpus/fetch-debdocs.sh``) is the reference collection;
the issue's subset is its ``texlive-humanities-doc`` folder (142 PDFs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "recoll.json"
FINDLING = ROOT / ".venv" / "bin" / "findling"


def count_pages(folder: Path) -> tuple[int, int]:
    """(files, pages) of the PDF/EPUB files under ``folder``."""
    import pymupdf

    files = pages = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".pdf", ".epub") or not path.is_file():
            continue
        files += 1
        try:
            with pymupdf.open(path) as doc:
                pages += doc.page_count
        except Exception:  # a damaged file counts as a file without pages
            pass
    return files, pages


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run ``cmd``; (wall seconds, stdout). Raises on a non-zero exit."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed, done.stdout


def run_recoll(folder: Path, work: Path) -> dict[str, Any]:
    conf = work / "recoll"
    conf.mkdir()
    (conf / "recoll.conf").write_text(f"topdirs = {folder}\nloglevel = 1\n", "utf-8")
    full, _ = timed(["recollindex", "-c", str(conf)])
    noop, _ = timed(["recollindex", "-c", str(conf)])
    size = sum(p.stat().st_size for p in conf.rglob("*") if p.is_file())
    return {"index_s": round(full, 2), "noop_s": round(noop, 3), "index_bytes": size}


def _distinctive_word(home: Path) -> tuple[str, str] | None:
    """A long word from the passages of the last file the keyword tier wrote, and its path."""
    import sqlite3

    state = home / "index" / "state.sqlite"
    con = sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT path FROM files WHERE state='indexed' ORDER BY rowid DESC LIMIT 20"
        ).fetchall()
    finally:
        con.close()
    import pymupdf

    for (path,) in rows:
        try:
            with pymupdf.open(path) as doc:
                text = " ".join(doc[i].get_text() for i in range(min(3, doc.page_count)))
        except Exception:
            continue
        words = sorted(set(re.findall(r"\b[a-z]{9,}\b", text.lower())), key=lambda w: -len(w))
        if words:
            return words[len(words) // 2], path
    return None


def run_findling(folder: Path, work: Path, semantic: bool) -> dict[str, Any]:
    home = work / "findling"
    env = {**os.environ, "FINDLING_HOME": str(home)}
    full, out = timed([str(FINDLING), "index", "--keyword-only", "--json", str(folder)], env)
    summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    noop, _ = timed([str(FINDLING), "index", "--keyword-only", "--json"], env)
    result: dict[str, Any] = {
        "keyword_index_s": round(full, 2),
        "noop_s": round(noop, 3),
        "index_report": summary,
    }
    probe = _distinctive_word(home)
    if probe:
        word, path = probe
        search_s, out = timed([str(FINDLING), "search", "--json", "--limit", "50", word], env)
        hits = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        result["probe"] = {
            "word": word,
            "file": path,
            "found": any(h.get("path") == path for h in hits),
            "search_s": round(search_s, 2),
        }
    _, out = timed([str(FINDLING), "status", "--json"], env)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    summary_lines = [x for x in lines if "semantic_pending" in x]
    result["status"] = summary_lines[0] if summary_lines else (lines[-1] if lines else {})
    if semantic:
        sem, _ = timed([str(FINDLING), "index", "--json"], env)
        result["semantic_index_s"] = round(sem, 2)
    result["index_bytes"] = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "folder", type=Path, help="folder of PDFs (e.g. debdocs/texlive-humanities-doc)"
    )
    ap.add_argument("--semantic", action="store_true", help="also time the vector tier")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON object")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if shutil.which("recollindex") is None:
        print("recollindex not found: apt-get install recollcmd poppler-utils", file=sys.stderr)
        return 2
    folder = args.folder.resolve()
    files, pages = count_pages(folder)
    with tempfile.TemporaryDirectory(prefix="bench-recoll-") as tmp:
        work = Path(tmp)
        recoll = run_recoll(folder, work)
        findling = run_findling(folder, work, args.semantic)
    rate_recoll = pages / recoll["index_s"]
    rate_findling = pages / findling["keyword_index_s"]
    result = {
        "folder": str(folder),
        "files": files,
        "pages": pages,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "recoll": recoll,
        "findling": findling,
        "pages_per_s": {"recoll": round(rate_recoll, 1), "findling": round(rate_findling, 1)},
        "keyword_rate_ratio": round(rate_findling / rate_recoll, 3),
        "targets": {"keyword_rate_ratio_min": 0.5, "noop_s_max": 2.0},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{files} files, {pages} pages: Recoll {recoll['index_s']} s "
            f"({result['pages_per_s']['recoll']} pages/s), Findling keyword tier "
            f"{findling['keyword_index_s']} s ({result['pages_per_s']['findling']} pages/s): "
            f"{result['keyword_rate_ratio']}x; no-op Recoll {recoll['noop_s']} s, "
            f"Findling {findling['noop_s']} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
