"""Text extraction, one module per format family, behind :func:`extract`.

:mod:`~indexer.extract.document` holds the text model every reader produces;
:mod:`~indexer.extract.dispatch` picks the reader by file suffix.
"""

from indexer.extract.dispatch import extract, supported_suffixes
from indexer.extract.document import Block, Document, ExtractLimits, Segment

__all__ = ["Block", "Document", "ExtractLimits", "Segment", "extract", "supported_suffixes"]
