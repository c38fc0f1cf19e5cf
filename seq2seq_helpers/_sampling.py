"""Rejection sampling with one budget, shared by the data builders (``data.py``, ``dates.py``, ``translation.py``).

A builder draws candidates from its own ``random.Random`` until it has ``n`` that it keeps: a candidate of
another split is rejected, and with ``unique`` one already kept is rejected too. A range that holds too few
candidates would make that loop endless, so it stops after :func:`draws_allowed` draws with a ValueError saying
what was found and what to change. The budget is generous (a builder whose range holds enough candidates never
comes near it, even when most draws are rejected); reaching it means the range is too narrow.
"""

from __future__ import annotations

from typing import Any, Callable

REJECTED = object()  # what ``draw`` returns for a candidate it rejects itself (another split)


def draws_allowed(n: int) -> int:
    """The budget for ``n`` samples: ``200 * n + 10_000`` draws."""
    return 200 * n + 10_000


def sample_until(
    n: int,
    draw: Callable[[], Any],
    fail: Callable[[int, int], str],
    key: Callable[[Any], Any] | None = None,
    keep: Callable[[Any], Any] | None = None,
) -> list:
    """``n`` samples: ``draw()`` is called until ``n`` candidates are kept, at most ``draws_allowed(n)`` times.

    ``draw()`` returns a candidate, or ``REJECTED``; with ``key``, a candidate whose ``key`` was already kept is
    rejected too (unique samples). Each kept candidate is passed through ``keep`` (if given) right away, in order,
    so ``keep`` may draw from the same generator. If the budget runs out, ``ValueError(fail(found, draws))``.
    """
    samples, seen, budget = [], set(), draws_allowed(n)
    for _ in range(budget):
        if len(samples) == n:
            break
        candidate = draw()
        if candidate is REJECTED:
            continue
        if key is not None:
            k = key(candidate)
            if k in seen:
                continue
            seen.add(k)
        samples.append(keep(candidate) if keep is not None else candidate)
    if len(samples) < n:
        raise ValueError(fail(len(samples), budget))
    return samples
