"""Reference implementations the tests compare the package with: slow, plain and obviously correct.

They live here, not in the package, because no lesson uses them: ``beam_search_reference`` is the search of
``seq2seq_helpers.decoding.beam_search`` written for ONE input with Python lists (lesson 05 §3 builds the same
by hand in the notebook).
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F

from seq2seq_helpers.data import EOS, SOS
from seq2seq_helpers.decoding import _check_beam_args, _evaluating, wu_length_penalty


class Hypothesis(NamedTuple):
    """One result of :func:`beam_search_reference`: token ids (ending in EOS if finished) and scores."""

    tokens: list
    log_prob: float
    score: float


def beam_search_reference(
    model, src: torch.Tensor, src_length, beam_size: int, max_len: int, length_penalty: float = 0.0
) -> list:
    """The same search as :func:`beam_search`, written plainly for ONE input: Python lists of hypotheses,
    one ``decode_step`` call per hypothesis. Slow and obviously correct; used to check the batched version.

    ``src`` is ``[src_len]`` or ``[1, src_len]``, ``src_length`` an int or a one-element tensor. Returns up
    to ``beam_size`` :class:`Hypothesis` (tokens, log_prob, score), best first.
    """
    length_penalty = _check_beam_args(model, beam_size, max_len, length_penalty)
    if not isinstance(src, torch.Tensor):
        raise TypeError(f"src must be a torch.Tensor, got {type(src).__name__}")
    if src.dim() == 1:
        src = src.unsqueeze(0)  # [1, src_len]
    if src.dim() != 2 or src.shape[0] != 1:
        raise ValueError(
            f"beam_search_reference decodes one sequence: src must be [src_len] or [1, src_len], "
            f"got {list(src.shape)}; use beam_search for a batch"
        )
    src_lengths = torch.as_tensor(src_length, dtype=torch.long).reshape(1)  # [1]

    with _evaluating(model):
        start = model.encode(src, src_lengths)
        live = [([], torch.zeros(()), start)]  # (tokens, sum of log-probs, decoder state before the next token)
        finished = []  # (score, log_prob, tokens), best first
        for t in range(max_len):
            candidates = []
            for tokens, log_prob, state in live:
                prev = torch.tensor([tokens[-1] if tokens else SOS], device=src.device)  # [1]
                logits, new_state, _ = model.decode_step(prev, state)  # [1, vocab]
                step_log_probs = F.log_softmax(logits.float(), dim=-1)[0].cpu()  # [vocab]
                for token, token_log_prob in enumerate(step_log_probs):
                    candidates.append((tokens + [token], log_prob + token_log_prob, new_state))
            candidates.sort(key=lambda c: -float(c[1]))
            for tokens, log_prob, _ in candidates[:beam_size]:  # EOS in the top beam_size: finished
                if tokens[-1] == EOS:
                    log_prob = float(log_prob)
                    finished.append((log_prob / wu_length_penalty(t + 1, length_penalty), log_prob, tokens))
            finished = sorted(finished, key=lambda f: -f[0])[:beam_size]
            live = [c for c in candidates if c[0][-1] != EOS][:beam_size]
            best_possible = max(float(lp) for _, lp, _ in live) / wu_length_penalty(max_len, length_penalty)
            if len(finished) == beam_size and best_possible <= finished[-1][0]:
                break
        else:  # reached max_len: unfinished hypotheses are candidates too
            divisor = wu_length_penalty(max_len, length_penalty)
            finished += [(float(lp) / divisor, float(lp), tokens) for tokens, lp, _ in live]
            finished = sorted(finished, key=lambda f: -f[0])[:beam_size]
    return [Hypothesis(tokens, log_prob, score) for score, log_prob, tokens in finished]
