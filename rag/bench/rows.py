"""Benchmark rows: what was measured, its p50/p95, a ratio against its baseline, peak memory."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    """One line of the table; times in milliseconds, memory in MB."""

    corpus: str
    measure: str
    p50: float | None = None
    p95: float | None = None
    value: str = ""
    ratio: str = ""
    memory_mb: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return asdict(self)


def timed(call: Callable[[T], object], items: Sequence[T]) -> list[float]:
    """Milliseconds of `call` on each item, in order, after one untimed pass over them all.

    The warm-up pass is the same for every row: torch builds its kernels per input length
    on first sight, and the pipeline fills its caches, so no side is timed cold.
    """
    for item in items:
        call(item)
    out = []
    for item in items:
        began = time.perf_counter()
        call(item)
        out.append((time.perf_counter() - began) * 1000)
    return out


def p50(values: list[float]) -> float:
    """The median, rounded for the table."""
    return round(statistics.median(values), 2)


def p95(values: list[float]) -> float:
    """The 95th percentile (the largest value when there are fewer than 20)."""
    if len(values) < 20:
        return round(max(values), 2)
    return round(statistics.quantiles(values, n=20)[18], 2)


def latency_row(corpus: str, measure: str, values: list[float], **extra: Any) -> Row:
    """A row of latencies, with this process's peak memory unless given."""
    extra.setdefault("memory_mb", peak_mb())
    return Row(corpus, measure, p50(values), p95(values), **extra)


def peak_mb() -> float:
    """This process's peak resident memory so far."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ratio(ours: float, base: float, target: str = "") -> str:
    """'0.42x' (and the target it is held to), or '' without a baseline."""
    if not base:
        return ""
    return f"{ours / base:.2f}x" + (f" (target {target})" if target else "")


def table(rows: list[Row]) -> str:
    """The rows as one Markdown table."""
    lines = ["| corpus | measure | p50 ms | p95 ms | value | ratio | peak MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r.corpus, r.measure, _cell(r.p50), _cell(r.p95), r.value, r.ratio,
                 _cell(r.memory_mb)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def machine() -> str:
    """One line on where the numbers come from: CPU, cores, load, library versions."""
    from importlib.metadata import version

    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.is_file() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines
                if line.startswith("model name")), platform.processor())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    libraries = ", ".join(f"{name} {version(name)}" for name in (
        "onnxruntime", "torch", "sentence-transformers", "faiss-cpu", "bm25s"))
    return f"{cpu}, {os.cpu_count()} cores, load average {load}; {libraries}"
