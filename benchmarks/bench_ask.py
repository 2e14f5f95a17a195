"""Findling's LLM path against llama.cpp called directly, on the prompt ``ask`` builds.

Issue 11 §4: time to first token (TTFT) and decode speed of an answer through
:meth:`models.llm.Llm.stream_chat` must match ``llama_cpp.Llama`` used directly with the same model
file, context size, threads and sampling (targets: TTFT ratio ≤ 1.1, decode ratio ≥ 0.95).

1. A few real PDFs (default: four small manuals from Debian's ``texlive-humanities-doc``) are
   indexed with Findling's pipeline into a temporary folder, and the passages Findling's
   :class:`indexer.ask.Asker` would quote for the question are retrieved; the messages are
   :func:`indexer.ask.build_prompt`'s, so both sides read exactly the prompt ``ask`` sends.
2. Two model instances are loaded from the same GGUF file: Findling's ``Llm`` and a plain
   ``Llama``. Runs alternate between them; before each timed run the context's cache is emptied
   (``Llama.reset``), so every run reads the whole prompt. Greedy sampling (temperature 0) and the
   same ``max_tokens`` on both sides; the median of the runs is reported.
3. Prompt cache reuse: the same passages with a follow-up question, on the same ``Llm``: the
   follow-up's TTFT and the prompt tokens llama.cpp evaluated (its own counters) against the
   first question's.

    .venv/bin/python benchmarks/bench_ask.py [--runs 5] [--threads 1] [--json]

Results go to ``benchmarks/results/ask.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "ask.json"
DEBDOCS = Path("/work/data/debdocs/texlive-humanities-doc/texlive-doc/latex")
DEFAULT_FILES = (
    "qtree/qarrows.pdf",
    "tree-dvips/lingmacros-manual.pdf",
    "phonrule/phonrule-doc.pdf",
    "edfnotes/README.pdf",
)
QUESTION = "How are phonological rules typeset?"
FOLLOW_UP = "Which package draws the feature matrices in a rule?"
STOP = ["\nSources:", "\nQuestion:"]


def build_passages(files: list[Path], question: str) -> list[Any]:
    """Index ``files`` with Findling's pipeline and return the passages ``ask`` would quote."""
    from indexer.ask import Asker
    from indexer.config import IndexConfig
    from indexer.pipeline import Indexer
    from indexer.sandbox import SandboxConfig
    from indexer.search import Searcher
    from models.catalogue import find_model
    from models.embedder import Embedder

    emb = Embedder(find_model(Path("/nonexistent"), None, "embedding"))
    with tempfile.TemporaryDirectory(prefix="findling-bench-ask-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for f in files:
            shutil.copy2(f, docs / f.name)
        cfg = IndexConfig(
            index_dir=Path(tmp) / "index",
            folders=(docs,),
            sandbox=SandboxConfig(workers=1, timeout_s=120),
        )
        with Indexer(cfg, emb) as ix:
            ix.sync()
        searcher = Searcher(cfg.index_dir, emb)
        hits = Asker(searcher, None).retrieve(question)
        if not hits:  # nothing cleared the relevance gate: quote the top hits anyway
            hits = searcher.search(question, limit=5).hits[:5]
    return hits


def _timed(pieces: Iterator[str]) -> tuple[float, float, str]:
    """Consume a stream of text pieces: (seconds to first piece, seconds to last, text)."""
    start = time.perf_counter()
    first = 0.0
    out = []
    for piece in pieces:
        if not out:
            first = time.perf_counter() - start
        out.append(piece)
    return first, time.perf_counter() - start, "".join(out)


def _raw_stream(llama: Any, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
    """llama-cpp-python's own streaming chat, with the sampling Findling's ``Llm`` uses."""
    for part in llama.create_chat_completion(
        messages=messages,
        max_tokens=max_tokens,
        temperature=0.0,
        top_p=0.9,
        repeat_penalty=1.1,
        stop=STOP,
        stream=True,
    ):
        piece = part["choices"][0].get("delta", {}).get("content")
        if piece:
            yield piece


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from llama_cpp import Llama

    from indexer.ask import build_prompt, reads_source_names
    from models.catalogue import find_model
    from models.llm import Llm, LlmConfig, default_threads

    files = [Path(f) for f in args.files] if args.files else [DEBDOCS / f for f in DEFAULT_FILES]
    files = [f for f in files if f.is_file()]
    if not files:
        raise SystemExit("no input PDFs found; pass some with --files")
    t0 = time.perf_counter()
    hits = build_passages(files, args.question)
    index_s = time.perf_counter() - t0
    spec = find_model(Path("/nonexistent"), None, "llm")
    names = reads_source_names(SimpleNamespace(spec=spec))  # as Asker.ask decides
    messages = build_prompt(args.question, hits, names=names)
    follow = build_prompt(args.follow_up, hits, names=names)

    threads = args.threads or default_threads()
    ours = Llm(spec, LlmConfig(n_ctx=args.n_ctx, threads=threads, gpu_layers=0))
    raw = Llama(
        model_path=str(spec.file),
        n_ctx=args.n_ctx,
        n_gpu_layers=0,
        n_threads=threads,
        n_threads_batch=threads,
        seed=42,
        verbose=False,
    )

    def run_ours() -> tuple[float, float, str]:
        ours.reset_cache()
        return _timed(
            ours.stream_chat(messages, max_tokens=args.max_tokens, temperature=0.0, stop=STOP)
        )

    def run_raw() -> tuple[float, float, str]:
        raw.reset()
        return _timed(_raw_stream(raw, messages, args.max_tokens))

    def tokens(text: str) -> int:
        return len(raw.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    run_ours(), run_raw()  # warm-up: page the weights in, build the chat template
    rows: dict[str, list[dict[str, float]]] = {"findling": [], "llama_cpp": []}
    texts: dict[str, str] = {}
    for i in range(args.runs):
        order = [("findling", run_ours), ("llama_cpp", run_raw)]
        if i % 2:
            order.reverse()
        for name, fn in order:
            ttft, total, text = fn()
            n = tokens(text)
            decode = (n - 1) / (total - ttft) if n > 1 and total > ttft else 0.0
            rows[name].append({"ttft_s": ttft, "total_s": total, "tokens": n, "decode_tps": decode})
            texts[name] = text

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[name])

    prompt_tokens = ours.last_stats.prompt_tokens if ours.last_stats else None
    summary = {
        name: {
            "ttft_s": round(med(name, "ttft_s"), 4),
            "decode_tps": round(med(name, "decode_tps"), 2),
            "tokens": int(med(name, "tokens")),
        }
        for name in rows
    }
    ttft_ratio = summary["findling"]["ttft_s"] / summary["llama_cpp"]["ttft_s"]
    decode_ratio = summary["findling"]["decode_tps"] / summary["llama_cpp"]["decode_tps"]

    # Prompt cache: the first question from an empty cache, then a follow-up on the same
    # passages through the same Llm (what the app does: one Llm per process).
    cache_rows = []
    for _ in range(max(1, args.runs // 2)):
        ours.reset_cache()
        first, _, _ = _timed(
            ours.stream_chat(messages, max_tokens=args.max_tokens, temperature=0.0, stop=STOP)
        )
        first_stats = ours.last_stats
        again, _, _ = _timed(
            ours.stream_chat(follow, max_tokens=args.max_tokens, temperature=0.0, stop=STOP)
        )
        again_stats = ours.last_stats
        assert first_stats is not None and again_stats is not None
        cache_rows.append(
            {
                "first_ttft_s": first,
                "follow_up_ttft_s": again,
                "first_evaluated": first_stats.evaluated_tokens,
                "follow_up_prompt": again_stats.prompt_tokens,
                "follow_up_evaluated": again_stats.evaluated_tokens,
            }
        )
    cache = {
        "first_ttft_s": round(statistics.median(r["first_ttft_s"] for r in cache_rows), 4),
        "follow_up_ttft_s": round(statistics.median(r["follow_up_ttft_s"] for r in cache_rows), 4),
        "first_prompt_tokens_evaluated": cache_rows[-1]["first_evaluated"],
        "follow_up_prompt_tokens": cache_rows[-1]["follow_up_prompt"],
        "follow_up_prompt_tokens_evaluated": cache_rows[-1]["follow_up_evaluated"],
    }
    cache["ttft_ratio_follow_up_to_first"] = round(
        cache["follow_up_ttft_s"] / cache["first_ttft_s"], 3
    )
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "note": "2-core machine shared with other jobs; compare the ratios, not the times",
        },
        "model": spec.id,
        "model_file": str(spec.file),
        "files": [str(f) for f in files],
        "index_s": round(index_s, 1),
        "question": args.question,
        "follow_up": args.follow_up,
        "passages": len(hits),
        "prompt_tokens": prompt_tokens,
        "n_ctx": args.n_ctx,
        "threads": threads,
        "max_tokens": args.max_tokens,
        "runs": args.runs,
        "sampling": "greedy (temperature 0), top_p 0.9, repeat_penalty 1.1, both sides",
        "same_text": texts.get("findling") == texts.get("llama_cpp"),
        **summary,
        "ttft_ratio": round(ttft_ratio, 3),
        "decode_ratio": round(decode_ratio, 3),
        "targets": {"ttft_ratio_max": 1.1, "decode_ratio_min": 0.95},
        "prompt_cache": cache,
        "per_run": rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", nargs="*", help="PDFs to index (default: 4 texlive manuals)")
    ap.add_argument("--question", default=QUESTION)
    ap.add_argument("--follow-up", default=FOLLOW_UP)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per side (alternating)")
    ap.add_argument("--threads", type=int, default=0, help="0: Findling's default_threads()")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    result = measure(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        f, r, c = result["findling"], result["llama_cpp"], result["prompt_cache"]
        print(f"prompt {result['prompt_tokens']} tokens, {result['threads']} threads")
        print(
            f"TTFT   findling {f['ttft_s']:.3f} s  llama.cpp {r['ttft_s']:.3f} s  "
            f"ratio {result['ttft_ratio']:.3f} (target <= 1.1)"
        )
        print(
            f"decode findling {f['decode_tps']:.1f} t/s  llama.cpp {r['decode_tps']:.1f} t/s  "
            f"ratio {result['decode_ratio']:.3f} (target >= 0.95)"
        )
        print(
            f"follow-up TTFT {c['follow_up_ttft_s']:.3f} s vs first {c['first_ttft_s']:.3f} s; "
            f"evaluated {c['follow_up_prompt_tokens_evaluated']} of "
            f"{c['follow_up_prompt_tokens']} prompt tokens"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
