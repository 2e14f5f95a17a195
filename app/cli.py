"""The ``findling`` command line: index, watch, search, ask, status, folders, models.

Progress and messages go to stderr. With ``--json``, stdout carries only JSON, one object per
line. Exit codes: 0 success (a file that could not be indexed is not a failure of the run),
1 usage or runtime error, 2 another Findling process holds the index.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from app import __version__
from app.engine import Engine
from app.humanize import human_size, human_speed, human_time, rebuild_note
from app.logs import setup_logging
from app.paths import app_paths
from app.settings import SettingsError
from indexer import Progress, SearchFilters, SyncReport, read_status
from indexer.errors import IndexerError, IndexLockedError
from indexer.generations import active_layout
from indexer.lock import WriterLock, holder, submit_request
from indexer.query import parse, parse_date
from indexer.states import FileState, is_failure
from models.errors import ModelError

if TYPE_CHECKING:
    from indexer.quote import Extract
    from indexer.search import Hit
    from models.catalogue import ModelSpec

log = logging.getLogger("findling.cli")

EXIT_OK, EXIT_ERROR, EXIT_LOCKED = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"findling: error: {message}\n")


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _err(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


class ProgressPrinter:
    """A one-line progress bar on a terminal; occasional plain lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self._phase = ""

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        phase_changed = p.phase != self._phase
        self._phase = p.phase
        if p.phase == "indexing" and p.total:
            if not phase_changed and now - self._last < (0.1 if self.tty else 5.0):
                return
            self._last = now
            width = 24
            filled = int(width * p.fraction)
            bar = "█" * filled + "░" * (width - filled)
            eta = f" · {human_time(p.eta_s)} left" if p.eta_s and p.fraction < 1 else ""
            doing = p.doing()
            speed = human_speed(p.rate, p.passage_rate)
            line = (
                f"Indexing {bar} {p.done}/{p.total} files"
                f"{' · ' + speed if speed else ''}{eta}{' · ' + doing if doing else ''}"
            )
            if self.tty:
                sys.stderr.write("\r\x1b[2K" + line)
                sys.stderr.flush()
            else:
                _err(line)
        elif phase_changed and p.phase in ("scanning", "finishing"):
            if self.tty:
                sys.stderr.write("\r\x1b[2K")
            _err("Scanning folders…" if p.phase == "scanning" else "Optimising the index…")

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()


def _report_json(r: SyncReport) -> dict[str, Any]:
    return {
        "event": "sync",
        "added": r.added,
        "updated": r.updated,
        "moved": r.moved,
        "removed": r.removed,
        "failed": r.failed,
        "unchanged": r.unchanged,
        "chunks": r.chunks,
        "embedded": r.embedded,
        "reused_vectors": r.reused_vectors,
        "offline_folders": r.offline_folders,
        "stopped": r.stopped,
        "rebuilt": r.rebuilt,
        "switched": r.switched,
        "seconds": round(r.seconds, 3),
        "semantic_pending": r.semantic_pending,
    }


def _report_text(r: SyncReport) -> str:
    parts = [
        f"{r.added} added",
        f"{r.updated} updated",
        f"{r.moved} moved/renamed",
        f"{r.removed} removed",
        f"{r.failed} not indexed",
        f"{r.unchanged} unchanged",
    ]
    text = "Done in {:.1f}s: {}.".format(r.seconds, ", ".join(parts))
    if r.failed:
        text += " See `findling status` for the reasons."
    for f in r.offline_folders:
        text += f"\nFolder not reachable (kept its results, marked offline): {f}"
    if r.rebuilt:
        text += f"\n{r.rebuilt}"
    if r.switched:
        text += f"\n{r.switched}"
    if r.semantic_pending and not r.stopped:
        text += (
            f"\nKeyword search is ready; meaning search is still being prepared for "
            f"{r.semantic_pending:,} passage(s). Run `findling index` to finish it."
        )
    return text


class _StopFlag:
    """First Ctrl-C asks the run to stop after committing its work; a second one aborts."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            if self.event.is_set():
                raise KeyboardInterrupt
            self.event.set()
            _err("\nStopping; the work done so far is kept… (Ctrl-C again to abort)")

        signal.signal(signal.SIGINT, handler)
        if hasattr(signal, "SIGTERM"):
            signal.signal(signal.SIGTERM, handler)


def _hand_over(engine: Engine, args: argparse.Namespace, what: str) -> int:
    """Another process holds the index: give it the request, or say why we cannot."""
    info = holder(engine.paths.index_dir) or {}
    pid = info.get("pid", "?")
    if info.get("accepts_requests"):
        submit_request(engine.paths.index_dir, {"op": "sync", "what": what, "time": time.time()})
        msg = (
            f"Findling is already running (pid {pid}); handed the request to it. "
            "It will bring the index up to date now."
        )
        if args.json:
            _emit({"event": "handed-over", "pid": pid})
        _err(msg)
        return EXIT_OK
    _err(
        f"Another Findling process (pid {pid}) is updating the index. "
        "Try again when it has finished."
    )
    return EXIT_LOCKED


def _add_folders(engine: Engine, args: argparse.Namespace) -> bool:
    """Add the command line's folders to the configured ones; False (with a message) when one is
    not a folder or none is configured."""
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.expanduser().is_dir():
            _err(f"Not a folder: {p}")
            return False
    added = engine.settings.add_folders(paths)
    if added:
        engine.save_settings()
        for f in added:
            _err(f"Added folder: {f}")
    if not engine.settings.folders:
        _err(f"No folders configured. Usage: findling {args.command} FOLDER [FOLDER…]")
        return False
    return True


def cmd_index(engine: Engine, args: argparse.Namespace) -> int:
    if not _add_folders(engine, args):
        return EXIT_ERROR
    lock = WriterLock(engine.paths.index_dir, role="index")
    try:
        lock.acquire()
    except IndexLockedError:
        return _hand_over(engine, args, "index")
    stop = _StopFlag()
    stop.install()
    printer = ProgressPrinter()
    try:
        from indexer.sandbox import lower_priority

        lower_priority(5)
        with engine.open_indexer(lock=lock, on_progress=printer) as ix:
            report = ix.sync(stop.event.is_set, semantic=not getattr(args, "keyword_only", False))
    finally:
        printer.close()
        lock.release()
    if args.json:
        _emit(_report_json(report))
    _err(
        _report_text(report)
        if not report.stopped
        else "Stopped. Work done so far is kept; run `findling index` again to continue."
    )
    return EXIT_OK


def cmd_watch(engine: Engine, args: argparse.Namespace) -> int:
    if not _add_folders(engine, args):
        return EXIT_ERROR
    lock = WriterLock(engine.paths.index_dir, accepts_requests=True, role="watch")
    try:
        lock.acquire()
    except IndexLockedError:
        info = holder(engine.paths.index_dir) or {}
        _err(
            f"Another Findling process (pid {info.get('pid', '?')}) is already keeping the "
            "index up to date."
        )
        return EXIT_LOCKED
    stop = _StopFlag()
    stop.install()
    printer = ProgressPrinter()

    def ready(report: SyncReport) -> None:
        printer.close()
        if args.json:
            _emit({**_report_json(report), "event": "ready"})
        _err(_report_text(report))
        _err(f"Watching {len(engine.settings.folders)} folder(s) for changes. Ctrl-C to stop.")

    def changed(report: SyncReport) -> None:
        printer.close()
        if args.json:
            _emit(_report_json(report))
        _err(_report_text(report))

    engine.run_watch(stop.event, lock=lock, on_progress=printer, on_ready=ready, on_report=changed)
    if args.json:
        _emit({"event": "stopped"})
    _err("Stopped watching.")
    return EXIT_OK


def _filters(args: argparse.Namespace) -> SearchFilters | None:
    def date(s: str | None) -> float | None:
        if not s:
            return None
        when = parse_date(s)
        if when is None:
            raise SystemExit(f"findling: bad date {s!r} (use YYYY-MM-DD)")
        return when

    f = SearchFilters(
        folders=tuple(str(Path(x).expanduser().resolve()) for x in args.folder or ()),
        types=tuple(args.type or ()),
        modified_after=date(args.after),
        modified_before=date(args.before),
    )
    return f if f.active else None


def cmd_search(engine: Engine, args: argparse.Namespace) -> int:
    searcher = engine.searcher()
    # the launcher's prefixes work here too: `findling search "pdf: solar in:Papers"`
    query = parse(args.query, base_filters=_filters(args)).resolve(list(engine.settings.folders))
    for bad in (p for p in query.prefixes if p.kind == "error"):
        _err(f"findling: {bad.label}; searching without it")  # as the launcher's red chip says
    result = searcher.search(query, limit=args.limit)
    if args.json:
        for h in result.hits:
            _emit(h.to_json())
    else:
        if not result.hits:
            _err(
                "No results."
                + (
                    ""
                    if active_layout(engine.paths.index_dir).exists()
                    else " The index is empty: run `findling index FOLDER`."
                )
            )
        for i, h in enumerate(result.hits, start=1):
            where = f"page {h.page}" if h.page else (h.section or "")
            if h.message:
                where = f"message {h.message}: {where}"
            print(
                f"{i:>2}. {h.path}"
                + (f"  ({where})" if where else "")
                + ("  [offline]" if h.offline else "")
            )
            print(f"    {_highlight(h.snippet, h.highlights)}")
            for other in h.other_paths:
                print(f"    also in {other}")
    _err(f"{len(result.hits)} result(s) in {result.took_ms:.0f} ms")
    return EXIT_OK


def _highlight(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    if not sys.stdout.isatty() or not spans:
        return text
    out, pos = [], 0
    for a, b in spans:
        out += [text[pos:a], "\x1b[1;33m", text[a:b], "\x1b[0m"]
        pos = b
    out.append(text[pos:])
    return "".join(out)


def cmd_ask(engine: Engine, args: argparse.Namespace) -> int:
    stop = _StopFlag()
    stop.install()
    asker = engine.asker()
    streamed = False

    def on_token(piece: str) -> None:
        nonlocal streamed
        if args.json:
            _emit({"token": piece})
        else:
            sys.stdout.write(piece)
            sys.stdout.flush()
            streamed = True

    def on_extract(quote: Extract | None, _hits: list[Hit]) -> None:
        # Shown as soon as search returns, before the model writes a word.
        if args.json:
            _emit({"extract": quote.to_json() if quote else None})
        elif quote is not None:
            where = f", page {quote.page}" if quote.page else ""
            print(f"From {Path(quote.path).name}{where}:\n  \u00ab{quote.text}\u00bb\n")
            sys.stdout.flush()

    answer = asker.ask(
        args.question,
        on_token=on_token,
        should_stop=stop.event.is_set,
        filters=_filters(args),
        on_extract=on_extract,
    )
    if args.json:
        _emit(answer.to_json())
        return EXIT_OK
    if streamed:
        print()
    if answer.aggregate is not None:
        print(answer.answer)
        for f in answer.aggregate.files:
            day = time.strftime("%Y-%m-%d", time.localtime(f.modified)) if f.modified else "?"
            pages = f", pages {', '.join(map(str, f.pages))}" if f.pages else ""
            print(f"  {day}  {f.path}{pages}")
        return EXIT_OK
    if not answer.found:
        print(answer.answer)
    elif answer.unmentioned:
        # "… in Panama and in Peru": the answer is about Panama; say that Peru is in no file.
        from indexer.ask import not_mentioned_text

        print(f"\n{not_mentioned_text(answer.unmentioned)}")
    flagged = [s for s in answer.sentences if not s.grounded]
    if flagged:
        print("\nNot in the sources (unverified):")
        for s in flagged:
            print(f"  - {s.text}  [missing: {', '.join(s.missing)}]")
    if answer.citations:
        cited = [c for c in answer.citations if c.cited]
        if not answer.found:
            print("\nPossibly related:")
        else:
            print("\nSources:" if cited else "\nSources (not cited by the model; closest first):")
        for c in answer.citations:
            where = f", page {c.page}" if c.page else (f", {c.section}" if c.section else "")
            mark = f"[{c.n}]" if c.cited else " - "
            print(f" {mark} {c.path}{where}")
    return EXIT_OK


def cmd_status(engine: Engine, args: argparse.Namespace) -> int:
    st = read_status(engine.paths.index_dir)
    counts, writer = st.counts, st.writer
    summary = {
        "summary": True,
        "files": len(st.files),
        "indexed": counts.get(FileState.INDEXED, 0),
        "pending": counts.get(FileState.PENDING, 0),
        "offline": counts.get(FileState.OFFLINE, 0),
        "failed": sum(v for k, v in counts.items() if is_failure(k)),
        "by_state": counts,
        "chunks": st.passages,
        "semantic_pending": st.semantic_pending,
        "semantic_pending_files": st.semantic_pending_files,
        "ocr_pending_pages": st.ocr_pending_pages,
        "index_bytes": st.size,
        "folders": engine.settings.folders,
        "embedding_model": st.build.get("embed_model")
        or engine.settings.embedding_model
        or "all-MiniLM-L6-v2",
        "llm_model": engine.settings.llm_model or "SmolLM2-135M-Instruct-Q4_1",
        "embed_device": engine.settings.embed_device,
        "embed_provider": st.embed_provider,
        "writer": {"pid": writer.get("pid"), "role": writer.get("role")} if writer else None,
        "home": str(engine.paths.data_dir),
        "rebuild": st.rebuild,
    }
    if args.json:
        for r in st.files:
            _emit(
                {
                    "path": r.path,
                    "state": r.state,
                    "reason": r.reason,
                    "chunks": r.chunks,
                    "semantic": st.semantic(r),
                }
            )
        _emit(summary)
        return EXIT_OK
    print(f"Folders: {', '.join(engine.settings.folders) or '(none)'}")
    print(
        f"Files: {summary['files']} known · {summary['indexed']} indexed · "
        f"{summary['pending']} pending · {summary['failed']} not indexed · "
        f"{summary['offline']} offline"
    )
    print(f"Index: {st.passages:,} passages, {human_size(st.size)} on disk")
    if st.semantic_pending:
        print(
            f"Meaning search is still being prepared for {st.semantic_pending_files:,} file(s) "
            f"({st.semantic_pending:,} passages); keyword search already covers them."
        )
    if st.ocr_pending_pages:
        print(f"Scanned pages still to be read by OCR: {st.ocr_pending_pages:,}")
    if st.rebuild:
        print(rebuild_note(st.rebuild))
    print(f"Models: {summary['embedding_model']} (search), {summary['llm_model']} (answers)")
    if writer:
        print(f"Writer: {writer.get('role')} (pid {writer.get('pid')}) is running")
    if st.failed:
        print("\nNot indexed:")
        for r in st.failed:
            print(f"  {r.state:<11} {r.path}\n              {r.reason}")
    return EXIT_OK


def cmd_folders(engine: Engine, args: argparse.Namespace) -> int:
    if args.action == "list":
        for f in engine.settings.folders:
            print(f)
        return EXIT_OK
    if not args.path:
        _err("Give a folder.")
        return EXIT_ERROR
    if args.action == "add":
        return cmd_index(engine, argparse.Namespace(paths=[args.path], json=args.json))
    if not engine.settings.remove_folder(args.path):
        _err(f"Not a configured folder: {args.path}")
        return EXIT_ERROR
    engine.save_settings()
    lock = WriterLock(engine.paths.index_dir, role="folders")
    try:
        lock.acquire()
    except IndexLockedError:
        return _hand_over(engine, args, "remove-folder")
    try:
        with engine.open_indexer(lock=lock) as ix:
            n = ix.purge_folder(Path(args.path))
            ix.optimize()
    finally:
        lock.release()
    _err(f"Removed {args.path} and {n} file(s) from the index.")
    return EXIT_OK


def cmd_models(engine: Engine, args: argparse.Namespace) -> int:
    from app.model_admin import Machine, active_ids, model_rows, recommended_ids, removal_refusal
    from models.catalogue import ModelSpec, catalogue, find_in_catalogue

    models_dir = engine.paths.models_dir
    if args.action == "import":
        from models.manage import import_model

        if not args.path:
            _err("models import needs the path of a .gguf file")
            return EXIT_ERROR
        spec = import_model(Path(args.path), models_dir, args.id, dims=args.dims)
        if args.json:
            _emit(_model_entry(spec, False))
        _err(
            f"Imported {spec.id} ({spec.architecture}, context {spec.context_length} tokens, "
            f"{spec.quantisation or 'unknown quantisation'}, licence {spec.licence}) "
            f"into {spec.file}"
        )
        return EXIT_OK
    if args.action == "remove":
        from models.manage import remove_model

        model_id = args.id or args.path
        if not model_id:
            _err("models remove needs a model id")
            return EXIT_ERROR
        refusal = removal_refusal(engine.settings, engine.paths.index_dir, model_id)
        if refusal:
            _err(refusal)
            return EXIT_ERROR
        removed = remove_model(models_dir, model_id)
        _err(f"Removed {model_id} ({removed})")
        return EXIT_OK
    if args.action == "download":
        from models.download import download_model

        model_id = args.id or args.path
        known = find_in_catalogue(model_id) if model_id and not args.url else None
        if known is not None:
            spec = known
        elif args.url and model_id:
            name = args.url.rstrip("/").rsplit("/", 1)[-1] or f"{model_id}.gguf"
            spec = ModelSpec(
                id=model_id,
                kind=args.kind,
                file=Path(name),
                url=args.url,
                sha256=args.sha256,
                dims=args.dims,
                source="user",
            )
        else:
            ids = ", ".join(s.id for s in catalogue())
            _err(f"models download needs a catalogue id ({ids}) or --id and --url")
            return EXIT_ERROR
        extra = {"tokenizer.json": args.tokenizer_url} if args.tokenizer_url else None

        def progress(done: int, total: int | None) -> None:
            if sys.stderr.isatty():
                pct = f"{100 * done / total:.0f}%" if total else f"{done / 2**20:.0f} MB"
                sys.stderr.write(f"\rDownloading {spec.id}: {pct}")

        installed = download_model(spec, models_dir, progress=progress, extra_files=extra)
        _err(f"\nInstalled {installed.id} in {installed.file}")
        return EXIT_OK
    machine = Machine.this()
    best = recommended_ids(machine)["llm"]
    for row in model_rows(models_dir, active_ids(engine.settings), machine):
        spec = row.spec
        entry = _model_entry(spec, row.active)
        entry["recommended"] = spec.id == best
        if args.json:
            _emit(entry)
        else:
            state = "ok" if spec.available else ("download" if spec.url else "missing")
            size = f"{spec.size / 2**20:,.0f} MB" if spec.size else ""
            print(
                f"{'*' if entry['active'] else ' '} {spec.kind:<9} {spec.id:<36} "
                f"{spec.source:<11} {state:<8} {size:>9}  {spec.licence}"
                + ("  (recommended for this machine)" if entry["recommended"] else "")
            )
    if not args.json:
        print(f"\nThis machine: {machine.describe()} -> recommended: {best}")
    return EXIT_OK


def _model_entry(spec: ModelSpec, active: bool) -> dict[str, Any]:
    return {
        "id": spec.id,
        "kind": spec.kind,
        "source": spec.source,
        "available": spec.available,
        "active": active,
        "file": str(spec.file) if spec.file and spec.source != "catalogue" else None,
        "licence": spec.licence,
        "purpose": spec.purpose,
        "size": spec.size,
        "quantisation": spec.quantisation,
        "sha256": spec.sha256,
        "url": spec.url,
        "min_ram": spec.min_ram,
        "architecture": spec.architecture or None,
        "context_length": spec.context_length or None,
    }


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="findling", description="Search and question your own files, offline.")
    p.add_argument("--version", action="version", version=f"findling {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
        sp.add_argument("-v", "--verbose", action="store_true", help="log to stderr")

    def filters(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--folder", action="append", help="only files under this folder")
        sp.add_argument("--type", action="append", help="only this file type (e.g. pdf)")
        sp.add_argument("--after", help="modified on or after YYYY-MM-DD")
        sp.add_argument("--before", help="modified on or before YYYY-MM-DD")

    sp = sub.add_parser("index", help="add folders and bring the index up to date")
    sp.add_argument("paths", nargs="*", help="folders to add")
    sp.add_argument(
        "--keyword-only",
        action="store_true",
        help="stop once every file is keyword-searchable; meaning search is prepared by a "
        "later `findling index` or `findling watch`",
    )
    common(sp)
    sp.set_defaults(func=cmd_index)
    sp = sub.add_parser("watch", help="(add folders and) keep the index up to date until Ctrl-C")
    sp.add_argument("paths", nargs="*", help="folders to add")
    common(sp)
    sp.set_defaults(func=cmd_watch)
    sp = sub.add_parser("search", help="search your files")
    sp.add_argument("query")
    sp.add_argument("--limit", type=int, default=10)
    filters(sp)
    common(sp)
    sp.set_defaults(func=cmd_search)
    sp = sub.add_parser("ask", help="ask a question about your files")
    sp.add_argument("question")
    filters(sp)
    common(sp)
    sp.set_defaults(func=cmd_ask)
    sp = sub.add_parser("status", help="what is indexed, pending and failed")
    common(sp)
    sp.set_defaults(func=cmd_status)
    sp = sub.add_parser("folders", help="list, add or remove indexed folders")
    sp.add_argument("action", choices=["list", "add", "remove"])
    sp.add_argument("path", nargs="?")
    common(sp)
    sp.set_defaults(func=cmd_folders)
    sp = sub.add_parser(
        "models", help="list, download (the only network use), import or remove models"
    )
    sp.add_argument(
        "action", nargs="?", choices=["list", "download", "import", "remove"], default="list"
    )
    sp.add_argument("path", nargs="?", help="import: a .gguf file; download/remove: a model id")
    sp.add_argument("--id")
    sp.add_argument("--url")
    sp.add_argument("--kind", choices=["llm", "embedding"], default="llm")
    sp.add_argument("--sha256")
    sp.add_argument("--dims", type=int, default=0)
    sp.add_argument("--tokenizer-url")
    common(sp)
    sp.set_defaults(func=cmd_models)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``findling`` command."""
    args = build_parser().parse_args(argv)
    paths = app_paths()
    try:
        setup_logging(paths.log_dir, stderr_level=logging.INFO if args.verbose else None)
        engine = Engine(paths)
        return int(args.func(engine, args))
    except SettingsError as exc:
        log.error("%s", exc)
        _err(f"findling: {exc}\nFix the file (or move it away to start from defaults).")
        return EXIT_ERROR
    except IndexLockedError as exc:
        _err(f"findling: {exc}")
        return EXIT_LOCKED
    except (ModelError, IndexerError) as exc:
        log.error("%s", exc)
        _err(f"findling: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("Aborted.")
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error of ours.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        log.exception("I/O error")
        _err(f"findling: {exc}")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
