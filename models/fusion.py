"""Offline transformer graph fusion of BERT-style ONNX models (``onnxruntime.transformers``)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def fuse_bert(src: Path, dst: Path) -> None:
    """Write ``src`` with ONNX Runtime's transformer fusions (attention, layer norm, GELU) to
    ``dst``. Heads and width are detected from the graph.

    Raises:
        ImportError: the ``onnx`` package is missing.
        Exception: whatever the optimizer raises on a graph it cannot read.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(str(src), model_type="bert", num_heads=0, hidden_size=0, opt_level=0)
    fused = model.get_fused_operator_statistics()
    log.debug("Fused %s: %s", src.name, {k: v for k, v in fused.items() if v})
    model.save_model_to_file(str(dst))
