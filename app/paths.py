"""Where Findling keeps its data. ``FINDLING_HOME`` relocates all of it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "Findling"


@dataclass(frozen=True)
class AppPaths:
    """Findling's folders.

    Attributes:
        config_dir: settings.toml.
        data_dir: Parent of the index and models folders.
        index_dir: LanceDB table, state database, writer lock.
        models_dir: User-installed models (each in a folder with a manifest).
        log_dir: Rotating log files.
    """

    config_dir: Path
    data_dir: Path
    index_dir: Path
    models_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        """The settings file."""
        return self.config_dir / "settings.toml"

    def ensure(self) -> AppPaths:
        """Create the folders (never anything outside them)."""
        for d in (self.config_dir, self.data_dir, self.index_dir, self.models_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def app_paths() -> AppPaths:
    """``$FINDLING_HOME/{config,index,models,logs}``, or the platform's standard folders."""
    home = os.environ.get("FINDLING_HOME")
    if home:
        base = Path(home).expanduser().resolve()
        return AppPaths(base / "config", base, base / "index", base / "models", base / "logs")
    data = Path(platformdirs.user_data_dir(APP, appauthor=False))
    return AppPaths(
        config_dir=Path(platformdirs.user_config_dir(APP, appauthor=False)),
        data_dir=data,
        index_dir=data / "index",
        models_dir=data / "models",
        log_dir=Path(platformdirs.user_log_dir(APP, appauthor=False)),
    )
