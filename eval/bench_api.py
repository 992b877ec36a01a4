"""Latency of POST /ask on a real `rag serve` process: p50/p95 at concurrency 1 and 8.

    .venv/bin/python eval/bench_api.py [--docs docs] [--requests 150]

Indexes the documents into a temporary folder, starts `rag serve` on a free 127.0.0.1 port,
asks the questions of eval/aqim.jsonl (cycled) and stops the server. Loopback only, bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, server: subprocess.Popen[bytes], limit: float = 180) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("rag serve exited")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("rag serve did not become ready")


def run(url: str, questions: list[str], concurrency: int, total: int) -> dict[str, float]:
    """Send `total` asks with `concurrency` clients; latency percentiles in milliseconds."""
    latencies: list[float] = []
    failures = 0

    def one(i: int, client: httpx.Client) -> None:
        nonlocal failures
        began = time.perf_counter()
        response = client.post("/ask", json={"question": questions[i % len(questions)]})
        latencies.append((time.perf_counter() - began) * 1000)
        failures += response.status_code != 200

    clients = [httpx.Client(base_url=url, timeout=60) for _ in range(concurrency)]
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: one(i, clients[i % concurrency]), range(total)))
    wall = time.perf_counter() - began
    for client in clients:
        client.close()
    cuts = statistics.quantiles(latencies, n=100)
    return {"concurrency": concurrency, "requests": total, "failures": failures,
            "p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1),
            "mean_ms": round(statistics.fmean(latencies), 1),
            "throughput_rps": round(total / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "aqim.jsonl")
    parser.add_argument("--requests", type=int, default=150)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.open() if line.strip()]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as index_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "rag"), "serve", "--port", str(port),
             "--docs", str(args.docs), "--index-dir", index_dir],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(url, server)
            run(url, questions, 2, 20)  # warm up
            for concurrency in (1, 8):
                print(json.dumps(run(url, questions, concurrency, args.requests)))
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
