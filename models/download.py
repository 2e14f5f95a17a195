"""User-requested model downloads: resumable, size- and sha256-verified, atomic.

This is the only code in Findling that opens a network connection, and it runs only when the
user asks for a model to be downloaded.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from models.catalogue import MANIFEST_NAME, ModelSpec
from models.errors import DownloadError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int | None], None]
CHUNK = 1 << 20


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

    Returns:
        The spec of the installed model, pointing at the downloaded files.

    Raises:
        DownloadError: network failure, HTTP error, size or checksum mismatch.
    """
    if not spec.url or spec.file is None:
        raise DownloadError(f"Model '{spec.id}' has no download address")
    folder = models_dir / _safe_name(spec.id)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / spec.file.name
    _fetch(spec.url, target, spec.size, spec.sha256, progress, timeout)
    for name, url in (extra_files or {}).items():
        _fetch(url, folder / _safe_name(name), None, None, None, timeout)
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
) -> None:
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"Only http(s) downloads are supported, not {url!r}")
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "Findling"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            if have and resp.status != 206:
                have = 0  # server ignored Range: start again
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length is not None else size
            with part.open("ab" if have else "wb") as out:
                done = have
                while block := resp.read(CHUNK):
                    out.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"Download of {url} failed: the server answered {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(
            f"Cannot reach {url} ({exc.reason}); check the network connection and try again: "
            "the part already downloaded is kept and resumed"
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DownloadError(
                f"The disk holding {target.parent} is full; free some space and download again "
                "(the part already downloaded is kept and resumed)"
            ) from exc
        raise DownloadError(f"Download of {url} failed: {exc}") from exc
    except ValueError as exc:
        raise DownloadError(f"Download of {url} failed: {exc}") from exc
    got = part.stat().st_size
    if size is not None and got != size:
        if got > size:
            part.unlink(missing_ok=True)
        raise DownloadError(f"Downloaded {got} bytes from {url}, expected {size}")
    if sha256 is not None:
        digest = sha256_file(part)
        if digest != sha256.lower():
            part.unlink(missing_ok=True)
            raise DownloadError(f"Checksum mismatch for {url}: got {digest}, expected {sha256}")
    os.replace(part, target)
