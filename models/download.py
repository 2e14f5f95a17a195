"""User-requested model downloads: resumable, size- and sha256-verified, atomic.

This is the only code in Findling that opens a network connection, and it runs only when the
user asks for a model to be downloaded.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from models.catalogue import MANIFEST_NAME, ModelSpec
from models.errors import (
    ChecksumError,
    DiskFullError,
    DownloadError,
    DownloadStopped,
    NetworkError,
)

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int | None], None]
CHUNK = 1 << 20
# Network reads return what has arrived (up to this much), so a pause takes effect quickly.
READ = 1 << 18
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def download_model(
    spec: ModelSpec,
    models_dir: Path,
    *,
    progress: ProgressFn | None = None,
    timeout: float = 30.0,
    extra_files: dict[str, str] | None = None,
    stop: threading.Event | None = None,
) -> ModelSpec:
    """Download ``spec.url`` into ``models_dir/<id>/`` and write its manifest.

    A partial ``.part`` file from an interrupted download is resumed with an HTTP Range request.
    The file only gets its final name after its size and sha256 (when the spec gives them)
    have been checked, so a half-downloaded or tampered file is never loaded.

    Args:
        spec: What to fetch; ``url`` and ``file`` (its name is used) are required.
        models_dir: Findling's models folder.
        progress: Called with (bytes so far, total bytes or None).
        timeout: Socket timeout per request in seconds.
        extra_files: Other files to fetch beside the model, name -> URL (e.g. tokenizer.json).
        stop: When set (from another thread), the download stops after the block it is reading
            and raises :class:`DownloadStopped`; the ``.part`` file stays, for a later resume
            (pause) or :func:`discard_partial` (cancel).

    Returns:
        The spec of the installed model, pointing at the downloaded files.

    Raises:
        NetworkError: the server cannot be reached or the connection dropped.
        DiskFullError: not enough free space (checked before and while writing).
        ChecksumError: the file's size or sha256 is wrong; the file was discarded.
        DownloadStopped: ``stop`` was set.
        DownloadError: any other failure (HTTP error, bad address).
    """
    target = download_target(spec, models_dir)  # raises when there is no address
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    _fetch(spec.url or "", target, spec.size, spec.sha256, progress, timeout, stop)
    for name, url in (extra_files or {}).items():
        _fetch(url, folder / _safe_name(name), None, None, None, timeout, stop)
    installed = ModelSpec(
        **{
            **spec.__dict__,
            "file": target,
            "tokenizer": folder / "tokenizer.json" if spec.kind == "embedding" else None,
            "source": "user",
        }
    )
    manifest = folder / MANIFEST_NAME
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(installed.to_manifest(), indent=2), encoding="utf-8")
    os.replace(tmp, manifest)
    log.info("Installed model %s in %s", spec.id, folder)
    return installed


def download_target(spec: ModelSpec, models_dir: Path) -> Path:
    """Where the downloaded file of ``spec`` lands (its ``.part`` file sits beside it).

    Raises:
        DownloadError: the spec has no download address.
    """
    if not spec.url or spec.file is None:
        raise DownloadError(f"Model '{spec.id}' has no download address")
    return models_dir / _safe_name(spec.id) / spec.file.name


def partial_path(spec: ModelSpec, models_dir: Path) -> Path:
    """The ``.part`` file an interrupted or paused download of ``spec`` resumes from."""
    target = download_target(spec, models_dir)
    return target.with_name(target.name + ".part")


def partial_size(spec: ModelSpec, models_dir: Path) -> int:
    """Bytes already downloaded of ``spec`` (0: no download to resume)."""
    try:
        return partial_path(spec, models_dir).stat().st_size
    except (OSError, DownloadError):
        return 0


def discard_partial(spec: ModelSpec, models_dir: Path) -> None:
    """Cancel a paused or failed download: delete its ``.part`` file, and the model's folder
    when nothing else is in it (an installed model's files are never touched)."""
    part = partial_path(spec, models_dir)
    part.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        part.parent.rmdir()  # only succeeds when empty
    log.info("Discarded the partial download of %s", spec.id)


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    if not cleaned:
        raise DownloadError(f"Unusable file name {name!r}")
    return cleaned


def _fetch(
    url: str,
    target: Path,
    size: int | None,
    sha256: str | None,
    progress: ProgressFn | None,
    timeout: float,
    stop: threading.Event | None = None,
) -> None:
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"Only http(s) downloads are supported, not {url!r}")
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:
        part.unlink()  # longer than the file can be: not a prefix of it
        have = 0
    if size is not None:
        _check_space(target.parent, size - have)
    if stop is not None and stop.is_set():
        raise DownloadStopped(f"Download of {url} stopped before it started")
    if size is None or have < size:  # complete but not verified yet: only the check is left
        _receive(url, part, have, size, progress, timeout, stop)
    got = part.stat().st_size
    if size is not None and got != size:
        if got > size:
            part.unlink(missing_ok=True)
            raise ChecksumError(f"Downloaded {got} bytes from {url}, expected {size}")
        raise NetworkError(
            f"The download of {url} ended after {got} of {size} bytes; try again to resume it"
        )
    if sha256 is not None:
        digest = sha256_file(part)
        if digest != sha256.lower():
            part.unlink(missing_ok=True)
            raise ChecksumError(f"Checksum mismatch for {url}: got {digest}, expected {sha256}")
    os.replace(part, target)


def _receive(
    url: str,
    part: Path,
    have: int,
    size: int | None,
    progress: ProgressFn | None,
    timeout: float,
    stop: threading.Event | None,
) -> None:
    """Append the rest of ``url`` to ``part`` (which holds its first ``have`` bytes)."""
    request = urllib.request.Request(url, headers={"User-Agent": "Findling"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            if have and not _resumes_at(resp, have):
                have = 0  # the server ignored the Range (or sent another one): start again
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length is not None else size
            with part.open("ab" if have else "wb") as out:
                done = have
                if progress is not None:
                    progress(done, total)
                while block := resp.read1(READ):
                    out.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
                    if stop is not None and stop.is_set():
                        raise DownloadStopped(f"Download of {url} stopped at {done} bytes")
            if total is not None and length is not None and done < total:
                raise NetworkError(
                    f"The download of {url} ended after {done} of {total} bytes; try again to "
                    "resume it"
                )
    except (DownloadStopped, NetworkError):
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"Download of {url} failed: the server answered {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise NetworkError(
            f"Cannot reach {url} ({exc.reason}); check the network connection and try again: "
            "the part already downloaded is kept and resumed"
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DiskFullError(
                f"The disk holding {part.parent} is full; free some space and download again "
                "(the part already downloaded is kept and resumed)"
            ) from exc
        # A connection reset or timeout in the middle of the body.
        raise NetworkError(
            f"The connection to {url} was lost ({exc}); the part already downloaded is kept "
            "and resumed"
        ) from exc
    except ValueError as exc:
        raise DownloadError(f"Download of {url} failed: {exc}") from exc


def _resumes_at(resp: http.client.HTTPResponse, have: int) -> bool:
    """Whether a response continues the file at byte ``have`` (a 206 whose range starts there)."""
    if resp.status != 206:
        return False
    m = _CONTENT_RANGE.match(resp.headers.get("Content-Range") or "")
    return m is None or int(m.group(1)) == have


def _check_space(folder: Path, need: int) -> None:
    """Refuse to start a download the disk cannot hold (with some room to spare)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return  # unknown: let the write itself fail if it must
    if need > 0 and free < need + (16 << 20):
        raise DiskFullError(
            f"Not enough free space in {folder}: the model needs {need / 2**20:,.0f} MB more, "
            f"{free / 2**20:,.0f} MB are free"
        )
