"""Read txt, md, html and pdf files into Documents; broken files are reported, not fatal."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.records import Document

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file that was not indexed, and why."""

    doc_id: str
    reason: str


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def list_files(docs_dir: Path) -> Iterator[tuple[str, Path]]:
    """Every file under `docs_dir` as (doc_id, path); doc_id is the posix relative path."""
    for path in sorted(docs_dir.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(docs_dir).parts):
            yield path.relative_to(docs_dir).as_posix(), path


def load_document(doc_id: str, path: Path, sha256: str | None = None) -> Document:
    """Load one file; raises DocumentError with the reason when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(doc_id, f"unsupported file type {suffix or '(none)'!r}; "
                                    f"supported: {', '.join(SUFFIXES)}")
    data = path.read_bytes()
    digest = sha256 or hashlib.sha256(data).hexdigest()
    page_starts: tuple[int, ...] = ()
    if suffix == ".pdf":
        text, page_starts = _pdf_text(doc_id, data)
        title = path.stem
    else:
        raw = _decode(doc_id, data)
        if suffix in (".html", ".htm"):
            text, title = _html_text(raw)
            title = title or path.stem
        else:
            text = raw
            title = _markdown_title(raw) if suffix in (".md", ".markdown") else path.stem
    if not text.strip():
        raise DocumentError(doc_id, "empty: no text to index")
    return Document(doc_id=doc_id, title=title, text=text, sha256=digest, page_starts=page_starts)


def _decode(doc_id: str, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise DocumentError(doc_id, "binary content in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(doc_id, f"not valid UTF-8 ({exc.reason} at byte {exc.start}); "
                                    "re-save the file as UTF-8") from exc


def _markdown_title(text: str) -> str:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    return match.group(1) if match else ""


# Elements that start a new line; text inside inline ones (a, b, em, span) stays in its line.
_BLOCKS = (
    "address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
)
_BREAK = "\ue000"  # a private-use character marks block edges while white space is collapsed


def _html_text(raw: str) -> tuple[str, str]:
    """Visible text of an HTML page (no script, style or head), and its <title>."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    for tag in soup(list(_BLOCKS)):
        tag.insert_before(_BREAK)
        tag.insert_after(_BREAK)
    for tag in soup("br"):
        tag.insert_after(_BREAK)
    # Line breaks in the source are layout, not text: only block edges and <br> end a line.
    text = re.sub(r"\s+", " ", soup.get_text())
    lines = (line.strip() for line in text.split(_BREAK))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), title


def _pdf_text(doc_id: str, data: bytes) -> tuple[str, tuple[int, ...]]:
    """Text of every page joined by blank lines, with the offset where each page starts."""
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many types on damaged files (NotImplementedError...)
        raise DocumentError(doc_id, f"unreadable pdf ({exc.__class__.__name__}: {exc})") from exc
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    return "\n\n".join(parts), tuple(starts)
