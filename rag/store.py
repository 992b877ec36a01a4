"""The index on disk: a folder of plain files plus manifest.json, swapped in atomically.

Layout of the index root (index/ by default):
    current -> builds/<stamp>      symlink, replaced atomically by each build
    write.lock                     held by the one build writing here (an OS file lock)
    builds/<stamp>/manifest.json   model, dimension, chunking, versions, sha256s of documents
                                   and of every file of the build (checked on load), sizes
    builds/<stamp>/documents.jsonl one document a line: id, title, sha256, text, pages, sentences
    builds/<stamp>/chunks.jsonl    one chunk a line: id, doc_id, start, end, page, sentence ids
    builds/<stamp>/chunk_vectors.npy     float32, row i = chunk line i
    builds/<stamp>/sentence_vectors.npy  float16, documents' sentences in order
    builds/<stamp>/dense.faiss     FAISS index with chunk ids (an ID map)
    builds/<stamp>/bm25/           bm25s files, row i = chunk line i
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
)
from rag.index import Index, Manifest
from rag.lexical import load_lexical, save_lexical
from rag.load import file_sha256
from rag.records import Chunk, Document, Span

FORMAT = 3  # bump when the files, the tokenisation or the sentence rules change: rebuilt
FILES = ("documents.jsonl", "chunks.jsonl", "chunk_vectors.npy", "sentence_vectors.npy",
         "dense.faiss")


log = logging.getLogger(__name__)


@contextmanager
def write_lock(root: Path, wait: bool = True) -> Iterator[None]:
    """Hold the index folder's write lock (an OS lock on `root/write.lock`, as Lucene's
    write.lock): one build at a time, across processes. The OS lets go when its holder dies,
    so a killed writer never blocks the next. `wait`: wait for the holder (saying so once),
    else raise IndexBusyError at once."""
    from filelock import FileLock, Timeout

    held = _held()
    key = root.resolve()
    if key in held:  # this thread holds it already (build_index, then save_index)
        yield
        return
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / "write.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise IndexBusyError(f"Another build is writing the index in {root}/: try again "
                                 "when it ends.") from None
        log.warning("another build is writing the index in %s/: waiting for it to end", root)
        lock.acquire()
    held.add(key)
    try:
        yield
    finally:
        held.discard(key)
        lock.release()


_local = threading.local()


def _held() -> set[Path]:
    """The index folders whose write lock this thread holds."""
    if not hasattr(_local, "held"):
        _local.held = set()
    return _local.held  # type: ignore[no-any-return]


def current_folder(root: Path) -> Path:
    """The folder of the build that is serving now."""
    return root / "current"


def save_index(index: Index, root: Path) -> Path:
    """Write `index` beside the current one, then swap it in with one atomic rename, holding
    the folder's write lock. A failed write leaves nothing behind; a full disk is an
    IndexWriteError that says so."""
    with write_lock(root):
        return _save(index, root)


def _save(index: Index, root: Path) -> Path:
    builds = root / "builds"
    stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = builds / f".{stamp}.partial"
    try:
        builds.mkdir(parents=True, exist_ok=True)
        remove_partials(root)  # a killed writer's leftovers: room for this one
        tmp.mkdir()
        final = _write_build(index, root, tmp, stamp)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise IndexWriteError(
                f"No space left on the disk of {root}/ while writing the index: free some "
                "space and run the build again. The previous index still serves.") from exc
        raise
    _remove_old_builds(builds, keep=final)
    return final


def remove_partials(root: Path) -> None:
    """Delete the half-written builds that killed or failed writers left in `root`."""
    for partial in (root / "builds").glob(".*.partial"):
        shutil.rmtree(partial, ignore_errors=True)


def _write_build(index: Index, root: Path, tmp: Path, stamp: str) -> Path:
    builds = tmp.parent
    _write_documents(index, tmp / "documents.jsonl")
    _write_lines(tmp / "chunks.jsonl", (
        [c.chunk_id, c.doc_id, c.start, c.end, c.page, list(c.sentence_ids)] for c in index.chunks
    ))
    np.save(tmp / "chunk_vectors.npy", index.chunk_vectors.astype(np.float32))
    np.save(tmp / "sentence_vectors.npy", index.sentence_vectors.astype(np.float16))
    # Written by Python, not faiss's own writer: that reports a full disk as a RuntimeError,
    # or not at all when only its last flush fails.
    (tmp / "dense.faiss").write_bytes(faiss.serialize_index(index.dense).tobytes())
    save_lexical(index.lexical, tmp / "bm25")
    manifest = index.manifest.model_copy(update={
        "format": FORMAT,
        "files": {name: (tmp / name).stat().st_size for name in FILES},
        "checksums": _checksums(tmp),
    })
    (tmp / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    index.manifest = manifest  # the index in memory is now the one on disk, manifest and all
    _fsync_tree(tmp)
    final = builds / stamp
    tmp.rename(final)
    link = root / ".current.new"
    link.unlink(missing_ok=True)
    link.symlink_to(Path("builds") / stamp)
    os.replace(link, current_folder(root))  # the swap: readers see old or new, never a mix
    return final


def _checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file of a build but its manifest, by path inside the build."""
    return {path.relative_to(folder).as_posix(): file_sha256(path)
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != "manifest.json"}


def read_manifest(root: Path) -> Manifest:
    """The manifest of the serving build; IndexMissingError when there is none."""
    folder = current_folder(root)
    path = folder / "manifest.json"
    if not path.is_file():
        raise IndexMissingError(
            f"No index in {root}/: run `rag index DOCS_DIR --index-dir {root}`."
        )
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise IndexCorruptError(
            f"The index manifest {path} is unreadable ({exc.__class__.__name__}): "
            f"rebuild with `rag index DOCS_DIR --index-dir {root} --rebuild`."
        ) from exc


def check_compatible(manifest: Manifest, expected: Manifest, root: Path) -> None:
    """Raise IndexMismatchError when the index was built with other model or chunking."""
    fields = ("format", "model_name", "dimension", "chunk_size", "chunk_overlap")
    wrong = [f"{f} is {getattr(manifest, f)!r}, settings want {getattr(expected, f)!r}"
             for f in fields if getattr(manifest, f) != getattr(expected, f)]
    if wrong:
        raise IndexMismatchError(
            f"The index in {root}/ was built with other settings ({'; '.join(wrong)}): "
            f"rebuild it with `rag index DOCS_DIR --index-dir {root} --rebuild`."
        )


def load_index(root: Path, expected: Manifest | None = None) -> Index:
    """Read the serving build, checking its manifest, every file's size and checksum."""
    manifest = read_manifest(root)
    if expected is not None:
        check_compatible(manifest, expected, root)
    folder = current_folder(root).resolve()
    fix = f"rebuild it with `rag index DOCS_DIR --index-dir {root} --rebuild`"
    for name, size in manifest.files.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != size:
            raise IndexCorruptError(f"The index file {path} is missing or truncated: {fix}.")
    if manifest.checksums:
        found = _checksums(folder)
        changed = sorted(n for n, digest in manifest.checksums.items() if found.get(n) != digest)
        if changed:
            raise IndexCorruptError(f"The index file {folder / changed[0]} was changed after "
                                    f"the build (its checksum differs): {fix}.")
    try:
        return _read(folder, manifest)
    except (OSError, ValueError, KeyError, IndexError, RuntimeError, TypeError) as exc:
        raise IndexCorruptError(f"The index in {folder} is unreadable ({exc}): {fix}.") from exc


def _read(folder: Path, manifest: Manifest) -> Index:
    documents: dict[str, Document] = {}
    sentences: dict[str, list[Span]] = {}
    for row in _read_lines(folder / "documents.jsonl"):
        doc = Document(row["doc_id"], row["title"], row["text"], row["sha256"],
                       tuple(row["page_starts"]))
        documents[doc.doc_id] = doc
        sentences[doc.doc_id] = [Span(s, e) for s, e in row["sentences"]]
    chunks = [
        Chunk(cid, doc_id, start, end, documents[doc_id].text[start:end], page, tuple(sids))
        for cid, doc_id, start, end, page, sids in _read_lines(folder / "chunks.jsonl")
    ]
    chunk_vectors = np.load(folder / "chunk_vectors.npy")
    sentence_vectors = np.load(folder / "sentence_vectors.npy")
    if len(chunk_vectors) != len(chunks):
        raise ValueError("chunk vectors and chunks differ in count")
    if len(sentence_vectors) != sum(len(s) for s in sentences.values()):
        raise ValueError("sentence vectors and sentences differ in count")
    dense = faiss.read_index(str(folder / "dense.faiss"))
    if dense.ntotal != len(chunks):
        raise ValueError("the FAISS index and chunks differ in count")
    return Index(manifest, documents, sentences, chunks, chunk_vectors, sentence_vectors,
                 dense, load_lexical(folder / "bm25"))


def _write_documents(index: Index, path: Path) -> None:
    _write_lines(path, (
        {"doc_id": d.doc_id, "title": d.title, "sha256": d.sha256, "text": d.text,
         "page_starts": list(d.page_starts),
         "sentences": [[s.start, s.end] for s in index.sentences[d.doc_id]]}
        for d in index.documents.values()
    ))


def _write_lines(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False))
            out.write("\n")


def _read_lines(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())


def _remove_old_builds(builds: Path, keep: Path) -> None:
    for old in builds.iterdir():
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
