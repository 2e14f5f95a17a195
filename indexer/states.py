"""The states a file can be in, as stored in the file-state record and shown by ``status``."""

from __future__ import annotations

from enum import StrEnum


class FileState(StrEnum):
    """One file's state. The values are stored in SQLite and printed by ``status --json``, so
    they never change; being a ``StrEnum``, a member equals its stored string."""

    INDEXED = "indexed"
    PENDING = "pending"  # found, not read yet (or to be redone)
    OFFLINE = "offline"  # on a folder that is not reachable now; kept searchable
    # Not indexed, each with a reason the user can act on:
    FAILED = "failed"
    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    NO_TEXT = "no-text"
    EMPTY = "empty"
    TOO_LARGE = "too-large"
    UNREADABLE = "unreadable"
    UNSUPPORTED = "unsupported"

    @property
    def searchable(self) -> bool:
        """Whether the file's passages are in the index."""
        return self in (FileState.INDEXED, FileState.OFFLINE)


# The states that are not a failure: everything else means "not indexed, here is why".
GOOD_STATES: frozenset[str] = frozenset((FileState.INDEXED, FileState.PENDING, FileState.OFFLINE))


def is_failure(state: str) -> bool:
    """Whether a stored state means the file could not be indexed."""
    return state not in GOOD_STATES
