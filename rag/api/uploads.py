"""Adding and removing documents over HTTP: the documents folder written safely.

A new file is checked before it is put in place (a plain name, a supported suffix, content
that matches it, a document that loads), written under a hidden name and linked to its
own name in one step (a reader of the folder sees it whole or not at all, and an existing
file is never overwritten), then indexed incrementally. If indexing fails, the file goes
again. The caller holds the service's build lock, and the whole change holds the index
folder's write lock (IndexBusyError at once when another process builds), so uploads,
deletions, POST /reindex and `rag index` elsewhere take turns and none sees half a change.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from rag.api.errors import ApiError
from rag.api.schemas import ReindexReport
from rag.api.service import Service
from rag.errors import DocumentError
from rag.load import SUFFIXES, list_files, load_document
from rag.store import write_lock

# What a file of each binary suffix starts with; text suffixes are checked by loading.
_MAGIC = {".pdf": b"%PDF-", ".docx": b"PK\x03\x04"}


def add_document(service: Service, name: str, data: bytes) -> ReindexReport:
    """Put `data` into the documents folder as `name` and index it."""
    with write_lock(service.settings.index_dir, wait=False):
        return _add(service, name, data)


def remove_document(service: Service, doc_id: str) -> ReindexReport:
    """Delete the file of `doc_id` from the documents folder and drop it from the index."""
    with write_lock(service.settings.index_dir, wait=False):
        return _remove(service, doc_id)


def _add(service: Service, name: str, data: bytes) -> ReindexReport:
    _check_name(name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ApiError(415, "unsupported_media_type", f"{name}: unsupported file type "
                       f"{suffix or '(none)'!r}; supported: {', '.join(SUFFIXES)}.",
                       param="file")
    magic = _MAGIC.get(suffix)
    if magic is not None and not data.startswith(magic):
        raise ApiError(415, "unsupported_media_type", f"{name}: the content is not a "
                       f"{suffix} file (it does not start as one).", param="file")
    folder = service.settings.docs_dir
    final = folder / name
    pipeline = service.pipeline
    if final.exists() or final.is_symlink() or (pipeline and name in pipeline.index.documents):
        raise ApiError(409, "conflict", f"{name} is already in the documents folder: DELETE "
                       f"/documents/{name} first to replace it.", param="file")
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".upload-{uuid.uuid4().hex}{suffix}"  # hidden: never indexed as is
    try:
        with staged.open("xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            load_document(name, staged)
        except DocumentError as exc:
            raise ApiError(422, "invalid_request", f"{name}: {exc.reason}.",
                           param="file") from exc
        try:
            os.link(staged, final)  # fails instead of overwriting a file that appeared
        except FileExistsError as exc:
            raise ApiError(409, "conflict", f"{name} is already in the documents folder.",
                           param="file") from exc
    finally:
        staged.unlink(missing_ok=True)
    try:
        return service.reindex()
    except BaseException:
        final.unlink(missing_ok=True)
        raise


def _remove(service: Service, doc_id: str) -> ReindexReport:
    docs = service.settings.docs_dir
    pipeline = service.pipeline
    indexed = pipeline is not None and doc_id in pipeline.index.documents
    # Only what the index holds or would hold: never a hidden, staged or unrelated file.
    listed = dict(list_files(docs)) if docs.is_dir() else {}
    if not (indexed or doc_id in listed):
        raise ApiError(404, "not_found", f"No document {doc_id!r}: GET /documents lists the "
                       "ids.", param="doc_id")
    if pipeline is not None and set(pipeline.index.documents) <= {doc_id}:
        raise ApiError(409, "conflict", f"{doc_id} is the last document: an index needs one. "
                       "Add another first.", param="doc_id")
    (docs / doc_id).unlink(missing_ok=True)  # a link is removed, never what it points to
    return service.reindex()


def _check_name(name: str) -> None:
    try:
        size = len(os.fsencode(name))  # the file system's limit is in bytes
    except UnicodeError:
        size = 256
    bad = (not name or name in (".", "..") or name.startswith(".") or size > 255
           or any(c in name for c in "/\\\0") or any(ord(c) < 32 for c in name))
    if bad:
        raise ApiError(422, "invalid_request", f"File name {name!r} is not a plain file name: "
                       "no folders, no leading dot, no control characters, at most 255 "
                       "bytes.", param="file")
