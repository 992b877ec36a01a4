"""GET /documents and GET /documents/{doc_id}: what is indexed, and the text offsets point into."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Depends

from rag.api.auth import require_key
from rag.api.errors import ApiError
from rag.api.schemas import ERRORS, DocumentDetail, DocumentList, DocumentSummary
from rag.api.service import PipelineDep
from rag.pipeline import Pipeline
from rag.records import Document

router = APIRouter(tags=["documents"], dependencies=[Depends(require_key)], responses=ERRORS)


@router.get("/documents", response_model=DocumentList, summary="List indexed documents")
async def list_documents(pipeline: PipelineDep) -> DocumentList:
    """Every indexed document with its size, chunk count and pdf page count."""
    counts = _chunk_counts(pipeline)
    return DocumentList(documents=[
        _summary(doc, counts[doc.doc_id]) for doc in pipeline.index.documents.values()
    ])


@router.get("/documents/{doc_id:path}", response_model=DocumentDetail,
            summary="One document and its stored text")
async def get_document(doc_id: str, pipeline: PipelineDep) -> DocumentDetail:
    """The stored text of one document: every citation's `start`/`end` index into `text`.
    Ids are paths relative to the documents folder and may contain `/`."""
    # Ids are keys of the loaded index, never file paths, so `..` cannot reach the disk;
    # it is refused by name anyway so that no id that climbs ever looks valid.
    doc = None if ".." in doc_id.split("/") else pipeline.index.documents.get(doc_id)
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
