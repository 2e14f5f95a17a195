"""Which ONNX Runtime execution provider runs a model, and a CPU fallback that always works.

A device setting (``"auto"``, ``"cpu"``, ``"cuda"``, ``"directml"``, ``"coreml"``) and the
providers this onnxruntime build has (:func:`onnxruntime.get_available_providers`) give an ordered
provider list with the CPU last (:func:`choose_providers`). :func:`create_session` makes the
session with it; when the accelerated provider cannot be used -- the session fails to build, or
ONNX Runtime quietly drops the provider (a missing CUDA library is only a warning to it) -- it
says so in one log line and the model runs on the CPU.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnxruntime as ort

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
# Device setting -> provider name; "auto" tries the accelerated ones in this order.
PROVIDERS = {
    "cuda": "CUDAExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": CPU,
}
DEVICES = ("auto", *PROVIDERS)


def available_providers() -> list[str]:
    """The execution providers compiled into the installed onnxruntime."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def choose_providers(device: str, available: Sequence[str] | None = None) -> list[str]:
    """The providers to ask ONNX Runtime for, best first, always ending with the CPU.

    Args:
        device: ``"auto"`` (every accelerated provider this build has), ``"cpu"``, or one of
            ``"cuda"``, ``"directml"``, ``"coreml"``.
        available: The providers the runtime has (default: :func:`available_providers`).

    Raises:
        ValueError: ``device`` is not one of :data:`DEVICES`.
    """
    if device not in DEVICES:
        raise ValueError(f"Unknown embedding device {device!r}; expected one of {DEVICES}")
    have = list(available) if available is not None else available_providers()
    if device == "cpu":
        return [CPU]
    if device == "auto":
        wanted = [p for d, p in PROVIDERS.items() if d != "cpu" and p in have]
        return [*wanted, CPU]
    provider = PROVIDERS[device]
    if provider not in have:
        log.warning(
            "Embedding device %r asked for, but this onnxruntime has no %s (it has %s): "
            "embedding on the CPU",
            device,
            provider,
            ", ".join(have) or "none",
        )
        return [CPU]
    return [provider, CPU]


def create_session(
    path: Path | str, options: ort.SessionOptions, providers: Sequence[str]
) -> tuple[ort.InferenceSession, str]:
    """An inference session on the first of ``providers`` that works; returns it and the
    provider that runs the model.

    Raises:
        Exception: whatever onnxruntime raises when even the CPU session cannot be made.
    """
    import onnxruntime as ort

    providers = list(providers) or [CPU]
    if providers[0] != CPU:
        try:
            with warnings.catch_warnings(record=True) as caught:
                # onnxruntime warns (Python warnings) about providers it cannot load.
                warnings.simplefilter("always")
                session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
            for w in caught:
                log.debug("onnxruntime: %s", w.message)
            ran = session.get_providers()[0]
            if ran != providers[0]:
                log.warning("%s could not be used; embedding on the CPU", providers[0])
            return session, ran
        except Exception as exc:  # onnxruntime raises its own Fail/RuntimeException types
            log.warning("%s could not be used (%s); embedding on the CPU", providers[0], exc)
    session = ort.InferenceSession(str(path), sess_options=options, providers=[CPU])
    return session, CPU


def session_options(threads: int, **extra: Any) -> ort.SessionOptions:
    """Session options Findling uses for embedding models: ``threads`` intra-op threads, one
    inter-op thread, every graph optimisation, only errors logged. ``extra`` sets more
    attributes (e.g. ``graph_optimization_level``)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    for key, value in extra.items():
        setattr(opts, key, value)
    return opts
