"""Where an index keeps its parts on disk, named once.

One index folder holds::

    lance/                  LanceDB chunk table (passages, vectors, full-text index)
    lance/findling-build.json  which model and chunker built those vectors
    state.sqlite            the file-state record (paths, hashes, states, reasons)
    writer.lock             the single-writer lock; writer.json says who holds it
    requests/               work handed to the writer by other processes
    ocr-cache/              text read from scanned pages, keyed by page content
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexLayout:
    """The paths inside one index folder."""

    root: Path

    @property
    def lance(self) -> Path:
        """The LanceDB database folder."""
        return self.root / "lance"

    @property
    def build_file(self) -> Path:
        """The build record kept beside the vectors (survives a lost state record)."""
        return self.lance / "findling-build.json"

    @property
    def state(self) -> Path:
        """The SQLite file-state record."""
        return self.root / "state.sqlite"

    @property
    def lock(self) -> Path:
        """The writer lock file."""
        return self.root / "writer.lock"

    @property
    def lock_info(self) -> Path:
        """Who holds the writer lock (pid, role, whether it takes requests)."""
        return self.root / "writer.json"

    @property
    def requests(self) -> Path:
        """The spool of requests for the writer."""
        return self.root / "requests"

    @property
    def ocr_cache(self) -> Path:
        """Text read from scanned pages."""
        return self.root / "ocr-cache"

    def exists(self) -> bool:
        """Whether an index was ever written here."""
        return self.state.exists()
