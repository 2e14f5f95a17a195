"""Text extraction, one module per format family, behind :func:`extract`."""

from indexer.extract.base import (
    Block,
    Document,
    ExtractLimits,
    Segment,
    extract,
    supported_suffixes,
)

__all__ = ["Block", "Document", "ExtractLimits", "Segment", "extract", "supported_suffixes"]
