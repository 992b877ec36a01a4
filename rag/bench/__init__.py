"""`rag bench`: speed of the ONNX path against sentence-transformers on torch, in one run."""

from rag.bench.rows import Row, machine, table
from rag.bench.run import Options, run_bench

__all__ = ["Options", "Row", "machine", "run_bench", "table"]
