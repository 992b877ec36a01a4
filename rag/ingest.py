"""Build or update the index from a folder of documents, embedding only what changed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.chunk import chunk_document, make_splitter
from rag.config import Settings
from rag.dense import build_dense
from rag.embed import Encoder
from rag.errors import (
    ConfigError,
    DocumentError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    NothingIndexedError,
)
from rag.index import Index, expected_manifest
from rag.lexical import build_lexical
from rag.load import (
    SUFFIXES,
    Skipped,
    check_inside,
    file_sha256,
    list_files,
    load_document,
)
from rag.records import Chunk, Document, Span
from rag.sentences import split_sentences
from rag.store import check_compatible, load_index, read_manifest, save_index, write_lock

log = logging.getLogger(__name__)
BATCH = 256  # texts per encode call: bounds memory and paces the progress bar


@dataclass
class BuildReport:
    """What one `rag index` run did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    full_rebuild_reason: str = ""
    # The index now on disk, as loaded or built: a caller serves it without reading it again.
    index: Index | None = field(default=None, repr=False, compare=False)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"documents: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged, "
            f"{len(self.skipped)} skipped; chunks: {self.chunks_embedded} embedded, "
            f"{self.chunks_total} in index; {self.seconds:.1f} s"
        )


def build_index(
    settings: Settings,
    docs_dir: Path,
    index_root: Path,
    encoder: Callable[[], Encoder],
    rebuild: bool = False,
    progress: bool = False,
    wait: bool = True,
) -> BuildReport:
    """Bring the index in `index_root` up to date with `docs_dir`; returns what changed.

    The whole build holds the folder's write lock: a second writer, in this process or
    another, waits for it (`wait`) or gets IndexBusyError; none can lose the other's work."""
    if not docs_dir.is_dir():
        raise ConfigError(f"Documents folder {docs_dir} does not exist: pass an existing folder.")
    with write_lock(index_root, wait):
        return _build(settings, docs_dir, index_root, encoder, rebuild, progress)


def _build(settings: Settings, docs_dir: Path, index_root: Path, encoder: Callable[[], Encoder],
           rebuild: bool, progress: bool) -> BuildReport:
    began = time.perf_counter()
    report = BuildReport()
    old = None if rebuild else _previous(settings, index_root, report)
    files = dict(list_files(docs_dir))
    old_docs = old.documents if old else {}
    report.removed = sorted(set(old_docs) - set(files))
    fresh: list[Document] = []
    for doc_id, path in files.items():
        try:  # an unreadable file is skipped like a broken one, not fatal to the build
            check_inside(doc_id, path, docs_dir)
            sha = file_sha256(path)
            if doc_id in old_docs and old_docs[doc_id].sha256 == sha:
                report.unchanged.append(doc_id)
                continue
            fresh.append(load_document(doc_id, path, sha))
        except (DocumentError, OSError) as exc:
            reason = exc.reason if isinstance(exc, DocumentError) else str(exc)
            report.skipped.append(Skipped(doc_id, reason))  # the caller reports it, once
            continue
        (report.changed if doc_id in old_docs else report.added).append(doc_id)
    if not report.unchanged and not fresh:
        raise NothingIndexedError(_nothing_indexed(docs_dir, report.skipped, old is not None))
    dropped = set(report.removed) | set(report.changed)
    dropped |= {s.doc_id for s in report.skipped if s.doc_id in old_docs}
    if old is not None and not fresh and not dropped:
        report.chunks_total = len(old.chunks)
        report.seconds = time.perf_counter() - began
        report.index = old
        return report
    index = _assemble(settings, old, dropped, fresh, encoder, progress, report)
    index.manifest.build_seconds = round(time.perf_counter() - began, 3)
    save_index(index, index_root)
    report.index = index
    report.chunks_total = len(index.chunks)
    report.seconds = time.perf_counter() - began
    return report


def _nothing_indexed(docs_dir: Path, skipped: list[Skipped], has_old: bool) -> str:
    kept = " The index built before stays as it was." if has_old else ""
    if not skipped:
        return (f"Nothing was indexed: {docs_dir} holds no files. Put documents there "
                f"({', '.join(SUFFIXES)}) and index again.{kept}")
    reasons = "; ".join(f"{s.doc_id}: {s.reason}" for s in skipped[:5])
    more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    return (f"Nothing was indexed: all {len(skipped)} files in {docs_dir} were skipped "
            f"({reasons}{more}).{kept}")


def _previous(settings: Settings, root: Path, report: BuildReport) -> Index | None:
    """The current index when it can be updated in place, else None (full rebuild)."""
    try:
        manifest = read_manifest(root)
    except IndexCorruptError as exc:
        report.full_rebuild_reason = _diagnosis(exc)
        return None
    except IndexMissingError:
        return None
    try:
        check_compatible(manifest, expected_manifest(settings, manifest.dimension), root)
        return load_index(root)
    except (IndexMismatchError, IndexCorruptError) as exc:
        report.full_rebuild_reason = _diagnosis(exc)
        log.warning("full rebuild: %s", exc)
        return None


def _assemble(
    settings: Settings,
    old: Index | None,
    dropped: set[str],
    fresh: Sequence[Document],
    encoder: Callable[[], Encoder],
    progress: bool,
    report: BuildReport,
) -> Index:
    documents: dict[str, Document] = {}
    sentences: dict[str, list[Span]] = {}
    kept_sentences: list[np.ndarray] = []  # views into the old index, copied once below
    keep: list[int] = []
    next_id = 0
    if old is not None:
        next_id = max((c.chunk_id for c in old.chunks), default=-1) + 1
        for doc_id, doc in old.documents.items():
            if doc_id not in dropped:
                documents[doc_id] = doc
                sentences[doc_id] = old.sentences[doc_id]
                base = old.sentence_base[doc_id]
                kept_sentences.append(old.sentence_vectors[base : base + len(sentences[doc_id])])
        keep = [row for row, c in enumerate(old.chunks) if c.doc_id not in dropped]
    chunks = [old.chunks[row] for row in keep] if old is not None else []
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)
    new_chunks: list[Chunk] = []
    new_sentences: list[str] = []
    for doc in fresh:
        spans = split_sentences(doc.text)
        documents[doc.doc_id] = doc
        sentences[doc.doc_id] = spans
        new_sentences.extend(doc.text[s.start : s.end] for s in spans)
        doc_chunks = chunk_document(doc, spans, splitter, next_id)
        next_id += len(doc_chunks)
        new_chunks.extend(doc_chunks)
    model = encoder() if new_chunks else None
    dimension = model.dimension if model else (old.manifest.dimension if old else 384)
    # Every vector is written once, straight into the final arrays: no second copy of them.
    chunk_vectors = np.empty((len(keep) + len(new_chunks), dimension), dtype=np.float32)
    kept = sum(len(v) for v in kept_sentences)
    sentence_vectors = np.empty((kept + len(new_sentences), dimension), dtype=np.float16)
    if old is not None:
        np.take(old.chunk_vectors, keep, axis=0, out=chunk_vectors[: len(keep)])
        if kept_sentences:
            np.concatenate(kept_sentences, out=sentence_vectors[:kept])
    if model is not None:
        _encode(model, [c.text for c in new_chunks], chunk_vectors[len(keep) :], "chunks",
                progress)
        _encode(model, new_sentences, sentence_vectors[kept:], "sentences", progress)
    chunks.extend(new_chunks)
    report.chunks_embedded = len(new_chunks)
    ids = np.array([c.chunk_id for c in chunks], dtype=np.int64)
    kind = settings.index_type
    if kind == "auto":
        kind = "hnsw" if len(chunks) >= settings.hnsw_threshold else "flat"
    manifest = expected_manifest(settings, dimension).model_copy(update={
        "index_type": kind,
        "documents": {d.doc_id: d.sha256 for d in documents.values()},
        "counts": {"documents": len(documents), "chunks": len(chunks),
                   "sentences": sum(len(s) for s in sentences.values())},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })
    return Index(manifest, documents, sentences, chunks, chunk_vectors, sentence_vectors,
                 build_dense(chunk_vectors, ids, kind), build_lexical([c.text for c in chunks]))


def _encode(model: Encoder, texts: list[str], out: np.ndarray, what: str,
            progress: bool) -> None:
    """Embed `texts` into `out` batch by batch, with a progress bar for people."""
    with tqdm(total=len(texts), desc=f"embedding {what}", unit=what[:-1],
              disable=not progress, leave=False) as bar:
        for i in range(0, len(texts), BATCH):
            out[i : i + BATCH] = model.encode(texts[i : i + BATCH])
            bar.update(min(BATCH, len(texts) - i))


def _diagnosis(exc: Exception) -> str:
    """What made a full rebuild necessary, without the advice to rebuild (we are doing it)."""
    return str(exc).split(": rebuild")[0]
