"""Starting the service: `rag serve` as a real process, and the app's lifespan loading."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from conftest import API_DOCS, clean_settings, write_docs
from typer.testing import CliRunner

import rag.api
from rag.api import create_app
from rag.cli import app as cli
from rag.embed import Encoder
from rag.store import load_index, write_lock

LiveServer = Callable[[Any], AbstractContextManager[str]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_public_api() -> None:
    assert rag.api.__all__ == ["create_app"]


@contextmanager
def rag_serve(docs: Path, index_dir: Path, log_path: Path,
              **settings: str) -> Iterator[tuple[str, dict]]:
    """`rag serve` in its own process (with RAG_<NAME> `settings`); yields its URL and its
    first /health body."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {f"RAG_{name.upper()}": value for name, value in settings.items()}
    command = [str(Path(sys.executable).parent / "rag"), "serve", "--port", str(port),
               "--docs", str(docs), "--index-dir", str(index_dir)]
    log = log_path.open("w+")
    server = subprocess.Popen(command, env={**env, "RAG_HOST": "127.0.0.1"}, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "rag serve did not come up"
            try:
                health = httpx.get(f"{url}/health", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url, health
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        log.close()


def test_rag_serve_indexes_the_folder_then_serves_it(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", API_DOCS)
    with rag_serve(docs, tmp_path / "index", tmp_path / "serve.log") as (url, health):
        assert health["ready"] is True and health["documents"] == 3
        answer = httpx.post(f"{url}/ask", json={"question": "When did Apollo 11 land?"},
                            headers={"X-Request-ID": "serve-1"}, timeout=30).json()
        assert answer["answer"] == "July 20, 1969"
    output = (tmp_path / "serve.log").read_text()
    assert "documents: 3 added" in output
    assert '"POST /ask" 200' in output and "request_id=serve-1" in output
    assert (tmp_path / "index" / "current" / "manifest.json").is_file()


def test_rag_serve_over_an_empty_folder_says_why_on_health(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    why = ("Nothing was indexed: docs holds no files. Put documents there (.txt, .md, "
           ".markdown, .html, .htm, .pdf, .docx) and index again.")  # no full path to clients
    with rag_serve(docs, tmp_path / "index", tmp_path / "serve.log") as (url, health):
        assert health["ready"] is False and health["reason"] == why
        refused = httpx.post(f"{url}/ask", json={"question": "Anyone there?"})
        assert refused.status_code == 503 and why in refused.json()["error"]["message"]
    assert (tmp_path / "serve.log").read_text().count("rag.serve Nothing was indexed") == 1


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes `sock` within `within` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(1024):  # whatever it says before it closes
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_slow_and_silent_clients_are_dropped_and_connections_bounded(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", API_DOCS)
    timeout = 3.0
    with rag_serve(docs, tmp_path / "index", tmp_path / "serve.log", read_timeout="3",
                   max_connections="4") as (url, _):
        port = int(url.rsplit(":", 1)[1])
        began = time.monotonic()
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        assert httpx.get(f"{url}/health").status_code == 503  # 5 connections: over the bound
        assert time.monotonic() - began < timeout  # (the silent ones were still open)
        assert all(closed_by_server(s, within=timeout + 5) for s in silent)
        assert time.monotonic() - began < timeout + 3
        assert httpx.get(f"{url}/health").status_code == 200
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        trickle = socket.create_connection(("127.0.0.1", port))
        trickle.sendall(b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n")
        began = time.monotonic()
        while time.monotonic() - began < timeout + 5:  # a byte every 0.5 s, until cut off
            try:
                trickle.sendall(b" ")
            except OSError:
                break
            time.sleep(0.5)
        assert closed_by_server(half, within=timeout + 5)
        assert closed_by_server(trickle, within=timeout + 5)
        assert time.monotonic() - began < timeout + 5
        for sock in (*silent, half, trickle):
            sock.close()
    assert "request not read within 3 s: connection closed" in (tmp_path / "serve.log"
                                                                ).read_text()


def test_two_writers_on_one_index_take_turns(tmp_path: Path) -> None:
    """Two `rag index --rebuild` at once: the second waits for the first, both succeed, and
    the index holds one whole build (before the lock, one build was silently lost)."""
    docs = write_docs(tmp_path / "docs", API_DOCS)
    index = tmp_path / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    command = [str(Path(sys.executable).parent / "rag"), "index", str(docs), "--index-dir",
               str(index), "--rebuild"]
    waiting = f"another build is writing the index in {index}/: waiting for it to end"
    errors: list[list[str]] = [[], []]
    with write_lock(index):  # both start while a build runs
        writers = [subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE) for _ in range(2)]
        for writer, lines in zip(writers, errors, strict=True):
            assert writer.stderr is not None
            for line in writer.stderr:  # until it says it waits (it blocks right after)
                lines.append(line)
                if waiting in line:
                    break
    outputs = [w.communicate(timeout=120) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], outputs
    for (stdout, stderr), lines in zip(outputs, errors, strict=True):
        assert "documents: 3 added" in stdout
        assert waiting in "".join(lines) + stderr
    builds = sorted(p.name for p in (index / "builds").iterdir())
    assert builds == [(index / "current").resolve().name]
    assert len(load_index(index).documents) == 3


def test_rag_serve_without_documents_or_index_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--docs", str(tmp_path / "none"),
                                      "--index-dir", str(tmp_path / "index")],
                                env={"RAG_PORT": str(free_port())})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: Documents folder {tmp_path / 'none'} does not exist")


def test_lifespan_loads_the_model_and_index(tmp_path: Path, live_server: LiveServer,
                                           build: Callable[..., Any]) -> None:
    settings = clean_settings(write_docs(tmp_path / "docs", API_DOCS), tmp_path / "index")
    build(settings)
    app = create_app(settings)  # nothing loaded yet: the lifespan does it
    assert app.state.service.pipeline is None
    with live_server(app) as url:
        health = httpx.get(f"{url}/health").json()
        assert health["ready"] is True and health["chunks"] == 3
        answer = httpx.post(f"{url}/ask", json={"question": "Who designed the Eiffel Tower?"})
        assert answer.status_code == 200


def test_not_ready_without_an_index_until_a_reindex(tmp_path: Path, encoder: Encoder,
                                                    live_server: LiveServer) -> None:
    settings = clean_settings(write_docs(tmp_path / "docs", API_DOCS), tmp_path / "index")
    with live_server(create_app(settings, encoder=encoder)) as url:
        health = httpx.get(f"{url}/health")
        assert health.status_code == 503 and health.json()["ready"] is False
        assert health.json()["reason"] == (
            "No index in index/: run `rag index DOCS_DIR --index-dir index`.")  # no full paths
        refused = httpx.post(f"{url}/ask", json={"question": "When was the Eiffel Tower built?"})
        assert refused.status_code == 503 and refused.json()["error"]["type"] == "unavailable"
        assert "POST /reindex" in refused.json()["error"]["message"]
        report = httpx.post(f"{url}/reindex", timeout=120).json()
        assert len(report["added"]) == 3 and report["reloaded"] is True
        assert httpx.get(f"{url}/health").json()["ready"] is True
