"""Date normalisation, the capstone's task: human-written dates in many locales and formats -> ISO ``YYYY-MM-DD``.

Every example is made offline by `babel <https://babel.pocoo.org>`_'s locale-aware formatting (the Unicode
CLDR data, as used by real software), so no data is downloaded and the same seed gives the same data::

    >>> import datetime
    >>> render(datetime.date(2021, 3, 3), "de_DE", "full")
    'Mittwoch, 3. März 2021'
    >>> make_example(datetime.date(2021, 3, 3), "de_DE", "full").source
    'de_DE|Mittwoch, 3. März 2021'

The source starts with its locale (``de_DE|``): ``3/4/21`` is the 4th of March in the United States and the
3rd of April in Spain, so no model could tell them apart without it (a real system knows where its text
comes from). Splits are decided by a stable hash of the *date* (:func:`split_of_date`), so a test date is
never seen in training in any locale or format.
"""

from __future__ import annotations

import datetime
import random
import zlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from . import _validate
from ._sampling import sample_until
from .data import SPLITS, Splits, Vocab, _fractions

__all__ = [
    "LOCALES",
    "FORMATS",
    "WORDS",
    "ALL_FORMATS",
    "WORD_LOCALES",
    "TARGET_CHARS",
    "FIRST_DATE",
    "LAST_DATE",
    "SEP",
    "DateExample",
    "render",
    "words",
    "make_example",
    "split_of_date",
    "sample_dates",
    "make_date_splits",
    "build_vocabs",
    "encode_examples",
    "length_bucket",
]

LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL", "ru_RU", "hu_HU", "ja_JP", "ko_KR")
FORMATS = ("short", "medium", "long", "full")  # babel's (CLDR's) named date formats, e.g. 3/3/21 ... Wednesday, ...
# The date read out in words, as a speech recogniser writes it ("the third of March twenty twenty-one"): opt-in,
# never in FORMATS, so code that asks for the default formats gets the same data as before it existed.
WORDS = "words"
ALL_FORMATS = FORMATS + (WORDS,)
# The locales with a words form: month names from babel (CLDR), day and year numbers from num2words. Russian and
# Hungarian read the year and day with case endings ("1987-го года", "14-e") that num2words does not write, and
# Korean reads the months 6 and 10 irregularly; rather than write wrong text, they have no words form.
WORD_LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL", "ja_JP")
TARGET_CHARS = "0123456789-"
# 100 years exactly, so a two-digit year ('21' in '3/3/21') names one date: 50-99 -> 19xx, 00-49 -> 20xx.
FIRST_DATE = datetime.date(1950, 1, 1)
LAST_DATE = datetime.date(2049, 12, 31)
SEP = "|"  # between the locale and the date text in a source string
# CLDR writes some spaces as no-break spaces and marks text direction with invisible marks; a learner typing
# in the widget cannot tell them apart, so render() writes plain spaces and drops the marks.
_INVISIBLE = {"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u200e": "", "\u200f": "", "\u061c": ""}


class DateExample(NamedTuple):
    """One example: ``source`` (``"fr_FR|3 mars 2021"``), ``target`` (``"2021-03-03"``) and its categories."""

    source: str
    target: str
    locale: str
    format: str
    date: datetime.date


# ------------------------------------------------------------------------------------------ checks


def _check_date(value, name: str = "date") -> None:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}: {value!r}")


def _check_locale(locale) -> str:
    from babel import Locale, UnknownLocaleError

    if not isinstance(locale, str):
        raise TypeError(f"locale must be a string such as 'fr_FR', got {type(locale).__name__}: {locale!r}")
    if SEP in locale:
        raise ValueError(f"locale {locale!r} must not contain {SEP!r}, which separates it from the date text")
    try:
        Locale.parse(locale)
    except (ValueError, UnknownLocaleError) as err:
        raise ValueError(
            f"babel does not know the locale {locale!r} ({err}); try one like 'fr_FR', 'pl_PL' or "
            "'sv_SE' (babel.localedata.locale_identifiers() lists them all)"
        ) from None
    return locale


def _check_format(fmt) -> str:
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be one of {ALL_FORMATS}, got {type(fmt).__name__}: {fmt!r}")
    if fmt not in ALL_FORMATS:
        raise ValueError(f"unknown date format fmt={fmt!r}; choose one of {ALL_FORMATS}")
    return fmt


def _check_words_locale(locale: str) -> None:
    if locale not in WORD_LOCALES:
        raise ValueError(
            f"the {WORDS!r} format has no form for {locale!r}; it is written for {WORD_LOCALES} "
            "(see WORD_LOCALES for why the others are left out); use one of those or a format in FORMATS"
        )


def _check_names(values, name: str, check) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(
            f"{name} must be a list of strings, e.g. {list(LOCALES[:2]) if name == 'locales' else ['long']}"
        )
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    for value in values:
        check(value)
    if len(set(values)) != len(values):
        raise ValueError(f"{name} holds duplicates: {values}")
    return values


def _check_range(first: datetime.date, last: datetime.date) -> None:
    _check_date(first, "first")
    _check_date(last, "last")
    if last < first:
        raise ValueError(f"last ({last}) must not come before first ({first})")
    if last.year - first.year >= 100 and not (first.month, first.day) > (last.month, last.day):
        raise ValueError(
            f"dates from {first} to {last} span more than 100 years: a two-digit year such as '21' "
            "(short formats) would name two dates; keep the range within 100 years"
        )


# ------------------------------------------------------------------------------------------ examples


def render(date: datetime.date, locale: str, fmt: str) -> str:
    """``date`` written as people in ``locale`` write it, in babel's named format ``fmt`` (see ``FORMATS``),
    or read out in words with ``fmt="words"`` (see :func:`words`; only for ``WORD_LOCALES``).

    No-break and thin spaces become plain spaces and invisible direction marks are dropped (lesson 06 §1).
    """
    from babel.dates import format_date

    _check_date(date)
    fmt, locale = _check_format(fmt), _check_locale(locale)
    if fmt == WORDS:
        return words(date, locale)
    text = format_date(date, fmt, locale=locale)
    return "".join(_INVISIBLE.get(ch, ch) for ch in text)


def words(date: datetime.date, locale: str) -> str:
    """``date`` read out in words, as a speech recogniser would write it down (lesson 06 §1)::

        >>> words(datetime.date(1987, 11, 14), "en_GB")
        'the fourteenth of November nineteen eighty-seven'
        >>> words(datetime.date(1987, 11, 14), "fr_FR")
        'le quatorze novembre mille neuf cent quatre-vingt-sept'

    Month names are babel's (CLDR's, in the case a date uses); day and year numbers are num2words'. Only the
    locales in ``WORD_LOCALES`` have a words form; another raises a ValueError that lists them.
    """
    from babel.dates import get_month_names
    from num2words import num2words

    _check_date(date)
    _check_words_locale(_check_locale(locale))
    lang = locale.split("_")[0] if locale != "pt_BR" else "pt_BR"
    day, year = date.day, date.year

    def number(n: int, to: str = "cardinal") -> str:
        return num2words(n, lang=lang, to=to)

    if lang == "ja":  # kanji numerals: 千九百八十七年十一月十四日
        return f"{number(year)}年{number(date.month)}月{number(day)}日"
    month = get_month_names("wide", context="format", locale=locale)[date.month]
    if lang == "en":
        spoken_year = number(year, "year")  # "nineteen eighty-seven", "two thousand and three", "twenty ten"
        if locale == "en_US":
            return f"{month} {number(day, 'ordinal')}, {spoken_year}"
        return f"the {number(day, 'ordinal')} of {month} {spoken_year}"
    first = {"fr": "premier", "es": "primero", "it": "primo", "pt_BR": "primeiro"}
    spoken_day = first[lang] if day == 1 and lang in first else number(day)
    if lang == "fr":
        return f"le {spoken_day} {month} {number(year)}"
    if lang == "de":
        return f"der {number(day, 'ordinal')} {month} {number(year, 'year')}"
    if lang == "nl":  # Dutch writes a number as one word: negentienhonderdzevenentachtig
        return f"{spoken_day} {month} {number(year, 'year').replace(' ', '')}"
    if lang == "it":
        return f"{spoken_day} {month} {number(year)}"
    # es_ES, pt_BR: "catorce de noviembre de mil novecientos ochenta y siete"; num2words' pt_BR writes a comma
    # after "mil" ("mil, novecentos e ...") that a date does not have
    return f"{spoken_day} de {month} de {number(year).replace(',', '')}"


def make_example(date: datetime.date, locale: str, fmt: str) -> DateExample:
    """The example for one date, locale and format: ``source = locale + '|' + render(...)``, target ISO
    (lesson 06 §1)."""
    text = render(date, locale, fmt)
    return DateExample(f"{locale}{SEP}{text}", date.isoformat(), locale, fmt, date)


def split_of_date(date: datetime.date, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """``"train"``, ``"val"`` or ``"test"``, from a stable hash of the ISO date (the same on every machine);
    lesson 06 §1, "Splits that cannot leak"."""
    _check_date(date)
    _fractions(val_fraction, test_fraction)
    return _split(date, val_fraction, test_fraction)


def _split(date: datetime.date, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    bucket = zlib.crc32(date.isoformat().encode("ascii")) % 10_000 / 10_000
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + val_fraction:
        return "val"
    return "train"


def _dates_in_split(split: str | None, first: datetime.date, last: datetime.date, stop_at: int) -> int:
    """How many dates of ``first..last`` belong to ``split``, counting no further than ``stop_at``."""
    span, found = (last - first).days, 0
    if split is None:
        return min(span + 1, stop_at)
    for d in range(span + 1):
        found += _split(first + datetime.timedelta(days=d)) == split
        if found >= stop_at:
            break
    return found


def _require_dates(n: int, split: str | None, first: datetime.date, last: datetime.date, stop_at: int = 1) -> int:
    """``split`` dates in the range (up to ``stop_at``); a ValueError, not an endless search, if there are none."""
    available = _dates_in_split(split, first, last, stop_at) if n else 0
    if n and available == 0:
        raise ValueError(
            f"no date from {first} to {last} falls in the {split!r} split (about "
            f"{10 if split != 'train' else 80}% of dates do, chosen by a hash of the date), so "
            f"{n} {split} examples cannot be drawn; widen the range to a few weeks or more"
        )
    return available


def _draw_date(split: str | None, rng: random.Random, first: datetime.date, span: int) -> datetime.date:
    """One uniform date of ``first..first+span`` in ``split`` (rejection sampling; the split must hold one)."""
    while True:
        date = first + datetime.timedelta(days=rng.randint(0, span))
        if split is None or _split(date) == split:
            return date


def sample_dates(
    n: int, split: str | None, rng: random.Random, first: datetime.date = FIRST_DATE, last: datetime.date = LAST_DATE
) -> list[datetime.date]:
    """``n`` dates drawn uniformly from ``first..last`` whose split is ``split`` (``None``: any split).

    A ValueError says so if no date of the range is in ``split`` (a range of a few days may have none).
    """
    _validate.integer(n, "n", minimum=0)
    if split is not None:
        _validate.one_of(split, "split", SPLITS)
    _validate.instance(rng, random.Random, "rng", " (e.g. random.Random(0))")
    _check_range(first, last)
    _require_dates(n, split, first, last)
    return [_draw_date(split, rng, first, (last - first).days) for _ in range(n)]


def _sample_examples(
    n: int, split: str, rng: random.Random, locales, formats, first, last, unique: bool
) -> list[DateExample]:
    candidates = len(locales) * len(formats) * ((last - first).days + 1)
    if unique and n > candidates // 20:  # about 1/10 of the dates are in val or test; ask for at most half of them
        raise ValueError(
            f"{n} distinct {split} examples is too many for {len(locales)} locales x {len(formats)} "
            f"formats over {first}..{last}; ask for fewer or widen the choice"
        )
    per_date = len(locales) * len(formats)
    dates = _require_dates(n, split, first, last, stop_at=-(-n // per_date) if unique else 1)
    if unique and n > dates * per_date:
        raise ValueError(
            f"{n} distinct {split} examples were asked for but {first}..{last} holds only {dates} "
            f"{split} dates x {len(locales)} locales x {len(formats)} formats = {dates * per_date}; "
            "ask for fewer or widen the range"
        )
    span = (last - first).days
    formats_of = _formats_by_locale(locales, formats)

    def draw():
        date = _draw_date(split, rng, first, span)
        locale = rng.choice(locales)
        return make_example(date, locale, rng.choice(formats_of[locale]))

    def fail(found, draws):
        return (
            f"found only {found} of {n} distinct {split} examples in {draws:,} draws over {first}..{last} "
            f"({len(locales)} locales x {len(formats)} formats render some dates alike); ask for fewer or widen "
            "the range"
        )

    return sample_until(n, draw, fail, key=(lambda example: example.source) if unique else None)


def _formats_by_locale(locales, formats) -> dict[str, tuple[str, ...]]:
    """The formats each locale draws from: all of ``formats``, less ``"words"`` where the locale has none."""
    formats_of = {}
    for locale in locales:
        formats_of[locale] = tuple(f for f in formats if f != WORDS or locale in WORD_LOCALES)
        if not formats_of[locale]:
            raise ValueError(
                f"the locale {locale!r} has no form among formats={formats} ({WORDS!r} is written only for "
                f"{WORD_LOCALES}); add a format from {FORMATS} or leave {locale!r} out"
            )
    return formats_of


def make_date_splits(
    n_train: int,
    n_val: int,
    n_test: int,
    *,
    locales: Sequence[str] = LOCALES,
    formats: Sequence[str] = FORMATS,
    seed: int = 0,
    first: datetime.date = FIRST_DATE,
    last: datetime.date = LAST_DATE,
) -> Splits:
    """Train / validation / test lists of :class:`DateExample`, with no date shared between two splits.

    Each example draws a date (uniform in ``first..last``, kept only if it hashes to the split), a locale and
    a format (``formats`` may add ``"words"``, the date read out in words: a locale outside ``WORD_LOCALES``
    then draws from its other formats). Validation and test examples have distinct sources; training may repeat one, as a stream of
    random examples would. The same arguments give the same data on every machine (lesson 06 §1).
    A range too narrow to hold a date of some split, or enough distinct examples, raises a ValueError that
    says what it could not find.
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        _validate.integer(value, name, minimum=0)
    locales = _check_names(locales, "locales", _check_locale)
    formats = _check_names(formats, "formats", _check_format)
    _formats_by_locale(locales, formats)
    _check_range(first, last)
    rng = random.Random(_validate.integer(seed, "seed", minimum=0))
    return Splits(
        train=_sample_examples(n_train, "train", rng, locales, formats, first, last, unique=False),
        val=_sample_examples(n_val, "val", rng, locales, formats, first, last, unique=True),
        test=_sample_examples(n_test, "test", rng, locales, formats, first, last, unique=True),
    )


# ------------------------------------------------------------------------------------ vocabularies


def _check_examples(examples) -> list[DateExample]:
    if isinstance(examples, (str, bytes)) or not isinstance(examples, Iterable):
        raise TypeError("examples must be a list of DateExample (as make_date_splits returns)")
    examples = list(examples)
    if not examples:
        raise ValueError("examples is empty: pass at least one DateExample")
    for i, ex in enumerate(examples):
        if not isinstance(ex, DateExample):
            raise TypeError(f"example {i} is a {type(ex).__name__}, expected a DateExample")
    return examples


def build_vocabs(examples: Iterable[DateExample]) -> tuple[Vocab, Vocab]:
    """Character vocabularies ``(src_vocab, tgt_vocab)`` built from the examples (pass the training set).

    Characters are sorted so the same data gives the same ids. The target vocabulary holds only what ISO
    dates use, the 10 digits and ``-`` (lesson 06 §1, "Character vocabularies").
    """
    examples = _check_examples(examples)
    src_chars = sorted({ch for ex in examples for ch in ex.source})
    tgt_chars = sorted({ch for ex in examples for ch in ex.target})
    return Vocab(src_chars), Vocab(tgt_chars)


def encode_examples(
    examples: Iterable[DateExample], src_vocab: Vocab, tgt_vocab: Vocab
) -> list[tuple[list[int], list[int]]]:
    """``(src ids, tgt ids)`` pairs for :func:`seq2seq_helpers.data.collate_pairs` (lesson 06 §1).

    A character the vocabulary does not know raises a ``ValueError`` that names it.
    """
    examples = _check_examples(examples)
    for name, vocab in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
        if not isinstance(vocab, Vocab):
            raise TypeError(f"{name} must be a Vocab, got {type(vocab).__name__}")
    return [(src_vocab.encode(ex.source), tgt_vocab.encode(ex.target)) for ex in examples]


def length_bucket(text: str, edges: Sequence[int] = (15, 20, 25, 30)) -> str:
    """A label for the length of ``text``: ``"<=15"``, ``"16-20"``, ..., ``">30"`` with the default edges
    (lesson 06 §3, errors by length)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if isinstance(edges, (str, bytes)) or not isinstance(edges, Iterable):
        raise TypeError(f"edges must be a list of increasing lengths such as (15, 20, 25, 30), got {edges!r}")
    edges = [_validate.integer(e, "edges", minimum=0) for e in edges]
    if not edges or edges != sorted(set(edges)):
        raise ValueError(f"edges must be increasing, distinct lengths, got {edges}")
    n = len(text)
    if n <= edges[0]:
        return f"<={edges[0]}"
    for lo, hi in zip(edges, edges[1:]):
        if n <= hi:
            return f"{lo + 1}-{hi}"
    return f">{edges[-1]}"
