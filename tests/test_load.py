"""Loading txt, md, html, pdf and docx into Documents; unreadable files raise DocumentError."""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write_pdf

from rag.errors import DocumentError
from rag.load import check_inside, list_files, load_document
from rag.records import Span
from rag.sentences import split_sentences

HTML = """<!DOCTYPE html>
<html><head><title>Volcanoes of Italy</title>
<style>body { color: red; } .secret-style { display: none; }</style>
<script>var secretScript = "do not index";</script></head>
<body>
  <h1>Mount Etna</h1>
  <p>Etna is an <b>active</b> volcano
     in <a href="#sicily">Sicily</a>.</p>
  <script>console.log("inline secret");</script>
  <ul><li>Height: 3,357 m</li><li>Last eruption: 2024</li></ul>
  <p>Lava line one<br>lava line two</p>
  <!-- a comment nobody sees -->
  <noscript>enable javascript</noscript>
</body></html>
"""


def test_txt_is_read_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "zebra.txt"
    text = "Zebras live in Kenya.\r\nTheir stripes confuse flies.\n"
    path.write_bytes(text.encode("utf-8"))
    doc = load_document("zebra.txt", path)
    assert doc.doc_id == "zebra.txt"
    assert doc.title == "zebra"
    assert doc.text == text
    assert doc.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert doc.page_starts == ()
    assert doc.page_at(5) is None


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfCaf\xc3\xa9 au lait.")
    assert load_document("bom.txt", path).text == "Café au lait."


def test_markdown_title_is_the_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "penguin.md"
    text = "Some intro line.\n\n# Emperor Penguins #\n\nThey breed in winter.\n\n## Diet\n"
    path.write_text(text, encoding="utf-8")
    doc = load_document("penguin.md", path)
    assert doc.title == "Emperor Penguins"
    assert doc.text == text


def test_markdown_without_heading_has_empty_title(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("No heading here.\n", encoding="utf-8")
    assert load_document("notes.md", path).title == ""


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    path = tmp_path / "volcano.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load_document("volcano.html", path)
    assert doc.title == "Volcanoes of Italy"
    assert doc.text == (
        "Mount Etna\n\nEtna is an active volcano in Sicily.\n\nHeight: 3,357 m\n\n"
        "Last eruption: 2024\n\nLava line one\nlava line two"
    )
    for hidden in ("secret", "color", "console", "comment", "javascript", "Volcanoes of Italy"):
        assert hidden not in doc.text


def test_html_without_title_uses_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<p>Just a paragraph.</p>", encoding="utf-8")
    doc = load_document("page.htm", path)
    assert (doc.title, doc.text) == ("page", "Just a paragraph.")


def test_pdf_text_and_pages(tmp_path: Path) -> None:
    path = tmp_path / "glacier.pdf"
    write_pdf(path, ["Glaciers carve valleys.\nThey move slowly.", "Meltwater feeds rivers."])
    doc = load_document("glacier.pdf", path)
    assert doc.title == "glacier"
    assert doc.text == "Glaciers carve valleys.\nThey move slowly.\n\f\nMeltwater feeds rivers."
    assert doc.page_starts == (0, 44)
    assert doc.page_at(0) == 1
    assert doc.page_at(doc.text.index("slowly")) == 1
    assert doc.page_at(doc.text.index("Meltwater")) == 2
    assert doc.page_at(len(doc.text) - 1) == 2


@pytest.mark.parametrize("content", [b"", b"   \n\n\t  \n"])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DocumentError) as info:
        load_document("empty.txt", path)
    assert info.value.doc_id == "empty.txt"
    assert info.value.reason.startswith("empty")


WALL = [
    "The Great Wall was built over many centuries by several dynasties.\n"
    "A survey in 2012 by the State Administration of Cultural Heritage\n"
    "measured the whole wall, with all of its branches and its sections, at\n"
    "Great Wall report - page 1",
    "21,196 kilometres from end to end.\nIt is not visible from the Moon.\n"
    "Great Wall report - page 2",
]


def test_a_pdf_sentence_goes_on_over_a_line_and_a_page_break(tmp_path: Path) -> None:
    path = tmp_path / "wall.pdf"
    write_pdf(path, WALL)
    doc = load_document("wall.pdf", path)
    page_one = WALL[0].rsplit("\n", 1)[0]  # the running footer is left out
    assert doc.text == page_one + "\n\f\n" + WALL[1].rsplit("\n", 1)[0]
    assert doc.page_starts == (0, 206)
    spans = split_sentences(doc.text)
    assert spans == [Span(0, 66), Span(67, 240), Span(241, 273)]
    assert doc.text[67:240] == (
        "A survey in 2012 by the State Administration of Cultural Heritage\n"
        "measured the whole wall, with all of its branches and its sections, at\n\f\n"
        "21,196 kilometres from end to end.")
    assert (doc.page_at(67), doc.page_at(239)) == (1, 2)


def test_a_pdf_without_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.pdf"
    write_pdf(path, [""])
    with pytest.raises(DocumentError) as info:
        load_document("blank.pdf", path)
    assert info.value.reason == ("no text layer in its 1 page (a scan?): OCR it first, e.g. "
                                 "with ocrmypdf, then index the result")


def test_a_scanned_pdf_says_to_ocr_it(tmp_path: Path) -> None:
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    scan = tmp_path / "scan.png"
    image = Image.new("L", (400, 120), 255)
    ImageDraw.Draw(image).text((10, 50), "Glaciers carve valleys.", fill=0)
    image.save(scan)
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(str(scan), x=10, y=10, w=150)
    pdf.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(DocumentError) as info:
        load_document("scan.pdf", tmp_path / "scan.pdf")
    assert info.value.reason == ("no text layer in its 2 pages (a scan?): OCR it first, e.g. "
                                 "with ocrmypdf, then index the result")


def test_pypdf_complaints_name_the_file_once(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    good = tmp_path / "good.pdf"
    write_pdf(good, ["Glaciers carve valleys."])
    path = tmp_path / "odd.pdf"
    path.write_bytes(b"junk before the header\n" + good.read_bytes())
    with caplog.at_level(logging.WARNING):
        doc = load_document("odd.pdf", path)
    assert doc.text == "Glaciers carve valleys."
    assert [r.getMessage() for r in caplog.records] == [
        "odd.pdf: damaged pdf, read as far as it goes (invalid pdf header: b'junk '; "
        "incorrect startxref pointer(1); parsing for Object Streams)"]


def test_random_bytes_with_pdf_header_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    rng = random.Random(7)
    path.write_bytes(b"%PDF-1.7\n" + bytes(rng.getrandbits(8) for _ in range(4000)))
    with pytest.raises(DocumentError) as info:
        load_document("broken.pdf", path)
    assert info.value.doc_id == "broken.pdf"
    assert info.value.reason.startswith("unreadable pdf")


DAMAGES: list[Callable[[bytes], bytes]] = [
    lambda data: data[: len(data) // 2],  # a truncated download
    lambda data: data.replace(b"/FlateDecode", b"/FlateDecodX"),  # pypdf: NotImplementedError
]


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_pdf_is_an_error(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    good = tmp_path / "good.pdf"
    write_pdf(good, ["Some text on a page.", "More text."])
    path = tmp_path / "damaged.pdf"
    path.write_bytes(damage(good.read_bytes()))
    with pytest.raises(DocumentError, match="unreadable pdf|no text layer"):
        load_document("damaged.pdf", path)


def test_unsupported_suffix_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"PK\x03\x04 a spreadsheet")
    with pytest.raises(DocumentError) as info:
        load_document("report.xlsx", path)
    assert info.value.reason == ("unsupported file type '.xlsx'; supported: .txt, .md, "
                                 ".markdown, .html, .htm, .pdf, .docx")


def test_a_docx_reads_headings_lists_and_tables(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = ""
    document.add_heading("Bees", level=1)
    document.add_paragraph("Bees make honey from nectar. A hive holds one queen.")
    document.add_paragraph("Honey bees", style="List Bullet")
    document.add_paragraph("Bumblebees", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Kind", "Queens"), ("Honey bee", "1")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("Wax is made by workers")
    path = tmp_path / "bees.docx"
    document.save(str(path))
    doc = load_document("bees.docx", path)
    assert doc.title == "Bees"
    assert doc.text == ("Bees\n\nBees make honey from nectar. A hive holds one queen.\n\n"
                        "• Honey bees\n• Bumblebees\n\nKind | Queens\nHoney bee | 1\n\n"
                        "Wax is made by workers")
    assert [doc.text[s.start : s.end] for s in split_sentences(doc.text)] == [
        "Bees", "Bees make honey from nectar.", "A hive holds one queen.", "Honey bees",
        "Bumblebees", "Kind | Queens", "Honey bee | 1", "Wax is made by workers"]


def test_a_broken_docx_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04 not really a docx")
    with pytest.raises(DocumentError) as info:
        load_document("notes.docx", path)
    assert info.value.reason.startswith("unreadable docx (")
    assert info.value.reason.endswith("); open and save it again in Word")


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Not for the index.", encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "inside.txt").write_text("Fine.", encoding="utf-8")
    (docs / "link.txt").symlink_to(outside)
    (docs / "alias.txt").symlink_to(docs / "inside.txt")
    check_inside("alias.txt", docs / "alias.txt", docs)  # a link within the folder is fine
    with pytest.raises(DocumentError) as info:
        check_inside("link.txt", docs / "link.txt", docs)
    assert info.value.reason == ("a link to a file outside the documents folder: not "
                                 "indexed; copy the file into the folder to index it")


def test_non_utf8_text_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("café au lait".encode("latin-1"))
    with pytest.raises(DocumentError) as info:
        load_document("latin.txt", path)
    assert info.value.reason == (
        "not valid UTF-8 (invalid continuation byte at byte 3); re-save the file as UTF-8"
    )
    assert str(info.value).startswith("latin.txt: ")


def test_binary_content_in_a_text_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "blob.md"
    path.write_bytes(b"abc\x00\x01\x02")
    with pytest.raises(DocumentError, match="binary content"):
        load_document("blob.md", path)


def test_list_files_is_sorted_recursive_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ("b.txt", "a.md", "sub/c.html", ".hidden.txt", ".git/config"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [doc_id for doc_id, _ in list_files(tmp_path)] == ["a.md", "b.txt", "sub/c.html"]
    assert dict(list_files(tmp_path))["sub/c.html"] == tmp_path / "sub" / "c.html"
