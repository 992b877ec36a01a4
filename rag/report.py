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


def write_report(results: Sequence[Result], threshold: float, out: Path,
                 title: str) -> dict[str, dict[str, Any]]:
    """Write results.json, summary.md, reliability.png and categories.png under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    summary = grouped(results, threshold)
    (out / "results.json").write_text(json.dumps(
        {"title": title, "summary": summary, "cases": [as_dict(r) for r in results]},
        indent=1, ensure_ascii=False), encoding="utf-8")
    (out / "summary.md").write_text(markdown(summary, title), encoding="utf-8")
    _charts(results, summary, out)
    return summary


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


def _charts(results: Sequence[Result], summary: dict[str, dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [i / 10 for i in range(11)]
    xs, ys, ns = [], [], []
    for lo, hi in zip(bins, bins[1:], strict=False):
        inside = [r for r in results
                  if lo <= r.confidence < hi or (hi == 1.0 and r.confidence == 1)]
        if inside:
            xs.append(sum(r.confidence for r in inside) / len(inside))
            ys.append(sum(r.guess_correct for r in inside) / len(inside))
            ns.append(len(inside))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.scatter(xs, ys, s=[20 + n for n in ns], label="cases per bin (size)")
    ax.plot(xs, ys)
    ax.set(xlabel="confidence", ylabel="share of best answers that are right",
           title="Reliability", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left")
    fig.savefig(out / "reliability.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    keys = [k for k in summary if k.startswith("category=")]
    values = [summary[k].get("answered_correct", summary[k].get("abstention", 0.0)) for k in keys]
    fig, ax = plt.subplots(figsize=(max(5, len(keys) * 0.6), 4))
    ax.bar([k.removeprefix("category=") for k in keys], values)
    ax.set(ylabel="correct (answered) or abstained (unanswerable)", ylim=(0, 1),
           title="Per category")
    ax.tick_params(axis="x", rotation=60)
    fig.savefig(out / "categories.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
