"""Local chat models through llama-cpp-python (GGUF), streaming tokens."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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
    """

    n_ctx: int = 4096
    gpu_layers: int | None = None
    threads: int = 0
    seed: int = 42


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
    """A loaded GGUF chat model. One thread at a time may generate."""

    def __init__(self, spec: ModelSpec, config: LlmConfig | None = None) -> None:
        self.spec = spec
        self.config = config or LlmConfig()
        if spec.file is None or not spec.file.is_file():
            raise ModelLoadError(f"LLM '{spec.id}' has no model file")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelLoadError(f"llama-cpp-python is not installed: {exc}") from exc
        layers = self.config.gpu_layers
        if layers is None:
            layers = -1 if gpu_offload_supported() else 0
        self.gpu_layers = layers
        threads = self.config.threads or default_threads()
        self.threads = threads
        try:
            self._llama: Any = Llama(
                model_path=str(spec.file),
                n_ctx=self.config.n_ctx,
                n_gpu_layers=layers,
                n_threads=threads,
                # Reading the prompt would otherwise take every logical core (llama-cpp-python's
                # default), and a 2,400-token prompt is most of an answer's time on a CPU.
                n_threads_batch=threads,
                seed=self.config.seed,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports bad files as ValueError/RuntimeError
            raise ModelLoadError(f"Cannot load LLM '{spec.id}' from {spec.file}: {exc}") from exc
        log.info("LLM %s: %d threads, %d GPU layers", spec.id, threads, layers)
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """The catalogue id of the loaded model."""
        return self.spec.id

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in this model's vocabulary."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

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
            stream = self._llama.create_chat_completion(
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
