"""Starting the service: `rag serve` as a real process, and the app's lifespan loading."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
from conftest import API_DOCS, clean_settings, write_docs
from typer.testing import CliRunner

import rag.api
from rag.api import create_app
from rag.cli import app as cli
from rag.embed import Encoder

LiveServer = Callable[[Any], AbstractContextManager[str]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_public_api() -> None:
    assert rag.api.__all__ == ["create_app"]


def test_rag_serve_indexes_the_folder_then_serves_it(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", API_DOCS)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    command = [str(Path(sys.executable).parent / "rag"), "serve", "--port", str(port),
               "--docs", str(docs), "--index-dir", str(tmp_path / "index")]
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(command, env={**env, "RAG_HOST": "127.0.0.1"}, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "rag serve did not come up"
            try:
                health = httpx.get(f"{url}/health", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health["ready"] is True and health["documents"] == 3
        answer = httpx.post(f"{url}/ask", json={"question": "When did Apollo 11 land?"},
                            headers={"X-Request-ID": "serve-1"}, timeout=30).json()
        assert answer["answer"] == "July 20, 1969"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    output = (tmp_path / "serve.log").read_text()
    assert "documents: 3 added" in output
    assert '"POST /ask" 200' in output and "request_id=serve-1" in output
    assert (tmp_path / "index" / "current" / "manifest.json").is_file()


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
        assert "No index in" in health.json()["reason"]
        refused = httpx.post(f"{url}/ask", json={"question": "When was the Eiffel Tower built?"})
        assert refused.status_code == 503 and refused.json()["error"]["type"] == "unavailable"
        assert "POST /reindex" in refused.json()["error"]["message"]
        report = httpx.post(f"{url}/reindex", timeout=120).json()
        assert len(report["added"]) == 3 and report["reloaded"] is True
        assert httpx.get(f"{url}/health").json()["ready"] is True
