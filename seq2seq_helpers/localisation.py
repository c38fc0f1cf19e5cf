"""What a localisation engineer checks a machine translation against, lesson 07.

* :class:`TranslationMemory`: the baseline a translation team already has. For each new source it finds the
  training pair whose source is nearest by edit distance and returns that pair's translation, with the
  similarity a translation tool calls the **fuzzy match** percentage (100: the same text; tools offer the match
  to the translator above a threshold, often 75%, and machine translation below it). The search is RapidFuzz's
  (C++, MIT licence): the same Levenshtein distance as :func:`seq2seq_helpers.metrics.edit_distance`, at
  thousands of comparisons a millisecond.
* :func:`placeholders_kept`: a localisation QA check. A placeholder such as ``%(name)s``, ``{0}`` or ``%s`` must
  reach the translation unchanged, as often as the source has it, or the software crashes or shows the wrong
  value.
* :func:`error_kinds`: tags a wrong output by the kinds of error a reviewer would name, by fixed rules that a
  reader can check (:data:`ERROR_KINDS`); what the rules cannot tell apart (a wrong sense, a valid rewording
  the references lack) is left as ``"other wording"`` for a person to read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from . import _validate
from .corpora import _mask, placeholders

__all__ = [
    "ERROR_KINDS",
    "Match",
    "TranslationMemory",
    "count_error_kinds",
    "error_kinds",
    "placeholders_kept",
    "similarity",
    "words",
]

ERROR_KINDS = (
    "typography",  # right words, wrong punctuation, spacing or case (and nothing else)
    "placeholder",  # a placeholder lost, altered, added or repeated
    "untranslated word",  # a source word copied into the output that no reference and no training target has
    "invented word",  # a word that no reference, training target or the source has (spelled from pieces)
    "repeated word",  # the same word twice in a row, which no reference has
    "dropped words",  # at most 70% of the shortest reference's words, and at least 2 fewer
    "other wording",  # none of the above: a wrong word or sense, or a valid rewording; read them
)

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")  # runs of letters, with inner apostrophes and hyphens
_PUNCT_SPACE = re.compile(r"[\W_]+")  # everything but letters and digits


class Match(NamedTuple):
    translation: str  # the memory's translation of its nearest source
    similarity: float  # 0-100, the fuzzy match percentage (100: the same text)
    source: str  # the memory's nearest source


def _text(value, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {_validate._describe(value)}")
    return value


def _texts(values, name: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of strings, got {_validate._describe(values)}")
    return [_text(v, f"{name}[{i}]") for i, v in enumerate(values)]


def similarity(a: str, b: str) -> float:
    """The fuzzy match percentage of two texts: ``100 * (1 - edit distance / length of the longer)``, on
    characters (100 for two empty texts)."""
    return 100.0 * Levenshtein.normalized_similarity(_text(a, "a"), _text(b, "b"))


def words(text: str) -> list[str]:
    """The words of a text (runs of letters, with inner apostrophes and hyphens), lower-cased; placeholders
    such as ``%(name)s`` are not words."""
    return [w.lower() for w in _WORD.findall(_mask(_text(text, "text")))]


class TranslationMemory:
    """A translation memory of ``(source, translation)`` pairs; :meth:`lookup` returns the nearest source's.

    ``pairs``: objects with ``.source`` and ``.target`` (what :func:`~seq2seq_helpers.corpora.split_corpus`
    gives) or ``(source, translation)`` tuples. Ties go to the pair met first.
    """

    def __init__(self, pairs: Iterable):
        if isinstance(pairs, str) or not isinstance(pairs, Iterable):
            raise TypeError(f"pairs must be a list of (source, translation) pairs, got {_validate._describe(pairs)}")
        self.sources, self.translations = [], []
        for i, pair in enumerate(pairs):
            if hasattr(pair, "source") and hasattr(pair, "target"):
                source, translation = pair.source, pair.target
            elif isinstance(pair, tuple) and len(pair) == 2:
                source, translation = pair
            else:
                raise TypeError(
                    f"pairs[{i}] must be a (source, translation) tuple or a pair with .source and .target, got "
                    f"{_validate._describe(pair)}"
                )
            self.sources.append(_text(source, f"pairs[{i}]'s source"))
            self.translations.append(_text(translation, f"pairs[{i}]'s translation"))
        if not self.sources:
            raise ValueError("a translation memory needs at least one pair; pass the training pairs")

    def __len__(self) -> int:
        return len(self.sources)

    def __repr__(self) -> str:
        return f"TranslationMemory({len(self):,} pairs)"

    def lookup(self, sources: Sequence[str]) -> list[Match]:
        """The nearest memory source of each of ``sources`` (by :func:`similarity`), as a :class:`Match`."""
        queries = _texts(sources, "sources")
        matches = []
        for query in queries:
            source, score, index = process.extractOne(query, self.sources, scorer=Levenshtein.normalized_similarity)
            matches.append(Match(self.translations[index], 100.0 * score, source))
        return matches


def placeholders_kept(output: str, source: str) -> bool:
    """Whether ``output`` has exactly the source's placeholders (``%(name)s``, ``{0}``, ``%s``, ...), each as
    often as the source has it, in any order (translations may move them)."""
    return placeholders(_text(output, "output")) == placeholders(_text(source, "source"))


def _bare(text: str) -> str:
    return _PUNCT_SPACE.sub("", text).lower()


def error_kinds(output: str, references: Sequence[str], source: str, known_words: Iterable[str]) -> tuple[str, ...]:
    """The kinds of error in ``output`` (names from :data:`ERROR_KINDS`, in that order); ``()`` when it equals
    one of ``references``.

    ``known_words``: every word of the training targets (lower-cased, as :func:`words` gives them). A word of the
    output that no translator wrote (not in ``known_words`` nor in a reference) is an untranslated word if the
    source has it, else an invented word; a word French shares with English (``image``, ``extension``) is
    therefore never called untranslated once a training target has it. ``"typography"`` is
    given alone, when the output equals a reference once punctuation, spacing and case are ignored; otherwise an
    output gets every kind whose rule fires, and ``"other wording"`` when none does.
    """
    output, source = _text(output, "output"), _text(source, "source")
    references = _texts(references, "references")
    if not references:
        raise ValueError("references is empty; pass every reference translation of the source")
    known = known_words if isinstance(known_words, (set, frozenset)) else set(known_words)
    if output in references:
        return ()
    if any(_bare(output) == _bare(r) for r in references):
        return ("typography",)
    out_words = words(output)
    ref_words = [words(r) for r in references]
    in_refs = set().union(*ref_words)
    kinds = []
    if not placeholders_kept(output, source):
        kinds.append("placeholder")
    source_words = set(words(source))
    new_words = [w for w in out_words if w not in known and w not in in_refs]  # no translator wrote them
    if any(w in source_words for w in new_words):
        kinds.append("untranslated word")
    if any(w not in source_words for w in new_words):
        kinds.append("invented word")
    ref_bigrams = set().union(*(zip(r, r[1:]) for r in ref_words))
    if any(a == b and (a, b) not in ref_bigrams for a, b in zip(out_words, out_words[1:])):
        kinds.append("repeated word")
    shortest = min(len(r) for r in ref_words)
    if len(out_words) <= 0.7 * shortest and shortest - len(out_words) >= 2:
        kinds.append("dropped words")
    return tuple(kinds) if kinds else ("other wording",)


def count_error_kinds(tags: Iterable[tuple[str, ...]]) -> Counter:
    """How many outputs have each kind (an output with two kinds counts once in each), in :data:`ERROR_KINDS`
    order."""
    counts = Counter(kind for kinds in tags for kind in kinds)
    return Counter({kind: counts[kind] for kind in ERROR_KINDS})
