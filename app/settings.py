"""The user's settings: a versioned TOML file, read and written only by ``app``.

The file is checked against :class:`Settings` when it is read: a key the dataclass does not
declare, a value of the wrong type or an impossible value raises :class:`SettingsError`, which
names the key, its line and what was expected. Nothing is rewritten, moved or indexed from a file
that did not load.

Adding a setting is one line in :class:`Settings`: a typed field with a default. The type is the
check (``str``, ``int``, ``float``, ``bool``, ``list[str]``, ``str | None``, ``dict[str, Any]``);
a field may add a rule for impossible values with ``field(default=..., metadata=at_least(1))`` or
``one_of(...)``.

Why a small loader and not pydantic or msgspec: the schema is a flat table of a dozen scalars and
lists, the dataclass already is the schema, and neither library knows TOML line numbers (they see
the parsed dict), which the message must name; so this stays ~100 lines with no new dependency.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from app.hotkey.keys import default_hotkey
from indexer.fsutil import atomic_write_bytes
from models.providers import DEVICES

SCHEMA = 1


def at_least(n: int) -> dict[str, Any]:
    """Field metadata: a number that is ``n`` or more."""
    return {"rule": lambda v: v >= n, "expected": f"{n} or more"}


def one_of(*options: str) -> dict[str, Any]:
    """Field metadata: one of the given strings."""
    return {"rule": lambda v: v in options, "expected": "one of " + ", ".join(map(repr, options))}


def _gpu_layers_ok(v: str) -> bool:
    return v in ("auto", "off") or v.isdigit()


@dataclass
class Settings:
    """Everything the user can change.

    Attributes:
        folders: Folders to index.
        ignore: gitignore-style patterns applied inside every folder.
        embedding_model: Embedding model id (None = default).
        llm_model: LLM id (None = default).
        gpu_layers: ``"auto"``, ``"off"`` or a number of layers to offload.
        embed_device: Where the embedding model runs: ``"auto"`` (a GPU when the installed
            onnxruntime has a provider for one, else the CPU), ``"cpu"``, ``"cuda"``,
            ``"directml"`` or ``"coreml"``; an unusable device falls back to the CPU.
        max_file_mb: Files larger than this are not indexed.
        max_pages: Documents with more pages than this are not indexed.
        extract_timeout_s: Processor-time budget per file (ten times that in wall-clock time).
        workers: Extraction worker processes (0 = automatic).
        llm_unload_after_s: Seconds without a question after which the running app releases the
            language model's memory (it loads again, in a second or two, on the next question);
            0 keeps it loaded.
        launch_at_login: Start Findling in the tray at login.
        theme: ``"system"``, ``"light"`` or ``"dark"``.
        hotkey: Global shortcut for the quick-search launcher.
        ui: Window geometry, last filters and other UI state (free-form).
    """

    folders: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    embedding_model: str | None = None
    llm_model: str | None = None
    gpu_layers: str = field(
        default="auto",
        metadata={"rule": _gpu_layers_ok, "expected": '"auto", "off" or a number such as "32"'},
    )
    embed_device: str = field(default="auto", metadata=one_of(*DEVICES))
    max_file_mb: int = field(default=512, metadata=at_least(1))
    max_pages: int = field(default=20_000, metadata=at_least(1))
    extract_timeout_s: int = field(default=180, metadata=at_least(1))
    workers: int = field(default=0, metadata=at_least(0))
    llm_unload_after_s: int = field(default=300, metadata=at_least(0))
    launch_at_login: bool = False
    theme: str = field(default="system", metadata=one_of("system", "light", "dark"))
    hotkey: str = field(default_factory=default_hotkey)
    ui: dict[str, Any] = field(default_factory=dict)

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

    def copy(self) -> Settings:
        """An independent copy (a snapshot another thread may read)."""
        return copy.deepcopy(self)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the settings file.

    Attributes:
        key: The key (``None`` for the file as a whole).
        line: 1-based line in the file, when known.
        expected: What the key should hold.
    """

    key: str | None
    line: int | None
    expected: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.key + ': ' if self.key else ''}{self.expected}"


class SettingsError(Exception):
    """The settings file could not be loaded; nothing was changed.

    Attributes:
        path: The settings file.
        problems: What is wrong, one entry per key.
    """

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"The settings file {path} is not valid:\n{lines}")


# Ordered upgrades: UPGRADES[n] turns a schema-n dict into schema n+1.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _describe(hint: Any) -> str:
    if hint is bool:
        return "true or false"
    if hint is int:
        return "a whole number"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string in quotes"
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return f'a list of {"strings" if item is str else _describe(item)}, e.g. ["a", "b"]'
    if origin is dict:
        return "a table"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint) if a is not type(None))
    return str(hint)


def _fits(value: Any, hint: Any) -> bool:
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in typing.get_args(hint) if a is not type(None))
    raise TypeError(f"Settings field type {hint!r} has no check")


def _line_of(text: str, key: str) -> int | None:
    """The line where ``key`` is set at the top level (``key = …`` or ``[key]``)."""
    k = re.escape(key)
    pattern = re.compile(rf"^\s*(?:(?:{k}|\"{k}\"|'{k}')\s*=|\[\s*{k}\s*[\].])")
    for n, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return n
    return None


def _got(value: Any) -> str:
    shown = tomli_w.dumps({"v": value})[4:].strip() if value is not None else "nothing"
    return shown if len(shown) <= 60 else shown[:57] + "..."


def load(path: Path) -> Settings:
    """Read and check the settings; a missing file gives defaults.

    Raises:
        SettingsError: the file cannot be read, is not TOML, or breaks the schema.
    """
    if not path.exists():
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(path, [Problem(None, None, f"cannot be read ({exc})")]) from exc
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        problem = Problem(None, int(m.group(1)) if m else None, f"is not valid TOML ({exc})")
        raise SettingsError(path, [problem]) from exc
    version = data.pop("schema", 1)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= SCHEMA:
        expected = f"a schema version from 1 to {SCHEMA} (got {_got(version)}); "
        expected += "a newer Findling may have written this file"
        raise SettingsError(path, [Problem("schema", _line_of(text, "schema"), expected)])
    while version < SCHEMA:
        data = UPGRADES[version](data)
        version += 1
    return _check(path, text, data)


def _check(path: Path, text: str, data: dict[str, Any]) -> Settings:
    hints = typing.get_type_hints(Settings)
    declared = {f.name: f for f in fields(Settings)}
    problems = []
    for key, value in data.items():
        f = declared.get(key)
        if f is None:
            expected = "unknown key; the settings are " + ", ".join(sorted(declared))
            problems.append(Problem(key, _line_of(text, key), expected))
            continue
        hint = hints[key]
        if not _fits(value, hint):
            expected = f"expected {_describe(hint)}, got {_got(value)}"
        elif "rule" in f.metadata and value is not None and not f.metadata["rule"](value):
            expected = f"expected {f.metadata['expected']}, got {_got(value)}"
        else:
            continue
        problems.append(Problem(key, _line_of(text, key), expected))
    if problems:
        raise SettingsError(path, problems)
    return Settings(**data)


def save(settings: Settings, path: Path) -> None:
    """Write settings atomically (never a half-written file)."""
    data = {k: v for k, v in asdict(settings).items() if v is not None}
    atomic_write_bytes(path, tomli_w.dumps({"schema": SCHEMA, **data}).encode("utf-8"))


__all__ = ["Problem", "Settings", "SettingsError", "at_least", "load", "one_of", "save"]
