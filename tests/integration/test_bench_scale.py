"""benchmarks/bench_scale.py keeps its contract: --help, and --json prints exactly one JSON object
with the keys checked from outside and sane values (no timing thresholds: speed is measured by
the benchmark itself, not asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_scale.py"

pytestmark = pytest.mark.timeout(240)


def test_help_explains_the_options() -> None:
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    )
    assert "--passages" in res.stdout and "--json" in res.stdout and "recall@10" in res.stdout


def test_json_run_prints_one_object_with_sane_values(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    res = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--passages",
            "2000",
            "--real",
            "50",
            "--index-threshold",
            "1000",  # so that the approximate index is built and measured
            "--queries",
            "8",
            "--rounds",
            "1",
            "--cache",
            str(tmp_path / "cache"),
            "--out",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=220,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout)  # the whole of stdout is one JSON object
    assert isinstance(result, dict)
    assert result["passages"] == 2000
    assert result["vector_index"].startswith("vector_ivfpq")
    for key in ("p50_ms", "p95_ms", "recall_at_10"):
        assert isinstance(result[key], float)
    assert 0.0 <= result["recall_at_10"] <= 1.0
    assert result["p95_ms"] >= result["p50_ms"] > 0
    for name in ("none", "narrow", "wide"):
        f = result["filters"][name]
        assert 0.0 <= f["recall_at_10"] <= 1.0
        assert f["p95_ms"] >= f["p50_ms"] > 0
    assert result["filters"]["narrow"]["rows"] < result["filters"]["wide"]["rows"] < 2000
    assert result["vector_index_bytes_per_passage"] > 0
    assert json.loads(out.read_text(encoding="utf-8")) == result
