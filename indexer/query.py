"""A search query, parsed once: the words to search for and the narrowing asked for.

``pdf: solar in:Papers after:2024-01`` searches for "solar" in PDF files under a folder called
Papers changed since January 2024. Every front end (the launcher and its chips, the window's
search field, the CLI) parses with :func:`parse`; the filters the window's filter bar or the
CLI's ``--type/--folder/--after/--before`` set come in as ``base_filters``.

Qt-free and light: no LanceDB, no model.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from indexer.extract.code import SUFFIXES as CODE_SUFFIXES

# The kinds of file a search can be narrowed to: a label and its file-name suffixes.
TYPES: list[tuple[str, tuple[str, ...]]] = [
    ("All types", ()),
    ("PDF", ("pdf",)),
    ("Word & OpenDocument", ("docx", "odt", "rtf")),
    ("Text & Markdown", ("txt", "md", "markdown", "rst")),
    ("Web pages", ("html", "htm", "xhtml")),
    ("E-books", ("epub", "mobi", "fb2")),
    ("Spreadsheets & slides", ("xlsx", "xlsm", "ods", "csv", "tsv", "pptx", "odp")),
    ("E-mail", ("eml", "mbox")),
    ("Images & scans", ("png", "jpg", "jpeg", "tif", "tiff", "webp", "bmp")),
    ("Source code & config", tuple(s.lstrip(".") for s in CODE_SUFFIXES)),
]
KNOWN_TYPES = frozenset(t for _, ts in TYPES for t in ts) | {"doc", "htm", "text"}
_TYPE_ALIASES = {"doc": "docx", "text": "txt"}
FOLDER_DEPTH = 3  # how deep under the indexed folders ``in:Name`` looks for a folder called Name
# A folder no file is in: an ``in:`` that names no folder finds nothing rather than everything.
NO_FOLDER = os.path.join(os.sep, "nonexistent-findling-folder")

# A quoted phrase is one token (its words are never prefixes); otherwise runs of non-space.
_TOKENS = re.compile(r'"[^"]*"|\S+')
_PREFIX = re.compile(r"^(?P<key>[A-Za-z0-9]+):(?P<value>.*)$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


@dataclass(frozen=True)
class SearchFilters:
    """Restrict results to folders, file types and a modification-date range (epoch seconds)."""

    folders: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    modified_after: float | None = None
    modified_before: float | None = None

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.folders or self.types or self.modified_after or self.modified_before)


@dataclass(frozen=True)
class Prefix:
    """One recognised prefix (a chip above the launcher's results).

    Attributes:
        kind: ``"type"``, ``"folder"``, ``"after"``, ``"before"`` or ``"error"`` (a date that
            is not one).
        label: What the chip says.
        token: The prefix as typed.
        span: Where ``token`` is in the raw text (start, end).
    """

    kind: str
    label: str
    token: str = ""
    span: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Query:
    """A parsed query.

    Attributes:
        raw: The text as typed.
        text: The words to search for (prefixes removed, unknown ``word:`` tokens kept).
        prefixes: The recognised prefixes, in the order typed.
        types: File suffixes (no dot) the prefixes ask for.
        folder_names: Folder names ``in:`` asks for, as typed.
        after: Start of the ``after:`` period (epoch seconds).
        before: Start of the ``before:`` period (epoch seconds).
        base: Filters set outside the text (filter bar, CLI flags); a prefix of one kind
            replaces the base's filter of that kind.
        folders: The folders ``folder_names`` resolved to (:meth:`resolve`); None until then.
    """

    raw: str
    text: str
    prefixes: tuple[Prefix, ...] = ()
    types: tuple[str, ...] = ()
    folder_names: tuple[str, ...] = ()
    after: float | None = None
    before: float | None = None
    base: SearchFilters | None = None
    folders: tuple[str, ...] | None = None

    @property
    def narrowed(self) -> bool:
        """Whether any prefix narrows the search."""
        return bool(self.types or self.folder_names or self.after or self.before)

    @property
    def resolved(self) -> bool:
        """Whether :attr:`filters` can be read (every ``in:`` name has been looked up)."""
        return not self.folder_names or self.folders is not None

    def resolve(self, roots: list[str]) -> Query:
        """This query with its ``in:`` names looked up under ``roots`` (the indexed folders).

        Does file-system work: call it off the GUI thread.
        """
        if not self.folder_names:
            return self
        found = resolve_folders(self.folder_names, roots)
        return replace(self, folders=found or (NO_FOLDER,))

    @property
    def filters(self) -> SearchFilters | None:
        """The filters this query implies, or None when nothing is filtered.

        Raises:
            ValueError: ``in:`` names are not resolved yet (see :meth:`resolve`).
        """
        if not self.resolved:
            raise ValueError("resolve the in: folder names first (Query.resolve)")
        base = self.base or SearchFilters()
        f = SearchFilters(
            folders=self.folders if self.folder_names and self.folders else base.folders,
            types=self.types or base.types,
            modified_after=self.after if self.after is not None else base.modified_after,
            modified_before=self.before if self.before is not None else base.modified_before,
        )
        return f if f.active else None


def parse_date(value: str) -> float | None:
    """A date as the timestamp of its start: ``2024``, ``2024-01``, ``2024-01-15`` or a full
    ISO 8601 date and time; None when it is not a date (or outside 1970–2200)."""
    value = value.strip()
    m = _DATE.match(value)
    try:
        if m:
            when = datetime(int(m[1]), int(m[2] or 1), int(m[3] or 1))
        else:
            when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if not 1970 <= when.year <= 2200:  # file times outside this are not worth a filter
        return None
    return when.timestamp()


def parse(text: str, base_filters: SearchFilters | None = None) -> Query:
    """Split ``text`` into search words and prefixes.

    An unknown ``word:`` stays a search word, as do words inside double quotes; a half-typed
    ``in:``/``after:``/``before:`` (nothing after the colon) is dropped; a bad date becomes an
    ``"error"`` prefix and narrows nothing.
    """
    words: list[str] = []
    prefixes: list[Prefix] = []
    types: list[str] = []
    folders: list[str] = []
    dates: dict[str, float] = {}
    for m in _TOKENS.finditer(text):
        token, span = m.group(), m.span()
        p = _PREFIX.match(token)
        if not p:
            words.append(token)
            continue
        key, value = p["key"].lower(), p["value"]
        if key in KNOWN_TYPES:
            ext = _TYPE_ALIASES.get(key, key)
            if ext not in types:
                types.append(ext)
                prefixes.append(Prefix("type", ext.upper(), token, span))
            if value:
                words.append(value)
        elif key == "in" and value:
            folders.append(value)
            prefixes.append(Prefix("folder", f"in {value}", token, span))
        elif key in ("after", "before") and value:
            when = parse_date(value)
            if when is None:
                label = f"{key}: “{value}” is not a date (use 2024-01)"
                prefixes.append(Prefix("error", label, token, span))
            else:
                dates[key] = when
                prefixes.append(Prefix(key, f"{key} {value}", token, span))
        elif key in ("in", "after", "before"):
            continue  # still being typed
        else:
            words.append(token)
    return Query(
        raw=text,
        text=" ".join(words),
        prefixes=tuple(prefixes),
        types=tuple(types),
        folder_names=tuple(folders),
        after=dates.get("after"),
        before=dates.get("before"),
        base=base_filters if base_filters is not None and base_filters.active else None,
    )


def resolve_folders(names: tuple[str, ...], roots: list[str]) -> tuple[str, ...]:
    """The folders called one of ``names`` (case-insensitive): an indexed folder, or one inside
    an indexed folder up to :data:`FOLDER_DEPTH` levels down. Does file-system work."""
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
