"""Tests for seq2seq_helpers.metrics: sequences are compared up to and including the first EOS.

Every expected value is worked out by hand in the comments next to it.
"""

import pytest
import torch

from seq2seq_helpers.data import EOS, PAD
from seq2seq_helpers.metrics import (
    accuracy_by_bucket,
    accuracy_by_length,
    exact_match,
    exact_matches,
    token_accuracy,
    token_hits,
)

E, P = EOS, PAD

# A small batch used by several tests (lists of different widths on purpose).
TARGETS = [
    [3, E],  # length 1
    [4, E, P, P],  # length 1
    [3, 4, E],  # length 2
    [5, 6, 7, E],  # length 3
    [5, 5, 5, E],  # length 3
]
PREDS = [
    [3, E],  # exact; tokens 2/2
    [5, E],  # wrong; tokens 1/2 (EOS right)
    [3, 4, E, 9, 9],  # exact: junk after EOS ignored; tokens 3/3
    [5, 6, 8, E],  # wrong; tokens 3/4 (5, 6, EOS)
    [5, 5, 5],  # no EOS: not exact; tokens 3/4
]


# ------------------------------------------------------------------------------------------ exact match


def test_junk_after_eos_and_padding_are_ignored():
    assert exact_match([[3, 4, E, 7, 7]], [[3, 4, E, P, P]]) == 1.0
    assert exact_match([[3, 4, E]], [[3, 4, E, P, P, P]]) == 1.0


def test_a_prediction_without_eos_is_not_a_match():
    assert exact_match([[3, 4]], [[3, 4, E]]) == 0.0
    assert exact_match([[3, 4, P, P]], [[3, 4, E, P]]) == 0.0


def test_stopping_early_or_late_is_not_a_match():
    assert exact_match([[3, E, 4]], [[3, 4, E]]) == 0.0
    assert exact_match([[3, 4, 4, E]], [[3, 4, E]]) == 0.0


def test_rows_without_eos_drop_their_padding():
    # e.g. raw targets that were padded but never got an EOS: the sequence is the non-PAD tokens
    assert exact_match([[3, 4]], [[3, 4, P, P]]) == 1.0
    assert token_accuracy([[3, 9, P]], [[3, 4, P, P]]) == pytest.approx(1 / 2)  # 2 target tokens, not 4
    assert list(accuracy_by_length([[3, 4]], [[3, 4, P]])) == [2]


def test_exact_match_is_the_fraction_of_matching_sequences():
    assert exact_matches(PREDS, TARGETS) == [True, False, True, False, False]
    assert exact_match(PREDS, TARGETS) == pytest.approx(2 / 5)


def test_tensors_of_different_widths_and_lists_agree():
    preds = torch.tensor([[3, 4, E, 9, 9], [5, E, P, P, P]])
    targets = torch.tensor([[3, 4, E], [6, E, P]])
    assert exact_match(preds, targets) == 0.5
    assert exact_match(preds.tolist(), targets.tolist()) == 0.5
    assert exact_match(preds, targets.tolist()) == 0.5
    assert token_accuracy(preds, targets) == pytest.approx(4 / 5)  # 3/3 + 1/2 (EOS)


# -------------------------------------------------------------------------------------- token accuracy


def test_token_accuracy_counts_the_eos_position():
    assert token_accuracy([[3, 4, E]], [[3, 4, E]]) == 1.0
    assert token_accuracy([[3, 4, 7]], [[3, 4, E]]) == pytest.approx(2 / 3)  # the missing EOS costs a third
    assert token_accuracy([[3, 4, E]], [[3, 4, 5, E]]) == pytest.approx(2 / 4)  # early EOS: positions 3, 4 wrong


def test_token_accuracy_excludes_padding():
    assert token_accuracy([[3, 5, P, P]], [[3, E, P, P]]) == pytest.approx(1 / 2)  # not 3/4
    assert token_accuracy([[3, E, P, P]], [[3, E, P, P]]) == 1.0


def test_token_accuracy_pools_over_target_tokens():
    assert token_hits(PREDS, TARGETS) == [(2, 2), (1, 2), (3, 3), (3, 4), (3, 4)]
    assert token_accuracy(PREDS, TARGETS) == pytest.approx(12 / 15)


# ---------------------------------------------------------------------------------------------- by length


def test_accuracy_by_length_defaults_to_target_length_without_eos():
    result = accuracy_by_length(PREDS, TARGETS)
    assert list(result) == [1, 2, 3]
    assert result[1] == pytest.approx({"exact_match": 1 / 2, "token_accuracy": 3 / 4, "count": 2})
    assert result[2] == pytest.approx({"exact_match": 1.0, "token_accuracy": 1.0, "count": 1})
    assert result[3] == pytest.approx({"exact_match": 0.0, "token_accuracy": 6 / 8, "count": 2})


@pytest.mark.parametrize("as_tensor", [False, True])
def test_accuracy_by_length_with_given_lengths(as_tensor):
    lengths = [20, 10, 20, 20, 10]  # e.g. source lengths, in any order
    if as_tensor:
        lengths = torch.tensor(lengths)
    result = accuracy_by_length(PREDS, TARGETS, lengths)
    assert list(result) == [10, 20]  # sorted
    # 10: sequences 1, 4 -> exact 0/2; tokens (1 + 3) / (2 + 4)
    assert result[10] == pytest.approx({"exact_match": 0.0, "token_accuracy": 4 / 6, "count": 2})
    # 20: sequences 0, 2, 3 -> exact 2/3; tokens (2 + 3 + 3) / (2 + 3 + 4)
    assert result[20] == pytest.approx({"exact_match": 2 / 3, "token_accuracy": 8 / 9, "count": 3})


def test_accuracy_by_bucket_weights_lengths_by_their_sequence_counts():
    buckets = [(1, 2), (3, 4), (5, 9)]
    result = accuracy_by_bucket(PREDS, TARGETS, None, buckets)
    assert list(result) == ["1-2", "3-4"]  # a bucket with no sequence is left out
    # "1-2" holds sequences 0, 1 (length 1) and 2 (length 2): exact 2 of 3. Token accuracy is the
    # mean of the per-sequence token accuracies 2/2, 1/2, 3/3 (each sequence weighs the same).
    assert result["1-2"] == pytest.approx({"exact_match": 2 / 3, "token_accuracy": (1 + 1 / 2 + 1) / 3, "count": 3})
    assert result["3-4"] == pytest.approx({"exact_match": 0.0, "token_accuracy": 3 / 4, "count": 2})


def test_a_one_length_bucket_equals_accuracy_by_length():
    per_length = accuracy_by_length(PREDS, TARGETS)
    buckets = accuracy_by_bucket(PREDS, TARGETS, None, [(n, n) for n in per_length])
    assert buckets == {f"{n}-{n}": r for n, r in per_length.items()}


# ------------------------------------------------------------------------------------------------ errors


def test_mismatched_counts_raise():
    with pytest.raises(ValueError, match="predictions hold 2 sequences but targets hold 1"):
        exact_match([[3, E], [4, E]], [[3, E]])


@pytest.mark.parametrize("fn", [exact_match, token_accuracy, accuracy_by_length])
def test_empty_batch_raises(fn):
    with pytest.raises(ValueError, match="empty batch"):
        fn([], [])


@pytest.mark.parametrize("shape", [(2, 3, 4), (3,)])
def test_tensors_must_be_2d(shape):
    bad = torch.full(shape, 3)
    with pytest.raises(ValueError, match=r"shape \[batch, len\]"):
        exact_match(bad, torch.full((2, 3), 3))
    with pytest.raises(ValueError, match=r"shape \[batch, len\]"):
        token_accuracy(torch.full((2, 3), 3), bad)


@pytest.mark.parametrize("bad", ["abc", 5, None])
def test_non_sequences_raise(bad):
    with pytest.raises(TypeError, match="list of id lists"):
        exact_match(bad, [[3, E]])


def test_wrong_number_of_lengths_raises():
    with pytest.raises(ValueError, match="got 4 lengths for 5 sequences"):
        accuracy_by_length(PREDS, TARGETS, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="one length per sequence"):
        accuracy_by_bucket(PREDS, TARGETS, [1] * 6, [(1, 5)])


def test_accuracy_by_position_counts_each_position_over_targets_that_reach_it():
    from seq2seq_helpers.metrics import accuracy_by_position

    targets = [[3, 4, 5, EOS], [3, 4, EOS, PAD], [6, EOS, PAD, PAD]]
    predictions = [[3, 9, 5, EOS], [3, 4, EOS, PAD], [3, EOS, PAD, PAD]]
    result = accuracy_by_position(predictions, targets)
    # position 0: 3 targets, hits: 1, 1, 0; position 1: 2 targets (4, 4), hits 0, 1; position 2: 1 target (5), hit
    assert result == {
        0: {"accuracy": 2 / 3, "count": 3},
        1: {"accuracy": 1 / 2, "count": 2},
        2: {"accuracy": 1.0, "count": 1},
    }
    with_eos = accuracy_by_position(predictions, targets, include_eos=True)
    assert with_eos[1] == {"accuracy": 2 / 3, "count": 3}  # third row's EOS at position 1 counts now
    assert with_eos[3] == {"accuracy": 1.0, "count": 1}


def test_accuracy_by_position_handles_short_predictions_and_bad_input():
    from seq2seq_helpers.metrics import accuracy_by_position

    assert accuracy_by_position([[3]], [[3, 4, EOS]]) == {
        0: {"accuracy": 1.0, "count": 1},
        1: {"accuracy": 0.0, "count": 1},
    }
    with pytest.raises(ValueError, match="2 sequences but targets hold 1"):
        accuracy_by_position([[3], [4]], [[3]])
    with pytest.raises(ValueError, match="empty batch"):
        accuracy_by_position([], [])


# ------------------------------------------------------------------------------- character error rate

from seq2seq_helpers.metrics import char_error_rate, edit_distance  # noqa: E402


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("", "", 0),
        ("abc", "abc", 0),
        ("abc", "", 3),  # delete all three
        ("", "abc", 3),  # insert all three
        ("kitten", "sitting", 3),  # k->s, e->i, insert g
        ("2021-03-03", "2021-03-08", 1),
        ("2021-3-03", "2021-03-03", 1),  # a dropped zero is one insertion
        ("2012-03-03", "2021-03-03", 2),  # swapped digits: two substitutions
    ],
)
def test_edit_distance_by_hand(a, b, expected):
    assert edit_distance(a, b) == expected
    assert edit_distance(b, a) == expected  # symmetric


def test_edit_distance_on_ids_stops_at_eos():
    assert edit_distance([3, 4, E, 9], [3, 4, E, P]) == 0  # junk after EOS and padding ignored
    assert edit_distance(torch.tensor([3, 5, E]), [3, 4, E]) == 1


def test_char_error_rate_is_pooled_over_the_corpus():
    # 1 edit in 10 characters + 0 edits in 5 = 1 / 15 (not the mean of 1/10 and 0)
    assert char_error_rate(["2021-03-08", "abcde"], ["2021-03-03", "abcde"]) == pytest.approx(1 / 15)
    assert char_error_rate(["xyz"], ["a"]) == pytest.approx(3.0)  # can exceed 1


@pytest.mark.parametrize(
    "preds, refs, error",
    [
        ("abc", ["abc"], TypeError),
        (["a"], ["a", "b"], ValueError),
        ([], [], ValueError),
        ([""], [""], ValueError),
    ],
)
def test_char_error_rate_rejects_bad_input(preds, refs, error):
    with pytest.raises(error):
        char_error_rate(preds, refs)
