"""Lesson 08's comparison on lessons 06 and 07: BiLSTM + attention against a Transformer of about the same size,
on lesson 06's dates and lesson 07's English -> French translation. Writes a Markdown report and prints it.

    python scripts/compare_architectures.py                 (or: make compare)  both tasks, seeds 0 and 1;
                                                            writes docs/architectures.md (about 3 min on 2 cores)
    python scripts/compare_architectures.py --tasks dates   one task
    python scripts/compare_architectures.py --quick --out /tmp/a.md   tiny sizes (seconds): it works, measures nothing
    python scripts/compare_architectures.py --threads 2 --json /tmp/a.json   torch threads; raw results as JSON

Lesson 08 compares the two architectures on lesson 04's reversal; its time budget leaves no room for the two
bigger tasks, so this script runs them. For each task it builds the data, the vocabularies and the batches as
the lesson does, then trains, for each seed, lesson 06's (or 07's) BiLSTM + additive attention and the package's
``TransformerSeq2Seq`` sized to about the same number of parameters: same batches in the same order, same number
of steps, same cosine decay and gradient clipping, same evaluation schedule, same seed for the initial weights.
What differs besides the architecture is each model's optimiser recipe (see ``RECIPES``): the BiLSTM keeps its
lesson's Adam at 3e-3, the Transformer gets lesson 08's (Adam at 5e-3, beta2 0.98, linear warm-up).

Reported per task and model: parameters, training time (evaluations excluded), training time to a validation
target (lesson 06: greedy exact match; lesson 07: greedy chrF) read at the first evaluation that reaches it, test
exact match with greedy decoding and with beam search (width 5, no length penalty), and for translation BLEU and
chrF from sacrebleu with their signatures. Run it on a quiet machine: the times are wall-clock.
"""

# The machine table comes from the benchmark's report (scripts/bench/report.py), so both pages describe a machine
# the same way.

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "architectures.md"
FULL_COMMAND = "make compare"  # = .venv/bin/python scripts/compare_architectures.py
TASKS = ("dates", "translation")
MODELS = ("BiLSTM + attention", "Transformer")
BEAM_SIZE = 5


@dataclass(frozen=True)
class Recipe:
    """How a model is optimised: Adam's learning rate and betas, and the linear warm-up before the cosine decay."""

    lr: float
    betas: tuple[float, float]
    warmup_steps: int


# The BiLSTM keeps lessons 06/07's recipe; the Transformer gets lesson 08's (why: RECIPE_WHY).
RECIPES = {
    "BiLSTM + attention": Recipe(lr=3e-3, betas=(0.9, 0.999), warmup_steps=0),
    "Transformer": Recipe(lr=5e-3, betas=(0.9, 0.98), warmup_steps=100),
}
RECIPE_WHY = (
    "Each model keeps the optimiser settings its lesson trains it with: the BiLSTM lessons 06 and 07's Adam at "
    "a learning rate of 0.003, the Transformer lesson 08's Adam at 0.005 with beta2 = 0.98 and a linear warm-up. "
    "Transformers are commonly trained with a warm-up: in the first steps Adam's estimate of each gradient's "
    "scale rests on very few samples, and full-size updates through the stacked attention layers and layer norms "
    "can destabilise training; the BiLSTM trains well without one."
)


@dataclass(frozen=True)
class TaskConfig:
    """One task's sizes: data, training budget, evaluation, and the Transformer's shape."""

    name: str
    lesson: str
    steps: int
    batch_size: int
    n_train: int
    n_val: int
    n_test: int
    eval_every: int
    target_metric: str  # the validation metric the time-to-target is read from
    target: float
    bilstm: tuple[int, int, int]  # the lesson's BiLSTM: embedding, hidden units per direction, attention units
    d_model: int
    num_heads: int
    num_layers: int
    d_ff: int
    vocab_size: int = 300  # translation only: sentencepiece pieces per side


# The lessons' own sizes (lesson 06: 38,400 training dates, 600 steps of 64, 500 validation and 3,000 test dates;
# lesson 07: 16,000 training pairs, 500 steps of 64, 250 validation and 1,000 test pairs, 300 pieces per side). The
# Transformer shapes give about the BiLSTM's parameter count on each task (the report prints both).
_TRANSFORMER = {"num_heads": 4, "num_layers": 2}
FULL = {
    "dates": TaskConfig(
        "dates", "06", 600, 64, 38_400, 500, 3000, 50, "exact_match", 0.99, (32, 64, 32), 64, d_ff=112, **_TRANSFORMER
    ),
    "translation": TaskConfig(
        "translation", "07", 500, 64, 16_000, 250, 1000, 50, "chrF", 99.0, (64, 96, 48), 96, d_ff=256, **_TRANSFORMER
    ),
}
_TINY = {"bilstm": (8, 16, 8), "d_model": 16, "num_heads": 2, "num_layers": 1, "d_ff": 32}
QUICK = {
    "dates": TaskConfig("dates", "06", 12, 16, 3000, 24, 24, 6, "exact_match", 0.99, **_TINY),
    "translation": TaskConfig("translation", "07", 12, 16, 192, 16, 16, 6, "chrF", 99.0, vocab_size=60, **_TINY),
}


@dataclass
class RunResult:
    """One model trained with one seed on one task, and what it measured."""

    task: str
    model: str
    seed: int
    parameters: int
    train_seconds: float  # all steps, evaluations excluded (the clock of the evaluations, read after the last step)
    eval_steps: list[int]
    eval_train_seconds: list[float]  # training seconds so far at each evaluation
    eval_metric: list[float]  # the validation metric at each evaluation
    seconds_to_target: float | None  # None: the target was never reached
    steps_to_target: int | None
    test: dict[str, dict[str, float]]  # decoder -> {"exact": ..., "bleu": ..., "chrf": ...}
    outputs: dict[str, list[str]] = field(default_factory=dict)  # decoder -> test outputs (text)
    out_of_vocab_outputs: int = 0  # test outputs holding an id outside the target vocabulary (counted wrong)


@dataclass
class TaskData:
    """A task ready to train on: batches, validation scoring, test decoding, vocabulary sizes."""

    config: TaskConfig
    src_vocab_size: int
    tgt_vocab_size: int
    batches: list
    max_len: int
    validate: object  # model -> {metric: value}
    test_sources: list  # (src ids, tgt ids) pairs, tgt ids unused by decoding
    references: list[list[str]]  # per test example, every correct output
    to_text: object  # (ids row) -> text
    describe: str  # one line about the data
    signatures: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------- the data


def prepare_dates(config: TaskConfig) -> TaskData:
    """Lesson 06 §1: dates in 12 locales and 4 formats, split by date; character vocabularies from training."""
    from seq2seq_helpers.data import collate_pairs
    from seq2seq_helpers.dates import build_vocabs, encode_examples, make_date_splits
    from seq2seq_helpers.training import evaluate

    splits = make_date_splits(config.n_train, config.n_val, config.n_test, seed=0)
    src_vocab, tgt_vocab = build_vocabs(splits.train)
    train_pairs, val_pairs, test_pairs = (encode_examples(p, src_vocab, tgt_vocab) for p in splits)
    batches = [
        collate_pairs(train_pairs[i : i + config.batch_size]) for i in range(0, len(train_pairs), config.batch_size)
    ]
    return TaskData(
        config=config,
        src_vocab_size=len(src_vocab),
        tgt_vocab_size=len(tgt_vocab),
        batches=batches,
        max_len=14,  # lesson 06: 10 characters + <eos>, with room to catch a model that forgets to stop
        validate=lambda model, device: evaluate(model, val_pairs, device=device),
        test_sources=test_pairs,
        references=[[ex.target] for ex in splits.test],
        to_text=lambda row: safe_decode(tgt_vocab, row),
        describe=(
            f"{len(splits.train):,} training, {len(splits.val):,} validation and {len(splits.test):,} test dates "
            f"(`make_date_splits(..., seed=0)`, no date shared between splits); character vocabularies of "
            f"{len(src_vocab)} (source) and {len(tgt_vocab)} (target) symbols"
        ),
    )


def prepare_translation(config: TaskConfig) -> TaskData:
    """Lesson 07 §1-3: English -> French numbers and dates in words, sentencepiece subwords from training only."""
    from sacrebleu.metrics import CHRF

    from seq2seq_helpers.data import collate_pairs
    from seq2seq_helpers.translation import SubwordVocab, make_translation_splits

    splits = make_translation_splits(config.n_train, config.n_val, config.n_test, target_lang="fr", seed=0)
    src_vocab = SubwordVocab.train([p.source for p in splits.train], config.vocab_size)
    tgt_vocab = SubwordVocab.train([p.target for p in splits.train], config.vocab_size)

    def encode_pair(pair):
        return src_vocab.encode(pair.source), tgt_vocab.encode(pair.target)  # (src ids, tgt ids), no SOS/EOS

    train_pairs = [encode_pair(p) for p in splits.train]
    batches = [
        collate_pairs(train_pairs[i : i + config.batch_size]) for i in range(0, len(train_pairs), config.batch_size)
    ]
    max_len = max(len(tgt_vocab.encode(r)) for p in splits.train for r in p.references) + 10  # lesson 07's
    val_refs = reference_streams([p.references for p in splits.val])

    def validate(model, device):
        outputs = decode(
            model, [encode_pair(p) for p in splits.val], lambda r: safe_decode(tgt_vocab, r), max_len, 1, device
        )
        return {"chrF": CHRF().corpus_score(outputs, val_refs).score}

    return TaskData(
        config=config,
        src_vocab_size=len(src_vocab),
        tgt_vocab_size=len(tgt_vocab),
        batches=batches,
        max_len=max_len,
        validate=validate,
        test_sources=[encode_pair(p) for p in splits.test],
        references=[list(p.references) for p in splits.test],
        to_text=lambda row: safe_decode(tgt_vocab, row),
        describe=(
            f"{len(splits.train):,} training, {len(splits.val):,} validation and {len(splits.test):,} test pairs "
            f"(`make_translation_splits(..., target_lang='fr', seed=0)`, no value shared between splits); "
            f"sentencepiece BPE vocabularies of {len(src_vocab)} (English) and {len(tgt_vocab)} (French) pieces, "
            "trained on the training split"
        ),
    )


PREPARE = {"dates": prepare_dates, "translation": prepare_translation}


def reference_streams(references: list[list[str]]) -> list[list[str]]:
    """sacrebleu's layout, as lesson 07 builds it: one list per reference (the first and the last spelling)."""
    return [[refs[0] for refs in references], [refs[-1] for refs in references]]


def safe_decode(vocab, row) -> str:
    """Text of one output row. The Transformer's output layer covers the larger of the two vocabularies (the
    package's model has one size for both sides), so it could emit an id the target vocabulary lacks: such an
    id becomes U+FFFD, which no reference holds, so the output counts as wrong instead of crashing the run."""
    ids = [int(i) for i in row]
    if all(i < len(vocab) for i in ids):
        return vocab.decode(ids)
    from seq2seq_helpers.data import EOS

    ids = ids[: ids.index(EOS)] if EOS in ids else ids
    return vocab.decode([i for i in ids if i < len(vocab)]) + "\ufffd"


# ------------------------------------------------------------------------------------------------ the models


def make_bilstm(task: TaskData):
    """The lesson's BiLSTM + additive attention (lesson 06 §2 for dates, lesson 07 §3 for translation)."""
    from seq2seq_helpers.attention import AdditiveAttention
    from seq2seq_helpers.models import AttentionDecoder, AttentionSeq2Seq, LSTMEncoder

    emb, hid, attn = task.config.bilstm
    encoder = LSTMEncoder(task.src_vocab_size, emb, hid, bidirectional=True)  # encoder_outputs: [batch, src_len, 2hid]
    attention = AdditiveAttention(encoder.dec_hid_dim, encoder.enc_dim, attn_dim=attn)
    decoder = AttentionDecoder(
        task.tgt_vocab_size, emb, hid_dim=encoder.dec_hid_dim, enc_dim=encoder.enc_dim, attention=attention
    )
    return AttentionSeq2Seq(encoder, decoder)


def make_transformer(task: TaskData):
    """The package's Transformer (lesson 08 §6); one vocabulary size for both sides, the larger of the two."""
    from seq2seq_helpers.transformer import TransformerSeq2Seq

    c = task.config
    return TransformerSeq2Seq(
        max(task.src_vocab_size, task.tgt_vocab_size),
        d_model=c.d_model,
        num_heads=c.num_heads,
        num_layers=c.num_layers,
        d_ff=c.d_ff,
    )


BUILDERS = {"BiLSTM + attention": make_bilstm, "Transformer": make_transformer}


# ------------------------------------------------------------------------------------- training and decoding


def decode(model, pairs, to_text, max_len: int, beam_size: int, device, batch_size: int = 500) -> list[str]:
    """Outputs (text) for (src, tgt) id pairs: greedy for beam_size=1, else beam search without length penalty."""
    from seq2seq_helpers.data import collate_pairs
    from seq2seq_helpers.decoding import beam_search, greedy_decode

    outputs = []
    batch_size = min(batch_size, max(1, 2500 // beam_size))  # at most 2,500 hypotheses at once: bounded memory
    for i in range(0, len(pairs), batch_size):
        batch = collate_pairs(pairs[i : i + batch_size]).to(device)
        if beam_size == 1:
            rows = greedy_decode(model, batch.src, batch.src_lengths, max_len=max_len).tokens  # [batch, T]
        else:
            rows = beam_search(model, batch.src, batch.src_lengths, beam_size=beam_size, max_len=max_len).tokens[:, 0]
        outputs += [to_text(row) for row in rows.cpu()]
    return outputs


def score(outputs: list[str], references: list[list[str]], signatures: dict | None = None) -> dict[str, float]:
    """Exact match against any correct output; with ``signatures`` (a dict, filled with sacrebleu's signatures)
    also sacrebleu's corpus BLEU and chrF against the first and the last correct spelling (lesson 07 §4)."""
    scores = {"exact": sum(o in refs for o, refs in zip(outputs, references)) / len(outputs)}
    if signatures is not None:
        from sacrebleu.metrics import BLEU, CHRF

        streams = reference_streams(references)
        bleu, chrf = BLEU(), CHRF()
        scores["bleu"] = bleu.corpus_score(outputs, streams).score
        scores["chrf"] = chrf.corpus_score(outputs, streams).score
        signatures.update(BLEU=str(bleu.get_signature()), chrF=str(chrf.get_signature()))
    return scores


WARM_UP_STEPS = 3


def warm_up(task: TaskData, device) -> None:
    """A few untimed steps and decodings of each model, thrown away: the first run of a kind of layer in a
    process pays one-off costs (imports, kernel selection, memory pools) that are not training."""
    import torch

    from seq2seq_helpers.training import fit, seq2seq_step

    for model_name in MODELS:
        model = BUILDERS[model_name](task).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=RECIPES[model_name].lr)
        fit(
            model,
            optimizer,
            task.batches[:WARM_UP_STEPS],
            WARM_UP_STEPS,
            seq2seq_step(1.0),
            device=device,
            progress=False,
        )
        for width in (1, BEAM_SIZE):
            decode(model, task.test_sources[:8], task.to_text, task.max_len, width, device)


def train_one(task: TaskData, model_name: str, seed: int, device, progress: bool, keep_outputs: bool) -> RunResult:
    """Train one model from seed ``seed`` on the task's batches; time it, score it on validation and test."""
    import torch

    from seq2seq_helpers.training import fit, seq2seq_step
    from seq2seq_helpers.utils import count_parameters, seed_everything

    c, recipe = task.config, RECIPES[model_name]
    seed_everything(seed)
    model = BUILDERS[model_name](task).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, betas=recipe.betas)
    # fit() as in the lessons; eval_fn also notes the training seconds so far (evaluation time excluded), as
    # lesson 08 §7 does. The clock starts after the optimiser is built: the first Adam of a process takes a
    # second or more of one-off imports, which is not training.
    clock = {"start": time.perf_counter(), "evaluating": 0.0, "train_seconds": []}

    def eval_fn(m):
        if device.type == "cuda":
            torch.cuda.synchronize()  # the steps queued on the GPU are training time
        entered = time.perf_counter()
        clock["train_seconds"].append(entered - clock["start"] - clock["evaluating"])
        scores = task.validate(m, device)
        clock["evaluating"] += time.perf_counter() - entered
        return scores

    history = fit(
        model,
        optimizer,
        task.batches,
        c.steps,
        seq2seq_step(1.0),
        device=device,
        warmup_steps=min(recipe.warmup_steps, c.steps // 2),
        eval_fn=eval_fn,
        eval_every=c.eval_every,
        desc=f"{c.name}, {model_name}, seed {seed}",
        progress=progress,
    )
    metric = [float(e[c.target_metric]) for e in history.evals]
    reached = next((i for i, v in enumerate(metric) if v >= c.target), None)
    test = {}
    outputs = {}
    for decoder, width in (("greedy", 1), (f"beam {BEAM_SIZE}", BEAM_SIZE)):
        out = decode(model, task.test_sources, task.to_text, task.max_len, width, device)
        test[decoder] = score(out, task.references, task.signatures if c.name == "translation" else None)
        outputs[decoder] = out
    return RunResult(
        task=c.name,
        model=model_name,
        seed=seed,
        parameters=count_parameters(model),
        train_seconds=clock["train_seconds"][-1],  # the last evaluation comes after the last step
        eval_steps=list(history.eval_steps),
        eval_train_seconds=clock["train_seconds"],
        eval_metric=metric,
        seconds_to_target=None if reached is None else clock["train_seconds"][reached],
        steps_to_target=None if reached is None else history.eval_steps[reached],
        test=test,
        outputs=outputs if keep_outputs else {},
        out_of_vocab_outputs=sum("\ufffd" in o for out in outputs.values() for o in out),
    )


# ------------------------------------------------------------------------------------------------ the report


class Figure:
    """How one kind of figure is written: digits, unit, and whether higher is better."""

    def __init__(self, text, unit: str = "", scale: float = 1.0):
        self.text, self.unit, self.scale = text, unit, scale

    def __call__(self, x: float, unit: bool = True) -> str:
        return self.text.format(x * self.scale) + (self.unit if unit else "")

    def spread(self, values: list[float]) -> str:
        """``mean (min-max)`` over seeds, or the one value when every seed gave the same."""
        if len(set(values)) == 1:
            return self(values[0])
        return f"{self(statistics.mean(values))} ({self(min(values), False)}-{self(max(values), False)})"


PCT, SECONDS, SCORE, COUNT = Figure("{:.2f}", "%", 100), Figure("{:.1f}", " s"), Figure("{:.2f}"), Figure("{:,.0f}")


def to_target(r: RunResult) -> str:
    return (
        "not reached" if r.seconds_to_target is None else f"{SECONDS(r.seconds_to_target)} (step {r.steps_to_target})"
    )


def target_text(c: TaskConfig) -> str:
    if c.target_metric == "exact_match":
        return f"{c.target:.0%} validation exact match (greedy)"
    return f"validation chrF {c.target:g} (greedy)"


def compare_sentence(
    label: str, runs: dict[str, list[RunResult]], value, figure: Figure, higher_is_better: bool
) -> str:
    """One sentence saying which model did better on ``label`` (means over seeds), and whether the seeds'
    ranges overlap; empty when a run has no value (a target never reached)."""
    a, b = ([value(r) for r in runs[m]] for m in MODELS)
    if any(v is None for v in a + b):
        return ""
    mean_a, mean_b = statistics.mean(a), statistics.mean(b)
    if figure(mean_a) == figure(mean_b):
        return f"{label}: the same for both ({figure(mean_a)})."
    better = MODELS[0] if (mean_a > mean_b) == higher_is_better else MODELS[1]
    text = f"{label}: {better} better ({figure(mean_a)} BiLSTM, {figure(mean_b)} Transformer"
    if len(a) > 1:
        overlap = min(a) <= max(b) and min(b) <= max(a)
        text += "; the ranges over seeds overlap" if overlap else "; the ranges over seeds do not overlap"
    return text + ")."


def task_section(task: TaskData, runs: dict[str, list[RunResult]]) -> list[str]:
    c = task.config
    translation = c.name == "translation"
    title = "Translation, English → French (lesson 07)" if translation else "Dates (lesson 06)"
    own = f" (lesson {c.lesson}'s)" if c.bilstm == FULL[c.name].bilstm else ""
    shapes = (
        f"BiLSTM: embeddings {c.bilstm[0]}, {c.bilstm[1]} units per direction, additive attention of {c.bilstm[2]}"
        f"{own}; Transformer: d_model {c.d_model}, {c.num_heads} heads, {c.num_layers} encoder and {c.num_layers} "
        f"decoder layers, feed-forward {c.d_ff}"
    )
    out = [
        "",
        f"## {title}",
        "",
        f"Data: {task.describe}. Training: {c.steps} steps of {c.batch_size}; validation every {c.eval_every} steps; "
        f"target: {target_text(c)}. Models: {shapes}. Test decoding: greedy and beam search of width {BEAM_SIZE} "
        "(no length penalty). Each cell: mean over seeds (min-max).",
    ]
    unused = max(task.src_vocab_size, task.tgt_vocab_size) - task.tgt_vocab_size
    if unused:
        out += [
            "",
            f"The Transformer's target side has {unused + task.tgt_vocab_size} rows for {task.tgt_vocab_size} target "
            f"symbols: {unused * (2 * c.d_model + 1):,} of its parameters (embedding and output-layer rows) belong "
            "to ids that never occur in a target.",
        ]
    out += ["", "| | " + " | ".join(MODELS) + " |", "|---|---:|---:|"]

    def row(label, value, figure):
        return f"| {label} | " + " | ".join(figure.spread([value(r) for r in runs[m]]) for m in MODELS) + " |"

    out += [
        row("parameters", lambda r: r.parameters, COUNT),
        row(f"training time, {c.steps} steps", lambda r: r.train_seconds, SECONDS),
    ]
    cells = []
    for m in MODELS:
        reached = [r.seconds_to_target for r in runs[m] if r.seconds_to_target is not None]
        text = SECONDS.spread(reached) if reached else "not reached"
        if reached and len(reached) < len(runs[m]):
            text += f" ({len(runs[m]) - len(reached)} of {len(runs[m])} seeds never reached it)"
        cells.append(text)
    out.append(f"| training time to {target_text(c)} | " + " | ".join(cells) + " |")
    beam = f"beam {BEAM_SIZE}"
    metrics = [("exact", "test exact match" + (" (any correct spelling)" if translation else ""), PCT)]
    if translation:
        metrics += [("bleu", "test BLEU", SCORE), ("chrf", "test chrF", SCORE)]
    for key, label, figure in metrics:
        for decoder in ("greedy", beam):
            out.append(row(f"{label}, {decoder}", lambda r, d=decoder, k=key: r.test[d][k], figure))
    bad = {m: sum(r.out_of_vocab_outputs for r in runs[m]) for m in MODELS}
    if any(bad.values()):
        out += [
            "",
            "Test outputs holding an id outside the target vocabulary (counted wrong), over all seeds and both "
            "decoders: " + ", ".join(f"{m} {n}" for m, n in bad.items()) + ".",
        ]
    if task.signatures:
        out += ["", f"sacrebleu signatures: BLEU `{task.signatures['BLEU']}`, chrF `{task.signatures['chrF']}`."]

    findings = []
    for label, value in (
        ("Training time (all steps)", lambda r: r.train_seconds),
        ("Training time to the target", lambda r: r.seconds_to_target),
    ):
        ratios = [
            f"{value(t) / value(b):.2f}x (seed {t.seed})"
            for b, t in zip(runs[MODELS[0]], runs[MODELS[1]])
            if value(b) is not None and value(t) is not None
        ]
        if ratios:
            findings.append(f"{label}, Transformer / BiLSTM: {', '.join(ratios)}.")
    findings += [
        compare_sentence("Training time to the target", runs, lambda r: r.seconds_to_target, SECONDS, False),
        compare_sentence(f"Test exact match, {beam}", runs, lambda r: r.test[beam]["exact"], PCT, True),
    ]
    if translation:
        findings.append(compare_sentence(f"Test chrF, {beam}", runs, lambda r: r.test[beam]["chrf"], SCORE, True))
    out += [""] + [f"- {line}" for line in findings if line]

    out += [
        "",
        "Per seed:",
        "",
        f"| model | seed | training time | to target | exact, greedy | exact, {beam} |"
        + (" BLEU, greedy / beam | chrF, greedy / beam |" if translation else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if translation else ""),
    ]
    for m in MODELS:
        for r in runs[m]:
            g, b = r.test["greedy"], r.test[beam]
            line = (
                f"| {m} | {r.seed} | {SECONDS(r.train_seconds)} | {to_target(r)} | {PCT(g['exact'])} | "
                f"{PCT(b['exact'])} |"
            )
            if translation:
                line += f" {SCORE(g['bleu'])} / {SCORE(b['bleu'])} | {SCORE(g['chrf'])} / {SCORE(b['chrf'])} |"
            out.append(line)

    metric = PCT if c.target_metric == "exact_match" else SCORE
    steps = runs[MODELS[0]][0].eval_steps
    name = "exact match" if c.target_metric == "exact_match" else c.target_metric
    out += [
        "",
        f"Validation {name} (greedy) at each evaluation, by training step:",
        "",
        "| model | seed | " + " | ".join(str(s) for s in steps) + " |",
        "|---|---:|" + "---:|" * len(steps),
    ]
    for m in MODELS:
        for r in runs[m]:
            values = " | ".join(metric(v, unit=False) for v in r.eval_metric)
            out.append(f"| {m} | {r.seed} | {values} |")
    return out


def render(
    results: list[RunResult],
    tasks: dict[str, TaskData],
    machine: list[tuple[str, str]],
    *,
    seeds: list[int],
    quick: bool,
    command: str,
    elapsed: float,
    date: str | None = None,
) -> str:
    """The Markdown report: what was compared and how, the machine, one section per task."""
    from bench.report import busy_warning

    date = date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# BiLSTM + attention vs Transformer on dates and translation",
        "",
        f"Generated by `scripts/compare_architectures.py` on {date} with `{command}` (wall time "
        f"{elapsed / 60:.1f} min; seeds {', '.join(map(str, seeds))}). Full run: `{FULL_COMMAND}`.",
    ]
    if quick:
        out += [
            "",
            "**Quick mode:** tiny data, models and step counts. It checks that the comparison works; its figures "
            "are not measurements.",
        ]
    out += [
        "",
        "Lesson 08 compares the two architectures on lesson 04's reversal. This page runs the same comparison on "
        "lesson 06's dates and lesson 07's English → French translation, which do not fit in lesson 08's time "
        "budget. For each task: the lesson's data, vocabularies and batches; the lesson's BiLSTM + additive "
        "attention and the package's `TransformerSeq2Seq` of about the same parameter count; the same batches in "
        "the same order, the same number of steps, the same cosine decay and gradient clipping (1.0), teacher "
        "forcing, the same evaluation schedule, and the same seed for each pair of runs (it sets the initial "
        "weights; nothing else in training is random). Times are training seconds with the evaluations taken out; "
        "the time to the validation target is read at the first evaluation that reaches it. Before the timed runs "
        f"of a task, each model trains {WARM_UP_STEPS} steps and decodes a few sources untimed, and is thrown away: "
        "the first run of a kind of layer in a process pays one-off costs that are not training.",
        "",
        "## What else differs, and why",
        "",
        "| | " + " | ".join(MODELS) + " |",
        "|---|---|---|",
        "| optimiser | "
        + " | ".join(f"Adam, lr {r.lr:g}, betas ({r.betas[0]:g}, {r.betas[1]:g})" for r in RECIPES.values())
        + " |",
        "| warm-up (steps, linear) | " + " | ".join(str(r.warmup_steps) for r in RECIPES.values()) + " |",
        "",
        RECIPE_WHY,
        "",
        "Two more differences come with the package's Transformer. It has one vocabulary size for both sides, "
        "the larger of the two, so where the target vocabulary is smaller its target embedding and output layer "
        "have rows that are never a target (counted in its parameters; the task sections say how many; an output "
        "id outside the target vocabulary would count as a wrong output). And it appends `<eos>` to every source, "
        "so each position can find the end (lesson 08 §6).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    out += [f"| {k} | {v} |" for k, v in machine]
    busy = busy_warning(machine)
    if busy:
        out += ["", busy]
    for name, task in tasks.items():
        runs = {m: [r for r in results if r.task == name and r.model == m] for m in MODELS}
        if all(runs.values()):
            out += task_section(task, runs)
    out += [
        "",
        "## Reading it",
        "",
        "One machine, these sizes, these step budgets and the seeds above: a difference smaller than the spread "
        "between seeds is not a difference. The times are wall-clock on the CPU threads the machine table gives; "
        "on a GPU the Transformer's training step, which processes all target positions at once, is expected to gain more than the LSTM's, whose recurrence runs one position after another.",
    ]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------- command line


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes comma-separated integers such as 0,1; got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds needs distinct integers >= 0 such as 0,1; got {text!r}")
    return seeds


def parse_tasks(text: str) -> list[str]:
    tasks = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if not tasks or unknown:
        raise argparse.ArgumentTypeError(f"--tasks takes {', '.join(TASKS)} (comma-separated); got {text!r}")
    return list(dict.fromkeys(tasks))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=parse_tasks, default=list(TASKS), help="dates, translation or both (default)")
    parser.add_argument("--seeds", type=parse_seeds, default=[0, 1], help="comma-separated seeds (default 0,1)")
    parser.add_argument("--quick", action="store_true", help="tiny data, models and steps (seconds); a smoke test")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, capped by get_device)")
    parser.add_argument("--device", help="cpu, cuda, mps or cuda:N (sets SEQ2SEQ_DEVICE; default: get_device's pick)")
    parser.add_argument(
        "--out",
        type=Path,
        help=f"Markdown report (default {DEFAULT_OUT.relative_to(ROOT)}; with --quick only when given)",
    )
    parser.add_argument("--json", type=Path, help="also write every run's results (and test outputs) as JSON here")
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.device:
        os.environ["SEQ2SEQ_DEVICE"] = args.device
    if args.threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before torch is imported

    sys.path.insert(0, str(ROOT))  # the package, when run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "scripts"))  # bench.report's machine table
    import torch
    from bench.report import machine_info

    from seq2seq_helpers.utils import get_device

    device = get_device()  # honours SEQ2SEQ_DEVICE; on the CPU caps torch's threads at the CPUs we may use
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    machine = [
        ("torch threads" if key.startswith("torch threads") else key, value) for key, value in machine_info(device)
    ]
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # progress on stderr, report on stdout
    progress = sys.stderr.isatty()
    configs = QUICK if args.quick else FULL
    command = " ".join(["python scripts/compare_architectures.py", *(sys.argv[1:] if argv is None else argv)])
    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)

    start = time.perf_counter()
    tasks, results = {}, []
    for name in args.tasks:
        log(f"{name}: preparing the data")
        tasks[name] = PREPARE[name](configs[name])
        warm_up(tasks[name], device)
        for seed in args.seeds:
            for model_name in MODELS:
                run = train_one(tasks[name], model_name, seed, device, progress, keep_outputs=args.json is not None)
                log(
                    f"{name}, {model_name}, seed {seed}: {SECONDS(run.train_seconds)}, to target "
                    f"{to_target(run)}, test exact (beam {BEAM_SIZE}) {PCT(run.test[f'beam {BEAM_SIZE}']['exact'])}"
                )
                results.append(run)
    if hasattr(os, "getloadavg"):
        machine.append(("load average at end (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in os.getloadavg())))
    text = render(
        results,
        tasks,
        machine,
        seeds=args.seeds,
        quick=args.quick,
        command=command,
        elapsed=time.perf_counter() - start,
    )
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        log(f"report written to {out}")
    if args.json is not None:
        payload = {
            "seeds": args.seeds,
            "quick": args.quick,
            "tasks": {
                name: {
                    "config": asdict(t.config),
                    "src_vocab_size": t.src_vocab_size,
                    "tgt_vocab_size": t.tgt_vocab_size,
                    "references": t.references,
                    "signatures": t.signatures,
                }
                for name, t in tasks.items()
            },
            "results": [asdict(r) for r in results],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
