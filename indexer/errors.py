"""Errors raised by the indexer. Each file-level error carries a state and a readable reason."""

from indexer.states import FileState


class IndexerError(Exception):
    """Base class for indexer errors."""


class IndexLockedError(IndexerError):
    """Another Findling process holds the index for writing."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class IndexCorruptError(IndexerError):
    """The index could not be opened or failed a consistency check."""


class ExtractError(IndexerError):
    """A file could not be turned into text. ``state`` is what ``status`` shows for it."""

    state: FileState = FileState.FAILED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EncryptedError(ExtractError):
    """The file needs a password."""

    state: FileState = FileState.ENCRYPTED


class CorruptError(ExtractError):
    """The file is damaged or not what its extension says."""

    state: FileState = FileState.CORRUPT


class NoTextError(ExtractError):
    """The file opened but holds no extractable text (e.g. a scan without a text layer)."""

    state: FileState = FileState.NO_TEXT


class EmptyFileError(ExtractError):
    """The file has zero bytes."""

    state: FileState = FileState.EMPTY


class TooLargeError(ExtractError):
    """The file exceeds the configured size or page limit."""

    state: FileState = FileState.TOO_LARGE


class UnreadableError(ExtractError):
    """The file could not be opened for reading (permission denied, vanished, I/O error)."""

    state: FileState = FileState.UNREADABLE


class UnsupportedError(ExtractError):
    """The file's format is not one Findling reads."""

    state: FileState = FileState.UNSUPPORTED
