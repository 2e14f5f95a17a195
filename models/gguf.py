"""Read the metadata of a GGUF file (architecture, context length, chat template, name).

Only the header's key/value section is read; tensors are never touched, so this is fast on a
multi-gigabyte file. Format: little-endian magic ``GGUF``, version, tensor count, key/value count,
then typed key/value pairs (GGUF specification v2/v3).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

from models.errors import ModelError

_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
    10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9
# Arrays (the vocabulary) are skipped rather than kept: they hold 100,000+ entries.
MAX_KEYS = 10_000


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ModelError("the file ends inside its header (cut short or corrupted)")
    return data


def _string(f: BinaryIO) -> str:
    (n,) = struct.unpack("<Q", _read(f, 8))
    if n > 1 << 24:
        raise ModelError("GGUF header holds an implausibly long string")
    return _read(f, n).decode("utf-8", errors="replace")


def _value(f: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]
    if vtype == _STRING:
        return _string(f)
    if vtype == _ARRAY:
        (etype,) = struct.unpack("<I", _read(f, 4))
        (count,) = struct.unpack("<Q", _read(f, 8))
        if etype in _SCALARS and not keep:
            f.seek(struct.calcsize(_SCALARS[etype]) * count, 1)
            return None
        items = [_value(f, etype, keep) for _ in range(count)]
        return items if keep else None
    raise ModelError(f"GGUF header has an unknown value type {vtype}")


def read_gguf_metadata(path: Path) -> dict[str, Any]:
    """The header key/value pairs of a GGUF file (arrays left out).

    Raises:
        ModelError: not a GGUF file, or the header is cut short or malformed.
    """
    try:
        with path.open("rb") as f:
            if _read(f, 4) != b"GGUF":
                raise ModelError("it does not start with the GGUF signature")
            (version,) = struct.unpack("<I", _read(f, 4))
            if version < 2:
                raise ModelError(f"it uses GGUF version {version}; 2 or later is needed")
            _tensors, n_kv = struct.unpack("<QQ", _read(f, 16))
            if n_kv > MAX_KEYS:
                raise ModelError("its header claims an implausible number of keys")
            meta: dict[str, Any] = {"gguf.version": version}
            for _ in range(n_kv):
                key = _string(f)
                (vtype,) = struct.unpack("<I", _read(f, 4))
                value = _value(f, vtype, keep=False)
                if value is not None:
                    meta[key] = value
            return meta
    except OSError as exc:
        raise ModelError(f"Cannot read {path}: {exc}") from exc
    except (ModelError, struct.error, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not a usable GGUF model: {exc}") from exc


def describe(meta: dict[str, Any]) -> dict[str, Any]:
    """The fields Findling's manifest keeps: architecture, context length, template, name."""
    arch = str(meta.get("general.architecture", "unknown"))
    return {
        "architecture": arch,
        "name": meta.get("general.name"),
        "context_length": meta.get(f"{arch}.context_length"),
        "chat_template": meta.get("tokenizer.chat_template"),
        "file_type": meta.get("general.file_type"),
        "licence": meta.get("general.license"),
    }
