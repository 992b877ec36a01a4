"""Domain exceptions; each message says what to do next.

RagError
├── ConfigError        settings that cannot work (bad model path, bad values)
├── IndexMissingError  no index where one was expected
├── IndexMismatchError index built with another model, dimension or chunking
├── IndexCorruptError  a partial, truncated or unreadable index folder
├── IndexBusyError     another build holds the index folder's write lock
├── IndexWriteError    the index could not be written (a full disk); the old one still serves
├── NothingIndexedError no document of the folder could be indexed (the old index stays)
└── DocumentError      one document could not be read (reported and skipped)
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(RagError):
    """The settings cannot work as given."""


class IndexMissingError(RagError):
    """No index exists in the expected folder."""


class IndexMismatchError(RagError):
    """The index on disk was built with incompatible settings."""


class IndexCorruptError(RagError):
    """The index folder is partial, truncated or unreadable."""


class IndexBusyError(RagError):
    """Another build is writing the same index folder."""


class IndexWriteError(RagError):
    """The index could not be written (no space left); the previous one still serves."""


class NothingIndexedError(RagError):
    """The documents folder is empty, or every file in it was skipped."""


class DocumentError(RagError):
    """One document could not be read; the caller reports it and goes on."""

    def __init__(self, doc_id: str, reason: str) -> None:
        super().__init__(f"{doc_id}: {reason}")
        self.doc_id = doc_id
        self.reason = reason
