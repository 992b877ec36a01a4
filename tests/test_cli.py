"""`rag index` through typer's CliRunner: exit codes and what people read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_rag_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)


def test_index_then_reindex(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zebra.txt").write_text("Zebras live in Kenya. Their stripes confuse flies.\n", "utf-8")
    args = ["index", str(docs), "--index-dir", str(tmp_path / "index")]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "documents: 1 added, 0 changed, 0 removed, 0 unchanged, 0 skipped; " in first.stdout
    assert "chunks: 1 embedded, 1 in index;" in first.stdout
    assert (tmp_path / "index" / "current" / "manifest.json").is_file()

    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n not a pdf at all")
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "documents: 0 added, 0 changed, 0 removed, 1 unchanged, 1 skipped; " in second.stdout
    assert "chunks: 0 embedded, 1 in index;" in second.stdout
    assert "skipped broken.pdf: unreadable pdf" in second.stderr
    assert second.output.count("broken.pdf") == 1  # named once, in our words


def test_an_empty_folder_is_an_error_that_says_why(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    result = runner.invoke(app, ["index", str(docs), "--index-dir", str(tmp_path / "index")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: Nothing was indexed: {docs} holds no files. Put documents there (.txt, .md, "
        ".markdown, .html, .htm, .pdf, .docx) and index again.\n")
    assert not (tmp_path / "index" / "current").exists()


def test_missing_docs_folder_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["index", str(tmp_path / "nope"), "--index-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: Documents folder {tmp_path / 'nope'} does not exist: pass an existing folder.\n"
    )
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_fold_readers_are_refused_where_they_cannot_apply(tmp_path: Path) -> None:
    own = runner.invoke(app, ["eval", "--fold-readers", str(tmp_path)])
    assert own.exit_code != 0
    assert "--fold-readers answers the SQuAD sets only, not own" in own.output
    both = runner.invoke(app, ["calibrate", "--reuse", "--fold-readers", str(tmp_path)])
    assert both.exit_code != 0
    assert "then calibrate with --reuse alone" in both.output
    missing = runner.invoke(app, ["eval", "--dataset", "squad2", "--fold-readers",
                                  str(tmp_path)])
    assert missing.exit_code == 1
    assert f"no reader.onnx in {tmp_path}" in missing.output
