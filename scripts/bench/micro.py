"""The course's speed claims measured side by side: paired micro-benchmarks.

The slow and the fast path alternate round by round and the medians are compared, so a short burst of background
work hits both sides alike (sustained load still hurts the small, many-call slow paths most; the per-round range
in the report shows it). Models in the decoding benchmarks are untrained: the figures are about speed, not accuracy.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from functools import partial
from typing import Callable

# round_s: seconds each side works per round (see paired)
FULL_SIZES = dict(rounds=5, round_s=2.0, batch_size=128, greedy_batch=500, beam_batch=100, beam_size=5)
QUICK_SIZES = dict(rounds=3, round_s=0.05, batch_size=128, greedy_batch=500, beam_batch=16, beam_size=5)
MAX_REPS = 5000


@dataclass
class Paired:
    name: str
    unit: str
    slow_label: str
    fast_label: str
    slow: list[float]  # per round, items per second
    fast: list[float]

    @property
    def slow_median(self) -> float:
        return statistics.median(self.slow)

    @property
    def fast_median(self) -> float:
        return statistics.median(self.fast)

    @property
    def ratio(self) -> float:
        return self.fast_median / self.slow_median

    @property
    def round_ratios(self) -> list[float]:
        return [f / s for f, s in zip(self.fast, self.slow)]


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _timed(fn, device) -> tuple[float, float]:
    """(items fn reported, seconds it took)."""
    _sync(device)
    start = time.perf_counter()
    items = fn()
    _sync(device)
    return items, time.perf_counter() - start


def paired(
    slow_fn: Callable[[int], float], fast_fn: Callable[[int], float], rounds: int, round_s: float, device
) -> tuple[list[float], list[float]]:
    """Alternate two workloads round by round; items per second of each, per round.

    ``fn(reps)`` does ``reps`` units of work and returns how many items (tokens, sequences) it processed.
    After a warm-up, each side works in chunks of about a tenth of ``round_s`` until its round has lasted
    ``round_s`` seconds, so a round stays short even when the machine gets busy.
    """
    chunks = []
    for fn in (slow_fn, fast_fn):
        fn(1)  # warm-up: allocator, lazy initialisation, caches
        _, seconds = _timed(partial(fn, 2), device)
        chunks.append(max(1, min(MAX_REPS, round(round_s / 10 / (seconds / 2)))))
    slow, fast = [], []
    for _ in range(rounds):
        for fn, chunk, out in ((slow_fn, chunks[0], slow), (fast_fn, chunks[1], fast)):
            items = seconds = 0.0
            while seconds < round_s:
                n, dt = _timed(partial(fn, chunk), device)
                items, seconds = items + n, seconds + dt
            out.append(items / seconds)
    return slow, fast


def micro_benchmarks(sizes: dict, device, log=print) -> list[Paired]:
    import torch

    from seq2seq_helpers import SequenceTask, Vocab, collate_pairs, fit, seed_everything, seq2seq_step
    from seq2seq_helpers.decoding import beam_search, greedy_decode
    from seq2seq_helpers.models import AttentionDecoder, AttentionSeq2Seq, DecoderGRU, EncoderGRU, LSTMEncoder, Seq2Seq
    from seq2seq_helpers.training import stepwise_loss

    rounds, round_s, bs = sizes["rounds"], sizes["round_s"], sizes["batch_size"]
    vocab = Vocab.letters(10)
    results = []

    # (a) training: lesson 01's loop (batch of one, decoder called per token) vs 128 per step, one decoder call
    seed_everything(0)
    pairs = SequenceTask(vocab, "reverse", 3, 10).sample(32 * bs, seed=1)
    single = [collate_pairs([p]).to(device) for p in pairs[:1000]]
    batched = [collate_pairs(pairs[i : i + bs]).to(device) for i in range(0, len(pairs), bs)]

    def gru():
        return Seq2Seq(EncoderGRU(len(vocab), 32, 128), DecoderGRU(len(vocab), 32, 128)).to(device)

    def trainer(batches, step_fn):
        model = gru()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        offset = [0]

        def train(reps):  # `reps` optimizer steps, continuing through the batches
            chunk = [batches[(offset[0] + i) % len(batches)] for i in range(reps)]
            offset[0] += reps
            return fit(model, optimizer, chunk, reps, step_fn, lr_schedule=None, progress=False).tokens

        return train

    log("micro-benchmark: training throughput ...")
    slow, fast = paired(
        trainer(single, lambda model, batch, step: stepwise_loss(model, batch)),
        trainer(batched, seq2seq_step(teacher_forcing=1.0)),
        rounds,
        round_s,
        device,
    )
    results.append(
        Paired(
            "training, reversal lengths 3-10, GRU 128",
            "target tokens/s",
            "per example (lesson 01 loop)",
            f"batched {bs}, one decoder call",
            slow,
            fast,
        )
    )

    # (b) greedy decoding: one sequence at a time vs a batch of greedy_batch
    seed_everything(0)
    model = gru().eval()
    big = collate_pairs(pairs[: sizes["greedy_batch"]]).to(device)
    max_len = 10 + 5  # longest target + 5, as training.evaluate does

    def greedy_single(reps):
        for i in range(reps):
            b = single[i % len(single)]
            greedy_decode(model, b.src, b.src_lengths, max_len=max_len)
        return reps

    def greedy_batched(reps):
        for _ in range(reps):
            greedy_decode(model, big.src, big.src_lengths, max_len=max_len)
        return reps * big.src.shape[0]

    log("micro-benchmark: greedy decoding ...")
    slow, fast = paired(greedy_single, greedy_batched, rounds, round_s, device)
    results.append(
        Paired(
            "greedy decoding, GRU 128, untrained",
            "sequences/s",
            "one sequence at a time",
            f"batch {sizes['greedy_batch']}",
            slow,
            fast,
        )
    )

    # (c) beam search, beam 5, attention model, lengths 1-30: per-sequence loop vs one batched call
    seed_everything(0)
    long_pairs = SequenceTask(vocab, "reverse", 1, 30).sample(sizes["beam_batch"], seed=2)
    attn = (
        AttentionSeq2Seq(
            LSTMEncoder(len(vocab), 32, 64), AttentionDecoder(len(vocab), 32, 128, 128, "additive", attn_dim=32)
        )
        .to(device)
        .eval()
    )
    k, max_len = sizes["beam_size"], 30 + 5
    long_single = [collate_pairs([p]).to(device) for p in long_pairs]
    long_big = collate_pairs(long_pairs).to(device)

    def beam_single(reps):
        for i in range(reps):
            b = long_single[i % len(long_single)]
            beam_search(attn, b.src, b.src_lengths, beam_size=k, max_len=max_len)
        return reps

    def beam_batched(reps):
        for _ in range(reps):
            beam_search(attn, long_big.src, long_big.src_lengths, beam_size=k, max_len=max_len)
        return reps * long_big.src.shape[0]

    log("micro-benchmark: beam search ...")
    slow, fast = paired(beam_single, beam_batched, rounds, round_s, device)
    results.append(
        Paired(
            f"beam search k={k}, LSTM + additive attention (attn_dim 32, as lesson 05), lengths 1-30, untrained",
            "sequences/s",
            "per-sequence loop",
            f"batch {sizes['beam_batch']}",
            slow,
            fast,
        )
    )

    # (d) the BiLSTM encoder of lessons 04-08, forward + backward: packed vs the padded batch with padding as a
    # no-op step (models.py, issue 30; what LSTMEncoder runs on a CPU)
    from seq2seq_helpers.models import _run_lstm_padded, _run_packed

    seed_everything(0)
    encoder = LSTMEncoder(len(vocab), 32, 64, bidirectional=True).to(device)
    enc_batch = collate_pairs(SequenceTask(vocab, "reverse", 1, 30).sample(bs, seed=3)).to(device)

    def encoder_steps(run):
        def steps(reps):
            for _ in range(reps):
                embedded = encoder.embedding(enc_batch.src)
                outputs, (h, c) = run(encoder, embedded, enc_batch.src_lengths)
                (outputs.sum() + h.sum() + c.sum()).backward()
            return reps

        return steps

    log("micro-benchmark: BiLSTM encoder ...")
    slow, fast = paired(
        encoder_steps(lambda module, x, n: _run_packed(module.rnn, x, n)),
        encoder_steps(_run_lstm_padded),
        rounds,
        round_s,
        device,
    )
    results.append(
        Paired(
            f"BiLSTM encoder forward + backward, batch {bs}, lengths 1-30, 64 units a direction",
            "batches/s",
            "packed (pack_padded_sequence)",
            "padded, padding a no-op step",
            slow,
            fast,
        )
    )

    # (e) one Adam step on lesson 01's model size (GRU 128: 12 weight tensors, 127k parameters)
    from seq2seq_helpers.training import adam

    def optimiser_steps(make):
        model = gru()
        for p in model.parameters():
            p.grad = torch.randn_like(p) * 1e-3
        optimizer = make(model.parameters())

        def steps(reps):
            for _ in range(reps):
                optimizer.step()
            return reps

        return steps

    log("micro-benchmark: Adam step ...")
    slow, fast = paired(
        optimiser_steps(lambda params: torch.optim.Adam(params, lr=1e-3)),
        optimiser_steps(lambda params: adam(params, lr=1e-3)),
        rounds,
        round_s,
        device,
    )
    results.append(
        Paired(
            "Adam step, GRU 128 seq2seq (lesson 01's model)",
            "steps/s",
            "torch.optim.Adam, default",
            "training.adam (fused where torch has it)",
            slow,
            fast,
        )
    )
    return results
