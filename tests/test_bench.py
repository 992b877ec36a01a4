"""`rag bench` at tiny sizes: every row is measured and written (numbers are not judged here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rag.bench import Row, table

ROOT = Path(__file__).resolve().parent.parent


def test_table_renders_rows_as_markdown() -> None:
    text = table([Row("default (14 chunks)", "ask in process", 12.5, 20.0, memory_mb=300.0),
                  Row("default (14 chunks)", "ingestion", value="9.0 chunks/s", ratio="1.10x")])
    assert text.splitlines() == [
        "| corpus | measure | p50 ms | p95 ms | value | ratio | peak MB |",
        "|---|---|---|---|---|---|---|",
        "| default (14 chunks) | ask in process | 12.5 | 20 |  |  | 300 |",
        "| default (14 chunks) | ingestion |  |  | 9.0 chunks/s | 1.10x |  |",
    ]


def test_smoke_run_measures_every_row(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    out = tmp_path / "bench"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rag"), "bench", "--corpus", "default",
         "--corpus", "synthetic-120", "--corpus", "synthetic-300", "--queries", "10",
         "--requests", "16", "--ingest", "14", "--repeats", "1", "--hnsw-threshold", "200",
         "--out", str(out)],
        cwd=ROOT, env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((out / "bench.json").read_text())
    measures = {(r["corpus"], r["measure"]) for r in rows}
    default = "default (14 chunks)"
    small, big = "synthetic-120 (120 chunks)", "synthetic-300 (300 chunks)"
    for corpus in (default, small, big):
        assert (corpus, "ask in process") in measures
        assert (corpus, "POST /ask over HTTP, 1 client") in measures
        assert (corpus, "POST /ask over HTTP, 8 clients") in measures
    for kind in ("`rag ask` whole process", "`rag serve` to ready"):
        for encoder in ("onnx", "torch"):
            assert (default, f"cold start, {kind}, {encoder}") in measures
    assert (default, "query encode, ONNX Runtime") in measures
    assert (default, "ingestion: 14 chunks, ONNX Runtime") in measures
    assert (default, "LangChain FAISS similarity_search (peer, torch)") in measures
    assert (default, "reader: ours (windows around the best sentences)") in measures
    assert (default, "reader: Haystack-style peer (top 5 chunks whole, 384/128)") in measures
    assert (big, "HNSW recall@10 against exact search") in measures
    assert (small, "HNSW recall@10 against exact search") not in measures
    assert (big, f"POST /ask p50 here against {small}") in measures
    assert all(" 0 errors" in r["value"] for r in rows if r["measure"].startswith("POST /ask over"))
    assert (out / "bench.md").read_text().startswith("| corpus | measure |")
