"""Repeat the measurements of the hardening issue (#15) with real processes on 127.0.0.1.

    .venv/bin/python eval/benchmarks/hardening/measure.py [--rounds 10] [--squad-index DIR]

1. writers: rounds of two `rag index --rebuild` started at once on one index folder, and
   of two threads calling `save_index` at once;
2. checksums: load time of an index with and without the manifest's checksums;
3. slow clients: how long a `rag serve` with default settings holds a connection that
   sends nothing, half a header, or a body a byte every 2 s; and requests at 32 clients.
Prints one table; nothing is written but temporary folders.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

RAG = str(Path(sys.executable).parent / "rag")
DOCS = {
    "eiffel.txt": "The Eiffel Tower was completed in 1889. Gustave Eiffel's company built it.",
    "moon.md": "# Apollo 11\n\nApollo 11 landed on the Moon on July 20, 1969.",
    "bees.txt": "Honey bees live in hives. A hive has one queen and many workers.",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--thread-rounds", type=int, default=300)
    parser.add_argument("--squad-index", type=Path, default=Path("eval/results/squad/index"))
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        docs = root / "docs"
        docs.mkdir()
        for name, text in DOCS.items():
            (docs / name).write_text(text, encoding="utf-8")
        rows = [*writer_processes(docs, root / "index", args.rounds, env),
                *writer_threads(root / "index", args.thread_rounds),
                *checksum_load(args.squad_index, root / "copy"),
                *slow_clients(docs, root / "served", env)]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


def writer_processes(docs: Path, index: Path, rounds: int, env: dict) -> list[tuple[str, str]]:
    failed = tracebacks = waited = whole = leftovers = 0
    for _ in range(rounds):
        command = [RAG, "index", str(docs), "--index-dir", str(index), "--rebuild"]
        runs = [subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for _ in range(2)]
        outputs = [run.communicate(timeout=300) for run in runs]
        failed += sum(run.returncode != 0 for run in runs)
        tracebacks += sum("Traceback" in err for _, err in outputs)
        waited += any("waiting for it to end" in err for _, err in outputs)
        builds = list((index / "builds").iterdir())
        leftovers += sum(b.name.endswith(".partial") for b in builds)
        check = subprocess.run([sys.executable, "-c", "import sys\nfrom pathlib import Path\n"
                                "from rag.store import load_index\n"
                                "print(len(load_index(Path(sys.argv[1])).documents))",
                                str(index)], capture_output=True, text=True, env=env)
        whole += check.stdout.strip() == str(len(DOCS)) and len(builds) == 1
    return [("writers: rounds of two `rag index --rebuild` at once", str(rounds)),
            ("writers: runs that failed / printed a traceback", f"{failed} / {tracebacks}"),
            ("writers: rounds where one waited for the other", str(waited)),
            ("writers: rounds ending with one whole build that loads", str(whole)),
            ("writers: partial folders left", str(leftovers))]


def writer_threads(index: Path, rounds: int) -> list[tuple[str, str]]:
    from rag.store import load_index, save_index

    built = load_index(index)
    errors = broken = 0
    failures: list[BaseException] = []

    def save() -> None:
        try:
            save_index(built, index)
        except Exception as exc:  # every failure is what is counted here
            failures.append(exc)

    for _ in range(rounds):
        failures.clear()
        threads = [threading.Thread(target=save) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        errors += len(failures)
        try:
            load_index(index)
        except Exception:
            broken += 1
    return [("threads: rounds of two `save_index` at once", str(rounds)),
            ("threads: exceptions / rounds with `current` broken", f"{errors} / {broken}")]


def checksum_load(index: Path, copy: Path) -> list[tuple[str, str]]:
    from rag.store import current_folder, load_index

    if not (index / "current").exists():
        return [("checksums: load time", f"no index in {index}: run `rag eval --dataset squad`")]
    shutil.copytree(current_folder(index).resolve(), copy / "builds" / "b")
    (copy / "current").symlink_to(Path("builds") / "b")
    manifest = copy / "current" / "manifest.json"
    with_sums = manifest.read_text()
    data = json.loads(with_sums)
    size = sum(p.stat().st_size for p in (copy / "builds" / "b").rglob("*") if p.is_file())

    def median_load() -> float:
        times = []
        for _ in range(7):
            began = time.perf_counter()
            load_index(copy)
            times.append((time.perf_counter() - began) * 1000)
        return statistics.median(times)

    after = median_load()
    manifest.write_text(json.dumps(data | {"checksums": {}}))
    before = median_load()
    manifest.write_text(with_sums)
    return [(f"checksums: load of the SQuAD index ({len(data['checksums'])} files, "
             f"{size / 1e6:.1f} MB), median of 7",
             f"{before:.0f} ms without, {after:.0f} ms with ({after / before:.2f}x)")]


def slow_clients(docs: Path, index: Path, env: dict) -> list[tuple[str, str]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([RAG, "serve", "--port", str(port), "--docs", str(docs),
                               "--index-dir", str(index)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        held = {kind: _held_for(port, kind) for kind in ("silent", "half header", "trickle")}
        failures = 0
        with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=32)) as client:
            def one(_: int) -> bool:
                try:
                    return client.get(f"{url}/health").status_code == 200
                except httpx.HTTPError:
                    return False

            with ThreadPoolExecutor(32) as pool:
                results = list(pool.map(one, range(3000)))
            failures = results.count(False)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = [(f"slow clients: connection that sends {kind}, held for", f"{seconds:.1f} s")
            for kind, seconds in held.items()]
    return [*rows, ("requests at 32 clients (GET /health): failed", f"{failures} of 3000")]


def _held_for(port: int, kind: str) -> float:
    sock = socket.create_connection(("127.0.0.1", port))
    began = time.monotonic()
    if kind == "half header":
        sock.sendall(b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
    elif kind == "trickle":
        sock.sendall(b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 400\r\n\r\n")
    sock.settimeout(2)
    try:
        while time.monotonic() - began < 120:
            try:
                if sock.recv(1024) == b"":
                    break
            except TimeoutError:
                if kind == "trickle":
                    sock.sendall(b" ")
    except OSError:
        pass
    finally:
        sock.close()
    return time.monotonic() - began


if __name__ == "__main__":
    main()
