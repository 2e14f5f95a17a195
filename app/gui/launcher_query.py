"""Narrowing prefixes of the quick-search launcher (Qt-free).

``pdf: solar in:Papers after:2024-01`` searches for "solar" in PDF files under a folder called
Papers changed since January 2024: the same :class:`~indexer.search.SearchFilters` as the CLI's
``--type/--folder/--after/--before`` and the window's filter bar.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.gui.filters import TYPES
from indexer import SearchFilters

KNOWN_TYPES = frozenset(t for _, ts in TYPES for t in ts) | {"doc", "htm", "text"}
_TOKEN = re.compile(r"^(?P<key>[A-Za-z0-9]+):(?P<value>.*)$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
FOLDER_DEPTH = 3  # how deep under the indexed folders ``in:Name`` looks for a folder called Name


@dataclass(frozen=True)
class Chip:
    """One recognised prefix, as shown above the results."""

    kind: str  # "type", "folder", "after", "before" or "error"
    label: str


@dataclass
class LauncherQuery:
    """The words to search for plus the narrowing the prefixes asked for."""

    text: str
    types: tuple[str, ...] = ()
    folder_names: tuple[str, ...] = ()
    after: float | None = None
    before: float | None = None
    chips: list[Chip] = field(default_factory=list)

    @property
    def narrowed(self) -> bool:
        """Whether any prefix narrows the search."""
        return bool(self.types or self.folder_names or self.after or self.before)


def parse_date(value: str) -> float | None:
    """``2024``, ``2024-01`` or ``2024-01-15`` as the timestamp of that period's start."""
    m = _DATE.match(value.strip())
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    if not 1970 <= year <= 2200:  # file times outside this are not worth a filter
        return None
    try:
        return datetime(year, month, day).timestamp()
    except ValueError:
        return None


def parse(raw: str) -> LauncherQuery:
    """Split ``raw`` into search words and prefixes; an unknown ``word:`` stays a search word."""
    words: list[str] = []
    q = LauncherQuery(text="")
    types: list[str] = []
    folders: list[str] = []
    for token in raw.split():
        m = _TOKEN.match(token)
        if not m:
            words.append(token)
            continue
        key, value = m["key"].lower(), m["value"]
        if key in KNOWN_TYPES:
            ext = {"doc": "docx", "text": "txt"}.get(key, key)
            if ext not in types:
                types.append(ext)
                q.chips.append(Chip("type", ext.upper()))
            if value:
                words.append(value)
        elif key == "in" and value:
            folders.append(value)
            q.chips.append(Chip("folder", f"in {value}"))
        elif key in ("after", "before") and value:
            when = parse_date(value)
            if when is None:
                q.chips.append(Chip("error", f"{key}: “{value}” is not a date (use 2024-01)"))
            else:
                setattr(q, key, when)
                q.chips.append(Chip(key, f"{key} {value}"))
        elif key in ("in", "after", "before"):
            continue  # still being typed
        else:
            words.append(token)
    q.text = " ".join(words)
    q.types = tuple(types)
    q.folder_names = tuple(folders)
    return q


def resolve_folders(names: tuple[str, ...], roots: list[str]) -> tuple[str, ...]:
    """The folders called one of ``names`` (case-insensitive): an indexed folder, or one inside
    an indexed folder up to :data:`FOLDER_DEPTH` levels down. Does file-system work: call it off
    the GUI thread."""
    wanted = {n.lower() for n in names}
    found: list[str] = []
    for root in roots:
        if Path(root).name.lower() in wanted:
            found.append(root)
            continue
        base_depth = root.rstrip(os.sep).count(os.sep)
        for dirpath, dirnames, _ in os.walk(root):
            if dirpath.count(os.sep) - base_depth >= FOLDER_DEPTH:
                dirnames[:] = []
            for d in dirnames:
                if d.lower() in wanted:
                    found.append(os.path.join(dirpath, d))
    return tuple(found)


def to_filters(q: LauncherQuery, roots: list[str]) -> SearchFilters | None:
    """The search filters for ``q``; an ``in:`` that matches no folder yields an impossible
    filter (no hits) rather than searching everywhere."""
    folders: tuple[str, ...] = ()
    if q.folder_names:
        folders = resolve_folders(q.folder_names, roots) or (
            os.path.join(os.sep, "nonexistent-findling-folder"),
        )
    f = SearchFilters(
        folders=folders, types=q.types, modified_after=q.after, modified_before=q.before
    )
    return f if f.active else None
