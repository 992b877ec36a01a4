"""Evaluation reports: per-case JSON, a Markdown summary, and PNG charts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.evaluate import Result, as_dict, summarize

GROUPS = ("kind", "category")


def grouped(results: Sequence[Result], threshold: float) -> dict[str, dict[str, Any]]:
    """Summaries for all cases, for each kind and each category, and for follow-ups."""
    out = {"all": summarize(results, threshold)}
    for attribute in GROUPS:
        for value in sorted({getattr(r, attribute) for r in results}):
            subset = [r for r in results if getattr(r, attribute) == value]
            out[f"{attribute}={value}"] = summarize(subset, threshold)
    return out


def write_report(results: Sequence[Result], threshold: float, out: Path, title: str,
                 stamp: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Write results.json, summary.md, reliability.png and categories.png under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    summary = grouped(results, threshold)
    stamp = stamp or {}
    (out / "results.json").write_text(json.dumps(
        {"title": title, "stamp": stamp, "summary": summary,
         "cases": [as_dict(r) for r in results]}, indent=1, ensure_ascii=False),
        encoding="utf-8")
    text = markdown(summary, title) + _stamp(stamp) + failures(results) + DEFINITIONS
    (out / "summary.md").write_text(text, encoding="utf-8")
    _charts(results, summary, threshold, out)
    return summary


def run_stamp(settings: Any, dataset: str,
              fold_readers: list[Path] | None = None) -> dict[str, str]:
    """What a result depends on: commit, reader (or fold readers), calibration, index
    settings, when."""
    import subprocess
    import time

    from rag.abstain import DEFAULT_PATH as CALIBRATION_PATH
    from rag.reader.onnx_reader import MODEL_DIR

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    reader = Path(settings.reader_path or MODEL_DIR) / "reader.onnx"
    where = settings.reader_path or "the packaged one"
    read_by = f"{where}, reader.onnx sha256 {_sha256(reader)[:12]}"
    if fold_readers:
        read_by = "fold readers " + ", ".join(
            f"{p} (reader.onnx sha256 {_sha256(p / 'reader.onnx')[:12]})" for p in fold_readers)
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " (with uncommitted changes)"
    return {"dataset": dataset, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": commit,
            "reader": read_by,
            "calibration": f"{CALIBRATION_PATH.name} sha256 {_sha256(CALIBRATION_PATH)[:12]}",
            "index": f"chunk_size {settings.chunk_size}, chunk_overlap "
                     f"{settings.chunk_overlap}, index_type {settings.index_type}, model "
                     f"{settings.model_name}, encoder {settings.encoder}"}


def _sha256(path: Path) -> str:
    from rag.load import file_sha256

    try:
        return file_sha256(path)
    except OSError:
        return "unreadable"


def _stamp(stamp: dict[str, str]) -> str:
    if not stamp:
        return ""
    return "\n## Run\n\n" + "".join(f"- {k}: {v}\n" for k, v in stamp.items())


FAILURES_SHOWN = 50


def failures(results: Sequence[Result]) -> str:
    """The cases that went wrong: a wrong or missing answer to an answerable question, or an
    answer to an unanswerable one. Most confident first: those are the ones that misled."""
    wrong = [r for r in results if (not r.correct if r.answerable else r.prediction is not None)]
    if not wrong:
        return "\n## Failures\n\nNone.\n"
    wrong.sort(key=lambda r: -r.confidence)
    lines = ["", f"## Failures ({len(wrong)} of {len(results)}, most confident first)", "",
             "| id | question | gold | answer | best guess | confidence | gold passage rank |",
             "|---|---|---|---|---|---|---|"]
    for r in wrong[:FAILURES_SHOWN]:
        gold = r.golds[0] if r.golds else "(unanswerable)"
        answer = "(abstained)" if r.prediction is None else r.prediction
        rank = "–" if not r.answerable else (str(r.rank) if r.rank else "not retrieved")
        lines.append(f"| {r.id} | {_md(r.question)} | {_md(gold)} | {_md(answer)} | "
                     f"{_md(r.best_guess or '')} | {r.confidence:.3f} | {rank} |")
    if len(wrong) > FAILURES_SHOWN:
        lines.append(f"\n{len(wrong) - FAILURES_SHOWN} more in results.json.")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """A table cell: one line, pipes escaped, at most 120 characters."""
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= 120 else flat[:117] + "..."


DEFINITIONS = """
## Definitions

- recall@k: share of answerable questions whose gold answer is in one of the top k
  passages; mrr: mean of 1/rank of the first such passage (0 when none).
- answered_correct: share of answerable questions whose returned answer contains a gold
  answer (after SQuAD normalisation: lower case, no punctuation or articles); an
  abstention counts as wrong. guess_contains_gold: the same for the best span, returned or
  not. exact_match, f1: SQuAD's, of the answer as returned (abstention = empty); guess_f1:
  of the best span.
- false_abstention: share of answerable questions abstained on; abstention: share of
  unanswerable questions abstained on.
- citation_ok: share of answers whose citation holds (`text[start:end] == answer`);
  citation_correct: share of answerable questions answered right from a gold passage.
- auroc: how well confidence ranks right best spans above wrong ones (0.5: chance);
  auroc_answerable: answerable questions above unanswerable ones.
- ece: expected calibration error over 10 bins of confidence (0: confidence = accuracy).
- threshold: the confidence under which the service abstains; precision: share right of
  what is answered at it; coverage: share of all questions answered at it.
"""


ROWS = ("cases", "recall@1", "recall@5", "recall@20", "mrr", "answered_correct",
        "guess_contains_gold", "exact_match", "f1", "guess_f1", "median_words",
        "false_abstention", "abstention", "citation_ok", "citation_correct", "auroc",
        "auroc_answerable", "ece", "threshold", "precision", "coverage")


def markdown(summary: dict[str, dict[str, Any]], title: str) -> str:
    """The headline table (all cases and each kind) and latency per stage."""
    columns = ["all"] + [k for k in summary if k.startswith("kind=")]
    lines = [f"# {title}", "", "| metric | " + " | ".join(columns) + " |",
             "|---|" + "---|" * len(columns)]
    for row in ROWS:
        if any(row in summary[c] for c in columns):
            lines.append(f"| {row} | " + " | ".join(_cell(summary[c].get(row)) for c in columns)
                         + " |")
    stages = sorted(k for k in summary["all"] if k.endswith("_ms_p50"))
    if stages:
        lines += ["", "| stage | p50 ms | p95 ms |", "|---|---|---|"]
        for key in stages:
            stage = key.removesuffix("_ms_p50")
            lines.append(f"| {stage} | {_cell(summary['all'][key])} | "
                         f"{_cell(summary['all'][f'{stage}_ms_p95'])} |")
    categories = [k for k in summary if k.startswith("category=")]
    if categories:
        lines += ["", "| category | cases | answered_correct | abstention |", "|---|---|---|---|"]
        for key in categories:
            s = summary[key]
            lines.append(f"| {key.removeprefix('category=')} | {s['cases']} | "
                         f"{_cell(s.get('answered_correct'))} | {_cell(s.get('abstention'))} |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _charts(results: Sequence[Result], summary: dict[str, dict[str, Any]], threshold: float,
            out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _reliability(plt, results, summary["all"], threshold, out / "reliability.png")
    _categories(plt, summary, out / "categories.png")


def _reliability(plt: Any, results: Sequence[Result], totals: dict[str, Any], threshold: float,
                 path: Path) -> None:
    """Confidence against the share of right best spans, per tenth, with each bin's count."""
    bins = [i / 10 for i in range(11)]
    xs, ys, ns = [], [], []
    for lo, hi in zip(bins, bins[1:], strict=False):
        inside = [r for r in results
                  if lo <= r.confidence < hi or (hi == 1.0 and r.confidence == 1)]
        if inside:
            xs.append(sum(r.confidence for r in inside) / len(inside))
            ys.append(sum(r.guess_correct for r in inside) / len(inside))
            ns.append(len(inside))
    fig, ax = plt.subplots(figsize=(6, 5.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.axvspan(0, threshold, color="#f2f2f2", label=f"abstains (confidence < {threshold:.2f})")
    ax.axvline(threshold, color="#c44", linewidth=1)
    ax.plot(xs, ys, color="#1f77b4", marker="o", label="best spans, per tenth of confidence")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(f"n={n}", (x, y), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8)
    ax.set(xlabel="confidence", ylabel="share of best spans that are right", xlim=(0, 1),
           ylim=(0, 1.05), title=f"Reliability: ECE {totals['ece']:.3f}, "
                                 f"{totals['cases']} cases")
    ax.legend(loc="upper left", fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _categories(plt: Any, summary: dict[str, dict[str, Any]], path: Path) -> None:
    """Per category, one bar: answered right (answerable ones) or abstained (unanswerable
    ones), told apart by colour, with the case count in the label."""
    keys = [k for k in summary if k.startswith("category=")]
    if not keys:
        return
    labels, values, colours = [], [], []
    for key in keys:
        s = summary[key]
        labels.append(f"{key.removeprefix('category=')} (n={s['cases']})")
        answerable = "answered_correct" in s
        values.append(s["answered_correct"] if answerable else s.get("abstention", 0.0))
        colours.append("#1f77b4" if answerable else "#ff7f0e")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(keys) + 1.8))
    ax.barh(labels, values, color=colours)
    for y, value in enumerate(values):
        ax.text(value + 0.01, y, f"{value:.0%}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1.1), xlabel="share of the category's cases", title="Per category")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ("#1f77b4", "#ff7f0e")]
    ax.legend(handles, ["answered right (answerable)", "abstained (unanswerable)"],
              loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
