"""seq2seq_helpers.checks: right answers pass, each classic mistake fails with a line that names it."""

import pytest
import torch
import torch.nn.functional as F

from seq2seq_helpers import PAD
from seq2seq_helpers.checks import check_attention, check_loss, check_mask, check_same, check_shape
from seq2seq_helpers.models import AdditiveAttention, DotAttention, GeneralAttention, lengths_to_mask


def lines(capsys):
    return capsys.readouterr().out.strip().splitlines()


def failed(out_lines):
    return [line for line in out_lines if line.startswith("✗")]


@pytest.fixture(autouse=True)
def global_rng_untouched():
    """A check must not move the learner's random state (it would change the lesson's later results)."""
    before = torch.get_rng_state()
    yield
    assert torch.equal(before, torch.get_rng_state()), "a check consumed the global torch RNG"


# ------------------------------------------------------------------------------------------ check_same


def test_check_same_passes_equal_tensors_in_one_line(capsys):
    assert check_same(torch.ones(2, 3), torch.ones(2, 3), "context") is True
    assert lines(capsys) == ["✓ context: shape [2, 3], float32, max |difference| 0"]
    assert check_same(torch.ones(4, 1, 16) + 3e-7, torch.ones(4, 1, 16), "context") is True
    assert lines(capsys) == ["✓ context: shape [4, 1, 16], float32, max |difference| 3.6e-07"]
    assert check_same(torch.tensor([[True, False]]), torch.tensor([[True, False]]), "mask") is True
    assert lines(capsys) == ["✓ mask: shape [1, 2], bool, all 2 entries equal"]
    assert check_same(torch.zeros(0, 3), torch.zeros(0, 3), "empty") is True
    assert lines(capsys) == ["✓ empty: shape [0, 3], float32, no entries to compare"]


@pytest.mark.parametrize(
    "actual, expected, line",
    [
        (torch.ones(4, 7), torch.ones(4, 1, 7), "✗ x: shape [4, 7], expected [4, 1, 7]"),
        (
            torch.ones(3, dtype=torch.long),
            torch.ones(3, dtype=torch.bool),
            "✗ x: dtype torch.int64, expected torch.bool",
        ),
        (
            torch.tensor([1.0, 2.5]),
            torch.tensor([1.0, 2.0]),
            "✗ x: values differ: max |difference| 0.5 at [1] (got 2.5, expected 2; allowed 0.00021)",
        ),
        (
            torch.tensor([1, 0]),
            torch.tensor([True, True]),
            "✗ x: dtype torch.int64, expected torch.bool; values differ: 1 of 2 entries differ, first at [1] "
            "(got 0, expected True)",
        ),
    ],
    ids=["shape", "dtype", "values", "dtype and values"],
)
def test_check_same_says_what_differs_in_one_line(capsys, actual, expected, line):
    assert check_same(actual, expected, "x") is False
    assert lines(capsys) == [line]


def test_check_same_says_where_and_how_far_off(capsys):
    expected = torch.zeros(3, 4)
    actual = expected.clone()
    actual[2, 1] = 0.25
    assert check_same(actual, expected, "context") is False
    (line,) = failed(lines(capsys))
    assert "max |difference| 0.25 at [2, 1]" in line and "got 0.25, expected 0" in line


def test_check_same_within_tolerance_passes(capsys):
    assert check_same(torch.ones(3) + 1e-7, torch.ones(3))
    assert not check_same(torch.ones(3) + 1e-3, torch.ones(3), atol=1e-4, rtol=0)


def test_check_same_shape_dtype_and_type(capsys):
    assert not check_same(torch.ones(4, 7), torch.ones(4, 1, 7), "weights")
    assert failed(lines(capsys)) == ["✗ weights: shape [4, 7], expected [4, 1, 7]"]
    assert not check_same(torch.ones(3, dtype=torch.long), torch.ones(3, dtype=torch.bool), "mask")
    assert failed(lines(capsys)) == ["✗ mask: dtype torch.int64, expected torch.bool"]
    assert not check_same([1, 2], torch.tensor([1, 2]), "ids")
    assert failed(lines(capsys)) == ["✗ ids: expected a tensor of shape [2], got list"]


def test_check_same_counts_differing_entries_of_exact_tensors(capsys):
    expected = torch.tensor([[True, False], [True, True]])
    actual = torch.tensor([[True, True], [True, False]])
    assert not check_same(actual, expected, "mask")
    (line,) = failed(lines(capsys))
    assert "2 of 4 entries differ, first at [0, 1] (got True, expected False)" in line


def test_check_same_scalars_and_non_finite_values(capsys):
    assert check_same(3.0, torch.tensor(3.0), "loss")
    assert check_same(torch.tensor([float("inf"), 1.0]), torch.tensor([float("inf"), 1.0]))
    assert not check_same(torch.tensor([float("nan"), 1.0]), torch.tensor([0.0, 1.0]), "x")
    assert "non-finite values differ, first at [0]" in failed(lines(capsys))[0]


def test_strict_raises_the_same_lines(capsys):
    check_same(torch.ones(3), torch.zeros(3), "x")
    printed = capsys.readouterr().out.strip()
    with pytest.raises(AssertionError) as info:
        check_same(torch.ones(3), torch.zeros(3), "x", strict=True)
    assert str(info.value).strip() == printed
    assert check_same(torch.ones(3), torch.ones(3), "x", strict=True) is True


# ------------------------------------------------------------------------------------------ check_shape


def test_check_shape(capsys):
    assert check_shape(torch.zeros(4, 7, 64), [4, None, 64], "encoder_outputs")
    assert not check_shape(torch.zeros(4, 7, 32), [4, None, 64], "encoder_outputs")
    assert failed(lines(capsys)) == ["✗ encoder_outputs: shape [4, 7, 32], expected [4, *, 64] (dim 2 differs)"]
    assert not check_shape(torch.zeros(4, 7), [4, 1, 7], "weights")
    assert "2 dims instead of 3" in failed(lines(capsys))[0]
    assert not check_shape(None, [4], "x")


# ------------------------------------------------------------------------------------------ check_mask


def padding_mask(lengths, max_len):  # lesson 02's solution
    positions = torch.arange(max_len, device=lengths.device)  # [max_len]
    return positions.unsqueeze(0) < lengths.unsqueeze(1)  # [batch, max_len]


def test_check_mask_passes_the_lesson_solution_and_the_package(capsys):
    assert check_mask(padding_mask) is True
    assert check_mask(lengths_to_mask) is True
    assert not failed(lines(capsys))


@pytest.mark.parametrize(
    "wrong, says",
    [
        (lambda lengths, n: torch.arange(n)[None] <= lengths[:, None], "True exactly on real tokens: lengths [3, 1]"),
        (
            lambda lengths, n: (torch.arange(n)[None] < lengths[:, None]).long(),
            "dtype torch.bool expected, got torch.int64",
        ),
        (lambda lengths, n: padding_mask(lengths, n).T, "shape [4, 2], expected [batch, max_len] = [2, 4]"),
        (lambda lengths, n: torch.arange(n)[None] >= lengths[:, None], "True exactly on real tokens"),
        (lambda lengths, n: padding_mask(lengths, n).tolist(), "returns a tensor (got list)"),
        (lambda lengths, n: padding_mask(lengths, 4), "shape"),
    ],
)
def test_check_mask_names_each_mistake(capsys, wrong, says):
    assert check_mask(wrong) is False
    bad = failed(lines(capsys))
    assert bad and says in bad[0], bad


def test_check_mask_reports_a_stub_or_an_error_without_a_traceback(capsys):
    def stub(lengths, max_len):
        raise NotImplementedError()

    assert check_mask(stub) is False
    assert "raised NotImplementedError: replace `raise NotImplementedError()` with your code" in lines(capsys)[0]
    assert check_mask(lambda lengths, max_len: lengths.foo) is False
    assert "raised AttributeError" in lines(capsys)[0]
    with pytest.raises(AssertionError, match="NotImplementedError"):
        check_mask(stub, strict=True)


def test_check_mask_on_a_built_mask(capsys):
    lengths = torch.tensor([3, 1])
    assert check_mask(padding_mask(lengths, 4), lengths)
    assert not check_mask(torch.ones(2, 4, dtype=torch.bool), lengths)
    assert "first at [0, 3]" in failed(lines(capsys))[0]
    with pytest.raises(TypeError):
        check_mask(torch.ones(2, 4, dtype=torch.bool))


# ------------------------------------------------------------------------------------------ check_loss


def masked_loss(logits, targets):  # lesson 02's solution
    per_token = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
    mask = (targets != PAD).flatten().float()
    return (per_token * mask).sum() / mask.sum()


def test_check_loss_passes_the_lesson_solution(capsys):
    assert check_loss(masked_loss) is True
    out = lines(capsys)
    assert not failed(out) and len(out) == 5


def test_check_loss_catches_averaging_over_padding(capsys):
    def mean_over_all(logits, targets):
        per_token = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
        return (per_token * (targets != PAD).flatten()).mean()

    assert not check_loss(mean_over_all)
    bad = failed(lines(capsys))
    assert any("differs from the reference [with padding]" in b for b in bad)
    assert any("extra PAD columns: divide by the number of real tokens" in b for b in bad)


def test_check_loss_catches_an_unmasked_loss(capsys):
    assert not check_loss(lambda logits, targets: F.cross_entropy(logits.flatten(0, 1), targets.flatten()))
    bad = failed(lines(capsys))
    assert any("when only the logits at PAD positions change: mask them out" in b for b in bad)
    assert any("gradient on PAD positions" in b for b in bad)


def test_check_loss_catches_detached_and_unreduced_losses(capsys):
    assert not check_loss(lambda logits, targets: torch.tensor(masked_loss(logits, targets).item()))
    assert "backward() failed" in failed(lines(capsys))[0]
    assert not check_loss(lambda logits, targets: masked_loss(logits, targets).item())
    assert "got float" in failed(lines(capsys))[0]
    assert not check_loss(
        lambda logits, targets: F.cross_entropy(
            logits.flatten(0, 1), targets.flatten(), reduction="none", ignore_index=PAD
        )
    )
    assert "got shape [15]" in failed(lines(capsys))[0]


def test_check_loss_strict(capsys):
    assert check_loss(masked_loss, strict=True)
    with pytest.raises(AssertionError, match="mask them out"):
        check_loss(lambda logits, targets: F.cross_entropy(logits.flatten(0, 1), targets.flatten()), strict=True)


# ------------------------------------------------------------------------------------------ check_attention


@pytest.mark.parametrize(
    "module", [AdditiveAttention(8, 6), DotAttention(8), GeneralAttention(8, 6)], ids=["additive", "dot", "general"]
)
def test_check_attention_passes_the_package_modules(capsys, module):
    assert check_attention(module, reference=module) is True
    out = lines(capsys)
    assert not failed(out)
    assert {
        "✓ shape [4, 1, 7]",
        "✓ weights sum to 1 over real positions",
        "✓ padding gets 0",
        "✓ padded keys do not matter",
    } <= set(out)


def dot_scores(query, keys):
    return torch.bmm(query, keys.transpose(1, 2))  # [batch, 1, src_len]


def test_check_attention_catches_missing_mask(capsys):
    def unmasked(query, keys, mask):
        weights = torch.softmax(dot_scores(query, keys), dim=-1)
        return torch.bmm(weights, keys), weights

    assert not check_attention(unmasked)
    bad = failed(lines(capsys))
    assert any(b.startswith("✗ weights sum to 1 over real positions (a row sums to") for b in bad)
    assert any("padding gets up to" in b and "-inf before the softmax" in b for b in bad)
    assert any("padding leaks into the attention" in b for b in bad)


def test_check_attention_catches_a_dropped_dimension(capsys):
    def squeezed(query, keys, mask):
        weights = torch.softmax(dot_scores(query, keys).masked_fill(~mask.unsqueeze(1), float("-inf")), dim=-1)
        return torch.bmm(weights, keys), weights.squeeze(1)

    assert not check_attention(squeezed, reference=DotAttention(8))
    out = lines(capsys)
    assert out[0] == "✗ shape [4, 7], expected [4, 1, 7] (keep the tgt_len dim: weights.unsqueeze(1))"
    assert "✓ padding gets 0" in out  # the other aspects are still judged


def test_check_attention_catches_softmax_over_the_wrong_dim_and_zero_masking(capsys):
    def wrong_dim(query, keys, mask):
        scores = dot_scores(query, keys).masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=0)
        return torch.bmm(weights.nan_to_num(0.0), keys), weights

    assert not check_attention(wrong_dim)
    assert any(b.startswith("✗ weights sum to 1 over real positions") for b in failed(lines(capsys)))

    def inverted_mask(query, keys, mask):  # the row with no padding gets every score -inf
        weights = torch.softmax(dot_scores(query, keys).masked_fill(mask.unsqueeze(1), float("-inf")), dim=-1)
        return torch.bmm(weights, keys), weights

    assert not check_attention(inverted_mask)
    assert "✗ 7 weights are NaN or inf (a row with every score -inf?)" in lines(capsys)

    def zero_scores(query, keys, mask):  # masking the scores with 0 instead of -inf
        weights = torch.softmax(dot_scores(query, keys) * mask.unsqueeze(1), dim=-1)
        return torch.bmm(weights, keys), weights

    assert not check_attention(zero_scores)
    assert any("padding gets up to" in b for b in failed(lines(capsys)))


def test_check_attention_on_weights_and_context(capsys):
    mask = lengths_to_mask(torch.tensor([7, 5, 3, 1]), 7)
    gen = torch.Generator().manual_seed(0)
    query, keys = torch.randn(4, 1, 8, generator=gen), torch.randn(4, 7, 8, generator=gen)
    context, weights = DotAttention(8)(query, keys, mask)
    assert check_attention(weights, mask, keys=keys, context=context)
    assert not check_attention(weights, mask, keys=keys, context=context + 0.1)
    assert "context = weights @ keys: values differ" in failed(lines(capsys))[0]
    assert not check_attention(weights.squeeze(1), mask)
    assert failed(lines(capsys)) == [
        "✗ shape [4, 7], expected [4, tgt_len, 7] (keep the tgt_len dim: weights.unsqueeze(1))"
    ]
    with pytest.raises(TypeError):
        check_attention(weights)


def test_check_attention_reports_errors_and_odd_returns(capsys):
    def stub(query, keys, mask):
        raise NotImplementedError()

    assert not check_attention(stub)
    assert "raised NotImplementedError" in lines(capsys)[0]
    assert not check_attention(lambda q, k, m: None)
    assert "should return (context, weights), got NoneType" in lines(capsys)[0]
    with pytest.raises(AssertionError, match="raised NotImplementedError"):
        check_attention(stub, strict=True)
