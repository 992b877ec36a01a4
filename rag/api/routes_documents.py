"""/documents: what is indexed (a page at a time), the text offsets point into, and adding or
removing a document (rag/api/uploads.py)."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, UploadFile

from rag.api.auth import require_key, require_reindex_right
from rag.api.errors import ApiError
from rag.api.schemas import (
    ERRORS,
    MAX_PAGE,
    MAX_UPLOAD_BYTES,
    DocumentDetail,
    DocumentList,
    DocumentSummary,
    ReindexReport,
)
from rag.api.service import PipelineDep, Service, ServiceDep
from rag.api.uploads import add_document, remove_document
from rag.pipeline import Pipeline
from rag.records import Document

router = APIRouter(tags=["documents"], dependencies=[Depends(require_key)], responses=ERRORS)


@router.get("/documents", response_model=DocumentList, summary="List indexed documents")
async def list_documents(
    pipeline: PipelineDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Documents per page.")] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the page before.")] = None,
) -> DocumentList:
    """Indexed documents in order of their ids, with size, chunk count and pdf page count."""
    counts = _chunk_counts(pipeline)
    ids = sorted(pipeline.index.documents)
    if cursor is not None:
        ids = [i for i in ids if i > cursor]
    page = ids[:limit]
    return DocumentList(
        documents=[_summary(pipeline.index.documents[i], counts[i]) for i in page],
        next_cursor=page[-1] if len(ids) > limit else None)


@router.post("/documents", response_model=ReindexReport, status_code=201,
             summary="Add a document", dependencies=[Depends(require_reindex_right)],
             responses={
                 409: ERRORS[401] | {"description": "A file of that name exists, or a build "
                                                    "is running"},
                 415: ERRORS[401] | {"description": "Not a supported type of file"}})
async def upload_document(file: UploadFile, service: ServiceDep) -> ReindexReport:
    """Add one file (multipart form field `file`; its name becomes the document id) to the
    documents folder and index it: only that file is embedded. At most 32 MiB."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "payload_too_large",
                       f"The file is larger than {MAX_UPLOAD_BYTES:,} bytes.", param="file")
    name = file.filename or ""
    return await _writing(service, lambda: add_document(service, name, data))


@router.delete("/documents/{doc_id:path}", response_model=ReindexReport,
               summary="Remove a document", dependencies=[Depends(require_reindex_right)])
async def delete_document(doc_id: str, service: ServiceDep) -> ReindexReport:
    """Delete the document's file from the documents folder and drop it from the index."""
    return await _writing(service, lambda: remove_document(service, doc_id))


async def _writing(service: Service, change: object) -> ReindexReport:
    """Run `change` in a worker thread holding the build lock (409 when a build runs)."""
    if not service.build_lock.acquire(blocking=False):
        raise ApiError(409, "conflict", "A reindex is already running: try again when it ends.")
    try:
        return await anyio.to_thread.run_sync(change)  # type: ignore[arg-type]
    finally:
        service.build_lock.release()


@router.get("/documents/{doc_id:path}", response_model=DocumentDetail,
            summary="One document and its stored text")
async def get_document(doc_id: str, pipeline: PipelineDep) -> DocumentDetail:
    """The stored text of one document: every citation's `start`/`end` index into `text`.
    Ids are paths relative to the documents folder and may contain `/`."""
    doc = pipeline.index.document(doc_id)
    if doc is None:
        raise ApiError(404, "not_found", f"No document {doc_id!r}: GET /documents lists the ids.",
                       param="doc_id")
    count = sum(1 for c in pipeline.index.chunks if c.doc_id == doc.doc_id)
    return DocumentDetail(**_summary(doc, count).model_dump(), text=doc.text,
                          page_starts=list(doc.page_starts))


def _summary(doc: Document, chunks: int) -> DocumentSummary:
    return DocumentSummary(doc_id=doc.doc_id, title=doc.title, sha256=doc.sha256,
                           characters=len(doc.text), chunks=chunks,
                           pages=len(doc.page_starts) if doc.page_starts else None)


def _chunk_counts(pipeline: Pipeline) -> Counter[str]:
    return Counter(c.doc_id for c in pipeline.index.chunks)
