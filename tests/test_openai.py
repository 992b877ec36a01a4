"""The OpenAI-compatible endpoints, driven by the real `openai` package against a live server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

EIFFEL: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "When was the Eiffel Tower completed?"}]
EXPECTED = "1889 [1]\n\nSources:\n[1] eiffel.txt, characters 101–105"


@pytest.fixture(scope="module")
def client(api_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{api_url}/v1", api_key="x", max_retries=0, timeout=30)


def test_completion_cites_sources(client: openai.OpenAI, api_url: str) -> None:
    done = client.chat.completions.create(model="rag", messages=EIFFEL)
    message = done.choices[0].message
    assert message.role == "assistant" and message.content == EXPECTED
    assert done.choices[0].finish_reason == "stop" and done.object == "chat.completion"
    assert done.model == "rag-docs"
    citations: list[dict[str, Any]] = done.citations  # type: ignore[attr-defined]
    assert [(c["doc_id"], c["start"], c["end"], c["text"]) for c in citations] == [
        ("eiffel.txt", 101, 105, "1889")]
    assert message.citations == citations  # type: ignore[attr-defined]
    text = httpx.get(f"{api_url}/documents/eiffel.txt").json()["text"]
    assert text[101:105] == "1889"
    assert done.usage is not None and done.usage.total_tokens > 0


def test_streaming_joins_to_the_same_content_and_keeps_citations(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(
        model="rag-docs", messages=EIFFEL, stream=True,
        stream_options={"include_usage": True}))
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == EXPECTED
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3
    first = chunks[0]
    assert first.choices[0].delta.role == "assistant"
    assert first.citations[0]["text"] == "1889"  # type: ignore[attr-defined]
    assert first.citations[0]["doc_id"] == "eiffel.txt"  # type: ignore[attr-defined]
    finish = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finish[-1] == "stop" and set(finish[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert {c.id for c in chunks} == {first.id} and first.object == "chat.completion.chunk"


def test_raw_stream_is_server_sent_events_ending_in_done(api_url: str) -> None:
    body = {"model": "rag", "messages": EIFFEL, "stream": True}
    with httpx.stream("POST", f"{api_url}/v1/chat/completions", json=body, timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert events[-1] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events)
    assert json.loads(events[0][6:])["citations"][0]["text"] == "1889"


def test_abstention_lists_the_closest_passages_as_sources(client: openai.OpenAI) -> None:
    done = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "What is the capital of Peru?"}])
    content = done.choices[0].message.content or ""
    head, sources = content.split("\n\nSources:\n")
    assert head == "The documents do not say."
    assert sources.startswith("[1] ") and ", characters 0–" in sources
    assert len(sources.splitlines()) == 3
    assert done.citations == []  # type: ignore[attr-defined]
    assert len(done.passages) >= 3  # type: ignore[attr-defined]


def test_follow_up_ignores_our_own_sources_list(client: openai.OpenAI) -> None:
    done = client.chat.completions.create(model="rag", messages=[
        {"role": "system", "content": "Answer from the documents."},
        {"role": "user", "content": "When did the Golden Gate Bridge open?"},
        {"role": "assistant",
         "content": "1937 [1]\n\nSources:\n[1] sub/notes.md, characters 49–53"},
        {"role": "user", "content": [{"type": "text", "text": "Who was its chief engineer?"}]},
    ])
    standalone: str = done.standalone_question  # type: ignore[attr-defined]
    assert standalone.startswith("Who was its chief engineer?") and "Golden Gate" in standalone
    assert "characters" not in standalone and "notes" not in standalone


def test_models_list_the_served_collection(client: openai.OpenAI) -> None:
    [model] = client.models.list().data
    assert model.id == "rag-docs" and model.object == "model" and model.created > 0
    assert client.models.retrieve("rag-docs").id == "rag-docs"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_errors_reach_the_sdk_with_their_message(client: openai.OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        client.chat.completions.create(model="rag", messages=[])
    assert caught.value.status_code == 422
    assert "messages" in caught.value.message
    with pytest.raises(openai.UnprocessableEntityError, match="one user message"):
        client.chat.completions.create(
            model="rag", messages=[{"role": "assistant", "content": "hello"}])


def test_what_cannot_be_honoured_is_refused_not_ignored(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-4o", messages=EIFFEL)
    assert unknown.value.message == ("Error code: 404 - No model 'gpt-4o': this server serves "
                                     "'rag-docs' (also called \"rag\"); see GET /v1/models.")
    with pytest.raises(openai.UnprocessableEntityError) as many:
        client.chat.completions.create(model="rag", messages=EIFFEL, n=2)
    assert "n" in many.value.message
    tool = {"type": "function", "function": {"name": "weather", "parameters": {}}}
    with pytest.raises(openai.UnprocessableEntityError) as tools:
        client.chat.completions.create(model="rag", messages=EIFFEL, tools=[tool])
    assert "tools" in tools.value.message
    done = client.chat.completions.create(model="rag", messages=EIFFEL, n=1, temperature=0.2)
    assert done.choices[0].message.content == EXPECTED


def test_the_sdk_sends_the_api_key(keyed_url: str) -> None:
    wrong = openai.OpenAI(base_url=f"{keyed_url}/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="rag", messages=EIFFEL)
    right = openai.OpenAI(base_url=f"{keyed_url}/v1", api_key="s3cret", max_retries=0)
    done = right.chat.completions.create(model="rag", messages=EIFFEL)
    assert done.choices[0].message.content == EXPECTED
