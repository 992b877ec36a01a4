"""The HTTP API against a real uvicorn server on 127.0.0.1 over the tiny API_DOCS corpus."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import anyio
import httpx
import pytest
from conftest import API_DOCS, index_corpus, write_docs

from rag.api import create_app
from rag.embed import Encoder
from rag.pipeline import Pipeline

LiveServer = Callable[[Any], AbstractContextManager[str]]


@pytest.fixture(scope="module")
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as c:
        yield c


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The uniform error body of `response`, after checking its status and request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"type", "message", "param", "request_id"}
    assert error["message"] and error["request_id"] == response.headers["x-request-id"]
    return dict(error)


def test_ask_cites_exact_offsets_into_the_document_text(client: httpx.Client) -> None:
    answer = client.post("/ask", json={"question": "When was the Eiffel Tower completed?"}).json()
    assert answer["answer"] == "1889"
    assert answer["question"] == "When was the Eiffel Tower completed?"
    [citation] = answer["citations"]
    assert citation["doc_id"] == "eiffel.txt"
    text = client.get("/documents/eiffel.txt").json()["text"]
    assert text == API_DOCS["eiffel.txt"]
    assert text[citation["start"] : citation["end"]] == "1889"
    assert (citation["start"], citation["end"]) == (101, 105)
    sentence = text[citation["sentence_start"] : citation["sentence_end"]]
    assert sentence == citation["sentence"] == "The Eiffel Tower was completed in 1889."
    assert 0 < answer["confidence"] <= 1 and answer["passages"]
    assert set(answer["timings"]) >= {"encode", "search", "windows", "read"}


def test_ask_in_a_subfolder_document(client: httpx.Client) -> None:
    answer = client.post("/ask", json={"question": "When did the Golden Gate Bridge open?",
                                       "k": 1}).json()
    assert answer["answer"] == "1937"
    [citation] = answer["citations"]
    assert citation["doc_id"] == "sub/notes.md"
    document = client.get("/documents/sub/notes.md").json()
    assert document["doc_id"] == "sub/notes.md" and document["title"] == "Bridge notes"
    assert document["text"][citation["start"] : citation["end"]] == "1937"
    assert len(answer["passages"]) == 1


def test_ask_abstains_when_the_documents_do_not_say(client: httpx.Client) -> None:
    answer = client.post("/ask", json={"question": "What is the capital of Peru?"}).json()
    assert answer["answer"] is None and answer["citations"] == []
    assert answer["passages"]  # the closest passages still come back


def test_documents_list(client: httpx.Client) -> None:
    documents = client.get("/documents").json()["documents"]
    assert sorted(d["doc_id"] for d in documents) == sorted(API_DOCS)
    eiffel = next(d for d in documents if d["doc_id"] == "eiffel.txt")
    assert eiffel["characters"] == len(API_DOCS["eiffel.txt"])
    assert eiffel["chunks"] == 1 and eiffel["pages"] is None and len(eiffel["sha256"]) == 64
    assert set(eiffel) == {"doc_id", "title", "sha256", "characters", "chunks", "pages"}


@pytest.mark.parametrize("path", [
    "/documents/nope.txt", "/documents/..%2F..%2Fetc%2Fpasswd", "/documents/../x",
    "/documents/sub%2F..%2Feiffel.txt", "/documents/%2e%2e/x", "/documents/%2e%2e%2fx",
    "/no/such/endpoint",
])
def test_unknown_or_climbing_ids_are_json_404s(client: httpx.Client, path: str) -> None:
    assert error_of(client.get(path), 404)["type"] == "not_found"


def test_search_returns_passages_only(client: httpx.Client) -> None:
    body = client.post("/search", json={"query": "Apollo Moon landing", "k": 2}).json()
    assert list(body) == ["passages"]
    first, second = body["passages"]
    assert first["doc_id"] == "moon.txt" and first["score"] >= second["score"]
    assert set(first) == {"doc_id", "chunk_id", "start", "end", "text", "page", "score"}
    text = client.get(f"/documents/{first['doc_id']}").json()["text"]
    assert text[first["start"] : first["end"]] == first["text"]


def test_chat_follow_up_searches_a_standalone_question(client: httpx.Client) -> None:
    last = "Who was its chief engineer?"
    answer = client.post("/chat", json={"messages": [
        {"role": "user", "content": "When did the Golden Gate Bridge open?"},
        {"role": "assistant", "content": "1937"},
        {"role": "user", "content": last}]}).json()
    assert answer["question"] == last
    assert answer["standalone_question"] != last and "Golden Gate" in answer["standalone_question"]
    assert answer["passages"][0]["doc_id"] == "sub/notes.md"


def test_health(client: httpx.Client) -> None:
    health = client.get("/health").json()
    assert health["ready"] is True and health["reindexing"] is False
    assert (health["documents"], health["chunks"]) == (3, 3)
    assert health["model"] == "all-MiniLM-L6-v2" and health["index_built_at"]
    assert health["reason"] is None


LONG = "q" * 2001
BAD_BODIES: list[tuple[str, dict[str, Any], int, str | None]] = [
    ("/ask", {}, 422, "question"),
    ("/ask", {"question": ""}, 422, "question"),
    ("/ask", {"question": "   \n\t"}, 422, "question"),
    ("/ask", {"question": "\x00\x00"}, 422, "question"),
    ("/ask", {"question": "\u200b\u2060\u200d"}, 422, "question"),
    ("/ask", {"question": "\ufdd0\ufffe "}, 422, "question"),
    ("/ask", {"question": LONG}, 422, "question"),
    ("/ask", {"question": "Eiffel?", "k": 0}, 422, "k"),
    ("/ask", {"question": "Eiffel?", "k": 51}, 422, "k"),
    ("/ask", {"question": "Eiffel?", "k": -3}, 422, "k"),
    ("/ask", {"question": "Eiffel?", "k": "5"}, 422, "k"),
    ("/ask", {"question": "Eiffel?", "k": 2.5}, 422, "k"),
    ("/ask", {"question": "Eiffel?", "k": True}, 422, "k"),
    ("/ask", {"question": 42}, 422, "question"),
    ("/ask", {"question": None}, 422, "question"),
    ("/ask", {"question": ["When?"]}, 422, "question"),
    ("/ask", {"question": "Eiffel?", "colour": "red"}, 422, "colour"),
    ("/search", {"query": "  "}, 422, "query"),
    ("/search", {"query": "Moon", "k": 500}, 422, "k"),
    ("/chat", {"messages": []}, 422, "messages"),
    ("/chat", {"messages": "hi"}, 422, "messages"),
    ("/chat", {}, 422, "messages"),
    ("/chat", {"messages": [{"role": "assistant", "content": "1937"}]}, 422, None),
    ("/chat", {"messages": [{"role": "wizard", "content": "hi"}]}, 422, "messages.0"),
    ("/chat", {"messages": [{"role": "user"}]}, 422, "messages.0.user.content"),
    ("/chat", {"messages": [{"role": "user", "content": " "}]}, 422, "messages.0.user.content"),
    ("/chat", {"messages": [{"role": "user", "content": LONG}]}, 422, "messages.0.user.content"),
    ("/chat", {"messages": [{"role": "user", "content": "hi"}], "k": 99}, 422, "k"),
    ("/v1/chat/completions", {"messages": []}, 422, "messages"),
    ("/v1/chat/completions", {"messages": [{"role": "tool", "content": "x"}]}, 422, None),
    ("/v1/chat/completions", {"messages": [{"role": "system", "content": "Be brief."}]}, 422,
     None),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": LONG}]}, 422, None),
]


@pytest.mark.parametrize(("path", "body", "status", "param"), BAD_BODIES)
def test_bad_input_is_a_4xx_that_says_what_was_wrong(
    client: httpx.Client, path: str, body: dict[str, Any], status: int, param: str | None,
) -> None:
    error = error_of(client.post(path, json=body), status)
    assert error["type"] == "invalid_request"
    if param is not None:
        assert error["param"] == param and param.split(".")[0] in error["message"]


@pytest.mark.parametrize(("content", "headers", "status", "kind"), [
    (b"{not json", {"content-type": "application/json"}, 400, "invalid_json"),
    (b"", {"content-type": "application/json"}, 422, "invalid_request"),
    (b"[1, 2]", {"content-type": "application/json"}, 422, "invalid_request"),
    (b"null", {"content-type": "application/json"}, 422, "invalid_request"),
    (b"question=hi", {"content-type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_media_type"),
    (b'{"question": "\\ud800 Eiffel?"}', {"content-type": "application/json"}, 422,
     "invalid_request"),
    (b'{"question": "' + b"a" * (1024 * 1024) + b'"}', {"content-type": "application/json"},
     413, "payload_too_large"),
])
def test_malformed_bodies(client: httpx.Client, content: bytes, headers: dict[str, str],
                          status: int, kind: str) -> None:
    assert error_of(client.post("/ask", content=content, headers=headers), status)["type"] == kind


def test_an_oversized_chunked_body_is_a_413(client: httpx.Client) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 65536  # no Content-Length: counted as it arrives

    response = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert error_of(response, 413)["type"] == "payload_too_large"


def test_wrong_method_is_a_json_405(client: httpx.Client) -> None:
    assert error_of(client.get("/ask"), 405)["type"] == "method_not_allowed"


@pytest.mark.parametrize("question", [
    "When was the Eiffel Tower completed? 🗼😀", "Wann wurde der Eiffelturm gebaut?",
    "\x00\x07 Eiffel \u202e\u200b tower\x1b[31m", "Eiffel" + "e" * 1990, "q" * 2000,
    "埃菲尔铁塔是什么时候建成的？", "?", "🙂" * 2000,
])
def test_odd_but_valid_questions_are_answered(client: httpx.Client, question: str) -> None:
    response = client.post("/ask", json={"question": question, "k": 50})
    assert response.status_code == 200, response.text
    assert response.json()["question"] == question


def test_request_id_is_echoed_or_made_and_logged(
    client: httpx.Client, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="rag.api")
    echoed = client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    made = client.get("/health", headers={"X-Request-ID": "no spaces or quotes \" please"})
    assert len(made.headers["x-request-id"]) == 32
    error_of(client.post("/ask", json={}, headers={"X-Request-ID": "bad-7"}), 422)
    lines = [r.getMessage() for r in caplog.records]
    assert any('"GET /health" 200' in line and "ms request_id=trace-42" in line
               for line in lines)
    assert any(line.startswith("request bad-7: 422 question:") for line in lines)


def test_api_key_guards_everything_but_health(keyed_url: str) -> None:
    calls = [("GET", "/documents", None), ("GET", "/documents/eiffel.txt", None),
             ("POST", "/ask", {"question": "When was the Eiffel Tower completed?"}),
             ("POST", "/search", {"query": "Moon"}), ("GET", "/v1/models", None),
             ("POST", "/chat", {"messages": [{"role": "user", "content": "Moon?"}]}),
             ("POST", "/reindex", None)]
    with httpx.Client(base_url=keyed_url, timeout=30) as anonymous:
        for method, path, body in calls:
            for headers in cast(list[Any], [
                    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"},
                    {"Authorization": "Bearer s3cretX"}, {"Authorization": "Bearer é".encode()}]):
                response = anonymous.request(method, path, json=body, headers=headers)
                assert error_of(response, 401)["type"] == "unauthorized", (path, headers)
                assert response.headers["www-authenticate"] == "Bearer"
        # The key is checked before the body is read: a stranger learns nothing of its shape.
        malformed = anonymous.post("/ask", content=b"{not json",
                                   headers={"Content-Type": "application/json"})
        assert error_of(malformed, 401)["type"] == "unauthorized"
        assert anonymous.get("/health").status_code == 200
        assert anonymous.get("/openapi.json").status_code == 200
        # With a key, any Host name may be served: the key is the guard.
        assert anonymous.get("/health", headers={"Host": "rag.example"}).status_code == 200
    with httpx.Client(base_url=keyed_url, timeout=30,
                      headers={"Authorization": "Bearer s3cret"}) as keyed:
        for method, path, body in calls:
            assert keyed.request(method, path, json=body).status_code == 200, path


def test_without_a_key_only_loopback_host_names_are_served(client: httpx.Client) -> None:
    for host in ("localhost", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST:1"):
        assert client.get("/health", headers={"Host": host}).status_code == 200, host
    rebound = client.get("/documents/eiffel.txt", headers={"Host": "rebound.example:8000"})
    assert error_of(rebound, 403)["message"] == (
        "Host 'rebound.example' is not served: without RAG_API_KEY only loopback names are; "
        "add the name to RAG_ALLOWED_HOSTS or set RAG_API_KEY.")


def test_without_a_key_a_page_of_another_site_cannot_change_anything(
    client: httpx.Client,
) -> None:
    form = client.post("/reindex", content=b"a=1", headers={
        "Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"})
    assert error_of(form, 403)["message"] == (
        "A request from the page of 'http://evil.example' may not change anything: without "
        "RAG_API_KEY only pages of this server may; add the origin to RAG_CORS_ORIGINS or set "
        "RAG_API_KEY.")
    other_port = client.post("/reindex", headers={"Origin": "http://127.0.0.1:3000"})
    assert error_of(other_port, 403)["type"] == "forbidden"  # another origin on this machine
    own = client.post("/ask", json={"question": "When was the Eiffel Tower completed?"},
                      headers={"Origin": str(client.base_url).rstrip("/")})
    assert own.status_code == 200
    assert client.get("/health", headers={"Origin": "http://evil.example"}).status_code == 200


def test_monitors_may_check_with_head(client: httpx.Client) -> None:
    for path in ("/", "/health"):
        response = client.head(path)
        assert response.status_code == 200 and response.content == b"", path


def test_cors_is_off_by_default_and_configurable(client: httpx.Client, keyed_url: str) -> None:
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    assert "access-control-allow-origin" not in client.options("/ask", headers=preflight).headers
    allowed = httpx.options(f"{keyed_url}/ask", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://app.example"
    other = httpx.options(f"{keyed_url}/ask", headers={**preflight, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_documents_every_endpoint_and_field(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/chat", "/search", "/documents", "/documents/{doc_id}", "/health",
            "/reindex", "/v1/chat/completions", "/v1/models"} <= set(schema["paths"])
    ask = schema["components"]["schemas"]["AskRequest"]["properties"]
    assert ask["question"]["maxLength"] == 2000 and ask["question"]["description"]
    assert (ask["k"]["minimum"], ask["k"]["maximum"]) == (1, 50)
    invalid = schema["paths"]["/ask"]["post"]["responses"]["422"]
    assert invalid["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert client.get("/docs").status_code == 200


def test_reindex_from_a_remote_client_without_a_key_is_refused(
    api_corpus: tuple[Any, Pipeline],
) -> None:
    settings, pipeline = api_corpus
    transport = httpx.ASGITransport(app=create_app(settings, pipeline),
                                    client=("203.0.113.9", 4000))  # in-process: no traffic

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as remote:
            return await remote.post("/reindex")

    assert error_of(anyio.run(post), 403)["type"] == "forbidden"


def test_an_unexpected_error_is_a_logged_json_500(
    api_corpus: tuple[Any, Pipeline], caplog: pytest.LogCaptureFixture,
) -> None:
    settings, pipeline = api_corpus
    app = create_app(settings, pipeline)

    async def boom() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom)  # a broken endpoint, to see what a bug looks like

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            return await c.get("/boom", headers={"X-Request-ID": "bug-1"})

    error = error_of(anyio.run(get), 500)
    assert error["type"] == "internal_error" and "bug-1" in error["message"]
    assert "kaboom" not in error["message"]  # no internals leak to the client
    [record] = [r for r in caplog.records if r.name == "rag.api" and r.exc_info]
    assert record.getMessage() == "request bug-1: GET /boom failed"


def test_concurrent_reindex_is_a_409(api_corpus: tuple[Any, Pipeline], live_server: LiveServer,
                                     ) -> None:
    settings, pipeline = api_corpus
    app = create_app(settings, pipeline)
    with live_server(app) as url:
        lock = app.state.service.build_lock
        with lock:  # as if a build were running
            assert httpx.get(f"{url}/health").json()["reindexing"] is True
            assert error_of(httpx.post(f"{url}/reindex"), 409)["type"] == "conflict"
        assert httpx.post(f"{url}/reindex", timeout=60).json()["reloaded"] is False


def test_asks_keep_succeeding_while_a_reindex_swaps_in_a_new_document(
    tmp_path: Path, encoder: Encoder, live_server: LiveServer,
) -> None:
    settings, pipeline = index_corpus(tmp_path, API_DOCS, encoder)  # private: it changes
    with live_server(create_app(settings, pipeline)) as url:
        statuses: list[int] = []
        failures: list[str] = []
        started = threading.Barrier(9)

        def asker() -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                started.wait()
                for _ in range(5):
                    r = c.post("/ask", json={"question": "When did Apollo 11 land on the Moon?"})
                    statuses.append(r.status_code)
                    if r.status_code != 200 or r.json()["answer"] != "July 20, 1969":
                        failures.append(r.text[:200])

        threads = [threading.Thread(target=asker) for _ in range(8)]
        for t in threads:
            t.start()
        write_docs(settings.docs_dir, {"sub/deeper/comet.txt":
                                       "Halley's Comet was last seen from Earth in 1986.\n"})
        started.wait()
        report = httpx.post(f"{url}/reindex", timeout=120).json()
        for t in threads:
            t.join()
        assert statuses == [200] * 40 and failures == []
        assert report["added"] == ["sub/deeper/comet.txt"] and report["reloaded"] is True
        assert report["unchanged"] == 3 and report["chunks_total"] == 4
        assert httpx.get(f"{url}/documents/sub/deeper/comet.txt").status_code == 200
        answer = httpx.post(f"{url}/ask", json={"question": "When was Halley's Comet last seen?"})
        assert answer.json()["answer"] == "1986"
        assert httpx.get(f"{url}/health").json()["documents"] == 4


def test_documents_are_added_and_removed_over_http(
    tmp_path: Path, encoder: Encoder, live_server: LiveServer,
) -> None:
    settings, pipeline = index_corpus(tmp_path, API_DOCS, encoder)  # private: it changes
    comet = b"Halley's Comet was last seen from Earth in 1986.\n"
    with live_server(create_app(settings, pipeline)) as url, \
            httpx.Client(base_url=url, timeout=120) as client:
        added = client.post("/documents", files={"file": ("comet.txt", comet, "text/plain")})
        assert added.status_code == 201, added.text
        report = added.json()
        assert (report["added"], report["chunks_embedded"], report["unchanged"]) == (
            ["comet.txt"], 1, 3)
        assert (settings.docs_dir / "comet.txt").read_bytes() == comet
        answer = client.post("/ask", json={"question": "When was Halley's Comet last seen?"})
        assert answer.json()["answer"] == "1986"
        again = client.post("/documents", files={"file": ("comet.txt", comet)})
        assert error_of(again, 409)["message"] == (
            "comet.txt is already in the documents folder: DELETE /documents/comet.txt first to "
            "replace it.")
        refusals = [(("../up.txt", comet), 422, "not a plain file name"),
                    ((".hidden.txt", comet), 422, "not a plain file name"),
                    (("tool.exe", b"MZ"), 415, "unsupported file type '.exe'"),
                    (("fake.pdf", comet), 415, "the content is not a .pdf file"),
                    (("blank.txt", b"  \n"), 422, "blank.txt: empty: no text to index."),
                    (("big.txt", b"x" * (33 * 1024 * 1024)), 413, "larger than")]
        for file, status, words in refusals:
            error = error_of(client.post("/documents", files={"file": file}), status)
            assert words in error["message"], (file[0], error)
        assert sorted(p.name for p in settings.docs_dir.iterdir()) == [
            "comet.txt", "eiffel.txt", "moon.txt", "sub"]  # nothing half-written, nothing staged
        first = client.get("/documents", params={"limit": 2}).json()
        assert [d["doc_id"] for d in first["documents"]] == ["comet.txt", "eiffel.txt"]
        rest = client.get("/documents", params={"limit": 2, "cursor": first["next_cursor"]})
        assert [d["doc_id"] for d in rest.json()["documents"]] == ["moon.txt", "sub/notes.md"]
        assert rest.json()["next_cursor"] is None
        removed = client.delete("/documents/comet.txt").json()
        assert removed["removed"] == ["comet.txt"] and not (settings.docs_dir / "comet.txt"
                                                            ).exists()
        assert error_of(client.get("/documents/comet.txt"), 404)["param"] == "doc_id"
        (settings.docs_dir / ".private.txt").write_text("Not a document.", encoding="utf-8")
        for gone in ("comet.txt", "../docs/eiffel.txt", "nothing.txt", ".private.txt"):
            assert error_of(client.delete(f"/documents/{gone}"), 404)["type"] == "not_found"
        assert (settings.docs_dir / "eiffel.txt").is_file()


def test_documents_cannot_be_changed_without_the_key(keyed_url: str) -> None:
    with httpx.Client(base_url=keyed_url, timeout=30) as anonymous:
        upload = anonymous.post("/documents", files={"file": ("x.txt", b"Some text.")})
        assert error_of(upload, 401)["type"] == "unauthorized"
        assert error_of(anonymous.delete("/documents/eiffel.txt"), 401)["type"] == "unauthorized"
