"""The index on disk: save -> load round trips exactly; bad folders raise domain errors."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from rag.chunk import chunk_document, make_splitter
from rag.config import Settings
from rag.dense import build_dense, search_dense
from rag.embed import Encoder
from rag.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
)
from rag.index import Index, Manifest, expected_manifest
from rag.lexical import build_lexical, lexical_scores
from rag.records import Chunk, Document
from rag.sentences import split_sentences
from rag.store import (
    FILES,
    FORMAT,
    current_folder,
    load_index,
    read_manifest,
    save_index,
    write_lock,
)

TEXTS = {
    "zebra.txt": "Zebras live in the grasslands of Kenya. Their stripes confuse biting flies.\n\n"
    "Herds of zebras migrate with wildebeest every year across the Serengeti plains.",
    "penguin.md": "# Penguins\n\nEmperor penguins breed during the Antarctic winter.\n\n"
    "The males keep the egg warm on their feet for two months.",
    "volcano.html": "Mount Etna is an active volcano in Sicily. It erupts often.",
}
QUERIES = ["zebras stripes", "Etna volcano", "penguins egg", "Serengeti", "xyzzy nothing"]
SETTINGS = Settings(chunk_size=100, chunk_overlap=20, model_path=".")


def make_index(encoder: Encoder, texts: dict[str, str]) -> Index:
    """An in-memory index assembled from the stages, without the builder."""
    documents = {d: Document(d, d.split(".")[0], t, f"sha-{d}") for d, t in texts.items()}
    sentences = {d: split_sentences(doc.text) for d, doc in documents.items()}
    splitter = make_splitter(SETTINGS.chunk_size, SETTINGS.chunk_overlap)
    chunks: list[Chunk] = []
    for doc_id, doc in documents.items():
        chunks += chunk_document(doc, sentences[doc_id], splitter, 10 * len(chunks) + 1)
    sentence_texts = [documents[d].text[s.start : s.end] for d in texts for s in sentences[d]]
    chunk_vectors = encoder.encode([c.text for c in chunks])
    sentence_vectors = encoder.encode(sentence_texts).astype(np.float16)
    ids = np.array([c.chunk_id for c in chunks], dtype=np.int64)
    manifest = expected_manifest(SETTINGS).model_copy(update={
        "documents": {d.doc_id: d.sha256 for d in documents.values()},
        "counts": {"documents": len(documents), "chunks": len(chunks)},
    })
    return Index(manifest, documents, sentences, chunks, chunk_vectors, sentence_vectors,
                 build_dense(chunk_vectors, ids), build_lexical([c.text for c in chunks]))


@pytest.fixture(scope="module")
def original(encoder: Encoder) -> Index:
    return make_index(encoder, TEXTS)


@pytest.fixture(scope="module")
def saved(original: Index, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store") / "index"
    save_index(original, root)
    return root


@pytest.fixture
def copy(saved: Path, tmp_path: Path) -> Path:
    """A private copy of the saved index that a test may damage."""
    root = tmp_path / "index"
    shutil.copytree(saved, root, symlinks=True)
    return root


def expected(**changes: object) -> Manifest:
    return expected_manifest(SETTINGS).model_copy(update=changes)


def test_round_trip_is_identical(original: Index, saved: Path) -> None:
    loaded = load_index(saved, expected())
    assert loaded.documents == original.documents
    assert loaded.sentences == original.sentences
    assert loaded.chunks == original.chunks
    assert [c.chunk_id for c in loaded.chunks] == [1, 2, 21, 22, 41]
    assert np.array_equal(loaded.chunk_vectors, original.chunk_vectors)
    assert np.array_equal(loaded.sentence_vectors, original.sentence_vectors)
    assert loaded.row_of == original.row_of
    assert loaded.sentence_base == original.sentence_base
    written = {"files", "checksums"}  # filled in by the save
    assert loaded.manifest.model_dump(exclude=written) == original.manifest.model_dump(
        exclude=written)
    rows = len(original.chunks)
    probes = [*original.chunk_vectors, original.chunk_vectors.mean(axis=0)]
    for probe in probes:
        assert search_dense(loaded.dense, probe, 4) == search_dense(original.dense, probe, 4)
    for query in QUERIES:
        expected_scores = lexical_scores(original.lexical, query, rows)
        assert np.array_equal(lexical_scores(loaded.lexical, query, rows), expected_scores)


def test_loaded_search_finds_the_right_chunks(saved: Path) -> None:
    index = load_index(saved)
    rows = len(index.chunks)
    best = {
        q: index.chunks[int(np.argmax(lexical_scores(index.lexical, q, rows)))] for q in QUERIES
    }
    assert best["Serengeti"].chunk_id == 2
    assert best["Etna volcano"].doc_id == "volcano.html"
    assert best["penguins egg"].doc_id == "penguin.md"
    assert not lexical_scores(index.lexical, "xyzzy nothing", rows).any()
    for row, chunk in enumerate(index.chunks):
        assert index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
        (top, score), *_ = search_dense(index.dense, index.chunk_vectors[row], 1)
        assert top == chunk.chunk_id
        assert score == pytest.approx(1.0, abs=1e-5)


def test_layout_on_disk(saved: Path) -> None:
    link = current_folder(saved)
    assert link.is_symlink()
    assert os.readlink(link).startswith("builds" + os.sep)
    folder = link.resolve()
    assert sorted(p.name for p in (saved / "builds").iterdir()) == [folder.name]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT
    assert manifest["files"] == {name: (folder / name).stat().st_size for name in FILES}
    assert (folder / "bm25").is_dir()
    assert read_manifest(saved).chunk_size == 100


def test_saving_again_swaps_and_cleans_up(original: Index, copy: Path) -> None:
    before = os.readlink(current_folder(copy))
    folder = save_index(original, copy)
    assert os.readlink(current_folder(copy)) != before
    assert current_folder(copy).resolve() == folder.resolve()
    assert [p.name for p in (copy / "builds").iterdir()] == [folder.name]
    assert load_index(copy).chunks == original.chunks


@pytest.mark.parametrize(
    ("field", "value"),
    [("chunk_size", 200), ("chunk_overlap", 0), ("model_name", "other-model"), ("dimension", 768)],
)
def test_mismatch_says_to_rebuild(saved: Path, field: str, value: object) -> None:
    with pytest.raises(IndexMismatchError) as info:
        load_index(saved, expected(**{field: value}))
    message = str(info.value)
    assert "`rag index" in message
    assert "--rebuild" in message
    assert field in message


@pytest.mark.parametrize("name", [*FILES, "manifest.json"])
def test_truncated_file_is_corrupt(copy: Path, name: str) -> None:
    path = current_folder(copy).resolve() / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        load_index(copy, expected())


@pytest.mark.parametrize("name", ["dense.faiss", "chunk_vectors.npy"])
def test_garbage_of_the_right_size_is_corrupt(copy: Path, name: str) -> None:
    path = current_folder(copy).resolve() / name
    path.write_bytes(b"\x07" * path.stat().st_size)
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        load_index(copy)


@pytest.mark.parametrize("name", ["data.csc.index.npy", "vocab.index.json", "params.index.json"])
def test_damaged_bm25_file_is_corrupt(copy: Path, name: str) -> None:
    path = current_folder(copy).resolve() / "bm25" / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorruptError):
        load_index(copy)


def test_an_edit_that_keeps_the_size_is_caught_by_the_checksums(copy: Path) -> None:
    path = current_folder(copy).resolve() / "documents.jsonl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("two months", "six months"), encoding="utf-8")
    with pytest.raises(IndexCorruptError) as info:
        load_index(copy)
    assert str(info.value) == (
        f"The index file {path} was changed after the build (its checksum differs): rebuild "
        f"it with `rag index DOCS_DIR --index-dir {copy} --rebuild`.")


def test_the_manifest_holds_a_checksum_of_every_file(saved: Path) -> None:
    folder = current_folder(saved).resolve()
    sums = read_manifest(saved).checksums
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.name != "manifest.json")
    assert sorted(sums) == files and "bm25/vocab.index.json" in sums
    assert sums["chunks.jsonl"] == hashlib.sha256((folder / "chunks.jsonl").read_bytes()
                                                  ).hexdigest()


def test_a_killed_writers_partial_is_removed_by_the_next_build(original: Index,
                                                               copy: Path) -> None:
    junk = copy / "builds" / ".20260101T000000-1-1.partial"
    junk.mkdir()
    (junk / "chunk_vectors.npy").write_bytes(b"\0" * 1000)
    folder = save_index(original, copy)
    assert [p.name for p in (copy / "builds").iterdir()] == [folder.name]


def test_a_full_disk_is_one_clear_error_and_leaves_nothing(
    original: Index, copy: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = os.readlink(current_folder(copy))

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("rag.store.np.save", full)  # the disk fills up mid-build
    with pytest.raises(IndexWriteError) as info:
        save_index(original, copy)
    assert str(info.value) == (
        f"No space left on the disk of {copy}/ while writing the index: free some space and "
        "run the build again. The previous index still serves.")
    assert os.readlink(current_folder(copy)) == before
    assert [p.name for p in (copy / "builds").iterdir()] == [Path(before).name]
    assert load_index(copy).chunks == original.chunks


def test_a_second_writer_waits_or_is_told(tmp_path: Path) -> None:
    refusals: list[str] = []

    def second() -> None:
        try:
            with write_lock(tmp_path, wait=False):
                pass
        except IndexBusyError as exc:
            refusals.append(str(exc))

    with write_lock(tmp_path):
        with write_lock(tmp_path, wait=False):  # the holder's own thread may nest
            pass
        other = threading.Thread(target=second)
        other.start()
        other.join()
    assert refusals == [f"Another build is writing the index in {tmp_path}/: try again when "
                        "it ends."]
    second()  # released: free again
    assert len(refusals) == 1


def test_threads_saving_at_once_take_turns(original: Index, tmp_path: Path) -> None:
    """Before the lock, two threads saving at once raised and left `current` pointing at a
    deleted build in most rounds."""
    errors: list[BaseException] = []

    def save() -> None:
        try:
            for _ in range(5):
                save_index(original, tmp_path / "index")
        except BaseException as exc:  # noqa: BLE001 - any failure is what is counted
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert load_index(tmp_path / "index").chunks == original.chunks
    assert len(list((tmp_path / "index" / "builds").iterdir())) == 1


def test_a_killed_writer_does_not_hold_the_lock(tmp_path: Path) -> None:
    script = ("import sys, time\nfrom pathlib import Path\nfrom rag.store import write_lock\n"
              "with write_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n"
              "    time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "held\n"
        with pytest.raises(IndexBusyError), write_lock(tmp_path, wait=False):
            pass
        writer.kill()  # kill -9: no chance to release anything
        writer.wait(timeout=10)
        with write_lock(tmp_path, wait=False):
            pass
    finally:
        writer.kill()


def test_missing_file_is_corrupt(copy: Path) -> None:
    (current_folder(copy).resolve() / "chunks.jsonl").unlink()
    with pytest.raises(IndexCorruptError, match="missing or truncated"):
        load_index(copy)


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError) as info:
        load_index(tmp_path / "nowhere", expected())
    assert "`rag index" in str(info.value)


def test_empty_index_round_trips(encoder: Encoder, tmp_path: Path) -> None:
    empty = make_index(encoder, {})
    save_index(empty, tmp_path / "index")
    loaded = load_index(tmp_path / "index", expected())
    assert loaded.chunks == [] and loaded.documents == {}
    assert loaded.dense.ntotal == 0
    assert search_dense(loaded.dense, np.ones(384, dtype=np.float32), 3) == []
    assert lexical_scores(loaded.lexical, "zebras", 0).shape == (0,)


def test_stopword_only_chunks_round_trip(encoder: Encoder, tmp_path: Path) -> None:
    index = make_index(encoder, {"it.txt": "It is to be, or not."})
    save_index(index, tmp_path / "index")
    loaded = load_index(tmp_path / "index")
    assert [c.text for c in loaded.chunks] == ["It is to be, or not."]
    assert not lexical_scores(loaded.lexical, "to be or not", 1).any()
