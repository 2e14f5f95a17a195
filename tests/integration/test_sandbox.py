"""Extraction workers: a slow caller between results is not a slow file."""

import time

import pytest

from indexer.chunk import ChunkerConfig
from indexer.extract.base import ExtractLimits
from indexer.extract.sandbox import ExtractorPool, SandboxConfig

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_time_spent_by_the_caller_does_not_count_against_a_file(tmp_path, embedder):
    files = []
    for i in range(4):
        p = tmp_path / f"f{i}.txt"
        p.write_text(f"Small file number {i}.")
        files.append(p)
    pool = ExtractorPool(
        embedder.spec.tokenizer,
        ChunkerConfig(),
        ExtractLimits(),
        SandboxConfig(workers=2, timeout_s=1.5),
    )
    try:
        results = []
        for ex in pool.run(files):
            results.append(ex)
            time.sleep(2.0)  # e.g. embedding a batch while the other worker's reply waits
    finally:
        pool.close()
    assert len(results) == 4
    assert all(r.ok for r in results), [(r.path.name, r.reason) for r in results if not r.ok]
