"""Load on POST /ask: keep-alive clients on 127.0.0.1, each in its own thread."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Traffic:
    """What `total` requests at one concurrency gave."""

    latencies: list[float]  # milliseconds, one per request
    errors: int
    seconds: float

    @property
    def throughput(self) -> float:
        """Requests per second over the whole run."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def hammer(port: int, questions: list[str], concurrency: int, total: int) -> Traffic:
    """Send `total` asks (questions cycled) from `concurrency` clients at once."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(slot: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(slot, total, concurrency):
            body = json.dumps({"question": questions[i % len(questions)]})
            began = time.perf_counter()
            try:
                connection.request("POST", "/ask", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                errors += not ok
        connection.close()

    threads = [threading.Thread(target=client, args=(s,)) for s in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Traffic(latencies, errors, time.perf_counter() - began)
