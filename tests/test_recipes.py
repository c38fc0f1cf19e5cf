"""Lesson 07's recipe (seq2seq_helpers.recipes): batches of similar lengths, batched translation, the seeds report."""

from __future__ import annotations

import random

import pytest
import torch

from seq2seq_helpers.corpora import CorpusPair
from seq2seq_helpers.data import EOS, PAD
from seq2seq_helpers.decoding import beam_search, greedy_decode
from seq2seq_helpers.recipes import (
    TranslationRecipe,
    length_batches,
    load_seeds_report,
    subword_vocabs,
    translate,
    translation_model,
)

WORDS = "open save file files delete the a new folder name close all recent view edit".split()


def _pairs(n=120, seed=0):
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        source = " ".join(rng.choice(WORDS) for _word in range(rng.randint(1, 9)))
        target = source.upper()
        pairs.append(CorpusPair(source, target, (target,), "sentence", source, ()))
    return pairs


@pytest.fixture(scope="module")
def small():
    pairs = _pairs()
    src_vocab, tgt_vocab = subword_vocabs(pairs, 60)
    torch.manual_seed(0)
    recipe = TranslationRecipe(emb_dim=8, hid_dim=8)
    model = translation_model(len(src_vocab), len(tgt_vocab), recipe).eval()
    return pairs, src_vocab, tgt_vocab, model


def test_length_batches_visit_every_pair_once_per_pass_in_batches_of_similar_length():
    rng = random.Random(3)
    encoded = [([5 + i % 7] * rng.randint(1, 30), [6] * rng.randint(1, 30)) for i in range(200)]
    batch = length_batches(encoded, 16, seed=1)
    per_pass = -(-len(encoded) // 16)
    seen = []
    for step in range(per_pass):
        b = batch(step)
        lengths = b.src_lengths.tolist()
        seen += lengths
        assert max(lengths) - min(lengths) <= 5, "a batch holds pairs of similar source lengths (1-30 in all)"
    assert sorted(seen) == sorted(len(s) for s, _ in encoded), "one pass visits every pair exactly once"
    orders = [[batch(s).src_lengths.max().item() for s in range(per_pass)] for _ in range(2)]
    assert orders[0] != orders[1], "each pass visits the batches in a new order"
    again = length_batches(encoded, 16, seed=1)
    first = length_batches(encoded, 16, seed=1)
    assert all(torch.equal(again(s).src, first(s).src) for s in range(per_pass)), "the same seed, the same order"


def test_length_batches_rejects_no_pairs():
    with pytest.raises(ValueError, match="empty"):
        length_batches([], 8)


def test_translate_equals_one_source_at_a_time_in_the_callers_order(small):
    pairs, src_vocab, tgt_vocab, model = small
    sources = [p.source for p in pairs[:23]]
    batched = translate(model, src_vocab, tgt_vocab, sources, batch_size=5)
    for source, out in zip(sources, batched):  # greedy: exactly what each source alone gives
        src = torch.tensor([src_vocab.encode(source)])
        one = greedy_decode(model, src, torch.tensor([src.shape[1]]), 2 * src.shape[1] + 10).tokens[0]
        assert out == tgt_vocab.decode(one)
    by_length = {}
    for p in pairs:
        by_length.setdefault(len(src_vocab.encode(p.source)), []).append(p.source)
    same = max(by_length.values(), key=len)[:6]  # one limit for the whole batch: beam search as alone
    beams = translate(model, src_vocab, tgt_vocab, same[::-1], beam_size=3, length_penalty=1.0, batch_size=4)
    for source, out in zip(same[::-1], beams):
        src = torch.tensor([src_vocab.encode(source)])
        best = beam_search(model, src, torch.tensor([src.shape[1]]), 3, 2 * src.shape[1] + 10, length_penalty=1.0)
        assert out == tgt_vocab.decode(best.tokens[0, 0])


def test_translate_leaves_the_model_in_its_mode_and_checks_its_inputs(small):
    pairs, src_vocab, tgt_vocab, model = small
    model.train()
    translate(model, src_vocab, tgt_vocab, ["open file"])
    assert model.training, "translate must give the model back in training mode"
    model.eval()
    with pytest.raises(TypeError, match="list of strings"):
        translate(model, src_vocab, tgt_vocab, "open file")
    with pytest.raises(TypeError, match=r"sources\[1\]"):
        translate(model, src_vocab, tgt_vocab, ["open", 3])
    with pytest.raises(ValueError, match="beam_size"):
        translate(model, src_vocab, tgt_vocab, ["open"], beam_size=0)
    with pytest.raises(ValueError, match="blank"):
        translate(model, src_vocab, tgt_vocab, ["open", "   "])


def test_the_recipe_model_learns_the_toy_task_a_little():
    pairs = _pairs(200, seed=1)
    src_vocab, tgt_vocab = subword_vocabs(pairs, 60)
    encoded = [(src_vocab.encode(p.source), tgt_vocab.encode(p.target)) for p in pairs]
    torch.manual_seed(0)
    model = translation_model(len(src_vocab), len(tgt_vocab), TranslationRecipe(emb_dim=16, hid_dim=16))
    batch = length_batches(encoded, 32)(0)
    before = torch.nn.functional.cross_entropy(
        model(batch.src, batch.src_lengths, batch.tgt).flatten(0, 1), batch.tgt.flatten(), ignore_index=PAD
    ).item()
    from seq2seq_helpers.recipes import train_translation

    train_translation(model, encoded, TranslationRecipe(emb_dim=16, hid_dim=16, steps=60), seed=0)
    after = torch.nn.functional.cross_entropy(
        model(batch.src, batch.src_lengths, batch.tgt).flatten(0, 1), batch.tgt.flatten(), ignore_index=PAD
    ).item()
    assert after < before - 0.5, f"60 steps of the recipe should lower the loss: {before:.2f} -> {after:.2f}"
    assert EOS not in src_vocab.encode("open")


def test_the_committed_seeds_report_was_made_with_the_lessons_recipe():
    report = load_seeds_report()
    assert report["recipe"] == TranslationRecipe()._asdict(), (
        "seq2seq_helpers/reports/translation_seeds.json was made with another recipe: re-run "
        "scripts/translation_seeds.py (make translation-seeds) after changing TranslationRecipe"
    )
    assert not report["quick"] and sorted(report["seeds"]) == ["0", "1", "2"]
    assert max(report["widths"]) >= 50


def test_a_step_in_parts_gives_the_whole_batchs_loss_and_gradients(small):
    from seq2seq_helpers.data import collate_pairs
    from seq2seq_helpers.recipes import translation_step
    from seq2seq_helpers.training import masked_cross_entropy

    pairs, src_vocab, tgt_vocab, model = small
    encoded = sorted(
        ((src_vocab.encode(p.source), tgt_vocab.encode(p.target)) for p in pairs[:24]), key=lambda e: len(e[0])
    )
    batch = collate_pairs(encoded)
    per_row = batch.src.shape[1] * batch.tgt.shape[1]
    model.eval()  # no dropout: both ways see the same network

    def loss_and_grads(step_fn):
        model.zero_grad(set_to_none=True)
        loss = step_fn(model, batch, 1)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in model.parameters()]

    whole, whole_grads = loss_and_grads(translation_step(None))
    reference = masked_cross_entropy(
        model(batch.src, batch.src_lengths, batch.tgt, teacher_forcing_ratio=1.0), batch.tgt
    )
    torch.testing.assert_close(whole, reference.detach())
    for max_cells in (per_row, 5 * per_row, 7 * per_row + 3):  # parts of 1, 5 and 7 rows (the last one shorter)
        parted, parted_grads = loss_and_grads(translation_step(max_cells))
        torch.testing.assert_close(parted, whole)
        for a, b in zip(parted_grads, whole_grads):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="max_cells"):
        translation_step(0)
