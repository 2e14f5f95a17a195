"""Errors raised by the model layer."""


class ModelError(Exception):
    """Base class for every model-layer error; the message is meant for the user."""


class ModelNotFoundError(ModelError):
    """No model with the requested id is installed or packaged."""


class ModelLoadError(ModelError):
    """A model file exists but could not be loaded (corrupt, wrong format, incompatible)."""


class DownloadError(ModelError):
    """A user-requested model download failed or the file did not verify."""


class NetworkError(DownloadError):
    """The download server could not be reached or the connection dropped."""


class DiskFullError(DownloadError):
    """There is not enough free space for the model file."""


class ChecksumError(DownloadError):
    """The downloaded file's sha256 (or size) is not the expected one; it was discarded."""


class DownloadStopped(DownloadError):
    """The download was paused or cancelled on request; the part downloaded is kept."""
