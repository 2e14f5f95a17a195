"""The user's settings: a versioned TOML file, read and written only by ``app``."""

from __future__ import annotations

import contextlib
import logging
import os
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from app.hotkey.keys import default_hotkey

log = logging.getLogger(__name__)

SCHEMA = 1


@dataclass
class Settings:
    """Everything the user can change. Unknown keys in the file are kept as they are.

    Attributes:
        folders: Folders to index.
        ignore: gitignore-style patterns applied inside every folder.
        embedding_model: Embedding model id (None = default).
        llm_model: LLM id (None = default).
        gpu_layers: ``"auto"``, ``"off"`` or a number of layers to offload.
        max_file_mb: Files larger than this are not indexed.
        max_pages: Documents with more pages than this are not indexed.
        extract_timeout_s: Processor-time budget per file (ten times that in wall-clock time).
        workers: Extraction worker processes (0 = automatic).
        launch_at_login: Start Findling in the tray at login.
        theme: ``"system"``, ``"light"`` or ``"dark"``.
        hotkey: Global shortcut for the quick-search launcher.
        ui: Window geometry, last filters and other UI state.
    """

    folders: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    embedding_model: str | None = None
    llm_model: str | None = None
    gpu_layers: str = "auto"
    max_file_mb: int = 512
    max_pages: int = 20_000
    extract_timeout_s: int = 180
    workers: int = 0
    launch_at_login: bool = False
    theme: str = "system"
    hotkey: str = field(default_factory=default_hotkey)
    ui: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def add_folders(self, paths: list[Path]) -> list[str]:
        """Add folders (absolute, de-duplicated); returns those that were new."""
        new = []
        for p in paths:
            s = str(Path(os.path.abspath(p.expanduser())))
            if s not in self.folders:
                self.folders.append(s)
                new.append(s)
        return new

    def remove_folder(self, path: Path | str) -> bool:
        """Remove a folder; returns whether it was configured."""
        s = str(Path(os.path.abspath(Path(path).expanduser())))
        if s in self.folders:
            self.folders.remove(s)
            return True
        return False

    @property
    def gpu_layers_value(self) -> int | None:
        """``gpu_layers`` as the LLM runtime wants it (None = automatic)."""
        if self.gpu_layers == "auto":
            return None
        if self.gpu_layers == "off":
            return 0
        try:
            return int(self.gpu_layers)
        except ValueError:
            return None


# Ordered upgrades: UPGRADES[n] turns a schema-n dict into schema n+1.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def load(path: Path) -> Settings:
    """Read settings; a missing file gives defaults, a damaged one is set aside with a warning."""
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        backup = path.with_suffix(".toml.broken")
        log.error(
            "Settings file %s is unreadable (%s); using defaults, kept a copy at %s",
            path,
            exc,
            backup,
        )
        with contextlib.suppress(OSError):
            os.replace(path, backup)
        return Settings()
    version = int(data.pop("schema", 1))
    while version < SCHEMA:
        data = UPGRADES[version](data)
        version += 1
    known = {f.name for f in fields(Settings)} - {"extra"}
    kwargs = {k: v for k, v in data.items() if k in known}
    extra = {k: v for k, v in data.items() if k not in known}
    try:
        return Settings(**kwargs, extra=extra)
    except TypeError as exc:
        log.error("Settings file %s has bad values (%s); using defaults", path, exc)
        return Settings()


def save(settings: Settings, path: Path) -> None:
    """Write settings atomically (never a half-written file)."""
    data = {k: v for k, v in asdict(settings).items() if k != "extra" and v is not None}
    data = {"schema": SCHEMA, **settings.extra, **data}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)
