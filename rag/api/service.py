"""What the endpoints share: settings, the serving Pipeline (swapped on reindex), a build lock.

Endpoints take the pipeline once, at the start of a request, from `Service.pipeline`;
a reindex builds and loads a new Pipeline beside it and then replaces that one reference,
so requests in flight finish on the object they started with and new ones see the new index.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated

from fastapi import Depends, Request

from rag.api.errors import ApiError
from rag.api.schemas import ReindexReport, SkippedFile
from rag.config import Settings
from rag.embed import Encoder, open_encoder
from rag.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    NothingIndexedError,
    RagError,
)
from rag.ingest import build_index
from rag.pipeline import Pipeline
from rag.reader.onnx_reader import Reader, open_reader
from rag.store import read_manifest

log = logging.getLogger("rag.api")


class Service:
    """The state of one app: settings, encoder, reader, serving pipeline and reindex lock."""

    def __init__(self, settings: Settings, pipeline: Pipeline | None = None,
                 encoder: Encoder | None = None, reader: Reader | None = None,
                 problem: str | None = None) -> None:
        self.settings = settings
        self.problem = problem  # why the last build indexed nothing
        self.pipeline = pipeline
        self.encoder = encoder or (pipeline.encoder if pipeline else None)
        self.reader = reader or (pipeline.reader if pipeline else None)
        self.reason: str | None = None if pipeline else "the index is not loaded yet"
        self.build_lock = threading.Lock()

    def load(self) -> None:
        """Load the encoder (unless given) and the index; a missing index leaves us not ready."""
        if self.encoder is None:
            self.encoder = open_encoder(self.settings)
        if self.reader is None:
            self.reader = open_reader(self.settings)
        try:
            self.pipeline = Pipeline.load(self.settings, encoder=self.encoder, reader=self.reader)
            self.reason = None
        except (IndexMissingError, IndexMismatchError, IndexCorruptError) as exc:
            self.reason = self.problem if isinstance(exc, IndexMissingError) and self.problem \
                else str(exc)
            log.warning("not ready: %s", exc)

    def public(self, text: str | None) -> str | None:
        """`text` with the index and documents folders named by their last part only: a
        client learns what to fix, not where the server keeps its files."""
        if text is None:
            return None
        names = {str(spelled): folder.name
                 for folder in (self.settings.index_dir, self.settings.docs_dir)
                 for spelled in (folder, folder.resolve())}
        for spelled in sorted(names, key=len, reverse=True):  # the longest path first
            if spelled not in (".", names[spelled]):
                text = text.replace(spelled, names[spelled])
        return text

    def ready(self) -> Pipeline:
        """The serving pipeline, or a 503 that says why there is none."""
        pipeline = self.pipeline
        if pipeline is None:
            raise ApiError(503, "unavailable", f"Not ready: {self.public(self.reason)}. "
                           "Index the documents with `rag index` or POST /reindex.")
        return pipeline

    def reindex(self) -> ReindexReport:
        """Bring the index up to date with docs_dir and swap it in; call with build_lock held."""
        settings = self.settings
        if self.encoder is None:
            self.encoder = open_encoder(settings)
        encoder = self.encoder
        try:
            report = build_index(settings, settings.docs_dir, settings.index_dir,
                                 lambda: encoder, wait=False)
        except NothingIndexedError as exc:
            self.problem = str(exc)
            if self.pipeline is None:
                self.reason = self.problem
            raise
        self.problem = None
        current = self.pipeline
        reloaded = False
        # Reload when this build (or one run outside the server) changed what is on disk.
        if current is None or read_manifest(settings.index_dir) != current.index.manifest:
            try:
                self.pipeline = Pipeline.load(settings, encoder=encoder, reader=self.reader,
                                              index=report.index)
            except RagError as exc:
                self.reason = str(exc)
                raise
            self.reason = None
            reloaded = True
        return ReindexReport(
            added=report.added, changed=report.changed, removed=report.removed,
            unchanged=len(report.unchanged),
            skipped=[SkippedFile(doc_id=s.doc_id, reason=self.public(s.reason) or "")
                     for s in report.skipped],
            chunks_embedded=report.chunks_embedded, chunks_total=report.chunks_total,
            seconds=round(report.seconds, 3), full_rebuild_reason=report.full_rebuild_reason,
            reloaded=reloaded,
        )


async def get_service(request: Request) -> Service:
    """The Service of the app serving this request."""
    service: Service = request.app.state.service
    return service


async def get_pipeline(service: Annotated[Service, Depends(get_service)]) -> Pipeline:
    """The pipeline serving now, taken once per request."""
    return service.ready()


ServiceDep = Annotated[Service, Depends(get_service)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
