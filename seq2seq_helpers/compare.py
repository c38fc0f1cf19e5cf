"""Is B better than A, or did this run just say so? Mean and spread over seeds, and a paired test.

Every lesson that compares two recipes (lessons 01-08) passes its numbers here and prints the answer, so a
claim in the prose is one the data can carry:

    >>> print(compare_seeds([0.770, 0.781, 0.758], [0.794, 0.742, 0.806], names=("reversal", "copy"), percent=True))
    copy − reversal = +1.1 points (95% CI −10.1 … +12.3; paired t-test over 3 seeds, p = 0.71): inside the noise:
    this run cannot tell them apart (which does not show that they are equal)
      reversal  77.0% ± 1.2% (min 75.8%, max 78.1%) over 3 seeds
      copy      78.1% ± 3.4% (min 74.2%, max 80.6%) over 3 seeds

(the first line is one line when printed).

Which function for which data:

- ``compare_seeds(a, b)``: one score per training seed for each recipe, ``a[i]`` and ``b[i]`` from seed ``i``.
  A **paired t-test** on the per-seed differences ``b[i] - a[i]``, with a t confidence interval.
- ``compare_items(a, b)``: one outcome per test item for each system, on the same items in the same order
  (``exact_matches(...)``'s 0/1 per test string, or a score per sentence). 0/1 outcomes get **McNemar's exact
  test**, anything else a **paired bootstrap** over the items; the interval is the bootstrap's either way.
  Given ``[seeds, items]`` (several seeds of each, scored on the same items) it runs both a paired t-test
  across seeds and a paired bootstrap across items, and calls B better only if both say so.
- ``compare_table(scores, baseline=...)``: several recipes against one baseline, one line each, the p-values
  adjusted for the number of comparisons (Holm).

What the tests assume, and what they cannot show:

- **Paired.** Both sides are measured on the same units: the same seed (its data order, initial weights) or the
  same test item. Pairing removes what the two share (a hard test string is hard for both), which is why a
  paired test sees differences an unpaired one (Welch's t-test) misses; it is wrong for unpaired data.
- **Exchangeable units.** Seeds are independent draws of the training randomness; test items are independent
  draws from the population of inputs the claim is about. If the test items are not a sample of what you care
  about, neither test can say anything about it.
- **A test over seeds says nothing about test-set sampling,** because every seed is scored on the same test
  set: it asks whether the gap is larger than training noise, on these items. **A test over test items says
  nothing about seed variance:** it asks whether these trained models differ on inputs like these; a second
  training run of either recipe might land elsewhere. A claim about the recipes needs both.
- **Not significant is not "equal".** ``p >= alpha`` means this run cannot tell the two apart; the interval
  says how large a difference it still allows. Few seeds allow a wide range.

Why a t-test across seeds, and not a sign-flip (permutation) test: with ``n`` seeds an exact sign-flip test
can never give a two-sided p below ``2 / 2**n``: 0.25 with 3 seeds, 0.125 with 4, 0.0625 with 5; it needs 6
seeds to reach 0.05 at all. The t-test can separate two recipes with 3 seeds when their per-seed differences
are consistent, at the price of assuming those differences are roughly normal, which a handful of seeds cannot
check. The result therefore also reports the exact sign-flip p whenever the two tests disagree, and
``test="sign-flip"`` runs it instead; with too few seeds to ever reach ``alpha`` the verdict says so.

The bootstrap draws from its own ``torch.Generator`` seeded by ``seed``: a result is the same on every call,
and the global random state is never touched. SciPy is not a dependency: the t distribution comes from the
regularised incomplete beta function below (a continued fraction), tested against closed forms and table
values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import torch

from . import _validate

__all__ = ["Comparison", "Summary", "compare_items", "compare_seeds", "compare_table"]

MINUS = "\u2212"  # the minus sign, as in "B − A = −0.8 points"
_EXACT_SIGN_FLIPS = 16  # up to 16 seeds every one of the 2**n sign patterns is tried; beyond, a random sample


# --------------------------------------------------------------------------------------------- distributions


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, by the modified Lentz method (Numerical
    Recipes, 3rd ed., §6.4); converges fast for ``x < (a + 1) / (a + b + 2)``."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),  # the even step
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),  # the odd step
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function ``I_x(a, b)`` (``a, b > 0``, ``0 <= x <= 1``)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b  # the symmetry I_x(a, b) = 1 - I_{1-x}(b, a)


def _t_p_value(t: float, df: float) -> float:
    """Two-sided p of Student's t with ``df`` degrees of freedom: ``P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2)``."""
    if math.isinf(t):
        return 0.0
    return min(1.0, _betainc(df / 2.0, 0.5, df / (df + t * t)))


def _t_quantile(confidence: float, df: float) -> float:
    """The ``t`` whose two-sided p is ``1 - confidence`` (the table's ``t_{(1+c)/2, df}``), by bisection."""
    target, low, high = 1.0 - confidence, 0.0, 1.0
    while _t_p_value(high, df) > target:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        low, high = (middle, high) if _t_p_value(middle, df) > target else (low, middle)
        if high - low <= 1e-13 * high:
            break
    return (low + high) / 2.0


# --------------------------------------------------------------------------------------------- the tests


class _Test(NamedTuple):
    ci: tuple[float, float]
    p: float
    p_floor: float  # the smallest p this test could have given on this data
    p_at_most: bool  # a Monte Carlo p whose count was 0: the true p is at most the stated value


def _paired_t(differences: torch.Tensor, confidence: float) -> _Test:
    """Paired t-test and t interval on per-seed differences (n >= 2)."""
    n = differences.numel()
    mean, sd = float(differences.mean()), float(differences.std())  # sample std (n - 1)
    half_width = _t_quantile(confidence, n - 1) * sd / math.sqrt(n)
    p = 1.0 if mean == 0.0 else _t_p_value(mean / (sd / math.sqrt(n)), n - 1) if sd > 0 else 0.0
    return _Test((mean - half_width, mean + half_width), p, 0.0, False)


def _sign_flip(differences: torch.Tensor, resamples: int, seed: int) -> _Test:
    """Exact two-sided sign-flip test: the share of sign patterns whose |sum| is at least the observed one."""
    n = differences.numel()
    observed = abs(float(differences.sum()))
    tolerance = 1e-9 * float(differences.abs().sum())  # sums equal up to rounding count as equal
    if n <= _EXACT_SIGN_FLIPS:
        bits = (torch.arange(2**n).unsqueeze(1) >> torch.arange(n)) & 1  # [2**n, n]: every pattern once
        sums = ((1.0 - 2.0 * bits.double()) * differences).sum(1).abs()
        return _Test((math.nan, math.nan), float((sums >= observed - tolerance).double().mean()), 2.0 / 2**n, False)
    generator = torch.Generator().manual_seed(seed)
    signs = 1.0 - 2.0 * torch.randint(2, (resamples, n), generator=generator).double()  # [resamples, n]
    count = int(((signs * differences).sum(1).abs() >= observed - tolerance).sum())
    return _Test((math.nan, math.nan), (count + 1) / (resamples + 1), 1.0 / (resamples + 1), count == 0)


def _bootstrap(differences: torch.Tensor, confidence: float, resamples: int, seed: int) -> _Test:
    """Paired bootstrap over items: resample the items with replacement, ``resamples`` times.

    The interval is the percentile interval of the resampled mean differences. The two-sided p is the share of
    resamples on the far side of zero, doubled: ``2 · min(#(sum ≤ 0), #(sum ≥ 0))``, with the usual ``+1`` in
    numerator and denominator so that a Monte Carlo p is never 0. It is the p at which the percentile interval
    would just touch zero, so ``p < 1 - confidence`` exactly when the interval excludes zero (up to resampling).
    """
    n = differences.numel()
    generator = torch.Generator().manual_seed(seed)
    chunk = max(1, 2_000_000 // n)  # at most 2 million resampled items in memory at once
    sums = []
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        index = torch.randint(n, (rows, n), generator=generator)  # [rows, n]: each row one resample of the items
        sums.append(differences[index].sum(1))
    sums = torch.cat(sums)  # [resamples]
    tail = (1.0 - confidence) / 2.0
    low, high = (float(q) for q in torch.quantile(sums / n, torch.tensor([tail, 1.0 - tail], dtype=torch.float64)))
    far_side = min(int((sums <= 0).sum()), int((sums >= 0).sum()))
    p = min(1.0, 2.0 * (far_side + 1) / (resamples + 1))
    return _Test((low, high), p, 2.0 / (resamples + 1), far_side == 0)


def _mcnemar(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, int]:
    """McNemar's exact test on paired 0/1 outcomes: (p, smallest possible p, number of discordant items).

    Only the items where the two disagree carry information; if the two were equally good, each such item
    would be a fair coin (B right and A wrong, or the reverse), so the count of one kind is Binomial(n, 1/2).
    """
    only_b, only_a = int(((b == 1) & (a == 0)).sum()), int(((a == 1) & (b == 0)).sum())
    n = only_a + only_b
    if n == 0:
        return 1.0, 1.0, 0
    term = tail = 1  # C(n, 0); exact integers, so nothing underflows for thousands of items
    for i in range(min(only_a, only_b)):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, 2 * tail / 2**n), min(1.0, 2 / 2**n), n


# --------------------------------------------------------------------------------------------- the result


class Summary(NamedTuple):
    """One side of a comparison: its mean, and over seeds its sample std (n - 1), min and max.

    Over test items only the mean is given (``std``, ``low``, ``high`` are None): the spread of 0/1 outcomes
    is not a spread between runs."""

    mean: float
    std: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Comparison:
    """What ``compare_seeds`` / ``compare_items`` found; ``print(result)`` says it in words.

    ``difference`` is the mean paired difference B - A, ``ci`` its interval at ``confidence``, ``p_value`` the
    paired test's two-sided p (for ``over="seeds and items"`` the larger of the two tests' p, so that it is
    below ``alpha`` only when both are). ``better`` names the better side when ``p_value < alpha``, else None.
    ``p_floor`` is the smallest p the test could have given on this data (``2 / 2**n`` for a sign-flip test
    over ``n`` seeds): when it is not below ``alpha`` no outcome of this run could have separated the two.
    """

    names: tuple[str, str]
    a: Summary
    b: Summary
    difference: float
    ci: tuple[float, float]
    p_value: float
    test: str  # what ran, over what and how many: "paired t-test over 3 seeds"
    over: str  # "seeds", "items" or "seeds and items"
    n: int  # seeds (over "seeds" and "seeds and items") or test items (over "items")
    items: int | None = None  # test items, when the data had them
    item_noun: str = "test items"
    alpha: float = 0.05
    confidence: float = 0.95
    p_floor: float = 0.0
    p_at_most: bool = False
    floor_reason: str = ""  # what limits p_floor, for the verdict: "3 seeds", "only 4 of the 500 test items differing"
    ci_method: str = ""  # how the interval was made when the test is not the one that made it
    higher_is_better: bool = True
    percent: bool = False
    notes: tuple[str, ...] = ()
    parts: tuple[Comparison, ...] = ()  # over "seeds and items": (across seeds, across items)

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    @property
    def better(self) -> str | None:
        if not self.significant or self.difference == 0:
            return None
        b_ahead = self.difference > 0 if self.higher_is_better else self.difference < 0
        return self.names[1] if b_ahead else self.names[0]

    @property
    def verdict(self) -> str:
        """The conclusion in words: who is better, or that this run cannot tell them apart, and why."""
        level = f"p < {self.alpha:g}"
        if self.over == "seeds and items":
            seeds, items = self.parts
            if self.significant:
                return f"{self.better} is better: significant ({level}) both across seeds and across {self.item_noun}"
            if seeds.significant:
                return (
                    f"not shown: the gap holds across these {seeds.n} seeds but is within the noise of sampling "
                    f"{self.item_noun}; a larger test set could tell"
                )
            if items.significant:
                return (
                    f"not shown: the gap is clear across {self.item_noun} but within seed-to-seed noise; more "
                    f"seeds could tell whether {items.better} is better or had luckier seeds"
                )
            return (
                "inside the noise across seeds and across "
                f"{self.item_noun}: this run cannot tell them apart (which does not show that they are equal)"
            )
        if self.significant:
            if self.over == "seeds":
                return f"{self.better} is better: significant ({level}) across training seeds, on this one test set"
            return (
                f"{self.better} is better: significant ({level}) across {self.item_noun}; this test does not "
                "measure variation between training seeds"
            )
        text = "inside the noise: this run cannot tell them apart (which does not show that they are equal)"
        if self.p_floor >= self.alpha:
            text += (
                f"; with {self.floor_reason or 'this data'} this test can never reach {level} (its smallest p is "
                f"{self.p_floor:.2g})"
            )
        return text

    # ----------------------------------------------------------------------------------------- printing

    def _digits(self) -> int:
        scale = 100.0 if self.percent else 1.0
        width = scale * max(abs(c.ci[1] - c.ci[0]) for c in (self, *self.parts))
        if not math.isfinite(width) or width <= 0:
            return 1 if self.percent else 3
        return max(1 if self.percent else 0, min(4, 1 - math.floor(math.log10(width))))

    def _value(self, x: float, digits: int) -> str:
        return f"{100 * x:.{digits}f}%" if self.percent else f"{x:.{digits}f}"

    def _signed(self, x: float, digits: int) -> str:
        text = f"{abs(100 * x if self.percent else x):.{digits}f}"
        if text.strip("0.") == "":
            return text
        return ("+" if x > 0 else MINUS) + text

    def _p(self) -> str:
        if self.p_at_most:
            return f"p ≤ {self.p_value:.2g}"
        return "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.2g}"

    def _interval(self, digits: int) -> str:
        low, high = self.ci
        return f"{self.confidence:.0%} CI {self._signed(low, digits)} … {self._signed(high, digits)}{self.ci_method}"

    def _sides(self, digits: int) -> list[str]:
        width = max(len(name) for name in self.names)
        lines = []
        for name, side in zip(self.names, (self.a, self.b)):
            if side.std is None:
                where = f" on {self.n:,} {self.item_noun}" if self.over == "items" else ""
                lines.append(f"  {name:<{width}}  {self._value(side.mean, digits)}{where}")
            else:
                lines.append(
                    f"  {name:<{width}}  {self._value(side.mean, digits)} ± {self._value(side.std, digits)} "
                    f"(min {self._value(side.low, digits)}, max {self._value(side.high, digits)}) over {self.n} seeds"
                )
        return lines

    def __str__(self) -> str:
        digits = self._digits()
        a, b = self.names
        gap = f"{b} {MINUS} {a} = {self._signed(self.difference, digits)}{' points' if self.percent else ''}"
        direction = "" if self.higher_is_better else ", lower is better"
        if self.parts:
            lines = [f"{gap} (mean over {self.n} seeds × {self.items:,} {self.item_noun}{direction}): {self.verdict}"]
            for label, part in zip(("across seeds", f"across {self.item_noun}"), self.parts):
                lines.append(f"  {label}: {part._interval(digits)}; {part.test}, {part._p()}")
        else:
            lines = [f"{gap} ({self._interval(digits)}; {self.test}, {self._p()}{direction}): {self.verdict}"]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines + self._sides(digits))


# --------------------------------------------------------------------------------------------- the helpers


def _options(names, alpha, confidence, higher_is_better, percent, resamples, seed):
    if not (isinstance(names, (tuple, list)) and len(names) == 2):
        raise TypeError(f"names must be a pair of names (A, B) such as ('GRU', 'GRU + attention'), got {names!r}")
    for name in names:
        _validate.string(name, "each of names", "GRU + attention")
    if names[0] == names[1]:
        raise ValueError(f"names must tell the two sides apart, got {names[0]!r} twice")
    _validate.number(alpha, "alpha", 0.0, 0.5, low_open=True, hint=" (0.05 is the usual level)")
    _validate.number(confidence, "confidence", 0.0, 1.0, low_open=True, high_open=True, hint=" (such as 0.95)")
    _validate.boolean(higher_is_better, "higher_is_better")
    if percent is not None:
        _validate.boolean(percent, "percent")
    _validate.integer(resamples, "resamples", minimum=100)
    _validate.integer(seed, "seed", minimum=0)
    return tuple(names)


def _pair(a, b, what: str, max_dims: int, allow_bool: bool) -> tuple[torch.Tensor, torch.Tensor]:
    a = _validate.real_values(a, "a", what, max_dims, allow_bool)
    b = _validate.real_values(b, "b", what, max_dims, allow_bool)
    if a.shape != b.shape:
        raise ValueError(
            f"a has shape {list(a.shape)} but b has {list(b.shape)}: a paired comparison needs {what} for both, "
            "in the same order (a[i] and b[i] from the same seed or the same test item)"
        )
    return a, b


def _over_seeds(a: torch.Tensor, b: torch.Tensor) -> tuple[Summary, Summary]:
    return tuple(Summary(float(x.mean()), float(x.std()), float(x.min()), float(x.max())) for x in (a, b))


def compare_seeds(
    a,
    b,
    *,
    names: tuple[str, str] = ("A", "B"),
    test: str = "t",
    higher_is_better: bool = True,
    percent: bool = False,
    alpha: float = 0.05,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> Comparison:
    """Two recipes, one score per training seed each, ``a[i]`` and ``b[i]`` from the same seed ``i``.

    A paired test on the per-seed differences ``b[i] - a[i]``. ``test="t"`` (the default) runs the paired
    t-test, with the t interval: it assumes the per-seed differences are independent draws from a roughly normal
    distribution, which a handful of seeds cannot check. ``test="sign-flip"`` runs the exact sign-flip test
    instead, which assumes only that each difference is as likely to have been the negative of itself if the
    recipes were equally good (symmetry); with ``n`` seeds it can never give p below ``2 / 2**n`` (0.25 with 3
    seeds), and the verdict says so. Either way the test is across seeds, on one test set: it says whether the
    gap is larger than training noise, not whether it would hold on other test items (``compare_items`` asks
    that). The seeds must be paired (the same seed means the same data order and initialisation for both);
    for runs that share nothing, a paired test is wrong.

    ``percent=True`` prints scores in [0, 1] as percentages and their differences in points. With
    ``higher_is_better=False`` (a loss, an error rate) the better side is the lower one.
    """
    names = _options(names, alpha, confidence, higher_is_better, percent, resamples, seed)
    _validate.boolean(percent, "percent")
    _validate.one_of(test, "test", ("t", "sign-flip"))
    a, b = _pair(a, b, "one score per seed", 1, False)
    n = a.numel()
    if n < 2:
        raise ValueError(
            "compare_seeds needs at least 2 seeds on each side to see any seed-to-seed variation, got 1; "
            "train both recipes with more seeds (3 or more)"
        )
    differences = b - a
    t_result = _paired_t(differences, confidence)
    flips = _sign_flip(differences, resamples, seed)
    notes: list[str] = []
    if float(differences.abs().max()) == 0.0:
        notes.append(f"the two are identical on every one of the {n} seeds")
        result, description = t_result, f"paired t-test over {n} seeds"
    elif test == "sign-flip" or float(differences.std()) <= 1e-9 * float(differences.abs().max()):
        # the same difference on every seed (up to rounding: 0.2 - 0.1 is not 0.3 - 0.2 in floating point)
        if test == "t":
            notes.append(
                "the difference is the same on every seed, so the t-test is undefined; the exact sign-flip test ran"
            )
        result, description = flips._replace(ci=t_result.ci), f"sign-flip test over {n} seeds"
    else:
        result, description = t_result, f"paired t-test over {n} seeds"
        if (t_result.p < alpha) != (flips.p < alpha):
            notes.append(
                f"the t-test assumes the per-seed differences are roughly normal, which {n} seeds cannot check; the "
                f"sign-flip test, which assumes only symmetry, gives p = {flips.p:.2g} (with {n} seeds it cannot "
                f"go below {flips.p_floor:.2g})"
            )
    a_side, b_side = _over_seeds(a, b)
    return Comparison(
        names=names,
        a=a_side,
        b=b_side,
        difference=float(differences.mean()),
        ci=result.ci,
        p_value=result.p,
        test=description,
        over="seeds",
        n=n,
        floor_reason=f"{n} seeds",
        alpha=alpha,
        confidence=confidence,
        p_floor=result.p_floor,
        p_at_most=result.p_at_most,
        ci_method=", t interval" if description.startswith("sign-flip") else "",
        higher_is_better=higher_is_better,
        percent=percent,
        notes=tuple(notes),
    )


def compare_items(
    a,
    b,
    *,
    names: tuple[str, str] = ("A", "B"),
    test: str = "auto",
    item_noun: str = "test items",
    higher_is_better: bool = True,
    percent: bool | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> Comparison:
    """Two systems on the same test items: one outcome per item, ``a[j]`` and ``b[j]`` on item ``j``.

    Outcomes are 0/1 (``exact_matches(...)``, bools are fine) or any score per item (chrF per sentence).
    ``test="auto"`` runs McNemar's exact test on 0/1 outcomes and a paired bootstrap otherwise (``"mcnemar"``
    or ``"bootstrap"`` to choose); the interval always comes from the bootstrap (``resamples`` resamples of
    the items, drawn from a generator seeded with ``seed``, so the result repeats exactly). Both tests assume
    the items are independent draws from the inputs the claim is about, and are paired (the same item for
    both sides); McNemar's test looks only at the items where the two disagree. Neither says anything about
    another training seed: these are the two trained models (or fixed systems) you have.

    Given ``[seeds, items]`` for each side (several seeds of each recipe, each scored on the same items), it
    runs two tests: a paired t-test across seeds on the per-seed scores (training noise, on this test set) and
    a paired bootstrap across items on the differences averaged over seeds (test-set sampling, for these
    models). B is called better only when both are significant, so ``p_value`` is the larger of the two; the
    verdict says which one failed otherwise. With 3 seeds the t-test across seeds is usually the one that
    cannot tell: its interval is wide because 3 seeds say little about training noise.

    ``item_noun`` names the items in the printout ("test strings", "sentences"). ``percent`` (default: True
    for 0/1 outcomes) prints means as percentages and differences in points.
    """
    names = _options(names, alpha, confidence, higher_is_better, percent, resamples, seed)
    _validate.string(item_noun, "item_noun", "test strings")
    _validate.one_of(test, "test", ("auto", "mcnemar", "bootstrap"))
    a, b = _pair(a, b, "one outcome per test item (or one row of them per seed)", 2, True)
    if a.dim() == 2 and a.shape[0] == 1:
        a, b = a[0], b[0]
    binary = bool(((a == 0) | (a == 1)).all() and ((b == 0) | (b == 1)).all())
    if test == "mcnemar" and not binary:
        bad = a if not bool(((a == 0) | (a == 1)).all()) else b
        value = float(bad[~((bad == 0) | (bad == 1))][0])
        raise ValueError(
            f"McNemar's test compares 0/1 outcomes (right or wrong per item), but {'a' if bad is a else 'b'} "
            f"holds {value:g}; pass exact_matches(...) as 0/1, or use test='bootstrap' for scores"
        )
    if test == "mcnemar" and a.dim() == 2:
        raise ValueError(
            "McNemar's test needs one 0/1 outcome per item for each side; with several seeds the outcomes "
            "averaged over seeds are not 0/1: leave test='auto' (a t-test across seeds and a bootstrap across items)"
        )
    percent = binary if percent is None else percent
    items = a.shape[-1]
    if items < 2:
        raise ValueError("compare_items needs at least 2 test items, got 1: score both systems on a test set")
    shared = dict(
        names=names,
        item_noun=item_noun,
        alpha=alpha,
        confidence=confidence,
        higher_is_better=higher_is_better,
        percent=percent,
        items=items,
    )
    if a.dim() == 2:
        seeds = a.shape[0]
        across_seeds = compare_seeds(
            a.mean(1), b.mean(1), names=names, higher_is_better=higher_is_better, percent=percent, alpha=alpha,
            confidence=confidence, resamples=resamples, seed=seed,
        )  # fmt: skip
        across_items = compare_items(
            a.mean(0), b.mean(0), names=names, test="bootstrap", item_noun=item_noun,
            higher_is_better=higher_is_better, percent=percent, alpha=alpha, confidence=confidence,
            resamples=resamples, seed=seed,
        )  # fmt: skip
        across_items = dataclasses.replace(
            across_items, test=across_items.test.replace(f" {item_noun}", f" {item_noun} (averaged over seeds)", 1)
        )
        low = min(across_seeds.ci[0], across_items.ci[0])
        high = max(across_seeds.ci[1], across_items.ci[1])
        return Comparison(
            a=across_seeds.a,
            b=across_seeds.b,
            difference=across_seeds.difference,
            ci=(low, high),  # the smallest interval holding both: zero lies outside it only if both tests exclude it
            p_value=max(across_seeds.p_value, across_items.p_value),
            test="paired t-test across seeds and paired bootstrap across items; B better only if both are significant",
            over="seeds and items",
            n=seeds,
            p_floor=max(across_seeds.p_floor, across_items.p_floor),
            notes=across_seeds.notes,
            parts=(across_seeds, across_items),
            **shared,
        )
    differences = b - a
    bootstrap = _bootstrap(differences, confidence, resamples, seed)
    notes = []
    if float(differences.abs().max()) == 0.0:
        notes.append(f"the two are identical on every one of the {items:,} {item_noun}")
    if test == "mcnemar" or (test == "auto" and binary):
        p, floor, discordant = _mcnemar(a, b)
        floor_reason = f"only {discordant:,} of the {items:,} {item_noun} differing"
        description = f"exact McNemar test over {items:,} {item_noun}, {discordant:,} of which differ"
        result = _Test(bootstrap.ci, p, floor, False)
        ci_method = " by paired bootstrap"
    else:
        description = f"paired bootstrap over {items:,} {item_noun}, {resamples:,} resamples"
        result, ci_method, floor_reason = bootstrap, "", f"{resamples:,} resamples"
    return Comparison(
        a=Summary(float(a.mean()), None, None, None),
        b=Summary(float(b.mean()), None, None, None),
        difference=float(differences.mean()),
        ci=result.ci,
        p_value=result.p,
        test=description,
        over="items",
        n=items,
        p_floor=result.p_floor,
        p_at_most=result.p_at_most,
        floor_reason=floor_reason,
        ci_method=ci_method,
        notes=tuple(notes),
        **shared,
    )


def compare_table(
    scores: Mapping[str, object],
    baseline: str,
    *,
    over: str,
    adjust: bool = True,
    **options,
) -> dict[str, Comparison]:
    """Several recipes against one baseline, one printed line each; returns ``{recipe: Comparison}``.

    ``scores`` maps each recipe's name (the baseline's too) to what ``compare_seeds`` (``over="seeds"``) or
    ``compare_items`` (``over="items"``) takes; ``options`` are passed on to it. Each line is the paired
    comparison recipe - baseline. With several recipes, one may look significant by chance alone (5 recipes,
    each no better than the baseline, tested at 0.05: up to a 25% chance of at least one false "better", about
    23% if the tests were independent), so with ``adjust=True`` the p-values are adjusted by Holm's method,
    which keeps the chance of any false "better" or "worse" in the table at most ``alpha`` whatever the
    dependence between the tests; the intervals are not adjusted. The printed verdict of each line is the
    returned Comparison's (``print(table[name])`` gives its full wording).
    """
    if not isinstance(scores, Mapping):
        raise TypeError(f"scores must be a dict {{recipe name: scores}}, got {_validate._describe(scores)}")
    _validate.one_of(over, "over", ("seeds", "items"))
    _validate.boolean(adjust, "adjust")
    try:
        known = baseline in scores
    except TypeError:
        raise TypeError(
            f"baseline must be the name of a recipe in scores, got {_validate._describe(baseline)}"
        ) from None
    if not known:
        raise ValueError(f"baseline {baseline!r} is not one of the recipes in scores: {list(scores)}")
    if len(scores) < 2:
        raise ValueError("compare_table needs the baseline and at least one other recipe in scores")
    what = "one score per seed" if over == "seeds" else "one outcome per test item (or one row of them per seed)"
    checked = {
        name: _validate.real_values(values, f"scores[{name!r}]", what, 1 if over == "seeds" else 2, over == "items")
        for name, values in scores.items()
    }
    for name, values in checked.items():
        if values.shape != checked[baseline].shape:
            raise ValueError(
                f"scores[{name!r}] has shape {list(values.shape)} but the baseline scores[{baseline!r}] has "
                f"{list(checked[baseline].shape)}: every recipe needs {what}, paired with the baseline's (the same "
                "seeds or test items, in the same order)"
            )
    compare = compare_seeds if over == "seeds" else compare_items
    results = {
        name: compare(checked[baseline], values, names=(str(baseline), str(name)), **options)
        for name, values in checked.items()
        if name != baseline
    }
    k = len(results)
    if adjust and k > 1:
        adjusted = _holm([result.p_value for result in results.values()])
        raw = list(results.values())
        for (name, result), p in zip(list(results.items()), adjusted):
            note = f"p adjusted for {k} comparisons against {baseline} (Holm); unadjusted {result._p()}"
            # an adjusted p is an upper bound when any p it was built from (those not larger) was one
            at_most = any(other.p_at_most for other in raw if other.p_value <= result.p_value)
            results[name] = dataclasses.replace(result, p_value=p, p_at_most=at_most, notes=(*result.notes, note))
    _print_table(results, baseline, k, adjust)
    return results


def _holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: the i-th smallest of k p-values times (k - i + 1), kept from decreasing."""
    k, adjusted, running = len(p_values), [0.0] * len(p_values), 0.0
    for rank, i in enumerate(sorted(range(k), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (k - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _print_table(results: dict[str, Comparison], baseline: str, k: int, adjust: bool) -> None:
    first = next(iter(results.values()))
    digits = max(result._digits() for result in results.values())
    width = max(len(str(name)) for name in [baseline, *results])
    over = (
        first.test if first.over != "seeds and items" else f"t-test across seeds and bootstrap across {first.item_noun}"
    )
    header = f"{k} recipe{'s' if k > 1 else ''} against {baseline}: {over.split(',')[0]}"
    if adjust and k > 1:
        header += f"; p adjusted for {k} comparisons (Holm), intervals not"
    unit = " (points)" if first.percent else ""
    lines = [header, f"{'':<{width}}  {'mean':>20}  {'difference' + unit:>19}  {'p':>10}  verdict"]

    def mean(side: Summary) -> str:
        text = first._value(side.mean, digits)
        return text if side.std is None else f"{text} ± {first._value(side.std, digits)}"

    lines.append(f"{baseline:<{width}}  {mean(first.a):>20}  {'(baseline)':>19}")
    for name, result in results.items():
        if result.significant:
            word = "better" if result.better == result.names[1] else "worse"
        elif any(part.significant for part in result.parts):
            word = "not shown (one test of two)"
        else:
            word = "cannot tell apart"
        low, high = result.ci
        lines.append(
            f"{name:<{width}}  {mean(result.b):>20}  {result._signed(result.difference, digits):>19}  "
            f"{result._p().removeprefix('p ').removeprefix('= '):>10}  {word}, {result.confidence:.0%} CI "
            f"{result._signed(low, digits)} … {result._signed(high, digits)}"
        )
    print("\n".join(lines))
