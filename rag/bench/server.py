"""`rag` as separate processes: a served index on 127.0.0.1, and cold starts timed whole."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings

READY_LIMIT = 600.0  # seconds a server may take to load its index


@dataclass
class Server:
    """A running `rag serve`: where it listens and how long it took to be ready."""

    port: int
    process: subprocess.Popen[bytes]
    ready_seconds: float

    def peak_mb(self) -> float:
        """The server's peak resident memory so far (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0


def command() -> str:
    """The `rag` console script of this interpreter."""
    return str(Path(sys.executable).parent / "rag")


def environment(settings: Settings, encoder: str) -> dict[str, str]:
    """This process's environment without RAG_* settings, plus the encoder and model cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", RAG_ENCODER=encoder, RAG_MODEL_PATH=settings.model_path,
               RAG_CACHE_DIR=str(settings.cache_dir.resolve()))
    return env


@contextmanager
def serving(index_dir: Path, settings: Settings, encoder: str = "onnx") -> Iterator[Server]:
    """`rag serve` over an existing index (no documents folder, so nothing is rebuilt)."""
    port = _free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [command(), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--index-dir", str(index_dir), "--docs", str(index_dir / "no-documents")],
        env=environment(settings, encoder), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, process)
        yield Server(port, process, time.perf_counter() - began)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def cold_ask(index_dir: Path, settings: Settings, encoder: str,
             question: str) -> tuple[float, float]:
    """Seconds and peak MB of one whole `rag ask` process."""
    # GNU time reports the child's own peak: a child forked from this big process would
    # otherwise inherit this process's high-water mark across exec.
    timer = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").is_file() else []
    began = time.perf_counter()
    result = subprocess.run([*timer, command(), "ask", question, "--index-dir", str(index_dir)],
                            env=environment(settings, encoder), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(f"rag ask exited with {result.returncode} ({encoder}): "
                           f"{result.stderr[-500:]}")
    lines = result.stderr.split()
    peak = int(lines[-1]) / 1024 if timer and lines and lines[-1].isdigit() else 0.0
    return seconds, round(peak, 1)


def cold_serve(index_dir: Path, settings: Settings, encoder: str) -> tuple[float, float]:
    """Seconds from starting `rag serve` until /health says ready, and its peak MB then."""
    with serving(index_dir, settings, encoder) as server:
        return server.ready_seconds, server.peak_mb()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_LIMIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rag serve exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("rag serve did not become ready")
