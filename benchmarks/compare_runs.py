"""Paired bootstrap of one variant between two result files of the same queries.

For a change that a ``--variants`` switch cannot express (code changed between two runs, e.g.
the query parser), compare the run before with the run after, query by query:

    .venv/bin/python benchmarks/compare_runs.py before.json after.json --variant hybrid

Reads ``per_query_ndcg@10`` (eval_retrieval) or ``per_question_mrr@10`` (eval_longdocs).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KEYS = ("per_query_ndcg@10", "per_question_mrr@10")


def per_query(path: Path, variant: str) -> tuple[str, dict[str, float]]:
    """The metric's name and its per-query values for ``variant`` in a results file."""
    data: dict[str, Any] = json.loads(path.read_text())
    for r in data["results"]:
        if r["variant"] == variant:
            for k in KEYS:
                if k in r:
                    return k.split("_", 2)[-1], r[k]
    raise SystemExit(f"{path}: no variant {variant!r} with per-query values")


def main(argv: list[str] | None = None) -> int:
    from benchmarks.metrics import delta_interval

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--variant", default="hybrid")
    ap.add_argument("--after-variant", help="the variant in AFTER (default: --variant)")
    args = ap.parse_args(argv)
    metric, a = per_query(args.before, args.variant)
    _, b = per_query(args.after, args.after_variant or args.variant)
    print(
        json.dumps(
            {
                "metric": metric,
                "queries": len(set(a) & set(b)),
                "before": round(sum(a.values()) / len(a), 4),
                "after": round(sum(b.values()) / len(b), 4),
                "delta": delta_interval(a, b),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
