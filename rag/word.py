"""The text of a Word document (.docx), in reading order, shaped for the sentence splitter.

python-docx reads the file. Paragraphs and headings become blocks apart (a blank line
between them, so a heading never runs into its text); list items become "• " lines; a
table becomes one line a row, its cells joined by " | ". The title is the document's own
(its properties, else its Title or first Heading 1 paragraph).
"""

from __future__ import annotations

import io

from rag.errors import DocumentError

BULLET = "• "
CELLS = " | "


def docx_text(doc_id: str, data: bytes) -> tuple[str, str]:
    """(text, title) of a .docx file; DocumentError when it is no readable Word document."""
    from docx import Document
    from docx.table import Table

    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # a zip that is no docx, a damaged part: python-docx raises many
        raise DocumentError(doc_id, f"unreadable docx ({exc.__class__.__name__}: {exc}); "
                                    "open and save it again in Word") from exc
    blocks: list[tuple[str, str]] = []  # (kind, text): kind "item" lines stay together
    title = document.core_properties.title or ""
    for part in document.iter_inner_content():
        if isinstance(part, Table):
            rows = [CELLS.join(_cells(row)) for row in part.rows]
            blocks.append(("table", "\n".join(r for r in rows if r.strip(" |"))))
            continue
        text = part.text.strip()
        if not text:
            continue
        style = part.style.name if part.style is not None else ""
        if _is_list_item(part, style):
            blocks.append(("item", BULLET + text))
        else:
            blocks.append(("text", text))
            if not title and (style == "Title" or style == "Heading 1"):
                title = text
    out = ""
    for i, (kind, text) in enumerate(blocks):
        if i:
            out += "\n" if kind == "item" and blocks[i - 1][0] == "item" else "\n\n"
        out += text
    return out, title


def _cells(row: object) -> list[str]:
    """A row's cell texts, a merged cell once (python-docx repeats it for each grid column)."""
    seen: list[object] = []
    texts = []
    for cell in row.cells:  # type: ignore[attr-defined]
        if any(cell._tc is other for other in seen):
            continue
        seen.append(cell._tc)
        texts.append(" ".join(cell.text.split()))
    return texts


def _is_list_item(paragraph: object, style: str) -> bool:
    properties = paragraph._p.pPr  # type: ignore[attr-defined]
    numbered = properties is not None and properties.numPr is not None
    return numbered or style.startswith("List")
