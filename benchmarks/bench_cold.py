"""Cold start of ``findling search --json QUERY``: process start to the first result.

Issue 11 §4. A small index is built once (``findling index`` over a few PDFs in a temporary
``FINDLING_HOME``); then, alternating between source trees (``--root``, e.g. the main checkout
for "before" and this one for "after"):

1. ``findling search --json QUERY`` as a user runs it, wall time from process start until the
   first JSON line arrives on stdout (the median of ``--runs``);
2. the same search with ``python -X importtime``: the cumulative import time of the packages
   that dominate start-up (numpy, pyarrow, onnxruntime, tokenizers, LanceDB, PyMuPDF and its
   layout add-on) and of ``app.cli`` itself;
3. the phases inside one process: importing the CLI, loading the embedder, opening the index
   and the first query, each timed with ``perf_counter``.

    .venv/bin/python benchmarks/bench_cold.py [--root DIR ...] [--runs 5] [--json]

Results go to ``benchmarks/results/cold.json``. The page cache is warm after the first run, so
this is a warm-disk "cold start" (a new process), which is what a user meets after the first time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "cold.json"
PYTHON = ROOT / ".venv" / "bin" / "python"
DEBDOCS = Path("/work/data/debdocs/texlive-humanities-doc/texlive-doc/latex")
FILES = ("qtree/qarrows.pdf", "phonrule/phonrule-doc.pdf", "edfnotes/README.pdf")
QUERY = "phonological rules"
PACKAGES = (
    "app.engine",
    "numpy",
    "pyarrow",
    "onnxruntime",
    "tokenizers",
    "lancedb",
    "pymupdf",
    "pymupdf.layout",
    "pymupdf4llm",
)

PHASES = """
import sys, time, json
t0 = time.perf_counter()
from app.cli import main  # noqa: E402
from app.engine import Engine
from app.paths import app_paths
t1 = time.perf_counter()
engine = Engine(app_paths())
engine.embedder
t2 = time.perf_counter()
searcher = engine.searcher()
result = searcher.search(sys.argv[1], limit=10)
t3 = time.perf_counter()
print(json.dumps({"import_cli_s": t1 - t0, "embedder_s": t2 - t1,
                  "open_and_first_query_s": t3 - t2, "hits": len(result.hits)}))
"""


def _env(root: Path, home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root), "FINDLING_HOME": str(home)}


def first_result_s(root: Path, home: Path, query: str) -> tuple[float, float]:
    """Wall seconds from starting ``findling search --json`` to its first stdout line, and the
    processor seconds (user + system) the whole command used, which a loaded machine inflates
    much less than the wall time."""
    cmd = [str(PYTHON), "-m", "app.cli", "search", "--json", query]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=_env(root, home), cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not line.strip():
        raise RuntimeError(f"search under {root} failed (exit {proc.returncode})")
    return elapsed, usage.ru_utime + usage.ru_stime


def import_times(root: Path, home: Path, query: str) -> dict[str, float]:
    """Cumulative import seconds of :data:`PACKAGES` in one ``search`` (0 = not imported)."""
    cmd = [str(PYTHON), "-X", "importtime", "-m", "app.cli", "search", "--json", query]
    done = subprocess.run(
        cmd, env=_env(root, home), cwd=root, capture_output=True, text=True, check=True
    )
    found: dict[str, float] = dict.fromkeys(PACKAGES, 0.0)
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if m and m.group(2) in found:
            found[m.group(2)] = max(found[m.group(2)], int(m.group(1)) / 1e6)
    return {k: round(v, 3) for k, v in found.items()}


def phases(root: Path, home: Path, query: str) -> dict[str, float]:
    done = subprocess.run(
        [str(PYTHON), "-c", PHASES, query],
        env=_env(root, home),
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in data.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, action="append", help="source trees to compare")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--query", default=QUERY)
    ap.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    roots = [r.resolve() for r in (args.root or [ROOT])]
    result: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "note": "2-core machine shared with other jobs; compare roots within this run",
        },
        "query": args.query,
        "runs": args.runs,
    }
    with tempfile.TemporaryDirectory(prefix="findling-bench-cold-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for f in FILES:
            if (DEBDOCS / f).is_file():
                shutil.copy2(DEBDOCS / f, docs / Path(f).name)
        home = Path(tmp) / "home"
        # Built by the first tree: a newer tree reads an older settings file, not the reverse.
        subprocess.run(
            [str(PYTHON), "-m", "app.cli", "index", str(docs)],
            env=_env(roots[0], home),
            cwd=roots[0],
            capture_output=True,
            check=True,
        )
        times: dict[str, list[float]] = {str(r): [] for r in roots}
        cpu: dict[str, list[float]] = {str(r): [] for r in roots}
        for r in roots:  # warm-up: page cache, .pyc files
            first_result_s(r, home, args.query)
        for _ in range(args.runs):
            for r in roots:
                wall, used = first_result_s(r, home, args.query)
                times[str(r)].append(wall)
                cpu[str(r)].append(used)
        result["trees"] = {
            str(r): {
                "first_result_s_median": round(statistics.median(times[str(r)]), 3),
                "first_result_s_runs": [round(t, 3) for t in times[str(r)]],
                "cpu_s_median": round(statistics.median(cpu[str(r)]), 3),
                "import_s": import_times(r, home, args.query),
                "phases_s": phases(r, home, args.query),
            }
            for r in roots
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for r, t in result["trees"].items():
            print(
                f"{r}: first result {t['first_result_s_median']} s "
                f"(CPU {t['cpu_s_median']} s); phases {t['phases_s']}"
            )
            print(f"    imports {t['import_s']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
