"""Greedy decoding (lesson 01 §6, batched in lesson 02 §4), beam search, exact search and sampling (lesson 05)
for the models in ``models.py``.

All of them work on any model with the shared interface, :class:`Seq2SeqModel` (a ``typing.Protocol``)::

    state = model.encode(src, src_lengths)                            # a DecodingState
    logits, state, attention = model.decode_step(prev_tokens, state)  # [rows, vocab], ..., [rows, src_len] or None
    state.select(index)   # rows in a new order, may repeat (beam search copies an input into its beam)
    state.reorder(index)  # the same, for rows moved only among rows of one source (faster)

The loops below check their arguments once, at the door (``greedy_decode``, ``beam_search``, ... and the model's
``encode``), then call the model's unchecked step (``_unchecked_decode_step``) and the state's unchecked
``_select`` / ``_reorder`` where the package's own models and states have them: the tokens and row indices they
pass are ones the loop chose itself. A step then reads back to the host only what the search needs (greedy: one
read per step, whether every row has finished; beam search: one per step, plus one at a step where an EOS
hypothesis finishes); on a GPU every such read waits for the device.

Output conventions: every returned row ends with EOS followed by PAD, except a row that never produced EOS,
which is cut at ``max_len``; ``lengths`` count the tokens including EOS; scores are sums of
``log_softmax`` values (log-probabilities), never raw logits. The decoder is free to produce any id of
its vocabulary (a trained model never prefers PAD or SOS; an untrained one might).
"""

from __future__ import annotations

import contextlib
import math
from typing import NamedTuple, Protocol, runtime_checkable

import torch
import torch.nn.functional as F

from . import _validate
from .models import _unchecked_decode_step, shift_right
from .tokens import EOS, PAD, SOS

__all__ = [
    "Seq2SeqModel",
    "ScoringModel",
    "DecodingState",
    "GreedyResult",
    "BeamResult",
    "BeamNode",
    "ExactResult",
    "greedy_decode",
    "sample_decode",
    "sampling_probs",
    "beam_search",
    "exact_search",
    "wu_length_penalty",
    "sequence_log_probs",
]


# --------------------------------------------------------------------------------------- interface


@runtime_checkable
class DecodingState(Protocol):
    """What decoding does with a decoder state (``models.DecoderState`` is one): pick rows for the next step."""

    def select(self, index: torch.Tensor) -> DecodingState:
        """Rows ``index`` (1-D long, may repeat) in that order."""

    def reorder(self, index: torch.Tensor) -> DecodingState:
        """``select(index)`` for an index that only moves rows among the rows of one source."""


@runtime_checkable
class Seq2SeqModel(Protocol):
    """The interface greedy decoding and beam search rely on (``Seq2Seq`` and ``AttentionSeq2Seq`` have it)."""

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecodingState:
        """Read the source batch; the state the decoder starts from."""

    def decode_step(
        self, prev_tokens: torch.Tensor, state: DecodingState
    ) -> tuple[torch.Tensor, DecodingState, torch.Tensor | None]:
        """One step for every row: ``(logits [rows, vocab], next state, attention [rows, src_len] or None)``."""


@runtime_checkable
class ScoringModel(Seq2SeqModel, Protocol):
    """A :class:`Seq2SeqModel` that also reads a whole gold prefix in one call (what scoring needs)."""

    vocab_size: int

    def teacher_forced(self, state: DecodingState, tgt_in: torch.Tensor):
        """``(logits [B, T, vocab], attention or None)`` for decoder inputs ``tgt_in [B, T]`` (SOS first)."""


_MODEL = "a seq2seq model with encode(src, src_lengths) and decode_step(prev_tokens, state), e.g. a Seq2Seq"


class GreedyResult(NamedTuple):
    """``tokens [B, T]`` (EOS then PAD), ``lengths [B]`` (incl. EOS), ``log_probs [B]``,
    ``attention [B, T, S]`` (zero after a row's EOS) or None."""

    tokens: torch.Tensor
    lengths: torch.Tensor
    log_probs: torch.Tensor
    attention: torch.Tensor | None


class BeamNode(NamedTuple):
    """One kept hypothesis of one step of the search tree (see ``beam_search(..., return_history=True)``).

    ``parent`` is the index of the hypothesis it extends in the previous step's list (-1 at step 0),
    ``token`` the token it added, ``log_prob`` its running sum of log-probabilities, ``finished`` whether
    the token was EOS (the hypothesis went to the finished pool).
    """

    parent: int
    token: int
    log_prob: float
    finished: bool


class BeamResult(NamedTuple):
    """Best ``n_best`` hypotheses per input, best first.

    ``tokens [B, n_best, T]`` (EOS then PAD), ``lengths [B, n_best]`` (incl. EOS), ``scores [B, n_best]``
    (the ranking score: ``log_probs`` divided by the length penalty), ``log_probs [B, n_best]`` (raw sums).
    ``history`` is ``None`` unless asked for: then ``history[b][t]`` lists the :class:`BeamNode` s kept at
    step ``t`` for input ``b``: the live hypotheses first (their list index is what the next step's
    ``parent`` refers to), then the ones that finished at that step.
    """

    tokens: torch.Tensor
    lengths: torch.Tensor
    scores: torch.Tensor
    log_probs: torch.Tensor
    history: list | None = None


# ----------------------------------------------------------------------------------------- helpers


def _check_length_penalty(length_penalty) -> float:
    return _validate.number(length_penalty, "length_penalty", 0.0, hint=" (0 = rank by the sum of log-probabilities)")


def wu_length_penalty(length, length_penalty: float):
    """Wu et al. (2016)'s length penalty ``((5 + length) / 6) ** length_penalty``.

    Beam search ranks hypotheses by ``log_prob / wu_length_penalty(length, length_penalty)``; with
    ``length_penalty=0`` the divisor is 1 and the ranking is by the plain sum of log-probabilities.
    ``length`` counts the tokens including EOS; it may be an int or a tensor (lesson 05 §6).
    """
    if isinstance(length, torch.Tensor):
        if length.dtype == torch.bool or length.is_complex():
            raise TypeError(f"length must be an int or a tensor of lengths, got dtype {length.dtype}")
    else:
        _validate.number(length, "length", 0.0)
    length_penalty = _check_length_penalty(length_penalty)
    return ((5.0 + length) / 6.0) ** length_penalty


def _rows(state, index: torch.Tensor, reorder: bool = False):
    """``state.select(index)`` (``state.reorder`` with ``reorder=True``) without the index check where the
    state's class has an unchecked ``_select`` / ``_reorder`` (the package's states); for an index the loop built."""
    name = "reorder" if reorder else "select"
    if callable(getattr(type(state), "_" + name, None)):
        return getattr(state, "_" + name)(index)
    return getattr(state, name)(index)


@contextlib.contextmanager
def _evaluating(model):
    """Eval mode and no gradients inside; the model's previous mode is restored afterwards."""
    was_training = model.training if hasattr(model, "training") else False
    if hasattr(model, "eval"):
        model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        if hasattr(model, "train"):
            model.train(was_training)


# ------------------------------------------------------------------------------------------ greedy


def greedy_decode(model, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int) -> GreedyResult:
    """Batched greedy decoding: every row takes its most likely next token until its own EOS.

    A finished row is not extended (PAD is written, its log-probability stops counting); the loop stops
    as soon as every row has finished, or after ``max_len`` tokens.
    """
    _validate.implements(model, Seq2SeqModel, "model", _MODEL)
    _validate.integer(max_len, "max_len")
    return _decode_rows(model, src, src_lengths, max_len, lambda logits, step_log_probs: step_log_probs.argmax(dim=-1))


def _decode_rows(model, src, src_lengths, max_len, choose) -> GreedyResult:
    """The loop greedy decoding and sampling share: ``choose(logits, step_log_probs) -> [batch]`` picks each
    row's next token; a finished row writes PAD and stops counting; the loop ends when every row has finished
    or after ``max_len`` tokens. ``log_probs`` are the model's log-probabilities of the chosen tokens."""
    with _evaluating(model):
        state = model.encode(src, src_lengths)
        decode_step = _unchecked_decode_step(model)
        batch = src.shape[0]
        device = src.device
        prev = torch.full((batch,), SOS, dtype=torch.long, device=device)  # [batch]
        finished = torch.zeros(batch, dtype=torch.bool, device=device)  # [batch]
        lengths = torch.zeros(batch, dtype=torch.long, device=device)  # [batch]
        log_probs = torch.zeros(batch, device=device)  # [batch]
        steps, attentions = [], []
        for t in range(max_len):
            logits, state, attention = decode_step(prev, state)  # [batch, vocab], [batch, src_len] or None
            step_log_probs = F.log_softmax(logits.float(), dim=-1)  # [batch, vocab]
            next_tokens = choose(logits, step_log_probs)  # [batch]
            chosen = step_log_probs.gather(1, next_tokens.unsqueeze(1)).squeeze(1)  # [batch]
            next_tokens = next_tokens.masked_fill(finished, PAD)  # finished rows are not extended
            log_probs = log_probs + chosen.masked_fill(finished, 0.0)  # [batch]
            lengths = lengths + (~finished).long()  # [batch]
            steps.append(next_tokens)
            if attention is not None:
                attentions.append(attention.masked_fill(finished.unsqueeze(1), 0.0))  # [batch, src_len]
            finished = finished | (next_tokens == EOS)  # [batch]
            prev = next_tokens
            if t + 1 < max_len and bool(finished.all()):  # the one host read of a step; none after the last
                break
        tokens = torch.stack(steps, dim=1)  # [batch, steps]
        attention = torch.stack(attentions, dim=1) if attentions else None  # [batch, steps, src_len]
    return GreedyResult(tokens, lengths, log_probs, attention)


def _check_sampling_args(temperature, top_k, top_p, generator):
    temperature = _validate.number(
        temperature, "temperature", 0.0, low_open=True, hint=" (1 = the model's own distribution; near 0 = greedy)"
    )
    if math.isinf(temperature):
        raise ValueError("temperature must be finite (a huge temperature samples uniformly; use 1e6 for that)")
    if top_k is not None:
        top_k = _validate.integer(top_k, "top_k")
    if top_p is not None:
        top_p = _validate.number(top_p, "top_p", 0.0, 1.0, low_open=True, hint=" (1 keeps every token; None: no top-p)")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (e.g. torch.Generator().manual_seed(0)) or None, "
            f"got {type(generator).__name__}"
        )
    return temperature, top_k, top_p


def sampling_probs(logits: torch.Tensor, temperature: float = 1.0, top_k=None, top_p=None) -> torch.Tensor:
    """The distribution :func:`sample_decode` draws from: ``softmax(logits / temperature)``, cut to the ``top_k``
    most likely tokens, then to the smallest set of most likely tokens whose probability reaches ``top_p``
    (nucleus sampling, Holtzman et al., 2020), renormalised. ``logits [rows, vocab]`` -> ``[rows, vocab]``.
    Ties at the cut are broken by token id (the lower id stays), as ``argmax`` does. ``top_p=1`` keeps every
    token, exactly. A ``-inf`` logit bans its token; a row whose logits are all ``-inf``, or hold NaN or ``+inf``,
    has no distribution and is refused. Lesson 05 §8.
    """
    temperature, top_k, top_p = _check_sampling_args(temperature, top_k, top_p, None)
    logits = _validate.tensor(logits, "logits", "[rows, vocab] scores")
    if logits.dim() != 2 or not logits.is_floating_point() or logits.shape[1] == 0:
        raise ValueError(f"logits must be a float tensor of shape [rows, vocab], got {_validate._describe(logits)}")
    no_distribution = logits.isnan().any(dim=-1) | logits.isposinf().any(dim=-1) | logits.isneginf().all(dim=-1)
    if bool(no_distribution.any()):
        row = int(no_distribution.nonzero()[0])
        raise ValueError(
            f"logits row {row} has no distribution to sample from: it holds NaN or +inf, or every logit is -inf "
            "(every token banned); leave at least one token a finite logit, and check the model for NaN"
        )
    return _sampling_probs(logits, temperature, top_k, top_p)


def _sampling_probs(logits, temperature, top_k, top_p):
    """:func:`sampling_probs` without its checks, for :func:`sample_decode`'s steps."""
    probs = F.softmax(logits.float() / temperature, dim=-1)  # [rows, vocab]
    order = probs.argsort(dim=-1, descending=True, stable=True)  # [rows, vocab] most likely first
    sorted_probs = probs.gather(1, order)  # [rows, vocab]
    keep = torch.ones_like(sorted_probs, dtype=torch.bool)  # [rows, vocab], in sorted order
    if top_k is not None:
        keep[:, top_k:] = False
    if top_p is not None:
        # A token stays if the likelier tokens' mass is below top_p, i.e. if its own mass plus the less likely
        # tokens' exceeds 1 - top_p. That tail sum adds small numbers to small numbers, so it keeps their
        # precision: top_p = 1 keeps every token exactly, where 1 - (a rounded prefix sum) could cut a 1e-8 tail.
        kept = sorted_probs * keep  # [rows, vocab]
        tail = kept.flip(-1).cumsum(dim=-1).flip(-1)  # [rows, vocab]: mass of this token and every less likely one
        keep &= tail > (1.0 - top_p) * kept.sum(dim=-1, keepdim=True)  # the most likely token always stays
    mask = torch.zeros_like(keep).scatter(1, order, keep)  # [rows, vocab] back in token order
    probs = probs * mask
    return probs / probs.sum(dim=-1, keepdim=True)


def sample_decode(
    model,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    max_len: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> GreedyResult:
    """Batched sampling: every row draws its next token from :func:`sampling_probs` until its own EOS.

    ``temperature`` sharpens (< 1) or flattens (> 1) the distribution; ``top_k`` keeps only the k most likely
    tokens; ``top_p`` keeps the smallest set of most likely tokens whose probability reaches p (nucleus
    sampling). ``top_k=1``, or a tiny ``top_p``, is greedy decoding. ``generator`` (a ``torch.Generator``)
    makes the draws reproducible; the draw happens on the generator's device. As in :func:`greedy_decode`,
    a finished row writes PAD; ``log_probs`` are the MODEL's log-probabilities of the sampled tokens
    (temperature 1, nothing cut), so samples can be compared with greedy and beam outputs. Lesson 05 §8.
    """
    _validate.implements(model, Seq2SeqModel, "model", _MODEL)
    _validate.integer(max_len, "max_len")
    temperature, top_k, top_p = _check_sampling_args(temperature, top_k, top_p, generator)

    def draw(logits, step_log_probs):
        probs = _sampling_probs(logits, temperature, top_k, top_p)  # [batch, vocab], arguments checked above
        draw_on = generator.device if generator is not None else logits.device
        return torch.multinomial(probs.to(draw_on), 1, generator=generator).squeeze(1).to(logits.device)  # [batch]

    return _decode_rows(model, src, src_lengths, max_len, draw)


def sequence_log_probs(model, src: torch.Tensor, src_lengths: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """The model's log-probability of given outputs: ``log P(tokens | src)`` summed over each row's tokens.

    ``tokens [B, T]`` are outputs as the decoders return them (or targets as ``collate_pairs`` makes them):
    what the decoder wrote after the ``<sos>`` it was started with, each row's tokens up to and including
    its first EOS; what follows is ignored. A token the decoder wrote is scored whatever it is, ``<sos>``
    included (an untrained model may write it first). One teacher-forced pass, so it scores any candidate,
    e.g. the right answer that greedy decoding missed; for a decoder's own output it equals that decoder's
    ``log_probs`` (lesson 05 §5).
    """
    _validate.implements(model, ScoringModel, "model", "a Seq2Seq or AttentionSeq2Seq (encode and teacher_forced)")
    if isinstance(tokens, torch.Tensor) and tokens.dim() == 3:
        raise ValueError(
            f"tokens must be a [batch, length] tensor of token ids, got {list(tokens.shape)}; for a "
            "BeamResult pass result.tokens[:, i] (the i-th best of every input)"
        )
    tokens = _validate.token_ids(tokens, "tokens", model.vocab_size)
    if isinstance(src, torch.Tensor) and tokens.shape[0] != src.shape[0]:
        raise ValueError(
            f"tokens has {tokens.shape[0]} rows but src has {src.shape[0]}; they must pair up "
            "(for a BeamResult pass result.tokens[:, i], the i-th best of every input)"
        )
    if isinstance(src, torch.Tensor) and tokens.device != src.device:
        raise ValueError(f"tokens is on {tokens.device} but src on {src.device}; move both to the model's device")
    is_eos = tokens == EOS  # [B, T]
    # Positions up to and including the first EOS count; later ones (PAD) do not.
    counts = (torch.cumsum(is_eos.long(), dim=1) - is_eos.long()) == 0  # [B, T]
    with _evaluating(model):
        state = model.encode(src, src_lengths)
        logits, _ = model.teacher_forced(state, shift_right(tokens.masked_fill(~counts, PAD)))  # [B, T, vocab]
        step_log_probs = F.log_softmax(logits.float(), dim=-1)  # [B, T, vocab]
        chosen = step_log_probs.gather(2, tokens.unsqueeze(-1)).squeeze(-1)  # [B, T]
    return torch.where(counts, chosen, torch.zeros_like(chosen)).sum(dim=1)  # [B]


# -------------------------------------------------------------------------------------------- beam


def _check_beam_args(model, beam_size, max_len, length_penalty, n_best=1) -> float:
    _validate.implements(model, Seq2SeqModel, "model", _MODEL)
    _validate.integer(beam_size, "beam_size")
    _validate.integer(max_len, "max_len")
    _validate.integer(n_best, "n_best")
    if n_best > beam_size:
        raise ValueError(
            f"n_best ({n_best}) cannot be larger than beam_size ({beam_size}): the search only "
            "keeps beam_size hypotheses; raise beam_size or lower n_best"
        )
    return _check_length_penalty(length_penalty)


def beam_search(
    model,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    beam_size: int,
    max_len: int,
    length_penalty: float = 0.0,
    n_best: int = 1,
    return_history: bool = False,
) -> BeamResult:
    """Batched beam search: the hypotheses of all inputs live in one ``[batch * beam_size, ...]`` tensor.

    At each step, for each input, every live hypothesis is extended by every token and the extensions
    are ranked by their sum of log-probabilities. Extensions ending in EOS that rank in the top
    ``beam_size`` move to the input's finished pool (which keeps the best ``beam_size`` by ranking score)
    and stop growing; the best ``beam_size`` extensions that do not end in EOS stay live. The beam has
    ``beam_size`` rows per input from step 0 on (one tensor shape for the whole search): at step 0 only the
    first holds a hypothesis (SOS, log-probability 0), the others are empty slots with log-probability
    ``-inf``, so the beam never fills with copies of the same sequence.

    An input is done when its pool holds ``beam_size`` hypotheses and no live one can still beat the
    worst of them (its log-probability can only fall; with a length penalty the bound uses ``max_len``).
    Inputs not done after ``max_len`` steps also offer their live, unfinished hypotheses as candidates.

    Ranking score: ``log_prob / ((5 + length) / 6) ** length_penalty`` (Wu et al., 2016), ``length``
    counting EOS. ``beam_size=1`` with ``length_penalty=0`` gives exactly :func:`greedy_decode`.
    If fewer than ``n_best`` hypotheses exist (a tiny vocabulary), the missing rows are PAD with length 0
    and score ``-inf``. Built by hand for one input in lesson 05 §3, batched in its exercise 1.
    """
    length_penalty = _check_beam_args(model, beam_size, max_len, length_penalty, n_best)
    _validate.boolean(return_history, "return_history")
    with _evaluating(model):
        return _beam_search(model, src, src_lengths, beam_size, max_len, length_penalty, n_best, return_history)


def _beam_search(model, src, src_lengths, beam_size, max_len, length_penalty, n_best, return_history):
    state = model.encode(src, src_lengths)  # [batch] rows
    _validate.implements(
        state,
        DecodingState,
        "the state model.encode returns",
        "a state with select(index) and reorder(index), such as models.DecoderState",
    )
    batch, device, k = src.shape[0], src.device, beam_size
    neg_inf = float("-inf")
    # Each input's state copied into its k rows, once; from here on the beam only reorders rows.
    state = _rows(state, torch.arange(batch, device=device).repeat_interleave(k))  # [batch * beam] rows
    decode_step = _unchecked_decode_step(model)
    prev = torch.full((batch * k,), SOS, dtype=torch.long, device=device)  # [batch * beam]
    scores = torch.full((batch, k), neg_inf, device=device)  # [batch, beam] sums of log-probs
    scores[:, 0] = 0.0  # one hypothesis (SOS) per input; the other slots are empty
    history_tokens = torch.zeros(batch, k, 0, dtype=torch.long, device=device)  # [batch, beam, t]
    pools: list[list[tuple[float, float, list[int]]]] = [[] for _ in range(batch)]  # (score, log_prob, tokens)
    done = [False] * batch
    history = [[] for _ in range(batch)] if return_history else None
    best_possible_divisor = wu_length_penalty(max_len, length_penalty)
    offsets = torch.arange(batch, device=device).unsqueeze(1)  # [batch, 1]

    for t in range(max_len):
        logits, state, _ = decode_step(prev, state)  # [batch * beam, vocab]
        vocab = logits.shape[-1]
        step_log_probs = F.log_softmax(logits.float(), dim=-1).view(batch, k, vocab)  # [batch, beam, vocab]
        candidates = (scores.unsqueeze(-1) + step_log_probs).view(batch, k * vocab)  # [batch, beam * vocab]

        # 1. EOS extensions among the top beam_size candidates finish (empty slots' extensions are -inf); they
        # are read back below, with the live scores.
        top_scores, top_index = candidates.topk(k, dim=1)  # [batch, beam]
        is_eos = (top_index % vocab == EOS) & torch.isfinite(top_scores)  # [batch, beam]

        # 2. The best beam_size extensions that do not end in EOS stay live (in a tiny search space some
        # of them may be -inf: those slots stay empty).
        candidates.view(batch, k, vocab)[:, :, EOS] = neg_inf
        live_scores, live_index = candidates.topk(k, dim=1)  # [batch, beam]
        parent = live_index // vocab  # [batch, beam]
        token = live_index % vocab  # [batch, beam]
        rows = (offsets * k + parent).view(-1)  # [batch * beam]
        # Rows only move among one input's hypotheses: reorder() does it without copying what they share.
        state = _rows(state, rows, reorder=True)
        prefixes_before, history_tokens = (
            history_tokens,
            torch.cat([history_tokens.gather(1, parent.unsqueeze(-1).expand(-1, -1, t)), token.unsqueeze(-1)], dim=-1),
        )  # [batch, beam, t + 1]
        scores = live_scores  # [batch, beam]
        prev = token.view(-1)  # [batch * beam]

        # The step's one host read: which top candidates end in EOS, their parents and log-probabilities, and each
        # input's best live score (float32 holds them all exactly: flags, indices < beam_size, float32 scores).
        read = torch.cat(
            [
                is_eos.flatten().float(),
                (top_index // vocab).flatten().float(),
                top_scores.flatten(),
                scores.max(1).values,
            ]
        ).tolist()
        n = batch * k
        eos_flags, eos_parents, eos_scores, best_scores = read[:n], read[n : 2 * n], read[2 * n : 3 * n], read[3 * n :]
        finished_now = [[] for _ in range(batch)]
        if any(eos_flags):
            prefixes = prefixes_before.tolist()  # a second read, only at a step where a hypothesis finishes
            touched = set()
            for b in range(batch):
                for j in range(k):
                    if not eos_flags[b * k + j] or done[b]:
                        continue
                    parent_j, log_prob = int(eos_parents[b * k + j]), eos_scores[b * k + j]
                    tokens = prefixes[b][parent_j] + [EOS]
                    pools[b].append((log_prob / wu_length_penalty(t + 1, length_penalty), log_prob, tokens))
                    finished_now[b].append(BeamNode(parent_j, EOS, log_prob, True))
                    touched.add(b)
            for b in touched:
                pools[b].sort(key=lambda entry: -entry[0])  # stable: earlier entries win ties
                del pools[b][k:]

        if return_history:
            parents_l, tokens_l, scores_l = parent.tolist(), token.tolist(), scores.tolist()
            for b in range(batch):
                if done[b]:
                    continue
                nodes = [
                    BeamNode(parents_l[b][i] if t else -1, tokens_l[b][i], scores_l[b][i], False)
                    for i in range(k)
                    if scores_l[b][i] != neg_inf
                ]
                history[b].append(nodes + [n._replace(parent=n.parent if t else -1) for n in finished_now[b]])

        # 3. An input is done when its pool is full and no live hypothesis can beat the pool's worst.
        best_live = [s / best_possible_divisor for s in best_scores]  # [batch]
        for b in range(batch):
            if not done[b] and len(pools[b]) == k and best_live[b] <= pools[b][-1][0]:
                done[b] = True
        if all(done):
            break

    # Inputs still searching at max_len also offer their unfinished hypotheses.
    final_scores, final_tokens = scores.tolist(), history_tokens.tolist()
    length = history_tokens.shape[2]
    results = []
    for b in range(batch):
        entries = list(pools[b])
        if not done[b]:
            divisor = wu_length_penalty(length, length_penalty)
            entries += [(s / divisor, s, final_tokens[b][i]) for i, s in enumerate(final_scores[b]) if s != neg_inf]
            entries.sort(key=lambda entry: -entry[0])
        results.append(entries[:n_best])
    return _pack_results(results, n_best, device, history)


def _pack_results(results, n_best, device, history) -> BeamResult:
    batch = len(results)
    width = max([len(tokens) for entries in results for _, _, tokens in entries] + [1])
    tokens = torch.full((batch, n_best, width), PAD, dtype=torch.long)  # [batch, n_best, T]
    lengths = torch.zeros(batch, n_best, dtype=torch.long)  # [batch, n_best]
    scores = torch.full((batch, n_best), float("-inf"))  # [batch, n_best]
    log_probs = torch.full((batch, n_best), float("-inf"))  # [batch, n_best]
    for b, entries in enumerate(results):
        for i, (score, log_prob, seq) in enumerate(entries):
            tokens[b, i, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            lengths[b, i] = len(seq)
            scores[b, i] = score
            log_probs[b, i] = log_prob
    return BeamResult(tokens.to(device), lengths.to(device), scores.to(device), log_probs.to(device), history)


# ------------------------------------------------------------------------------------------- exact


class ExactResult(NamedTuple):
    """The model's most probable output per input, as found by :func:`exact_search`.

    ``tokens [B, T]`` (EOS then PAD), ``lengths [B]`` (incl. EOS), ``log_probs [B]``; ``proven [B]`` is True
    where the search finished within its budget (the output is then the most probable one); ``expanded [B]``
    counts the prefixes whose next-token distribution was computed for each input (the search's cost).
    """

    tokens: torch.Tensor
    lengths: torch.Tensor
    log_probs: torch.Tensor
    proven: torch.Tensor
    expanded: torch.Tensor


def exact_search(
    model,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    max_len: int,
    beam_size: int = 4,
    max_frontier: int = 20_000,
) -> ExactResult:
    """Exact search: the output with the highest ``log P(y | x)`` among all the outputs beam search can return
    (non-EOS tokens then EOS within ``max_len`` tokens, or ``max_len`` tokens without EOS). Lesson 05 §5.

    Branch and bound, batched breadth first. A log-probability can only fall as a hypothesis grows, so a
    prefix whose log-probability is already below the best complete output found so far (the *incumbent*)
    cannot lead to a better one and is dropped; every other prefix is extended by every token. The first
    incumbent is the output of ``beam_search(..., beam_size)``; any width gives the same answer, a better
    incumbent only prunes more. Nothing else is dropped, so what remains at the end is the most probable output.

    Cost: the prefixes kept at one depth are disjoint events, so their probabilities sum to at most 1 and
    there are at most ``1 / P(incumbent)`` of them. Exact search is cheap when the model gives its best output
    a fair probability, and hopeless when every output is improbable (long outputs, large vocabularies).
    An input whose frontier grows past ``max_frontier`` prefixes is given up: its ``proven`` is False and it
    returns the best output found so far. Ranks by the plain sum of log-probabilities (no length penalty).
    """
    _validate.implements(model, Seq2SeqModel, "model", _MODEL)
    _validate.integer(max_len, "max_len")
    _validate.integer(beam_size, "beam_size")
    _validate.integer(max_frontier, "max_frontier")
    with _evaluating(model):
        start = beam_search(model, src, src_lengths, beam_size=beam_size, max_len=max_len)
        return _exact_search(model, src, src_lengths, max_len, max_frontier, start)


def _exact_search(model, src, src_lengths, max_len, max_frontier, start):
    batch, device = src.shape[0], src.device
    best_log_probs = start.log_probs[:, 0].clone()  # [batch] the incumbents' log-probabilities
    best_tokens = [start.tokens[b, 0, : start.lengths[b, 0]].tolist() for b in range(batch)]
    proven = torch.ones(batch, dtype=torch.bool, device=device)  # [batch]
    expanded = torch.zeros(batch, dtype=torch.long, device=device)  # [batch]
    tolerance = 1e-5  # keep prefixes tied with the incumbent up to float rounding: only ever keeps more

    state = model.encode(src, src_lengths)
    decode_step = _unchecked_decode_step(model)
    owner = torch.arange(batch, device=device)  # [frontier] which input each prefix belongs to
    prefixes = torch.zeros(batch, 0, dtype=torch.long, device=device)  # [frontier, t]
    scores = torch.zeros(batch, device=device)  # [frontier] log P(prefix | x)
    prev = torch.full((batch,), SOS, dtype=torch.long, device=device)  # [frontier]
    for t in range(max_len):
        logits, state, _ = decode_step(prev, state)  # [frontier, vocab]
        candidates = scores.unsqueeze(1) + F.log_softmax(logits.float(), dim=-1)  # [frontier, vocab]
        expanded.index_add_(0, owner, torch.ones_like(owner))

        # 1. Complete outputs: an EOS extension, or any extension at the last step. Better ones replace the incumbent.
        complete = torch.zeros_like(candidates, dtype=torch.bool)  # [frontier, vocab]
        complete[:, EOS] = True
        if t == max_len - 1:
            complete[:] = True
        better = complete & (candidates > best_log_probs[owner].unsqueeze(1))  # [frontier, vocab]
        if bool(better.any()):
            rows, tokens = better.nonzero(as_tuple=True)
            values = candidates[rows, tokens].tolist()
            prefix_lists = prefixes[rows].tolist()
            for row, token, value, prefix in zip(rows.tolist(), tokens.tolist(), values, prefix_lists):
                b = int(owner[row])
                if value > best_log_probs[b]:
                    best_log_probs[b] = value
                    best_tokens[b] = prefix + [token]
        if t == max_len - 1:
            break

        # 2. Incomplete prefixes that can still beat the incumbent stay; the rest cannot and are dropped.
        keep = ~complete & (candidates >= best_log_probs[owner].unsqueeze(1) - tolerance)  # [frontier, vocab]
        keep &= proven[owner].unsqueeze(1)
        rows, tokens = keep.nonzero(as_tuple=True)  # [new frontier]
        counts = torch.bincount(owner[rows], minlength=batch)  # [batch]
        too_many = counts > max_frontier
        if bool(too_many.any()):  # give these inputs up: their incumbent is the best we know
            proven &= ~too_many
            within = ~too_many[owner[rows]]
            rows, tokens = rows[within], tokens[within]
        if rows.numel() == 0:
            break
        owner, scores = owner[rows], candidates[rows, tokens]
        prefixes = torch.cat([prefixes[rows], tokens.unsqueeze(1)], dim=1)
        state = _rows(state, rows)
        prev = tokens

    width = max(len(tokens) for tokens in best_tokens)
    out = torch.full((batch, width), PAD, dtype=torch.long)  # [batch, T]
    for b, tokens in enumerate(best_tokens):
        out[b, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
    lengths = torch.tensor([len(tokens) for tokens in best_tokens])
    return ExactResult(out.to(device), lengths.to(device), best_log_probs, proven, expanded)
