"""Lesson 07's recipe for real translation, in one place: the lesson trains with it, and so does
``scripts/translation_seeds.py``, which repeats the lesson over more seeds and a wider decoding sweep.

The model is lesson 04's BiLSTM encoder with additive attention and an LSTM decoder, on sentencepiece subwords.
Two things make it fit a laptop's budget on real sentences, whose lengths vary from 1 to 25 words:

* **Batches of similar lengths** (:func:`length_batches`): the training pairs are sorted by length and cut into
  batches, and the batches are visited in a new random order at every pass. A batch then pads to its own
  longest pair, not the corpus's, which in lesson 07 roughly halves a step's cost.
* **A memory budget per training step** (:func:`translation_step`): additive attention builds
  ``tanh(W q + U k)`` for every target position against every source position, a ``[rows, target length,
  source length, attn_dim]`` tensor that autograd keeps for the backward pass, which makes gradients of the
  same size. A batch of more than ``max_cells`` attention cells (rows × source × target pieces) is therefore
  run in parts of fewer rows, each part's gradient added before the one optimiser step (gradient
  accumulation). The loss is the batch's, weighted by target tokens as before; only the memory changes.
* **Decoding sorted by length, with a length limit per batch** (:func:`translate`): each batch of sources stops
  at ``2 * its longest source + 10`` pieces, so one long sentence does not keep every hypothesis of many short
  ones running (a hypothesis that never writes ``<eos>`` runs until the limit).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from importlib import resources
from typing import Callable, NamedTuple

import torch

from . import _validate
from .attention import AdditiveAttention
from .data import PAD, Batch, collate_pairs
from .decoding import beam_search, greedy_decode
from .models import AttentionDecoder, AttentionSeq2Seq, LSTMEncoder
from .training import History, adam, fit
from .translation import SubwordVocab

SEEDS_REPORT = "reports/translation_seeds.json"  # written by scripts/translation_seeds.py, inside the package

__all__ = [
    "TranslationRecipe",
    "length_batches",
    "subword_vocabs",
    "train_translation",
    "translate",
    "translation_step",
    "translation_model",
]


class TranslationRecipe(NamedTuple):
    vocab_size: int = 1000  # sentencepiece pieces a side, special tokens included
    emb_dim: int = 128
    hid_dim: int = 128  # per encoder direction; the decoder has 2 * hid_dim
    dropout: float = 0.2  # on the encoder's embeddings and outputs
    batch_size: int = 64
    steps: int = 1200
    lr: float = 5e-3  # Adam, cosine decay to 0 over the steps
    max_words: int = 25  # longest source kept, in words
    max_cells: int = 64 * 32 * 32  # rows × source × target pieces per part of a training step (its memory)


def subword_vocabs(pairs, vocab_size: int) -> tuple[SubwordVocab, SubwordVocab]:
    """A sentencepiece vocabulary for the sources and one for the targets, each trained on ``pairs`` only (the
    training split: every reference translation is a target text)."""
    sources = [p.source for p in pairs]
    targets = [r for p in pairs for r in p.references]
    return SubwordVocab.train(sources, vocab_size), SubwordVocab.train(targets, vocab_size)


def translation_model(src_vocab_size: int, tgt_vocab_size: int, recipe: TranslationRecipe | None = None):
    """The recipe's BiLSTM + additive attention model (untrained, on the CPU); ``recipe``: the defaults if None."""
    recipe = recipe or TranslationRecipe()
    encoder = LSTMEncoder(src_vocab_size, recipe.emb_dim, recipe.hid_dim, bidirectional=True, dropout=recipe.dropout)
    attention = AdditiveAttention(encoder.dec_hid_dim, encoder.enc_dim, attn_dim=recipe.hid_dim)
    decoder = AttentionDecoder(
        tgt_vocab_size, recipe.emb_dim, hid_dim=encoder.dec_hid_dim, enc_dim=encoder.enc_dim, attention=attention
    )
    return AttentionSeq2Seq(encoder, decoder)


def length_batches(encoded: Sequence, batch_size: int, seed: int = 0) -> Callable[[int], object]:
    """``step -> Batch`` over ``encoded`` ``(src ids, tgt ids)`` pairs: batches of similar lengths (sorted by
    source, then target length), each pass over them in a new order drawn from ``seed``."""
    _validate.integer(batch_size, "batch_size")
    encoded = list(encoded)
    if not encoded:
        raise ValueError("encoded is empty: pass the training pairs as (src ids, tgt ids)")
    order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i][0]), len(encoded[i][1])))
    batches = [collate_pairs([encoded[i] for i in order[k : k + batch_size]]) for k in range(0, len(order), batch_size)]
    rng = random.Random(seed)
    visit: list[int] = []

    def batch(step: int):
        if not visit:
            visit.extend(rng.sample(range(len(batches)), len(batches)))
        return batches[visit.pop()]

    return batch


def _part(batch: Batch, rows: slice) -> Batch:
    # rows of a batch, cut to their own longest source and target (the batch is sorted by length)
    src_lengths, tgt_lengths = batch.src_lengths[rows], batch.tgt_lengths[rows]
    src = batch.src[rows, : int(src_lengths.max())]
    tgt = batch.tgt[rows, : int(tgt_lengths.max())]
    return Batch(src, src_lengths, tgt, tgt_lengths)


def translation_step(max_cells: int | None = None):
    """``step_fn`` for :func:`~seq2seq_helpers.training.fit`: teacher-forced cross-entropy over the batch's
    target tokens. A batch of more than ``max_cells`` attention cells (rows × source length × target length) is
    run in parts of at most that many: each part's share of the loss (its tokens' summed cross-entropy over the
    batch's target tokens) is back-propagated before the next part runs, so the gradients add up to the whole
    batch's and only one part's activations are ever held. ``max_cells=None``: the whole batch at once."""
    if max_cells is not None:
        _validate.integer(max_cells, "max_cells")

    def step_fn(model, batch, step):
        rows, per_row = batch.src.shape[0], batch.src.shape[1] * batch.tgt.shape[1]
        size = rows if max_cells is None else max(1, max_cells // per_row)
        tokens = (batch.tgt != PAD).sum()
        done = 0.0
        for start in range(0, rows, size):
            part = batch if size >= rows else _part(batch, slice(start, start + size))
            logits = model(part.src, part.src_lengths, part.tgt, teacher_forcing_ratio=1.0)
            summed = torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), part.tgt.flatten(), ignore_index=PAD, reduction="sum"
            )
            share = summed / tokens
            if start + size >= rows:
                return share + done  # fit back-propagates the last part; its value is the whole batch's loss
            share.backward()
            done += share.item()

    return step_fn


def train_translation(
    model,
    encoded: Sequence,
    recipe: TranslationRecipe | None = None,
    seed: int = 0,
    eval_fn=None,
    eval_every: int | None = None,
    desc: str = "training",
) -> History:
    """Train ``model`` on ``encoded`` pairs with the recipe (the defaults if None): batches of similar lengths,
    each step within the recipe's memory budget (:func:`translation_step`), Adam, cosine decay, teacher forcing,
    gradients clipped at norm 1."""
    recipe = recipe or TranslationRecipe()
    batches = length_batches(encoded, recipe.batch_size, seed)
    optimizer = adam(model.parameters(), lr=recipe.lr)
    return fit(
        model,
        optimizer,
        batches,
        recipe.steps,
        translation_step(recipe.max_cells),
        eval_fn=eval_fn,
        eval_every=eval_every,
        desc=desc,
    )


def translate(
    model,
    src_vocab: SubwordVocab,
    tgt_vocab: SubwordVocab,
    sources: Sequence[str],
    beam_size: int = 1,
    length_penalty: float = 0.0,
    batch_size: int = 64,
) -> list[str]:
    """Translations of ``sources`` (texts), in their order: greedy decoding for ``beam_size=1`` with no length
    penalty, else beam search's best hypothesis. Sources are decoded in batches of similar length; an output
    never has more than ``2 * its source's pieces + 10`` pieces. Greedy outputs are what each source decoded
    alone would give. A beam runs until the batch's longest limit, so an output that reaches its own limit
    without ``<eos>`` (a model that rambles) may differ from decoding its source alone."""
    _validate.instance(src_vocab, SubwordVocab, "src_vocab")
    _validate.instance(tgt_vocab, SubwordVocab, "tgt_vocab")
    if isinstance(sources, str) or not isinstance(sources, Sequence):
        raise TypeError(f"sources must be a list of strings, got {_validate._describe(sources)}")
    beam_size = _validate.integer(beam_size, "beam_size")
    length_penalty = _validate.number(length_penalty, "length_penalty", 0.0)
    batch_size = _validate.integer(batch_size, "batch_size")
    for i, text in enumerate(sources):
        if not _validate.string(text, f"sources[{i}]", "Open file", allow_empty=True).strip():
            raise ValueError(f"sources[{i}] is blank ({text!r}); pass texts with something to translate")
    encoded = [src_vocab.encode(text) for text in sources]
    device = next(model.parameters()).device
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    outputs: list[str] = [""] * len(encoded)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for k in range(0, len(order), batch_size):
                rows = order[k : k + batch_size]
                batch = collate_pairs([(encoded[i], []) for i in rows]).to(device)
                max_len = 2 * len(encoded[rows[-1]]) + 10
                if beam_size == 1 and length_penalty == 0:
                    tokens = greedy_decode(model, batch.src, batch.src_lengths, max_len).tokens  # [batch, T]
                else:
                    tokens = beam_search(
                        model, batch.src, batch.src_lengths, beam_size, max_len, length_penalty=length_penalty
                    ).tokens[:, 0]  # [batch, T]: each source's best hypothesis
                for i, row in zip(rows, tokens.cpu()):
                    outputs[i] = tgt_vocab.decode(row[: 2 * len(encoded[i]) + 10])  # its own limit
    finally:
        model.train(was_training)
    return outputs


def load_seeds_report() -> dict:
    """The figures of ``scripts/translation_seeds.py`` (the lesson's recipe over seeds 0, 1, 2, with its
    decoding sweep), as committed; shipped inside the package so that the lesson finds them on Colab too."""
    text = resources.files(__package__).joinpath(SEEDS_REPORT).read_text(encoding="utf-8")
    return json.loads(text)
