"""The `rag` command: a thin edge over the library; errors become one-line messages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.config import Settings
from rag.errors import RagError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.callback()
def main() -> None:
    """Offline extractive question answering with exact citations."""


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _fail(exc: RagError) -> typer.Exit:
    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


@app.command()
def index(
    docs_dir: Annotated[Path | None, typer.Argument(help="Folder of txt, md, html, pdf.")] = None,
    index_dir: Annotated[Path | None, typer.Option(help="Where the index lives.")] = None,
    rebuild: Annotated[bool, typer.Option(help="Re-embed everything.")] = False,
) -> None:
    """Build or update the index; only new or changed files are embedded."""
    from rag.embed import Encoder
    from rag.ingest import build_index

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    settings = _settings(docs_dir=docs_dir, index_dir=index_dir)
    try:
        report = build_index(
            settings, settings.docs_dir, settings.index_dir,
            lambda: Encoder(settings.model_path, settings.batch_size),
            rebuild=rebuild, progress=True,
        )
    except RagError as exc:
        raise _fail(exc) from exc
    for skipped in report.skipped:
        typer.secho(f"skipped {skipped.doc_id}: {skipped.reason}", err=True,
                    fg=typer.colors.YELLOW)
    if report.full_rebuild_reason:
        typer.echo(f"full rebuild: {report.full_rebuild_reason}", err=True)
    typer.echo(report.summary())
