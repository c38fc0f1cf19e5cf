"""The localisation baselines and checks of lesson 07: a translation memory, placeholder QA, error kinds."""

from __future__ import annotations

import random

import pytest

from seq2seq_helpers.corpora import CorpusPair
from seq2seq_helpers.localisation import (
    ERROR_KINDS,
    TranslationMemory,
    count_error_kinds,
    error_kinds,
    placeholders_kept,
    similarity,
    words,
)
from seq2seq_helpers.metrics import edit_distance


def test_similarity_is_one_minus_the_course_edit_distance_over_the_longer_length():
    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("abc é") for _ in range(rng.randint(0, 9)))
        b = "".join(rng.choice("abc é") for _ in range(rng.randint(0, 9)))
        expected = 100.0 if not a and not b else 100 * (1 - edit_distance(a, b) / max(len(a), len(b)))
        assert similarity(a, b) == pytest.approx(expected)


def test_memory_returns_the_nearest_sources_translation_by_brute_force():
    rng = random.Random(1)
    memory_pairs = [("".join(rng.choice("abcd ") for _ in range(rng.randint(1, 12))), f"t{i}") for i in range(60)]
    memory = TranslationMemory(memory_pairs)
    queries = ["".join(rng.choice("abcd ") for _ in range(rng.randint(1, 12))) for _ in range(40)]
    for query, match in zip(queries, memory.lookup(queries)):
        best = max(similarity(query, s) for s, _ in memory_pairs)
        assert match.similarity == pytest.approx(best)
        assert similarity(query, match.source) == pytest.approx(best)
        first = next(i for i, (s, _) in enumerate(memory_pairs) if similarity(query, s) == pytest.approx(best))
        assert match.translation == memory_pairs[first][1], "ties go to the pair met first"


def test_memory_reads_corpus_pairs_and_finds_an_exact_match():
    pair = CorpusPair("Delete file", "Supprimer le fichier", ("Supprimer le fichier",), "sentence", "Delete file", ())
    memory = TranslationMemory([pair, ("Open file", "Ouvrir le fichier")])
    (match,) = memory.lookup(["Delete file"])
    assert match == ("Supprimer le fichier", 100.0, "Delete file")
    assert "2 pairs" in repr(memory) and len(memory) == 2


@pytest.mark.parametrize(
    ("pairs", "error"),
    [("ab", TypeError), ([], ValueError), ([("a",)], TypeError), ([("a", 3)], TypeError), (None, TypeError)],
)
def test_memory_rejects_bad_pairs(pairs, error):
    with pytest.raises(error, match="pair"):
        TranslationMemory(pairs)


def test_lookup_rejects_a_bare_string():
    with pytest.raises(TypeError, match="list of strings"):
        TranslationMemory([("a", "b")]).lookup("abc")


@pytest.mark.parametrize(
    ("output", "source", "kept"),
    [
        ("Supprimer %(name)s", "Delete %(name)s", True),
        ("{1} de {0}", "{0} of {1}", True),  # moved: still kept
        ("Supprimer %(nom)s", "Delete %(name)s", False),  # altered
        ("Supprimer", "Delete %s", False),  # lost
        ("%s %s", "%s", False),  # repeated
        ("Bonjour", "Hello", True),
    ],
)
def test_placeholders_kept(output, source, kept):
    assert placeholders_kept(output, source) is kept


def test_words_are_letters_lower_cased_with_inner_apostrophes_and_hyphens():
    assert words("L'État a-t-il 3 fichiers ? %(n)s") == ["l'état", "a-t-il", "fichiers"]


KNOWN = set(words("le fichier est supprimé ouvrir les fichiers suivants vous êtes sûr de vouloir"))


@pytest.mark.parametrize(
    ("output", "references", "source", "kinds"),
    [
        ("Ouvrir le fichier", ["Ouvrir le fichier"], "Open the file", ()),
        ("ouvrir le fichier.", ["Ouvrir le fichier"], "Open the file", ("typography",)),
        ("Fichier :", ["Fichier\u00a0:"], "File:", ("typography",)),
        ("Ouvrir le fichier", ["Ouvrir %(name)s"], "Open %(name)s", ("placeholder",)),
        ("Ouvrir le download", ["Ouvrir le fichier"], "Open the download", ("untranslated word",)),
        ("Ouvrir le fichier", ["Ouvrez les fichiers"], "Open the fichier", ("other wording",)),  # a known word
        ("Ouvrir le lepliquée", ["Ouvrir le fichier"], "Open the file", ("invented word",)),
        ("Ouvrir le fichier fichier", ["Ouvrir le fichier"], "Open the file", ("repeated word",)),
        ("Vous", ["Vous êtes sûr de vouloir ouvrir"], "Are you sure you want to open", ("dropped words",)),
        ("Ouvrir les fichiers", ["Ouvrir le fichier"], "Open the file", ("other wording",)),
        ("vous vous", ["vous vous êtes"], "you", ("other wording",)),  # the references repeat it too
    ],
)
def test_error_kinds_on_cases_whose_answer_is_known(output, references, source, kinds):
    assert error_kinds(output, references, source, KNOWN) == kinds
    assert all(k in ERROR_KINDS for k in kinds)


def test_error_kinds_checks_its_inputs():
    with pytest.raises(ValueError, match="references is empty"):
        error_kinds("a", [], "b", KNOWN)
    with pytest.raises(TypeError, match="references must be a list"):
        error_kinds("a", "a", "b", KNOWN)
    with pytest.raises(TypeError, match="output must be a string"):
        error_kinds(None, ["a"], "b", KNOWN)


def test_count_error_kinds_counts_each_kind_once_per_output_in_order():
    counts = count_error_kinds([(), ("typography",), ("placeholder", "invented word"), ("placeholder",)])
    assert list(counts) == list(ERROR_KINDS)
    assert counts["placeholder"] == 2 and counts["typography"] == 1 and counts["other wording"] == 0
