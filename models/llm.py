"""Local chat models through llama-cpp-python (GGUF), streaming tokens."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from models import heap
from models.catalogue import ModelSpec
from models.errors import ModelLoadError

log = logging.getLogger(__name__)

Message = dict[str, str]


@dataclass(frozen=True)
class LlmConfig:
    """How to run the LLM.

    Attributes:
        n_ctx: Context window in tokens.
        gpu_layers: Layers to offload: ``-1`` all, ``0`` none (CPU only), ``None`` automatic
            (all layers when the installed llama.cpp build can offload, otherwise none).
        threads: CPU threads for generation and for reading the prompt (0 = automatic:
            :func:`default_threads`, which leaves a core to the UI and the indexer).
        seed: Sampling seed, for repeatable answers.
        unload_after_s: Release the model (its weights and its context) after this many seconds
            without a question; the next question loads it again. ``0`` keeps it loaded.
    """

    n_ctx: int = 4096
    gpu_layers: int | None = None
    threads: int = 0
    seed: int = 42
    unload_after_s: float = 0.0


@dataclass(frozen=True)
class PromptStats:
    """What llama.cpp did with the last prompt (from its own performance counters).

    Attributes:
        prompt_tokens: Tokens of the whole prompt, chat template included.
        evaluated_tokens: Prompt tokens llama.cpp had to read; the rest (``reused_tokens``) was
            the start of the previous prompt, still in the context's KV cache.
        generated_tokens: Tokens the model wrote.
        prompt_ms: Time llama.cpp spent reading the prompt.
    """

    prompt_tokens: int
    evaluated_tokens: int
    generated_tokens: int
    prompt_ms: float

    @property
    def reused_tokens(self) -> int:
        """Prompt tokens taken from the cache instead of being read again."""
        return max(0, self.prompt_tokens - self.evaluated_tokens)


def available_cores() -> tuple[int, int]:
    """``(logical, physical)`` processor cores this process may run on (at least 1 each).

    The logical count honours CPU affinity (a container or ``taskset`` limit); the physical one
    is psutil's count of cores, capped by the logical one (hyperthreads share a core, and
    llama.cpp runs no faster on both threads of one core).
    """
    try:
        logical = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        logical = os.cpu_count() or 1
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or 0
    except Exception:  # psutil missing, or it cannot tell
        physical = 0
    physical = min(physical or max(1, logical // 2), logical)
    return max(1, logical), max(1, physical)


def default_threads(logical: int | None = None, physical: int | None = None) -> int:
    """The LLM's threads: one per physical core, less one kept for the UI and the indexer
    wherever there are two cores or more (``logical``/``physical`` default to this machine's).

    Generation is bound by memory bandwidth, so the last core adds little speed to the answer
    while taking it from the window, the launcher and the extraction workers.
    """
    if logical is None or physical is None:
        found = available_cores()
        logical = found[0] if logical is None else logical
        physical = found[1] if physical is None else physical
    cores = max(1, min(physical, logical))
    return max(1, cores - 1) if logical >= 2 else 1


def gpu_offload_supported() -> bool:
    """Whether the installed llama.cpp build can offload layers to a GPU."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # no llama_cpp, or a build without the symbol
        return False


class Llm:
    """A loaded GGUF chat model. One thread at a time may generate.

    The llama.cpp context is kept between questions: its KV cache holds the last prompt, and a
    prompt that starts the same way (the same sources before a new question, see
    :func:`indexer.ask.build_prompt`) is only read from where it differs. With
    ``unload_after_s`` the model is released after that long without use and loaded again, on
    the asking thread, by the next question.
    """

    def __init__(self, spec: ModelSpec, config: LlmConfig | None = None) -> None:
        self.spec = spec
        self.config = config or LlmConfig()
        if spec.file is None or not spec.file.is_file():
            raise ModelLoadError(f"LLM '{spec.id}' has no model file")
        layers = self.config.gpu_layers
        if layers is None:
            layers = -1 if gpu_offload_supported() else 0
        self.gpu_layers = layers
        self.threads = self.config.threads or default_threads()
        self.last_stats: PromptStats | None = None
        self.loads = 0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last_used = time.monotonic()
        self._llama: Any = None
        with self._lock:
            self._load()
        self._schedule_unload()

    def _load(self) -> Any:
        """The llama.cpp model, loaded if it is not (call with ``_lock`` held)."""
        if self._llama is not None:
            return self._llama
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelLoadError(f"llama-cpp-python is not installed: {exc}") from exc
        try:
            self._llama = Llama(
                model_path=str(self.spec.file),
                n_ctx=self.config.n_ctx,
                n_gpu_layers=self.gpu_layers,
                n_threads=self.threads,
                # Reading the prompt would otherwise take every logical core (llama-cpp-python's
                # default), and a 2,400-token prompt is most of an answer's time on a CPU.
                n_threads_batch=self.threads,
                seed=self.config.seed,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports bad files as ValueError/RuntimeError
            raise ModelLoadError(
                f"Cannot load LLM '{self.spec.id}' from {self.spec.file}: {exc}"
            ) from exc
        self.loads += 1
        log.info("LLM %s: %d threads, %d GPU layers", self.spec.id, self.threads, self.gpu_layers)
        return self._llama

    @property
    def loaded(self) -> bool:
        """Whether the model's weights are in memory now."""
        return self._llama is not None

    def unload(self) -> bool:
        """Release the model now unless it is generating; returns whether it was released.

        The next :meth:`stream_chat` or :meth:`count_tokens` loads it again.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if self._llama is None:
                return False
            # Freed here and now, not whenever the GC runs, and before ``loaded`` says so; no
            # local name keeps the object alive past this point.
            if hasattr(self._llama, "close"):
                self._llama.close()
            self._llama = None
            heap.trim()  # llama.cpp's freed buffers: back to the system, not kept for a reload
        finally:
            self._lock.release()
        log.info("LLM %s unloaded", self.spec.id)
        return True

    def reset_cache(self) -> None:
        """Forget the evaluated prompt, so the next one is read from its first token (for
        measurements that must not profit from the cache)."""
        with self._lock:
            if self._llama is not None:
                self._llama.reset()

    def _schedule_unload(self) -> None:
        """(Re)start the idle timer after a use."""
        self._last_used = time.monotonic()
        delay = self.config.unload_after_s
        if delay <= 0:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(delay, self._unload_if_idle)
        self._timer.daemon = True
        self._timer.name = "findling-llm-idle"
        self._timer.start()

    def _unload_if_idle(self) -> None:
        idle = time.monotonic() - self._last_used
        if idle + 0.05 < self.config.unload_after_s:
            return  # used again since this timer was set; a later timer will come
        if not self.unload() and self.loaded:
            self._schedule_unload()  # generating right now: look again later

    @property
    def model_id(self) -> str:
        """The catalogue id of the loaded model."""
        return self.spec.id

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's vocabulary."""
        with self._lock:
            llama = self._load()
            n = len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        self._schedule_unload()
        return n

    def stream_chat(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.1,
        should_stop: Callable[[], bool] | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        """Generate a reply to ``messages`` (chat template from the GGUF), piece by piece.

        Args:
            messages: OpenAI-style ``{"role", "content"}`` dicts.
            max_tokens: Upper bound on generated tokens.
            temperature: Sampling temperature; low keeps answers close to the sources.
            should_stop: Polled before each piece; returning True ends generation.
            stop: Strings that end generation when the model writes them.
        """
        with self._lock:
            llama = self._load()
            _perf_reset(llama)
            stream = llama.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=0.9,
                repeat_penalty=1.1,
                stop=stop or None,
                stream=True,
            )
            try:
                for part in stream:
                    if should_stop is not None and should_stop():
                        break
                    delta = part["choices"][0].get("delta", {})
                    piece = delta.get("content")
                    if piece:
                        yield piece
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
                self.last_stats = _perf_read(llama)
        self._schedule_unload()


def _perf_reset(llama: Any) -> None:
    """Zero llama.cpp's counters for this context (they add up across calls otherwise)."""
    try:
        import llama_cpp

        llama_cpp.llama_perf_context_reset(llama.ctx)
    except Exception:  # an older build without the perf API
        pass


def _perf_read(llama: Any) -> PromptStats | None:
    """The counters since :func:`_perf_reset`, with the prompt's length in tokens."""
    try:
        import llama_cpp

        data = llama_cpp.llama_perf_context(llama.ctx)
    except Exception:  # an older build without the perf API
        return None
    generated = int(data.n_eval)
    # After a reply the context holds the prompt and the reply, less the last token sampled.
    prompt = max(0, int(llama.n_tokens) - generated)
    return PromptStats(
        prompt_tokens=prompt,
        evaluated_tokens=int(data.n_p_eval),
        generated_tokens=generated,
        prompt_ms=float(data.t_p_eval_ms),
    )
