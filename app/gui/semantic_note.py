"""The note shown while the index's second tier (meaning search) is still being filled in.

Keyword search works as soon as a file's passages are written; their vectors come later (see
:meth:`indexer.state.StateDB.semantic_pending`). The launcher and the Folders & status page say
so with the same words, read the same way.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from indexer.generations import active_layout
from indexer.state import StateDB

log = logging.getLogger(__name__)


def pending_files(index_dir: Path) -> int:
    """Indexed files whose passages still wait for vectors (0 without an index). Opens the state
    database read-only: call it off the GUI thread."""
    db_path = active_layout(index_dir).state
    if not db_path.exists():
        return 0
    try:
        db = StateDB(db_path, readonly=True)
    except sqlite3.Error as exc:
        log.debug("Cannot read %s: %s", db_path, exc)
        return 0
    try:
        return db.semantic_pending()[1]
    except sqlite3.Error as exc:  # e.g. busy while a writer migrates it
        log.debug("Cannot read the semantic tier's progress: %s", exc)
        return 0
    finally:
        db.close()


def semantic_note(files: int) -> str:
    """``meaning search is still being prepared for N files``, or "" when none wait."""
    if files <= 0:
        return ""
    return f"meaning search is still being prepared for {files:,} file{'s' if files != 1 else ''}"
