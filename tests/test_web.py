"""The chat page (rag/web, served by rag/api/routes_web.py) in a real headless Chromium
against a real uvicorn server on 127.0.0.1 over the tiny API_DOCS corpus plus a document
that holds HTML and script as plain text.

The browser is Debian's /usr/bin/chromium (`make browser` installs it), driven by
Playwright's Python package; `playwright install` is never used (it downloads browsers).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_DOCS, index_corpus, run_server
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from rag.api import create_app
from rag.embed import Encoder
from rag.pipeline import Pipeline

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "rag" / "web"
# A document whose text is markup: the page must show it literally and never run it. The
# emoji before it is one code point for the server and two UTF-16 units for JavaScript.
PAYLOAD = '<script>window.__pwned=1</script> and <img src=x onerror="window.__pwned=2">'
NOTE = (f"Security note \N{SLIGHTLY SMILING FACE} for the web page. The sample payload {PAYLOAD} "
        "must show as plain text. The security note was written by Mallory Quinn.\n")
# A long document whose answer is at the very end: the link must scroll to it.
LEDGER = "".join(f"Ledger entry {i}: nothing of note happened on this day.\n"
                 for i in range(1, 151)) + "The lighthouse keeper's cat was named Biscuit.\n"
WEB_DOCS = {**API_DOCS, "security-note.txt": NOTE, "ledger.txt": LEDGER}

browser_test = pytest.mark.browser
expect.set_options(timeout=30_000)  # the first answer may wait for the model to warm up


# --- Fixtures: a corpus, two servers (open and keyed), one browser --------------------------

@pytest.fixture(scope="module")
def web_corpus(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder,
               ) -> tuple[Any, Pipeline]:
    return index_corpus(tmp_path_factory.mktemp("web"), WEB_DOCS, encoder)


@pytest.fixture(scope="module")
def url(web_corpus: tuple[Any, Pipeline]) -> Iterator[str]:
    settings, pipeline = web_corpus
    with run_server(create_app(settings, pipeline)) as base:
        yield base


@pytest.fixture(scope="module")
def keyed(web_corpus: tuple[Any, Pipeline]) -> Iterator[str]:
    settings, pipeline = web_corpus
    with run_server(create_app(settings.model_copy(update={"api_key": "s3cret"}),
                               pipeline)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the browser tests, never skip them
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab (own sessionStorage) that fails the test on any JavaScript error or
    anything the Content-Security-Policy had to block."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: errors.append(message.text)
           if "Content Security Policy" in message.text else None)
    tab.set_default_timeout(30_000)
    yield tab
    context.close()
    assert not errors, errors


def snapshot(page: Page, path: Path) -> None:
    """A picture of the whole conversation: the viewport grown to the page, so the sticky
    question box sits at the bottom instead of over the turns (as in a full_page capture)."""
    width = page.viewport_size["width"] if page.viewport_size else 1000
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("document.activeElement.blur()")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def ask(page: Page, question: str) -> Any:
    """Type `question`, press Enter, and return the locator of the answer turn it adds."""
    before = page.locator("article.turn.bot:not(.working)").count()
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    answer = page.locator("article.turn.bot:not(.working)").nth(before)
    expect(answer).to_be_visible()
    return answer


# --- Served files (no browser) --------------------------------------------------------------

def test_the_page_and_its_files_are_served_open_and_self_contained(url: str, keyed: str) -> None:
    for base in (url, keyed):  # the page holds no data: no key needed to load it
        page = httpx.get(f"{base}/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        script = httpx.get(f"{base}/static/app.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert httpx.get(f"{base}/static/style.css").headers["content-type"].startswith("text/css")
    missing = httpx.get(f"{url}/static/index.py")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"
    assert httpx.get(f"{url}/static/..%2Fapi%2Fapp.py").status_code == 404
    assert httpx.get(f"{keyed}/documents").status_code == 401  # the data stays guarded
    schema = httpx.get(f"{url}/openapi.json").json()
    assert "/" not in schema["paths"] and "/static/{name}" not in schema["paths"]
    assert httpx.get(f"{url}/docs").status_code == 200


def test_the_page_loads_nothing_from_outside() -> None:
    for name in ("index.html", "app.js", "style.css"):
        text = (WEB / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text), name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name


# --- In the browser ---------------------------------------------------------------------------

@browser_test
def test_an_answer_is_highlighted_in_its_sentence_and_links_to_the_source(
    page: Page, url: str, tmp_path: Path,
) -> None:
    page.goto(url)
    expect(page.locator("#question")).to_be_focused()
    expect(page.locator("#status")).to_have_text("5 documents indexed.")
    turn = ask(page, "When was the Eiffel Tower completed?")
    expect(turn.locator(".answer strong")).to_have_text("1889")
    expect(turn.locator(":scope > .answer .confidence")).to_have_text(
        re.compile(r"^(high|medium|low) \(\d\.\d\d\)$"))
    expect(turn.locator(":scope > figure blockquote.cited")).to_have_text(
        "The Eiffel Tower was completed in 1889.")
    expect(turn.locator(":scope > figure blockquote.cited mark")).to_have_text("1889")
    expect(turn.locator(".searched")).to_have_count(0)  # a first question is searched as asked
    expect(page.locator("#question")).to_be_focused()  # ready for the follow-up
    # Alternatives and passages are one click away, collapsed.
    details = turn.locator("details")
    expect(details.last.locator("summary")).to_have_text("Retrieved passages (5)")
    assert not any(details.evaluate_all("all => all.map(d => d.open)"))
    expect(turn.locator("details ol.passages li").first).to_be_hidden()
    turn.locator("summary", has_text="Retrieved passages").click()
    expect(turn.locator("details ol.passages li").first).to_be_visible()
    snapshot(page, tmp_path / "chat.png")
    print(f"screenshot: {tmp_path / 'chat.png'}")

    link = turn.locator(":scope > figure figcaption a.source")
    expect(link).to_have_text("eiffel.txt")
    link.click()
    view = page.locator("#doc-view")
    expect(view).to_be_visible()
    expect(page.locator("#doc-mark")).to_have_text("1889")
    expect(page.locator("#doc-mark")).to_be_in_viewport()
    expect(page.locator("#doc-text")).to_have_text(API_DOCS["eiffel.txt"])
    before = page.locator("#doc-text").evaluate("t => t.firstChild.textContent")
    assert before == API_DOCS["eiffel.txt"][:101]
    page.keyboard.press("Escape")
    expect(view).to_be_hidden()


@browser_test
@pytest.mark.parametrize(("path", "shown"), [
    ("/docs", ".swagger-ui .opblock-summary-path[data-path='/ask']"),
    ("/redoc", "[data-section-id^='tag/answers']"),
])
def test_the_api_docs_render_with_the_network_blocked(page: Page, url: str, path: str,
                                                      shown: str) -> None:
    outside: list[str] = []

    def only_ours(route: Route) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            outside.append(f"{route.request.resource_type} {route.request.url}")
            route.abort()

    page.route("**/*", only_ours)
    page.goto(f"{url}{path}")
    expect(page.locator(shown).first).to_be_visible()
    # Only ReDoc's "powered by" logo is asked of a CDN; blocked, nothing else is missing.
    assert [o for o in outside if o != "image https://cdn.redoc.ly/redoc/logo-mini.svg"] == []


def test_the_source_link_scrolls_a_long_document_to_the_span(page: Page, url: str) -> None:
    page.goto(url)
    turn = ask(page, "What was the lighthouse keeper's cat named?")
    expect(turn.locator(":scope > figure blockquote.cited mark")).to_contain_text("Biscuit")
    turn.locator(":scope > figure figcaption a.source").click()
    mark = page.locator("#doc-mark")
    expect(mark).to_contain_text("Biscuit")
    expect(mark).to_be_in_viewport()
    assert page.locator("#doc-text").evaluate("t => t.scrollTop") > 1000
    expect(page.locator("#doc-text")).to_be_focused()  # arrow keys and Page Up scroll it


@browser_test
def test_a_follow_up_shows_the_standalone_question_it_searched(page: Page, url: str) -> None:
    page.goto(url)
    first = ask(page, "When did the Golden Gate Bridge open?")
    expect(first.locator(".answer strong")).to_have_text("1937")
    follow = ask(page, "Who was its chief engineer?")
    # The page sent the conversation: the server completed the question from it.
    expected = httpx.post(f"{url}/chat", json={"messages": [
        {"role": "user", "content": "When did the Golden Gate Bridge open?"},
        {"role": "assistant", "content": "1937"},
        {"role": "user", "content": "Who was its chief engineer?"}]}).json()
    assert "Golden Gate" in expected["standalone_question"]
    expect(follow.locator(".searched q")).to_have_text(expected["standalone_question"])
    expect(page.locator("article.turn.user")).to_have_text(
        ["When did the Golden Gate Bridge open?", "Who was its chief engineer?"])


@browser_test
def test_an_abstention_says_so_and_lists_the_closest_passages(page: Page, url: str) -> None:
    page.goto(url)
    turn = ask(page, "What is the capital of Peru?")
    expect(turn.locator(".answer")).to_have_text("The documents do not say.")
    expect(turn.locator(":scope > .answer .confidence")).to_have_count(0)
    passages = turn.locator(":scope > ol.passages > li")
    expect(passages).to_have_count(3)
    expect(passages.first).to_be_visible()
    expect(passages.first.locator("a.source")).to_have_attribute("href", re.compile("^#doc="))


@browser_test
def test_markup_in_a_document_renders_as_text_and_never_runs(page: Page, url: str) -> None:
    page.goto(url)
    turn = ask(page, "Who wrote the security note?")
    expect(turn.locator(".answer strong")).to_have_text("Mallory Quinn")
    # The passage around the answer holds the payload: it must show as text.
    turn.locator("summary", has_text="Retrieved passages").click()
    expect(turn.locator("blockquote.passage", has_text=PAYLOAD)).to_be_visible()
    assert page.locator("#log script, #log img").count() == 0
    # The document view, opened as from a link in a new tab: the span [start, end) is in code
    # points, so the emoji before it must not shift the highlight.
    start = NOTE.index("The sample payload")
    end = NOTE.index("plain text.") + len("plain text.")
    page.goto(f"{url}/#doc=security-note.txt&start={start}&end={end}")
    expect(page.locator("#doc-mark")).to_have_text(NOTE[start:end])
    expect(page.locator("#doc-text")).to_have_text(NOTE)
    assert page.locator("#doc-text script, #doc-text img").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.locator("#doc-close").click()
    expect(page.locator("#doc-view")).to_be_hidden()
    assert page.evaluate("location.hash") == ""


@browser_test
def test_errors_are_shown_in_the_conversation(page: Page, url: str,
                                              web_corpus: tuple[Any, Pipeline]) -> None:
    page.goto(url)
    held: list[Route] = []  # the request is held: the page must show that it is working
    page.route("**/chat", lambda route: held.append(route))
    page.locator("#question").fill("When was the Eiffel Tower completed?")
    page.locator("#question").press("Enter")
    working = page.locator("article.working")
    expect(working).to_contain_text("Searching the documents")
    expect(working).to_contain_text(re.compile(r"Still working… \d+ s"))
    expect(page.locator("#send")).to_be_disabled()
    held[0].fulfill(status=422, json={"error": {
        "type": "invalid_request", "message": "messages.0.content: must not be blank",
        "param": "messages.0.content", "request_id": "r1"}})
    error = page.locator("article.turn.error")
    expect(error).to_contain_text(
        "Error 422 (invalid_request): messages.0.content: must not be blank")
    expect(working).to_have_count(0)
    page.unroute("**/chat")
    error.get_by_role("button", name="Ask again").click()
    expect(page.locator("article.turn.bot .answer strong")).to_have_text("1889")

    # A real 404 from the server, in the document view.
    page.goto(f"{url}/#doc=gone.txt&start=0&end=4")
    expect(page.locator("#doc-status")).to_contain_text("No document 'gone.txt'")
    page.keyboard.press("Escape")

    # The server goes away between loading the page and asking.
    settings, pipeline = web_corpus
    with run_server(create_app(settings, pipeline)) as short_lived:
        page.goto(short_lived)
        expect(page.locator("#status")).to_have_text("5 documents indexed.")
    ask(page, "When was the Eiffel Tower completed?")
    expect(page.locator("article.turn.error").last).to_contain_text("Server unreachable")


@browser_test
def test_the_api_key_is_asked_once_and_kept_for_the_session(page: Page, keyed: str) -> None:
    page.goto(keyed)
    page.locator("#question").fill("When was the Eiffel Tower completed?")
    page.locator("#question").press("Enter")
    expect(page.locator("#key-form")).to_be_visible()
    expect(page.locator("#key-input")).to_be_focused()
    page.locator("#key-input").fill("wrong")
    page.locator("#key-input").press("Enter")
    expect(page.locator("#key-label")).to_have_text(
        "The server refused that API key: type it again.")
    page.locator("#key-input").fill("s3cret")
    page.locator("#key-input").press("Enter")
    expect(page.locator("#key-form")).to_be_hidden()
    expect(page.locator("article.turn.bot .answer strong")).to_have_text("1889")
    assert page.evaluate("sessionStorage.getItem('rag.apiKey')") == "s3cret"
    page.reload()  # same tab, same session: no second prompt
    turn = ask(page, "When did the Golden Gate Bridge open?")
    expect(turn.locator(".answer strong")).to_have_text("1937")
    expect(page.locator("#key-form")).to_be_hidden()
    turn.locator(":scope > figure figcaption a.source").click()
    expect(page.locator("#doc-mark")).to_have_text("1937")


@browser_test
def test_a_narrow_screen_and_the_keyboard_alone(browser: Browser, url: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(url)
        page.keyboard.type("When was the Eiffel Tower completed?")
        page.keyboard.press("Enter")
        turn = page.locator("article.turn.bot").first
        expect(turn.locator(".answer strong")).to_have_text("1889")
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{overflow}px wider than the screen"
        # Shift+Tab from the question box back into the answer: the link opens with Enter.
        link = turn.locator(":scope > figure figcaption a.source")
        expect(page.locator("#question")).to_be_focused()
        for _ in range(6):
            page.keyboard.press("Shift+Tab")
            if link.evaluate("a => a === document.activeElement"):
                break
        expect(link).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#doc-mark")).to_be_in_viewport()
        box = page.locator("#doc-view").bounding_box()
        assert box is not None and box["width"] <= 360
        page.keyboard.press("Escape")
        expect(page.locator("#doc-view")).to_be_hidden()
        expect(link).to_be_focused()  # focus returns where it was
    finally:
        context.close()


# --- The committed screenshot: a real `rag serve` over docs/ ---------------------------------

SCREENSHOT = ROOT / "eval" / "screenshots" / "chat.png"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@browser_test
def test_screenshot_of_rag_serve_over_the_default_corpus(browser: Browser,
                                                         tmp_path: Path) -> None:
    """`make screenshot`: writes eval/screenshots/chat.png (the README's picture)."""
    port = free_port()
    rag = shutil.which("rag", path=str(Path(sys.executable).parent)) or "rag"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    server = subprocess.Popen(
        [rag, "serve", "--host", "127.0.0.1", "--port", str(port), "--docs", str(ROOT / "docs"),
         "--index-dir", str(tmp_path / "index")], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, "rag serve exited"
            assert time.monotonic() < deadline, "rag serve did not become ready"
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        context = browser.new_context(viewport={"width": 900, "height": 1000})
        page = context.new_page()
        page.goto(base)
        first = ask(page, "How many people were killed in Algiers on December 11, 2007?")
        expect(first.locator(":scope > figure blockquote.cited mark")).to_be_visible()
        follow = ask(page, "And how many were wounded?")
        expect(follow.locator(".searched")).to_be_visible()
        snapshot(page, SCREENSHOT)
        follow.locator(":scope > figure figcaption a.source").click()
        expect(page.locator("#doc-mark")).to_have_text("more than 170")
        expect(page.locator("#doc-mark")).to_be_in_viewport()
        context.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
