"""Where an index keeps its parts on disk, named once.

One index folder holds::

    current.json            which generation answers searches (absent: the folder itself)
    lance/                  LanceDB chunk table (passages, vectors, full-text index)
    lance/findling-build.json  which model and chunker built those vectors
    state.sqlite            the file-state record (paths, hashes, states, reasons)
    gen-<n>/lance/, gen-<n>/state.sqlite   a later generation (see indexer.generations)
    writer.lock             the single-writer lock; writer.json says who holds it
    requests/               work handed to the writer by other processes
    ocr-cache/              text read from scanned pages, keyed by page content

The vectors and the file record belong to a *generation*: an index built with another model
or chunker is made beside the one that answers, and replaces it when complete. The first
generation is the index folder itself (its name is ""), so an index written before
generations existed is generation "" as it stands. The lock, the request spool and the OCR
cache belong to the index folder and are shared by every generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT_GENERATION = ""  # the generation that lives in the index folder itself


@dataclass(frozen=True)
class IndexLayout:
    """The paths inside one index folder, for one of its generations.

    Attributes:
        root: The index folder.
        generation: The generation's folder name under ``root`` ("" : ``root`` itself).
    """

    root: Path
    generation: str = ROOT_GENERATION

    @property
    def folder(self) -> Path:
        """The generation's folder (its table and file record)."""
        return self.root / self.generation if self.generation else self.root

    @property
    def lance(self) -> Path:
        """The LanceDB database folder."""
        return self.folder / "lance"

    @property
    def build_file(self) -> Path:
        """The build record kept beside the vectors (survives a lost state record)."""
        return self.lance / "findling-build.json"

    @property
    def state(self) -> Path:
        """The SQLite file-state record."""
        return self.folder / "state.sqlite"

    @property
    def pointer(self) -> Path:
        """Which generation answers searches, and which one is being built."""
        return self.root / "current.json"

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
        """Whether an index was ever written to this generation."""
        return self.state.exists()

    def at(self, generation: str) -> IndexLayout:
        """The same index folder, another generation."""
        return IndexLayout(self.root, generation)
