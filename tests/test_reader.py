"""The span reader: tokens and their offsets, span decoding, and the packaged ONNX model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.reader.onnx_reader import MODEL_DIR, OnnxReader, best_spans
from rag.reader.tokens import Pair, answer_tokens, encode_pairs, load_tokenizer
from rag.reader.windows import Window
from rag.records import Chunk
from rag.retrieve import Hit


@pytest.fixture(scope="module")
def reader() -> OnnxReader:
    return OnnxReader()


def _window(text: str, start: int = 0) -> Window:
    chunk = Chunk(0, "doc.txt", start, start + len(text), text)
    return Window("doc.txt", start, start + len(text), text, 0, Hit(0, chunk, 1.0, 1.0, 1.0, 1.0),
                  1.0, 1.0)


def test_pairs_keep_window_offsets() -> None:
    tokenizer = load_tokenizer(MODEL_DIR / "tokenizer.json")
    window = "Côte d’Ivoire’s capital is Yamoussoukro."
    (pair,) = encode_pairs(tokenizer, ["What is the capital?"], [window])
    assert pair.offsets[0] is None and pair.offsets[-1] is None
    assert pair.ids[0] == tokenizer.token_to_id("[CLS]")
    inside = [o for o in pair.offsets if o is not None]
    # Offsets point into the text as written: accents and curly quotes kept.
    assert [window[a:b] for a, b in inside] == [
        "Côte", "d", "’", "Ivo", "ire", "’", "s", "capital", "is",
        "Ya", "mous", "so", "uk", "ro", "."]
    first, last = answer_tokens(pair, window.index("Yamoussoukro"), len(window) - 1)
    assert window[pair.offsets[first][0] : pair.offsets[last][1]] == "Yamoussoukro"


def test_long_window_is_cut_and_the_answer_past_the_cut_is_none() -> None:
    tokenizer = load_tokenizer(MODEL_DIR / "tokenizer.json")
    window = "word " * 400 + "answer"
    (pair,) = encode_pairs(tokenizer, ["question?"], [window], max_tokens=64)
    assert len(pair.ids) == 64
    assert answer_tokens(pair, window.index("answer"), len(window)) is None


def test_best_spans_decode_exact_characters() -> None:
    offsets: list[tuple[int, int] | None] = [None, None, None, (0, 3), (4, 8), (9, 13), None]
    pair = Pair([101, 2054, 102, 1, 2, 3, 102], [0, 0, 0, 1, 1, 1, 1], offsets)
    start = np.array([1.0, 0, 0, 0.5, 4.0, 0.0, 0])
    end = np.array([1.0, 0, 0, 0.0, 0.5, 3.0, 0])
    spans = best_spans(pair, start, end, top=2)
    assert spans[0][:4] == (4, 13, 7.0, 2.0)
    assert spans[1][:2] == (4, 8)  # 4.0 + 0.5
    # An end before its start is never proposed.
    end = np.array([0.0, 0, 0, 9.0, 0.0, 0.0, 0])
    assert all(a <= b for a, b, *_ in best_spans(pair, start, end, top=5))


@pytest.mark.parametrize(("question", "text", "expected"), [
    ("When was the Hoover Dam completed?",
     "The Hoover Dam was completed in 1936. It was built on the Colorado River.", "1936"),
    ("Which river was the Hoover Dam built on?",
     "The Hoover Dam was completed in 1936. It was built on the Colorado River.",
     "Colorado River"),
    ("Who was the first president of Côte d’Ivoire?",
     "Félix Houphouët-Boigny was the first president of Côte d’Ivoire, from 1960 to 1993.",
     "Félix Houphouët-Boigny"),
])
def test_reader_finds_the_span(reader: OnnxReader, question: str, text: str,
                               expected: str) -> None:
    window = _window(text, start=100)
    best = reader.read(question, [window])[0]
    assert (best.start, best.end) == (100 + text.index(expected),
                                      100 + text.index(expected) + len(expected))
    assert best.doc_id == "doc.txt" and best.window == 0


def test_reader_ranks_the_window_that_answers(reader: OnnxReader) -> None:
    question = "When was the Hoover Dam completed?"
    windows = [_window("The Eiffel Tower is in Paris. It is made of wrought iron."),
               _window("The Hoover Dam was completed in 1936.", start=500)]
    spans = reader.read(question, windows)
    assert spans[0].window == 1
    assert spans[0].margin > max(s.margin for s in spans if s.window == 0)
    assert reader.read(question, []) == []


def test_recovered_weights_give_the_shipped_logits(tmp_path) -> None:
    import torch
    from transformers import AutoModelForQuestionAnswering

    from rag.reader.recover import recover

    recover(MODEL_DIR, tmp_path / "recovered")
    model = AutoModelForQuestionAnswering.from_pretrained(tmp_path / "recovered").eval()
    shipped = OnnxReader()
    pairs = encode_pairs(shipped.tokenizer, ["When was the dam completed?"],
                         ["The Hoover Dam was completed in 1936 on the Colorado River."])
    starts, ends = shipped.logits(pairs)
    ids = torch.tensor([pairs[0].ids])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                    token_type_ids=torch.tensor([pairs[0].type_ids]))
    assert np.allclose(out.start_logits.numpy(), starts, atol=1e-3)
    assert np.allclose(out.end_logits.numpy(), ends, atol=1e-3)
    assert (tmp_path / "recovered" / "tokenizer.json").read_bytes() == (
        MODEL_DIR / "tokenizer.json").read_bytes()


def test_recover_refuses_a_graph_export_did_not_write(tmp_path) -> None:
    import onnx
    from onnx import TensorProto, helper

    from rag.reader.recover import recover

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "other",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), str(tmp_path / "reader.onnx"))
    with pytest.raises(ValueError, match="not the fused 6-layer graph"):
        recover(tmp_path, tmp_path / "out")


def test_paragraph_auroc_ranks_answerable_questions_first(reader: OnnxReader, tmp_path) -> None:
    from rag.reader.evaluate import paragraph_auroc

    context = ("The Hoover Dam was completed in 1936. It was built on the Colorado River. "
               "Its reservoir is Lake Mead. The dam was named after Herbert Hoover.")
    questions = [("When was the Hoover Dam completed?", False),
                 ("Which river was the Hoover Dam built on?", False),
                 ("Who won the 1998 football World Cup?", True),
                 ("What is the capital of Australia?", True)]
    data = {"data": [{"title": "Hoover_Dam", "paragraphs": [{"context": context, "qas": [
        {"id": str(i), "question": q, "answers": [], "is_impossible": impossible}
        for i, (q, impossible) in enumerate(questions)]}]}]}
    path = tmp_path / "squad2.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert paragraph_auroc([reader], [], path) == {
        "squad2_questions": 4, "squad2_unanswerable": 2, "squad2_neighbours": 1,
        "squad2_paragraph_windows": 4, "squad2_auroc_answerable_own_paragraph": 1.0}
    assert paragraph_auroc([reader], [], path, limit=3)["squad2_questions"] == 3
    # Four sentences: each alone, or with two each side (three distinct windows).
    for neighbours, windows in ((0, 4), (2, 3)):
        result = paragraph_auroc([reader], [], path, neighbours=neighbours)
        assert (result["squad2_paragraph_windows"],
                result["squad2_auroc_answerable_own_paragraph"]) == (windows, 1.0)
