"""Walking the configured folders: what is there, what is ignored."""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from indexer.extract.dispatch import supported_suffixes

log = logging.getLogger(__name__)

ALWAYS_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        ".tox",
        ".cache",
        ".Trash",
        "$RECYCLE.BIN",
        "System Volume Information",
        ".findling",
    }
)
TEMP_PATTERNS = (
    "~$*",
    "*.tmp",
    "*.temp",
    "*.swp",
    "*.swx",
    "*~",
    ".#*",
    "#*#",
    "*.part",
    "*.crdownload",
    "*.partial",
    ".goutputstream-*",
    "*.bak",
)


@dataclass(frozen=True)
class FileInfo:
    """A file seen on disk."""

    path: Path
    size: int
    mtime_ns: int


class IgnoreRules:
    """Hidden files, temporary files, tool folders and the user's gitignore-style patterns."""

    def __init__(self, patterns: Iterable[str] = (), exclude: Iterable[Path] = ()) -> None:
        """``exclude``: folders never entered wherever they sit (Findling's own data: its
        index, models and logs would otherwise be indexed, and their writes watched, when the
        user adds a folder that holds them)."""
        self.patterns = tuple(p for p in patterns if p.strip())
        self._spec = pathspec.GitIgnoreSpec.from_lines(self.patterns)
        self._suffixes = supported_suffixes()
        self._exclude = frozenset(
            x for e in exclude for x in (os.path.abspath(e), os.path.realpath(e))
        )

    def ignored_dir(self, path: Path, root: Path) -> bool:
        """Whether a folder (and everything under it) is skipped."""
        name = path.name
        if name in ALWAYS_IGNORED_DIRS or name.startswith("."):
            return True
        if self._exclude and os.path.abspath(path) in self._exclude:
            return True
        return self._matches(path, root, is_dir=True)

    def excluded(self, path: Path, root: Path) -> bool:
        """Whether ``path`` is, or sits in, an excluded folder below ``root``."""
        if not self._exclude:
            return False
        cur, top = os.path.abspath(path), os.path.abspath(root)
        while cur != top and cur.startswith(top + os.sep):
            if cur in self._exclude:
                return True
            cur = os.path.dirname(cur)
        return False

    def ignored_file(self, path: Path, root: Path) -> bool:
        """Whether a file is skipped (hidden, temporary, unsupported or matched by a pattern)."""
        name = path.name
        if name.startswith(".") or any(fnmatch.fnmatchcase(name, p) for p in TEMP_PATTERNS):
            return True
        if path.suffix.lower() not in self._suffixes:
            return True
        return self._matches(path, root, is_dir=False)

    def ignored(self, path: Path, root: Path) -> bool:
        """Whether ``path`` under ``root`` is skipped, checking every parent folder too."""
        try:
            rel = path.relative_to(root)
        except ValueError:
            return True
        cur = root
        for part in rel.parts[:-1]:
            cur = cur / part
            if self.ignored_dir(cur, root):
                return True
        return self.ignored_file(path, root)

    def _matches(self, path: Path, root: Path, *, is_dir: bool) -> bool:
        if not self.patterns:
            return False
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            return False
        return bool(self._spec.match_file(rel + "/" if is_dir else rel))


def walk(start: Path, rules: IgnoreRules, root: Path | None = None) -> Iterator[FileInfo]:
    """Files under ``start`` that are not ignored. Follows symlinks once (no loops).

    ``root`` is the configured folder that ignore patterns are relative to (default: start).
    """
    root = root or start
    seen: set[tuple[int, int]] = set()
    stack = [start]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:
            continue
        seen.add(key)
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            log.warning("Cannot list folder %s: %s", folder, exc.strerror)
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=True):
                    if not rules.ignored_dir(path, root):
                        stack.append(path)
                    continue
                if not entry.is_file(follow_symlinks=True) or rules.ignored_file(path, root):
                    continue
                est = entry.stat(follow_symlinks=True)
            except OSError:
                continue  # vanished, broken symlink or a loop
            yield FileInfo(path, est.st_size, est.st_mtime_ns)


def content_hash(path: Path) -> str:
    """A 128-bit BLAKE2b digest of the file's bytes (read-only)."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def under(p: Path, root: Path) -> bool:
    """Whether ``p`` is ``root`` or lies inside it."""
    return p == root or root in p.parents


def find(
    roots: list[Path], paths: Iterable[Path] | None, rules: IgnoreRules
) -> dict[str, tuple[FileInfo, Path]]:
    """The files to consider, by path, each with the configured folder it belongs to.

    Args:
        roots: Reachable configured folders.
        paths: Only these (files or folders, existing or not, e.g. from the watcher); ``None``
            walks every root.
        rules: What is ignored.
    """
    seen: dict[str, tuple[FileInfo, Path]] = {}
    if paths is None:
        for root in roots:
            for fi in walk(root, rules):
                seen.setdefault(str(fi.path), (fi, root))
        return seen
    for raw in paths:
        p = Path(os.path.abspath(raw))
        owner = next((r for r in roots if under(p, r)), None)
        if owner is None or (rules.ignored(p, owner) and not p.is_dir()):
            continue
        if p.is_dir():
            # A folder event: skip it when the folder itself or a parent is ignored.
            if p != owner and rules.ignored(p / "probe.txt", owner):
                continue
            for fi in walk(p, rules, owner):
                seen.setdefault(str(fi.path), (fi, owner))
        else:
            try:
                st = p.stat()
            except OSError:
                continue
            seen.setdefault(str(p), (FileInfo(p, st.st_size, st.st_mtime_ns), owner))
    return seen


def looked_at_fn(roots: list[Path], paths: Iterable[Path] | None) -> Callable[[Path], bool]:
    """A test for "this path was looked at by the scan": it lies under a scanned root and,
    for a partial sync, is one of ``paths`` or lies under one of them.

    Linear in the number of known files (a set lookup per ancestor), since a watcher batch can
    hold thousands of paths and the index hundreds of thousands of files.
    """
    root_set = set(roots)
    wanted = None if paths is None else {Path(os.path.abspath(q)) for q in paths}

    def looked_at(p: Path) -> bool:
        lineage = (p, *p.parents)
        if root_set.isdisjoint(lineage):
            return False
        return wanted is None or not wanted.isdisjoint(lineage)

    return looked_at
