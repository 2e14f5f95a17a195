"""Errors raised by the indexer. Each file-level error carries a state and a readable reason."""


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

    state = "failed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EncryptedError(ExtractError):
    """The file needs a password."""

    state = "encrypted"


class CorruptError(ExtractError):
    """The file is damaged or not what its extension says."""

    state = "corrupt"


class NoTextError(ExtractError):
    """The file opened but holds no extractable text (e.g. a scan without a text layer)."""

    state = "no-text"


class EmptyFileError(ExtractError):
    """The file has zero bytes."""

    state = "empty"


class TooLargeError(ExtractError):
    """The file exceeds the configured size or page limit."""

    state = "too-large"


class UnreadableError(ExtractError):
    """The file could not be opened for reading (permission denied, vanished, I/O error)."""

    state = "unreadable"


class UnsupportedError(ExtractError):
    """The file's format is not one Findling reads."""

    state = "unsupported"


class ExtractTimeoutError(ExtractError):
    """Extraction exceeded its time or memory budget and was stopped."""

    state = "failed"
