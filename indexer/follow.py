"""The watch loop: catch up once, then follow file changes and hand-over requests until stopped.

One writer follows the folders: it brings the index up to date, then syncs each coalesced batch
of changed paths the watcher releases, rescans everything now and then (and whenever the watcher
lost events), and fills in the work behind the index (OCR rounds, vectors) while the folders are
quiet; the approximate vector index is built behind all that on a thread of its own
(:mod:`indexer.ann_build`). Other processes hand work over through the request spool
(``findling index`` while a watcher runs): the owner turns a request into a new config, and the
loop applies it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from indexer.config import IndexConfig
from indexer.lock import take_requests
from indexer.pipeline import Indexer
from indexer.progress import SyncReport
from indexer.watch import Watcher

log = logging.getLogger(__name__)

RESCAN_EVERY_S = 15 * 60  # a full rescan also catches what no file event reported


@dataclass(frozen=True)
class FollowHooks:
    """What the owner of the loop hears, and how it answers hand-over requests.

    Attributes:
        on_ready: After the first catch-up: the index matches the folders.
        on_report: After each later sync that changed something.
        reload: Called when another process asked for a sync; returns the config to use from
            now on (the settings re-read), or None to keep the current one (they did not load).
        checkpoint: Called wherever the loop may stop (between files, embedding slices and
            watcher batches, never inside a transaction); it may block, e.g. while the app
            generates an answer (see :mod:`indexer.gate`), and must return once ``stop`` is set.
    """

    on_ready: Callable[[SyncReport], None] | None = None
    on_report: Callable[[SyncReport], None] | None = None
    reload: Callable[[], IndexConfig | None] | None = None
    checkpoint: Callable[[], object] | None = None


def _watcher(config: IndexConfig) -> Watcher:
    watcher = Watcher(config.folders, config.ignore, exclude=config.excluded)
    watcher.start()
    return watcher


def follow_folders(
    indexer: Indexer,
    stop: threading.Event,
    hooks: FollowHooks | None = None,
    *,
    poll_s: float = 0.5,
    rescan_every_s: float = RESCAN_EVERY_S,
) -> None:
    """Keep ``indexer``'s index in step with its folders until ``stop`` is set.

    The caller holds the writer lock (with requests accepted) and closes the indexer afterwards.
    """
    hooks = hooks or FollowHooks()
    checkpoint = hooks.checkpoint

    def should_stop() -> bool:
        if checkpoint is not None:
            checkpoint()
        return stop.is_set()

    index_dir = indexer.config.index_dir
    # Follow changes from before the catch-up starts, so that nothing changed during it or just
    # after "ready" slips through until the next periodic rescan.
    watcher = _watcher(indexer.config)
    try:
        report = indexer.sync(should_stop, interrupt=watcher.has_pending)
        if hooks.on_ready:
            hooks.on_ready(report)
        # A vector index whose build was cut short (a crash, a kill) is built now, in the
        # background; when nothing is missing this is one look at the table's indexes.
        indexer.request_vector_index()
        last_scan = time.monotonic()
        while not should_stop():
            if take_requests(index_dir):
                config = hooks.reload() if hooks.reload else indexer.config
                if config is None:
                    continue  # the owner logged why; the index is kept as it was
                old = set(indexer.config.folders)
                indexer.reconfigure(config)
                for gone in old - set(config.folders):
                    indexer.purge_folder(gone)
                watcher.stop()
                watcher = _watcher(config)
                rep = indexer.sync(should_stop)
                if hooks.on_report:
                    hooks.on_report(rep)
                last_scan = time.monotonic()
                continue
            batch = watcher.next_batch(timeout=poll_s)
            due = time.monotonic() - last_scan > rescan_every_s
            # Embedding and OCR run behind the index and yield to new changes, which are made
            # searchable first; they resume here once the folders are quiet.
            changes = watcher.has_pending
            if batch is None and not due:
                if indexer.is_behind():
                    indexer.catch_up(should_stop, changes)
                continue
            if due or (batch is not None and batch.rescan):
                rep = indexer.sync(should_stop, interrupt=changes)
                last_scan = time.monotonic()
            else:
                assert batch is not None
                rep = indexer.sync(should_stop, paths=batch.paths, interrupt=changes)
            if hooks.on_report and rep.changed:
                hooks.on_report(rep)
    finally:
        watcher.stop()
