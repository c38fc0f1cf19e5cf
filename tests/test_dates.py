"""Tests for seq2seq_helpers.dates: babel-made examples, leak-free splits by date, character vocabularies."""

import datetime

import pytest

from seq2seq_helpers.data import EOS, Vocab, collate_pairs
from seq2seq_helpers.dates import (
    FIRST_DATE,
    FORMATS,
    LAST_DATE,
    LOCALES,
    DateExample,
    build_vocabs,
    encode_examples,
    length_bucket,
    make_date_splits,
    make_example,
    render,
    sample_dates,
    split_of_date,
)

D = datetime.date(2021, 3, 3)


@pytest.mark.parametrize(
    "locale, fmt, expected",
    [
        ("en_US", "short", "3/3/21"),
        ("en_US", "full", "Wednesday, March 3, 2021"),
        ("fr_FR", "long", "3 mars 2021"),
        ("de_DE", "long", "3. März 2021"),
        ("ja_JP", "long", "2021年3月3日"),
    ],
)
def test_render_writes_dates_as_the_locale_does(locale, fmt, expected):
    assert render(D, locale, fmt) == expected


def test_render_uses_plain_spaces_and_no_invisible_marks():
    for locale in LOCALES + ("ar_EG",):
        for fmt in FORMATS:
            text = render(D, locale, fmt)
            assert not set(text) & {"\u00a0", "\u202f", "\u2009", "\u200e", "\u200f", "\u061c"}, (locale, fmt, text)


def test_make_example_tags_the_source_with_its_locale():
    ex = make_example(D, "de_DE", "full")
    assert ex == DateExample("de_DE|Mittwoch, 3. März 2021", "2021-03-03", "de_DE", "full", D)


def test_the_locale_tag_tells_ambiguous_numbers_apart():
    # 3/4/21 is the 4th of March in the US and the 3rd of April in Spain: same text, different targets
    us, es = (
        make_example(datetime.date(2021, 3, 4), "en_US", "short"),
        make_example(datetime.date(2021, 4, 3), "es_ES", "short"),
    )
    assert us.source.split("|")[1] == es.source.split("|")[1] == "3/4/21"
    assert us.source != es.source and us.target != es.target


def test_two_digit_years_name_one_date_in_the_default_range():
    texts = {}
    for date in (FIRST_DATE, LAST_DATE, datetime.date(1999, 12, 31), datetime.date(2000, 1, 1)):
        texts[make_example(date, "en_US", "short").source] = date
    assert len(texts) == 4


@pytest.mark.parametrize(
    "bad, error",
    [
        (("2021-03-03", "en_US", "long"), TypeError),
        ((datetime.datetime(2021, 3, 3), "en_US", "long"), TypeError),
        ((D, "xx_YY", "long"), ValueError),
        ((D, 42, "long"), TypeError),
        ((D, "en|US", "long"), ValueError),
        ((D, "en_US", "fancy"), ValueError),
    ],
)
def test_render_rejects_bad_arguments(bad, error):
    with pytest.raises(error):
        render(*bad)


def test_split_of_date_is_stable_and_roughly_proportional():
    assert split_of_date(D) == split_of_date(datetime.date(2021, 3, 3))
    splits = [split_of_date(FIRST_DATE + datetime.timedelta(days=i)) for i in range(5000)]
    for name, share in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        assert abs(splits.count(name) / len(splits) - share) < 0.03, name
    with pytest.raises(ValueError):
        split_of_date(D, val_fraction=0.6, test_fraction=0.5)


def test_splits_share_no_date_and_are_reproducible():
    splits = make_date_splits(2000, 300, 300, seed=1)
    assert [len(s) for s in splits] == [2000, 300, 300]
    dates = [{ex.date for ex in part} for part in splits]
    assert not dates[0] & dates[1] and not dates[0] & dates[2] and not dates[1] & dates[2]
    assert all(split_of_date(ex.date) == name for name, part in zip(("train", "val", "test"), splits) for ex in part)
    assert len({ex.source for ex in splits.test}) == 300  # distinct test sources
    assert make_date_splits(2000, 300, 300, seed=1) == splits
    assert make_date_splits(2000, 300, 300, seed=2).train != splits.train
    assert {ex.locale for ex in splits.train} == set(LOCALES) and {ex.format for ex in splits.train} == set(FORMATS)
    assert all(FIRST_DATE <= ex.date <= LAST_DATE for part in splits for ex in part)


def test_splits_can_choose_locales_formats_and_range():
    first, last = datetime.date(2000, 1, 1), datetime.date(2000, 12, 31)
    splits = make_date_splits(50, 5, 5, locales=["pl_PL"], formats=["long"], first=first, last=last)
    assert all(ex.locale == "pl_PL" and ex.format == "long" and ex.date.year == 2000 for part in splits for ex in part)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(locales="en_US"), TypeError, "list of strings"),
        (dict(locales=[]), ValueError, "empty"),
        (dict(locales=["en_US", "en_US"]), ValueError, "duplicates"),
        (dict(formats=["long", "huge"]), ValueError, "unknown date format"),
        (dict(first=datetime.date(1900, 1, 1)), ValueError, "100 years"),
        (dict(last=datetime.date(1940, 1, 1)), ValueError, "before"),
        (dict(seed=0, first="1950-01-01"), TypeError, "datetime.date"),
    ],
)
def test_make_date_splits_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_date_splits(10, 2, 2, **kwargs)


def test_make_date_splits_rejects_bad_sizes_and_impossible_requests():
    with pytest.raises(ValueError, match="n_val"):
        make_date_splits(10, -1, 2)
    with pytest.raises(ValueError, match="too many"):
        make_date_splits(
            10,
            200,
            2,
            locales=["en_US"],
            formats=["short"],
            first=datetime.date(2000, 1, 1),
            last=datetime.date(2000, 1, 31),
        )


def test_sample_dates_respects_the_split():
    import random

    dates = sample_dates(100, "test", random.Random(0))
    assert len(dates) == 100 and all(split_of_date(d) == "test" for d in dates)
    with pytest.raises(ValueError, match="split"):
        sample_dates(1, "dev", random.Random(0))


def test_vocabularies_are_built_from_the_data_and_encode_it():
    splits = make_date_splits(500, 10, 10, seed=0)
    src_vocab, tgt_vocab = build_vocabs(splits.train)
    assert isinstance(src_vocab, Vocab) and isinstance(tgt_vocab, Vocab)
    assert tgt_vocab.itos[3:] == sorted("0123456789-")
    assert "|" in src_vocab.stoi and "ä" in src_vocab.stoi  # the locale separator, German month names
    assert build_vocabs(splits.train)[0].itos == src_vocab.itos  # same data, same ids
    pairs = encode_examples(splits.train[:5], src_vocab, tgt_vocab)
    assert src_vocab.decode(pairs[0][0]) == splits.train[0].source
    assert tgt_vocab.decode(pairs[0][1]) == splits.train[0].target
    batch = collate_pairs(pairs)
    assert batch.tgt.shape == (5, 11) and bool((batch.tgt[:, -1] == EOS).all())  # 10 characters + EOS


def test_encoding_an_unknown_character_names_it():
    src_vocab, tgt_vocab = build_vocabs([make_example(D, "en_US", "short")])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        encode_examples([make_example(D, "de_DE", "long")], src_vocab, tgt_vocab)


@pytest.mark.parametrize("bad, error", [("abc", TypeError), ([], ValueError), ([("a", "b")], TypeError)])
def test_build_vocabs_rejects_bad_examples(bad, error):
    with pytest.raises(error):
        build_vocabs(bad)


def test_length_bucket():
    assert [length_bucket("x" * n) for n in (1, 15, 16, 20, 21, 30, 31)] == [
        "<=15",
        "<=15",
        "16-20",
        "16-20",
        "21-25",
        "26-30",
        ">30",
    ]
    assert length_bucket("abcd", edges=[2]) == ">2"
    with pytest.raises(ValueError):
        length_bucket("abc", edges=[5, 3])
    with pytest.raises(TypeError):
        length_bucket(12)
