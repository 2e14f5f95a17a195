"""Findling's memory: the resident engine in each state, and the peak of ``findling index``.

Issue 11 §4 reported a 976 MB peak while indexing against Recoll's 57 MB. This measures, one
after the other on the same machine:

1. the resident engine (a child process, ``FINDLING_HOME`` in a temporary folder): RSS with no
   model loaded, with the embedder loaded, with the LLM loaded and one short answer generated, and
   after :meth:`app.engine.Engine.unload_llm`;
2. ``findling index FOLDER`` with a fresh ``FINDLING_HOME``: the peak RSS of the main process and
   of the whole process tree (extraction runs in worker processes), polled with psutil every
   50 ms, and the kernel's own peak for the largest process (``ru_maxrss``, what
   ``/usr/bin/time -v`` reports as "Maximum resident set size");
3. ``recollindex`` on the same folder with a fresh configuration, measured the same way, when it
   is installed (``apt-get install recollcmd poppler-utils``).

    .venv/bin/python benchmarks/bench_memory.py [DIR] [--files 20] [--skip-index] [--json]

DIR defaults to Debian's ``texlive-humanities-doc`` (``../shared/corpus/fetch-debdocs.sh``); the
first ``--files`` PDFs in path order are copied to a temporary folder. Results go to
``benchmarks/results/memory.json`` (``--out`` to write elsewhere, e.g. a "before" run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "memory.json"
FINDLING = ROOT / ".venv" / "bin" / "findling"
PYTHON = ROOT / ".venv" / "bin" / "python"
DEBDOCS = Path("/work/data/debdocs/texlive-humanities-doc")
MB = 1024 * 1024

# Runs in a child process so that each state's RSS is that of a fresh engine, not this script's.
ENGINE_STATES = textwrap.dedent(
    """
    import json, sys, time
    import psutil
    from app.engine import Engine
    from app.paths import app_paths
    from app.settings import Settings
    proc = psutil.Process()
    def rss():
        time.sleep(0.3)
        return round(proc.memory_info().rss / 2**20, 1)
    out = {}
    engine = Engine(app_paths(), Settings(llm_unload_after_s=0))
    out["idle_no_model_mb"] = rss()
    engine.embedder.embed(["warm the session up with one passage"])
    out["embedder_loaded_mb"] = rss()
    llm = engine.llm
    text = "".join(llm.stream_chat([{"role": "user", "content": "Say hello."}], max_tokens=8))
    out["llm_loaded_mb"] = rss()
    out["llm_unloaded"] = engine.unload_llm()
    out["after_llm_unload_mb"] = rss()
    out["llm_reply"] = text
    print(json.dumps(out))
    """
)


def engine_states(home: Path) -> dict[str, Any]:
    env = {**os.environ, "FINDLING_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(PYTHON), "-c", ENGINE_STATES], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def peak_of(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd``; its wall time and peak RSS (main process, process tree, kernel's maxrss)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    main_peak = tree_peak = 0
    while proc.poll() is None:
        try:
            procs = [ps, *ps.children(recursive=True)]
            sizes = []
            for p in procs:
                try:
                    sizes.append(p.memory_info().rss)
                except psutil.Error:
                    sizes.append(0)
            main_peak = max(main_peak, sizes[0])
            tree_peak = max(tree_peak, sum(sizes))
        except psutil.Error:
            pass
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {err[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": round(elapsed, 1),
        "peak_main_mb": round(main_peak / MB, 1),
        "peak_tree_mb": round(tree_peak / MB, 1),
        # ru_maxrss of waited-for children is a running maximum: only a new high shows here.
        "maxrss_largest_process_mb": round(after / 1024, 1) if after > before else None,
    }


def pick_files(folder: Path, n: int) -> list[Path]:
    pdfs = sorted(p for p in folder.rglob("*.pdf") if p.is_file())
    return pdfs[:n]


def count_pages(files: list[Path]) -> int:
    import pymupdf

    pages = 0
    for f in files:
        try:
            with pymupdf.open(f) as doc:
                pages += doc.page_count
        except Exception:  # a damaged file counts as a file without pages
            pass
    return pages


def measure(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "ram_mb": round(psutil.virtual_memory().total / MB),
            "note": "2-core machine shared with other jobs while this ran",
        }
    }
    with tempfile.TemporaryDirectory(prefix="findling-bench-mem-") as tmp:
        result["engine"] = engine_states(Path(tmp) / "home-engine")
        if args.skip_index:
            return result
        files = pick_files(args.folder, args.files)
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for i, f in enumerate(files):
            shutil.copy2(f, docs / f"{i:03d}-{f.name}")
        result["folder"] = {
            "source": str(args.folder),
            "files": len(files),
            "pages": count_pages(files),
            "bytes": sum(f.stat().st_size for f in files),
        }
        env = {**os.environ, "FINDLING_HOME": str(Path(tmp) / "home-index")}
        env["PYTHONPATH"] = str(ROOT)
        result["findling_index"] = peak_of([str(FINDLING), "index", str(docs)], env)
        if shutil.which("recollindex"):
            conf = Path(tmp) / "recoll"
            conf.mkdir()
            (conf / "recoll.conf").write_text(f"topdirs = {docs}\nloglevel = 1\n", "utf-8")
            result["recollindex"] = peak_of(["recollindex", "-c", str(conf)], dict(os.environ))
        else:
            result["recollindex"] = None
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, default=DEBDOCS)
    ap.add_argument("--files", type=int, default=20, help="PDFs taken from the folder")
    ap.add_argument("--skip-index", action="store_true", help="only the engine's states")
    ap.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    result = measure(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(result, indent=2) if args.json else _summary(result))
    return 0


def _summary(r: dict[str, Any]) -> str:
    e = r["engine"]
    lines = [
        f"engine idle {e['idle_no_model_mb']} MB, embedder {e['embedder_loaded_mb']} MB, "
        f"LLM {e['llm_loaded_mb']} MB, after unload {e['after_llm_unload_mb']} MB"
    ]
    if "findling_index" in r:
        f, rc = r["findling_index"], r.get("recollindex")
        lines.append(
            f"findling index ({r['folder']['files']} PDFs, {r['folder']['pages']} pages): "
            f"{f['seconds']} s, peak main {f['peak_main_mb']} MB, tree {f['peak_tree_mb']} MB"
        )
        if rc:
            lines.append(
                f"recollindex: {rc['seconds']} s, peak main {rc['peak_main_mb']} MB, "
                f"tree {rc['peak_tree_mb']} MB"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
