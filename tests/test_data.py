"""Tests for seq2seq_helpers.data: special tokens, Vocab, toy tasks, leak-free splits, padding and batches."""

import itertools
import string
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from seq2seq_helpers.data import (
    EOS,
    NUM_SPECIAL,
    PAD,
    SOS,
    SPECIAL_TOKENS,
    SPLITS,
    Batch,
    SequenceTask,
    Vocab,
    check_tokens,
    collate_pairs,
    make_splits,
    pad_sequences,
    split_of,
)

FAST = settings(max_examples=60, deadline=None, database=None)  # no .hypothesis/ folder in the checkout

# ------------------------------------------------------------------------------------ special tokens


def test_special_ids_are_pad_sos_eos_0_1_2():
    assert (PAD, SOS, EOS) == (0, 1, 2)
    assert NUM_SPECIAL == 3
    assert Vocab("ab").itos[:3] == ["<pad>", "<sos>", "<eos>"] == list(SPECIAL_TOKENS)


def test_data_ids_start_after_the_specials():
    v = Vocab("abc")
    assert len(v) == 6
    assert v.data_ids == range(3, 6)
    assert v.encode("abc") == [3, 4, 5]
    assert v.encode("cab") == [5, 3, 4]


def test_no_data_token_collides_with_a_special_in_the_largest_letter_vocab():
    v = Vocab.letters(52)
    ids = v.encode(string.ascii_letters)
    assert min(ids) == NUM_SPECIAL and max(ids) == len(v) - 1
    assert not {PAD, SOS, EOS} & set(ids)


# --------------------------------------------------------------------------------------------- Vocab

single_chars = st.characters(blacklist_categories=("Cs",))


@FAST
@given(st.data())
def test_char_vocab_round_trip(data):
    tokens = data.draw(st.lists(single_chars, min_size=1, max_size=12, unique=True), label="tokens")
    v = Vocab(tokens)
    text = data.draw(st.text(alphabet=st.sampled_from(tokens), max_size=20), label="text")
    ids = v.encode(text)
    assert len(ids) == len(text)
    assert all(NUM_SPECIAL <= i < len(v) for i in ids)
    assert v.decode(ids) == text
    assert v.decode(v.encode(text, add_eos=True) + [PAD, PAD]) == text


words = st.text(alphabet=string.ascii_letters + string.digits + "<>-_.", min_size=1, max_size=6).filter(
    lambda w: w not in SPECIAL_TOKENS
)


@FAST
@given(st.data())
def test_word_vocab_round_trip(data):
    tokens = data.draw(st.lists(words, min_size=1, max_size=8, unique=True), label="tokens")
    v = Vocab(tokens, sep=" ")
    sentence = data.draw(st.lists(st.sampled_from(tokens), min_size=1, max_size=10), label="sentence")
    text = " ".join(sentence)
    ids = v.encode(text)
    assert ids == [v.stoi[w] for w in sentence]
    assert v.encode(sentence) == ids  # a list of tokens is not split again
    assert v.decode(ids) == text


def test_word_vocab_by_hand():
    v = Vocab(["hello", "big", "world"], sep=" ")
    assert v.encode("hello big world") == [3, 4, 5]
    assert v.encode("world hello", add_eos=True) == [5, 3, EOS]
    assert v.decode([SOS, 3, 5, EOS, 4]) == "hello world"
    assert v.decode([SOS, 3, EOS], keep_specials=True) == "<sos> hello <eos>"


def test_encode_list_of_tokens_and_add_eos():
    v = Vocab("abc")
    assert v.encode(["a", "c"]) == [3, 5]
    assert v.encode("ab", add_eos=True) == [3, 4, EOS]
    assert v.encode("") == []


def test_decode_stops_at_the_first_eos():
    v = Vocab("abc")
    assert v.decode([3, 4, EOS, 5, EOS, 3]) == "ab"
    assert v.decode([EOS, 3]) == ""


def test_decode_drops_pad_and_sos():
    v = Vocab("abc")
    assert v.decode([SOS, 3, PAD, 4, EOS, PAD]) == "ab"
    assert v.decode([PAD, PAD]) == ""


def test_decode_without_stopping_skips_eos_and_goes_on():
    v = Vocab("abc")
    assert v.decode([3, EOS, 4, PAD], stop_at_eos=False) == "ab"


def test_decode_keep_specials_shows_them_space_separated():
    v = Vocab("abc")
    assert v.decode([SOS, 3, EOS, 4], keep_specials=True) == "<sos> a <eos>"
    assert v.decode([3, EOS, 4, PAD], stop_at_eos=False, keep_specials=True) == "a <eos> b <pad>"


def test_decode_takes_a_1d_tensor_but_not_a_batch():
    v = Vocab("abc")
    assert v.decode(torch.tensor([5, 3, 4, EOS, PAD])) == "cab"
    with pytest.raises(ValueError, match="1-D"):
        v.decode(torch.tensor([[3, 4]]))


@pytest.mark.parametrize("bad_id", [6, 100, -1])
def test_decode_rejects_ids_outside_the_vocab(bad_id):
    v = Vocab("abc")  # ids 0..5
    with pytest.raises(ValueError, match=rf"token id {bad_id} is outside the vocabulary \(valid ids are 0..5\)"):
        v.decode([3, bad_id])


def test_encode_names_the_unknown_token():
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        Vocab("abc").encode("abz")
    with pytest.raises(ValueError, match="'you' is not in the vocabulary"):
        Vocab(["hi", "there"], sep=" ").encode("hi you")


def test_special_names_in_text_are_not_data_tokens():
    with pytest.raises(ValueError, match="'<eos>' is not in the vocabulary"):
        Vocab(["hi"], sep=" ").encode("hi <eos>")


@pytest.mark.parametrize("tokens", ["", []])
def test_empty_vocab_raises(tokens):
    with pytest.raises(ValueError, match="at least one data token"):
        Vocab(tokens)


def test_duplicate_tokens_raise_and_are_named():
    with pytest.raises(ValueError, match=r"duplicate tokens in the vocabulary: \['a', 'b'\]"):
        Vocab("abcab")


@pytest.mark.parametrize("name", SPECIAL_TOKENS)
def test_reserved_names_raise(name):
    with pytest.raises(ValueError, match="reserved"):
        Vocab(["x", name], sep=" ")


def test_multi_char_tokens_need_a_separator():
    with pytest.raises(ValueError, match="sep=' '"):
        Vocab(["ab", "c"])
    assert len(Vocab(["ab", "c"], sep=" ")) == NUM_SPECIAL + 2


def test_tokens_containing_the_separator_raise():
    # "a b" could be decoded but never encoded back from text: the round trip would break.
    with pytest.raises(ValueError, match="separator"):
        Vocab(["a b", "c"], sep=" ")


@pytest.mark.parametrize("tokens", [[1, 2], ["a", ""], ["a", None]])
def test_non_string_or_empty_tokens_raise(tokens):
    with pytest.raises(TypeError, match="non-empty strings"):
        Vocab(tokens, sep=" ")


def test_letters_vocab_bounds():
    assert Vocab.letters(1).itos[NUM_SPECIAL:] == ["a"]
    assert Vocab.letters(26).itos[NUM_SPECIAL:] == list(string.ascii_lowercase)
    full = Vocab.letters(52)
    assert len(full) == NUM_SPECIAL + 52 and full.itos[-1] == "Z"
    for bad in (0, 53, -1):
        with pytest.raises(ValueError, match="between 1 and 52"):
            Vocab.letters(bad)
    for bad in (True, 2.0, "3"):
        with pytest.raises(TypeError):
            Vocab.letters(bad)


# ---------------------------------------------------------------------------------------------- tasks


@pytest.mark.parametrize("name, expected", [("reverse", [4, 5, 3]), ("copy", [3, 5, 4]), ("sort", [3, 4, 5])])
def test_task_targets_by_hand(name, expected):
    task = SequenceTask(Vocab.letters(3), name)
    src = [3, 5, 4]
    assert task.target(src) == expected
    assert src == [3, 5, 4]  # the source is not changed in place


@pytest.mark.parametrize("name, rule", [("reverse", lambda s: s[::-1]), ("copy", list), ("sort", sorted)])
def test_sampled_pairs_follow_the_task(name, rule):
    task = SequenceTask(Vocab.letters(6), name, min_len=2, max_len=5)
    pairs = task.sample(200, seed=1, split=None)
    assert len(pairs) == 200
    for src, tgt in pairs:
        assert tgt == rule(src)


def test_sampled_lengths_cover_the_range_and_ids_are_data_ids():
    v = Vocab.letters(5)
    task = SequenceTask(v, min_len=2, max_len=4)
    pairs = task.sample(300, seed=0, split=None)
    assert {len(src) for src, _ in pairs} == {2, 3, 4}
    assert {i for src, _ in pairs for i in src} <= set(v.data_ids)
    short = task.sample(20, seed=0, split=None, min_len=6, max_len=6)  # per-call override of the length range
    assert {len(src) for src, _ in short} == {6}


def test_sample_is_deterministic_given_a_seed():
    task = SequenceTask(Vocab.letters(8))
    assert task.sample(30, seed=3) == task.sample(30, seed=3)
    assert task.sample(30, seed=3) != task.sample(30, seed=4)
    assert task.sample(0, seed=3) == []


@pytest.mark.parametrize("split", SPLITS)
def test_sample_draws_only_from_the_requested_split(split):
    task = SequenceTask(Vocab.letters(6), min_len=1, max_len=6)
    assert all(task.split_of(src) == split for src, _ in task.sample(100, seed=0, split=split))


def test_sample_with_split_none_mixes_splits():
    task = SequenceTask(Vocab.letters(6), min_len=1, max_len=6)
    assert {task.split_of(src) for src, _ in task.sample(500, seed=0, split=None)} == set(SPLITS)


# ----------------------------------------------------------------------------------------------- splits


def _all_sequences(num_symbols, max_len):
    ids = range(NUM_SPECIAL, NUM_SPECIAL + num_symbols)
    return [list(s) for n in range(1, max_len + 1) for s in itertools.product(ids, repeat=n)]


def test_split_of_is_deterministic_and_partitions():
    seqs = _all_sequences(5, 4)  # 5 + 25 + 125 + 625 = 780 sequences
    assert len(seqs) == 780
    first = [split_of(s) for s in seqs]
    assert first == [split_of(list(s)) for s in seqs]
    assert set(first) == set(SPLITS)  # every sequence in exactly one of the three
    for name, fraction in (("test", 0.1), ("val", 0.1), ("train", 0.8)):
        assert abs(first.count(name) / len(seqs) - fraction) < 0.04, name


def test_split_fractions_follow_the_task_settings():
    seqs = _all_sequences(5, 4)
    task = SequenceTask(Vocab.letters(5), val_fraction=0.3, test_fraction=0.2)
    splits = [task.split_of(s) for s in seqs]
    assert abs(splits.count("val") / len(seqs) - 0.3) < 0.05
    assert abs(splits.count("test") / len(seqs) - 0.2) < 0.05
    no_holdout = SequenceTask(Vocab.letters(5), val_fraction=0.0, test_fraction=0.0)
    assert {no_holdout.split_of(s) for s in seqs} == {"train"}


def test_split_of_is_pinned_to_crc32_so_it_is_the_same_on_every_machine():
    # Changing the hash would silently reshuffle every lesson's held-out set: pin it.
    def by_hand(ids):
        bucket = zlib.crc32(str(ids).encode("ascii")) % 10_000 / 10_000
        return "test" if bucket < 0.1 else "val" if bucket < 0.2 else "train"

    for seq in _all_sequences(4, 3):
        assert split_of(seq) == by_hand(seq)


def test_split_of_does_not_depend_on_the_container_or_int_type():
    for seq in _all_sequences(4, 3):
        expected = split_of(seq)
        assert split_of(tuple(seq)) == expected
        assert split_of(torch.tensor(seq)) == expected
        assert split_of(np.array(seq)) == expected
        assert split_of([np.int64(i) for i in seq]) == expected


def test_make_splits_share_no_source_and_hold_out_sets_are_unique():
    # 4 symbols, lengths 1-6: 5,460 possible sources, so 3,000 random training draws would surely hit
    # validation and test sequences if the split were not enforced.
    task = SequenceTask(Vocab.letters(4), "reverse", min_len=1, max_len=6)
    splits = make_splits(task, n_train=3000, n_val=200, n_test=200, seed=0)
    train, val, test = ({tuple(s) for s, _ in part} for part in splits)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (3000, 200, 200)
    assert len(val) == 200 and len(test) == 200  # validation and test sequences are distinct
    assert len(train) < 3000  # the training set may repeat (so this space is small enough to test leaks)
    assert not train & val and not train & test and not val & test
    for name, part in zip(SPLITS, splits):
        assert all(task.split_of(src) == name and tgt == src[::-1] for src, tgt in part)


def test_make_splits_is_deterministic_given_a_seed():
    task = SequenceTask(Vocab.letters(6), min_len=2, max_len=5)
    assert make_splits(task, 50, 10, 10, seed=1) == make_splits(task, 50, 10, 10, seed=1)
    assert make_splits(task, 50, 10, 10, seed=1) != make_splits(task, 50, 10, 10, seed=2)


def test_unique_sampling_can_take_the_whole_space_but_no_more():
    task = SequenceTask(Vocab.letters(2), min_len=1, max_len=2)  # [a], [b], and 4 of length 2: 6 in all
    everything = {tuple(s) for s in _all_sequences(2, 2)}
    pairs = task.sample(6, seed=0, split=None, unique=True)
    assert {tuple(s) for s, _ in pairs} == everything
    with pytest.raises(ValueError, match="could only find 6 distinct"):
        task.sample(7, seed=0, split=None, unique=True)


def test_make_splits_raises_when_a_hold_out_split_is_too_small():
    task = SequenceTask(Vocab.letters(2), min_len=1, max_len=2)
    n_test = sum(split_of(s) == "test" for s in _all_sequences(2, 2))
    with pytest.raises(ValueError, match="distinct test sequences"):
        make_splits(task, n_train=5, n_val=0, n_test=n_test + 1)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(min_len=0), ValueError),
        (dict(min_len=5, max_len=4), ValueError),
        (dict(name="rot13"), ValueError),
        (dict(min_len=2.5), TypeError),
        (dict(max_len=True), TypeError),
        (dict(val_fraction=0.5, test_fraction=0.5), ValueError),
        (dict(val_fraction=-0.1), ValueError),
    ],
)
def test_bad_task_arguments_raise(kwargs, error):
    with pytest.raises(error):
        SequenceTask(Vocab.letters(4), **kwargs)


def test_task_needs_a_vocab():
    with pytest.raises(TypeError, match="must be a Vocab"):
        SequenceTask("abc")


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(split="dev"), ValueError),
        (dict(n=-1), ValueError),
        (dict(n=2.0), TypeError),
        (dict(min_len=0), ValueError),
        (dict(min_len=4, max_len=3), ValueError),
    ],
)
def test_bad_sample_arguments_raise(kwargs, error):
    kwargs = {"n": 3, **kwargs}
    with pytest.raises(error):
        SequenceTask(Vocab.letters(4)).sample(seed=0, **kwargs)


# ---------------------------------------------------------------------------------------------- padding


def test_pad_sequences_by_hand():
    tokens, lengths = pad_sequences([[3, 4, 5], [6], (7, 8)])
    assert tokens.dtype == torch.long and lengths.dtype == torch.long
    assert tokens.tolist() == [[3, 4, 5], [6, PAD, PAD], [7, 8, PAD]]
    assert lengths.tolist() == [3, 1, 2]
    tokens, _ = pad_sequences([[3], [4, 5]], pad_id=9)
    assert tokens.tolist() == [[3, 9], [4, 5]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="empty batch"):
        pad_sequences([])
    with pytest.raises(ValueError, match="sequence 1 of the batch is empty"):
        pad_sequences([[3], []])
    with pytest.raises(TypeError, match="list of id lists"):
        pad_sequences(torch.tensor([[3, 4]]))
    with pytest.raises(TypeError):
        pad_sequences("abc")


def test_collate_pairs_appends_eos_to_targets_and_pads():
    pairs = [([3, 4], [4, 3]), ([5], [5])]
    batch = collate_pairs(pairs)
    assert isinstance(batch, Batch)
    assert batch.src.tolist() == [[3, 4], [5, PAD]]
    assert batch.src_lengths.tolist() == [2, 1]
    assert batch.tgt.tolist() == [[4, 3, EOS], [5, EOS, PAD]]
    assert batch.tgt_lengths.tolist() == [3, 2]
    assert batch.num_target_tokens == 5
    assert pairs == [([3, 4], [4, 3]), ([5], [5])]  # the caller's targets are not changed in place


def test_collate_pairs_as_a_dataloader_collate_fn():
    pairs = SequenceTask(Vocab.letters(5), min_len=1, max_len=4).sample(10, seed=0)
    loader = DataLoader(pairs, batch_size=4, shuffle=False, collate_fn=collate_pairs)
    seen = []
    for batch in loader:
        assert isinstance(batch, Batch)
        for row, n, tgt_row, m in zip(batch.src, batch.src_lengths, batch.tgt, batch.tgt_lengths):
            assert (row[n:] == PAD).all() and (tgt_row[m:] == PAD).all()
            assert tgt_row[m - 1] == EOS
            seen.append((row[:n].tolist(), tgt_row[: m - 1].tolist()))
    assert seen == pairs


def test_collate_pairs_errors():
    with pytest.raises(ValueError, match="empty batch"):
        collate_pairs([])
    for bad in ([3], ([3], [3], [3]), "ab", 5):
        with pytest.raises(TypeError, match="item 1 of the batch"):
            collate_pairs([([3], [3]), bad])
    with pytest.raises(ValueError, match="sequence 1 of the batch is empty"):
        collate_pairs([([3], [3]), ([], [3])])
    for bad in (([-1], [3]), ([3], [-2])):
        with pytest.raises(ValueError, match="pairs\\[1\\] holds the id -[12]: token ids are never negative"):
            collate_pairs([([3], [3]), bad])
    with pytest.raises(TypeError, match=r"pairs\[0\]\[1\] must hold int token ids"):
        collate_pairs([([3], [3.0])])
    assert collate_pairs([([3], [])]).tgt.tolist() == [[EOS]]  # an empty target is just EOS


def test_task_sample_keeps_to_the_split_it_is_asked_for():
    task = SequenceTask(Vocab.letters(5), min_len=1, max_len=6)
    for split in ("train", "val", "test"):
        assert {task.split_of(src) for src, _ in task.sample(200, seed=1, split=split)} == {split}


def test_batch_to_moves_tokens_and_keeps_lengths_on_the_cpu():
    batch = collate_pairs([([3, 4], [4, 3]), ([5], [5])])
    moved = batch.to("meta")  # a real device move, possible without a GPU
    assert isinstance(moved, Batch)
    assert moved.src.device.type == "meta" and moved.tgt.device.type == "meta"
    assert moved.src_lengths is batch.src_lengths and moved.tgt_lengths is batch.tgt_lengths
    same = batch.to("cpu")
    assert torch.equal(same.src, batch.src) and torch.equal(same.tgt, batch.tgt)


# ------------------------------------------------------------------------------------------ check_tokens


def test_check_tokens_accepts_a_valid_batch():
    tokens = torch.tensor([[3, 5], [4, PAD]])
    assert check_tokens(tokens, torch.tensor([2, 1]), vocab_size=6) is None
    assert check_tokens(tokens.int()) is None  # int32 ids are fine too


@pytest.mark.parametrize(
    "tokens, lengths, vocab_size, error, message",
    [
        ([[3, 4]], None, None, TypeError, "must be a torch.Tensor"),
        (torch.tensor([[3.0, 4.0]]), None, None, TypeError, "integer token ids"),
        (torch.tensor([3, 4]), None, None, ValueError, "unsqueeze"),
        (torch.zeros(0, 3, dtype=torch.long), None, None, ValueError, "empty"),
        (torch.zeros(2, 0, dtype=torch.long), None, None, ValueError, "empty"),
        (torch.tensor([[3, 6]]), None, 6, ValueError, "token id 6, outside the vocabulary"),
        (torch.tensor([[-1, 3]]), None, 6, ValueError, "token id -1, outside the vocabulary"),
        (torch.tensor([[3, 4]]), [2], None, TypeError, "lengths must be a torch.Tensor"),
        (torch.tensor([[3, 4], [5, 0]]), torch.tensor([2]), None, ValueError, r"expected \[2\]"),
        (torch.tensor([[3, 4], [5, 0]]), torch.tensor([[2, 1]]), None, ValueError, r"expected \[2\]"),
        (torch.tensor([[3, 4], [5, 0]]), torch.tensor([2, 0]), None, ValueError, "at least one token"),
        (torch.tensor([[3, 4], [5, 0]]), torch.tensor([3, 1]), None, ValueError, "must not exceed"),
    ],
)
def test_check_tokens_errors(tokens, lengths, vocab_size, error, message):
    with pytest.raises(error, match=message):
        check_tokens(tokens, lengths, vocab_size, name="tgt")


def test_check_tokens_names_the_argument():
    with pytest.raises(ValueError, match="tgt_lengths"):
        check_tokens(torch.tensor([[3]]), torch.tensor([0]), name="tgt")


def test_one_rejection_sampler_with_one_budget():
    """data, dates and translation draw through one helper: it stops after draws_allowed(n) draws with the
    builder's message, and keeps what it accepts in order, passing each through keep at once."""
    from seq2seq_helpers._sampling import REJECTED, draws_allowed, sample_until

    calls = []

    def never():
        calls.append(1)
        return REJECTED

    with pytest.raises(ValueError, match="found 0 in 10,200 draws"):
        sample_until(1, never, lambda found, draws: f"found {found} in {draws:,} draws")
    assert len(calls) == draws_allowed(1) == 10_200
    values = iter([1, 1, 2, REJECTED, 3, 4])
    assert sample_until(3, lambda: next(values), str, key=lambda v: v, keep=lambda v: 10 * v) == [10, 20, 30]
    assert next(values) == 4  # no draw after the third sample was kept
    assert sample_until(0, never, str) == []
