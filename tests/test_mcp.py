"""`rag mcp` as a real process, driven by the MCP SDK's own client over stdio and over
streamable HTTP, against an index of API_DOCS (one server per transport for the module)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from conftest import API_DOCS, clean_settings, write_docs
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent, Tool

from rag.embed import Encoder
from rag.ingest import build_index

RAG = str(Path(sys.executable).parent / "rag")
QUESTION = "When was the Eiffel Tower completed?"
EIFFEL = API_DOCS["eiffel.txt"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def text_of(result: CallToolResult) -> str:
    [block] = result.content
    assert isinstance(block, TextContent)
    return block.text


def server_env() -> dict[str, str]:
    """This environment without RAG_* variables (the index was built without them), offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return env | {"HF_HUB_OFFLINE": "1"}


class Session:
    """A connected SDK client, called from plain tests through an anyio portal thread."""

    def __init__(self, portal: BlockingPortal, client: Client, log: Path) -> None:
        self.portal = portal
        self.client = client
        self.log = log
        self.stream_errors: list[Exception] = []  # lines on the wire that were not messages

    def tools(self) -> dict[str, Tool]:
        return {t.name: t for t in self.portal.call(self.client.list_tools).tools}

    def call(self, name: str, **arguments: Any) -> CallToolResult:
        return self.portal.call(self.client.call_tool, name, arguments)

    def result(self, name: str, **arguments: Any) -> dict[str, Any]:
        """The structured result of a call that must succeed."""
        result = self.call(name, **arguments)
        assert not result.is_error, (result.content, self.log.read_text())
        assert result.structured_content is not None
        return result.structured_content


@contextmanager
def over_stdio(index_dir: Path, log: IO[str]) -> Iterator[Any]:
    """The SDK's stdio transport: it starts `rag mcp` itself and owns its stdin and stdout."""
    params = StdioServerParameters(command=RAG, args=["mcp", "--index-dir", str(index_dir)],
                                   env=server_env())
    yield stdio_client(params, errlog=log)


@contextmanager
def over_http(index_dir: Path, log: IO[str]) -> Iterator[str]:
    """`rag mcp --transport http` on a free 127.0.0.1 port; yields its /mcp URL once it listens."""
    port = free_port()
    server = subprocess.Popen([RAG, "mcp", "--transport", "http", "--port", str(port),
                               "--index-dir", str(index_dir)],
                              env=server_env(), stdout=log, stderr=subprocess.STDOUT)
    output = Path(log.name).read_text
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"rag mcp --transport http exited: {output()}"
            assert time.monotonic() < deadline, f"rag mcp did not come up: {output()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    """API_DOCS indexed with the session encoder (the servers load their own models)."""
    root = tmp_path_factory.mktemp("mcp")
    settings = clean_settings(write_docs(root / "docs", API_DOCS), root / "index")
    build_index(settings, settings.docs_dir, settings.index_dir, lambda: encoder)
    return settings.index_dir


@pytest.fixture(scope="module", params=["stdio", "http"])
def client(request: pytest.FixtureRequest, index_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One server per transport, and one client session to it for every test of the module."""
    transports: dict[str, Any] = {"stdio": over_stdio, "http": over_http}
    log = tmp_path_factory.mktemp("logs") / f"{request.param}.log"
    with log.open("w") as errlog, start_blocking_portal() as portal, \
            transports[request.param](index_dir, errlog) as target:
        session: Session

        async def note(message: Any) -> None:
            if isinstance(message, Exception):
                session.stream_errors.append(message)

        sdk = Client(target, message_handler=note, read_timeout_seconds=120)
        session = Session(portal, sdk, log)
        connected: AbstractContextManager[Client] = portal.wrap_async_context_manager(sdk)
        with connected:
            yield session


def test_lists_the_three_tools_with_their_schemas(client: Session) -> None:
    tools = client.tools()
    assert set(tools) == {"ask", "search", "get_document"}
    ask = tools["ask"].input_schema
    assert ask["required"] == ["question"] and ask["properties"]["question"]["type"] == "string"
    assert ask["properties"]["k"].items() >= {"type": "integer", "default": 5, "minimum": 1,
                                              "maximum": 50}.items()
    assert tools["search"].input_schema["required"] == ["query"]
    document = tools["get_document"].input_schema
    assert document["required"] == ["doc_id"]
    assert set(document["properties"]) == {"doc_id", "start", "end"}
    for tool in tools.values():
        assert tool.description and tool.output_schema and tool.annotations
        assert tool.annotations.read_only_hint is True
    answer = tools["ask"].output_schema
    assert answer is not None and {"answer", "confidence", "citations", "passages"} <= set(
        answer["properties"])


def test_ask_cites_exact_offsets_into_the_document_text(client: Session) -> None:
    result = client.call("ask", question=QUESTION)
    answer = result.structured_content
    assert not result.is_error and answer is not None
    assert answer["answer"] == "1889" and answer["question"] == QUESTION
    assert 0 < answer["confidence"] <= 1
    [citation] = answer["citations"]
    assert citation["doc_id"] == "eiffel.txt" and citation["page"] is None
    assert (citation["start"], citation["end"], citation["text"]) == (101, 105, "1889")
    assert citation["sentence"] == "The Eiffel Tower was completed in 1889."
    assert set(answer["passages"][0]) == {"doc_id", "chunk_id", "start", "end", "text", "page",
                                          "score"}
    # Clients that read only the text content get the same record as JSON.
    assert json.loads(text_of(result))["answer"] == "1889"

    document = client.result("get_document", doc_id="eiffel.txt")
    assert document == {"doc_id": "eiffel.txt", "title": "eiffel", "start": 0,
                        "end": len(EIFFEL), "characters": len(EIFFEL), "text": EIFFEL}
    assert document["text"][citation["start"] : citation["end"]] == answer["answer"]
    span = client.result("get_document", doc_id="eiffel.txt", start=citation["start"],
                      end=citation["end"])
    assert (span["start"], span["end"], span["text"]) == (101, 105, "1889")


def test_ask_in_a_subfolder_document(client: Session) -> None:
    answer = client.result("ask", question="When did the Golden Gate Bridge open?", k=1)
    assert answer["answer"] == "1937" and len(answer["passages"]) == 1
    [citation] = answer["citations"]
    document = client.result("get_document", doc_id="sub/notes.md")
    assert document["title"] == "Bridge notes"
    assert document["text"][citation["start"] : citation["end"]] == "1937"


def test_ask_abstains_when_the_documents_do_not_say(client: Session) -> None:
    answer = client.result("ask", question="What is the capital of Peru?")
    assert answer["answer"] is None and answer["citations"] == []
    assert answer["passages"]  # the closest passages still come back


def test_search_returns_passages_only(client: Session) -> None:
    body = client.result("search", query="Apollo Moon landing", k=2)
    assert list(body) == ["passages"]
    first, second = body["passages"]
    assert first["doc_id"] == "moon.txt" and first["score"] >= second["score"]
    span = client.result("get_document", doc_id="moon.txt", start=first["start"], end=first["end"])
    assert span["text"] == first["text"]


@pytest.mark.parametrize(("tool", "arguments", "message"), [
    ("ask", {"question": "  \n"}, "question must not be blank: send it in words"),
    ("ask", {"question": "q" * 2001}, "question must have at most 2000 characters, not 2001"),
    ("ask", {"question": "Eiffel?", "k": 0}, "k must be between 1 and 50, not 0"),
    ("ask", {"question": "Eiffel?", "k": 51}, "k must be between 1 and 50, not 51"),
    ("ask", {"question": "Eiffel?", "k": "5"}, "Input should be a valid integer"),
    ("ask", {}, "question\n  Field required"),
    ("search", {"query": ""}, "query must not be blank"),
    ("search", {"query": "Apollo", "k": -1}, "k must be between 1 and 50, not -1"),
    ("get_document", {"doc_id": "nope.txt"},
     "No document 'nope.txt': use a doc_id from the citations or passages"),
    ("get_document", {"doc_id": "sub/../eiffel.txt"}, "No document 'sub/../eiffel.txt'"),
    ("get_document", {"doc_id": "eiffel.txt", "start": 5, "end": 2},
     f"start=5, end=2 is outside 'eiffel.txt': offsets must satisfy 0 <= start <= end <= "
     f"{len(EIFFEL)}"),
    ("get_document", {"doc_id": "eiffel.txt", "start": -1}, "start=-1, end=None is outside"),
    ("get_document", {"doc_id": "eiffel.txt", "end": 10_000}, "start=0, end=10000 is outside"),
    ("no_such_tool", {}, "Unknown tool: no_such_tool"),
])
def test_bad_arguments_are_tool_errors_that_say_what_to_do(
        client: Session, tool: str, arguments: dict[str, Any], message: str) -> None:
    result = client.call(tool, **arguments)
    assert result.is_error is True and result.structured_content is None
    assert message in text_of(result)


def test_the_server_keeps_serving_and_the_wire_carries_only_messages(client: Session) -> None:
    assert client.call("ask", question=" ").is_error
    assert client.result("ask", question=QUESTION)["answer"] == "1889"
    # In stdio mode stdout is the wire: a stray line (a print, a native library's output
    # while the models load) would arrive here as a parse error.
    assert client.stream_errors == []


def test_a_missing_index_is_a_one_line_error_on_stderr(tmp_path: Path) -> None:
    done = subprocess.run([RAG, "mcp", "--index-dir", str(tmp_path / "none")], env=server_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"error: No index in {tmp_path / 'none'}/")
