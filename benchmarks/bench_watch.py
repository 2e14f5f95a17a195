"""Watching: CPU used while idle, and a 10,000-file event storm settling to an exact index.

Runs the real ``Engine.run_watch`` loop (watchdog + indexer) on a thread, then:

1. measures this process's CPU time over ``--idle`` seconds of no file activity;
2. creates ``--files`` small files with distinct contents, renames half and deletes a quarter,
   as fast as the disk allows, and times how long until the index equals the disk.

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
sys.path.insert(0, str(ROOT))


def indexed_paths(index_dir: Path) -> set[str]:
    con = sqlite3.connect(f"{(index_dir / 'state.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        return {r[0] for r in con.execute("SELECT path FROM files WHERE state='indexed'")}
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--idle", type=float, default=30.0)
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
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
