"""Logging set-up: a rotating file in the log folder, and stderr for the CLI."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path


def setup_logging(log_dir: Path, *, stderr_level: int | None = None) -> None:
    """Log INFO and up to ``findling.log`` (rotating); optionally echo to stderr.

    Document text is only ever logged at DEBUG, which is off unless ``FINDLING_DEBUG`` is set.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    level = logging.DEBUG if os.environ.get("FINDLING_DEBUG") else logging.INFO
    root.setLevel(level)
    for h in list(root.handlers):
        if getattr(h, "_findling", False):
            root.removeHandler(h)
    fh = logging.handlers.RotatingFileHandler(
        log_dir / "findling.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    fh.setLevel(level)
    fh._findling = True  # type: ignore[attr-defined]
    root.addHandler(fh)
    if stderr_level is not None:
        sh = logging.StreamHandler()
        sh.setLevel(stderr_level)
        sh.setFormatter(logging.Formatter("findling: %(message)s"))
        sh._findling = True  # type: ignore[attr-defined]
        root.addHandler(sh)
    os.environ.setdefault("RUST_LOG", "error")  # LanceDB's Rust log to stderr: errors only
