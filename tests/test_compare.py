"""Tests for seq2seq_helpers.compare: the paired tests, what they print, and the errors at the door.

Every expected value is worked out by hand in the comments next to it, or comes from a closed form or a
printed t table; none is copied from a run.
"""

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seq2seq_helpers.compare import (
    MINUS,
    Comparison,
    _betainc,
    _holm,
    _mcnemar,
    _t_p_value,
    _t_quantile,
    compare_items,
    compare_seeds,
    compare_table,
)

FAST = settings(deadline=None, database=None)  # no .hypothesis/ folder in the checkout

# ------------------------------------------------------------------------------- the t distribution, no SciPy


@pytest.mark.parametrize("x", [0.01, 0.2, 0.5, 0.77, 0.99])
@pytest.mark.parametrize("a", [0.5, 1.0, 3.0, 12.5])
def test_the_incomplete_beta_matches_its_closed_forms(a, x):
    assert _betainc(a, 1.0, x) == pytest.approx(x**a, rel=1e-12)  # I_x(a, 1) = x^a
    assert _betainc(1.0, a, x) == pytest.approx(1 - (1 - x) ** a, rel=1e-12)  # I_x(1, b) = 1 - (1-x)^b
    assert _betainc(a, 2.5, x) + _betainc(2.5, a, 1 - x) == pytest.approx(1.0, abs=1e-12)  # symmetry


@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 2.5, 6.0, 40.0, -3.0])
def test_t_p_values_match_the_closed_forms_for_one_and_two_degrees_of_freedom(t):
    assert _t_p_value(t, 1) == pytest.approx(1 - 2 / math.pi * math.atan(abs(t)), abs=1e-12)  # Cauchy
    assert _t_p_value(t, 2) == pytest.approx(1 - abs(t) / math.sqrt(t * t + 2), abs=1e-12)


@pytest.mark.parametrize(
    "t, df, p",  # a printed t table: the two-sided 5% and 1% points, given to 3 decimals
    [(12.706, 1, 0.05), (4.303, 2, 0.05), (2.776, 4, 0.05), (2.262, 9, 0.05), (3.250, 9, 0.01), (2.042, 30, 0.05)],
)
def test_t_p_values_and_quantiles_match_the_t_table(t, df, p):
    assert _t_p_value(t, df) == pytest.approx(p, abs=2e-4 if p == 0.05 else 5e-5)
    assert _t_quantile(1 - p, df) == pytest.approx(t, abs=6e-4)


def test_with_many_degrees_of_freedom_t_is_the_normal():
    assert _t_p_value(1.959964, 10**7) == pytest.approx(0.05, abs=1e-5)
    assert _t_quantile(0.95, 10**7) == pytest.approx(1.959964, abs=1e-4)


# ------------------------------------------------------------------------------- across seeds


def test_the_seeds_test_is_paired_not_welch():
    # per-seed differences 0.02, 0.01, 0.02: mean 1/60, sample std 0.01/sqrt(3), so t = (1/60) / (0.01/3) = 5
    # with 2 degrees of freedom: p = 1 - 5/sqrt(27) ≈ 0.0377. Welch's test would compare the means 0.6 and 0.6167
    # against the sides' own spread (std 0.1 each) and find nothing (p ≈ 0.85).
    a, b = [0.50, 0.60, 0.70], [0.52, 0.61, 0.72]
    result = compare_seeds(a, b)
    assert result.p_value == pytest.approx(1 - 5 / math.sqrt(27), abs=1e-9)
    assert result.difference == pytest.approx(1 / 60)
    half = 4.303 * (0.01 / math.sqrt(3)) / math.sqrt(3)  # t_{0.975, 2} · sd / sqrt(n)
    assert result.ci == pytest.approx((1 / 60 - half, 1 / 60 + half), abs=1e-5)
    assert result.better == "B" and result.test == "paired t-test over 3 seeds"
    # the spread of each side over the seeds: sample std of 0.5, 0.6, 0.7 is 0.1
    assert result.a.mean == pytest.approx(0.6) and result.a.std == pytest.approx(0.1)
    assert (result.a.low, result.a.high, result.b.low, result.b.high) == pytest.approx((0.5, 0.7, 0.52, 0.72))


def test_identical_seeds_cannot_be_told_apart():
    result = compare_seeds([0.8, 0.9, 0.7], [0.8, 0.9, 0.7], names=("GRU", "LSTM"))
    assert result.difference == 0 and result.p_value == 1 and result.better is None and not result.significant
    assert "cannot tell them apart" in str(result) and "identical on every one of the 3 seeds" in str(result)
    assert "is better" not in str(result)


def test_a_large_consistent_gap_names_the_better_side():
    a = [0.50, 0.52, 0.51, 0.49, 0.50]
    b = [x + d for x, d in zip(a, [0.30, 0.31, 0.29, 0.30, 0.32])]  # t = 0.304 / (0.0114 / sqrt(5)) ≈ 60
    result = compare_seeds(a, b, names=("GRU", "GRU + attention"), percent=True)
    assert result.p_value < 1e-5 and result.better == "GRU + attention"
    text = str(result)
    assert text.startswith("GRU + attention − GRU = +30.4 points (95% CI +")
    assert "GRU + attention is better" in text and "across training seeds, on this one test set" in text
    assert "p < 0.001" in text and "over 5 seeds" in text
    assert "50.4% ± 1.1% (min 49.0%, max 52.0%)" in text  # GRU's side: mean 0.504, std 0.0114
    # a loss: lower is better, so the same data now says the first side is better
    loss = compare_seeds(a, b, names=("GRU", "GRU + attention"), higher_is_better=False)
    assert loss.better == "GRU" and loss.p_value == result.p_value and "lower is better" in str(loss)


def test_three_seeds_can_never_pass_a_sign_flip_test_and_the_verdict_says_so():
    # all three differences positive: 2 of the 8 sign patterns (all +, all −) reach |sum| >= the observed one
    result = compare_seeds([0.1, 0.2, 0.3], [0.4, 0.5, 0.6], test="sign-flip")
    assert result.p_value == 0.25 and result.p_floor == 0.25 and not result.significant
    assert "with 3 seeds this test can never reach p < 0.05 (its smallest p is 0.25)" in result.verdict
    assert ", t interval; sign-flip test over 3 seeds, p = 0.25): inside the noise" in str(result)
    six = compare_seeds([0.1] * 6, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7], test="sign-flip")
    assert six.p_value == pytest.approx(2 / 2**6) and six.better == "B"  # 6 seeds can: 2/64 = 0.031


def test_the_sign_flip_p_counts_patterns_by_hand():
    # differences 3, 1, −1 (sum 3): the 8 sums ±3±1±1 are 5, 3, 3, 1 and their negatives; 6 have |sum| >= 3
    result = compare_seeds([0.0, 0.0, 1.0], [3.0, 1.0, 0.0], test="sign-flip")
    assert result.p_value == pytest.approx(6 / 8)
    # differences 1, 2, −3 sum to 0: every pattern is at least as extreme
    assert compare_seeds([0.0, 0.0, 3.0], [1.0, 2.0, 0.0], test="sign-flip").p_value == 1.0


def test_when_the_t_test_and_the_sign_flip_test_disagree_the_note_says_both():
    result = compare_seeds([0.50, 0.60, 0.70], [0.52, 0.61, 0.72])  # t-test p ≈ 0.038, sign-flip p = 0.25
    assert result.significant
    assert any("sign-flip test, which assumes only symmetry, gives p = 0.25" in note for note in result.notes)
    clear = compare_seeds([0.1] * 8, [0.3, 0.31, 0.29, 0.3, 0.32, 0.3, 0.28, 0.3])  # both far below 0.05
    assert clear.notes == ()


def test_a_difference_equal_on_every_seed_falls_back_to_the_sign_flip_test():
    result = compare_seeds([0.1, 0.2, 0.3, 0.4], [0.2, 0.3, 0.4, 0.5])  # every difference 0.1: std 0, t undefined
    assert result.test == "sign-flip test over 4 seeds" and result.p_value == pytest.approx(2 / 16)
    assert any("t-test is undefined" in note for note in result.notes)


def test_many_seeds_sample_the_sign_patterns_reproducibly():
    a, b = [0.0] * 20, [1.0] * 20  # 20 seeds: patterns are sampled; none but the observed one is as extreme
    result = compare_seeds(a, b, test="sign-flip", resamples=999)
    assert result.p_value == pytest.approx(1 / 1000) and result.p_at_most  # (0 + 1) / (999 + 1)
    assert "p ≤ 0.001" in str(result)


# ------------------------------------------------------------------------------- across test items


def test_mcnemar_matches_the_binomial_by_hand():
    assert _mcnemar(torch.zeros(10), torch.ones(10)) == (2 * 0.5**10, 2 * 0.5**10, 10)  # 10 discordant, one way
    # 5 discordant, 1 against 4: 2 · (C(5,0) + C(5,1)) / 2^5 = 12/32
    a, b = torch.tensor([1.0, 0, 0, 0, 0, 1, 0]), torch.tensor([0.0, 1, 1, 1, 1, 1, 0])
    assert _mcnemar(a, b) == (12 / 32, 2 / 32, 5)  # (the last two items agree: both right, both wrong)
    # one more A-only item: 2 against 4 of 6, 2 · (C(6,0) + C(6,1) + C(6,2)) / 2^6 = 44/64
    assert _mcnemar(torch.cat([a, torch.ones(1)]), torch.cat([b, torch.zeros(1)]))[0] == 44 / 64
    assert _mcnemar(a, b)[0] == _mcnemar(b, a)[0]


def test_mcnemar_on_thousands_of_discordant_items_does_not_underflow():
    # 1,400 against 1,600: the normal approximation with continuity correction, z = (200 - 1) / sqrt(3000)
    a = torch.tensor([1.0] * 1400 + [0.0] * 1600)
    p, _, n = _mcnemar(a, 1 - a)
    assert n == 3000 and p == pytest.approx(math.erfc(199 / math.sqrt(3000) / math.sqrt(2)), rel=0.05)
    balanced = torch.tensor([1.0] * 1500 + [0.0] * 1500)
    assert _mcnemar(balanced, 1 - balanced)[0] == 1.0


def test_zero_one_outcomes_get_mcnemar_and_name_the_better_system():
    a = [True] * 60 + [False] * 40  # A: 60 right
    b = [True] * 60 + [True] * 12 + [False] * 28  # B: the same 60 and 12 more: 12 discordant, all for B
    result = compare_items(a, b, names=("greedy", "beam"), item_noun="test strings")
    assert result.test == "exact McNemar test over 100 test strings, 12 of which differ"
    assert result.p_value == pytest.approx(2 * 0.5**12) and result.better == "beam" and result.percent
    text = str(result)
    assert text.startswith("beam − greedy = +12.0 points (95% CI +")
    assert "by paired bootstrap; exact McNemar test" in text and "p < 0.001): beam is better" in text
    assert "this test does not measure variation between training seeds" in text
    assert "greedy  60.0% on 100 test strings" in text


def test_few_discordant_items_can_never_reach_significance_and_the_verdict_says_so():
    a = [1] * 50 + [0, 0, 0] + [1] * 47
    b = [1] * 50 + [1, 1, 1] + [1] * 47  # 3 discordant, all for B: p = 2/8
    result = compare_items(a, b)
    assert result.p_value == 0.25 and not result.significant
    assert "with only 3 of the 100 test items differing this test can never reach p < 0.05" in result.verdict


def test_identical_items_give_p_one_with_either_test():
    outcomes = [1, 0, 1, 1, 0] * 20
    for test in ("mcnemar", "bootstrap"):
        result = compare_items(outcomes, outcomes, test=test)
        assert result.difference == 0 and result.p_value == 1 and result.ci == (0.0, 0.0) and result.better is None
        assert "cannot tell them apart" in str(result) and "identical on every one of the 100 test items" in str(result)


def test_the_bootstrap_interval_has_the_width_the_central_limit_theorem_gives():
    # 2,000 differences with mean 0.1 and std 1: the 95% interval is about 0.1 ± 1.96 / sqrt(2000) = ± 0.0438
    generator = torch.Generator().manual_seed(7)
    differences = torch.randn(2000, generator=generator, dtype=torch.float64)
    differences = (differences - differences.mean()) / differences.std() + 0.1
    result = compare_items(torch.zeros(2000), differences)
    assert result.test == "paired bootstrap over 2,000 test items, 10,000 resamples"
    assert result.difference == pytest.approx(0.1)
    assert result.ci == pytest.approx((0.1 - 0.0438, 0.1 + 0.0438), abs=0.004)
    # and its p is the normal's two-sided p for z = 0.1 / (1 / sqrt(2000)) = 4.47, i.e. below 1e-4: at the floor
    assert result.p_value == pytest.approx(2 / 10_001) and result.p_at_most and "p ≤ 0.0002" in str(result)


def test_a_bootstrap_that_cannot_separate_says_so():
    differences = torch.tensor([1.0, -1.0] * 50 + [1.0, 1.0])  # mean 0.02, std ≈ 1: z ≈ 0.2
    result = compare_items(torch.zeros(102), differences, names=("A", "B"), item_noun="sentences")
    assert 0.5 < result.p_value < 1 and result.ci[0] < 0 < result.ci[1] and result.better is None
    assert "paired bootstrap over 102 sentences" in str(result) and "cannot tell them apart" in str(result)


def test_the_bootstrap_repeats_and_leaves_the_global_random_state_alone():
    generator = torch.Generator().manual_seed(3)
    a, b = torch.rand(300, generator=generator), torch.rand(300, generator=generator)
    state = torch.get_rng_state()
    first, second = compare_items(a, b, seed=5), compare_items(a, b, seed=5)
    assert torch.equal(state, torch.get_rng_state())
    assert first == second
    assert compare_items(a, b, seed=6).ci != first.ci  # another seed, other resamples


# ------------------------------------------------------------------------------- several seeds × test items


def _matrix(rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_seeds_by_items_that_agree_call_the_better_side():
    a = torch.zeros(3, 400)
    b = torch.zeros(3, 400)
    for seed, extra in enumerate((40, 42, 44)):  # B gets 40, 42, 44 more items right: diffs 0.1, 0.105, 0.11
        b[seed, :extra] = 1
    result = compare_items(a, b, item_noun="test strings")
    seeds, items = result.parts
    assert seeds.test == "paired t-test over 3 seeds" and seeds.p_value < 0.01  # t = 0.105 / (0.005/√3) ≈ 36
    assert items.test.startswith("paired bootstrap over 400 test strings (averaged over seeds)")
    assert result.p_value == max(seeds.p_value, items.p_value) and result.better == "B"
    assert "B is better: significant (p < 0.05) both across seeds and across test strings" in str(result)
    assert "mean over 3 seeds × 400 test strings" in str(result)


def test_seeds_by_items_a_gap_clear_across_items_but_not_seeds_is_not_shown():
    # seed 0: B right on 40 items A misses; seed 1: A right on 32 items B misses; seed 2: B on 48 more.
    # Across seeds the differences +0.10, −0.08, +0.12 have t ≈ 0.73 (p ≈ 0.5); across items the seed-averaged
    # differences (+1/3 on 88 items, −1/3 on 32) have z ≈ 0.047 / (0.177 / 20) ≈ 5.
    a, b = torch.zeros(3, 400), torch.zeros(3, 400)
    b[0, :40] = 1
    a[1, 40:72] = 1
    b[2, 72:120] = 1
    result = compare_items(a, b)
    seeds, items = result.parts
    assert not seeds.significant and items.significant and result.better is None and not result.significant
    assert result.verdict.startswith("not shown: the gap is clear across test items but within seed-to-seed noise")


def test_seeds_by_items_a_gap_consistent_over_seeds_but_on_two_items_is_not_shown():
    # four seeds, 50 items: B always gets item 0 right (A never), and item 1 on seed 0 only.
    # Across seeds: differences 0.04, 0.02, 0.02, 0.02: t = 0.025 / (0.01 / 2) = 5, df 3, p ≈ 0.015.
    # Across items: a resample has sum <= 0 only when it misses items 0 and 1: (48/50)^50 ≈ 0.130, p ≈ 0.26.
    a, b = torch.zeros(4, 50), torch.zeros(4, 50)
    b[:, 0] = 1
    b[0, 1] = 1
    result = compare_items(a, b)
    seeds, items = result.parts
    assert seeds.significant and items.p_value == pytest.approx(2 * (48 / 50) ** 50, abs=0.03)
    assert result.verdict.startswith("not shown: the gap holds across these 4 seeds but is within the noise")
    assert result.ci[0] <= min(seeds.ci[0], items.ci[0]) and result.ci[1] >= max(seeds.ci[1], items.ci[1])


def test_one_row_of_items_is_one_run():
    a, b = [[1, 0, 1, 1]], [[1, 1, 1, 1]]
    assert (
        compare_items(a, b).test
        == compare_items(a[0], b[0]).test
        == "exact McNemar test over 4 test items, 1 of which differ"
    )


# ------------------------------------------------------------------------------- swapping, properties

scores = st.lists(st.floats(0, 1), min_size=2, max_size=12)


@settings(FAST, max_examples=40)
@given(st.data())
def test_swapping_a_and_b_flips_the_sign_and_keeps_p(data):
    n = data.draw(st.integers(2, 12))
    a = data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    b = data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    for compare in (compare_seeds, lambda x, y, **k: compare_items(x, y, resamples=500, **k)):
        forward, backward = compare(a, b, names=("A", "B")), compare(b, a, names=("B", "A"))
        assert backward.difference == pytest.approx(-forward.difference, abs=1e-12)
        assert backward.p_value == pytest.approx(forward.p_value, abs=1e-9)
        assert backward.ci == pytest.approx((-forward.ci[1], -forward.ci[0]), abs=1e-9)
        assert backward.better == forward.better


@settings(FAST, max_examples=30)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=2, max_size=60))
def test_mcnemar_swapped_keeps_p(pairs):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    forward, backward = compare_items(a, b, resamples=200), compare_items(b, a, resamples=200)
    assert forward.p_value == backward.p_value and 0 < forward.p_value <= 1


@settings(FAST, max_examples=40)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=40), st.integers(0, 2**31))
def test_bootstrap_properties(differences, seed):
    zeros = [0.0] * len(differences)
    result = compare_items(zeros, differences, resamples=1000, seed=seed)
    low, high = result.ci
    assert 0 < result.p_value <= 1 and low <= high
    assert low - 1e-12 <= result.difference <= high + 1e-12  # the percentile interval holds the observed mean
    # p and the interval tell the same story: p is the level at which the percentile interval touches zero
    slack = 4 / 1001
    if low > 0 or high < 0:
        assert result.p_value <= 0.05 + slack
    if result.p_value < 0.05 - slack:
        assert low > 0 or high < 0


@settings(FAST, max_examples=40)
@given(scores, st.floats(-0.5, 0.5))
def test_seeds_properties(a, shift):
    b = [x + shift + 0.01 * i for i, x in enumerate(a)]
    result = compare_seeds(a, b)
    assert 0 <= result.p_value <= 1
    assert result.ci[0] <= result.difference <= result.ci[1]  # the t interval is centred on the mean difference
    assert (result.ci[0] > 0 or result.ci[1] < 0) == (result.p_value < 0.05) or result.test.startswith("sign")


# ------------------------------------------------------------------------------- the table


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 times 3, 2, 1: 0.03, 0.06, 0.04 -> kept from decreasing: 0.03, 0.06, 0.06
    assert _holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert _holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_the_table_prints_one_line_per_recipe_with_adjusted_p(capsys):
    scores = {
        "teacher forcing": [0.91, 0.90, 0.93],
        "linear": [0.88, 0.85, 0.91],
        "free running": [0.40, 0.45, 0.35],
    }
    table = compare_table(scores, baseline="teacher forcing", over="seeds", percent=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "2 recipes against teacher forcing: paired t-test over 3 seeds; p adjusted for 2 comparisons (Holm), "
        "intervals not"
    )
    assert lines[2].startswith("teacher forcing") and lines[2].endswith("(baseline)")
    assert lines[3].startswith("linear") and "cannot tell apart" in lines[3]
    assert lines[4].startswith("free running") and "worse" in lines[4] and len(lines) == 5
    assert set(table) == {"linear", "free running"} and isinstance(table["linear"], Comparison)
    raw = compare_seeds(scores["teacher forcing"], scores["free running"])
    assert table["free running"].p_value == pytest.approx(min(1, 2 * raw.p_value))  # the smaller p: times 2
    assert table["free running"].names == ("teacher forcing", "free running")
    assert "p adjusted for 2 comparisons" in str(table["free running"])


def test_the_table_over_items(capsys):
    base = [1] * 80 + [0] * 20
    table = compare_table({"greedy": base, "beam": [1] * 100}, baseline="greedy", over="items", adjust=False)
    out = capsys.readouterr().out
    assert "1 recipe against greedy: exact McNemar test over 100 test items" in out and "Holm" not in out
    assert table["beam"].p_value == pytest.approx(2 * 0.5**20) and "better" in out.splitlines()[-1]


# ------------------------------------------------------------------------------- errors at the door


@pytest.mark.parametrize(
    "a, b, error, words",
    [
        ([0.1, 0.2, 0.3], [0.1, 0.2], ValueError, "a has shape [3] but b has [2]"),
        ([0.1], [0.2], ValueError, "at least 2 seeds"),
        ([], [], ValueError, "a is empty"),
        ([0.1, float("nan")], [0.1, 0.2], ValueError, "a[1] is nan"),
        ([0.1, 0.2], [0.1, float("inf")], ValueError, "b[1] is inf"),
        ([0.1, "0.2"], [0.1, 0.2], TypeError, "a[1] must be a number"),
        ([0.1, None], [0.1, 0.2], TypeError, "a[1] must be a number"),
        ("0.1 0.2", [0.1, 0.2], TypeError, "a must hold one score per seed"),
        ([True, False], [0.1, 0.2], TypeError, "a[0] must be a number"),
        (torch.zeros(2, 2), torch.zeros(2, 2), ValueError, "a must have shape [n]"),
        (torch.tensor([1, 2]) > 0, torch.zeros(2), TypeError, "got dtype torch.bool"),
    ],
)
def test_compare_seeds_refuses_bad_scores_with_the_fix(a, b, error, words):
    with pytest.raises(error, match=None) as caught:
        compare_seeds(a, b)
    assert words in str(caught.value)


def test_a_nan_score_names_what_it_usually_means():
    with pytest.raises(ValueError, match="usually means a run diverged"):
        compare_seeds([0.1, 0.2, 0.3], [0.1, float("nan"), 0.3])


@pytest.mark.parametrize(
    "kwargs, a, b, error, words",
    [
        ({"test": "mcnemar"}, [0, 1, 0.5], [0, 1, 1], ValueError, "a holds 0.5"),
        ({"test": "mcnemar"}, [[0, 1], [1, 1]], [[0, 1], [1, 0]], ValueError, "averaged over seeds are not 0/1"),
        ({}, [[0, 1], [1]], [[0, 1], [1, 0]], ValueError, "rows of a have different lengths"),
        ({}, [1], [0], ValueError, "at least 2 test items"),
        ({}, torch.zeros(2, 2, 2), torch.zeros(2, 2, 2), ValueError, "[n] or [seeds, n]"),
        ({"test": "t"}, [0, 1], [1, 1], ValueError, "test must be one of ('auto', 'mcnemar', 'bootstrap')"),
        ({"names": ("A", "A")}, [0, 1], [1, 1], ValueError, "names must tell the two sides apart"),
        ({"names": "AB"}, [0, 1], [1, 1], TypeError, "names must be a pair"),
        ({"alpha": 0.7}, [0, 1], [1, 1], ValueError, "alpha must be in (0, 0.5]"),
        ({"confidence": 95}, [0, 1], [1, 1], ValueError, "confidence must be in (0, 1)"),
        ({"resamples": 10}, [0, 1], [1, 1], ValueError, "resamples must be at least 100"),
        ({"percent": "yes"}, [0, 1], [1, 1], TypeError, "percent must be True or False"),
    ],
)
def test_compare_items_refuses_bad_input_with_the_fix(kwargs, a, b, error, words):
    with pytest.raises(error) as caught:
        compare_items(a, b, **kwargs)
    assert words in str(caught.value)


def test_compare_table_refuses_a_missing_baseline():
    with pytest.raises(ValueError, match="baseline 'tf' is not one of the recipes"):
        compare_table({"a": [0.1, 0.2], "b": [0.2, 0.3]}, baseline="tf", over="seeds")
    with pytest.raises(ValueError, match="over must be one of"):
        compare_table({"a": [0.1, 0.2], "b": [0.2, 0.3]}, baseline="a", over="runs")


def test_numbers_print_with_a_real_minus_sign():
    result = compare_seeds([0.9, 0.8, 0.85], [0.7, 0.65, 0.6], percent=True)
    assert f"B {MINUS} A = {MINUS}20.0 points" in str(result) and not re.search(r"-\d", str(result))
