"""Tests for seq2seq_helpers.training: masked loss, schedules, the fit loop and its History.

Models here are a few parameters each, so every fit() call takes milliseconds.
"""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from seq2seq_helpers.data import EOS, PAD, collate_pairs
from seq2seq_helpers.training import (
    History,
    cosine_schedule,
    evaluate,
    fit,
    masked_cross_entropy,
    seq2seq_step,
    teacher_forcing_schedule,
)

VOCAB = 6


class BiasOnly(nn.Module):
    """The same logits at every position: all it can learn is the target tokens' frequencies."""

    def __init__(self, vocab=VOCAB):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab))

    def forward(self, tgt):
        return self.bias.expand(tgt.shape[0], tgt.shape[1], -1)  # [batch, tgt_len, vocab]


class StubSeq2Seq(BiasOnly):
    """Records what seq2seq_step hands a model."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, src, src_lengths, tgt, teacher_forcing_ratio=1.0):
        self.calls.append(dict(src=src, src_lengths=src_lengths, tgt=tgt, ratio=teacher_forcing_ratio))
        return super().forward(tgt)


def _sgd(model, lr=0.1):
    return torch.optim.SGD(model.parameters(), lr=lr)


def _mse_step(model, batch, step):
    x, y = batch
    return F.mse_loss(model(x), y)


def _line_batch(step=None):
    x = torch.linspace(-1, 1, 8).unsqueeze(1)  # [8, 1]
    return x, 2 * x + 1


# ------------------------------------------------------------------------------------------------ loss


def test_masked_cross_entropy_is_the_mean_over_non_pad_positions():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, VOCAB)
    targets = torch.tensor([[3, 4, EOS, PAD], [5, EOS, PAD, PAD]])
    log_probs = logits.log_softmax(-1)
    real = [(b, t) for b in range(2) for t in range(4) if targets[b, t] != PAD]
    assert len(real) == 5
    by_hand = -sum(log_probs[b, t, targets[b, t]] for b, t in real) / len(real)
    assert masked_cross_entropy(logits, targets) == pytest.approx(float(by_hand), abs=1e-6)


def test_loss_is_unaffected_by_extra_padding_and_by_logits_at_padding():
    torch.manual_seed(1)
    logits = torch.randn(2, 3, VOCAB)
    targets = torch.tensor([[3, 4, EOS], [5, EOS, PAD]])
    loss = masked_cross_entropy(logits, targets)
    wider_logits = torch.cat([logits, 100 * torch.randn(2, 2, VOCAB)], dim=1)
    wider_targets = torch.cat([targets, torch.full((2, 2), PAD)], dim=1)
    assert masked_cross_entropy(wider_logits, wider_targets) == pytest.approx(float(loss), abs=1e-6)
    changed = logits.clone()
    changed[1, 2] = 50.0  # the logits at the one PAD position
    assert masked_cross_entropy(changed, targets) == pytest.approx(float(loss), abs=1e-6)


def test_padding_positions_get_no_gradient():
    logits = torch.randn(1, 3, VOCAB, requires_grad=True)
    masked_cross_entropy(logits, torch.tensor([[3, EOS, PAD]])).backward()
    assert torch.all(logits.grad[0, 2] == 0)
    assert logits.grad[0, :2].abs().sum() > 0


def test_custom_pad_id():
    logits = torch.zeros(1, 2, VOCAB)
    logits[0, 1, 5] = 9.0  # the position holding pad_id=5 is ignored however wrong the logits there
    assert masked_cross_entropy(logits, torch.tensor([[3, 5]]), pad_id=5) == pytest.approx(math.log(VOCAB))


@pytest.mark.parametrize(
    "logits_shape, targets_shape",
    [((2, 3), (2, 3)), ((2, 3, VOCAB), (2, 4)), ((2, 3, VOCAB), (6,)), ((2, 3, VOCAB), (3, 3))],
)
def test_masked_cross_entropy_shape_errors(logits_shape, targets_shape):
    with pytest.raises(ValueError, match=r"\[batch, tgt_len, vocab\]"):
        masked_cross_entropy(torch.zeros(logits_shape), torch.full(targets_shape, 3))


def test_masked_cross_entropy_needs_tensors():
    with pytest.raises(TypeError):
        masked_cross_entropy(torch.zeros(1, 1, VOCAB), [[3]])


def test_masked_cross_entropy_device_mismatch():
    # The meta device stands in for a GPU: the check fires before any value is read.
    with pytest.raises(ValueError, match="one device"):
        masked_cross_entropy(torch.zeros(1, 2, VOCAB, device="meta"), torch.tensor([[3, EOS]]))


@pytest.mark.parametrize("bad_id", [VOCAB, -1])
def test_masked_cross_entropy_ids_outside_the_vocab(bad_id):
    with pytest.raises(ValueError, match=f"outside 0..{VOCAB - 1}"):
        masked_cross_entropy(torch.zeros(1, 2, VOCAB), torch.tensor([[3, bad_id]]))


def test_masked_cross_entropy_all_padding():
    with pytest.raises(ValueError, match="every target token is padding"):
        masked_cross_entropy(torch.zeros(2, 2, VOCAB), torch.full((2, 2), PAD))


# ----------------------------------------------------------------------------------------- lr schedule


def _lrs(total_steps, warmup_steps=0, min_lr_ratio=0.0, base=0.1):
    """Learning rate before the first step, then after each scheduler step."""
    param = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=base)
    sched = cosine_schedule(opt, total_steps, warmup_steps, min_lr_ratio)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(total_steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def test_cosine_starts_at_base_is_half_in_the_middle_and_ends_at_zero():
    lrs = _lrs(10)
    assert lrs[0] == pytest.approx(0.1)
    assert lrs[5] == pytest.approx(0.05)
    assert lrs[10] == pytest.approx(0.0, abs=1e-12)
    assert lrs == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * s / 10)) for s in range(11)])
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_cosine_with_a_floor():
    lrs = _lrs(10, min_lr_ratio=0.1)
    assert lrs[0] == pytest.approx(0.1)
    assert lrs[5] == pytest.approx(0.1 * (0.1 + 0.9 * 0.5))
    assert lrs[10] == pytest.approx(0.01)


def test_cosine_warmup_ramps_linearly_then_decays():
    lrs = _lrs(12, warmup_steps=4)
    assert lrs[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1])
    assert lrs[4] == pytest.approx(0.1)  # decay starts after the warm-up
    assert lrs[8] == pytest.approx(0.05)  # half-way through the 8 decay steps
    assert lrs[12] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(total_steps=0),
        dict(total_steps=10, warmup_steps=-1),
        dict(total_steps=10, warmup_steps=10),
        dict(total_steps=10, min_lr_ratio=-0.1),
        dict(total_steps=10, min_lr_ratio=1.5),
    ],
)
def test_cosine_bad_arguments(kwargs):
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError):
        cosine_schedule(opt, **kwargs)


# ------------------------------------------------------------------------------------- teacher forcing


def test_constant_schedule():
    schedule = teacher_forcing_schedule("constant", ratio=0.7)
    assert [schedule(s) for s in (0, 1, 1000)] == [0.7, 0.7, 0.7]
    assert teacher_forcing_schedule("constant")(5) == 1.0


def test_linear_schedule():
    schedule = teacher_forcing_schedule("linear", 10)
    assert [schedule(s) for s in (0, 5, 10, 20)] == pytest.approx([1.0, 0.5, 0.0, 0.0])
    floored = teacher_forcing_schedule("linear", 10, min_ratio=0.2)
    assert [floored(s) for s in (0, 5, 10)] == pytest.approx([1.0, 0.5, 0.2])


def test_exponential_schedule():
    schedule = teacher_forcing_schedule("exponential", 100, k=0.9)
    assert [schedule(s) for s in (0, 1, 3)] == pytest.approx([1.0, 0.9, 0.729])
    default = teacher_forcing_schedule("exponential", 50)  # default k: 0.01 at total_steps
    assert default(50) == pytest.approx(0.01)
    assert default(25) == pytest.approx(0.1)  # k**25 = sqrt(k**50)
    assert teacher_forcing_schedule("exponential", 50, min_ratio=0.05)(50) == pytest.approx(0.05)


def test_inverse_sigmoid_schedule():
    schedule = teacher_forcing_schedule("inverse_sigmoid", 100, k=5)
    assert schedule(0) == pytest.approx(5 / 6)
    assert schedule(10) == pytest.approx(5 / (5 + math.e**2))
    assert schedule(10**6) == pytest.approx(0.0, abs=1e-12)  # no overflow far past the end
    for total in (1, 10, 100, 5000):
        default = teacher_forcing_schedule("inverse_sigmoid", total)  # default k: 1/2 half-way
        assert default(total / 2) == pytest.approx(0.5, abs=1e-9)
        assert default(0) > default(total / 2) > default(total)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("cosine", 10), {}, "unknown teacher-forcing schedule"),
        (("constant",), dict(ratio=1.5), "ratio must be in"),
        (("constant",), dict(ratio=-0.1), "ratio must be in"),
        (("linear",), {}, "needs total_steps"),
        (("exponential", 0), {}, "needs total_steps"),
        (("linear", 10), dict(min_ratio=1.0), "min_ratio"),
        (("exponential", 10), dict(k=1.0), "0 < k < 1"),
        (("exponential", 10), dict(k=0.0), "0 < k < 1"),
        (("inverse_sigmoid", 10), dict(k=0.5), "k >= 1"),
    ],
)
def test_teacher_forcing_schedule_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        teacher_forcing_schedule(*args, **kwargs)


# ------------------------------------------------------------------------------------------------- fit


def test_fit_learns_a_line_with_a_custom_step_fn_and_a_callable_source():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    asked = []

    def batches(step):
        asked.append(step)
        return _line_batch()

    history = fit(
        model,
        _sgd(model, 0.5),
        batches,
        60,
        _mse_step,
        lr_schedule=None,
        clip_grad_norm=None,
        log_every=1,
        progress=False,
    )
    assert model.weight.item() == pytest.approx(2.0, abs=1e-3)
    assert model.bias.item() == pytest.approx(1.0, abs=1e-3)
    assert history.loss[-1] < 1e-5 < history.loss[0]
    assert asked == list(range(1, 61))  # one call per step, numbered like the steps step_fn sees
    assert not model.training  # fit leaves the model in eval mode


def test_fit_reaches_the_entropy_of_the_targets():
    # Targets [3, 3, EOS] and [3, EOS, PAD]: 3 of the 5 real tokens are 3, 2 are EOS. The best a
    # position-blind model can do is predict (0.6, 0.4): loss = entropy = -(0.6 ln 0.6 + 0.4 ln 0.4).
    batch = collate_pairs([([3], [3, 3]), ([4], [3])])
    model = BiasOnly()
    entropy = -(0.6 * math.log(0.6) + 0.4 * math.log(0.4))
    history = fit(
        model,
        torch.optim.Adam(model.parameters(), lr=0.2),
        [batch],
        80,
        lambda m, b, step: masked_cross_entropy(m(b.tgt), b.tgt),
        log_every=1,
        progress=False,
    )
    assert history.loss[0] == pytest.approx(math.log(VOCAB))  # uniform logits at the first step
    assert entropy <= history.loss[-1] < entropy + 0.02
    probs = model.bias.detach().softmax(-1)
    assert float(probs[3]) == pytest.approx(0.6, abs=0.03) and float(probs[EOS]) == pytest.approx(0.4, abs=0.03)
    assert history.tokens == 80 * 5  # 5 target tokens (EOS included) per batch
    assert history.tokens_per_second > 0


@pytest.mark.parametrize("steps, log_every, logged", [(25, 10, [10, 20, 25]), (20, 10, [10, 20]), (3, 1, [1, 2, 3])])
def test_history_logs_every_log_every_steps_and_the_last(steps, log_every, logged):
    model = nn.Linear(1, 1)
    history = fit(model, _sgd(model), [_line_batch()], steps, _mse_step, log_every=log_every, progress=False)
    assert history.steps == logged
    assert len(history.loss) == len(history.lr) == len(logged)


@pytest.mark.parametrize(
    "steps, eval_every, evaluated", [(12, 5, [5, 10, 12]), (10, 5, [5, 10]), (7, None, [7]), (3, 1, [1, 2, 3])]
)
def test_eval_fn_runs_every_eval_every_steps_and_at_the_end(steps, eval_every, evaluated):
    model = nn.Linear(1, 1)
    seen_in_steps = []

    def step_fn(m, batch, step):
        seen_in_steps.append((m.training, torch.is_grad_enabled()))
        return _mse_step(m, batch, step)

    def eval_fn(m):
        return {"training": m.training, "grad": torch.is_grad_enabled(), "n": len(seen_in_steps)}

    history = fit(
        model, _sgd(model), [_line_batch()], steps, step_fn, eval_fn=eval_fn, eval_every=eval_every, progress=False
    )
    assert history.eval_steps == evaluated
    assert [e["n"] for e in history.evals] == evaluated  # evaluated after that step's update
    assert all(not e["training"] and not e["grad"] for e in history.evals)  # eval mode, under no_grad
    assert seen_in_steps == [(True, True)] * steps  # back to train mode after each evaluation
    assert history.final == history.evals[-1]
    assert history.metric("n") == evaluated


def test_fit_cosine_schedule_ends_at_zero_and_none_keeps_the_rate():
    model = nn.Linear(1, 1)
    opt = _sgd(model, 0.1)
    history = fit(model, opt, [_line_batch()], 10, _mse_step, log_every=1, progress=False)
    # logged after each step's scheduler step: the rate the next step would use
    assert history.lr == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * s / 10)) for s in range(1, 11)])
    assert history.lr[4] == pytest.approx(0.05)
    assert history.lr[-1] == pytest.approx(0.0, abs=1e-12)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)

    model = nn.Linear(1, 1)
    history = fit(model, _sgd(model, 0.1), [_line_batch()], 5, _mse_step, lr_schedule=None, log_every=1, progress=False)
    assert history.lr == [0.1] * 5


def test_fit_warmup_is_passed_to_the_cosine_schedule():
    model = nn.Linear(1, 1)
    history = fit(model, _sgd(model, 0.1), [_line_batch()], 10, _mse_step, warmup_steps=4, log_every=1, progress=False)
    assert history.lr[:3] == pytest.approx([0.05, 0.075, 0.1])  # (step + 1) / 4 after steps 1, 2, 3


def test_fit_accepts_a_scheduler_object():
    model = nn.Linear(1, 1)
    opt = _sgd(model, 0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = fit(model, opt, [_line_batch()], 4, _mse_step, lr_schedule=scheduler, log_every=1, progress=False)
    assert history.lr == pytest.approx([0.1, 0.05, 0.05, 0.025])


def _recording_fit(loader, steps):
    model = nn.Linear(1, 1)
    seen = []

    def step_fn(m, batch, step):
        seen.extend(batch.flatten().tolist())
        return m(batch.float().unsqueeze(-1)).pow(2).mean()

    fit(model, _sgd(model, 0.0), loader, steps, step_fn, progress=False)
    return seen


def test_a_dataloader_is_cycled_across_epochs():
    loader = DataLoader(torch.arange(3), batch_size=1, shuffle=False)
    assert _recording_fit(loader, 7) == [0, 1, 2, 0, 1, 2, 0]


def test_a_shuffling_dataloader_is_reshuffled_every_epoch():
    loader = DataLoader(torch.arange(6), batch_size=2, shuffle=True, generator=torch.Generator().manual_seed(0))
    seen = _recording_fit(loader, 9)  # 3 epochs of 3 batches
    epochs = [seen[i : i + 6] for i in range(0, 18, 6)]
    assert all(sorted(e) == list(range(6)) for e in epochs)  # every epoch sees every example once
    assert len({tuple(e) for e in epochs}) > 1  # in new orders (with this seed, 1 - 1/720**2 likely anyway)


def test_fit_moves_batches_to_the_device():
    model = nn.Linear(1, 1)
    devices = []

    def step_fn(m, batch, step):
        devices.append((batch[0].device.type, batch[1].device.type))
        return _mse_step(m, batch, step)

    fit(model, _sgd(model), [_line_batch()], 2, step_fn, device="cpu", progress=False)
    assert devices == [("cpu", "cpu")] * 2


class _Seen(Exception):
    """Raised by a model or step_fn to report where its batch arrived, before any computation on it."""


class _MetaModel(nn.Module):
    """A model whose parameters live on the "meta" device (every machine has it): where do its batches arrive?"""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, device="meta"))

    def encode(self, src, src_lengths):
        raise _Seen(src.device.type, src_lengths.device.type)

    def decode_step(self, prev_tokens, state):  # pragma: no cover - encode stops first
        raise AssertionError("not reached")


def test_fit_and_evaluate_default_to_the_model_device():
    """Issue 28: device=None means the model's device, so on a GPU a forgotten device= does not raise."""
    model = _MetaModel()

    def step_fn(m, batch, step):
        raise _Seen(batch[0].device.type, batch[1].device.type)

    with pytest.raises(_Seen) as seen:
        fit(model, _sgd(model), [_line_batch()], 1, step_fn, progress=False)
    assert seen.value.args == ("meta", "meta")
    with pytest.raises(_Seen) as seen:  # Batch.to keeps the lengths on the CPU, where packing needs them
        evaluate(model, [([3, 4], [4, 3, EOS])])
    assert seen.value.args == ("meta", "cpu")
    with pytest.raises(_Seen) as seen:  # an explicit device still wins
        evaluate(model, [([3, 4], [4, 3, EOS])], device="cpu")
    assert seen.value.args == ("cpu", "cpu")


@pytest.mark.parametrize(
    "steps, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError), ("10", TypeError)]
)
def test_fit_rejects_bad_step_counts(steps, error):
    """The one rule, as in seed_everything: TypeError for a wrong type, ValueError for a wrong value."""
    model = nn.Linear(1, 1)
    with pytest.raises(error, match="steps must be"):
        fit(model, _sgd(model), [_line_batch()], steps, _mse_step, progress=False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr_schedule="linear"), "unknown lr_schedule"),
        (dict(eval_every=0), "eval_every"),
        (dict(log_every=0), "log_every"),
    ],
)
def test_fit_rejects_bad_options(kwargs, message):
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match=message):
        fit(model, _sgd(model), [_line_batch()], 3, _mse_step, progress=False, **kwargs)


@pytest.mark.parametrize("returned", [lambda loss: loss.unsqueeze(0).repeat(2), lambda loss: loss.item()])
def test_fit_rejects_a_step_fn_that_returns_no_scalar_tensor(returned):
    model = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="scalar tensor"):
        fit(model, _sgd(model), [_line_batch()], 3, lambda m, b, s: returned(_mse_step(m, b, s)), progress=False)


def test_fit_advances_an_outer_bar_and_leaves_it_open(monkeypatch):
    """Several runs under one bar (lesson 03 §4): each fit advances it by its steps, names its run, opens no
    bar of its own, and leaves the shared one open for the next run."""
    import io

    from tqdm import tqdm

    import seq2seq_helpers.training as training

    def no_own_bar(*args, **kwargs):
        raise AssertionError("fit opened a bar of its own although it was given one")

    outer = tqdm(total=12, file=io.StringIO(), mininterval=0)
    monkeypatch.setattr(training, "tqdm", no_own_bar)
    for steps, desc in ((5, "run 1"), (7, "run 2")):
        model = nn.Linear(1, 1)
        history = fit(model, _sgd(model), [_line_batch()], steps, _mse_step, log_every=1, desc=desc, progress=outer)
        assert len(history.loss) == steps
        assert outer.desc.startswith(desc), f"the bar should name the run in progress, shows {outer.desc!r}"
    assert outer.n == 12, f"the bar should have advanced by 5 + 7 steps, is at {outer.n}"
    outer.update(0)  # still usable: fit did not close it
    assert "loss" in str(outer.postfix)
    outer.close()


@pytest.mark.parametrize("progress", ["yes", 1, None, object()])
def test_fit_rejects_a_progress_that_is_neither_a_flag_nor_a_bar(progress):
    model = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="progress must be True, False, or an open tqdm bar"):
        fit(model, _sgd(model), [_line_batch()], 3, _mse_step, progress=progress)


def test_fit_rejects_an_empty_batch_source():
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="batch source is empty"):
        fit(model, _sgd(model), [], 3, _mse_step, progress=False)


# --------------------------------------------------------------------------------------------- History


def test_history_metric_final_and_speed():
    history = History(
        eval_steps=[5, 10], evals=[{"exact_match": 0.25}, {"exact_match": 0.75}], tokens=300, elapsed_s=2.0
    )
    assert history.metric("exact_match") == [0.25, 0.75]
    with pytest.raises(ValueError, match="bleu"):
        history.metric("bleu")
    assert history.final == {"exact_match": 0.75}
    history.final["exact_match"] = 0.0  # final is a copy
    assert history.evals[-1]["exact_match"] == 0.75
    assert history.tokens_per_second == 150.0


def test_empty_history():
    history = History()
    assert history.final == {}
    assert history.metric("exact_match") == []
    assert math.isnan(history.tokens_per_second)


# -------------------------------------------------------------------------------------------- seq2seq_step


def test_seq2seq_step_feeds_the_batch_and_returns_the_masked_loss():
    batch = collate_pairs([([3, 4], [4, 3]), ([5], [5])])
    model = StubSeq2Seq()
    loss = seq2seq_step(0.5)(model, batch, 1).item()
    (call,) = model.calls
    assert call["src"] is batch.src and call["src_lengths"] is batch.src_lengths and call["tgt"] is batch.tgt
    assert call["ratio"] == 0.5
    assert loss == pytest.approx(math.log(VOCAB))  # uniform logits over the real target tokens


def test_seq2seq_step_passes_the_scheduled_ratio_each_step():
    batch = collate_pairs([([3, 4], [4, 3]), ([5], [5])])
    model = StubSeq2Seq()
    schedule = teacher_forcing_schedule("linear", 4)
    fit(model, _sgd(model), [batch], 4, seq2seq_step(schedule), progress=False)
    assert [c["ratio"] for c in model.calls] == pytest.approx([0.75, 0.5, 0.25, 0.0])  # 1 - step/4, steps 1..4


def test_seq2seq_step_default_is_full_teacher_forcing():
    batch = collate_pairs([([3], [3])])
    model = StubSeq2Seq()
    fit(model, _sgd(model), [batch], 2, seq2seq_step(), progress=False)
    assert [c["ratio"] for c in model.calls] == [1.0, 1.0]


# --------------------------------------------------------------------- stepwise_loss and evaluate


def _tiny_seq2seq(seed=0, vocab_size=9):
    from seq2seq_helpers.models import DecoderGRU, EncoderGRU, Seq2Seq

    torch.manual_seed(seed)
    return Seq2Seq(EncoderGRU(vocab_size, 8, 16), DecoderGRU(vocab_size, 8, 16))


def test_stepwise_loss_equals_the_one_call_loss_and_its_gradients():
    from seq2seq_helpers.data import collate_pairs
    from seq2seq_helpers.training import stepwise_loss

    model = _tiny_seq2seq()
    batch = collate_pairs([([3, 4, 5], [5, 4, 3]), ([6], [6]), ([7, 8], [8, 7])])
    fast = masked_cross_entropy(model(batch.src, batch.src_lengths, batch.tgt), batch.tgt)
    slow = stepwise_loss(model, batch)
    assert torch.allclose(fast, slow, atol=1e-6)
    fast_grads = torch.autograd.grad(fast, list(model.parameters()))
    slow_grads = torch.autograd.grad(stepwise_loss(model, batch), list(model.parameters()))
    for a, b in zip(fast_grads, slow_grads):
        assert torch.allclose(a, b, atol=1e-5)


def test_evaluate_scores_greedy_output_against_targets():
    from seq2seq_helpers.data import collate_pairs
    from seq2seq_helpers.decoding import greedy_decode
    from seq2seq_helpers.metrics import exact_match as em
    from seq2seq_helpers.training import evaluate

    model = _tiny_seq2seq(1)
    pairs = [([3, 4, 5], [5, 4, 3]), ([6], [6]), ([7, 8], [8, 7]), ([3, 3, 3, 3], [3, 3, 3, 3])]
    # make the model's answers the targets for two pairs by scoring its own greedy output as "targets"
    batch = collate_pairs(pairs)
    out = greedy_decode(model, batch.src, batch.src_lengths, max_len=9)
    own = [row[: n - 1] if row[n - 1] == 2 else row[:n] for row, n in zip(out.tokens.tolist(), out.lengths.tolist())]
    mixed = [(pairs[0][0], own[0]), pairs[1], (pairs[2][0], own[2]), pairs[3]]
    scores = evaluate(model, mixed, batch_size=3, max_len=9, by_length=True)
    expected = em(out.tokens, collate_pairs(mixed).tgt)
    assert scores["exact_match"] == pytest.approx(expected)
    assert set(scores["by_length"]) == {1, 2, 3, 4}
    assert scores["by_length"][3]["count"] == 1


def test_evaluate_rejects_an_empty_list():
    from seq2seq_helpers.training import evaluate

    with pytest.raises(ValueError, match="at least one"):
        evaluate(_tiny_seq2seq(), [])


# ----------------------------------------------------------------------------------------------- adam


def test_adam_is_fused_where_torch_allows_and_steps_as_the_default_adam():
    from seq2seq_helpers.training import adam

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    twin = copy.deepcopy(model)
    fused, default = adam(model.parameters(), lr=0.01), torch.optim.Adam(twin.parameters(), lr=0.01)
    cpu_fused = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 4)
    assert bool(fused.defaults["fused"]) is cpu_fused  # torch has a fused Adam on the CPU from 2.4
    start = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(16, 4), torch.randn(16, 3)
    for _ in range(5):
        for net, optimizer in ((model, fused), (twin, default)):
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(net(x), y).backward()
            optimizer.step()
    for p, q, p0 in zip(model.parameters(), twin.parameters(), start):
        assert not torch.equal(p, p0)  # both trained
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)


def test_adam_falls_back_when_torch_refuses_fused(monkeypatch):
    from seq2seq_helpers import training

    real_adam, calls = torch.optim.Adam, []

    def old_torch_adam(params, **options):  # what torch < 2.4 says about fused Adam on the CPU
        calls.append(options.get("fused"))
        if options.get("fused"):
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")
        return real_adam(params, **options)

    monkeypatch.setattr(torch.optim, "Adam", old_torch_adam)
    optimizer = training.adam((p for p in torch.nn.Linear(3, 2).parameters()), lr=0.1)  # a generator, read twice
    assert calls == [True, None]
    assert len(optimizer.param_groups[0]["params"]) == 2 and not optimizer.defaults["fused"]


def test_adam_keeps_an_explicit_choice_and_reports_bad_settings():
    from seq2seq_helpers.training import adam

    params = list(torch.nn.Linear(3, 2).parameters())
    assert not adam(params, lr=0.1, fused=False).defaults["fused"]
    assert adam(params, lr=0.1, foreach=True).defaults["foreach"] is True
    with pytest.raises(ValueError, match="learning rate"):
        adam(params, lr=-1.0)
