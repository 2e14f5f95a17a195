"""The file-state record: which file is at which content hash, in which state, and why.

SQLite in WAL mode, so readers (search, status, the GUI) never block the writer. The LanceDB chunk
table is keyed by content hash (``doc``); this record maps paths to hashes. Writes follow one
order that makes every crash recoverable (see :mod:`indexer.pipeline`):

* new chunks go to LanceDB first, then the ``docs``/``files`` rows here;
* removals drop rows here first, then the chunks in LanceDB.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import IndexCorruptError
from indexer.query import SearchFilters
from indexer.states import FileState

SCHEMA_VERSION = 3


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    # status and the GUI count files per state on every refresh.
    conn.execute("CREATE INDEX IF NOT EXISTS files_state ON files(state)")


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    # Two tiers: a document is keyword-searchable once its passages are written; ``unembedded``
    # counts its passages still waiting for a vector (0 = meaning search ready). Every document
    # of an older index was embedded before it was recorded.
    # ``ocr_pending`` counts its scanned pages still waiting for OCR (a long scan is read in
    # rounds, resumable, once every file's text is in).
    columns = {r[1] for r in conn.execute("PRAGMA table_info(docs)")}
    for col in ("unembedded", "ocr_pending"):
        if col not in columns:
            conn.execute(f"ALTER TABLE docs ADD COLUMN {col} INTEGER NOT NULL DEFAULT 0")


# Ordered migrations: MIGRATIONS[n] turns a schema-n database into schema n+1, in place.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3}

# Meta keys of documents whose chunks are being committed in parts.
PARTIAL_PREFIX = "partial:"
EMBED_PROVIDER = "embed_provider"  # meta: the ONNX Runtime provider the last writer embedded on

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    suffix TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    chunks INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_hash ON files(hash);
CREATE INDEX IF NOT EXISTS files_folder ON files(folder);
CREATE TABLE IF NOT EXISTS docs (
    hash TEXT PRIMARY KEY,
    chunks INTEGER NOT NULL,
    pages INTEGER,
    title TEXT,
    indexed REAL NOT NULL,
    unembedded INTEGER NOT NULL DEFAULT 0,
    ocr_pending INTEGER NOT NULL DEFAULT 0
);
"""


_ESC = "\ue000"  # a private-use character that starts an escape in stored paths


def db_path(path: str) -> str:
    """A path as stored: valid UTF-8 even for names that are not (POSIX allows any bytes).

    ``os.fsdecode`` turns undecodable bytes into lone surrogates, which SQLite cannot store.
    They become ``_ESC`` + a private-use character (and ``_ESC`` itself is doubled), which is
    reversible and keeps folder prefixes intact for ``LIKE 'folder/%'`` filters.
    """
    if path.isascii():
        return path
    out = []
    for ch in path:
        o = ord(ch)
        if ch == _ESC:
            out.append(_ESC + _ESC)
        elif 0xDC80 <= o <= 0xDCFF:
            out.append(_ESC + chr(0xE100 + o - 0xDC80))
        else:
            out.append(ch)
    return "".join(out)


def fs_path(stored: str) -> str:
    """Inverse of :func:`db_path`."""
    if _ESC not in stored:
        return stored
    out = []
    it = iter(stored)
    for ch in it:
        if ch == _ESC:
            nxt = next(it, "")
            out.append(_ESC if nxt == _ESC else chr(0xDC80 + ord(nxt) - 0xE100))
        else:
            out.append(ch)
    return "".join(out)


def _row(r: tuple[object, ...]) -> FileRow:
    t = tuple(r)
    return FileRow(fs_path(str(t[0])), fs_path(str(t[1])), *t[2:])  # type: ignore[arg-type]


@dataclass(frozen=True)
class FileRow:
    """One known file."""

    path: str
    folder: str
    size: int
    mtime_ns: int
    hash: str | None
    state: str
    reason: str | None = None
    chunks: int = 0
    updated: float = 0.0  # when the record was written (set by StateDB.upsert_file)

    @property
    def name(self) -> str:
        """The file's name."""
        return Path(self.path).name


class StateDB:
    """Access to ``state.sqlite``. One instance per thread; the writer opens it read-write."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            uri = f"{path.as_uri()}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            fresh = not self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name='meta'"
            ).fetchone()
            self.conn.executescript(_SCHEMA)
            if fresh or self.get_meta("schema_version") is None:
                if fresh:
                    _v1_to_v2(self.conn)
                    self.set_meta("schema_version", str(SCHEMA_VERSION))
                else:
                    self.set_meta("schema_version", "1")
            self._migrate()
        self.conn.row_factory = sqlite3.Row

    @property
    def schema_version(self) -> int:
        """The schema version the database is at."""
        return int(self.get_meta("schema_version") or 1)

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise IndexCorruptError(
                f"The index was written by a newer Findling (schema {version}, this version "
                f"understands {SCHEMA_VERSION}); update Findling or remove {self.path.parent}"
            )
        while version < SCHEMA_VERSION:
            with self.conn:
                MIGRATIONS[version](self.conn)
                version += 1
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    ("schema_version", str(version)),
                )

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction committed as a whole or not at all."""
        with self.conn:
            yield self.conn

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A value from the meta table."""
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a meta value."""
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- documents written in parts -------------------------------------------------------------
    def mark_partial(self, hashes: list[str]) -> None:
        """Note that chunks of these documents may be committed before the document is whole.

        Recovery must not adopt such chunks as a finished document (see Indexer.recover).
        """
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, '')",
                ((PARTIAL_PREFIX + h,) for h in hashes),
            )

    def partial_docs(self) -> list[str]:
        """Documents marked as being written in parts."""
        return [
            str(r[0])[len(PARTIAL_PREFIX) :]
            for r in self.conn.execute(
                "SELECT key FROM meta WHERE substr(key, 1, ?) = ?",
                (len(PARTIAL_PREFIX), PARTIAL_PREFIX),
            )
        ]

    def clear_partial(self, conn: sqlite3.Connection, hashes: list[str]) -> None:
        """Drop the marks of :meth:`mark_partial` (in the caller's transaction)."""
        conn.executemany("DELETE FROM meta WHERE key=?", ((PARTIAL_PREFIX + h,) for h in hashes))

    # -- files --------------------------------------------------------------------------------
    def files(self, folder: str | None = None) -> list[FileRow]:
        """All known files, or those under one configured folder."""
        sql = "SELECT path, folder, size, mtime_ns, hash, state, reason, chunks, updated FROM files"
        args: tuple[str, ...] = ()
        if folder is not None:
            sql += " WHERE folder=?"
            args = (db_path(folder),)
        return [_row(r) for r in self.conn.execute(sql + " ORDER BY path", args)]

    def files_at(self, paths: Iterable[str]) -> list[FileRow]:
        """Known files that are one of ``paths`` or lie under one of them (a watcher batch):
        index range lookups, so the cost follows the batch, not the size of the index."""
        cols = "path, folder, size, mtime_ns, hash, state, reason, chunks, updated"
        out: dict[str, FileRow] = {}
        for raw in paths:
            p = db_path(raw.rstrip(os.sep) or os.sep)
            lo = p if p.endswith(os.sep) else p + os.sep
            hi = lo[:-1] + chr(ord(os.sep) + 1)  # every path that starts with lo sorts below hi
            for r in self.conn.execute(
                f"SELECT {cols} FROM files WHERE path = ? OR (path >= ? AND path < ?)",
                (p, lo, hi),
            ):
                row = _row(r)
                out[row.path] = row
        return [out[k] for k in sorted(out)]

    def file(self, path: str) -> FileRow | None:
        """One file's row."""
        r = self.conn.execute(
            "SELECT path, folder, size, mtime_ns, hash, state, reason, chunks, updated"
            " FROM files WHERE path=?",
            (db_path(path),),
        ).fetchone()
        return _row(r) if r else None

    def upsert_file(self, conn: sqlite3.Connection, row: FileRow) -> None:
        """Insert or replace a file's record (inside a :meth:`transaction`); ``row.updated`` is
        set to now."""
        path, folder = db_path(row.path), db_path(row.folder)
        p = Path(path)
        conn.execute(
            "INSERT OR REPLACE INTO files(path, folder, name, suffix, size, mtime_ns, hash, state,"
            " reason, chunks, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                path,
                folder,
                p.name.lower(),
                p.suffix.lower(),
                row.size,
                row.mtime_ns,
                row.hash,
                str(row.state),
                row.reason,
                row.chunks,
                time.time(),
            ),
        )

    def delete_files(self, conn: sqlite3.Connection, paths: Iterable[str]) -> None:
        """Forget files (inside a :meth:`transaction`)."""
        conn.executemany("DELETE FROM files WHERE path=?", ((db_path(p),) for p in paths))

    def set_folder_online(self, folder: str, online: bool) -> int:
        """Mark an unplugged folder's indexed files offline, or bring them back. Returns count."""
        folder = db_path(folder)
        with self.conn:
            if online:
                cur = self.conn.execute(
                    "UPDATE files SET state=?, reason=NULL WHERE folder=? AND state=?",
                    (FileState.INDEXED, folder, FileState.OFFLINE),
                )
            else:
                cur = self.conn.execute(
                    "UPDATE files SET state=?, reason=? WHERE folder=? AND state=?",
                    (
                        FileState.OFFLINE,
                        "The folder is not reachable (unplugged drive?); results are kept",
                        folder,
                        FileState.INDEXED,
                    ),
                )
        return cur.rowcount

    # -- docs ---------------------------------------------------------------------------------
    def doc(self, hash_: str) -> sqlite3.Row | None:
        """The committed document with this content hash, if any."""
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT hash, chunks, pages, title FROM docs WHERE hash=?", (hash_,)
        ).fetchone()
        return row

    def doc_hashes(self) -> set[str]:
        """All committed document hashes."""
        return {r[0] for r in self.conn.execute("SELECT hash FROM docs")}

    def doc_chunks(self) -> dict[str, int]:
        """Every committed document and how many passages it has."""
        return {str(r[0]): int(r[1]) for r in self.conn.execute("SELECT hash, chunks FROM docs")}

    def requeue_docs(self, conn: sqlite3.Connection, hashes: Iterable[str]) -> None:
        """Forget these documents and put the files that had them back in the queue (inside a
        :meth:`transaction`): their passages are missing or incomplete."""
        for h in hashes:
            conn.execute("DELETE FROM docs WHERE hash=?", (h,))
            conn.execute(
                "UPDATE files SET state=?, chunks=0 WHERE hash=? AND state IN (?, ?)",
                (FileState.PENDING, h, FileState.INDEXED, FileState.OFFLINE),
            )

    def delete_docs(self, conn: sqlite3.Connection, hashes: Iterable[str]) -> None:
        """Forget these documents (inside a :meth:`transaction`); their files are not touched."""
        conn.executemany("DELETE FROM docs WHERE hash=?", ((h,) for h in hashes))

    def forget_all_docs(self) -> None:
        """Forget every document and queue every file again (the index is rebuilt)."""
        with self.transaction() as c:
            c.execute("DELETE FROM docs")
            c.execute(
                "UPDATE files SET state=?, reason=NULL, chunks=0 WHERE state IN (?, ?)",
                (FileState.PENDING, FileState.INDEXED, FileState.OFFLINE),
            )

    def quick_check(self) -> str:
        """SQLite's integrity check: ``"ok"``, else what is damaged."""
        return str(self.conn.execute("PRAGMA quick_check").fetchone()[0])

    def add_doc(
        self,
        conn: sqlite3.Connection,
        hash_: str,
        chunks: int,
        pages: int | None,
        title: str | None,
        unembedded: int = 0,
        ocr_pending: int = 0,
    ) -> None:
        """Record a document whose chunks are committed to LanceDB (``unembedded`` of them
        still without a vector, ``ocr_pending`` scanned pages not read yet)."""
        conn.execute(
            "INSERT OR REPLACE INTO docs(hash, chunks, pages, title, indexed, unembedded,"
            " ocr_pending) VALUES (?,?,?,?,?,?,?)",
            (hash_, chunks, pages, title, time.time(), unembedded, ocr_pending),
        )

    def ocr_pending_docs(self) -> list[tuple[str, int]]:
        """Documents with scanned pages still waiting for OCR, and how many: oldest first."""
        try:
            rows = self.conn.execute(
                "SELECT hash, ocr_pending FROM docs WHERE ocr_pending > 0 ORDER BY indexed, hash"
            ).fetchall()
        except sqlite3.OperationalError:  # an older index not yet migrated by a writer
            return []
        return [(str(r[0]), int(r[1])) for r in rows]

    # -- the semantic tier ----------------------------------------------------------------------
    def unembedded_docs(self) -> list[tuple[str, int]]:
        """Documents with passages still waiting for a vector, and how many: oldest first."""
        return [
            (str(r[0]), int(r[1]))
            for r in self.conn.execute(
                "SELECT hash, unembedded FROM docs WHERE unembedded > 0 ORDER BY indexed, hash"
            )
        ]

    def set_unembedded(self, conn: sqlite3.Connection, hash_: str, n: int) -> None:
        """Record how many passages of a document still lack a vector (in a transaction)."""
        conn.execute("UPDATE docs SET unembedded=? WHERE hash=?", (n, hash_))

    def semantic_pending(self) -> tuple[int, int]:
        """(passages waiting for a vector, indexed files they belong to)."""
        try:
            return self._semantic_pending()
        except sqlite3.OperationalError:  # an older index not yet migrated by a writer
            return 0, 0

    def _semantic_pending(self) -> tuple[int, int]:
        passages = self.conn.execute(
            "SELECT COALESCE(SUM(unembedded), 0) FROM docs WHERE unembedded > 0"
        ).fetchone()[0]
        files = self.conn.execute(
            "SELECT COUNT(*) FROM files WHERE state IN (?, ?) AND hash IN"
            " (SELECT hash FROM docs WHERE unembedded > 0)",
            (FileState.INDEXED, FileState.OFFLINE),
        ).fetchone()[0]
        return int(passages), int(files)

    def unembedded_hashes(self) -> set[str]:
        """Hashes of documents whose meaning search is not ready yet."""
        try:
            rows = self.conn.execute("SELECT hash FROM docs WHERE unembedded > 0").fetchall()
        except sqlite3.OperationalError:  # an older index not yet migrated by a writer
            return set()
        return {r[0] for r in rows}

    def unreferenced_docs(self) -> list[str]:
        """Documents no known file points at any more."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT hash FROM docs WHERE hash NOT IN"
                " (SELECT hash FROM files WHERE hash IS NOT NULL AND state IN (?, ?))",
                (FileState.INDEXED, FileState.OFFLINE),
            )
        ]

    # -- queries for search ---------------------------------------------------------------------
    def paths_for_docs(
        self, hashes: Iterable[str], filters: SearchFilters | None = None
    ) -> dict[str, list[FileRow]]:
        """Indexed (or offline) files for each document hash, oldest first; with ``filters``,
        only the files that pass them."""
        hs = list(set(hashes))
        cond, cond_args = _file_filter(filters)
        out: dict[str, list[FileRow]] = {}
        for i in range(0, len(hs), 500):
            part = hs[i : i + 500]
            q = ",".join("?" * len(part))
            for r in self.conn.execute(
                "SELECT path, folder, size, mtime_ns, hash, state, reason, chunks, updated"
                " FROM files"
                # "+state": look the files up by hash; SQLite otherwise walks every indexed
                # file by the state index (5.4 ms instead of 0.15 at 25,000 files)
                f" WHERE hash IN ({q}) AND +state IN (?, ?){cond} ORDER BY updated, path",
                (*part, FileState.INDEXED, FileState.OFFLINE, *cond_args),
            ):
                row = _row(r)
                out.setdefault(str(row.hash), []).append(row)
        return out

    def docs_matching(
        self, filters: SearchFilters | None = None, *, name_terms: Iterable[str] = ()
    ) -> set[str]:
        """Hashes of indexed files that pass ``filters`` and whose names contain every one of
        ``name_terms`` (case-insensitive)."""
        cond, args = _file_filter(filters)
        sql = "SELECT DISTINCT hash FROM files WHERE state IN (?, ?) AND hash IS NOT NULL" + cond
        args = [FileState.INDEXED, FileState.OFFLINE, *args]
        for term in name_terms:
            sql += " AND name LIKE ? ESCAPE '\\'"
            args.append(f"%{_like_escape(term.lower())}%")
        return {r[0] for r in self.conn.execute(sql, args)}

    def chunk_count(self, hashes: Iterable[str]) -> int:
        """How many chunks the documents ``hashes`` hold (what a filter on them leaves)."""
        hs = list(set(hashes))
        total = 0
        for i in range(0, len(hs), 500):
            part = hs[i : i + 500]
            q = ",".join("?" * len(part))
            row = self.conn.execute(f"SELECT SUM(chunks) FROM docs WHERE hash IN ({q})", part)
            total += int(row.fetchone()[0] or 0)
        return total

    def roots(self) -> list[str]:
        """The indexed folders that files were found in."""
        return sorted(
            fs_path(str(r[0])) for r in self.conn.execute("SELECT DISTINCT folder FROM files")
        )

    def counts(self) -> dict[str, int]:
        """Number of files per state."""
        return {
            r[0]: r[1]
            for r in self.conn.execute("SELECT state, COUNT(*) FROM files GROUP BY state")
        }


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _file_filter(f: SearchFilters | None) -> tuple[str, list[object]]:
    """The ``AND ...`` conditions on ``files`` for ``f`` and their arguments: the one place
    the folder, type and date filters are decided."""
    if f is None or not f.active:
        return "", []
    sql = ""
    args: list[object] = []
    fl = [db_path(os.path.abspath(x).rstrip("/\\")) for x in f.folders]
    if fl:
        sql += " AND (" + " OR ".join("path = ? OR path LIKE ? ESCAPE '\\'" for _ in fl) + ")"
        for x in fl:
            args += [x, _like_escape(x) + "/%"]
    sx = [t.lower() if t.startswith(".") else "." + t.lower() for t in f.types]
    if sx:
        sql += f" AND suffix IN ({','.join('?' * len(sx))})"
        args += sx
    if f.modified_after is not None:
        sql += " AND mtime_ns >= ?"
        args.append(int(f.modified_after * 1e9))
    if f.modified_before is not None:
        sql += " AND mtime_ns <= ?"
        args.append(int(f.modified_before * 1e9))
    return sql, args
