"""The `rag` command: a thin edge over the library; errors become one-line messages."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from rag.config import Settings
from rag.errors import RagError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rag.cases import Case
    from rag.evaluate import Result
    from rag.pipeline import Pipeline
    from rag.reader.onnx_reader import Reader

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

FOLD_READERS = typer.Option(
    help="Exported fold readers, trained with `--squad2 ... --hold-out k` (repeatable; five "
         "for rag/folds.py's folds): each SQuAD question is answered by the one whose "
         "trained_on.json holds its article out, so a reader trained on the SQuAD 2.0 part "
         "is scored on questions of articles it did not train on.")


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
    docs_dir: Annotated[Path | None, typer.Argument(help="Folder of documents.")] = None,
    index_dir: Annotated[Path | None, typer.Option(help="Where the index lives.")] = None,
    rebuild: Annotated[bool, typer.Option(help="Re-embed everything.")] = False,
) -> None:
    """Build or update the index; only new or changed files are embedded."""
    from rag.embed import open_encoder
    from rag.ingest import build_index

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    settings = _settings(docs_dir=docs_dir, index_dir=index_dir)
    try:
        report = build_index(
            settings, settings.docs_dir, settings.index_dir,
            lambda: open_encoder(settings),
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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (RAG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (RAG_PORT).")] = None,
    docs: Annotated[Path | None, typer.Option(help="Documents folder (RAG_DOCS_DIR).")] = None,
    index_dir: Annotated[Path | None, typer.Option(help="Index folder (RAG_INDEX_DIR).")] = None,
) -> None:
    """Index new or changed documents, then serve the HTTP API (default 127.0.0.1:8000)."""
    from rag.serve import serve as run

    settings = _settings(host=host, port=port, docs_dir=docs, index_dir=index_dir)
    try:
        run(settings)
    except RagError as exc:
        raise _fail(exc) from exc


@app.command()
def mcp(
    index_dir: Annotated[Path | None, typer.Option(help="Index folder (RAG_INDEX_DIR).")] = None,
    transport: Annotated[Literal["stdio", "http"], typer.Option(
        help="stdio: the client starts this command; http: streamable HTTP at /mcp.")] = "stdio",
    host: Annotated[str, typer.Option(help="Address to bind with --transport http.")] = (
        "127.0.0.1"),
    port: Annotated[int, typer.Option(min=1, max=65535,
                                      help="Port to bind with --transport http.")] = 8765,
) -> None:
    """Serve the index to MCP clients: the tools ask, search and get_document."""
    # Its own defaults, not RAG_HOST/RAG_PORT: those are the HTTP API's, which may run beside.
    from rag.mcp_server import run

    settings = _settings(index_dir=index_dir)
    try:
        run(settings, transport, host, port)
    except RagError as exc:
        raise _fail(exc) from exc


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="Passages to return.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON record.")] = False,
    index_dir: Annotated[Path | None, typer.Option(help="Where the index lives.")] = None,
) -> None:
    """Answer one question from the index, with its cited source."""
    from rag.pipeline import Pipeline

    settings = _settings(index_dir=index_dir)
    try:
        answer = Pipeline.load(settings).ask(question, k=k)
    except RagError as exc:
        raise _fail(exc) from exc
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    from rag.show import render_answer

    typer.echo(render_answer(answer))


@app.command("eval")
def evaluate(
    cases: Annotated[list[Path] | None, typer.Argument(help="JSONL case files.")] = None,
    dataset: Annotated[str, typer.Option(
        help="own, everyday (eval/everyday/), squad (v1.1 open book) or squad2.")] = "own",
    limit: Annotated[int | None, typer.Option(help="Ask only the first N cases.")] = None,
    out: Annotated[Path | None, typer.Option(help="Report folder.")] = None,
    squad_dir: Annotated[Path, typer.Option(help="Folder of the SQuAD files.")] = Path(
        "../shared/benchmarks/squad"),
    fail_under: Annotated[list[str] | None, typer.Option(
        help="metric=value; exit 1 when the metric is lower (repeatable).")] = None,
    fold_readers: Annotated[list[Path] | None, FOLD_READERS] = None,
) -> None:
    """Run evaluation cases through the Pipeline; write JSON, Markdown and charts."""
    from rag.datasets import load_dataset
    from rag.embed import open_encoder
    from rag.pipeline import Pipeline
    from rag.report import run_stamp, write_report

    settings = _settings()
    floors = _floors(fail_under or [])
    try:
        folds = _open_folds(dataset, fold_readers)
        encoder = open_encoder(settings)
        data = load_dataset(dataset, settings, lambda: encoder,
                            cases or [Path("eval/aqim.jsonl")], Path("eval/results"), squad_dir,
                            progress=True)
        pipeline = Pipeline.load(data.settings, encoder=encoder)
    except RagError as exc:
        raise _fail(exc) from exc
    chosen = data.located({d: doc.text for d, doc in pipeline.index.documents.items()})
    chosen = chosen[:limit] if limit else chosen
    from tqdm import tqdm

    with tqdm(total=len(chosen), desc=f"asking {dataset}", unit="case") as bar:
        try:
            results = _answer(pipeline, chosen, folds,
                              progress=lambda _: bar.update())
        except RagError as exc:
            raise _fail(exc) from exc
    folder = out or Path("eval/results") / dataset
    scope = ", each article by the fold reader that did not train on it" if fold_readers else ""
    if dataset.startswith("squad") and not fold_readers and _in_sample(settings):
        scope = ", in-sample: the reader trained on these articles"
        typer.secho("note: this reader trained on the SQuAD 2.0 part's questions (see its "
                    "MODEL_CARD.md), so these scores are in-sample; pass --fold-readers for "
                    "held-out ones.", err=True, fg=typer.colors.YELLOW)
    summary = write_report(results, pipeline.calibration.threshold, folder,
                           f"Evaluation: {dataset} ({len(results)} cases{scope})",
                           run_stamp(data.settings, dataset, fold_readers))
    typer.echo((folder / "summary.md").read_text(encoding="utf-8"))
    typer.echo(f"written to {folder}/")
    failed = [f"{m} = {summary['all'].get(m)} < {v}" for m, v in floors.items()
              if (summary["all"].get(m) or 0.0) < v]
    if failed:
        typer.secho("below floor: " + "; ".join(failed), err=True, fg=typer.colors.RED)
        raise typer.Exit(code=1)


Folds = tuple[list["Reader"], list[frozenset[str]]]


def _answer(pipeline: Pipeline, cases: list[Case], folds: Folds | None,
            progress: Callable[[int], None] | None = None) -> list[Result]:
    """The cases run through the pipeline, or each through the fold reader that held its
    article out."""
    from rag.evaluate import run, run_folds

    if folds is None:
        return run(pipeline, cases, progress)
    return run_folds(pipeline, *folds, cases, progress)


def _open_folds(dataset: str, fold_readers: list[Path] | None) -> Folds | None:
    """The fold readers and their held-out articles, checked before any index is built."""
    if not fold_readers:
        return None
    if not dataset.startswith("squad"):
        raise typer.BadParameter(f"--fold-readers answers the SQuAD sets only, not {dataset}: "
                                 "use it with --dataset squad or squad2")
    from rag.evaluate import open_fold_readers

    return open_fold_readers(fold_readers)


def _in_sample(settings: Settings) -> bool:
    """Whether the reader in use trained on the SQuAD 2.0 part (whose answerable questions
    are also the SQuAD v1.1 set's)."""
    from rag.datasets import SQUAD_V2
    from rag.folds import read_trained_on
    from rag.reader.onnx_reader import MODEL_DIR

    folder = Path(settings.reader_path) if settings.reader_path else MODEL_DIR
    return SQUAD_V2 in read_trained_on(folder).files


def _floors(items: list[str]) -> dict[str, float]:
    floors = {}
    for item in items:
        metric, _, value = item.partition("=")
        try:
            floors[metric.strip()] = float(value)
        except ValueError as exc:
            raise typer.BadParameter(f"--fail-under takes metric=value, got {item!r}") from exc
    return floors


@app.command()
def bench(
    corpus: Annotated[list[str] | None, typer.Option(
        help="default, squad or synthetic-N (repeatable); default: all four sizes.")] = None,
    queries: Annotated[int, typer.Option(min=1, help="Questions per latency row.")] = 200,
    requests: Annotated[int, typer.Option(min=1, help="HTTP requests per concurrency.")] = 200,
    ingest: Annotated[int, typer.Option(min=1, help="Chunks each encoder embeds.")] = 256,
    repeats: Annotated[int, typer.Option(min=1, help="Cold starts of each kind.")] = 3,
    hnsw_threshold: Annotated[int, typer.Option(min=1, help="Chunks from which the "
                                                "synthetic corpora use HNSW.")] = 50_000,
    out: Annotated[Path, typer.Option(help="Folder for bench.md and bench.json.")] = Path(
        "eval/results/bench"),
) -> None:
    """Measure queries, HTTP, cold starts and ingestion against sentence-transformers on torch."""
    from dataclasses import replace

    from rag.bench import Options, machine, run_bench, table

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    options = Options(queries=queries, requests=requests, ingest=ingest, repeats=repeats,
                      hnsw_threshold=hnsw_threshold, work_dir=out)
    if corpus:
        options = replace(options, corpora=tuple(corpus))
    began = time.perf_counter()
    try:
        rows = run_bench(_settings(), options, lambda line: typer.echo(line, err=True))
    except RagError as exc:
        raise _fail(exc) from exc
    text = table(rows) + "\n\n" + machine()
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.md").write_text(text + "\n", encoding="utf-8")
    (out / "bench.json").write_text(json.dumps([r.as_dict() for r in rows], indent=2),
                                    encoding="utf-8")
    typer.echo(text)
    typer.echo(f"{time.perf_counter() - began:.0f} s; written to {out}/bench.md and bench.json",
               err=True)


@app.command()
def calibrate(
    squad_dir: Annotated[Path, typer.Option(help="Folder of the SQuAD files.")] = Path(
        "../shared/benchmarks/squad"),
    reuse: Annotated[bool, typer.Option(
        help="Fit on the saved results of the last `rag eval` (own, squad2) instead of "
             "asking again: their features depend on the calibration only through which "
             "windows were read (a second when the first answer's confidence is under 0.5), "
             "so after a new reader, eval and refit twice. Also prints SQuAD v1.1 as "
             "returned, cross-validated, when its results are saved.")] = False,
    fold_readers: Annotated[list[Path] | None, FOLD_READERS] = None,
) -> None:
    """Refit the confidence model and abstention threshold; writes rag/calibration.json."""
    from rag.datasets import load_dataset
    from rag.embed import open_encoder
    from rag.pipeline import Pipeline

    settings = _settings()
    if reuse and fold_readers:
        raise typer.BadParameter("--reuse fits on saved results, already read by whichever "
                                 "readers answered them: run `rag eval --dataset squad2 "
                                 "--fold-readers ...` first, then calibrate with --reuse alone")
    if reuse:
        results = {name: _saved_results(Path("eval/results") / name / "results.json")
                   for name in ("own", "squad2")}
        squad = Path("eval/results/squad/results.json")
        return _fit_and_report(results, _saved_results(squad) if squad.is_file() else None)
    if not fold_readers and _in_sample(settings):
        typer.secho("note: this reader trained on the SQuAD 2.0 part's questions, so a fit on "
                    "its own SQuAD 2.0 scores trusts it too much there; pass --fold-readers.",
                    err=True, fg=typer.colors.YELLOW)
    results = {}
    try:
        folds = _open_folds("squad2", fold_readers)
        encoder = open_encoder(settings)
        for name in ("own", "squad2"):
            data = load_dataset(name, settings, lambda: encoder, [Path("eval/aqim.jsonl")],
                                Path("eval/results"), squad_dir, progress=True)
            pipeline = Pipeline.load(data.settings, encoder=encoder)
            texts = {d: doc.text for d, doc in pipeline.index.documents.items()}
            results[name] = _answer(pipeline, data.located(texts),
                                    folds if name == "squad2" else None)
    except RagError as exc:
        raise _fail(exc) from exc
    _fit_and_report(results)


def _saved_results(path: Path) -> list[Any]:
    from rag.evaluate import Result

    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["cases"]
    except (OSError, ValueError, KeyError) as exc:
        raise typer.BadParameter(f"no evaluation results in {path}: run `rag eval` for that "
                                 "set first, or calibrate without --reuse") from exc
    return [Result(**row) for row in rows]


def _fit_and_report(results: dict[str, list[Any]], squad: list[Any] | None = None) -> None:
    from rag.abstain import save_calibration
    from rag.calibrate import cross_validate, describe, fit_calibration, returned_held_out

    calibration = fit_calibration(results, primary="own")
    save_calibration(calibration)
    typer.echo(describe(calibration))
    for name in results:
        held_out = cross_validate(results, primary="own", held=name)
        typer.echo(f"{name}, 5-fold cross-validated (mean of 5 shuffles): "
                   + ", ".join(f"{k} {v:.3f}" for k, v in held_out.items() if v is not None))
    if squad:  # the v1.1 questions are squad2's answerable ones: fold them by article too
        returned = returned_held_out(results, primary="own", squad=squad)
        typer.echo("squad (v1.1) as returned, articles cross-validated (mean of 5 shuffles): "
                   + ", ".join(f"{k} {v:.1f}" for k, v in returned.items()))
