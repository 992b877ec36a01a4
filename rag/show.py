"""Plain-text rendering of an Answer for people at a terminal."""

from __future__ import annotations

import typer

from rag.records import Answer


def render_answer(answer: Answer) -> str:
    """The answer, its confidence, and the cited sentence with the answer highlighted."""
    lines = []
    if answer.answer is None:
        lines.append(typer.style("The documents do not say.", bold=True)
                     + f"  (confidence {answer.confidence:.2f})")
        if answer.passages:
            lines.append("Closest passages:")
            for p in answer.passages[:3]:
                lines.append(f"  [{p.doc_id} {p.start}-{p.end}] {_clip(p.text)}")
        return "\n".join(lines)
    lines.append(typer.style(answer.answer, bold=True) + f"  (confidence {answer.confidence:.2f})")
    c = answer.citations[0]
    at = c.start - c.sentence_start
    marked = (c.sentence[:at] + typer.style(c.text, fg=typer.colors.YELLOW, bold=True)
              + c.sentence[at + len(c.text):])
    page = f", page {c.page}" if c.page else ""
    lines.append(f"Source: {c.doc_id}{page}, characters {c.start}-{c.end}")
    lines.append(f"  “{marked}”")
    for alt in answer.alternatives:
        lines.append(f"  also possible: {alt.answer[:80]} ({alt.confidence:.2f})")
    return "\n".join(lines)


def _clip(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
