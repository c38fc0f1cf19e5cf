"""Lesson 07's data and subwords: offline number/date pairs, the Tatoeba/Anki TSV loader, SubwordVocab."""

import datetime

import pytest
import torch

from seq2seq_helpers.data import EOS, PAD, SOS
from seq2seq_helpers.translation import (
    UNK,
    LoadReport,
    SubwordVocab,
    TranslationPair,
    load_sentence_pairs,
    make_pair,
    make_translation_splits,
    normalize_text,
    reference_streams,
    renderings,
    say_date,
    say_number,
    split_of_value,
    split_sentence_pairs,
)

# ------------------------------------------------------------------------------------------- the words


def test_numbers_in_words_reorder_and_compound():
    assert say_number(97, "en") == "ninety-seven"
    assert say_number(97, "fr") == "quatre-vingt-dix-sept"
    assert say_number(21, "de") == "einundzwanzig"  # units before tens, one word
    assert say_number(342_105, "fr") == "trois cent quarante-deux mille cent cinq"


def test_french_has_two_correct_spellings_and_german_may_drop_ein():
    assert renderings(342, "fr") == ["trois cent quarante-deux", "trois-cent-quarante-deux"]
    assert renderings(21, "fr") == ["vingt et un", "vingt-et-un"]
    assert renderings(7, "fr") == ["sept"]  # one word: one spelling
    assert renderings(1987, "de") == ["eintausendneunhundertsiebenundachtzig", "tausendneunhundertsiebenundachtzig"]
    assert renderings(21_000, "de") == ["einundzwanzigtausend"]  # 'einund...' is not a leading 'ein'


def test_dates_in_words():
    day = datetime.date(1987, 3, 21)
    assert say_date(day, "en") == "Saturday, March twenty-first, nineteen eighty-seven"
    assert say_date(day, "fr") == "samedi vingt et un mars mille neuf cent quatre-vingt-sept"
    assert say_date(day, "de") == "Samstag, der einundzwanzigste März neunzehnhundertsiebenundachtzig"
    assert say_date(datetime.date(2001, 5, 1), "fr").startswith("mardi premier mai")
    assert renderings(day, "fr")[1] == "samedi vingt-et-un mars mille-neuf-cent-quatre-vingt-sept"


def test_make_pair_uses_one_of_the_references():
    import random

    rng = random.Random(0)
    targets = {make_pair(342, "fr", rng).target for _ in range(40)}
    assert targets == {"trois cent quarante-deux", "trois-cent-quarante-deux"}
    pair = make_pair(342, "fr")
    assert pair.target == pair.references[0] and pair.kind == "number" and pair.source == "three hundred and forty-two"
    assert make_pair(datetime.date(2000, 1, 1), "de").kind == "date"


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: say_number(-1), ValueError, "0 to 999,999"),
        (lambda: say_number(1_000_000), ValueError, "0 to 999,999"),
        (lambda: say_number(3.0), TypeError, "int"),
        (lambda: say_number(True), TypeError, "int"),
        (lambda: say_number(3, "es"), ValueError, "unknown language"),
        (lambda: say_date(datetime.date(1850, 1, 1)), ValueError, "must lie in"),
        (lambda: say_date(datetime.datetime(1990, 1, 1)), TypeError, "datetime.date"),
        (lambda: renderings("342", "fr"), TypeError, "int"),
        (lambda: make_pair(3, "en"), ValueError, "unknown language"),
    ],
)
def test_bad_values_get_clear_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ------------------------------------------------------------------------------------------- the splits


def test_splits_are_by_value_stable_and_disjoint():
    assert split_of_value(342) == split_of_value(342) and split_of_value("a b") in ("train", "val", "test")
    splits = make_translation_splits(3000, 200, 200, seed=1)
    values = [{p.value for p in part} for part in splits]
    assert not values[0] & values[1] and not values[0] & values[2] and not values[1] & values[2]
    for name, part in zip(("train", "val", "test"), splits):
        assert all(split_of_value(p.value) == name for p in part)
    assert len(values[1]) == 200 and len(values[2]) == 200  # val and test values are distinct
    assert {p.kind for p in splits.train} == {"number", "date"}
    assert make_translation_splits(50, 5, 5, seed=1) == make_translation_splits(50, 5, 5, seed=1)
    assert all(p.target in p.references for p in splits.train)


def test_fraction_of_values_per_split_is_as_asked():
    counts = {"train": 0, "val": 0, "test": 0}
    for n in range(20_000):
        counts[split_of_value(n)] += 1
    assert 0.08 < counts["test"] / 20_000 < 0.12 and 0.08 < counts["val"] / 20_000 < 0.12


def test_a_narrow_range_raises_instead_of_hanging():
    # numbers 0..9 hold only a couple of test values: asking for 50 distinct ones must fail, quickly
    with pytest.raises(ValueError, match="could only find"):
        make_translation_splits(10, 0, 50, kinds=("number",), max_number=9)
    day = datetime.date(2000, 1, 1)
    with pytest.raises(ValueError, match="could only find"):
        make_translation_splits(0, 5, 0, kinds=("date",), first=day, last=day + datetime.timedelta(days=3))


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"n_train": -1}, "n_train must be at least 0"),
        ({"kinds": ("number", "word")}, "kinds"),
        ({"kinds": "number"}, "kinds"),
        ({"target_lang": "en"}, "unknown language"),
        ({"max_number": 10**7}, "999,999"),
        ({"first": datetime.date(2000, 1, 2), "last": datetime.date(2000, 1, 1)}, "must not come before"),
    ],
)
def test_bad_split_arguments(kwargs, words):
    args = {"n_train": 5, "n_val": 1, "n_test": 1, **kwargs}
    with pytest.raises(ValueError, match=words):
        make_translation_splits(args.pop("n_train"), args.pop("n_val"), args.pop("n_test"), **args)


# ---------------------------------------------------------------------------------------- the TSV loader

SAMPLE = (
    "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)\n"
    "Hi.\tSalut\u202f!\tCC-BY 2.0 (France)\n"
    "I  see   you.\t Je te vois. \tCC-BY\n"
    "no tab here\n"
    "\n"
    "Run!\t\tCC-BY\n"
    "Be quiet, please: my little brother is sleeping in the next room.\t"
    "Tais-toi, s'il te plaît : mon petit frère dort dans la pièce d'à côté.\tCC-BY\n"
    "Hi.\tBonjour !\tCC-BY\n"
)


def write(tmp_path, text, name="fra.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loader_raises_on_the_first_malformed_line_naming_it(tmp_path):
    path = write(tmp_path, SAMPLE)
    with pytest.raises(ValueError, match=r"fra.txt, line 4: 1 tab-separated field\(s\), expected at least 2"):
        load_sentence_pairs(path)


def test_loader_skips_and_counts_malformed_lines(tmp_path):
    pairs, report = load_sentence_pairs(write(tmp_path, SAMPLE), on_error="skip", max_words=8)
    assert isinstance(report, LoadReport)
    assert [(p.source, p.target) for p in pairs] == [
        ("Go.", "Va !"),
        ("Hi.", "Salut !"),
        ("I see you.", "Je te vois."),
        ("Hi.", "Bonjour !"),
    ]
    assert report.read == 8 and report.kept == 4 and report.too_long == 1
    assert report.skipped == {"1 tab-separated field(s)": [4], "empty line": [5], "empty source or target": [6]}
    assert report.read == report.kept + report.too_long + sum(map(len, report.skipped.values()))  # nothing silent
    assert str(report).count("1 skipped") == 3 and "line 4" in str(report) and "1 over the length limit" in str(report)
    assert all(isinstance(p, TranslationPair) and p.kind == "sentence" and p.value == p.source for p in pairs)


def test_loader_columns_limit_lowercase_and_no_length_limit(tmp_path):
    tatoeba = "1\tI see you.\t77\tJe te vois.\n2\tGo.\t78\tVa !\n3\tonly three\t79\n"
    pairs, report = load_sentence_pairs(write(tmp_path, tatoeba), columns=(1, 3), lowercase=True, on_error="skip")
    assert [(p.source, p.target) for p in pairs] == [("i see you.", "je te vois."), ("go.", "va !")]
    assert report.skipped == {"3 tab-separated field(s)": [3]}
    pairs, _ = load_sentence_pairs(write(tmp_path, SAMPLE), on_error="skip", max_words=None, limit=3)
    assert len(pairs) == 3
    pairs, report = load_sentence_pairs(write(tmp_path, SAMPLE), on_error="skip", max_words=None)
    assert report.too_long == 0 and len(pairs) == 5


def test_loader_reads_windows_line_endings(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Go.\tVa !\r\nHi.\tSalut !\r\n")
    pairs, _ = load_sentence_pairs(path)
    assert [p.target for p in pairs] == ["Va !", "Salut !"]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"on_error": "ignore"}, ValueError, "on_error"),
        ({"columns": (0, 0)}, ValueError, "two different"),
        ({"columns": (0,)}, ValueError, "two different"),
        ({"max_words": 0}, ValueError, "max_words"),
    ],
)
def test_loader_argument_errors(tmp_path, kwargs, error, words):
    with pytest.raises(error, match=words):
        load_sentence_pairs(write(tmp_path, SAMPLE), **kwargs)


def test_loader_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="tab-separated"):
        load_sentence_pairs(tmp_path / "nope.txt")


def test_normalize_text():
    assert normalize_text("  Salut\u202f!  Ça   va ?\n") == "Salut ! Ça va ?"
    assert normalize_text("Cafe\u0301") == "Café"  # NFC: one code point
    assert normalize_text("Hello World", lowercase=True) == "hello world"
    with pytest.raises(TypeError):
        normalize_text(3)


def test_sentence_splits_keep_every_translation_of_a_source_together(tmp_path):
    lines = [f"Sentence number {i}.\tPhrase numéro {i}.\n" for i in range(300)]
    lines += [f"Sentence number {i}.\tLa phrase {i}.\n" for i in range(300)]  # a second translation of each
    pairs, _ = load_sentence_pairs(write(tmp_path, "".join(lines)))
    splits = split_sentence_pairs(pairs)
    sources = [{p.source.lower() for p in part} for part in splits]
    assert not sources[0] & sources[1] and not sources[0] & sources[2] and not sources[1] & sources[2]
    assert len(splits.train) + 2 * (len(splits.val) + len(splits.test)) == 600
    assert splits.test and all(len(p.references) == 2 for p in splits.val + splits.test)
    with pytest.raises(TypeError, match="TranslationPair"):
        split_sentence_pairs([("a", "b")])


# ---------------------------------------------------------------------------------------- subwords

TEXTS = [say_number(n, "fr") for n in range(0, 3000, 7)]


@pytest.fixture(scope="module")
def vocab():
    return SubwordVocab.train(TEXTS, vocab_size=120)


def test_subword_vocab_keeps_the_course_ids(vocab):
    assert vocab.itos[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"] and (PAD, SOS, EOS, UNK) == (0, 1, 2, 3)
    assert len(vocab) <= 120 and "SubwordVocab(size=" in repr(vocab)


def test_subword_round_trip_and_no_special_ids_from_text(vocab):
    for text in TEXTS[:50] + ["<eos> <pad> <sos>", "sept-cent-douze"]:
        ids = vocab.encode(text)
        assert not {PAD, SOS, EOS} & set(ids), text
        if "<" not in text:
            assert vocab.decode(ids) == text
    assert vocab.encode("sept", add_eos=True)[-1] == EOS
    assert UNK in vocab.encode("ß")  # a character never seen in training


def test_subword_decode_stops_at_eos_and_drops_pad_and_sos(vocab):
    ids = vocab.encode("trois cent")
    assert vocab.decode([SOS] + ids + [EOS] + vocab.encode("sept") + [PAD]) == "trois cent"
    assert vocab.decode(torch.tensor(ids + [EOS, PAD])) == "trois cent"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.decode([len(vocab)])
    with pytest.raises(ValueError, match="1-D"):
        vocab.decode(torch.tensor([ids]))


def test_subwords_split_a_rare_word_into_known_pieces(vocab):
    pieces = vocab.pieces("quatre-vingt-dix-neuf")
    assert len(pieces) > 1 and "".join(pieces).replace("▁", "") == "quatre-vingt-dix-neuf"
    bigger = SubwordVocab.train(TEXTS, vocab_size=200)
    assert len(bigger) > len(vocab)

    def mean_length(v):
        return sum(len(v.encode(t)) for t in TEXTS) / len(TEXTS)

    assert mean_length(bigger) < mean_length(vocab), "a bigger vocabulary gives shorter sequences"


def test_subword_training_is_deterministic_and_can_be_rebuilt_from_bytes(vocab):
    again = SubwordVocab.train(TEXTS, vocab_size=120)
    assert again.itos == vocab.itos
    restored = SubwordVocab(vocab.model_proto)
    assert restored.itos == vocab.itos and restored.encode(TEXTS[5]) == vocab.encode(TEXTS[5])


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: SubwordVocab.train("just one string"), TypeError, "list of strings"),
        (lambda: SubwordVocab.train([]), ValueError, "empty"),
        (lambda: SubwordVocab.train(["a", 3]), TypeError, r"texts\[1\]"),
        (lambda: SubwordVocab.train(["a b"], vocab_size=4), ValueError, "vocab_size"),
        (lambda: SubwordVocab.train(["a b"], model_type="word"), ValueError, "model_type"),
        (lambda: SubwordVocab.train(["a\nb"]), ValueError, "line break"),
        (lambda: SubwordVocab.train(["a\rb"]), ValueError, "line break"),
        (lambda: SubwordVocab(b""), TypeError, "bytes"),
    ],
)
def test_subword_argument_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_subword_encode_and_pieces_take_strings(vocab):
    with pytest.raises(TypeError):
        vocab.encode(["sept"])
    with pytest.raises(TypeError):
        vocab.pieces(7)


# ------------------------------------------------------------------ the module's inputs, checked as a class


def test_a_byte_order_mark_is_not_part_of_the_first_sentence(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes("Go.\tVa !\nHi.\tSalut !\n".encode("utf-8-sig"))
    pairs, _ = load_sentence_pairs(path)
    assert [(p.source, p.target) for p in pairs] == [("Go.", "Va !"), ("Hi.", "Salut !")]
    assert normalize_text("\ufeffHi\u200b.") == "Hi."  # nor anywhere else (a file pasted into another)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"limit": 0}, ValueError, "limit must be at least 1"),
        ({"limit": -1}, ValueError, "limit must be at least 1"),
        ({"limit": 1.5}, TypeError, "limit must be an int"),
        ({"limit": "2"}, TypeError, "limit must be an int"),
        ({"limit": True}, TypeError, "limit must be an int"),
        ({"max_words": 2.5}, TypeError, "max_words must be an int"),
        ({"max_words": "3"}, TypeError, "max_words must be an int"),
        ({"columns": (0, "1")}, TypeError, r"columns\[1\] must be an int"),
        ({"columns": (0, 1.0)}, TypeError, r"columns\[1\] must be an int"),
        ({"columns": (True, 1)}, TypeError, r"columns\[0\] must be an int"),
        ({"columns": (-1, 1)}, ValueError, r"columns\[0\] must be at least 0"),
        ({"columns": 1}, TypeError, "columns must be two field numbers"),
        ({"lowercase": "no"}, TypeError, "lowercase must be True or False"),
        ({"lowercase": 1}, TypeError, "lowercase must be True or False"),
        ({"on_error": True}, ValueError, "on_error must be one of"),
    ],
)
def test_loader_counts_and_flags_are_real_ints_and_bools(tmp_path, kwargs, error, words):
    with pytest.raises(error, match=words):
        load_sentence_pairs(write(tmp_path, SAMPLE), **kwargs)


def test_loader_limit_one_gives_one_pair(tmp_path):
    pairs, report = load_sentence_pairs(write(tmp_path, SAMPLE), on_error="skip", limit=1)
    assert len(pairs) == 1 == report.kept


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: make_translation_splits(1.5, 1, 1), TypeError, "n_train must be an int"),
        (lambda: make_translation_splits(True, 1, 1), TypeError, "n_train must be an int"),
        (lambda: make_translation_splits(5, "1", 1), TypeError, "n_val must be an int"),
        (lambda: make_translation_splits(5, 1, 1, seed="a"), TypeError, "seed must be an int"),
        (lambda: make_translation_splits(5, 1, 1, max_number=10.0), TypeError, "number must be an int"),
        (lambda: split_of_value(3, val_fraction="0.1"), TypeError, "val_fraction must be a number"),
        (lambda: split_of_value(3, test_fraction=True), TypeError, "test_fraction must be a number"),
        (lambda: split_of_value(3, 0.6, 0.5), ValueError, "room for training"),
        (lambda: make_pair(3, rng=7), TypeError, r"rng must be a Random"),
        (lambda: normalize_text("A", lowercase="no"), TypeError, "lowercase must be True or False"),
        (lambda: split_sentence_pairs([], val_fraction=1), ValueError, "val_fraction"),
    ],
)
def test_every_public_function_checks_its_counts_and_flags(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_a_line_that_is_not_utf8_is_named_or_skipped_and_counted(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Go.\tVa !\nCoffee.\tCaf\u00e9.\nHi.\tSalut !\n".encode("utf-8").replace(b"\xc3\xa9", b"\xe9"))
    with pytest.raises(ValueError, match=r"latin1\.txt, line 2: byte 0xe9 at column 12 is not UTF-8.*on_error='skip'"):
        load_sentence_pairs(path)
    pairs, report = load_sentence_pairs(path, on_error="skip")
    assert [p.source for p in pairs] == ["Go.", "Hi."] and report.skipped == {"not UTF-8": [2]}
    assert report.read == report.kept + report.too_long + sum(map(len, report.skipped.values()))
    assert "not UTF-8: line 2" in str(report)


def test_sentence_splits_hash_the_normalised_source():
    """A double space, an NFD accent or a capital must not move a sentence to another split."""
    variants = {}
    for i in range(400):
        spellings = [f"Le café numéro {i}.", f"Le  cafe\u0301 nume\u0301ro {i}. ", f"LE CAFÉ NUMÉRO {i}."]
        for source in spellings:
            variants[source] = i
    pairs = [TranslationPair(s, f"t{k}", (f"t{k}",), "sentence", s) for k, s in enumerate(variants)]
    splits = split_sentence_pairs(pairs)
    where = {}
    for name, part in zip(("train", "val", "test"), splits):
        for pair in part:
            where.setdefault(variants.get(pair.source, variants.get(normalize_text(pair.source))), set()).add(name)
    assert len(where) == 400 and all(len(names) == 1 for names in where.values())
    grouped = [p for p in splits.val + splits.test if p.source.startswith("Le café")]
    assert grouped and all(len(p.references) >= 2 for p in grouped)  # the NFC and the NFD spelling are one


# ------------------------------------------------------------------ subword inputs


def test_subwords_round_trip_the_space_mark_and_spacing():
    texts = ["x\u2581y", "\u2581 alone", "private \ue000 use", "tab\tin", "two  spaces", " lead", "trail "] * 20
    vocab = SubwordVocab.train(texts, vocab_size=60)
    # tabs and line breaks are escaped too (sentencepiece 0.2.0, the floor, turned a tab into an unknown piece);
    # a training text may hold no line break, but a text to encode may
    for text in set(texts) | {"\ue000_", "\u2581\u2581", "\ue000\u2581", "line\nlater", "cr\r\nline\t"}:
        assert vocab.decode(vocab.encode(text)) == text, repr(text)


@pytest.mark.parametrize(
    "ids, error, words",
    [
        ([4.0, 5.0], TypeError, "int token ids"),
        ([4, 5.7], TypeError, "int token ids"),
        ([True], TypeError, "int token ids"),
        ([[4, 5]], TypeError, "for a batch"),
        ("45", TypeError, "one sequence of int ids"),
        (torch.tensor([4.0]), TypeError, "dtype"),
    ],
)
def test_subword_decode_refuses_what_is_not_a_list_of_ids(vocab, ids, error, words):
    with pytest.raises(error, match=words):
        vocab.decode(ids)


def test_subword_decode_takes_numpy_and_tensor_ints(vocab):
    import numpy as np

    ids = vocab.encode("trois cent")
    assert vocab.decode(np.array(ids)) == vocab.decode(torch.tensor(ids, dtype=torch.int32)) == "trois cent"


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: SubwordVocab.train(["", "  "]), ValueError, "empty or blank"),
        (
            lambda: SubwordVocab.train(TEXTS, character_coverage=0.5),
            ValueError,
            r"character_coverage must be in \[0.98, 1\]",
        ),
        (lambda: SubwordVocab.train(TEXTS, character_coverage=1.01), ValueError, "character_coverage"),
        (lambda: SubwordVocab.train(TEXTS, character_coverage="1"), TypeError, "character_coverage must be a number"),
        (lambda: SubwordVocab.train(TEXTS, seed_sentences=50), ValueError, "seed_sentences must be at least 101"),
        (lambda: SubwordVocab.train(TEXTS, seed_sentences=True), TypeError, "seed_sentences must be an int"),
        (lambda: SubwordVocab.train(TEXTS, vocab_size=100.0), TypeError, "vocab_size must be an int"),
        (lambda: SubwordVocab.train(TEXTS, vocab_size=6), ValueError, "sentencepiece could not train.*vocab_size"),
        (lambda: SubwordVocab.train([["a", "b"]]), TypeError, r"texts\[0\] is a list"),
        (lambda: SubwordVocab.train(42), TypeError, "list of strings"),
        (lambda: SubwordVocab(b"not a model"), ValueError, "not a sentencepiece model"),
    ],
)
def test_subword_arguments_are_checked_before_sentencepiece(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_subword_encode_checks_its_flag_and_its_text(vocab):
    with pytest.raises(TypeError, match="add_eos must be True or False"):
        vocab.encode("sept", add_eos="no")
    with pytest.raises(TypeError, match="one sentence at a time"):
        vocab.encode([["sept"]])


# ------------------------------------------------------------------ several references


def test_reference_streams_keep_every_reference_and_pad_with_none():
    pairs = [
        TranslationPair("a", "x", ("x1", "x2", "x3"), "sentence", "a"),
        TranslationPair("b", "y", ("y1",), "sentence", "b"),
    ]
    assert reference_streams(pairs) == [["x1", "y1"], ["x2", None], ["x3", None]]
    for bad, error in (
        ([], ValueError),
        ("ab", TypeError),
        ([("a", "b")], TypeError),
        ([pairs[0]._replace(references=())], ValueError),
    ):
        with pytest.raises(error):
            reference_streams(bad)


def test_reference_streams_score_as_sacrebleu_expects_on_a_known_answer():
    from sacrebleu.metrics import BLEU, CHRF

    middle = "the cat sat quietly on the old mat"
    pairs = [
        TranslationPair(
            "s1", "a", ("a dog ran in the park today", middle, "one more unrelated sentence here"), "sentence", "s1"
        ),
        TranslationPair("s2", "b", ("the weather is nice this morning",), "sentence", "s2"),
    ]
    outputs = [middle, "the weather is nice this morning"]  # each equals one of its references
    streams = reference_streams(pairs)
    assert BLEU().corpus_score(outputs, streams).score == pytest.approx(100.0)
    assert CHRF().corpus_score(outputs, streams).score == pytest.approx(100.0)
    first_and_last = [[p.references[0] for p in pairs], [p.references[-1] for p in pairs]]
    assert BLEU().corpus_score(outputs, first_and_last).score < 100, "dropping the middle reference costs points"
    # None (no reference) is not an empty reference: padding by repeating a reference scores the same
    repeated = [[p.references[min(k, len(p.references) - 1)] for p in pairs] for k in range(3)]
    other = ["a cat sat on the mat", "nice weather"]
    assert BLEU().corpus_score(other, streams).score == pytest.approx(BLEU().corpus_score(other, repeated).score)
    empty = [[r if r is not None else "" for r in stream] for stream in streams]
    assert BLEU().corpus_score(other, empty).score != pytest.approx(BLEU().corpus_score(other, streams).score)
