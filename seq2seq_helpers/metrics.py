"""Exact match, token accuracy, and both broken down by length.

Predictions and targets are compared as sequences *up to and including the first EOS*: anything a
model writes after its EOS is ignored, and a prediction that never emits EOS cannot be an exact match.
Both may be padded tensors ``[batch, len]`` or lists of id lists; their widths may differ. Lesson 01 §5
introduces exact match and accuracy by length; lesson 03 §2 accuracy by position; lesson 06 §3 the
character error rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import torch

from . import _validate
from .tokens import EOS, PAD

_rows = _validate.id_rows


def _until_eos(row: list[int]) -> list[int]:
    """The sequence a row stands for: tokens up to and including the first EOS (PAD dropped if no EOS)."""
    if EOS in row:
        return row[: row.index(EOS) + 1]
    return [t for t in row if t != PAD]


def _pair_up(predictions, targets):
    preds, tgts = _rows(predictions, "predictions"), _rows(targets, "targets")
    if len(preds) != len(tgts):
        raise ValueError(f"predictions hold {len(preds)} sequences but targets hold {len(tgts)}")
    if not preds:
        raise ValueError("cannot score an empty batch: pass at least one sequence")
    preds, tgts = [_until_eos(p) for p in preds], [_until_eos(t) for t in tgts]
    empty = [i for i, t in enumerate(tgts) if not t]
    if empty:
        raise ValueError(
            f"targets[{empty[0]}] holds no token (only padding, or nothing): a target ends with at "
            "least its EOS, as collate_pairs makes it; there is nothing to compare with"
        )
    return preds, tgts


def exact_matches(predictions, targets) -> list[bool]:
    """Per sequence: is the prediction identical to the target, EOS included?"""
    preds, tgts = _pair_up(predictions, targets)
    return [p == t for p, t in zip(preds, tgts)]


def token_hits(predictions, targets) -> list[tuple[int, int]]:
    """Per sequence: (target positions predicted correctly, target length incl. EOS)."""
    preds, tgts = _pair_up(predictions, targets)
    return [(sum(1 for i, t in enumerate(tgt) if i < len(p) and p[i] == t), len(tgt)) for p, tgt in zip(preds, tgts)]


def exact_match(predictions, targets) -> float:
    """Fraction of sequences predicted exactly (up to and including EOS)."""
    matches = exact_matches(predictions, targets)
    return sum(matches) / len(matches)


def token_accuracy(predictions, targets) -> float:
    """Fraction of target positions (EOS included, PAD excluded) where the prediction has the same token."""
    hits = token_hits(predictions, targets)
    return sum(h for h, _ in hits) / sum(n for _, n in hits)


def accuracy_by_length(predictions, targets, lengths=None) -> dict[int, dict[str, float]]:
    """Exact match and token accuracy per length: ``{length: {"exact_match", "token_accuracy", "count"}}``.

    ``lengths`` (one per sequence, e.g. source lengths) defaults to each target's length without EOS.
    """
    matches = exact_matches(predictions, targets)
    hits = token_hits(predictions, targets)
    if lengths is None:
        _, tgts = _pair_up(predictions, targets)
        lengths = [len(t) - 1 if t and t[-1] == EOS else len(t) for t in tgts]
    elif isinstance(lengths, torch.Tensor):
        lengths = _validate.lengths(lengths, "lengths", minimum=0).tolist()
    elif isinstance(lengths, (str, bytes)) or not isinstance(lengths, Sequence):
        raise TypeError(f"lengths must be a list of ints, one per sequence, got {type(lengths).__name__}")
    lengths = [_validate.integer(n, "lengths", minimum=0) for n in lengths]
    if len(lengths) != len(matches):
        raise ValueError(f"got {len(lengths)} lengths for {len(matches)} sequences; pass one length per sequence")
    groups: dict[int, list[int]] = defaultdict(list)
    for i, n in enumerate(lengths):
        groups[int(n)].append(i)
    return {
        n: {
            "exact_match": sum(matches[i] for i in idx) / len(idx),
            "token_accuracy": sum(hits[i][0] for i in idx) / sum(hits[i][1] for i in idx),
            "count": len(idx),
        }
        for n, idx in sorted(groups.items())
    }


def accuracy_by_bucket(
    predictions, targets, lengths, buckets: Sequence[tuple[int, int]]
) -> dict[str, dict[str, float]]:
    """Like :func:`accuracy_by_length` for inclusive length ranges, e.g. ``[(1, 5), (6, 10)]`` -> keys ``"1-5"``."""
    if isinstance(buckets, (str, bytes)) or not isinstance(buckets, Sequence) or not buckets:
        raise TypeError(
            f"buckets must be a non-empty list of (low, high) length ranges, e.g. [(1, 5), (6, 10)], got {buckets!r}"
        )
    for bucket in buckets:
        if not (isinstance(bucket, (tuple, list)) and len(bucket) == 2):
            raise TypeError(f"each bucket is a (low, high) pair of ints, got {bucket!r}")
        lo, hi = (_validate.integer(b, "a bucket bound", minimum=0) for b in bucket)
        if hi < lo:
            raise ValueError(f"bucket {bucket!r} is empty: its low end must not exceed its high end")
    per_length = accuracy_by_length(predictions, targets, lengths)
    out = {}
    for lo, hi in buckets:
        rows = [(n, r) for n, r in per_length.items() if lo <= n <= hi]
        count = sum(r["count"] for _, r in rows)
        if count == 0:
            continue
        out[f"{lo}-{hi}"] = {
            "exact_match": sum(r["exact_match"] * r["count"] for _, r in rows) / count,
            # token accuracy weighted by sequences (each length's accuracy already weights its tokens)
            "token_accuracy": sum(r["token_accuracy"] * r["count"] for _, r in rows) / count,
            "count": count,
        }
    return out


def accuracy_by_position(predictions, targets, include_eos: bool = False) -> dict[int, dict[str, float]]:
    """Token accuracy at each output position: ``{position: {"accuracy", "count"}}``.

    Position ``t`` compares ``predictions[:, t]`` with ``targets[:, t]`` over the targets that have a real
    token there (``include_eos=False`` skips the EOS positions, so every position counts data tokens only).
    With teacher-forced predictions (argmax given the gold prefix) against free-running ones (greedy), the
    gap between the two curves is exposure bias made visible.
    """
    _validate.boolean(include_eos, "include_eos")
    preds, tgts = _rows(predictions, "predictions"), _rows(targets, "targets")
    if len(preds) != len(tgts):
        raise ValueError(f"predictions hold {len(preds)} sequences but targets hold {len(tgts)}")
    if not preds:
        raise ValueError("cannot score an empty batch: pass at least one sequence")
    hits: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    for pred, tgt in zip(preds, tgts):
        for t, token in enumerate(_until_eos(tgt)):
            if token == EOS and not include_eos:
                break
            counts[t] += 1
            hits[t] += int(t < len(pred) and pred[t] == token)
    return {t: {"accuracy": hits[t] / counts[t], "count": counts[t]} for t in sorted(counts)}


# ------------------------------------------------------------------------------- character error rate


def _as_symbols(x, name: str) -> list:
    """A string (its characters) or a list of token ids (up to and including the first EOS) as a list."""
    if isinstance(x, str):
        return list(x)
    if isinstance(x, torch.Tensor):
        _validate.integer_dtype(x, name)
        if x.dim() != 1:
            raise ValueError(f"{name} must be a string or one sequence of ids (1-D), got shape {list(x.shape)}")
        x = x.tolist()
    if isinstance(x, bytes) or not isinstance(x, Sequence):
        raise TypeError(f"{name} must be a string or a list of token ids, got {type(x).__name__}")
    (ids,) = _validate.id_rows([x], name)
    return [t for t in _until_eos(ids) if t != EOS]


def edit_distance(prediction, reference) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions that turn one into the other.

    Both are strings (compared character by character) or lists of token ids (compared up to EOS, EOS excluded).

    >>> edit_distance("2021-03-03", "2021-03-08"), edit_distance("2021-3-03", "2021-03-03")
    (1, 1)
    """
    return _distance(_as_symbols(prediction, "prediction"), _as_symbols(reference, "reference"))


def _distance(a: list, b: list) -> int:
    previous = list(range(len(b) + 1))  # distances from a[:0] to every prefix of b
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(
                min(
                    previous[j] + 1,  # delete x
                    current[j - 1] + 1,  # insert y
                    previous[j - 1] + (x != y),
                )
            )  # substitute (free if equal)
        previous = current
    return previous[-1]


def char_error_rate(predictions, references) -> float:
    """Character error rate: total edit distance over total reference length (0 = perfect; can exceed 1).

    ``predictions`` and ``references`` are lists of strings (or of id lists); the rate is pooled over the
    corpus, so a long reference weighs more than a short one, as in speech and OCR evaluation.
    """
    for name, x in (("predictions", predictions), ("references", references)):
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
            raise TypeError(f"{name} must be a list of strings (or of id lists), got {type(x).__name__}")
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references")
    if not references:
        raise ValueError("cannot score an empty corpus: pass at least one reference")
    refs = [_as_symbols(r, f"references[{i}]") for i, r in enumerate(references)]
    preds = [_as_symbols(p, f"predictions[{i}]") for i, p in enumerate(predictions)]
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("every reference is empty: the character error rate is undefined")
    return sum(_distance(p, r) for p, r in zip(preds, refs)) / total
