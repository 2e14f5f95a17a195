"""Index generations: the one that answers searches, the one being built, and the switch.

An index built with another embedding model or chunker cannot take the new vectors (they would
not be comparable with the old ones), and dropping it would leave search empty until the new
one is complete. So the new index is built beside it, as a *generation* of its own, while the
old one keeps answering; when the new one is complete, one atomic write of the pointer file
(``current.json``) makes it the one that answers, and the old one is deleted.

The pointer names the active generation and the one being built::

    {"active": "gen-1", "building": "gen-2"}

No pointer means the index folder itself is the active generation (an index written before
generations existed, or one never rebuilt), so nothing is copied or moved to adopt one. A
generation folder the pointer does not name is left over (an abandoned build, or the old
generation of a switch interrupted before its deletion) and the writer deletes it.

Only the writer (holding the writer lock) writes the pointer and deletes generations; readers
compare :func:`pointer_stamp` before a query and reopen when it moved.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from indexer.fsutil import atomic_write_bytes
from indexer.layout import ROOT_GENERATION, IndexLayout

log = logging.getLogger(__name__)

_NAME = re.compile(r"gen-([0-9]{1,9})")


@dataclass(frozen=True)
class Pointer:
    """What ``current.json`` says.

    Attributes:
        active: The generation searches read ("" : the index folder itself).
        building: The generation being built to replace it, if any.
    """

    active: str = ROOT_GENERATION
    building: str | None = None


def valid_name(name: object) -> bool:
    """Whether ``name`` can name a generation ("" or ``gen-<n>``; nothing that leaves the
    index folder)."""
    return name == ROOT_GENERATION or (isinstance(name, str) and _NAME.fullmatch(name) is not None)


def read_pointer(root: Path) -> Pointer:
    """The pointer of the index folder ``root`` (no file: the folder itself is active).

    A pointer that cannot be read (it is written atomically, so only damage from outside does
    that) falls back to the newest generation that holds a file record.
    """
    path = IndexLayout(root).pointer
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Pointer()
    except OSError as exc:
        log.error("Cannot read %s (%s); using the newest generation", path, exc)
        return Pointer(_newest(root))
    try:
        data = json.loads(raw)
        active, building = data["active"], data.get("building")
        if not valid_name(active) or not (building is None or valid_name(building)):
            raise ValueError(f"bad generation names {active!r}, {building!r}")
    except (ValueError, KeyError, TypeError) as exc:
        log.error("%s is damaged (%s); using the newest generation", path, exc)
        return Pointer(_newest(root))
    return Pointer(active, building or None)


def write_pointer(root: Path, pointer: Pointer) -> None:
    """Replace the pointer atomically and durably (the writer, under its lock)."""
    data = {"active": pointer.active, "building": pointer.building}
    atomic_write_bytes(IndexLayout(root).pointer, json.dumps(data).encode("utf-8"), durable=True)


def pointer_stamp(root: Path) -> tuple[int, int, int] | None:
    """A cheap fingerprint of the pointer file (one ``stat``): it changes whenever the pointer
    is replaced, which is how a reader notices a switch."""
    try:
        st = os.stat(IndexLayout(root).pointer)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def active_layout(root: Path) -> IndexLayout:
    """The layout of the generation that answers searches."""
    return IndexLayout(root, read_pointer(root).active)


def generation_folders(root: Path) -> list[str]:
    """The ``gen-<n>`` folders under ``root``, oldest first."""
    try:
        names = [p.name for p in root.iterdir() if p.is_dir() and _NAME.fullmatch(p.name)]
    except OSError:
        return []
    return sorted(names, key=_number)


def new_name(root: Path, pointer: Pointer) -> str:
    """A name no generation has had here yet."""
    used = [*generation_folders(root), pointer.active, pointer.building or ""]
    return f"gen-{max((_number(n) for n in used), default=0) + 1}"


def holds_data(layout: IndexLayout) -> bool:
    """Whether the generation has anything on disk (a file record or a table)."""
    return layout.state.exists() or layout.lance.exists()


def remove(layout: IndexLayout) -> None:
    """Delete one generation's table and file record (never the shared lock, spool or OCR
    cache). What cannot be deleted now (a file held open on Windows) is retried by the next
    writer's :func:`sweep`."""
    if layout.generation == ROOT_GENERATION:
        for suffix in ("", "-wal", "-shm"):
            try:
                Path(str(layout.state) + suffix).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("Could not delete %s: %s", layout.state, exc)
        shutil.rmtree(layout.lance, ignore_errors=True)
    else:
        shutil.rmtree(layout.folder, ignore_errors=True)
    if holds_data(layout):
        log.warning("Generation %r is not fully deleted yet", layout.generation)
    else:
        log.info("Deleted index generation %r", layout.generation or "(index folder)")


def sweep(root: Path, keep: set[str]) -> None:
    """Delete every generation not in ``keep`` (left over by an abandoned build or by a switch
    interrupted before it deleted the old one)."""
    base = IndexLayout(root)
    names = generation_folders(root)
    if ROOT_GENERATION not in keep and holds_data(base):
        names.insert(0, ROOT_GENERATION)
    for name in names:
        if name not in keep:
            remove(base.at(name))


def _number(name: str) -> int:
    m = _NAME.fullmatch(name)
    return int(m.group(1)) if m else 0


def _newest(root: Path) -> str:
    for name in reversed(generation_folders(root)):
        if IndexLayout(root, name).state.exists():
            return name
    return ROOT_GENERATION
