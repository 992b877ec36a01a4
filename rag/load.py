"""Read txt, md, html, pdf and docx files into Documents; broken files are reported, not fatal."""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError
from rag.records import Document

log = logging.getLogger(__name__)

PAGE_BREAK = "\n\f\n"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file that was not indexed, and why."""

    doc_id: str
    reason: str


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks (a large file is never held whole)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def list_files(docs_dir: Path) -> Iterator[tuple[str, Path]]:
    """Every file under `docs_dir` as (doc_id, path); doc_id is the posix relative path."""
    for path in sorted(docs_dir.rglob("*")):
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(docs_dir).parts):
            yield path.relative_to(docs_dir).as_posix(), path


def check_inside(doc_id: str, path: Path, docs_dir: Path) -> None:
    """Raise DocumentError for a link that leads out of the documents folder: indexing it
    would publish a file nobody put in the folder."""
    target = path.resolve()
    if not target.is_relative_to(docs_dir.resolve()):
        raise DocumentError(doc_id, "a link to a file outside the documents folder: not "
                                    "indexed; copy the file into the folder to index it")


def load_document(doc_id: str, path: Path, sha256: str | None = None) -> Document:
    """Load one file; raises DocumentError with the reason when it cannot be used."""
    suffix = path.suffix.lower()
    read = READERS.get(suffix)
    if read is None:
        raise DocumentError(doc_id, f"unsupported file type {suffix or '(none)'!r}; "
                                    f"supported: {', '.join(SUFFIXES)}")
    data = path.read_bytes()
    digest = sha256 or hashlib.sha256(data).hexdigest()
    loaded = read(doc_id, data)
    if not loaded.text.strip():
        raise DocumentError(doc_id, "empty: no text to index")
    title = path.stem if loaded.title is None else loaded.title
    return Document(doc_id=doc_id, title=title, text=loaded.text,
                    sha256=digest, page_starts=loaded.page_starts)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A file's text, its title (None: the file name's stem), and where pdf pages start."""

    text: str
    title: str | None = None
    page_starts: tuple[int, ...] = ()


def _plain(doc_id: str, data: bytes) -> Loaded:
    return Loaded(_decode(doc_id, data))


def _markdown(doc_id: str, data: bytes) -> Loaded:
    raw = _decode(doc_id, data)
    return Loaded(raw, _markdown_title(raw))


def _html(doc_id: str, data: bytes) -> Loaded:
    text, title = _html_text(_decode(doc_id, data))
    return Loaded(text, title or None)


def _pdf(doc_id: str, data: bytes) -> Loaded:
    text, page_starts = _pdf_text(doc_id, data)
    return Loaded(text, None, page_starts)


def _docx(doc_id: str, data: bytes) -> Loaded:
    from rag.word import docx_text

    text, title = docx_text(doc_id, data)
    return Loaded(text, title or None)


# One entry a format: the next one is a reader function and a line here.
READERS: dict[str, Callable[[str, bytes], Loaded]] = {
    ".txt": _plain, ".md": _markdown, ".markdown": _markdown, ".html": _html, ".htm": _html,
    ".pdf": _pdf, ".docx": _docx,
}
SUFFIXES = tuple(READERS)


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
    """Text of every page, joined by a line break, a form feed and a line break (a sentence
    may go on over the page break), with the offset where each page starts."""
    import io

    from pypdf import PdfReader

    with _pdf_faults() as faults:
        try:
            reader = PdfReader(io.BytesIO(data))
            pages = [page.extract_text() or "" for page in reader.pages]
        except Exception as exc:  # pypdf raises many types on damaged files
            raise DocumentError(doc_id, f"unreadable pdf ({exc.__class__.__name__}: "
                                        f"{exc})") from exc
    if faults:
        log.warning("%s: damaged pdf, read as far as it goes (%s)", doc_id,
                    "; ".join(dict.fromkeys(faults)))
    if pages and not any(page.strip() for page in pages):
        count = f"{len(pages)} page" + ("s" if len(pages) > 1 else "")
        raise DocumentError(doc_id, f"no text layer in its {count} (a scan?): OCR it first, "
                                    "e.g. with ocrmypdf, then index the result")
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for page in _without_running_lines(pages):
        starts.append(offset)
        parts.append(page)
        offset += len(page) + len(PAGE_BREAK)
    return PAGE_BREAK.join(parts), tuple(starts)


def _without_running_lines(pages: list[str]) -> list[str]:
    """Pages without their running headers and footers: a first or last line that most
    pages share but for its numbers ("Report - page 3"), or a bare page number. Left in,
    they would stand inside a sentence that goes on over the page break."""
    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip())

    if len(pages) < 2:
        return pages
    edges = Counter(shape(line) for page in pages for line in _edge_lines(page))
    running = {e for e, n in edges.items() if e == "#" or (n > 1 and 2 * n >= len(pages))}
    out = []
    for page in pages:
        lines = page.split("\n")
        while lines and (not lines[0].strip() or shape(lines[0]) in running):
            lines.pop(0)
        while lines and (not lines[-1].strip() or shape(lines[-1]) in running):
            lines.pop()
        out.append("\n".join(lines))
    return out


def _edge_lines(page: str) -> list[str]:
    lines = [line for line in page.split("\n") if line.strip()]
    return lines[:1] + lines[-1:] if len(lines) > 1 else lines


@contextmanager
def _pdf_faults() -> Iterator[list[str]]:
    """pypdf's complaints about a file, gathered instead of printed without its name."""
    faults: list[str] = []

    class Gather(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            faults.append(record.getMessage())

    logger = logging.getLogger("pypdf")
    gather, propagate = Gather(), logger.propagate
    logger.addHandler(gather)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield faults
        faults.extend(str(w.message) for w in caught)
    finally:
        logger.removeHandler(gather)
        logger.propagate = propagate
