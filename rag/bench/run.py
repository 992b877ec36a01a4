"""`rag bench`: one run measures the ONNX path against sentence-transformers on torch.

Order matters: everything on the ONNX path is measured first, with no torch in this process;
torch comes last (bare encode, ingestion, the LangChain peer), so its threads never compete.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from rag.bench.reader_peer import compare
from rag.bench.rows import Row, latency_row, peak_mb, ratio, timed
from rag.bench.server import cold_ask, cold_serve, serving
from rag.bench.synthetic import LookupEncoder, sentence_table, write_corpus
from rag.bench.traffic import hammer
from rag.cases import Case, read_cases
from rag.config import Settings
from rag.datasets import SQUAD_DIR, load_dataset
from rag.dense import search_dense
from rag.embed import Encoder, open_encoder
from rag.ingest import build_index
from rag.pipeline import Pipeline
from rag.reader.onnx_reader import OnnxReader
from rag.store import load_index

Say = Callable[[str], None]
# /ask p50 over HTTP, reading included, against one bare torch query encode in the same run.
TARGETS = {"default": "<= 6x", "squad": "<= 8x"}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    """What to measure and how much."""

    corpora: tuple[str, ...] = ("default", "squad", "synthetic-2000", "synthetic-100000")
    queries: int = 200  # distinct questions per latency measurement (cycled when fewer)
    requests: int = 200  # HTTP requests per concurrency level
    ingest: int = 256  # chunks embedded by each encoder for the throughput rows
    repeats: int = 3  # cold starts of each kind
    hnsw_threshold: int = 50_000
    questions: Path = Path("eval/aqim.jsonl")
    work_dir: Path = Path("eval/results/bench")
    squad_dir: Path = SQUAD_DIR


@dataclass
class Corpus:
    """A built index to measure, and the questions to ask it."""

    name: str
    settings: Settings
    questions: list[str]
    chunks: int = 0
    cases: list[Case] = field(default_factory=list)  # with gold answers, where known

    @property
    def label(self) -> str:
        """The corpus and its size, as the table shows it."""
        return f"{self.name} ({self.chunks:,} chunks)"


def run_bench(settings: Settings, options: Options, say: Say) -> list[Row]:
    """Measure, print progress with `say`, and return the table's rows."""
    settings = settings.model_copy(update={"encoder": "onnx"})
    encoder = open_encoder(settings)
    corpora = _prepare(settings, options, encoder, say)
    questions = _cycle(corpora[0].questions, options.queries)
    deferred: list[Callable[[float], Row]] = []
    say("encoding queries (ONNX)")
    onnx = timed(encoder.encode_query, questions)
    deferred.append(lambda base: latency_row(corpora[0].label, "query encode, ONNX Runtime",
                                             onnx, ratio=ratio(statistics.median(onnx), base)))
    rows: list[Row] = []
    for corpus in corpora:
        rows += _in_process(corpus, encoder, options, say)
    source, texts = _ingest_texts(corpora, options.ingest)
    encoder.encode(texts[:8])  # warm up
    onnx_rate = _rate(encoder.encode, texts)
    for corpus in corpora:
        rows += _http(corpus, settings, options, say, deferred)
    rows += _cold_starts(corpora[0], settings, options, say)
    say("sentence-transformers on torch (the baseline) and the LangChain peer")
    rows += _torch(settings, corpora, questions, (source, texts), onnx_rate, deferred)
    rows += _growth(rows, corpora)
    order = [c.label for c in corpora]
    return sorted(rows, key=lambda r: order.index(r.corpus) if r.corpus in order else len(order))


def _prepare(settings: Settings, options: Options, encoder: Encoder, say: Say) -> list[Corpus]:
    corpora: dict[str, Corpus] = {}
    work = options.work_dir
    for name in sorted(options.corpora, key=lambda n: n.startswith("synthetic")):
        say(f"preparing {name}")
        if name == "default":
            index_settings = settings.model_copy(update={"index_dir": work / "default" / "index"})
            build_index(index_settings, settings.docs_dir, index_settings.index_dir,
                        lambda: encoder, progress=True)
            cases = read_cases(options.questions)
            corpora[name] = Corpus(name, index_settings, [c.question for c in cases],
                                   cases=cases)
        elif name == "squad":
            data = load_dataset("squad", settings, lambda: encoder, [], work.parent,
                                options.squad_dir, progress=True)
            corpora[name] = Corpus(name, data.settings, [c.question for c in data.cases],
                                   cases=data.cases)
        elif name.startswith("synthetic-"):
            source = corpora.get("squad") or corpora["default"]
            corpora[name] = _synthetic(name, source, settings, options, encoder)
        else:
            raise ValueError(f"unknown corpus {name!r}: default, squad or synthetic-N")
    return [corpora[n] for n in options.corpora]


def _synthetic(name: str, source: Corpus, settings: Settings, options: Options,
               encoder: Encoder) -> Corpus:
    size = int(name.removeprefix("synthetic-"))
    table = sentence_table(load_index(source.settings.index_dir))
    folder = options.work_dir / name
    docs = write_corpus(table, size, folder)
    index_settings = settings.model_copy(update={
        "docs_dir": docs, "index_dir": folder / "index", "index_type": "auto",
        "hnsw_threshold": options.hnsw_threshold})
    lookup = LookupEncoder(table, encoder)
    build_index(index_settings, docs, index_settings.index_dir, lambda: lookup, progress=True)
    if lookup.embedded:
        log.warning("%s: %d texts were not made of known sentences and were embedded",
                    name, lookup.embedded)
    return Corpus(name, index_settings, source.questions)


def _in_process(corpus: Corpus, encoder: Encoder, options: Options, say: Say) -> list[Row]:
    say(f"asking {corpus.name} in process")
    pipeline = Pipeline.load(corpus.settings, encoder=encoder)
    corpus.chunks = len(pipeline.index.chunks)
    questions = _cycle(corpus.questions, options.queries)
    stages: dict[str, list[float]] = {}

    def ask(question: str) -> None:
        for stage, ms in pipeline.ask(question).timings.items():
            stages.setdefault(stage, []).append(ms)

    latencies = timed(ask, questions)
    peer = []
    if corpus.cases and isinstance(pipeline.reader, OnnxReader):
        say(f"reading {corpus.name} the Haystack way (the reader's peer)")
        answerable = [c for c in corpus.cases if c.answerable and not c.history]
        peer = compare(pipeline, pipeline.reader, answerable[: options.queries], corpus.label)
    # The stages of the timed pass only (`timed` asks every question once before it).
    split = ", ".join(f"{s} {statistics.median(v[-len(questions):]):.1f}"
                      for s, v in stages.items())
    name = corpus.label
    rows = [latency_row(name, "ask in process", latencies, value=f"ms: {split}"), *peer]
    if pipeline.index.manifest.index_type == "hnsw":
        recall = _hnsw_recall(pipeline, [encoder.encode_query(q) for q in questions])
        rows.append(Row(name, "HNSW recall@10 against exact search", value=f"{recall:.3f}",
                        ratio="(target >= 0.98)"))
    return rows


def _hnsw_recall(pipeline: Pipeline, queries: list[np.ndarray]) -> float:
    index = pipeline.index
    exact = faiss.IndexFlatIP(index.chunk_vectors.shape[1])
    exact.add(np.ascontiguousarray(index.chunk_vectors, dtype=np.float32))
    ids = np.array([c.chunk_id for c in index.chunks])
    found = []
    for query in queries:
        _, rows = exact.search(query.reshape(1, -1), 10)
        truth = set(ids[rows[0]].tolist())
        approximate = {cid for cid, _ in search_dense(index.dense, query, 10)}
        found.append(len(truth & approximate) / len(truth))
    return float(np.mean(found))


def _http(corpus: Corpus, settings: Settings, options: Options, say: Say,
          deferred: list[Callable[[float], Row]]) -> list[Row]:
    say(f"serving {corpus.name} over HTTP")
    name = corpus.label
    questions = _cycle(corpus.questions, options.requests)
    with serving(corpus.settings.index_dir, settings) as server:
        hammer(server.port, questions, 2, len(questions))  # warm up, as `timed` does
        one = hammer(server.port, questions, 1, options.requests)
        eight = hammer(server.port, questions, 8, options.requests)
        memory = server.peak_mb()
    deferred.append(lambda base: latency_row(
        name, "POST /ask over HTTP, 1 client", one.latencies, memory_mb=memory,
        value=f"{one.throughput:.1f} req/s, {one.errors} errors",
        # Synthetic corpora are held to the growth row instead.
        ratio=ratio(statistics.median(one.latencies), base,
                    TARGETS.get(corpus.name, ""))))
    return [latency_row(name, "POST /ask over HTTP, 8 clients", eight.latencies,
                        memory_mb=memory,
                        value=f"{eight.throughput:.1f} req/s, {eight.errors} errors")]


def _cold_starts(corpus: Corpus, settings: Settings, options: Options, say: Say) -> list[Row]:
    say("cold starts")
    question = corpus.questions[0]
    index_dir = corpus.settings.index_dir
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(options.repeats):  # interleaved, so load changes hit both alike
        for encoder in ("onnx", "torch"):
            runs.setdefault(f"ask {encoder}", []).append(
                cold_ask(index_dir, settings, encoder, question))
            runs.setdefault(f"serve {encoder}", []).append(
                cold_serve(index_dir, settings, encoder))
    rows = []
    for kind, what in (("ask", "`rag ask` whole process"), ("serve", "`rag serve` to ready")):
        for encoder in ("onnx", "torch"):
            seconds = [s * 1000 for s, _ in runs[f"{kind} {encoder}"]]
            base = statistics.median(s * 1000 for s, _ in runs[f"{kind} torch"])
            rows.append(latency_row(
                corpus.label, f"cold start, {what}, {encoder}", seconds,
                memory_mb=max(m for _, m in runs[f"{kind} {encoder}"]),
                ratio=ratio(statistics.median(seconds), base, "<= 0.3x")
                if encoder == "onnx" else ""))
    return rows


def _torch(settings: Settings, corpora: list[Corpus], questions: list[str],
           ingest: tuple[str, list[str]], onnx_rate: float,
           deferred: list[Callable[[float], Row]]) -> list[Row]:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(settings.model_path, device="cpu")  # its own defaults
    baseline = timed(model.encode, questions)
    source, texts = ingest
    model.encode(texts[:8])  # warm up
    rates = [_rate(lambda t: model.encode(t, batch_size=32), texts)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    single = timed(model.encode, questions)
    rates.append(_rate(lambda t: model.encode(t, batch_size=32), texts))
    torch.set_num_threads(threads)
    torch_rate = max(rates)
    # Ratios are taken against the faster torch setting: two threads win on an idle machine,
    # one thread when anything else runs (torch's threads then spin-wait for each other).
    base = min(statistics.median(baseline), statistics.median(single))
    first = corpora[0].label
    rows = [latency_row(first, f"query encode, sentence-transformers on torch, {n}",
                        values, value="baseline" if statistics.median(values) == base else "")
            for n, values in ((f"{threads} threads (its default)", baseline),
                              ("1 thread", single))]
    rows += [make(base) for make in deferred]
    rows.append(Row(source, f"ingestion: {len(texts)} chunks, ONNX Runtime",
                    value=f"{onnx_rate:.1f} chunks/s",
                    ratio=ratio(onnx_rate, torch_rate, ">= 2x against torch's faster"),
                    memory_mb=peak_mb()))
    rows.append(Row(source, f"ingestion: {len(texts)} chunks, sentence-transformers on torch",
                    value=f"{rates[0]:.1f} chunks/s ({threads} threads), {rates[1]:.1f} (1 thread)",
                    memory_mb=peak_mb()))
    rows += _langchain(settings, corpora, questions, base)
    return rows


def _langchain(settings: Settings, corpora: list[Corpus], questions: list[str],
               base: float) -> list[Row]:
    try:
        from langchain_community.embeddings import HuggingFaceEmbeddings
        from langchain_community.vectorstores import FAISS
    except ImportError:
        return [Row(corpora[0].label, "LangChain FAISS peer", value="not installed")]
    embeddings = HuggingFaceEmbeddings(model_name=settings.model_path,
                                       encode_kwargs={"normalize_embeddings": True})
    rows = []
    for corpus in corpora:
        if corpus.name.startswith("synthetic"):
            continue
        index = load_index(corpus.settings.index_dir)
        store = FAISS.from_embeddings(
            list(zip([c.text for c in index.chunks], index.chunk_vectors.tolist(), strict=True)),
            embeddings)
        asked = _cycle(corpus.questions, len(questions))

        def search(question: str, store: FAISS = store) -> None:
            store.similarity_search(question, k=5)

        latencies = timed(search, asked)
        rows.append(latency_row(corpus.label,
                                "LangChain FAISS similarity_search (peer, torch)", latencies,
                                ratio=ratio(statistics.median(latencies), base)))
    return rows


def _growth(rows: list[Row], corpora: list[Corpus]) -> list[Row]:
    """/ask p50 of each bigger synthetic corpus against the smallest one's."""
    synthetic = sorted((c for c in corpora if c.name.startswith("synthetic")),
                       key=lambda c: c.chunks)
    one = {r.corpus: r.p50 for r in rows if r.measure == "POST /ask over HTTP, 1 client"}
    if len(synthetic) < 2 or not one.get(synthetic[0].label):
        return []
    small = synthetic[0]
    return [Row(big.label, f"POST /ask p50 here against {small.label}",
                value=f"{one[big.label]} vs {one[small.label]} ms",
                ratio=ratio(one[big.label] or 0.0, one[small.label] or 0.0, "<= 2x"))
            for big in synthetic[1:]]


def _ingest_texts(corpora: list[Corpus], count: int) -> tuple[str, list[str]]:
    """The first `count` chunks of the biggest real corpus (synthetic ones repeat sentences)."""
    real = [c for c in corpora if not c.name.startswith("synthetic")] or corpora
    biggest = max(real, key=lambda c: c.chunks)
    chunks = load_index(biggest.settings.index_dir).chunks[:count]
    return biggest.label, [c.text for c in chunks]


def _rate(encode: Callable[[list[str]], object], texts: list[str]) -> float:
    began = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - began)


def _cycle(items: list[str], count: int) -> list[str]:
    return [items[i % len(items)] for i in range(count)]
