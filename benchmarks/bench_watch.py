"""Watching: CPU used while idle, and a 10,000-file event storm settling to an exact index.

Runs the real ``Engine.run_watch`` loop (watchdog + indexer) on a thread, then:

1. measures this process's CPU time over ``--idle`` seconds of no file activity;
2. creates ``--files`` small files with distinct contents, renames half and deletes a quarter,
   as fast as the disk allows, and times how long until the index equals the disk;
3. then, in that folder of ``--files * 3/4`` files, saves a 10-page PDF ``--edits`` times (a new
   unique word each time, written beside it and renamed into place as editors do) and times
   how long until a search finds the word on its page (target: 3 s, issue 11).

Results go to benchmarks/results/watch.json.

    .venv/bin/python benchmarks/bench_watch.py [--files 10000] [--idle 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RUST_LOG", "error")
sys.path.insert(0, str(ROOT))


def indexed_paths(index_dir: Path) -> set[str]:
    from indexer.layout import IndexLayout

    con = sqlite3.connect(f"{IndexLayout(index_dir).state.as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT path FROM files WHERE state='indexed'")}
    finally:
        con.close()


def _write_pdf(path: Path, word: str) -> None:
    import pymupdf

    doc = pymupdf.open()
    for n in range(1, 11):
        text = f"Page {n} of the quarterly maintenance log. " * 12
        if n == 7:
            text += f" The inspector's code word is {word}."
        doc.new_page().insert_textbox(pymupdf.Rect(56, 56, 540, 790), text, fontsize=10)
    tmp = path.with_name(".~" + path.name)
    doc.save(str(tmp))
    doc.close()
    os.replace(tmp, path)


def edits(docs: Path, index_dir: Path, engine: object, n: int) -> list[float]:
    """Save a 10-page PDF ``n`` times; seconds from each save until search finds it."""
    from indexer.search import Searcher

    searcher = Searcher(index_dir, engine.embedder)  # type: ignore[attr-defined]
    out = []
    for i in range(n):
        word = f"zebrafinch{i}x{os.getpid()}"
        t0 = time.monotonic()
        _write_pdf(docs / "maintenance-log.pdf", word)
        while time.monotonic() - t0 < 120:
            hits = searcher.search(word, limit=3).hits
            if hits and hits[0].page == 7 and word in hits[0].text:
                out.append(round(time.monotonic() - t0, 2))
                break
            time.sleep(0.05)
        time.sleep(1.0)
    searcher.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "watch.json"))
    args = ap.parse_args()

    from app.engine import Engine
    from app.paths import AppPaths
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        docs = base / "docs"
        docs.mkdir()
        for i in range(50):
            (docs / f"seed{i}.txt").write_text(f"Seed note {i} about topic {i * 13}.")
        paths = AppPaths(base / "config", base, base / "index", base / "models", base / "logs")
        engine = Engine(paths, Settings(folders=[str(docs)], workers=1))
        ready = threading.Event()
        stop = threading.Event()
        t = threading.Thread(
            target=engine.run_watch,
            args=(stop,),
            kwargs={"on_ready": lambda r: ready.set()},
            daemon=True,
        )
        t.start()
        assert ready.wait(300), "watch did not become ready"
        time.sleep(2)
        c0, w0 = time.process_time(), time.monotonic()
        time.sleep(args.idle)
        idle_cpu = (time.process_time() - c0) / (time.monotonic() - w0) * 100

        t0 = time.monotonic()
        names = [docs / f"storm{i:05d}.txt" for i in range(args.files)]
        for i, p in enumerate(names):
            p.write_text(f"Storm file {i} mentions item {i * 7919 % 100003} and code Z{i}.")
        for p in names[: args.files // 2]:
            os.rename(p, p.with_name("renamed-" + p.name))
        for p in names[args.files // 2 : args.files // 2 + args.files // 4]:
            p.unlink()
        made = time.monotonic() - t0
        on_disk = {str(p) for p in docs.iterdir()}
        settled = None
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            if indexed_paths(paths.index_dir) == on_disk:
                settled = time.monotonic() - t0
                break
            time.sleep(1)
        edit_seconds = edits(docs, paths.index_dir, engine, args.edits) if settled else []
        stop.set()
        t.join(60)
    result = {
        "idle_seconds": args.idle,
        "idle_cpu_percent_of_one_core": round(idle_cpu, 2),
        "storm_files_created": args.files,
        "storm_renamed": args.files // 2,
        "storm_deleted": args.files // 4,
        "storm_disk_ops_seconds": round(made, 2),
        "storm_settled_seconds": round(settled, 1) if settled else None,
        "index_equals_disk": settled is not None,
        "changed_pdf_pages": 10,
        "changed_pdf_searchable_seconds": edit_seconds,
        "changed_pdf_searchable_max_seconds": max(edit_seconds) if edit_seconds else None,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
