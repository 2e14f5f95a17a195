"""Import a model file the user already has, and remove installed models.

The import is copied into a dot-folder (which the catalogue never reads) and renamed into place
with its manifest only when complete, so an interrupted import never looks like a model.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from models.catalogue import MANIFEST_NAME, ModelSpec, catalogue, user_models
from models.download import _safe_name, sha256_file
from models.errors import ModelError
from models.gguf import describe, read_gguf_metadata

log = logging.getLogger(__name__)

_QUANTS = {2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
           12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M",
           18: "Q6_K", 0: "F32", 1: "F16"}  # fmt: skip


def import_model(
    source: Path, models_dir: Path, model_id: str | None = None, *, dims: int = 0
) -> ModelSpec:
    """Copy a GGUF chat model or an ONNX embedding model into the models folder.

    The source is only read. A GGUF file's header fills the manifest (architecture, context
    length, quantisation, chat template); when its sha256 equals a catalogue entry's, that
    entry's id, licence, purpose and minimum RAM are taken too. An ONNX model needs
    ``tokenizer.json`` beside it and ``dims``. The copy is written under a temporary name and
    renamed into place.

    Raises:
        ModelError: unknown format, unreadable or malformed file, missing tokenizer.
    """
    source = source.expanduser().resolve()
    if not source.is_file():
        raise ModelError(f"No such file: {source}")
    suffix = source.suffix.lower()
    if suffix == ".gguf":
        info = describe(read_gguf_metadata(source))
        if not info.get("chat_template"):
            log.warning("%s has no chat template; answers may be poor", source.name)
        digest = sha256_file(source)
        match = next((c for c in catalogue() if c.sha256 == digest), None)
        ftype = info.get("file_type")
        spec = ModelSpec(
            id=model_id or (match.id if match else source.stem),
            kind="llm",
            file=Path(source.name),
            size=source.stat().st_size,
            sha256=digest,
            url=match.url if match else None,
            source="user",
            display_name=match.display_name if match else str(info.get("name") or source.stem),
            purpose=match.purpose if match else "",
            quantisation=_QUANTS.get(ftype, "") if isinstance(ftype, int) else "",
            min_ram=match.min_ram if match else None,
            # The catalogue knows the upstream licence when the file's header does not say.
            licence=match.licence if match else str(info.get("licence") or "unknown"),
            context_length=int(info.get("context_length") or 0),
            architecture=str(info.get("architecture") or ""),
            chat_template=str(info.get("chat_template") or ""),
        )
        extra: list[Path] = []
    elif suffix == ".onnx":
        tok = source.with_name("tokenizer.json")
        if not tok.is_file():
            raise ModelError(f"An ONNX embedding model needs tokenizer.json beside it ({tok})")
        if dims <= 0:
            raise ModelError("Give the embedding width (--dims) for an ONNX model")
        spec = ModelSpec(
            id=model_id or source.stem,
            kind="embedding",
            file=Path(source.name),
            tokenizer=Path("tokenizer.json"),
            dims=dims,
            size=source.stat().st_size,
            source="user",
        )
        extra = [tok]
    else:
        raise ModelError(f"Unsupported model file {source.name}: give a .gguf or .onnx file")
    folder = models_dir / _safe_name(spec.id)
    if folder.exists():
        raise ModelError(f"A model called '{spec.id}' is already installed ({folder})")
    tmp = models_dir / f".{folder.name}.importing"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for f in [source, *extra]:
            shutil.copyfile(f, tmp / f.name)
        (tmp / MANIFEST_NAME).write_text(json.dumps(spec.to_manifest(), indent=2), "utf-8")
        os.replace(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"Cannot import {source}: {exc}") from exc
    log.info("Imported model %s into %s", spec.id, folder)
    installed = [s for s in user_models(models_dir) if s.id == spec.id]
    return installed[0] if installed else spec


def remove_model(models_dir: Path, model_id: str) -> Path:
    """Delete an installed model's folder (packaged models cannot be removed).

    Raises:
        ModelError: no user model with that id.
    """
    for sub in sorted(p for p in models_dir.iterdir() if p.is_dir()) if models_dir.is_dir() else []:
        try:
            data = json.loads((sub / MANIFEST_NAME).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("id") == model_id:
            shutil.rmtree(sub)
            log.info("Removed model %s (%s)", model_id, sub)
            return sub
    bare = models_dir / f"{model_id}.gguf"
    if bare.is_file():
        bare.unlink()
        return bare
    raise ModelError(f"No installed model called '{model_id}' (packaged models stay)")
