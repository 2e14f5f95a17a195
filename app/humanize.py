"""Sizes and durations as a person reads them (shared by the CLI and the window)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def human_size(n: float) -> str:
    """``1.2 MB``."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def human_time(s: float | None) -> str:
    """``about 3 min``."""
    if s is None:
        return "—"
    if s < 60:
        return f"{max(1, round(s))} s"
    if s < 3600:
        return f"about {round(s / 60)} min"
    return f"about {s / 3600:.1f} h"


def human_speed(files_per_s: float, passages_per_s: float) -> str:
    """``0.2 files/s · 14 passages/s``; a part that is still zero is left out."""
    parts = []
    if files_per_s:
        parts.append(f"{files_per_s:.1f} files/s")
    if passages_per_s:
        parts.append(f"{passages_per_s:.0f} passages/s")
    return " · ".join(parts)


def rebuild_note(rebuild: Mapping[str, Any]) -> str:
    """``Re-indexing for model X: 12 of 40 files; search uses the current index until then.``

    ``rebuild`` is :attr:`indexer.status.IndexStatus.rebuild`.
    """
    model = rebuild.get("embed_model") or "the new model"
    files, done = int(rebuild.get("files") or 0), int(rebuild.get("files_done") or 0)
    where = f"{done:,} of {files:,} files" if files else "starting"
    pending = int(rebuild.get("semantic_pending") or 0)
    if files and done >= files and pending:
        where += f", {pending:,} passages to embed"
    return f"Re-indexing for {model}: {where}; search uses the current index until then."
