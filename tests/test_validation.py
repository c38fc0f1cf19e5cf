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
from contextlib import contextmanager

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from seq2seq_helpers.data import EOS, PAD, SOS, Vocab, check_tokens, collate_pairs, pad_sequences, split_of
from seq2seq_helpers.dates import make_date_splits, sample_dates, split_of_date
from seq2seq_helpers.decoding import beam_search, greedy_decode, sequence_log_probs
from seq2seq_helpers.metrics import exact_match, token_accuracy
from seq2seq_helpers.models import (
    AttentionDecoder,
    AttentionSeq2Seq,
    DecoderGRU,
    EncoderGRU,
    LSTMEncoder,
    Seq2Seq,
    lengths_to_mask,
)
from seq2seq_helpers.training import fit, masked_cross_entropy
from seq2seq_helpers.transformer import MultiHeadAttention, scaled_dot_product_attention
from seq2seq_helpers.utils import seed_everything

VOCAB, EMB, HID = 9, 6, 8
FAST = settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
INTEGER_DTYPES = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors run on one thread


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
        splits = make_date_splits(
            50, 6, 6, locales=["en_US", "de_DE"], formats=["short", "long"], first=first, last=last
        )
        assert [len(part) for part in splits] == [50, 6, 6]
        assert all(first <= ex.date <= last for part in splits for ex in part)
        val_dates = sum(split_of_date(first + datetime.timedelta(days=d)) == "val" for d in range(31))
        too_many = val_dates * 2 * 2 + 1  # more distinct val examples than the month can render
        with pytest.raises(ValueError, match="distinct val examples"):
            make_date_splits(
                10, too_many, 0, locales=["en_US", "de_DE"], formats=["short", "long"], first=first, last=last
            )


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
    torch.testing.assert_close(
        sequence_log_probs(model, src, lengths, tgt),
        sequence_log_probs(model, b.src, b.src_lengths, b.tgt),
        rtol=0,
        atol=0,
    )
    torch.testing.assert_close(masked_cross_entropy(logits, tgt), masked_cross_entropy(logits, b.tgt), rtol=0, atol=0)
    state = model.encode(src, lengths)
    torch.testing.assert_close(
        model.decode_step(tgt[:, 0], state)[0], model.decode_step(b.tgt[:, 0], state)[0], rtol=0, atol=0
    )


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


@pytest.mark.parametrize(
    "call",
    [
        lambda v: fit(
            nn.Linear(1, 1),
            torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1),
            [0],
            v,
            lambda m, b, s: torch.zeros(()),
        ),
        lambda v: seed_everything(v),
        lambda v: greedy_decode(gru(), batch().src, batch().src_lengths, max_len=v),
        lambda v: beam_search(gru(), batch().src, batch().src_lengths, beam_size=v, max_len=3),
        lambda v: EncoderGRU(VOCAB, v, HID),
        lambda v: lengths_to_mask(torch.tensor([1]), v),
    ],
    ids=["fit", "seed_everything", "greedy_decode", "beam_search", "EncoderGRU", "lengths_to_mask"],
)
def test_one_rule_for_ints_type_error_for_a_wrong_type_value_error_for_a_wrong_value(call):
    for wrong_type in (2.0, "3", True, None):
        with pytest.raises(TypeError, match="must be an int"):
            call(wrong_type)
    with pytest.raises(ValueError):
        call(-5)


# ------------------------------------------------------------------- every public function, malformed input

NAN = float("nan")
NOT_INT = st.sampled_from([None, "3", 2.5, NAN, True, [3], torch.tensor(3)])
NOT_NUMBER = st.sampled_from([None, "0.5", True, [0.5], torch.tensor(0.5)])
NOT_BOOL = st.sampled_from([None, 1, 0, "True", 1.0])
NOT_STR = st.sampled_from([None, 3, 2.5, b"abc", ["a"]])
NOT_CALLABLE = st.sampled_from([None, 3, "f", [1]])
NOT_MODEL = st.sampled_from([None, "model", 3, nn.Linear(2, 2), object()])
NOT_SCORES = st.sampled_from(
    [
        None,
        3,
        "0.5 0.6",
        b"ab",
        [],
        [0.5],
        [0.5, NAN, 0.7],
        [0.5, float("inf"), 0.7],
        ["a", 0.5, 0.6],
        [[0.5], 0.6, 0.7],
    ]
)
NOT_DATE = st.sampled_from([None, "2021-03-03", 20210303, datetime.datetime(2021, 3, 3)])
NOT_ID_ROWS = st.sampled_from(
    [
        None,
        3,
        "abc",
        b"ab",
        [3, 4, EOS],
        [[3.5, EOS]],
        [["a", "b"]],
        [[3], None],
        torch.tensor([[3.0, 2.0]]),
        torch.tensor([3, 2]),
        torch.zeros(1, 2, 2, dtype=torch.long),
    ]
)


def bad_int(minimum=1, maximum=None):
    values = st.one_of(NOT_INT, st.integers(min_value=-(10**6), max_value=minimum - 1))
    return values if maximum is None else st.one_of(values, st.integers(min_value=maximum + 1, max_value=10**6))


def bad_number(low=None, high=None, low_open=False, high_open=False):
    parts = [NOT_NUMBER, st.just(NAN)]
    if low is not None:
        parts.append(st.floats(max_value=low, exclude_max=not low_open, allow_nan=False, allow_infinity=True))
    if high is not None:
        parts.append(st.floats(min_value=high, exclude_min=not high_open, allow_nan=False, allow_infinity=True))
    return st.one_of(parts)


def bad_tokens(batch, vocab=VOCAB, width=3):
    """Token tensors that are wrong for a [batch, width] slot: type, dtype, shape, empty, ids out of range."""
    out_of_range = (
        st.integers(-(10**4), -1) if vocab is None else st.one_of(st.integers(vocab, 10**4), st.integers(-(10**4), -1))
    )
    wrong_ids = st.tuples(st.integers(0, batch - 1), st.integers(0, width - 1), out_of_range)

    def with_wrong_id(args):
        row, col, value = args
        t = torch.full((batch, width), 3)
        t[row, col] = value
        return t

    return st.one_of(
        st.sampled_from([None, [[3, 4, 5]], "abc", 3]),
        st.sampled_from([torch.float32, torch.float64, torch.bool]).map(lambda d: torch.ones(batch, width, dtype=d)),
        st.integers(1, 4).map(lambda n: torch.full((n,), 3)),
        st.integers(1, 3).map(lambda n: torch.full((batch, width, n), 3)),
        st.just(torch.zeros(batch, 0, dtype=torch.long)),
        wrong_ids.map(with_wrong_id),
    )


SRC = torch.tensor([[3, 4, 5], [6, 3, PAD], [7, PAD, PAD]])
SRC_LENGTHS = torch.tensor([3, 2, 1])
TGT = torch.tensor([[5, 4, 3, EOS], [3, 6, EOS, PAD], [7, EOS, PAD, PAD]])


def bad_lengths(tokens=SRC, lengths=SRC_LENGTHS):
    """Lengths wrong for ``tokens``: type, dtype, shape, count, range, or contradicting the padding."""
    batch, width = tokens.shape
    contradicting = (
        st.lists(st.integers(1, width), min_size=batch, max_size=batch)
        .filter(lambda ls: ls != lengths.tolist())
        .map(torch.tensor)
    )
    return st.one_of(
        st.sampled_from([None, [3, 2, 1], "3", 3]),
        st.just(lengths.float()),
        st.just(lengths.bool()),
        st.just(lengths.unsqueeze(0)),
        st.just(lengths[:2]),
        st.just(torch.tensor([3, 0, 1])),
        st.just(torch.tensor([4, 2, 1])),
        st.just(torch.tensor([3, -1, 1])),
        contradicting,
    )


def models():
    return {"gru": gru(), "attention": attention()}


def beam_history():
    result = beam_search(gru(), SRC, SRC_LENGTHS, beam_size=2, max_len=3, return_history=True)
    return result.history[0]


def history():
    from seq2seq_helpers.training import History

    return History(steps=[1, 2], loss=[1.0, 0.5], eval_steps=[2], evals=[{"exact_match": 0.5}])


def date_examples():
    from seq2seq_helpers.dates import make_example

    return [make_example(datetime.date(2021, 3, 3), "fr_FR", "long")]


def cases():
    """(name, function, valid keyword arguments, {argument: strategy of values that are wrong for it})."""
    from seq2seq_helpers import checks, compare, dates, plots, training, utils, widgets
    from seq2seq_helpers import data as d
    from seq2seq_helpers import decoding as dec
    from seq2seq_helpers import metrics as m
    from seq2seq_helpers.attention import AdditiveAttention, DotAttention, GeneralAttention
    from seq2seq_helpers.models import shift_right

    vocab, task = Vocab("abc"), d.SequenceTask(Vocab.letters(5), min_len=2, max_len=4)
    day = datetime.date(2021, 3, 3)
    state = gru().encode(SRC, SRC_LENGTHS)
    att = attention()
    att_state = att.encode(SRC, SRC_LENGTHS)
    keys, mask = torch.randn(3, 3, 4), lengths_to_mask(SRC_LENGTHS, 3)
    query, hidden = torch.randn(3, 2, 4), torch.zeros(1, 3, HID)
    lstm_hidden = (torch.zeros(1, 3, HID), torch.zeros(1, 3, HID))
    model_ = gru()
    opt = torch.optim.SGD(model_.parameters(), lr=0.1)
    b = collate_pairs([([3, 4], [4, 3]), ([5], [5])])
    pairs = [([3, 4], [4, 3])]
    preds, tgts = [[3, EOS]], [[3, EOS]]
    seqs = {"predictions": NOT_ID_ROWS, "targets": NOT_ID_ROWS}
    return [
        # data
        (
            "Vocab",
            Vocab,
            dict(tokens="abc", sep=""),
            dict(
                tokens=st.sampled_from([None, 3, [], ["a", "a"], ["<pad>"], [""], [3], ["ab"], torch.tensor([3])]),
                sep=NOT_STR,
            ),
        ),
        (
            "Vocab.encode",
            vocab.encode,
            dict(text="abc", add_eos=False),
            dict(text=st.sampled_from([None, 3, b"ab", "az", ["zz"], torch.tensor([3])]), add_eos=NOT_BOOL),
        ),
        (
            "Vocab.decode",
            vocab.decode,
            dict(ids=[3, 4, EOS], stop_at_eos=True, keep_specials=False),
            dict(
                ids=st.sampled_from([None, 3, "abc", [1.5], [99], [-1], torch.tensor([[3]]), torch.tensor([3.0])]),
                stop_at_eos=NOT_BOOL,
                keep_specials=NOT_BOOL,
            ),
        ),
        ("Vocab.letters", Vocab.letters, dict(num_symbols=5), dict(num_symbols=bad_int(1, 52))),
        (
            "split_of",
            split_of,
            dict(src=[3, 4], val_fraction=0.1, test_fraction=0.1),
            dict(
                src=st.sampled_from([None, 3, [3.5], ["a"], torch.tensor([3.0])]),
                val_fraction=bad_number(0, 1, high_open=True),
                test_fraction=bad_number(0, 1, high_open=True),
            ),
        ),
        (
            "SequenceTask",
            d.SequenceTask,
            dict(vocab=vocab, name="reverse", min_len=2, max_len=4),
            dict(
                vocab=st.sampled_from([None, "abc", 3]),
                name=st.sampled_from(["rev", None, 3]),
                min_len=bad_int(1),
                max_len=st.one_of(NOT_INT, st.integers(-5, 1)),
            ),
        ),
        (
            "SequenceTask.sample",
            task.sample,
            dict(n=3, seed=0, split="train", unique=False),
            dict(
                n=bad_int(0),
                seed=st.one_of(NOT_INT.filter(lambda v: v is not None), st.integers(-99, -1)),
                split=st.sampled_from(["dev", 3, ""]),
                unique=NOT_BOOL,
                min_len=bad_int(1).filter(lambda v: v is not None),
                max_len=st.one_of(NOT_INT.filter(lambda v: v is not None), st.integers(-5, 1)),
                rng=st.sampled_from(["rng", 3]),
            ),
        ),
        (
            "make_splits",
            d.make_splits,
            dict(task=task, n_train=3, n_val=2, n_test=2, seed=0),
            dict(
                task=st.sampled_from([None, "task", vocab]),
                n_train=bad_int(0),
                n_val=bad_int(0),
                n_test=bad_int(0),
                seed=bad_int(0),
            ),
        ),
        (
            "pad_sequences",
            pad_sequences,
            dict(seqs=[[3, 4], [5]], pad_id=PAD),
            dict(
                seqs=st.sampled_from([None, [], [[]], [[3.5]], [[-1]], "abc", torch.tensor([[3]]), [3, 4], 3]),
                pad_id=bad_int(0),
            ),
        ),
        (
            "collate_pairs",
            collate_pairs,
            dict(pairs=pairs),
            dict(pairs=st.sampled_from([None, [], [(1,)], [3], "ab", [([], [3])], [([3.5], [3])], 3])),
        ),
        (
            "check_tokens",
            check_tokens,
            dict(tokens=SRC, lengths=SRC_LENGTHS, vocab_size=VOCAB),
            dict(
                tokens=bad_tokens(3),
                lengths=bad_lengths().filter(lambda v: v is not None),
                vocab_size=bad_int(1).filter(lambda v: v is not None),
            ),
        ),
        # dates
        (
            "render",
            dates.render,
            dict(date=day, locale="fr_FR", fmt="long"),
            dict(
                date=NOT_DATE,
                locale=st.sampled_from([None, 3, "xx_YY", "en|US"]),
                fmt=st.sampled_from([None, "tiny", 3]),
            ),
        ),
        (
            "make_example",
            dates.make_example,
            dict(date=day, locale="fr_FR", fmt="long"),
            dict(date=NOT_DATE, locale=st.sampled_from([None, 3, "xx_YY"]), fmt=st.sampled_from([None, "tiny", 3])),
        ),
        (
            "split_of_date",
            split_of_date,
            dict(date=day, val_fraction=0.1, test_fraction=0.1),
            dict(date=NOT_DATE, val_fraction=bad_number(0, 1, high_open=True)),
        ),
        (
            "sample_dates",
            sample_dates,
            dict(n=2, split="train", rng=random.Random(0), first=day, last=day + datetime.timedelta(days=60)),
            dict(
                n=bad_int(0),
                split=st.sampled_from(["dev", 3]),
                rng=st.sampled_from([None, 3, "rng"]),
                first=NOT_DATE,
                last=st.one_of(NOT_DATE, st.just(day - datetime.timedelta(days=1))),
            ),
        ),
        (
            "make_date_splits",
            make_date_splits,
            dict(n_train=3, n_val=1, n_test=1, seed=0),
            dict(
                n_train=bad_int(0),
                n_val=bad_int(0),
                seed=bad_int(0),
                locales=st.sampled_from([None, "en_US", [], ["en_US", "en_US"], ["xx_YY"], [3]]),
                formats=st.sampled_from([None, "long", [], ["tiny"], ["long", "long"]]),
                first=NOT_DATE,
                last=st.one_of(NOT_DATE, st.just(datetime.date(1900, 1, 1))),
            ),
        ),
        (
            "build_vocabs",
            dates.build_vocabs,
            dict(examples=date_examples()),
            dict(examples=st.sampled_from([None, "abc", [], [3], 3])),
        ),
        (
            "encode_examples",
            dates.encode_examples,
            dict(
                examples=date_examples(),
                src_vocab=dates.build_vocabs(date_examples())[0],
                tgt_vocab=dates.build_vocabs(date_examples())[1],
            ),
            dict(
                examples=st.sampled_from([None, "abc", [], [3]]),
                src_vocab=st.sampled_from([None, "v", Vocab("xyz")]),
                tgt_vocab=st.sampled_from([None, "v", Vocab("xyz")]),
            ),
        ),
        (
            "length_bucket",
            dates.length_bucket,
            dict(text="abc", edges=(15, 20)),
            dict(
                text=st.sampled_from([None, 3, ["a"]]), edges=st.sampled_from([None, "abc", [], [3, 2], [2.5], [3, 3]])
            ),
        ),
        # attention and models
        (
            "lengths_to_mask",
            lengths_to_mask,
            dict(lengths=SRC_LENGTHS, max_len=3),
            dict(
                lengths=st.sampled_from(
                    [None, [3, 2], SRC_LENGTHS.float(), SRC_LENGTHS.unsqueeze(0), torch.tensor([-1]), torch.tensor([4])]
                ),
                max_len=bad_int(1),
            ),
        ),
        (
            "shift_right",
            shift_right,
            dict(tgt=TGT, start=SOS),
            dict(tgt=bad_tokens(3, None, width=4), start=bad_int(0)),
        ),
        (
            "DecoderState.select",
            state.select,
            dict(index=torch.tensor([0, 0, 2])),
            dict(
                index=st.sampled_from(
                    [None, [0], torch.tensor([0.0]), torch.tensor([[0]]), torch.tensor([3]), torch.tensor([-1])]
                )
            ),
        ),
        (
            "DecoderState.reorder",
            state.reorder,
            dict(index=torch.tensor([2, 1, 0])),
            dict(
                index=st.sampled_from(
                    [None, [0, 1, 2], torch.tensor([0, 1]), torch.tensor([0, 1, 3]), torch.tensor([0.0, 1.0, 2.0])]
                )
            ),
        ),
        *[
            (
                f"{cls.__name__}()",
                cls,
                dict(vocab_size=VOCAB, emb_dim=EMB, hid_dim=HID, num_layers=1),
                dict(vocab_size=bad_int(4), emb_dim=bad_int(1), hid_dim=bad_int(1), num_layers=bad_int(1)),
            )
            for cls in (EncoderGRU, LSTMEncoder, DecoderGRU)
        ],
        (
            "EncoderGRU(dropout)",
            EncoderGRU,
            dict(vocab_size=VOCAB, emb_dim=EMB, hid_dim=HID, dropout=0.1),
            dict(dropout=bad_number(0, 1, high_open=True)),
        ),
        (
            "LSTMEncoder(bidirectional)",
            LSTMEncoder,
            dict(vocab_size=VOCAB, emb_dim=EMB, hid_dim=HID),
            dict(bidirectional=NOT_BOOL, dropout=bad_number(0, 1, high_open=True)),
        ),
        (
            "AttentionDecoder()",
            AttentionDecoder,
            dict(vocab_size=VOCAB, emb_dim=EMB, hid_dim=HID, enc_dim=HID),
            dict(
                vocab_size=bad_int(4),
                enc_dim=bad_int(1),
                attention=st.sampled_from(["nope", 3, None, ["dot"]]),
                attn_dim=st.one_of(NOT_INT.filter(lambda v: v is not None), st.integers(-5, 0)),
                layout=st.sampled_from(["nope", "Luong", 3, None, ["luong"]]),
                input_feeding=NOT_BOOL,
                cell=st.sampled_from(["rnn", "LSTM", 1, None]),
            ),
        ),
        *[
            (
                f"{cls.__name__}()",
                cls,
                dict(query_dim=4, key_dim=4),
                dict(
                    query_dim=bad_int(1),
                    key_dim=bad_int(1).filter(lambda v, cls=cls: v is not None or cls is not DotAttention),
                ),
            )
            for cls in (AdditiveAttention, DotAttention, GeneralAttention)
        ],
        *[
            (
                f"{cls.__name__}.forward",
                cls(4, 4),
                dict(query=query, keys=keys, mask=mask, projected_keys=None),
                dict(
                    query=st.sampled_from(
                        [None, query[0], query.long(), query.double(), torch.randn(3, 2, 5), torch.randn(2, 2, 4)]
                        + [torch.randn(3, 0, 4)]
                    ),
                    keys=st.sampled_from(
                        [None, keys[0], keys.long(), keys.double(), torch.randn(3, 3, 5), torch.randn(3, 0, 4)]
                    ),
                    mask=st.sampled_from(
                        [None, mask.long(), mask[:, :2], mask[:2], torch.zeros(3, 3, dtype=torch.bool)]
                    ),
                    projected_keys=st.sampled_from(["keys", keys.double(), keys.long(), torch.randn(3, 3, 5)]),
                ),
            )
            for cls in (AdditiveAttention, DotAttention, GeneralAttention)
        ],
        (
            "scaled_dot_product_attention",
            scaled_dot_product_attention,
            dict(query=query, key=keys, value=keys, mask=torch.ones(3, 2, 3, dtype=torch.bool)),
            dict(
                query=st.sampled_from([None, query.long(), query.double(), torch.randn(2, 2, 4), torch.randn(4)]),
                key=st.sampled_from([None, keys.long(), keys.double(), torch.randn(2, 3, 4), torch.randn(3, 3, 5)]),
                value=st.sampled_from([None, keys.long(), keys.double(), torch.randn(2, 3, 4), torch.randn(3, 4, 4)]),
                mask=st.sampled_from(["mask", mask.long(), torch.ones(3, 2, 4, dtype=torch.bool)])
                | st.just(torch.ones(5, 3, 2, 3, dtype=torch.bool)),
            ),
        ),
        (
            "MultiHeadAttention.forward",
            MultiHeadAttention(4, 2),
            dict(query=query, key=keys, value=keys, mask=mask[:, None, None, :]),
            dict(
                query=st.sampled_from([None, query.long(), query.double(), torch.randn(2, 2, 4), torch.randn(3, 2, 5)]),
                key=st.sampled_from([None, keys.long(), keys.double(), torch.randn(2, 3, 4), torch.randn(3, 4, 4)]),
                value=st.sampled_from([None, keys.long(), keys.double(), torch.randn(2, 3, 4), torch.randn(3, 3, 5)]),
                mask=st.sampled_from(["mask", mask.long(), mask, torch.ones(3, 1, 1, 4, dtype=torch.bool)]),
            ),
        ),
        (
            "EncoderGRU.forward",
            gru().encoder,
            dict(src=SRC, src_lengths=SRC_LENGTHS),
            dict(src=bad_tokens(3), src_lengths=bad_lengths()),
        ),
        (
            "LSTMEncoder.forward",
            attention().encoder,
            dict(src=SRC, src_lengths=SRC_LENGTHS),
            dict(src=bad_tokens(3), src_lengths=bad_lengths()),
        ),
        (
            "DecoderGRU.forward",
            gru().decoder,
            dict(tgt_in=TGT, hidden=hidden),
            dict(
                tgt_in=bad_tokens(3, width=4),
                hidden=st.sampled_from(
                    [None, hidden[0], torch.zeros(2, 3, HID), torch.zeros(1, 3, HID).long(), lstm_hidden]
                ),
            ),
        ),
        (
            "DecoderGRU.step",
            gru().decoder.step,
            dict(prev_tokens=TGT[:, 0], hidden=hidden),
            dict(
                prev_tokens=st.sampled_from([None, TGT, TGT[:, 0].float(), torch.tensor([3, 4, VOCAB])]),
                hidden=st.sampled_from([None, torch.zeros(1, 2, HID)]),
            ),
        ),
        (
            "AttentionDecoder.forward",
            att.decoder,
            dict(tgt_in=TGT, hidden=att_state.hidden, encoder_outputs=att_state.encoder_outputs, src_mask=mask),
            dict(
                tgt_in=bad_tokens(3, width=4),
                hidden=st.sampled_from([None, hidden, lstm_hidden[:1]]),
                encoder_outputs=st.sampled_from(
                    [None, torch.randn(3, 3, HID + 1), torch.randn(2, 3, HID), torch.ones(3, 3, HID, dtype=torch.long)]
                ),
                src_mask=st.sampled_from([None, mask.long(), mask[:2], torch.zeros(3, 3, dtype=torch.bool)]),
            ),
        ),
        *[
            (
                f"{name}.forward",
                model,
                dict(src=SRC, src_lengths=SRC_LENGTHS, tgt=TGT, teacher_forcing_ratio=1.0),
                dict(
                    src=bad_tokens(3),
                    src_lengths=bad_lengths(),
                    tgt=bad_tokens(3, width=4),
                    teacher_forcing_ratio=bad_number(0, 1),
                ),
            )
            for name, model in models().items()
        ],
        *[
            (
                f"{name}.encode",
                model.encode,
                dict(src=SRC, src_lengths=SRC_LENGTHS),
                dict(src=bad_tokens(3), src_lengths=bad_lengths()),
            )
            for name, model in models().items()
        ],
        *[
            (
                f"{name}.decode_step",
                model.decode_step,
                dict(prev_tokens=TGT[:, 0], state=model.encode(SRC, SRC_LENGTHS)),
                dict(
                    prev_tokens=st.sampled_from([None, TGT, TGT[:, 0].float(), torch.tensor([3, VOCAB, 3])]),
                    state=st.sampled_from([None, "state", (hidden,)]),
                ),
            )
            for name, model in models().items()
        ],
        (
            "Seq2Seq()",
            Seq2Seq,
            dict(encoder=EncoderGRU(VOCAB, EMB, HID), decoder=DecoderGRU(VOCAB, EMB, HID)),
            dict(
                encoder=st.sampled_from([None, "enc", nn.Linear(2, 2), EncoderGRU(VOCAB, EMB, HID + 1)]),
                decoder=st.sampled_from([None, "dec", nn.Linear(2, 2), DecoderGRU(VOCAB, EMB, HID, 2)]),
            ),
        ),
        (
            "AttentionSeq2Seq()",
            AttentionSeq2Seq,
            dict(encoder=LSTMEncoder(VOCAB, EMB, HID // 2), decoder=AttentionDecoder(VOCAB, EMB, HID, HID)),
            dict(
                encoder=st.sampled_from([None, "enc", EncoderGRU(VOCAB, EMB, HID), LSTMEncoder(VOCAB, EMB, HID)]),
                decoder=st.sampled_from([None, "dec", DecoderGRU(VOCAB, EMB, HID), AttentionDecoder(VOCAB, EMB, 4, 4)]),
            ),
        ),
        # decoding
        *[
            (
                f"greedy_decode[{name}]",
                greedy_decode,
                dict(model=model, src=SRC, src_lengths=SRC_LENGTHS, max_len=4),
                dict(model=NOT_MODEL, src=bad_tokens(3), src_lengths=bad_lengths(), max_len=bad_int(1)),
            )
            for name, model in models().items()
        ],
        *[
            (
                f"beam_search[{name}]",
                beam_search,
                dict(model=model, src=SRC, src_lengths=SRC_LENGTHS, beam_size=2, max_len=4),
                dict(
                    model=NOT_MODEL,
                    src=bad_tokens(3),
                    src_lengths=bad_lengths(),
                    beam_size=bad_int(1),
                    max_len=bad_int(1),
                    length_penalty=bad_number(0),
                    n_best=st.one_of(bad_int(1), st.integers(3, 9)),
                    return_history=NOT_BOOL,
                ),
            )
            for name, model in models().items()
        ],
        *[
            (
                f"sample_decode[{name}]",
                dec.sample_decode,
                dict(model=model, src=SRC, src_lengths=SRC_LENGTHS, max_len=3),
                dict(
                    model=NOT_MODEL,
                    src=bad_tokens(3),
                    src_lengths=bad_lengths(),
                    max_len=bad_int(1),
                    temperature=st.sampled_from([None, "1", 0, -1.0, NAN, float("inf")]),
                    top_k=bad_int(1).filter(lambda v: v is not None),
                    top_p=st.sampled_from(["0.9", 0, 1.5, NAN, [0.5]]),
                    generator=st.sampled_from([0, "seed", torch.zeros(1)]),
                ),
            )
            for name, model in models().items()
        ],
        *[
            (
                f"exact_search[{name}]",
                dec.exact_search,
                dict(model=model, src=SRC, src_lengths=SRC_LENGTHS, max_len=3),
                dict(
                    model=NOT_MODEL,
                    src=bad_tokens(3),
                    src_lengths=bad_lengths(),
                    max_len=bad_int(1),
                    beam_size=bad_int(1),
                    max_frontier=bad_int(1),
                ),
            )
            for name, model in models().items()
        ],
        *[
            (
                f"sequence_log_probs[{name}]",
                sequence_log_probs,
                dict(model=model, src=SRC, src_lengths=SRC_LENGTHS, tokens=TGT),
                dict(model=NOT_MODEL, src=bad_tokens(3), src_lengths=bad_lengths(), tokens=bad_tokens(3, width=4)),
            )
            for name, model in models().items()
        ],
        (
            "wu_length_penalty",
            dec.wu_length_penalty,
            dict(length=3, length_penalty=0.6),
            dict(length=st.sampled_from([None, "3", -1, NAN]), length_penalty=bad_number(0)),
        ),
        # training
        (
            "masked_cross_entropy",
            masked_cross_entropy,
            dict(logits=torch.randn(3, 4, VOCAB), targets=TGT),
            dict(
                logits=st.sampled_from(
                    [
                        None,
                        torch.randn(3, 4),
                        torch.randn(2, 4, VOCAB),
                        torch.randn(3, 4, 2),
                        torch.ones(3, 4, VOCAB, dtype=torch.long),
                    ]
                ),
                targets=st.one_of(bad_tokens(3, width=4), st.just(torch.zeros(3, 4, dtype=torch.long))),
                pad_id=bad_int(0),
            ),
        ),
        (
            "cosine_schedule",
            training.cosine_schedule,
            dict(optimizer=opt, total_steps=10),
            dict(
                optimizer=st.sampled_from([None, "adam", model_]),
                total_steps=bad_int(1),
                warmup_steps=st.one_of(bad_int(0), st.integers(10, 99)),
                min_lr_ratio=bad_number(0, 1),
            ),
        ),
        (
            "teacher_forcing_schedule",
            training.teacher_forcing_schedule,
            dict(kind="linear", total_steps=10),
            dict(
                kind=st.sampled_from([None, "cosine", 3]),
                total_steps=bad_int(1),
                min_ratio=bad_number(0, 1, high_open=True),
            ),
        ),
        ("History.metric", history().metric, dict(name="exact_match"), dict(name=st.sampled_from([None, 3, "bleu"]))),
        (
            "fit",
            fit,
            dict(model=model_, optimizer=opt, batches=[b], steps=1, step_fn=training.seq2seq_step(), progress=False),
            dict(
                model=st.sampled_from([None, "model", 3]),
                optimizer=st.sampled_from([None, "adam"]),
                batches=st.sampled_from([None, 3, "batches", []]),
                steps=bad_int(1),
                step_fn=NOT_CALLABLE,
                device=st.sampled_from([3, "gpu9", ["cpu"]]),
                lr_schedule=st.sampled_from(["linear", 3]),
                warmup_steps=bad_int(0),
                clip_grad_norm=bad_number(0, low_open=True).filter(lambda v: v is not None),
                eval_fn=st.sampled_from([3, "f"]),
                eval_every=bad_int(1).filter(lambda v: v is not None),
                log_every=bad_int(1),
                desc=NOT_STR,
                progress=NOT_BOOL,
            ),
        ),
        (
            "seq2seq_step",
            training.seq2seq_step,
            dict(teacher_forcing=1.0),
            dict(teacher_forcing=st.one_of(bad_number(0, 1), st.just("linear"))),
        ),
        (
            "stepwise_loss",
            training.stepwise_loss,
            dict(model=gru(), batch=b),
            dict(model=NOT_MODEL, batch=st.sampled_from([None, "batch", (SRC, SRC_LENGTHS)])),
        ),
        (
            "evaluate",
            training.evaluate,
            dict(model=gru(), pairs=pairs),
            dict(
                model=NOT_MODEL,
                pairs=st.sampled_from([None, 3, "ab", [], [3], [([3.5], [3])], [([], [3])]]),
                batch_size=bad_int(1),
                max_len=bad_int(1).filter(lambda v: v is not None),
                by_length=NOT_BOOL,
                device=st.sampled_from([3, "gpu9"]),
            ),
        ),
        # metrics
        *[
            (fn.__name__, fn, dict(predictions=preds, targets=tgts), seqs)
            for fn in (m.exact_match, m.exact_matches, m.token_hits, m.token_accuracy)
        ],
        (
            "accuracy_by_length",
            m.accuracy_by_length,
            dict(predictions=preds, targets=tgts, lengths=[1]),
            dict(
                **seqs, lengths=st.sampled_from([3, "1", [1, 2], [1.5], [-1], torch.tensor([1.0]), torch.tensor([[1]])])
            ),
        ),
        (
            "accuracy_by_bucket",
            m.accuracy_by_bucket,
            dict(predictions=preds, targets=tgts, lengths=[1], buckets=[(1, 5)]),
            dict(**seqs, buckets=st.sampled_from([None, [], "1-5", [(1,)], [(5, 1)], [(1.5, 3)], [3]])),
        ),
        (
            "accuracy_by_position",
            m.accuracy_by_position,
            dict(predictions=preds, targets=tgts),
            dict(**seqs, include_eos=NOT_BOOL),
        ),
        (
            "edit_distance",
            m.edit_distance,
            dict(prediction="abc", reference="abd"),
            dict(
                prediction=st.sampled_from([None, 3, b"ab", [1.5], torch.tensor([[3]]), torch.tensor([3.0])]),
                reference=st.sampled_from([None, 3, b"ab", [[3]]]),
            ),
        ),
        (
            "char_error_rate",
            m.char_error_rate,
            dict(predictions=["abc"], references=["abd"]),
            dict(
                predictions=st.sampled_from([None, "abc", ["a", "b"], [3]]),
                references=st.sampled_from([None, "abc", [], [""], [3], ["a", "b"]]),
            ),
        ),
        # checks
        (
            "check_same",
            checks.check_same,
            dict(actual=torch.ones(2), expected=torch.ones(2)),
            dict(
                expected=st.sampled_from([None, "abc", torch.ones(2, dtype=torch.complex64)]),
                name=NOT_STR,
                atol=bad_number(0),
                rtol=bad_number(0),
                strict=NOT_BOOL,
            ),
        ),
        (
            "check_shape",
            checks.check_shape,
            dict(actual=torch.ones(2), expected=[2]),
            dict(
                expected=st.sampled_from([None, 2, "2", [2.5], [-1], torch.tensor([2])]), name=NOT_STR, strict=NOT_BOOL
            ),
        ),
        (
            "check_mask",
            checks.check_mask,
            dict(fn_or_mask=mask, lengths=SRC_LENGTHS, max_len=3),
            dict(
                fn_or_mask=st.sampled_from([None, 3, "mask"]),
                lengths=st.sampled_from([[1.5, 2, 1], torch.tensor([1.0]), torch.tensor([[1]]), [-1, 2, 1], [9, 2, 1]]),
                max_len=bad_int(0).filter(lambda v: v is not None),
                strict=NOT_BOOL,
            ),
        ),
        (
            "check_loss",
            checks.check_loss,
            dict(fn=masked_cross_entropy),
            dict(
                fn=NOT_CALLABLE,
                reference=st.sampled_from([3, "ref"]),
                pad_id=bad_int(0),
                atol=bad_number(0),
                strict=NOT_BOOL,
            ),
        ),
        (
            "check_attention",
            checks.check_attention,
            dict(weights_or_fn=AdditiveAttention(4, 4)),
            dict(
                weights_or_fn=st.sampled_from([None, 3, "attention"]),
                query_dim=bad_int(1).filter(lambda v: v is not None),
                reference=st.sampled_from([3, "ref"]),
                atol=bad_number(0),
                strict=NOT_BOOL,
            ),
        ),
        (
            "check_attention(weights)",
            checks.check_attention,
            dict(weights_or_fn=torch.ones(3, 1, 3) / 3, mask=mask),
            dict(mask=st.sampled_from([None, [[True]], mask[0]]), keys=st.sampled_from([3, keys.long(), keys[:2]])),
        ),
        # plots
        (
            "plot_history",
            plots.plot_history,
            dict(histories=history()),
            dict(
                histories=st.sampled_from([None, 3, {}, {"a": 3}, [history()]]),
                metrics=st.sampled_from([None, "exact_match", [3]]),
                title=st.sampled_from([3, ["t"]]),
            ),
        ),
        (
            "plot_accuracy_by_length",
            plots.plot_accuracy_by_length,
            dict(results={"m": {1: {"exact_match": 1.0}}}),
            dict(
                results=st.sampled_from([None, 3, {}, {"m": 3}, {"m": {1: 0.5}}]),
                metric=st.sampled_from([None, 3, "bleu"]),
                title=st.sampled_from([3, ["t"]]),
            ),
        ),
        (
            "draw_seq2seq",
            plots.draw_seq2seq,
            dict(src="abc", tgt="cba"),
            dict(
                src=st.sampled_from([None, 3, "", ["a"]]),
                tgt=st.sampled_from([None, 3, ""]),
                title=st.sampled_from([3, ["t"]]),
            ),
        ),
        (
            "plot_attention",
            plots.plot_attention,
            dict(weights=torch.ones(2, 3) / 3, src_tokens="abc", out_tokens="xy"),
            dict(
                weights=st.sampled_from([None, "w", torch.ones(3), torch.ones(1, 1), torch.full((2, 3), NAN)]),
                src_tokens=st.sampled_from([None, 3, "abcdef"]),
                out_tokens=st.sampled_from([None, 3, "xyzw"]),
                ax=st.sampled_from([3, "ax"]),
                highlight_step=st.sampled_from([1.5, "1"]),
                title=st.sampled_from([3]),
            ),
        ),
        (
            "plot_beam_tree",
            plots.plot_beam_tree,
            dict(history=beam_history(), itos=list("psexyzabc")),
            dict(
                history=st.sampled_from([None, [], 3, [[3]], [beam_history()]]),
                itos=st.sampled_from([None, 3, "abc"]),
                best=st.sampled_from([[1.5], "ab", torch.tensor([3.0])]),
                upto_step=st.sampled_from([99, -1, 1.5]),
                ax=st.sampled_from([3]),
                title=st.sampled_from([3]),
            ),
        ),
        # widgets
        (
            "text_to_text_demo",
            widgets.text_to_text_demo,
            dict(transform=str.upper),
            dict(transform=NOT_CALLABLE, description=NOT_STR, value=NOT_STR, label=NOT_STR),
        ),
        (
            "schedule_explorer",
            widgets.schedule_explorer,
            dict(total_steps=100),
            dict(total_steps=bad_int(2), min_ratio=bad_number(0, 0.95)),
        ),
        (
            "attention_browser",
            widgets.attention_browser,
            dict(examples=[("ab", "ba", torch.ones(2, 2) / 2)]),
            dict(
                examples=st.sampled_from(
                    [
                        None,
                        3,
                        "abc",
                        [],
                        [("ab", "ba")],
                        [("ab", "ba", torch.ones(1, 1))],
                        [("", "ba", torch.ones(2, 2))],
                    ]
                )
            ),
        ),
        (
            "beam_stepper",
            widgets.beam_stepper,
            dict(history=beam_history(), itos=list("psexyzabc")),
            dict(
                history=st.sampled_from([None, [], 3, [[3]]]),
                itos=st.sampled_from([None, 3, "abc"]),
                title=st.sampled_from([None, 3]),
            ),
        ),
        (
            "translation_explorer",
            widgets.translation_explorer,
            dict(translate=lambda text, choice: {}, choices=["a"]),
            dict(
                translate=NOT_CALLABLE,
                choices=st.sampled_from(["ab", [], 3]),
                choice=st.sampled_from(["z", 3]),
                value=st.sampled_from([None, 3]),
            ),
        ),
        # compare
        (
            "compare_seeds",
            compare.compare_seeds,
            dict(a=[0.7, 0.8, 0.75], b=[0.72, 0.83, 0.8]),
            dict(
                a=NOT_SCORES,
                b=st.sampled_from([[0.7, 0.8], [0.7, 0.8, 0.9, 0.6], None, [True, False, True]]),
                names=st.sampled_from([None, "AB", ("A",), ("A", "A"), ("A", 3), ("", "B")]),
                test=st.sampled_from([None, "welch", "mcnemar", 3]),
                higher_is_better=NOT_BOOL,
                percent=NOT_BOOL,
                alpha=st.one_of(NOT_NUMBER, st.sampled_from([0.0, 0.6, -0.1, NAN])),
                confidence=st.one_of(NOT_NUMBER, st.sampled_from([0.0, 1.0, 95, NAN])),
                resamples=st.one_of(NOT_INT, st.sampled_from([0, 99])),
                seed=st.one_of(NOT_INT, st.just(-1)),
            ),
        ),
        (
            "compare_items",
            compare.compare_items,
            dict(a=[1, 0, 1, 1], b=[1, 1, 1, 0], resamples=200),
            dict(
                a=NOT_SCORES,
                b=st.sampled_from([[1, 0, 1], [[1, 0], [1, 1]], None, "1011"]),
                test=st.sampled_from([None, "t", "sign-flip", 3]),
                item_noun=NOT_STR,
                percent=st.sampled_from(["yes", 1]),
                alpha=st.sampled_from([0.0, 0.6, None]),
            ),
        ),
        (
            "compare_table",
            compare.compare_table,
            dict(scores={"tf": [0.9, 0.8, 0.85], "ss": [0.8, 0.82, 0.7]}, baseline="tf", over="seeds"),
            dict(
                scores=st.sampled_from(
                    [
                        None,
                        3,
                        [0.1, 0.2],
                        {},
                        {"tf": [0.9, 0.8]},
                        {"tf": [0.9, 0.8, 0.85], "ss": [0.8, NAN, 0.7]},
                        {"tf": [0.9, 0.8, 0.85], "ss": [0.8, 0.7]},
                        {"tf": [0.9, 0.8, 0.85], "ss": "abc"},
                    ]
                ),  # fmt: skip
                baseline=st.sampled_from([None, "TF", ["tf"], 3]),
                over=st.sampled_from([None, "runs", 3]),
                adjust=NOT_BOOL,
            ),
        ),
        # utils
        (
            "seed_everything",
            seed_everything,
            dict(seed=0),
            dict(seed=st.one_of(NOT_INT, st.integers(-99, -1), st.integers(2**32, 2**40))),
        ),
        (
            "get_device",
            utils.get_device,
            dict(prefer="cpu"),
            dict(prefer=st.sampled_from([3, "gpu", "tpu:0", ["cpu"]])),
        ),
        (
            "count_parameters",
            utils.count_parameters,
            dict(model=gru()),
            dict(model=st.sampled_from([None, "model", 3]), trainable_only=NOT_BOOL),
        ),
    ]


CASES = cases()
MENTIONS = {
    "fn_or_mask": "mask",
    "a": r"(\ba(\[\d+\])* (has|is|must|holds)|at least 2)",  # compare_*: "a[1] is nan", "a has shape [3] ..."
    "b": r"(\bb(\[\d+\])* (has|is|must|holds)|\ba has shape)",
    "names": "names",
    "test": "test",
    "alpha": "alpha",
    "confidence": "confidence",
    "resamples": "resamples",
    "item_noun": "item_noun",
    "percent": "percent",
    "higher_is_better": "higher_is_better",
    "scores": "(scores|baseline)",
    "baseline": "baseline",
    "over": "over",
    "adjust": "adjust",
    "weights_or_fn": "check_attention",
    "history": "history",
    "examples": "example",
    "tokens": "(token|vocab|Vocab|reserved|duplicate|separator)",
    "text": "(text|token)",
    "state": "state",
    "encoder": "(encoder|Seq2Seq)",
    "decoder": "(decoder|Seq2Seq)",
    "kind": "schedule",
    "results": "(accuracy_by_length|results|dict)",
    "histories": "(History|histories)",
    "batches": "batch",
    "choice": "choice",
    "choices": "choices",
    "pairs": "(pair|batch|sequence|src)",
    "seqs": "(seqs|sequence|pad_sequences)",
    "locales": "(locale|babel)",
    "formats": "(format|formats)",
    "first": "(first|date|split)",
    "last": "(last|date|split|first)",
    "date": "date",
    "src": "src",
    "tgt": "(tgt|SOS|sequences)",
    "tgt_in": "tgt_in",
    "src_lengths": "src_lengths",
    "itos": "itos",
    "lengths": "(lengths|length)",
    "attention": "attention",
    "model": "model",
    "prefer": "(prefer|device)",
    "split": "split",
    "name": "(name|metric|task)",
    "hidden": "hidden",
    "mask": "mask",
    "encoder_outputs": "(encoder_outputs|mask)",
    "src_mask": "mask",
    "targets": "targets",
    "predictions": "predictions",
    "reference": "reference",
    "prediction": "prediction",
    "references": "(references|reference)",
    "expected": "expected",
    "weights": "weights",
    "index": "(index|rows|reorder)",
    "src_tokens": "(src_tokens|source tokens)",
    "out_tokens": "(out_tokens|output)",
    "logits": "logits",
    "tgt_vocab": "(tgt_vocab|token)",
    "src_vocab": "(src_vocab|token)",
    "task": "task",
    "rng": "rng",
    "optimizer": "optimizer",
    "transform": "transform",
    "translate": "translate",
    "step_fn": "step_fn",
    "eval_fn": "eval_fn",
    "edges": "edges",
    "buckets": "bucket",
    "batch": "batch",
    "vocab": "vocab",
    "keys": "keys",
    "key": "key",
    "value": "value",
    "projected_keys": "projected_keys",
    "query": "query",
    "best": "best",
    "upto_step": "upto_step",
    "n_best": "n_best",
    "warmup_steps": "warmup_steps",
    "teacher_forcing": "teacher_forcing",
    "length": "length",
    "max_len": "(max_len|lengths)",
    "min_len": "min_len",
    "locale": "locale",
    "fmt": "fmt",
    "device": "device",
    "num_symbols": "num_symbols",
    "enc_dim": "(enc_dim|dot attention)",
    "query_dim": "(query_dim|dot attention)",
    "key_dim": "(key_dim|dot attention)",
}


@pytest.mark.parametrize("name, fn, valid, bad", CASES, ids=[c[0] for c in CASES])
def test_every_public_function_rejects_malformed_input(name, fn, valid, bad):
    """Replace one argument of a valid call by a value that is wrong for it: a TypeError or ValueError that
    names the argument must come back (never another exception, a hang or an answer)."""
    import matplotlib.pyplot as plt

    fn(**valid)  # the valid call works
    plt.close("all")

    @FAST
    @given(data=st.data())
    def check(data):
        slot = data.draw(st.sampled_from(sorted(bad)), label="argument")
        value = data.draw(bad[slot], label=slot)
        with time_limit(20), pytest.raises((TypeError, ValueError)) as caught:
            fn(**{**valid, slot: value})
        assert not isinstance(caught.value, (KeyError, IndexError, ZeroDivisionError)), caught.value
        mention = MENTIONS.get(slot, slot)
        assert __import__("re").search(mention, str(caught.value)), (
            f"{name}({slot}={value!r}): the message does not name {slot}: {caught.value}"
        )
        plt.close("all")

    check()
