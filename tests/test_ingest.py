"""The builder: a real index of a tiny multi-format corpus, then incremental updates."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import write_pdf

import rag.store
from rag.chunk import make_splitter
from rag.config import Settings
from rag.dense import search_dense
from rag.embed import Encoder
from rag.errors import ConfigError, NothingIndexedError
from rag.index import Index, expected_manifest
from rag.ingest import BuildReport, build_index
from rag.lexical import lexical_scores
from rag.store import current_folder, load_index

ZEBRA = (
    "Zebras live in the grasslands of Kenya and Tanzania, grazing in large herds.\n\n"
    "Their black and white stripes confuse the biting flies that follow the herds.\n"
)
PENGUIN = (
    "# Emperor Penguins\n\n"
    "Emperor penguins breed during the long Antarctic winter on the sea ice.\n\n"
    "The males keep the single egg warm on their feet for about two months.\n"
)
VOLCANO = (
    "<html><head><title>Mount Etna</title><script>var hidden = 'lavascriptword';</script>"
    "</head><body><p>Mount Etna is an active volcano on the island of Sicily in Italy.</p>"
    "<p>Its eruptions are <b>frequent</b>, and lava flows often reach nearby villages.</p>"
    "</body></html>"
)
GLACIER = [
    "Glaciers carve deep valleys over thousands of years in the high Alps.",
    "Meltwater from glaciers feeds the great rivers of the plains below.",
]
GOOD = ["glacier.pdf", "penguin.md", "volcano.html", "zebra.txt"]
# (chunk_id, doc_id, start, end, page) of the first build with chunk_size=100, overlap=20.
CHUNKS = [
    (0, "glacier.pdf", 0, 69, 1),
    (1, "glacier.pdf", 72, 139, 2),
    (2, "penguin.md", 0, 91, None),
    (3, "penguin.md", 93, 163, None),
    (4, "volcano.html", 0, 65, None),
    (5, "volcano.html", 67, 138, None),
    (6, "zebra.txt", 0, 76, None),
    (7, "zebra.txt", 78, 155, None),
]
CORPUS = Path(__file__).resolve().parents[1] / "docs"


def write_corpus(folder: Path) -> None:
    """Four good files, one per format, plus a broken pdf and an unsupported file."""
    folder.mkdir(parents=True)
    (folder / "zebra.txt").write_text(ZEBRA, encoding="utf-8")
    (folder / "penguin.md").write_text(PENGUIN, encoding="utf-8")
    (folder / "volcano.html").write_text(VOLCANO, encoding="utf-8")
    write_pdf(folder / "glacier.pdf", GLACIER)
    rng = random.Random(3)
    noise = bytes(rng.getrandbits(8) for _ in range(999))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n" + noise)
    (folder / "notes.xlsx").write_bytes(b"PK\x03\x04")


def snapshot(root: Path) -> tuple[str, list[str]]:
    """What a build may change on disk: the `current` link and the build folders."""
    return os.readlink(current_folder(root)), sorted(os.listdir(root / "builds"))


def table(index: Index) -> list[tuple[int, str, int, int, int | None]]:
    return [(c.chunk_id, c.doc_id, c.start, c.end, c.page) for c in index.chunks]


def assert_offsets_hold(index: Index) -> None:
    assert index.dense.ntotal == len(index.chunks) == len(index.chunk_vectors)
    for chunk in index.chunks:
        document = index.documents[chunk.doc_id]
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.page == document.page_at(chunk.start)
        spans = index.sentences[chunk.doc_id]
        for j in chunk.sentence_ids:
            assert spans[j].start < chunk.end and spans[j].end > chunk.start


def bm25_hits(index: Index, query: str) -> list[int]:
    """Chunk ids with a positive BM25 score for `query`, best first."""
    scores = lexical_scores(index.lexical, query, len(index.chunks))
    order = np.argsort(-scores, kind="stable")
    return [index.chunks[row].chunk_id for row in order if scores[row] > 0]


def build_without_model(settings: Settings) -> BuildReport:
    """Build when nothing needs embedding; any call to the model fails the test."""

    def no_model() -> Encoder:
        raise AssertionError("nothing should be embedded")

    return build_index(settings, settings.docs_dir, settings.index_dir, no_model)


@pytest.fixture(scope="module")
def base(
    tmp_path_factory: pytest.TempPathFactory, encoder: Encoder
) -> tuple[Path, BuildReport]:
    """The corpus indexed once per module; tests work on copies of it."""
    root = tmp_path_factory.mktemp("base")
    write_corpus(root / "docs")
    settings = Settings(docs_dir=root / "docs", index_dir=root / "index", chunk_size=100,
                        chunk_overlap=20, index_type="flat", model_name="all-MiniLM-L6-v2")
    report = build_index(settings, settings.docs_dir, settings.index_dir, lambda: encoder)
    return root, report


@pytest.fixture
def work(
    base: tuple[Path, BuildReport], tmp_path: Path, make_settings: Callable[..., Settings]
) -> Settings:
    """Settings over a private copy of the base corpus and index."""
    shutil.copytree(base[0] / "docs", tmp_path / "docs")
    shutil.copytree(base[0] / "index", tmp_path / "index", symlinks=True)
    return make_settings(tmp_path / "docs", tmp_path / "index", chunk_size=100, chunk_overlap=20)


def load(settings: Settings) -> Index:
    return load_index(settings.index_dir, expected_manifest(settings))


def test_first_build_indexes_every_format(
    base: tuple[Path, BuildReport], work: Settings, encoder: Encoder
) -> None:
    report = base[1]
    assert report.added == GOOD
    assert (report.changed, report.removed, report.unchanged) == ([], [], [])
    assert [s.doc_id for s in report.skipped] == ["broken.pdf", "notes.xlsx"]
    assert report.skipped[0].reason.startswith("unreadable pdf")
    assert report.skipped[1].reason.startswith("unsupported file type '.xlsx'")
    assert (report.chunks_embedded, report.chunks_total) == (8, 8)
    assert report.full_rebuild_reason == ""
    assert report.summary().startswith(
        "documents: 4 added, 0 changed, 0 removed, 0 unchanged, 2 skipped; "
        "chunks: 8 embedded, 8 in index;"
    )
    index = load(work)
    assert table(index) == CHUNKS
    assert_offsets_hold(index)
    assert {d.doc_id: d.title for d in index.documents.values()} == {
        "glacier.pdf": "glacier", "penguin.md": "Emperor Penguins",
        "volcano.html": "Mount Etna", "zebra.txt": "zebra",
    }
    assert index.chunks[5].text == (
        "Its eruptions are frequent, and lava flows often reach nearby villages."
    )
    assert not any("lavascriptword" in d.text for d in index.documents.values())
    assert index.manifest.counts == {"documents": 4, "chunks": 8, "sentences": 9}
    assert len(index.sentence_vectors) == 9
    fresh = encoder.encode([c.text for c in index.chunks])
    assert np.allclose(index.chunk_vectors, fresh, atol=1e-4)


def test_both_searches_find_the_right_chunks(work: Settings) -> None:
    index = load(work)
    assert bm25_hits(index, "zebras herds")[:2] == [6, 7]
    assert bm25_hits(index, "meltwater rivers") == [1]
    assert index.chunks[index.row_of[1]].page == 2
    assert bm25_hits(index, "Etna")[0] == 4
    assert bm25_hits(index, "lavascriptword") == []
    for row, chunk in enumerate(index.chunks):
        assert search_dense(index.dense, index.chunk_vectors[row], 1)[0][0] == chunk.chunk_id


def test_unchanged_reindex_embeds_and_writes_nothing(work: Settings, encoder: Encoder) -> None:
    before = snapshot(work.index_dir)
    calls: list[int] = []

    def factory() -> Encoder:
        calls.append(1)
        return encoder

    report = build_index(work, work.docs_dir, work.index_dir, factory)
    assert report.unchanged == GOOD
    assert (report.added, report.changed, report.removed) == ([], [], [])
    assert (report.chunks_embedded, report.chunks_total) == (0, 8)
    assert calls == []
    assert snapshot(work.index_dir) == before
    assert report.index is not None and report.index.manifest == load(work).manifest


def test_editing_one_file_embeds_only_its_chunks(
    work: Settings, build: Callable[..., BuildReport]
) -> None:
    old = load(work)
    (work.docs_dir / "zebra.txt").write_text(
        ZEBRA + "\nA zebra foal can stand within an hour of birth, then walk with the herd.\n\n"
        "Lions and hyenas are the main predators of adult zebras on the savanna.\n",
        encoding="utf-8",
    )
    report = build(work)
    assert report.changed == ["zebra.txt"]
    assert report.unchanged == ["glacier.pdf", "penguin.md", "volcano.html"]
    new = load(work)
    zebra = [c for c in new.chunks if c.doc_id == "zebra.txt"]
    assert report.chunks_embedded == len(zebra) == 4
    assert [c.chunk_id for c in zebra] == [8, 9, 10, 11]
    assert report.chunks_total == len(new.chunks) == 10
    # The build hands over the index it wrote, the same as a reader of the disk gets.
    assert report.index is not None and report.index.manifest == new.manifest
    assert report.index.chunks == new.chunks
    assert np.array_equal(report.index.sentence_vectors, new.sentence_vectors)
    kept = [c for c in old.chunks if c.doc_id != "zebra.txt"]
    assert [c for c in new.chunks if c.doc_id != "zebra.txt"] == kept
    for chunk in kept:
        new_row, old_row = new.row_of[chunk.chunk_id], old.row_of[chunk.chunk_id]
        assert np.array_equal(new.chunk_vectors[new_row], old.chunk_vectors[old_row])
    assert_offsets_hold(new)
    assert bm25_hits(new, "hyenas predators") == [11]


def test_deleting_a_file_removes_it_everywhere(work: Settings) -> None:
    old = load(work)
    (work.docs_dir / "volcano.html").unlink()
    report = build_without_model(work)
    assert report.removed == ["volcano.html"]
    assert report.chunks_embedded == 0
    index = load(work)
    assert [c.chunk_id for c in index.chunks] == [0, 1, 2, 3, 6, 7]
    assert index.dense.ntotal == 6
    assert "volcano.html" not in index.documents
    assert bm25_hits(index, "Etna volcano Sicily") == []
    volcano = old.chunk_vectors[old.row_of[4]]
    assert {i for i, _ in search_dense(index.dense, volcano, 10)} == {0, 1, 2, 3, 6, 7}
    assert_offsets_hold(index)


def test_file_that_turns_corrupt_is_skipped_and_dropped(work: Settings) -> None:
    (work.docs_dir / "glacier.pdf").write_bytes(b"%PDF-1.4\n\x00\x01 garbage")
    report = build_without_model(work)
    assert [s.doc_id for s in report.skipped] == ["broken.pdf", "glacier.pdf", "notes.xlsx"]
    index = load(work)
    assert sorted(index.documents) == ["penguin.md", "volcano.html", "zebra.txt"]
    assert [c.chunk_id for c in index.chunks] == [2, 3, 4, 5, 6, 7]


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux /proc")
def test_a_link_to_an_unreadable_file_outside_is_skipped_not_fatal(work: Settings) -> None:
    (work.docs_dir / "locked.txt").symlink_to("/proc/self/mem")  # reading it fails with EIO
    report = build_without_model(work)
    assert [s.doc_id for s in report.skipped] == ["broken.pdf", "locked.txt", "notes.xlsx"]
    assert report.skipped[1].reason.startswith("a link to a file outside the documents folder")
    assert report.unchanged == GOOD


def test_removing_every_file_keeps_the_old_index_and_says_why(work: Settings) -> None:
    before = snapshot(work.index_dir)
    for path in work.docs_dir.iterdir():
        path.unlink()
    with pytest.raises(NothingIndexedError) as info:
        build_without_model(work)
    assert str(info.value) == (
        f"Nothing was indexed: {work.docs_dir} holds no files. Put documents there (.txt, .md, "
        ".markdown, .html, .htm, .pdf, .docx) and index again. The index built before stays "
        "as it was.")
    assert snapshot(work.index_dir) == before


def test_a_folder_of_only_broken_files_is_an_error(
    tmp_path: Path, encoder: Encoder, make_settings: Callable[..., Settings]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.xlsx").write_bytes(b"PK")
    (docs / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(NothingIndexedError) as info:
        build_index(make_settings(docs, tmp_path / "index"), docs, tmp_path / "index",
                    lambda: encoder)
    assert str(info.value) == (
        f"Nothing was indexed: all 2 files in {docs} were skipped (empty.txt: empty: no text to "
        "index; notes.xlsx: unsupported file type '.xlsx'; supported: .txt, .md, .markdown, "
        ".html, .htm, .pdf, .docx).")
    assert not (tmp_path / "index" / "current").exists()


def test_a_link_out_of_the_folder_is_skipped(work: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("The vault code is 4711.", encoding="utf-8")
    (work.docs_dir / "link.txt").symlink_to(secret)
    report = build_without_model(work)
    assert [s.doc_id for s in report.skipped] == ["broken.pdf", "link.txt", "notes.xlsx"]
    assert report.skipped[1].reason == (
        "a link to a file outside the documents folder: not indexed; copy the file into the "
        "folder to index it")
    assert "link.txt" not in load(work).documents


def test_killed_save_keeps_the_previous_index(
    work: Settings, build: Callable[..., BuildReport], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = load(work)
    before = snapshot(work.index_dir)
    (work.docs_dir / "penguin.md").write_text("# Penguins\n\nPenguins swim superbly.\n", "utf-8")

    def killed(*args: object) -> None:
        raise KeyboardInterrupt("killed while writing bm25/")

    with monkeypatch.context() as patch:
        patch.setattr(rag.store, "save_lexical", killed)
        with pytest.raises(KeyboardInterrupt):
            build(work)
    assert snapshot(work.index_dir)[0] == before[0]
    partial = [n for n in os.listdir(work.index_dir / "builds") if n.endswith(".partial")]
    assert partial == []  # a failed write cleans up after itself (a kill -9: the next build)
    survivor = load(work)
    assert survivor.chunks == old.chunks
    assert np.array_equal(survivor.chunk_vectors, old.chunk_vectors)
    for query in ("penguins egg", "zebras", "glaciers"):
        assert bm25_hits(survivor, query) == bm25_hits(old, query)
    probe = old.chunk_vectors.mean(axis=0)
    assert search_dense(survivor.dense, probe, 8) == search_dense(old.dense, probe, 8)

    report = build(work)  # the next build finishes the job
    assert report.changed == ["penguin.md"]
    link, folders = snapshot(work.index_dir)
    assert folders == [Path(link).name]
    assert bm25_hits(load(work), "superbly") == [8]


def test_failing_model_keeps_the_previous_index(work: Settings) -> None:
    old = load(work)
    before = snapshot(work.index_dir)
    (work.docs_dir / "zebra.txt").write_text("Zebras are striped horses.\n", encoding="utf-8")

    def broken() -> Encoder:
        raise ConfigError("model folder vanished")

    with pytest.raises(ConfigError):
        build_index(work, work.docs_dir, work.index_dir, broken)
    assert snapshot(work.index_dir) == before
    assert load(work).chunks == old.chunks


def test_other_chunking_forces_a_full_rebuild(
    work: Settings, make_settings: Callable[..., Settings], build: Callable[..., BuildReport]
) -> None:
    wider = make_settings(work.docs_dir, work.index_dir, chunk_size=200, chunk_overlap=20)
    report = build(wider)
    assert "chunk_size is 100, settings want 200" in report.full_rebuild_reason
    assert report.added == GOOD
    assert report.chunks_embedded == report.chunks_total == 4
    index = load(wider)
    assert [(c.chunk_id, c.doc_id) for c in index.chunks] == list(enumerate(GOOD))
    assert_offsets_hold(index)


def test_missing_docs_folder_is_a_config_error(
    tmp_path: Path, make_settings: Callable[..., Settings], build: Callable[..., BuildReport]
) -> None:
    settings = make_settings(tmp_path / "nope", tmp_path / "index")
    with pytest.raises(ConfigError, match="does not exist"):
        build(settings)
    assert not (tmp_path / "index" / "current").exists()


def test_default_corpus_offsets_hold(
    tmp_path: Path, make_settings: Callable[..., Settings], build: Callable[..., BuildReport]
) -> None:
    settings = make_settings(CORPUS, tmp_path / "index")
    report = build(settings)
    assert report.added == ["aqim-profile.txt"]
    index = load(settings)
    assert_offsets_hold(index)
    text = index.documents["aqim-profile.txt"].text
    assert text == (CORPUS / "aqim-profile.txt").read_text(encoding="utf-8")
    assert [c.text for c in index.chunks] == make_splitter(800, 120).split_text(text)
    assert report.chunks_embedded == len(index.chunks) > 5
    top = bm25_hits(index, "Droukdal")[0]
    assert "Droukdal" in index.chunks[index.row_of[top]].text
