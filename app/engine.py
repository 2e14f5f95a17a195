"""The engine facade shared by the CLI and the desktop app (Qt-free).

It turns the user's settings into the indexer's and models' frozen configs, loads models lazily
and once, and runs the watch loop (:func:`indexer.follow.follow_folders`) with the writer lock
held, re-reading the settings when another Findling process hands work over.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from app import settings as settings_mod
from app.paths import AppPaths
from app.settings import Settings, SettingsError
from models.catalogue import find_model
from models.embedder import Embedder, EmbedderConfig
from models.errors import ModelError
from models.llm import Llm, LlmConfig

if TYPE_CHECKING:
    from indexer import Asker, IndexConfig, Indexer, Progress, Searcher, SyncReport
    from indexer.lock import WriterLock

# The indexer's modules are imported where they are used: ``findling search`` needs only the
# searcher, and the pipeline, the watcher, the sandbox and the answer flow cost it about half a
# second of start-up on a loaded two-core machine (benchmarks/bench_cold.py).

log = logging.getLogger(__name__)


class Engine:
    """Models, index and settings for one Findling process."""

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        llm: Llm | None = None,
    ) -> None:
        """Args:
        paths: Findling's folders.
        settings: The user's settings (default: read from the settings file).
        embedder: An already-loaded embedding model to use (e.g. shared by tests).
        llm: An already-loaded LLM to use.
        """
        self.paths = paths.ensure()
        self.settings = settings or settings_mod.load(paths.settings_file)
        self._embedder: Embedder | None = embedder
        self._llm: Llm | None = llm
        # The model the index that answers was built with, while a new index is being built
        # with ``embedder`` (see query_embedder).
        self._previous: Embedder | None = None
        # Separate locks: a search must not wait while the (much larger) LLM loads.
        self._embedder_lock = threading.Lock()
        self._previous_lock = threading.Lock()
        self._llm_lock = threading.Lock()

    # -- settings -------------------------------------------------------------------------------
    # ``self.settings`` belongs to the front end's main thread (the GUI thread, or the CLI): only
    # it changes and saves them. Other threads get copies (``snapshot``) and the indexer gets a
    # frozen ``IndexConfig`` built from one.
    def save_settings(self) -> None:
        """Write the settings file (owner thread only)."""
        settings_mod.save(self.settings, self.paths.settings_file)

    def adopt(self, loaded: Settings) -> None:
        """Take the values of a settings file another process wrote (owner thread only); the
        window's own state (``ui``) is kept, since it is saved later."""
        for f in fields(Settings):
            if f.name != "ui":
                setattr(self.settings, f.name, getattr(loaded, f.name))

    def snapshot(self) -> Settings:
        """An independent copy of the settings, for another thread (call on the owner thread)."""
        return self.settings.copy()

    # -- models ---------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use)."""
        with self._embedder_lock:
            if self._embedder is None:
                spec = find_model(self.paths.models_dir, self.settings.embedding_model, "embedding")
                self._embedder = Embedder(spec, self.embedder_config())
            return self._embedder

    def embedder_config(self) -> EmbedderConfig:
        """The embedding model's run-time config from the settings."""
        return EmbedderConfig(device=self.settings.embed_device)

    def query_embedder(self, model_id: str) -> Embedder | None:
        """The model that embeds queries for an index built with ``model_id``: the settings'
        model, or (while the index is being rebuilt with that one) the previous model, kept
        loaded until the new index replaces the old. None when it is not installed."""
        if model_id == self.embedder.model_id:
            with self._previous_lock:
                self._previous = None  # the switch happened: the old model is not needed
            return self.embedder
        with self._previous_lock:
            if self._previous is None or self._previous.model_id != model_id:
                try:
                    spec = find_model(self.paths.models_dir, model_id, "embedding")
                    self._previous = Embedder(spec, self.embedder_config())
                except ModelError as exc:
                    log.warning("The index's embedding model is not usable: %s", exc)
                    return None
                log.info("Searching with %s until the rebuilt index is complete", model_id)
            return self._previous

    @property
    def llm(self) -> Llm:
        """The chat model (loaded on first use; released after ``llm_unload_after_s`` idle and
        loaded again by the next question, see :class:`models.llm.Llm`)."""
        with self._llm_lock:
            if self._llm is None:
                spec = find_model(self.paths.models_dir, self.settings.llm_model, "llm")
                config = LlmConfig(
                    gpu_layers=self.settings.gpu_layers_value,
                    unload_after_s=float(self.settings.llm_unload_after_s),
                )
                self._llm = Llm(spec, config)
            return self._llm

    @property
    def llm_loaded(self) -> bool:
        """Whether the chat model's weights are in memory now (no load is started)."""
        llm = self._llm
        return llm is not None and llm.loaded

    def unload_llm(self) -> bool:
        """Release the chat model's memory now unless it is answering; returns whether it did."""
        llm = self._llm
        return llm is not None and llm.unload()

    # -- indexing -------------------------------------------------------------------------------
    def index_config(self, settings: Settings | None = None) -> IndexConfig:
        """The indexer's frozen config from ``settings`` (default: the owner's settings)."""
        from indexer import IndexConfig, IndexLayout
        from indexer.chunk import ChunkerConfig
        from indexer.extract.document import ExtractLimits
        from indexer.sandbox import SandboxConfig

        s = settings or self.settings
        workers = s.workers or max(1, min(4, (os.cpu_count() or 2) - 1))
        return IndexConfig(
            index_dir=self.paths.index_dir,
            folders=tuple(Path(f) for f in s.folders),
            ignore=tuple(s.ignore),
            limits=ExtractLimits(
                max_bytes=s.max_file_mb * 1024 * 1024,
                max_pages=s.max_pages,
                ocr_cache_dir=IndexLayout(self.paths.index_dir).ocr_cache,
            ),
            chunker=ChunkerConfig(max_tokens=self.embedder.max_tokens),
            sandbox=SandboxConfig(workers=workers, timeout_s=float(s.extract_timeout_s)),
            # Findling's own data, models and logs, in case a configured folder holds them.
            exclude=(self.paths.data_dir, self.paths.models_dir, self.paths.log_dir),
        )

    def open_indexer(
        self,
        *,
        lock: WriterLock | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        config: IndexConfig | None = None,
    ) -> Indexer:
        """The index writer (raises IndexLockedError if another process writes)."""
        from indexer import Indexer

        config = config or self.index_config()
        return Indexer(config, self.embedder, lock=lock, on_progress=on_progress)

    def searcher(self) -> Searcher:
        """A reader of the index."""
        from indexer import Searcher

        return Searcher(self.paths.index_dir, self.embedder, embedder_for=self.query_embedder)

    def asker(self, searcher: Searcher | None = None) -> Asker:
        """The question-answering flow."""
        from indexer import Asker

        return Asker(searcher or self.searcher(), self.llm)

    def run_watch(
        self,
        stop: threading.Event,
        *,
        lock: WriterLock | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_ready: Callable[[SyncReport], None] | None = None,
        on_report: Callable[[SyncReport], None] | None = None,
        on_settings: Callable[[Settings], None] | None = None,
        settings: Settings | None = None,
        poll_s: float = 0.5,
        checkpoint: Callable[[], object] | None = None,
    ) -> None:
        """Catch up, then follow file changes until ``stop`` is set.

        Other Findling processes may hand over work through the request spool (``findling index``
        while this runs): the settings file is re-read into a new snapshot, the index brought up
        to date, and the snapshot offered to the owner through ``on_settings`` (this thread never
        replaces or changes ``self.settings``). A file that does not load changes nothing.

        Args:
            settings: The snapshot to start from, taken by the owner thread (default: a copy of
                ``self.settings``, right for a single-threaded caller).
            checkpoint: Passed through wherever the loop may stop; it may block, e.g. the
                desktop app's :class:`indexer.gate.Gate` while an answer is generated.
        """
        from indexer import FollowHooks, follow_folders
        from indexer.lock import WriterLock

        lock = lock or WriterLock(self.paths.index_dir, accepts_requests=True, role="watch")
        if not lock.held:
            lock.acquire()
        lock.set_accepts_requests(True)
        snapshot = settings or self.snapshot()

        def reload() -> IndexConfig | None:
            try:
                fresh = settings_mod.load(self.paths.settings_file)
            except SettingsError as exc:
                log.error("%s; the index is kept as it was", exc)
                return None
            if on_settings:
                on_settings(fresh.copy())
            return self.index_config(fresh)

        hooks = FollowHooks(
            on_ready=on_ready, on_report=on_report, reload=reload, checkpoint=checkpoint
        )
        try:
            indexer = self.open_indexer(
                lock=lock, on_progress=on_progress, config=self.index_config(snapshot)
            )
            try:
                follow_folders(indexer, stop, hooks, poll_s=poll_s)
            finally:
                indexer.close()
        finally:
            if lock.held:
                lock.release()
