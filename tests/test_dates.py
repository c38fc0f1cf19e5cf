"""Tests for seq2seq_helpers.dates: babel-made examples, leak-free splits by date, character vocabularies."""

import datetime

import pytest

from seq2seq_helpers.data import EOS, Vocab, collate_pairs
from seq2seq_helpers.dates import (
    ALL_FORMATS,
    FIRST_DATE,
    FORMATS,
    LAST_DATE,
    LOCALES,
    WORD_LOCALES,
    WORDS,
    DateExample,
    build_vocabs,
    encode_examples,
    length_bucket,
    make_date_splits,
    make_example,
    render,
    sample_dates,
    split_of_date,
    words,
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


NOV_14_1987 = datetime.date(1987, 11, 14)


@pytest.mark.parametrize(
    "locale, expected",
    [
        ("en_US", "November fourteenth, nineteen eighty-seven"),
        ("en_GB", "the fourteenth of November nineteen eighty-seven"),
        ("fr_FR", "le quatorze novembre mille neuf cent quatre-vingt-sept"),
        ("de_DE", "der vierzehnte November neunzehnhundertsiebenundachtzig"),
        ("es_ES", "catorce de noviembre de mil novecientos ochenta y siete"),
        ("it_IT", "quattordici novembre millenovecentottantasette"),
        ("pt_BR", "catorze de novembro de mil novecentos e oitenta e sete"),
        ("nl_NL", "veertien november negentienhonderdzevenentachtig"),
        ("ja_JP", "千九百八十七年十一月十四日"),
    ],
)
def test_words_reads_the_date_out_as_the_locale_says_it(locale, expected):
    assert words(NOV_14_1987, locale) == expected
    assert render(NOV_14_1987, locale, WORDS) == expected
    assert make_example(NOV_14_1987, locale, WORDS).source == f"{locale}|{expected}"


@pytest.mark.parametrize(
    "locale, expected",
    [
        ("en_US", "June first, two thousand and three"),
        ("fr_FR", "le premier juin deux mille trois"),  # the first of the month is an ordinal in French
        ("es_ES", "primero de junio de dos mil tres"),
        ("it_IT", "primo giugno duemilatré"),
        ("pt_BR", "primeiro de junho de dois mil e três"),
        ("de_DE", "der erste Juni zweitausenddrei"),
        ("ja_JP", "二千三年六月一日"),
    ],
)
def test_words_says_the_first_of_the_month_and_years_after_2000_as_people_do(locale, expected):
    assert words(datetime.date(2003, 6, 1), locale) == expected


@pytest.mark.parametrize("locale", WORD_LOCALES)
def test_words_names_every_date_differently(locale):
    # every day of a leap year, and one day in each of the 100 years: no two dates read the same
    days = [datetime.date(2000, 1, 1) + datetime.timedelta(days=i) for i in range(366)]
    years = [datetime.date(year, 11, 14) for year in range(FIRST_DATE.year, LAST_DATE.year + 1)]
    for dates in (days, years):
        texts = [words(date, locale) for date in dates]
        assert len(set(texts)) == len(dates)
        commas = 1 if locale == "en_US" else 0  # "November fourteenth, nineteen eighty-seven"
        assert all(text == text.strip() and "  " not in text and text.count(",") == commas for text in texts)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (("1987-11-14", "en_GB"), TypeError, "datetime.date"),
        ((NOV_14_1987, 7), TypeError, "string"),
        ((NOV_14_1987, "xx_YY"), ValueError, "babel does not know"),
        ((NOV_14_1987, "ru_RU"), ValueError, "no form for 'ru_RU'"),
        ((NOV_14_1987, "pl_PL"), ValueError, "WORD_LOCALES"),
    ],
)
def test_words_rejects_bad_arguments(bad, error, match):
    with pytest.raises(error, match=match):
        words(*bad)
    if error is ValueError and bad[1] in LOCALES:
        with pytest.raises(ValueError, match="no form"):
            render(NOV_14_1987, bad[1], WORDS)


def test_the_words_format_is_opt_in_and_leaves_the_default_data_as_it_was():
    assert WORDS not in FORMATS and ALL_FORMATS == FORMATS + (WORDS,)
    default = make_date_splits(300, 20, 20, seed=0)
    assert default == make_date_splits(300, 20, 20, formats=FORMATS, seed=0)
    assert all(ex.format != WORDS for part in default for ex in part)
    # the data lessons 06-08 were built on before the words format existed (lesson 06 prints this example)
    assert default.train[0].source == "pt_BR|15/02/2019"


def test_splits_with_words_draw_them_only_where_a_locale_has_them():
    splits = make_date_splits(3000, 200, 200, formats=ALL_FORMATS, seed=3)
    assert splits == make_date_splits(3000, 200, 200, formats=ALL_FORMATS, seed=3)
    pairs = {(ex.locale, ex.format) for ex in splits.train}
    assert {locale for locale, fmt in pairs if fmt == WORDS} == set(WORD_LOCALES)
    assert {fmt for locale, fmt in pairs if locale == "ru_RU"} == set(FORMATS)  # no words: its other formats
    dates = [{ex.date for ex in part} for part in splits]
    assert not dates[0] & dates[1] and not dates[0] & dates[2] and not dates[1] & dates[2]
    assert all(ex.source == f"{ex.locale}|{words(ex.date, ex.locale)}" for ex in splits.train if ex.format == WORDS)
    only_words = make_date_splits(50, 5, 5, locales=["en_GB", "ja_JP"], formats=[WORDS], seed=0)
    assert {ex.format for part in only_words for ex in part} == {WORDS}
    with pytest.raises(ValueError, match="'ru_RU' has no form"):
        make_date_splits(10, 2, 2, locales=["en_GB", "ru_RU"], formats=[WORDS])


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
