"""Translation data and subword vocabularies, lesson 07.

Two sources of sentence pairs:

* **Offline, by default**: numbers and dates written out in words, English to French (or German), made on
  the spot by `num2words <https://github.com/savoirfairelinux/num2words>`_ (the words for numbers) and `babel
  <https://babel.pocoo.org>`_ (weekday and month names from the Unicode CLDR), so nothing is downloaded::

      >>> say_number(97, "fr"), say_number(21, "de")
      ('quatre-vingt-dix-sept', 'einundzwanzig')
      >>> make_pair(datetime.date(1987, 3, 21), "fr").target
      'samedi vingt et un mars mille neuf cent quatre-vingt-sept'

  French has two correct spellings of compound numbers: the traditional one (``vingt et un``, ``trois cent
  quarante-deux``) and the 1990 reform's, hyphens everywhere (``vingt-et-un``, ``trois-cent-quarante-deux``).
  :func:`renderings` gives both; a training pair uses one of them at random, and evaluation counts either as
  right, as a translation corpus with several references would. Splits are decided by a stable hash of the
  underlying *value* (the number or the date, :func:`split_of_value`), so no test meaning is ever trained on.
* **Real sentences**: :func:`load_sentence_pairs` reads the tab-separated files that Tatoeba and the Anki
  exports use (``English<TAB>French<TAB>attribution``), normalises them, filters by length and reports every
  line it skips; :func:`split_sentence_pairs` splits them by a hash of the source sentence.

:class:`SubwordVocab` wraps a `sentencepiece <https://github.com/google/sentencepiece>`_ model trained in
memory, with the course's reserved ids ``PAD=0, SOS=1, EOS=2`` (and ``UNK=3`` for characters it never saw).
"""

from __future__ import annotations

import datetime
import functools
import io
import numbers
import os
import random
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import torch

from . import _validate
from ._sampling import REJECTED, sample_until
from .data import SPLITS, Splits
from .tokens import EOS, NUM_SPECIAL, PAD, SOS, UNK  # UNK: the id SubwordVocab gives a character never seen

__all__ = [
    "FIRST_DATE",
    "KINDS",
    "LANGUAGES",
    "LAST_DATE",
    "MAX_NUMBER",
    "UNK",
    "LoadReport",
    "SubwordVocab",
    "TranslationPair",
    "load_sentence_pairs",
    "make_pair",
    "make_translation_splits",
    "normalize_text",
    "reference_streams",
    "renderings",
    "say_date",
    "say_number",
    "split_of_value",
    "split_sentence_pairs",
]

LANGUAGES = ("en", "fr", "de")
KINDS = ("number", "date")
MAX_NUMBER = 999_999  # below a million: French and German write every number up to here as one compound
FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2099, 12, 31)


class TranslationPair(NamedTuple):
    """One pair: ``source`` text, ``target`` text (the spelling used for training), every correct
    ``references`` spelling, the ``kind`` (``"number"``, ``"date"`` or ``"sentence"``) and the ``value``."""

    source: str
    target: str
    references: tuple
    kind: str
    value: object


# ------------------------------------------------------------------------------------------ checks


def _check_lang(lang, allowed=LANGUAGES) -> str:
    if lang not in allowed:
        raise ValueError(f"unknown language {lang!r}; choose one of {allowed}")
    return lang


def _check_number(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"a number must be an int, got {type(n).__name__}: {n!r}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"numbers run from 0 to {MAX_NUMBER:,}, got {n:,}")
    return n


def _check_date(value, name: str = "date") -> datetime.date:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}: {value!r}")
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(f"{name} must lie in {FIRST_DATE}..{LAST_DATE}, got {value}")
    return value


def _check_fractions(val_fraction, test_fraction) -> None:
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        _validate.number(value, name, 0.0, 1.0, high_open=True)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction and test_fraction must leave room for training data, got {val_fraction} + {test_fraction}"
        )


# ------------------------------------------------------------------------------------ the words


@functools.lru_cache(maxsize=200_000)
def _words(n: int, lang: str, to: str = "cardinal") -> str:
    """num2words, remembered: a day or a year is said the same way every time (and num2words is slow)."""
    from num2words import num2words

    return num2words(n, lang=lang, to=to)


def say_number(n: int, lang: str = "en") -> str:
    """``n`` (0..999,999) in words, as num2words writes it (French: the traditional spelling)."""
    return _words(_check_number(n), _check_lang(lang))


def _french_reform(words: str) -> str:
    """The 1990 reform's spelling of a French number below a million: hyphens between all its words."""
    return words.replace(" ", "-")


def _german_short(words: str) -> str:
    """German may leave out a leading 'ein' before hundert/tausend: 'einhundertzwei' = 'hundertzwei'."""
    for head in ("eintausend", "einhundert"):
        if words.startswith(head):
            return words[3:]
    return words


def _number_spellings(n: int, lang: str) -> list[str]:
    words = say_number(n, lang)
    other = _french_reform(words) if lang == "fr" else _german_short(words) if lang == "de" else words
    return [words] if other == words else [words, other]


def say_date(date: datetime.date, lang: str = "en") -> str:
    """A date in words: ``Saturday, March twenty-first, nineteen eighty-seven`` (en),
    ``samedi vingt et un mars mille neuf cent quatre-vingt-sept`` (fr),
    ``Samstag, der einundzwanzigste März neunzehnhundertsiebenundachtzig`` (de).

    Weekday and month names come from babel (CLDR), the numbers from num2words; the word order is each
    language's usual one for a date said aloud (French uses a cardinal for the day, except ``premier``).
    """
    return _date_spellings(date, lang)[0]


def _date_spellings(date: datetime.date, lang: str) -> list[str]:
    _check_date(date)
    weekday, month = _calendar_names(_check_lang(lang))
    weekday, month = weekday[date.weekday()], month[date.month]
    if lang == "en":
        return [f"{weekday}, {month} {_words(date.day, 'en', 'ordinal')}, {_words(date.year, 'en', 'year')}"]
    if lang == "fr":
        day = "premier" if date.day == 1 else _words(date.day, "fr")
        year = _words(date.year, "fr")
        spellings = [f"{weekday} {day} {month} {year}"]
        reform = f"{weekday} {_french_reform(day)} {month} {_french_reform(year)}"
        return spellings + ([reform] if reform != spellings[0] else [])
    return [f"{weekday}, der {_words(date.day, 'de', 'ordinal')} {month} {_words(date.year, 'de', 'year')}"]


@functools.cache
def _calendar_names(lang: str) -> tuple[dict, dict]:
    """babel's (CLDR's) wide weekday names (Monday = 0) and month names (January = 1) for ``lang``."""
    from babel.dates import get_day_names, get_month_names

    locale = {"en": "en_US", "fr": "fr_FR", "de": "de_DE"}[lang]
    return dict(get_day_names("wide", locale=locale)), dict(get_month_names("wide", locale=locale))


def renderings(value, lang: str) -> list[str]:
    """Every correct spelling of ``value`` (an int or a ``datetime.date``) in ``lang``, the usual one first."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return _date_spellings(value, lang)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"value must be an int (a number) or a datetime.date, got {type(value).__name__}")
    return _number_spellings(value, lang)


def make_pair(value, target_lang: str = "fr", rng: random.Random | None = None) -> TranslationPair:
    """The English -> ``target_lang`` pair for ``value``; ``rng`` picks the target's spelling (else the usual one)."""
    _check_lang(target_lang, ("fr", "de"))
    if rng is not None:
        _validate.instance(rng, random.Random, "rng", fix="; pass random.Random(seed), or None for the usual spelling")
    source = renderings(value, "en")[0]
    references = tuple(renderings(value, target_lang))
    target = rng.choice(references) if rng is not None else references[0]
    kind = "date" if isinstance(value, datetime.date) else "number"
    return TranslationPair(source, target, references, kind, value)


def split_of_value(value, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """``"train"``, ``"val"`` or ``"test"`` from a stable hash of the value (``n:342`` or ``d:1987-03-21``)."""
    _check_fractions(val_fraction, test_fraction)
    return _split_of_value(value, val_fraction, test_fraction)


def _split_of_value(value, val_fraction: float, test_fraction: float) -> str:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        key = f"d:{value.isoformat()}"
    elif isinstance(value, int) and not isinstance(value, bool):
        key = f"n:{value}"
    elif isinstance(value, str):
        key = f"s:{value}"
    else:
        raise TypeError(f"value must be an int, a datetime.date or a str, got {type(value).__name__}")
    bucket = zlib.crc32(key.encode("utf-8")) % 10_000 / 10_000
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + val_fraction:
        return "val"
    return "train"


def _random_value(kind: str, rng: random.Random, max_number: int, first: datetime.date, last: datetime.date):
    if kind == "date":
        return first + datetime.timedelta(days=rng.randint(0, (last - first).days))
    # As many 1-digit as 6-digit numbers: draw the number of digits first, then the number.
    digits = rng.randint(1, len(str(max_number)))
    lo, hi = (0 if digits == 1 else 10 ** (digits - 1)), min(10**digits - 1, max_number)
    return rng.randint(lo, hi) if lo <= hi else rng.randint(0, max_number)


def _sample(
    n: int, split: str, rng: random.Random, target_lang: str, kinds, max_number, first, last, unique: bool
) -> list[TranslationPair]:

    def draw():
        value = _random_value(rng.choice(kinds), rng, max_number, first, last)
        return value if _split_of_value(value, 0.1, 0.1) == split else REJECTED

    def fail(found, draws):
        return (
            f"could only find {found} distinct {split} values of {list(kinds)} (numbers up to {max_number:,}, "
            f"dates {first}..{last}) after {draws:,} draws; ask for fewer pairs or widen the ranges"
        )

    # a pair's wording draws from rng too: only for a value that is kept, in order, as before
    return sample_until(
        n,
        draw,
        fail,
        key=(lambda value: value) if unique else None,
        keep=lambda value: make_pair(value, target_lang, rng),
    )


def make_translation_splits(
    n_train: int,
    n_val: int,
    n_test: int,
    *,
    target_lang: str = "fr",
    kinds: Sequence[str] = KINDS,
    max_number: int = MAX_NUMBER,
    first: datetime.date = FIRST_DATE,
    last: datetime.date = LAST_DATE,
    seed: int = 0,
) -> Splits:
    """Train / validation / test lists of :class:`TranslationPair`, English -> ``target_lang``.

    Each pair draws a kind (number or date), then a value: numbers with a uniform number of digits (as many
    ``seven`` as ``seven hundred thousand``), dates uniform in ``first..last``. A value is kept only if it
    hashes to the split, so no number or date is shared between two splits. Validation and test values are
    distinct; training may repeat one (with either spelling). Every loop is bounded: a range too narrow for
    the counts asked raises a ``ValueError`` instead of hanging.
    """
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        _validate.integer(value, name, minimum=0)
    _check_lang(target_lang, ("fr", "de"))
    if isinstance(kinds, str) or not kinds or not set(kinds) <= set(KINDS) or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must be a non-empty list of distinct kinds from {KINDS}, got {kinds!r}")
    kinds = tuple(kinds)
    _check_number(max_number)
    _check_date(first, "first")
    _check_date(last, "last")
    if last < first:
        raise ValueError(f"last ({last}) must not come before first ({first})")
    _validate.integer(seed, "seed", minimum=None)
    rng = random.Random(seed)
    args = (target_lang, kinds, max_number, first, last)
    return Splits(
        train=_sample(n_train, "train", rng, *args, unique=False),
        val=_sample(n_val, "val", rng, *args, unique=True),
        test=_sample(n_test, "test", rng, *args, unique=True),
    )


# -------------------------------------------------------------------------- real sentence pairs (TSV)

_SPACES = re.compile(r"\s+")


def normalize_text(text: str, lowercase: bool = False) -> str:
    """Unicode NFC, every kind of space (French writes a narrow no-break space before ``!``) as one plain
    space, no leading or trailing space, no byte-order mark (U+FEFF) or zero-width space; lower case if asked.
    Accents are kept: they are letters."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    _validate.boolean(lowercase, "lowercase")
    return _normalize(text, lowercase)


_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b"))


def _normalize(text: str, lowercase: bool) -> str:
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = _SPACES.sub(" ", text.replace("\u202f", " ").replace("\u00a0", " ")).strip()
    return text.lower() if lowercase else text


class LoadReport(NamedTuple):
    """What :func:`load_sentence_pairs` did: lines ``read``, pairs ``kept``, lines ``skipped`` by reason
    (``{reason: [line numbers]}``) and pairs ``too_long`` for the length filter."""

    read: int
    kept: int
    skipped: dict
    too_long: int

    def __str__(self) -> str:
        parts = [f"{self.read:,} lines read, {self.kept:,} pairs kept, {self.too_long:,} over the length limit"]
        for reason, lines in self.skipped.items():
            shown = ", ".join(map(str, lines[:5])) + (", ..." if len(lines) > 5 else "")
            parts.append(f"{len(lines):,} skipped ({reason}: line {shown})")
        return "; ".join(parts)


def load_sentence_pairs(
    path,
    *,
    columns: tuple[int, int] = (0, 1),
    max_words: int | None = 10,
    lowercase: bool = False,
    on_error: str = "raise",
    limit: int | None = None,
) -> tuple[list[TranslationPair], LoadReport]:
    """Read a tab-separated file of sentence pairs, as Tatoeba and the Anki exports write them.

    ``columns`` says which fields hold the source and the target: ``(0, 1)`` for the Anki files
    (``Go.<TAB>Va !<TAB>CC-BY 2.0 ...``) and the PyTorch tutorial's ``eng-fra.txt``, ``(1, 3)`` for Tatoeba's
    *sentence pairs* export (``id<TAB>text<TAB>id<TAB>text``). Texts are normalised (:func:`normalize_text`);
    pairs with more than ``max_words`` words on either side are left out and counted (``None``: no limit).

    A malformed line (too few fields, an empty text) raises a ``ValueError`` naming the line number with
    ``on_error="raise"``; with ``on_error="skip"`` it is skipped and counted in the report, never dropped
    silently; so is a line that is not UTF-8 (its file and line are named). A UTF-8 byte-order mark at the start
    of the file is not part of the first sentence. ``limit`` (an int >= 1, or ``None``) stops after that many kept
    pairs. Returns ``(pairs, report)``; each pair's
    ``value`` is its normalised source sentence (what :func:`split_sentence_pairs` hashes).
    """
    _validate.one_of(on_error, "on_error", ("raise", "skip"))
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
        raise TypeError(f"columns must be two field numbers (source, target), e.g. (0, 1), got {columns!r}")
    if len(columns) != 2:
        raise ValueError(f"columns must be two different field numbers (source, target), e.g. (0, 1), got {columns!r}")
    columns = tuple(_validate.integer(c, f"columns[{i}]", minimum=0) for i, c in enumerate(columns))
    if columns[0] == columns[1]:
        raise ValueError(f"columns must be two different field numbers (source, target), e.g. (0, 1), got {columns!r}")
    if max_words is not None:
        max_words = _validate.integer(max_words, "max_words", minimum=1)
    _validate.boolean(lowercase, "lowercase")
    if limit is not None:
        limit = _validate.integer(limit, "limit", minimum=1)
    _validate.instance(path, (str, os.PathLike), "path", fix="; pass the .txt file's path")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no file at {path}: download a tab-separated pair file (e.g. fra-eng.zip from "
            "the Anki/Tatoeba exports), unzip it and pass the .txt file's path"
        )
    pairs, skipped, too_long, read = [], {}, 0, 0
    need = max(columns) + 1
    with path.open("rb") as handle:  # bytes, decoded line by line: a bad byte names its line
        for number, raw in enumerate(handle, start=1):
            read += 1
            raw = raw.rstrip(b"\r\n")
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark (Windows editors)
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                line, problem = raw.decode("utf-8", errors="replace"), "not UTF-8"
                detail = f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8"
            else:
                problem = detail = None
            if problem is None and not line.strip():
                problem = detail = "empty line"
            elif problem is None:
                fields = line.split("\t")
                if len(fields) < need:
                    problem = f"{len(fields)} tab-separated field(s)"
                    detail = f"{problem}, expected at least {need}"
                else:
                    source, target = (_normalize(fields[c], lowercase) for c in columns)
                    if not source or not target:
                        problem = detail = "empty source or target"
            if problem is not None:
                if on_error == "raise":
                    fix = "save the file as UTF-8" if problem == "not UTF-8" else "fix the line"
                    raise ValueError(
                        f"{path.name}, line {number}: {detail}: {line[:80]!r}; {fix} or pass on_error='skip' to "
                        "skip such lines (they are counted in the report)"
                    )
                skipped.setdefault(problem, []).append(number)
                continue
            if max_words is not None and max(len(source.split()), len(target.split())) > max_words:
                too_long += 1
                continue
            pairs.append(TranslationPair(source, target, (target,), "sentence", source))
            if limit is not None and len(pairs) >= limit:
                break
    return pairs, LoadReport(read, len(pairs), skipped, too_long)


def split_sentence_pairs(
    pairs: Iterable[TranslationPair], val_fraction: float = 0.1, test_fraction: float = 0.1
) -> Splits:
    """Split pairs by a hash of the normalised (:func:`normalize_text`), lower-cased source sentence: every
    translation of one sentence lands in one split, however it was spaced, composed (NFC or NFD) or
    capitalised, and in validation and test the translations of a sentence (its normalised spelling) are
    gathered into one pair with all of them as ``references`` (Tatoeba often has several)."""
    _check_fractions(val_fraction, test_fraction)
    parts = {name: [] for name in SPLITS}
    grouped: dict[str, dict[str, list]] = {"val": {}, "test": {}}
    for pair in pairs:
        if not isinstance(pair, TranslationPair):
            raise TypeError(
                f"pairs must be TranslationPair (as load_sentence_pairs returns), got {type(pair).__name__}"
            )
        source = _normalize(pair.source, lowercase=False)
        split = _split_of_value(source.lower(), val_fraction, test_fraction)
        if split == "train":
            parts["train"].append(pair)
        else:
            grouped[split].setdefault(source, []).append(pair)
    for split, by_source in grouped.items():
        for source, group in by_source.items():
            references = tuple(dict.fromkeys(r for p in group for r in p.references))
            parts[split].append(TranslationPair(source, group[0].target, references, group[0].kind, source))
    return Splits(**parts)


def reference_streams(pairs) -> list[list[str | None]]:
    """sacrebleu's layout of several references: one stream per reference position, ``streams[k][i]`` the k-th
    reference of pair ``i``. A pair with fewer references than the most has ``None`` in the streams it lacks,
    which sacrebleu's BLEU, chrF and TER leave out for that pair (an empty string ``""`` would count as a real,
    empty reference). Every reference of every pair is kept, in order; ``pairs`` are objects with
    ``.references`` (``TranslationPair``, ``corpora.CorpusPair``)::

        BLEU().corpus_score(outputs, reference_streams(splits.test))
    """
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        raise TypeError(f"pairs must be a list of pairs with .references, got {_validate._describe(pairs)}")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("pairs is empty: pass the split's pairs, e.g. reference_streams(splits.test)")
    rows = []
    for i, pair in enumerate(pairs):
        references = getattr(pair, "references", None)
        if isinstance(references, (str, bytes)) or not isinstance(references, Sequence):
            raise TypeError(
                f"pairs[{i}] must have .references, a tuple of strings (a TranslationPair has), got "
                f"{_validate._describe(pair)}"
            )
        if not references:
            raise ValueError(f"pairs[{i}] has no reference; every pair needs at least one")
        for reference in references:
            _validate.instance(reference, str, f"pairs[{i}].references[...]")
        rows.append(list(references))
    width = max(map(len, rows))
    return [[row[k] if k < len(row) else None for row in rows] for k in range(width)]


# ---------------------------------------------------------------------------------------- subwords

SPACE_MARK = "\u2581"  # sentencepiece's word-start mark, '▁'
_ESCAPE = "\ue000"  # a private-use character: text's own '▁', tabs and line breaks (and itself) are escaped with it
# What each escaped character becomes. '▁' would read as a space; sentencepiece releases differ on the others
# (0.2.0, the floor, turns a tab into an unknown piece; 0.2.3 keeps it), so they never reach it.
_ESCAPES = {_ESCAPE: _ESCAPE, SPACE_MARK: "_", "\t": "t", "\n": "n", "\r": "r"}
_UNESCAPES = {code: char for char, code in _ESCAPES.items()}
_TO_ESCAPE = re.compile("[" + "".join(re.escape(c) for c in _ESCAPES) + "]")


def _escape(text: str) -> str:
    """Text as sentencepiece sees it: ``▁`` becomes ``\\ue000_``, a tab ``\\ue000t`` (see ``_ESCAPES``)."""
    return _TO_ESCAPE.sub(lambda m: _ESCAPE + _ESCAPES[m.group()], text)


_ESCAPED = re.compile(_ESCAPE + "(.)", re.DOTALL)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: _UNESCAPES.get(m.group(1), m.group()), text)


class SubwordVocab:
    """A sentencepiece subword model trained in memory, with the course's ids: ``PAD=0, SOS=1, EOS=2``,
    ``UNK=3`` (a character the training text never had), pieces from 4 on.

    ``encode`` never returns PAD, SOS or EOS for any text (sentencepiece's control symbols cannot be typed:
    the text ``"<eos>"`` is encoded as ordinary characters), and ``decode`` turns pieces back into the exact
    text, spaces included (sentencepiece marks word starts with ``▁``; a ``▁`` in the text itself is escaped, so
    it comes back too, and white space is kept as it is: normalise texts before, as the loaders do).

    >>> vocab = SubwordVocab.train(["trois cent quarante-deux", "deux cents"] * 20, vocab_size=40)
    >>> vocab.decode(vocab.encode("deux cent quarante"))
    'deux cent quarante'
    """

    SPECIAL_PIECES = ("<pad>", "<sos>", "<eos>", "<unk>")

    def __init__(self, model_proto: bytes):
        import sentencepiece as spm

        if not isinstance(model_proto, (bytes, bytearray)) or not model_proto:
            raise TypeError("SubwordVocab takes a trained sentencepiece model as bytes; use SubwordVocab.train(texts)")
        self.model_proto = bytes(model_proto)
        try:
            self.processor = spm.SentencePieceProcessor(model_proto=self.model_proto)
        except RuntimeError as error:
            raise ValueError(
                f"these {len(self.model_proto):,} bytes are not a sentencepiece model ({error}); pass "
                "vocab.model_proto from a SubwordVocab, or train one with SubwordVocab.train(texts)"
            ) from None
        ids = (self.processor.pad_id(), self.processor.bos_id(), self.processor.eos_id(), self.processor.unk_id())
        if ids != (PAD, SOS, EOS, UNK):
            raise ValueError(
                f"this sentencepiece model has pad/bos/eos/unk ids {ids}; the course needs "
                f"{(PAD, SOS, EOS, UNK)}: train it with SubwordVocab.train"
            )
        self.itos = [self.processor.id_to_piece(i) for i in range(len(self.processor))]
        self.itos[: NUM_SPECIAL + 1] = self.SPECIAL_PIECES

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int = 500,
        model_type: str = "bpe",
        character_coverage: float = 1.0,
        seed_sentences: int | None = None,
    ) -> SubwordVocab:
        """Train on ``texts`` (the TRAINING split only) with sentencepiece, in memory (no file is written).

        ``vocab_size`` counts the 4 special ids; if the texts cannot fill it (few distinct words), the model
        is smaller (``len(vocab)`` tells). ``model_type`` is ``"bpe"`` (merges, as lesson 07 explains) or
        ``"unigram"``. ``character_coverage`` (sentencepiece accepts 0.98 to 1) is the share of the text's
        characters the pieces must cover, the rarest others becoming UNK. ``seed_sentences`` caps how many
        texts sentencepiece reads (``None``: all; sentencepiece needs more than 100).
        """
        import sentencepiece as spm

        if isinstance(texts, (str, bytes)) or not isinstance(texts, Iterable):
            raise TypeError(f"texts must be a list of strings (one sentence each), not {_validate._describe(texts)}")
        texts = list(texts)
        if not texts:
            raise ValueError("texts is empty: train on the training split's sentences")
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] is a {type(t).__name__}, expected a string (one sentence)")
        if not any(t.strip() for t in texts):
            raise ValueError(f"all {len(texts):,} texts are empty or blank: train on the training split's sentences")
        vocab_size = _validate.integer(vocab_size, "vocab_size", minimum=NUM_SPECIAL + 2)
        _validate.one_of(model_type, "model_type", ("bpe", "unigram"))
        _validate.number(character_coverage, "character_coverage", 0.98, 1.0, hint=" (sentencepiece's range)")
        if seed_sentences is not None:
            _validate.integer(seed_sentences, "seed_sentences", minimum=101)
        if any("\n" in t or "\r" in t for t in texts):
            raise ValueError("a training text contains a line break; pass one sentence per string")
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter([_escape(t) for t in texts]),
                model_writer=model,
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=character_coverage,
                hard_vocab_limit=False,
                pad_id=PAD,
                bos_id=SOS,
                eos_id=EOS,
                unk_id=UNK,
                pad_piece="<pad>",
                bos_piece="<sos>",
                eos_piece="<eos>",
                unk_piece="<unk>",
                input_sentence_size=seed_sentences or 0,
                shuffle_input_sentence=False,
                normalization_rule_name="identity",  # keep the text as normalize_text left it
                remove_extra_whitespaces=False,  # ... its spaces too: decode gives back the text encoded
                num_threads=1,
                minloglevel=2,
            )
        except RuntimeError as error:  # what no check above foresaw, e.g. fewer pieces than distinct characters
            raise ValueError(
                f"sentencepiece could not train on these {len(texts):,} texts: {error}; see its message for the fix"
            ) from None
        return cls(model.getvalue())

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        shown = self.itos[NUM_SPECIAL + 1 : NUM_SPECIAL + 9]
        return f"SubwordVocab(size={len(self)}, specials={list(self.SPECIAL_PIECES)}, pieces={shown}...)"

    def encode(self, text: str, add_eos: bool = False) -> list[int]:
        """Subword ids of ``text`` (never PAD, SOS or EOS); ``add_eos`` appends EOS."""
        _validate.instance(text, str, "text", fix="; encode one sentence at a time: [vocab.encode(t) for t in texts]")
        _validate.boolean(add_eos, "add_eos")
        ids = self.processor.encode(_escape(text), out_type=int)
        return ids + [EOS] if add_eos else ids

    def pieces(self, text: str) -> list[str]:
        """The subword pieces of ``text`` as strings (``▁`` marks the start of a word; a ``▁`` of the text itself
        shows as its escape, ``\\ue000_``)."""
        _validate.instance(text, str, "text", fix="; split one sentence at a time")
        return self.processor.encode(_escape(text), out_type=str)

    def decode(self, ids) -> str:
        """Text for ``ids`` (a list of ints or a 1-D integer tensor): stops at the first EOS, drops PAD and SOS,
        joins the pieces back into words."""
        if isinstance(ids, torch.Tensor):
            _validate.integer_dtype(ids, "ids")
            if ids.dim() != 1:
                raise ValueError(
                    f"decode takes one sequence (a 1-D tensor); got shape {list(ids.shape)}: for a batch, "
                    "[vocab.decode(row) for row in ids]"
                )
            ids = ids.tolist()
        elif hasattr(ids, "dtype") and hasattr(ids, "tolist"):  # a NumPy array
            if ids.dtype.kind not in "iu" or getattr(ids, "ndim", 0) != 1:
                raise TypeError(f"decode takes one sequence of int ids, got an array of dtype {ids.dtype}")
            ids = ids.tolist()
        elif isinstance(ids, (str, bytes)) or not isinstance(ids, Sequence):
            raise TypeError(f"decode takes one sequence of int ids, got {_validate._describe(ids)}")
        kept = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral):
                hint = "; for a batch, [vocab.decode(row) for row in batch]" if isinstance(i, (list, tuple)) else ""
                raise TypeError(f"decode takes int token ids, got {_validate._describe(i)}{hint}")
            i = int(i)
            if not 0 <= i < len(self):
                raise ValueError(f"token id {i} is outside the vocabulary (valid ids are 0..{len(self) - 1})")
            if i == EOS:
                break
            if i not in (PAD, SOS):
                kept.append(i)
        return _unescape(self.processor.decode(kept))
