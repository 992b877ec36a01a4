"""`rag mcp`: the Pipeline's answers, passages and documents as MCP tools (stdio or HTTP).

Tools return the records the HTTP API returns (`Answer`, `SearchResponse`), so an MCP client
and an HTTP client read the same fields. Bad arguments raise `ToolError`: the SDK turns it
into an `isError` result with the message, and the server goes on serving.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, BeforeValidator, Field

from rag.api.schemas import MAX_K, MAX_QUESTION_CHARS, SearchResponse, question_text, whole_number
from rag.config import LOOPBACK_NAMES, Settings
from rag.pipeline import Pipeline
from rag.records import Answer

log = logging.getLogger("rag.mcp")
Transport = Literal["stdio", "http"]
# Every tool only reads the loaded index: clients may call them freely and retry them.
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)


# Integers as the HTTP API takes them (`rag.api.schemas.K`): strict, so "5" and true are
# refused, while 11.0 is 11. Ranges are in the schema only, so that clients see them while
# the tools check them and say what to do, instead of pydantic's generic message.
K = Annotated[int, Field(strict=True, description=f"How many passages to return (1-{MAX_K}).",
                         json_schema_extra={"minimum": 1, "maximum": MAX_K}),
              BeforeValidator(whole_number)]
Start = Annotated[int, Field(strict=True, description="Offset of the first character.",
                             json_schema_extra={"minimum": 0}),
                  BeforeValidator(whole_number)]
End = Annotated[int | None, Field(strict=True, description="Offset just past the last "
                                  "character; null for the end of the document."),
                BeforeValidator(whole_number)]
Question = Annotated[str, Field(
    description=f"The question in words, 1-{MAX_QUESTION_CHARS} characters, not blank.")]
Query = Annotated[str, Field(
    description=f"Words to search for, 1-{MAX_QUESTION_CHARS} characters, not blank.")]


class DocumentText(BaseModel):
    """A span of one document's stored text: `text == document_text[start:end]`."""

    doc_id: str = Field(description="Path of the file relative to the documents folder.")
    title: str = Field(description="Markdown heading, HTML <title>, or file name.")
    start: int = Field(description="Offset of the span's first character.")
    end: int = Field(description="Offset just past the span's last character.")
    characters: int = Field(description="Length of the whole stored text.")
    text: str = Field(description="The stored text from start to end.")


def build_server(pipeline: Pipeline) -> MCPServer:
    """An MCP server with the tools ask, search and get_document over `pipeline`."""
    # The SDK runs these plain functions on worker threads, as the HTTP API does, so a slow
    # question never blocks the protocol loop.
    server: MCPServer = MCPServer(
        "rag", instructions="Answers questions from a fixed set of indexed documents with "
        "verbatim, cited quotes. `ask` answers; `search` only retrieves passages; "
        "`get_document` reads the text that every start/end offset points into.")

    @server.tool(annotations=READ_ONLY)
    def ask(question: Question, k: K = 5) -> Answer:
        """Answer a question with a verbatim quote from the documents and its citations.

        `answer` is null when the documents do not say (the closest passages still come
        back). Each citation's `start`/`end` index the text `get_document` returns for its
        `doc_id`; `confidence` is 0-1, higher is surer."""
        return pipeline.ask(_question(question, "question"), _k(k))

    @server.tool(annotations=READ_ONLY)
    def search(query: Query, k: K = 5) -> SearchResponse:
        """The k passages that best match the query (dense + BM25), best first; no answer."""
        return SearchResponse(passages=pipeline.search(_question(query, "query"), _k(k)))

    @server.tool(annotations=READ_ONLY)
    def get_document(
        doc_id: Annotated[str, Field(description="A doc_id from a citation or passage.")],
        start: Start = 0,
        end: End = None,
    ) -> DocumentText:
        """A document's title and the text span text[start:end]: what offsets point into."""
        return _document_text(pipeline, doc_id, start, end)

    return server


def _question(text: str, name: str) -> str:
    """The question as `rag.api.schemas.question_text` accepts it, or a ToolError."""
    try:
        return question_text(text)
    except ValueError as exc:
        raise ToolError(f"{name} {exc}: send it in words, at most {MAX_QUESTION_CHARS} "
                        "characters.") from exc


def _k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise ToolError(f"k must be between 1 and {MAX_K}, not {k}: ask for fewer passages, "
                        "or leave k out for 5.")
    return k


def _document_text(pipeline: Pipeline, doc_id: str, start: int, end: int | None) -> DocumentText:
    doc = pipeline.index.document(doc_id)
    if doc is None:
        raise ToolError(f"No document {doc_id!r}: use a doc_id from the citations or passages "
                        "that ask and search return.")
    size = len(doc.text)
    stop = size if end is None else end
    if not 0 <= start <= stop <= size:
        raise ToolError(f"start={start}, end={end} is outside {doc_id!r}: offsets must satisfy "
                        f"0 <= start <= end <= {size} (its length); leave end out to read to "
                        "the end.")
    return DocumentText(doc_id=doc.doc_id, title=doc.title, start=start, end=stop,
                        characters=size, text=doc.text[start:stop])


def run(settings: Settings, transport: Transport = "stdio", host: str = "127.0.0.1",
        port: int = 8765) -> None:
    """Load the Pipeline once, then serve it over stdio or streamable HTTP until stopped."""
    # Logs go to stderr: in stdio mode stdout carries the protocol and nothing else.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with _stdout_to_stderr() if transport == "stdio" else nullcontext():
        pipeline = Pipeline.load(settings)
    server = build_server(pipeline)
    documents = len(pipeline.index.documents)
    if transport == "stdio":
        log.info("serving %d documents from %s over stdio", documents, settings.index_dir)
        server.run("stdio")
        return
    if host not in LOOPBACK_NAMES:
        log.warning("MCP over HTTP on %s has no authentication: anyone who can reach the port "
                    "can read the index", host)
    log.info("serving %d documents from %s at http://%s:%d/mcp", documents,
             settings.index_dir, host, port)
    server.run("streamable-http", host=host, port=port)


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send anything written to stdout while the models load to stderr instead.

    The SDK keeps stdout clean only once it serves; before that, the one-time ONNX export
    (torch) or a native library could write a line that the client reads as a broken
    message. Both Python's sys.stdout and file descriptor 1 are redirected."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
