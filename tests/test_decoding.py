"""Tests for seq2seq_helpers.decoding: greedy stops per row, beam width 1 == greedy, beam search against
exhaustive enumeration and against the per-sequence reference, batch independence, length penalty, errors.

Some tests use ``PrefixModel``, a stub whose next-token probabilities are a Python function of the tokens
generated so far, so the right answer is known by hand."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from references import beam_search_reference
from torch import nn

from seq2seq_helpers.data import EOS, PAD, pad_sequences
from seq2seq_helpers.decoding import (
    BeamResult,
    beam_search,
    exact_search,
    greedy_decode,
    sample_decode,
    sampling_probs,
    sequence_log_probs,
    wu_length_penalty,
)
from seq2seq_helpers.models import (
    AttentionDecoder,
    AttentionSeq2Seq,
    DecoderGRU,
    DecoderState,
    EncoderGRU,
    LSTMEncoder,
    Seq2Seq,
)

A, B = 3, 4  # the two data tokens of the stub vocabulary
STUB_VOCAB = 5  # PAD, SOS, EOS, A, B
ATOL = 1e-5


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors run on one thread


class PrefixModel(nn.Module):
    """Stub with the encode/decode_step interface: ``probs(src_id, prefix) -> {token: probability}``.

    The state keeps (src id, number of steps, prefix tokens) in a GRU-like hidden ``[1, batch, 2 + steps]``
    so that ``state.select`` reorders it exactly as for a real model. Unlisted tokens get probability 1e-6.
    """

    def __init__(self, probs, max_steps=10):
        super().__init__()
        self.probs, self.max_steps, self.calls = probs, max_steps, 0
        self.dummy = nn.Parameter(torch.zeros(1))  # so .train()/.eval() and devices behave as usual

    def encode(self, src, src_lengths):
        hidden = torch.full((1, src.shape[0], 2 + self.max_steps), -1.0)  # [1, batch, 2 + steps]
        hidden[0, :, 0] = src[:, 0].float()
        hidden[0, :, 1] = 0
        return DecoderState(hidden=hidden)

    def decode_step(self, prev_tokens, state):
        self.calls += 1
        hidden = state.hidden.clone()
        rows = []
        for b in range(hidden.shape[1]):
            n = int(hidden[0, b, 1])
            if n >= 1:
                hidden[0, b, 2 + n - 1] = float(prev_tokens[b])
            prefix = tuple(int(x) for x in hidden[0, b, 2 : 2 + n])
            hidden[0, b, 1] = n + 1
            table = self.probs(int(hidden[0, b, 0]), prefix)
            rows.append([math.log(table.get(tok, 1e-6)) for tok in range(STUB_VOCAB)])
        return torch.tensor(rows), DecoderState(hidden=hidden), None


def stub_log_prob(table, tok):
    """log-softmax of the stub's logits for ``tok`` (the stub's probabilities are renormalised)."""
    logits = torch.tensor([math.log(table.get(t, 1e-6)) for t in range(STUB_VOCAB)])
    return float(F.log_softmax(logits, -1)[tok])


def make_models(vocab, seed, src, src_lengths, steps=6, eos_quantile=0.3):
    """An untrained Seq2Seq and AttentionSeq2Seq, made to behave like real ones for decoding tests.

    Weights are scaled up so that decisions depend on the input, and EOS gets a bias so that it wins at
    about ``eos_quantile`` of the free-running steps on ``src``: rows finish at different steps, some never.
    """
    torch.manual_seed(seed)
    gru = Seq2Seq(EncoderGRU(vocab, 6, 8), DecoderGRU(vocab, 6, 8))
    encoder = LSTMEncoder(vocab, 6, 4)
    att = AttentionSeq2Seq(encoder, AttentionDecoder(vocab, 6, encoder.dec_hid_dim, encoder.enc_dim, "additive"))
    models = {"gru": gru.eval(), "attention": att.eval()}
    with torch.no_grad():
        for model in models.values():
            for p in model.parameters():
                p *= 3.0
            logits = model(src, src_lengths, torch.full((src.shape[0], steps), EOS), teacher_forcing_ratio=0.0)
            others = logits.clone()
            others[..., EOS] = float("-inf")
            margin = others.max(-1).values - logits[..., EOS]  # how far EOS is from winning, per row and step
            model.decoder.out.bias[EOS] += margin.flatten().quantile(eos_quantile)
    return models


def random_batch(vocab, lengths, seed):
    gen = torch.Generator().manual_seed(seed)
    seqs = [torch.randint(3, vocab, (n,), generator=gen).tolist() for n in lengths]
    return pad_sequences(seqs)


# -------------------------------------------------------------------------------------------- greedy

SCRIPTS = {0: [A, B, EOS], 1: [EOS], 2: [A] * 20, 3: [B, EOS]}


def scripted(src_id, prefix):
    """Row ``src_id - 3`` follows SCRIPTS (probability 0.7 for the scripted token)."""
    script = SCRIPTS[src_id - 3]
    token = script[len(prefix)] if len(prefix) < len(script) else EOS
    return {token: 0.7, **{t: 0.1 for t in (A, B, EOS) if t != token}}


def test_greedy_rows_stop_at_their_own_eos():
    model = PrefixModel(scripted)
    src = torch.tensor([[3], [4], [5]])  # scripts 0, 1, 2
    result = greedy_decode(model, src, torch.tensor([1, 1, 1]), max_len=5)
    assert result.tokens.tolist() == [[A, B, EOS, PAD, PAD], [EOS, PAD, PAD, PAD, PAD], [A, A, A, A, A]]
    assert result.lengths.tolist() == [3, 1, 5]
    assert result.attention is None
    lp = stub_log_prob(scripted(3, ()), A)  # every chosen token has the same probability 0.7 (renormalised)
    torch.testing.assert_close(result.log_probs, torch.tensor([3 * lp, lp, 5 * lp]))


def test_greedy_stops_early_when_every_row_finished():
    model = PrefixModel(scripted)
    result = greedy_decode(model, torch.tensor([[3], [4], [6]]), torch.tensor([1, 1, 1]), max_len=9)
    assert model.calls == 3  # longest script is 3 tokens; no further steps
    assert result.tokens.tolist() == [[A, B, EOS], [EOS, PAD, PAD], [B, EOS, PAD]]


@pytest.mark.parametrize("name", ["gru", "attention"])
def test_greedy_log_probs_are_the_sum_of_chosen_log_softmax(name):
    vocab = 8
    src, src_lengths = random_batch(vocab, [4, 2, 5, 3], seed=1)
    model = make_models(vocab, 0, src, src_lengths)[name]
    result = greedy_decode(model, src, src_lengths, max_len=7)
    assert result.lengths.min() < 7  # some rows finished
    with torch.no_grad():  # score the decoded rows with teacher forcing
        log_probs = F.log_softmax(model(src, src_lengths, result.tokens), -1)
    chosen = log_probs.gather(2, result.tokens.unsqueeze(-1)).squeeze(-1)  # [batch, T]
    real = torch.arange(result.tokens.shape[1]) < result.lengths.unsqueeze(1)
    torch.testing.assert_close(result.log_probs, (chosen * real).sum(1), atol=ATOL, rtol=0)
    for b, n in enumerate(result.lengths.tolist()):
        assert torch.all(result.tokens[b, n:] == PAD)
        assert result.tokens[b, n - 1] == EOS or n == 7
        assert EOS not in result.tokens[b, : n - 1].tolist()
    if name == "attention":
        assert result.attention.shape == (4, result.tokens.shape[1], src.shape[1])
        torch.testing.assert_close(result.attention.sum(-1), real.float())


def test_decoding_restores_training_mode_and_needs_no_grad():
    src, src_lengths = random_batch(8, [3, 2], seed=0)
    model = make_models(8, 0, src, src_lengths)["attention"].train()
    result = greedy_decode(model, src, src_lengths, max_len=4)
    assert model.training and not result.log_probs.requires_grad
    beam = beam_search(model, src, src_lengths, beam_size=2, max_len=4)
    assert model.training and not beam.scores.requires_grad
    model.eval()
    greedy_decode(model, src, src_lengths, max_len=4)
    assert not model.training


# ---------------------------------------------------------------------------------------------- beam


@pytest.mark.parametrize("name", ["gru", "attention"])
@pytest.mark.parametrize("seed", [0, 1])
def test_beam_width_one_is_greedy_exactly(name, seed):
    vocab = 8
    src, src_lengths = random_batch(vocab, [4, 2, 5, 3, 1, 4], seed=seed)
    model = make_models(vocab, seed, src, src_lengths)[name]
    greedy = greedy_decode(model, src, src_lengths, max_len=6)
    beam = beam_search(model, src, src_lengths, beam_size=1, max_len=6)
    width = greedy.tokens.shape[1]
    assert beam.tokens.shape[2] == width
    assert torch.equal(beam.tokens[:, 0], greedy.tokens)
    assert torch.equal(beam.lengths[:, 0], greedy.lengths)
    assert torch.equal(beam.log_probs[:, 0], greedy.log_probs)
    assert len(set(greedy.lengths.tolist())) > 1  # rows of several lengths, finished and cut at max_len


@pytest.mark.parametrize("name", ["gru", "attention"])
@pytest.mark.parametrize("vocab,beam_size", [(8, 3), (5, 7)])  # 7 > the 4 first tokens a 5-token vocabulary has
def test_beam_keeps_a_stable_size_from_step_0(name, vocab, beam_size):
    src, src_lengths = random_batch(vocab, [4, 2, 5], seed=4)
    model = make_models(vocab, 4, src, src_lengths)[name]
    rows, selects = [], []
    decode_step = model.decode_step

    def recording_step(prev_tokens, state):
        rows.append(prev_tokens.shape[0])
        logits, state, attention = decode_step(prev_tokens, state)
        return logits, _CountingState(state, selects), attention

    model.decode_step = recording_step
    result = beam_search(model, src, src_lengths, beam_size=beam_size, max_len=6, n_best=2, return_history=True)
    assert len(rows) >= 2 and set(rows) == {3 * beam_size}, rows  # batch * beam rows at every step, step 0 too
    assert selects == []  # after step 0 rows only move within an input's beam (reorder, no copies)
    del model.decode_step  # the model's own method again
    for b in range(3):  # step 0 holds distinct hypotheses, never copies of one
        first = [node.token for node in result.history[b][0] if not node.finished]
        assert len(first) == len(set(first)) == min(beam_size, vocab - 1)
        reference = beam_search_reference(model, src[b, : src_lengths[b]], src_lengths[b], beam_size, max_len=6)
        n = len(reference[0].tokens)
        assert result.tokens[b, 0, :n].tolist() == reference[0].tokens


class _CountingState:
    """A decoder state that records calls to ``select`` (copies) and passes everything else through."""

    def __init__(self, state, selects):
        self.state, self.selects = state, selects

    def select(self, index):
        self.selects.append(index.numel())
        return self.state.select(index)

    def reorder(self, index):
        return self.state.reorder(index)

    def __getattr__(self, name):
        return getattr(self.state, name)


def greedy_trap(src_id, prefix):
    """Next-token probabilities where greedy takes A (0.5) then EOS (0.4): 0.2; B then EOS gives 0.4 * 0.9 = 0.36."""
    if prefix == ():
        return {A: 0.5, B: 0.4, EOS: 0.1}
    if prefix == (A,):
        return {A: 0.3, B: 0.3, EOS: 0.4}
    return {EOS: 0.9, A: 0.05, B: 0.05}


def test_beam_finds_what_greedy_misses_and_keeps_finished_hypotheses():
    probs = greedy_trap
    model = PrefixModel(probs)
    src, src_lengths = torch.tensor([[3]]), torch.tensor([1])
    assert greedy_decode(model, src, src_lengths, max_len=5).tokens.tolist() == [[A, EOS]]
    result = beam_search(model, src, src_lengths, beam_size=2, max_len=5, n_best=2, return_history=True)
    assert result.tokens.tolist() == [[[B, EOS], [A, EOS]]]  # 0.4 * 0.9 beats 0.5 * 0.4
    assert result.lengths.tolist() == [[2, 2]]
    expected = [
        stub_log_prob(probs(3, ()), B) + stub_log_prob(probs(3, (B,)), EOS),
        stub_log_prob(probs(3, ()), A) + stub_log_prob(probs(3, (A,)), EOS),
    ]
    torch.testing.assert_close(result.log_probs, torch.tensor([expected]))
    torch.testing.assert_close(result.scores, result.log_probs)
    # The search tree: step 0 keeps A and B from the root; at step 1 both finish.
    step0, step1 = result.history[0][0], result.history[0][1]
    assert [(n.parent, n.token, n.finished) for n in step0] == [(-1, A, False), (-1, B, False)]
    finished = {(n.parent, n.token) for n in step1 if n.finished}
    assert finished == {(0, EOS), (1, EOS)}
    assert len(result.history[0]) == 2  # done: nothing live can beat the two finished ones


def _all_sequences(vocab, max_len):
    """Every output the search can produce: non-EOS tokens then EOS within max_len, or max_len non-EOS tokens."""
    others = [t for t in range(vocab) if t != EOS]
    for n in range(max_len):
        for prefix in itertools.product(others, repeat=n):
            yield list(prefix) + [EOS]
    yield from (list(p) for p in itertools.product(others, repeat=max_len))


@pytest.mark.parametrize("name,length_penalty", [("gru", 0.0), ("attention", 0.0), ("attention", 1.0)])
def test_wide_beam_equals_exhaustive_search(name, length_penalty):
    max_len = 4
    src, src_lengths = pad_sequences([[A, B, B], [B]])
    model = make_models(STUB_VOCAB, 3, src, src_lengths, steps=max_len)[name]
    seqs = list(_all_sequences(STUB_VOCAB, max_len))  # 1 + 4 + 16 + 64 + 256 = 341 sequences
    assert len(seqs) == 341
    tgt, tgt_lengths = pad_sequences(seqs)
    result = beam_search(
        model, src, src_lengths, beam_size=400, max_len=max_len, length_penalty=length_penalty, n_best=5
    )
    for b in range(2):
        with torch.no_grad():  # score every sequence with teacher forcing
            many = len(seqs)
            logits = model(src[b : b + 1].expand(many, -1), src_lengths[b : b + 1].expand(many), tgt)
        chosen = F.log_softmax(logits, -1).gather(2, tgt.unsqueeze(-1)).squeeze(-1)
        real = torch.arange(tgt.shape[1]) < tgt_lengths.unsqueeze(1)
        log_probs = (chosen * real).sum(1)  # [341]
        scores = log_probs / wu_length_penalty(tgt_lengths.float(), length_penalty)
        order = scores.argsort(descending=True)[:5]
        assert scores[order[0]] - scores[order[1]] > 1e-4  # a clear winner, so the test is not about ties
        for i, j in enumerate(order.tolist()):
            n = int(tgt_lengths[j])
            assert result.tokens[b, i, :n].tolist() == seqs[j]
            assert result.lengths[b, i] == n
        torch.testing.assert_close(result.scores[b], scores[order], atol=ATOL, rtol=0)
        torch.testing.assert_close(result.log_probs[b], log_probs[order], atol=ATOL, rtol=0)


@pytest.mark.parametrize("name,length_penalty", [("gru", 0.0), ("attention", 0.0), ("attention", 0.8)])
def test_batched_beam_equals_the_reference_per_input(name, length_penalty):
    vocab = 7
    src, src_lengths = random_batch(vocab, [4, 1, 5, 3], seed=2)
    model = make_models(vocab, 5, src, src_lengths)[name]
    result = beam_search(model, src, src_lengths, beam_size=3, max_len=6, length_penalty=length_penalty, n_best=3)
    for b in range(4):
        reference = beam_search_reference(
            model, src[b, : src_lengths[b]], src_lengths[b], beam_size=3, max_len=6, length_penalty=length_penalty
        )
        assert len(reference) == 3
        for i, hyp in enumerate(reference):
            n = len(hyp.tokens)
            assert result.tokens[b, i, :n].tolist() == hyp.tokens
            assert torch.all(result.tokens[b, i, n:] == PAD)
            assert result.lengths[b, i] == n
            assert math.isclose(result.log_probs[b, i], hyp.log_prob, abs_tol=ATOL)
            assert math.isclose(result.scores[b, i], hyp.score, abs_tol=ATOL)


@pytest.mark.parametrize("name", ["gru", "attention"])
def test_beam_results_do_not_depend_on_the_batch(name):
    vocab = 7
    src, src_lengths = random_batch(vocab, [5, 2, 4], seed=3)
    model = make_models(vocab, 6, src, src_lengths)[name]
    src = torch.cat([src, torch.full((3, 1), PAD)], dim=1)  # extra padding column
    together = beam_search(model, src, src_lengths, beam_size=3, max_len=6, n_best=2, length_penalty=0.5)
    for b in range(3):
        n = int(src_lengths[b])
        alone = beam_search(
            model, src[b : b + 1, :n], src_lengths[b : b + 1], beam_size=3, max_len=6, n_best=2, length_penalty=0.5
        )
        width = alone.tokens.shape[2]
        assert torch.equal(together.tokens[b, :, :width], alone.tokens[0])
        assert torch.all(together.tokens[b, :, width:] == PAD)
        torch.testing.assert_close(together.scores[b], alone.scores[0], atol=ATOL, rtol=0)


def test_length_penalty_formula_and_scores():
    assert wu_length_penalty(1, 1.0) == 1.0  # (5 + 1) / 6
    assert wu_length_penalty(7, 1.0) == 2.0  # (5 + 7) / 6
    assert math.isclose(wu_length_penalty(13, 0.5), math.sqrt(3.0))
    assert wu_length_penalty(10, 0.0) == 1.0
    src, src_lengths = random_batch(7, [3, 4], seed=4)
    model = make_models(7, 7, src, src_lengths)["attention"]
    result = beam_search(model, src, src_lengths, beam_size=3, max_len=5, length_penalty=0.6, n_best=3)
    expected = result.log_probs / ((5 + result.lengths.float()) / 6) ** 0.6
    torch.testing.assert_close(result.scores, expected)
    assert torch.all(result.scores[:, :-1] >= result.scores[:, 1:])  # best first
    plain = beam_search(model, src, src_lengths, beam_size=3, max_len=5, n_best=3)
    torch.testing.assert_close(plain.scores, plain.log_probs)


def test_length_penalty_keeps_searching_while_a_longer_hypothesis_can_still_win():
    def probs(src_id, prefix):
        return {EOS: 0.5, A: 0.49} if prefix == () else {EOS: 0.999}

    model = PrefixModel(probs)
    src, src_lengths = torch.tensor([[3]]), torch.tensor([1])
    plain = beam_search(model, src, src_lengths, beam_size=1, max_len=4)
    assert plain.tokens.tolist() == [[[EOS]]]  # without a penalty the short one wins, as in greedy
    # [A, EOS] has a lower sum of log-probs, but divided by ((5 + 2) / 6) it beats [EOS]; the search must not
    # stop after step 0 just because the pool is full.
    penalised = beam_search(model, src, src_lengths, beam_size=1, max_len=4, length_penalty=1.0)
    assert penalised.tokens.tolist() == [[[A, EOS]]]
    reference = beam_search_reference(model, src[0], 1, beam_size=1, max_len=4, length_penalty=1.0)
    assert reference[0].tokens == [A, EOS]
    assert math.isclose(reference[0].score, float(penalised.scores[0, 0]), abs_tol=ATOL)


def test_beam_result_shapes_and_padding():
    src, src_lengths = random_batch(7, [3, 4, 2], seed=5)
    model = make_models(7, 8, src, src_lengths)["gru"]
    result = beam_search(model, src, src_lengths, beam_size=4, max_len=5, n_best=3)
    assert isinstance(result, BeamResult) and result.history is None
    assert result.tokens.shape[:2] == (3, 3) and result.tokens.shape[2] <= 5
    assert result.lengths.shape == result.scores.shape == result.log_probs.shape == (3, 3)
    for b in range(3):
        for i in range(3):
            n = int(result.lengths[b, i])
            row = result.tokens[b, i].tolist()
            assert all(t == PAD for t in row[n:]) and EOS not in row[: n - 1]
            assert row[n - 1] == EOS or n == 5
    assert len({tuple(r) for r in result.tokens[0].tolist()}) == 3  # distinct hypotheses, no copies


# ---------------------------------------------------------------------------------------- sampling


class FixedModel(nn.Module):
    """Stub whose next-token logits are the same at every step for every row: ``log(probs)``."""

    def __init__(self, probs):
        super().__init__()
        self.logits = torch.tensor(probs).log()
        self.dummy = nn.Parameter(torch.zeros(1))

    def encode(self, src, src_lengths):
        return DecoderState(hidden=torch.zeros(1, src.shape[0], 1))

    def decode_step(self, prev_tokens, state):
        return self.logits.expand(prev_tokens.shape[0], -1).clone(), state, None


FIXED = [0.0, 0.0, 0.2, 0.5, 0.3]  # PAD, SOS never; EOS 0.2, A 0.5, B 0.3


@pytest.mark.parametrize("name", ["gru", "attention"])
@pytest.mark.parametrize("cut", [{"top_k": 1}, {"top_p": 1e-6}, {"top_k": 1, "top_p": 0.9, "temperature": 3.0}])
def test_sampling_cut_to_one_token_is_greedy_exactly(name, cut):
    vocab = 8
    src, src_lengths = random_batch(vocab, [4, 2, 5, 3, 1, 4], seed=1)
    model = make_models(vocab, 1, src, src_lengths)[name]
    greedy = greedy_decode(model, src, src_lengths, max_len=6)
    sampled = sample_decode(model, src, src_lengths, max_len=6, generator=torch.Generator().manual_seed(0), **cut)
    assert len(set(greedy.lengths.tolist())) > 1
    assert torch.equal(sampled.tokens, greedy.tokens)
    assert torch.equal(sampled.lengths, greedy.lengths)
    assert torch.equal(sampled.log_probs, greedy.log_probs)
    if greedy.attention is not None:
        assert torch.equal(sampled.attention, greedy.attention)


@pytest.mark.parametrize(
    "settings,expected",
    [
        ({}, [0.2, 0.5, 0.3]),  # EOS, A, B: the model's own distribution
        ({"top_k": 2}, [0.0, 0.5 / 0.8, 0.3 / 0.8]),
        ({"top_p": 0.6}, [0.0, 0.5 / 0.8, 0.3 / 0.8]),  # A (0.5) is not enough, A + B (0.8) is
        ({"top_p": 0.45}, [0.0, 1.0, 0.0]),
        ({"top_p": 0.81}, [0.2, 0.5, 0.3]),
        ({"temperature": 2.0, "top_k": 2}, [0.0, 0.5**0.5 / (0.5**0.5 + 0.3**0.5), 0.3**0.5 / (0.5**0.5 + 0.3**0.5)]),
        ({"temperature": 0.5}, [0.04 / 0.38, 0.25 / 0.38, 0.09 / 0.38]),
        ({"top_k": 2, "top_p": 0.6}, [0.0, 1.0, 0.0]),  # top-p of the renormalised top 2: A has 0.625 >= 0.6
    ],
)
def test_samples_follow_the_truncated_renormalised_distribution(settings, expected):
    model = FixedModel(FIXED)
    n = 20_000
    src, src_lengths = torch.full((n, 1), 3), torch.ones(n, dtype=torch.long)
    probs = sampling_probs(model.logits.unsqueeze(0), **{"temperature": 1.0, **settings})[0]
    torch.testing.assert_close(probs, torch.tensor([0.0, 0.0, *expected]), atol=1e-6, rtol=0)
    result = sample_decode(model, src, src_lengths, max_len=3, generator=torch.Generator().manual_seed(5), **settings)
    first = torch.bincount(result.tokens[:, 0], minlength=5).float() / n  # [vocab]
    for token, p in zip((EOS, A, B), expected):
        if p == 0.0:
            assert first[token] == 0.0, f"token {token} was cut and must never be drawn"
        else:
            assert abs(first[token] - p) < 0.015, (settings, token, float(first[token]), p)  # ~4 standard errors
    # Every row stops at its own EOS, then PAD; lengths count EOS; log_probs are the model's own.
    for row, length in zip(result.tokens.tolist()[:200], result.lengths.tolist()[:200]):
        assert EOS not in row[: length - 1] and all(t == PAD for t in row[length:])
        assert row[length - 1] == EOS or length == 3
    torch.testing.assert_close(
        result.log_probs[:200], sequence_log_probs_fixed(result.tokens[:200], result.lengths[:200]), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize(
    "tail, kept",
    [
        # [1 - 3t, t, t, t]: the likelier tokens' mass before each is 0, 1 - 3t, 1 - 2t, 1 - t; a token stays while
        # that mass is below top_p, so top_p = 1 keeps all 4, and 1 - 1.5t keeps 3 (cuts the last token's 1 - t).
        (1e-8, {1.0: 4, 1 - 1e-9: 4, 1 - 1.5e-8: 3, 1 - 2.5e-8: 2}),
        (1e-6, {1.0: 4, 1 - 0.5e-6: 4, 1 - 1.5e-6: 3, 1 - 2.5e-6: 2, 0.5: 1}),
    ],
)
def test_top_p_near_one_keeps_exactly_the_tokens_the_definition_keeps(tail, kept):
    """Issue 28: top_p=1.0 zeroed tokens of probability 1e-8 (a float32 prefix sum rounded to 1), though 1 keeps
    every token. Known answers from the definition, with margins far above float32 rounding of the tail."""
    logits = torch.tensor([[1 - 3 * tail, tail, tail, tail]]).log()
    for top_p, n in kept.items():
        probs = sampling_probs(logits, top_p=top_p)[0]
        assert torch.equal(probs > 0, torch.arange(4) < n), (tail, top_p, probs)
        expected = torch.softmax(logits[0], -1) * (torch.arange(4) < n)
        torch.testing.assert_close(probs, expected / expected.sum(), atol=0, rtol=1e-6)


def test_top_p_on_a_long_tail_cuts_at_the_known_token():
    """One token of mass 1/2 and 9,999 sharing the other half (q each): the last token has 1 - q before it, so
    top_p = 1 - q/2 keeps all 10,000 and 1 - 1.5 q all but the last."""
    vocab = 10_000
    q = 0.5 / (vocab - 1)
    logits = torch.cat([torch.tensor([0.5]), torch.full((vocab - 1,), q)]).log().unsqueeze(0)
    for top_p, n in ((1.0, vocab), (1 - 0.5 * q, vocab), (1 - 1.5 * q, vocab - 1), (1 - 2.5 * q, vocab - 2)):
        assert int((sampling_probs(logits, top_p=top_p) > 0).sum()) == n, top_p


def test_sampling_probs_refuses_a_row_with_no_distribution_and_keeps_banned_tokens_at_zero():
    """A -inf logit bans a token (probability exactly 0); a row with every token banned, or holding NaN or +inf,
    would give NaN probabilities (softmax over nothing) and is refused, naming the row."""
    inf = float("inf")
    probs = sampling_probs(torch.tensor([[0.0, -inf, 0.0]]), top_p=1.0)
    assert torch.equal(probs, torch.tensor([[0.5, 0.0, 0.5]]))
    for row in ([-inf, -inf, -inf], [0.0, float("nan"), 0.0], [0.0, inf, 0.0]):
        with pytest.raises(ValueError, match=r"logits row 1 has no distribution.*finite logit"):
            sampling_probs(torch.tensor([[0.0, 1.0, 2.0], row]))
    with pytest.raises(ValueError, match=r"shape \[rows, vocab\]"):
        sampling_probs(torch.zeros(2, 0))


def sequence_log_probs_fixed(tokens, lengths):
    logp = torch.tensor(FIXED).log()
    real = torch.arange(tokens.shape[1]) < lengths.unsqueeze(1)
    return torch.where(real, logp[tokens], torch.zeros(())).sum(1)


@pytest.mark.parametrize("name", ["gru", "attention"])
def test_sampling_is_seeded_batched_and_scored_by_the_model(name):
    vocab = 8
    src, src_lengths = random_batch(vocab, [4, 2, 5, 3, 1, 4] * 5, seed=2)
    model = make_models(vocab, 2, src, src_lengths)[name]
    first = sample_decode(model, src, src_lengths, max_len=6, top_p=0.9, generator=torch.Generator().manual_seed(3))
    again = sample_decode(model, src, src_lengths, max_len=6, top_p=0.9, generator=torch.Generator().manual_seed(3))
    other = sample_decode(model, src, src_lengths, max_len=6, top_p=0.9, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first.tokens, again.tokens)
    assert not torch.equal(first.tokens, other.tokens)
    assert len(set(first.lengths.tolist())) > 1  # rows stop at their own EOS
    torch.testing.assert_close(sequence_log_probs(model, src, src_lengths, first.tokens), first.log_probs)
    assert model.training is False


def test_errors_for_bad_sampling_arguments():
    src, src_lengths = random_batch(7, [3, 2], seed=0)
    model = make_models(7, 0, src, src_lengths)["gru"]
    for bad, match in (
        (dict(temperature=0.0), "temperature must be > 0"),
        (dict(temperature=-1.0), "temperature must be > 0"),
        (dict(temperature=float("nan")), "temperature must be > 0"),
        (dict(temperature=float("inf")), "temperature must be finite"),
        (dict(top_k=0), "top_k must be at least 1"),
        (dict(top_p=0.0), r"top_p must be in \(0, 1\]"),
        (dict(top_p=1.5), r"top_p must be in \(0, 1\]"),
        (dict(max_len=0), "max_len must be at least 1"),
    ):
        with pytest.raises(ValueError, match=match):
            sample_decode(model, src, src_lengths, **{"max_len": 4, **bad})
    for bad, match in (
        (dict(temperature="hot"), "temperature must be a number"),
        (dict(top_k=2.0), "top_k must be an int"),
        (dict(top_k=True), "top_k must be an int"),
        (dict(top_p="0.9"), "top_p must be a number"),
        (dict(generator=0), "generator must be a torch.Generator"),
    ):
        with pytest.raises(TypeError, match=match):
            sample_decode(model, src, src_lengths, **{"max_len": 4, **bad})
    with pytest.raises(TypeError, match="model must be a seq2seq model with encode"):
        sample_decode(nn.Linear(2, 2), src, src_lengths, max_len=4)
    with pytest.raises(ValueError, match="logits must be a float tensor of shape"):
        sampling_probs(torch.zeros(5))
    with pytest.raises(TypeError, match="logits must be a torch.Tensor"):
        sampling_probs([[0.0, 1.0]])


# ------------------------------------------------------------------------------------------- exact


def _brute_force(model, src, src_lengths, vocab, max_len):
    """Every output the search space holds, scored one teacher-forced pass per input: ``(seqs, [B, n] log P)``."""
    seqs = list(_all_sequences(vocab, max_len))
    tgt, _ = pad_sequences(seqs)
    rows = []
    for b in range(src.shape[0]):
        many = len(seqs)
        rows.append(
            sequence_log_probs(model, src[b : b + 1].expand(many, -1), src_lengths[b : b + 1].expand(many), tgt)
        )
    return seqs, torch.stack(rows)


def test_exact_search_finds_the_most_probable_output_that_greedy_and_small_beams_miss():
    """Against brute force over every output (vocabulary 6, up to 4 tokens: 1,555 outputs per input)."""
    vocab, max_len = 6, 4
    cases = misses = 0
    for seed in range(4):
        src, src_lengths = random_batch(vocab, [3, 1, 4, 2, 3], seed=seed)
        for name, model in make_models(vocab, seed, src, src_lengths, steps=max_len).items():
            seqs, log_probs = _brute_force(model, src, src_lengths, vocab, max_len)  # [B, 1555]
            result = exact_search(model, src, src_lengths, max_len=max_len, beam_size=1)
            greedy = greedy_decode(model, src, src_lengths, max_len=max_len)
            assert result.proven.all()
            top2 = log_probs.topk(2, dim=1)
            for b in range(src.shape[0]):
                if top2.values[b, 0] - top2.values[b, 1] < 1e-4:
                    continue  # a tie: either answer is right
                cases += 1
                best = seqs[int(top2.indices[b, 0])]
                assert result.tokens[b, : result.lengths[b]].tolist() == best, (name, seed, b)
                assert torch.all(result.tokens[b, len(best) :] == PAD)
                assert math.isclose(result.log_probs[b], top2.values[b, 0], abs_tol=ATOL)
                misses += greedy.tokens[b, : greedy.lengths[b]].tolist() != best
    assert cases >= 30  # almost every input has a clear winner
    assert misses >= 3  # greedy misses it on some inputs, so the search had something to find


def test_exact_search_on_a_hand_made_model():
    probs = greedy_trap
    model = PrefixModel(probs)
    src, src_lengths = torch.tensor([[3]]), torch.tensor([1])
    result = exact_search(model, src, src_lengths, max_len=5, beam_size=1)
    assert result.tokens.tolist() == [[B, EOS]] and result.lengths.tolist() == [2]
    expected = stub_log_prob(probs(3, ()), B) + stub_log_prob(probs(3, (B,)), EOS)
    assert math.isclose(result.log_probs[0], expected, abs_tol=ATOL)
    assert result.proven.tolist() == [True] and result.expanded.tolist()[0] >= 2

    def unfinished(src_id, prefix):  # greedy: B then EOS (0.5 * 0.35); best: A A A, cut at max_len (0.45 * 0.95^2)
        if prefix == ():
            return {B: 0.5, A: 0.45, EOS: 0.05}
        return {EOS: 0.35, A: 0.33, B: 0.32} if prefix[0] == B else {A: 0.95, EOS: 0.03, B: 0.02}

    model = PrefixModel(unfinished)
    assert greedy_decode(model, src, src_lengths, max_len=3).tokens.tolist() == [[B, EOS]]
    result = exact_search(model, src, src_lengths, max_len=3, beam_size=1)
    assert result.tokens.tolist() == [[A, A, A]] and result.lengths.tolist() == [3]
    expected = sum(stub_log_prob(unfinished(3, (A,) * i), A) for i in range(3))
    assert math.isclose(result.log_probs[0], expected, abs_tol=ATOL)


@pytest.mark.parametrize("name", ["gru", "attention"])
def test_exact_search_is_never_worse_than_beam_and_does_not_depend_on_the_batch(name):
    vocab = 9
    src, src_lengths = random_batch(vocab, [5, 2, 4, 6, 3, 1], seed=7)
    model = make_models(vocab, 4, src, src_lengths, eos_quantile=0.15)[name]
    result = exact_search(model, src, src_lengths, max_len=7)
    assert result.proven.all()
    torch.testing.assert_close(sequence_log_probs(model, src, src_lengths, result.tokens), result.log_probs)
    for k in (1, 2, 4, 8):
        beam = beam_search(model, src, src_lengths, beam_size=k, max_len=7)
        assert torch.all(result.log_probs >= beam.log_probs[:, 0] - ATOL)
    for b in range(src.shape[0]):
        n = int(src_lengths[b])
        alone = exact_search(model, src[b : b + 1, :n], src_lengths[b : b + 1], max_len=7)
        width = alone.tokens.shape[1]
        assert torch.equal(result.tokens[b, :width], alone.tokens[0])
        assert torch.all(result.tokens[b, width:] == PAD)
        assert result.expanded[b] == alone.expanded[0]
    # The incumbent's width changes the cost, never the answer.
    wide = exact_search(model, src, src_lengths, max_len=7, beam_size=8)
    assert torch.equal(wide.tokens, result.tokens)
    assert torch.all(wide.expanded <= result.expanded)


def test_exact_search_gives_up_past_its_budget_and_says_so():
    vocab = 9
    src, src_lengths = random_batch(vocab, [5, 2, 4, 6], seed=8)
    model = make_models(vocab, 2, src, src_lengths)["attention"]
    with torch.no_grad():  # flatter distributions and a rarer EOS: a much larger search
        model.decoder.out.weight /= 2.0
        model.decoder.out.bias[EOS] -= 4.0
    full = exact_search(model, src, src_lengths, max_len=6)
    assert full.proven.all() and torch.all(full.expanded > 50)
    capped = exact_search(model, src, src_lengths, max_len=6, beam_size=2, max_frontier=5)
    assert not capped.proven.all()
    beam = beam_search(model, src, src_lengths, beam_size=2, max_len=6)
    for b in range(src.shape[0]):
        if capped.proven[b]:
            assert torch.equal(capped.tokens[b], full.tokens[b, : capped.tokens.shape[1]])
        else:  # what it returns is still a real output, at least as likely as the incumbent
            assert capped.log_probs[b] >= beam.log_probs[b, 0] - ATOL
            assert capped.log_probs[b] <= full.log_probs[b] + ATOL
    torch.testing.assert_close(sequence_log_probs(model, src, src_lengths, capped.tokens), capped.log_probs)


def test_errors_for_bad_exact_search_arguments():
    src, src_lengths = random_batch(7, [3, 2], seed=0)
    model = make_models(7, 0, src, src_lengths)["gru"]
    with pytest.raises(ValueError, match="max_frontier must be at least 1"):
        exact_search(model, src, src_lengths, max_len=5, max_frontier=0)
    with pytest.raises(TypeError, match="max_frontier must be an int"):
        exact_search(model, src, src_lengths, max_len=5, max_frontier=1e4)
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        exact_search(model, src, src_lengths, max_len=0)
    with pytest.raises(ValueError, match="beam_size must be at least 1"):
        exact_search(model, src, src_lengths, max_len=5, beam_size=0)
    with pytest.raises(TypeError, match="model must be a seq2seq model with encode"):
        exact_search(nn.Linear(2, 2), src, src_lengths, max_len=5)


# -------------------------------------------------------------------------------------------- errors


def test_errors_for_bad_search_arguments():
    src, src_lengths = random_batch(7, [3, 2], seed=0)
    model = make_models(7, 0, src, src_lengths)["gru"]
    with pytest.raises(ValueError, match="beam_size must be at least 1"):
        beam_search(model, src, src_lengths, beam_size=0, max_len=5)
    with pytest.raises(TypeError, match="beam_size must be an int"):  # one rule: wrong type -> TypeError
        beam_search(model, src, src_lengths, beam_size=2.0, max_len=5)
    with pytest.raises(ValueError, match=r"n_best \(3\) cannot be larger than beam_size \(2\)"):
        beam_search(model, src, src_lengths, beam_size=2, max_len=5, n_best=3)
    with pytest.raises(ValueError, match="n_best must be at least 1"):
        beam_search(model, src, src_lengths, beam_size=2, max_len=5, n_best=0)
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        beam_search(model, src, src_lengths, beam_size=2, max_len=0)
    with pytest.raises(ValueError, match="length_penalty must be >= 0"):
        beam_search(model, src, src_lengths, beam_size=2, max_len=5, length_penalty=-1.0)
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        greedy_decode(model, src, src_lengths, max_len=0)
    with pytest.raises(TypeError, match="max_len must be an int"):
        greedy_decode(model, src, src_lengths, max_len="5")
    with pytest.raises(ValueError, match="beam_size must be at least 1"):
        beam_search_reference(model, src[0], 3, beam_size=0, max_len=5)
    with pytest.raises(ValueError, match="decodes one sequence"):
        beam_search_reference(model, src, src_lengths, beam_size=2, max_len=5)
    with pytest.raises(TypeError, match="model must be a seq2seq model with encode"):
        greedy_decode(nn.Linear(2, 2), src, src_lengths, max_len=5)
    with pytest.raises(ValueError, match="outside the vocabulary"):  # the model's own input checks
        greedy_decode(model, src + 7, src_lengths, max_len=5)


# ------------------------------------------------------------------------------- scoring sequences


@pytest.mark.parametrize("name", ["gru", "attention"])
def test_sequence_log_probs_agree_with_the_decoders_own_scores(name):
    vocab = 8
    src, src_lengths = random_batch(vocab, [4, 2, 5, 3, 1, 4], seed=3)
    model = make_models(vocab, 3, src, src_lengths)[name]
    greedy = greedy_decode(model, src, src_lengths, max_len=6)
    assert len(set(greedy.lengths.tolist())) > 1  # finished rows (EOS then PAD) and rows cut at max_len
    torch.testing.assert_close(sequence_log_probs(model, src, src_lengths, greedy.tokens), greedy.log_probs)
    beam = beam_search(model, src, src_lengths, beam_size=3, max_len=6, n_best=3)
    for i in range(3):
        torch.testing.assert_close(sequence_log_probs(model, src, src_lengths, beam.tokens[:, i]), beam.log_probs[:, i])
    # Tokens after the first EOS do not count, whatever they are.
    after_eos = (torch.cumsum((greedy.tokens == EOS).long(), 1) - (greedy.tokens == EOS).long()) > 0
    assert after_eos.any()
    noisy = greedy.tokens.masked_fill(after_eos, 5)
    torch.testing.assert_close(sequence_log_probs(model, src, src_lengths, noisy), greedy.log_probs)
    assert model.training is False


def test_sequence_log_probs_errors():
    vocab = 8
    src, src_lengths = random_batch(vocab, [4, 2], seed=0)
    model = make_models(vocab, 0, src, src_lengths)["attention"]
    with pytest.raises(ValueError, match=r"tokens must have shape \[batch, tokens_len\]"):
        sequence_log_probs(model, src, src_lengths, torch.tensor([3, 4, EOS]))
    with pytest.raises(ValueError, match="tokens has 3 rows but src has 2"):
        sequence_log_probs(model, src, src_lengths, torch.full((3, 2), EOS))
    with pytest.raises(ValueError, match="BeamResult"):
        sequence_log_probs(model, src, src_lengths, torch.full((2, 3, 2), EOS))
    with pytest.raises(ValueError, match="tokens is empty"):
        sequence_log_probs(model, src, src_lengths, torch.zeros(2, 0, dtype=torch.long))
