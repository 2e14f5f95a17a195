"""Everything between a file on disk and a ranked passage. Qt-free; may import ``models``.

The front ends (``app/``) need only what is exported here::

    Indexer, IndexConfig          the single writer: scan, extract, chunk, embed, store
    follow_folders, FollowHooks   the watch loop that keeps an index in step with its folders
    Searcher, SearchFilters       hybrid (keyword + vector) retrieval, narrowed by type/folder/date
    Query (indexer.query.parse)   a query parsed once: words, filters and ``pdf:``/``in:`` prefixes
    Passage                       a stored passage (what previews show, without the file)
    SearchResult, Hit             what a search returns: ranked passages with file and page
    Asker, Answer, Citation       answers from retrieved passages, with their sources
    IndexLayout                   where an index keeps its parts on disk
    read_status, IndexStatus      what an index holds, read without the writer lock
    Progress, SyncReport          what a run reports while it works and when it ends
    FileState                     the states a file can be in

Names are loaded on first use, so ``import indexer.state`` stays light (no LanceDB).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

# PyMuPDF 2.0 imports its add-ons whenever they are installed: ``pymupdf.layout`` (layout
# analysis), whose import loads ONNX models, and ``pymupdf4llm`` (Markdown export), which brings
# onnxruntime and the layout add-on again: 0.2-2.6 s and tens of MB in every process that opens
# a PDF, extraction workers and ``findling search`` included. Findling uses neither
# (``Page.get_layout``, ``pymupdf.to_markdown``), so they are kept out: a ``None`` entry makes
# PyMuPDF's ``try: import ...`` fail as if the add-on were not installed. This package is
# imported before any module that imports PyMuPDF (``app`` imports it first); once PyMuPDF is
# loaded this changes nothing.
if "pymupdf" not in sys.modules:
    for _addon in ("pymupdf.layout", "pymupdf4llm"):
        sys.modules.setdefault(_addon, None)  # type: ignore[arg-type]

_EXPORTS = {
    "Indexer": "indexer.pipeline",
    "IndexConfig": "indexer.config",
    "follow_folders": "indexer.follow",
    "FollowHooks": "indexer.follow",
    "Searcher": "indexer.search",
    "SearchFilters": "indexer.query",
    "Query": "indexer.query",
    "Passage": "indexer.search",
    "SearchResult": "indexer.search",
    "Hit": "indexer.search",
    "Asker": "indexer.ask",
    "Answer": "indexer.ask",
    "Citation": "indexer.ask",
    "IndexLayout": "indexer.layout",
    "read_status": "indexer.status",
    "IndexStatus": "indexer.status",
    "Progress": "indexer.progress",
    "SyncReport": "indexer.progress",
    "FileState": "indexer.states",
}

__all__ = [
    "Answer",
    "Asker",
    "Citation",
    "FileState",
    "FollowHooks",
    "Hit",
    "IndexConfig",
    "IndexLayout",
    "IndexStatus",
    "Indexer",
    "Passage",
    "Progress",
    "Query",
    "SearchFilters",
    "SearchResult",
    "Searcher",
    "SyncReport",
    "follow_folders",
    "read_status",
]

if TYPE_CHECKING:
    from indexer.ask import Answer, Asker, Citation
    from indexer.config import IndexConfig
    from indexer.follow import FollowHooks, follow_folders
    from indexer.layout import IndexLayout
    from indexer.pipeline import Indexer
    from indexer.progress import Progress, SyncReport
    from indexer.query import Query, SearchFilters
    from indexer.search import Hit, Passage, Searcher, SearchResult
    from indexer.states import FileState
    from indexer.status import IndexStatus, read_status


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'indexer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
