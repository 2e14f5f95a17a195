"""The indexer's configuration, built by the app from the user's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from indexer.ann import AnnConfig
from indexer.chunk import ChunkerConfig
from indexer.extract.document import ExtractLimits
from indexer.sandbox import SandboxConfig


@dataclass(frozen=True)
class IndexConfig:
    """Everything the indexing pipeline needs to know.

    Attributes:
        index_dir: Where the LanceDB table and the state database live.
        folders: The folders to index (absolute).
        ignore: gitignore-style patterns, relative to each folder.
        limits: Per-file size and page limits.
        chunker: Chunk sizes in model tokens.
        sandbox: Extraction worker settings.
        batch_chunks: Chunks embedded and written per commit.
        keep_versions_minutes: How long old LanceDB versions survive for concurrent readers.
        exclude: Folders never indexed even inside a configured folder (Findling's own data;
            ``index_dir`` is always excluded).
        ann: When the approximate vector index is built (it is built in the background, see
            :mod:`indexer.ann_build`) and how queries use it.
    """

    index_dir: Path
    folders: tuple[Path, ...] = ()
    ignore: tuple[str, ...] = ()
    limits: ExtractLimits = field(default_factory=ExtractLimits)
    chunker: ChunkerConfig = field(default_factory=ChunkerConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    batch_chunks: int = 256
    keep_versions_minutes: float = 5.0
    exclude: tuple[Path, ...] = ()
    ann: AnnConfig = field(default_factory=AnnConfig)

    @property
    def excluded(self) -> tuple[Path, ...]:
        """Every folder the scan and the watcher leave out: ``exclude`` and the index."""
        return (self.index_dir, *self.exclude)
