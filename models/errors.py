"""Errors raised by the model layer."""


class ModelError(Exception):
    """Base class for every model-layer error; the message is meant for the user."""


class ModelNotFoundError(ModelError):
    """No model with the requested id is installed or packaged."""


class ModelLoadError(ModelError):
    """A model file exists but could not be loaded (corrupt, wrong format, incompatible)."""


class DownloadError(ModelError):
    """A user-requested model download failed or the file did not verify."""
