"""Sentence embeddings with ONNX Runtime and the ``tokenizers`` library (no torch)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models import heap
from models.catalogue import ModelSpec
from models.errors import ModelLoadError
from models.providers import choose_providers, create_session, session_options

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EmbedderConfig:
    """How to run the embedding model.

    Attributes:
        threads: Intra-op threads for ONNX Runtime (0 = let it choose).
        batch_size: At most this many texts per inference call.
        batch_tokens: At most this many tokens (texts x padded length) per inference call.
            ONNX Runtime keeps the peak of its working memory, which grows with batch x
            length^2 (attention): 32 texts of 256 tokens held 1.4 GB, 8 of them 0.5 GB, at the
            same speed on CPU (benchmarks/results/index.json); 4 of them (1024 tokens) cut the
            peak of embedding an index's 1,374 passages from 469 to 318 MB and took 0.79x the
            time of 8 on a two-core machine (benchmarks/README.md, "Memory").
        device: ``"auto"`` (a GPU provider when this onnxruntime has one, else the CPU),
            ``"cpu"``, ``"cuda"``, ``"directml"`` or ``"coreml"`` (see :mod:`models.providers`).
        spin_wait: Let ONNX Runtime's idle worker threads spin between operators. Off: on a
            loaded two-core machine spinning threads take the cores that the other half of a
            search (LanceDB) and the rest of the desktop need; a query's embedding took a
            median 13.6 ms without spinning and 64.4 ms with it, bulk embedding was no
            slower (benchmarks/results/scale-100000-loaded.json, load average above 8).
    """

    threads: int = 0
    batch_size: int = 64
    batch_tokens: int = 1024
    device: str = "auto"
    spin_wait: bool = False


class Embedder:
    """Turns text into L2-normalised vectors with an ONNX sentence-embedding model.

    The tokenizer's packaged truncation/padding settings are replaced: inputs are truncated to the
    model's own limit (``spec.max_tokens``, special tokens included) and padded per batch to the
    longest text, which is much faster than fixed padding for short chunks. Texts are sorted by
    token length and batched under a token budget, so memory stays flat for long passages.

    Attributes:
        provider: The ONNX Runtime execution provider that runs the model (e.g.
            ``"CPUExecutionProvider"``), after any fallback (see :mod:`models.providers`).
        threads: Intra-op threads the session was made with.
    """

    def __init__(self, spec: ModelSpec, config: EmbedderConfig | None = None) -> None:
        from tokenizers import Tokenizer

        self.spec = spec
        self.config = config or EmbedderConfig()
        if spec.file is None or spec.tokenizer is None:
            raise ModelLoadError(f"Embedding model '{spec.id}' has no model or tokenizer file")
        try:
            self._tok = Tokenizer.from_file(str(spec.tokenizer))
        except Exception as exc:  # tokenizers raises a bare Exception on bad files
            raise ModelLoadError(f"Cannot load tokenizer for '{spec.id}': {exc}") from exc
        self._tok.no_padding()
        self._tok.no_truncation()
        self._count_tok = Tokenizer.from_file(str(spec.tokenizer))
        self._count_tok.no_padding()
        self._count_tok.no_truncation()
        self._tok.enable_truncation(max_length=spec.max_tokens)
        pad_id = self._tok.token_to_id("[PAD]")
        self._pad_id = pad_id if pad_id is not None else 0
        self.threads = self.config.threads or min(4, os.cpu_count() or 1)
        # No memory patterns: ONNX Runtime plans and keeps one per input shape, and batches
        # padded to their longest text rarely repeat a shape; without them embedding an index's
        # passages peaked 26 to 100 MB lower at the same speed (benchmarks/README.md, "Memory").
        opts = session_options(self.threads, enable_mem_pattern=False)
        if not self.config.spin_wait:
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            providers = choose_providers(self.config.device)
        except ValueError as exc:
            raise ModelLoadError(str(exc)) from exc
        try:
            self._session, self.provider = create_session(spec.file, opts, providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise ModelLoadError(f"Cannot load ONNX model '{spec.id}': {exc}") from exc
        # Graph optimisation folds the int8 weights into float ones and frees its temporaries:
        # about 60 MB that glibc would otherwise keep for the life of the process.
        heap.trim()
        log.info("Embedding model %s runs on %s", spec.id, self.provider)
        self._inputs = {i.name for i in self._session.get_inputs()}
        out_shape = self._session.get_outputs()[0].shape
        width = out_shape[-1] if isinstance(out_shape[-1], int) else None
        if spec.dims and width and width != spec.dims:
            raise ModelLoadError(
                f"Model '{spec.id}' produces {width}-d vectors but its manifest says {spec.dims}"
            )
        self.dims = spec.dims or int(width or 0)
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """The id the index records for vectors made by this embedder."""
        return self.spec.id

    @property
    def max_tokens(self) -> int:
        """Sequence limit including special tokens."""
        return self.spec.max_tokens

    def count_tokens(self, text: str) -> int:
        """Number of model tokens ``text`` becomes, special tokens included."""
        return len(self._count_tok.encode(text).ids)

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed documents/passages (with the model's passage prefix, if it has one). Returns an
        ``(n, dims)`` float32 array of unit vectors."""
        prefix = self.spec.passage_prefix
        return self._embed([prefix + t for t in texts] if prefix else texts)

    def embed_query(self, query: str) -> FloatArray:
        """Embed one search query (with the model's query prefix, if it has one)."""
        result: FloatArray = self._embed([self.spec.query_prefix + query])[0]
        return result

    def _embed(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        ids = [e.ids for e in self._tok.encode_batch(list(texts))]
        # Sort by length so each batch pads to similar lengths, then restore the order.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        max_n = max(1, self.config.batch_size)
        batch: list[int] = []
        for i in order:  # ascending length: the newest text sets the batch's padded length
            if batch and (
                len(batch) >= max_n or (len(batch) + 1) * len(ids[i]) > self.config.batch_tokens
            ):
                out[batch] = self._run([ids[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            out[batch] = self._run([ids[j] for j in batch])
        return out

    def _run(self, batch: list[list[int]]) -> FloatArray:
        width = max(len(x) for x in batch)
        ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, x in enumerate(batch):
            ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            hidden = self._session.run(None, feeds)[0]
        if self.spec.pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: FloatArray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return result
