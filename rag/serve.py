"""`rag serve`: bring the index up to date with the documents, then serve the HTTP API."""

from __future__ import annotations

import gc
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.embed import open_encoder
from rag.errors import ConfigError, NothingIndexedError
from rag.reader.onnx_reader import open_reader
from rag.store import current_folder

if TYPE_CHECKING:
    from rag.embed import Encoder
    from rag.index import Index

log = logging.getLogger("rag.serve")
KEEP_ALIVE_SECONDS = 20


def serve(settings: Settings) -> None:
    """Index new or changed documents (a no-op when none), then run uvicorn in this process.

    One process on purpose: the index and model live in memory once, requests share them
    through a thread pool, and POST /reindex swaps the index for every request at once.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
    has_docs = settings.docs_dir.is_dir()
    if not has_docs and not (current_folder(settings.index_dir) / "manifest.json").is_file():
        raise ConfigError(f"Documents folder {settings.docs_dir} does not exist and there is no "
                          f"index in {settings.index_dir}/: pass --docs DIR.")
    # ONNX Runtime builds its sessions without holding the GIL: the encoder and the reader
    # load on the second core while this thread imports the web stack and the index
    # libraries (about a second of the start; hence the imports here, not at the top).
    with ThreadPoolExecutor(2) as pool:
        encoding = pool.submit(open_encoder, settings)
        reading = pool.submit(open_reader, settings)
        # Those imports make about a million objects that live as long as the process; the
        # collector would walk them again and again on the way (a tenth of the start).
        # Frozen instead: never walked again, still freed by reference counting.
        gc.disable()
        try:
            import uvicorn

            from rag.api import create_app
            from rag.api.connections import with_deadline
            from rag.pipeline import Pipeline
        finally:
            gc.freeze()
            gc.enable()
        encoder = encoding.result()
        built, problem = _update_index(settings, encoder, has_docs)
        reader = reading.result()
    # The index the build just checked or wrote is served as it is: not read a second time.
    pipeline = Pipeline.load(settings, encoder=encoder, reader=reader, index=built) \
        if built is not None else None
    app = create_app(settings, pipeline, encoder=encoder, reader=reader, problem=problem)
    gc.freeze()  # the index and the models too, or the first request walks them all
    uvicorn.run(app, host=settings.host, port=settings.port, access_log=False,
                log_level="info", timeout_graceful_shutdown=10,
                http=with_deadline(settings.read_timeout),
                limit_concurrency=settings.max_connections,
                # Longer than the idle expiry of common client pools (httpx 5 s, aiohttp
                # 15 s): the client drops an idle connection first, so it never sends a
                # request on one the server is closing at that moment.
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=",".join(settings.trusted_proxies) or None)


def _update_index(settings: Settings, encoder: Encoder,
                  has_docs: bool) -> tuple[Index | None, str | None]:
    """Bring the index up to date: (the index now on disk if the build has it in memory,
    what went wrong with the documents folder or None). A folder with nothing to index
    still serves: the old index if any, else /health says why."""
    from rag.ingest import build_index

    if has_docs:
        try:
            report = build_index(settings, settings.docs_dir, settings.index_dir,
                                 lambda: encoder)
        except NothingIndexedError as exc:
            log.error("%s", exc)
            return None, str(exc)
        for skipped in report.skipped:
            log.warning("skipped %s: %s", skipped.doc_id, skipped.reason)
        log.info("index %s: %s", settings.index_dir, report.summary())
        return report.index, None
    log.warning("documents folder %s does not exist: serving the index in %s as it is",
                settings.docs_dir, settings.index_dir)
    return None, None
