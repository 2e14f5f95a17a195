"""What the CLI's ``findling models`` and the Settings dialog's Models page share (Qt-free):
the list of models with their state, the recommendation for this machine, when a model may be
removed, and short messages for download failures."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.settings import Settings
from indexer import read_status
from models.catalogue import (
    DEFAULT_EMBEDDING_ID,
    DEFAULT_LLM_ID,
    Kind,
    ModelSpec,
    all_models,
    catalogue,
    machine_memory,
    recommend_llm,
)
from models.download import partial_size
from models.errors import ChecksumError, DiskFullError, DownloadStopped, NetworkError


@dataclass(frozen=True)
class Machine:
    """What the recommendation looks at."""

    ram: int
    cores: int
    gpu: bool = False

    @classmethod
    def this(cls, gpu: bool = False) -> Machine:
        """This computer."""
        return cls(machine_memory(), os.cpu_count() or 1, gpu)

    def describe(self) -> str:
        """E.g. ``16 GB RAM, 8 cores``."""
        return f"{self.ram / 2**30:.0f} GB RAM, {self.cores} cores"


@dataclass(frozen=True)
class ModelRow:
    """One model as the list shows it.

    Attributes:
        spec: The model (installed, packaged or a catalogue entry not downloaded yet).
        active: It is the model of its kind the settings use.
        recommended: It is the one suggested for this machine.
        partial: Bytes of a paused or interrupted download (0: none).
    """

    spec: ModelSpec
    active: bool
    recommended: bool
    partial: int = 0

    @property
    def installed(self) -> bool:
        """Its files are on disk."""
        return self.spec.available

    @property
    def downloadable(self) -> bool:
        """Not installed, and there is an address to fetch it from."""
        return not self.installed and bool(self.spec.url) and self.spec.file is not None

    @property
    def removable(self) -> bool:
        """A model in Findling's models folder (packaged ones stay)."""
        return self.installed and self.spec.source == "user"


def active_ids(settings: Settings) -> dict[Kind, str]:
    """The model id of each kind the settings use (defaults filled in)."""
    return {
        "embedding": settings.embedding_model or DEFAULT_EMBEDDING_ID,
        "llm": settings.llm_model or DEFAULT_LLM_ID,
    }


def recommended_ids(machine: Machine) -> dict[Kind, str]:
    """The model of each kind to suggest for ``machine``. Only one embedding model is known to
    work well for Findling's search (the packaged one), so only the chat model varies."""
    return {
        "embedding": DEFAULT_EMBEDDING_ID,
        "llm": recommend_llm(machine.ram, machine.cores, gpu=machine.gpu),
    }


def model_rows(models_dir: Path, active: dict[Kind, str], machine: Machine) -> list[ModelRow]:
    """Installed and packaged models, then catalogue entries not installed yet."""
    best = recommended_ids(machine)
    specs = all_models(models_dir)
    have = {s.id for s in specs}
    specs += [s for s in catalogue() if s.id not in have]
    rows = []
    for spec in specs:
        partial = partial_size(spec, models_dir) if spec.url and not spec.available else 0
        rows.append(
            ModelRow(spec, active[spec.kind] == spec.id, best[spec.kind] == spec.id, partial)
        )
    return rows


def removal_refusal(
    settings: Settings, index_dir: Path, model_id: str, also_in_use: Iterable[str] = ()
) -> str | None:
    """Why ``model_id`` must not be removed now, or None when it may be.

    Args:
        settings: The saved settings (their models are in use).
        index_dir: The index folder (a rebuild may still be searching with the old model).
        model_id: The model to remove.
        also_in_use: Models chosen but not saved yet (the Settings dialog's choice).
    """
    if model_id in (settings.llm_model, settings.embedding_model, *also_in_use):
        return f"'{model_id}' is the model in use; choose another in Settings first"
    st = read_status(index_dir, files=False)
    if st.rebuild and model_id == st.build.get("embed_model"):
        return (
            f"'{model_id}' still answers searches while the index is rebuilt with "
            f"{st.rebuild.get('embed_model')}; remove it once that is done"
        )
    return None


def download_message(exc: BaseException) -> str:
    """A short line for a failed download, for the row it belongs to (the full text goes in the
    tooltip and the log)."""
    if isinstance(exc, NetworkError):
        return "No network: the server is out of reach"
    if isinstance(exc, DiskFullError):
        return "Disk full: free some space, then resume"
    if isinstance(exc, ChecksumError):
        return "Bad download: wrong checksum"
    if isinstance(exc, DownloadStopped):
        return "Paused"
    text = str(exc).strip() or exc.__class__.__name__
    return text[:1].upper() + text[1:]
