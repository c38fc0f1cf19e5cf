"""Lesson 07's corpus of human translations (seq2seq_helpers.corpora), on catalogs these tests write into wheels
of their own; one test downloads the real wheels when SEQ2SEQ_DOWNLOAD_TESTS=1."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections import Counter

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from seq2seq_helpers import corpora
from seq2seq_helpers.corpora import (
    DROP_REASONS,
    CorpusPair,
    DownloadError,
    Provenance,
    WheelSource,
    fetch_wheel,
    load_corpus,
    normalize,
    placeholders,
    read_wheel,
    split_corpus,
    split_key,
    split_of,
    wheel_source,
)

NBSP, NNBSP = "\u00a0", "\u202f"

# One catalog with one entry of every kind the loader keeps or leaves out; the counts below are read off it.
PO = f"""\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

msgid "Save"
msgstr "Enregistrer"

msgctxt "verb"
msgid "Save"
msgstr "Sauvegarder"

msgid "Are you  sure?\\n"
msgstr "Êtes-vous{NNBSP}sûr  ?"

#, fuzzy
msgid "Delete"
msgstr "Supprimer"

msgid "%(count)s file"
msgid_plural "%(count)s files"
msgstr[0] "%(count)s fichier"
msgstr[1] "%(count)s fichiers"

msgid "Untranslated sentence"
msgstr ""

msgid "   "
msgstr "x"

msgid "%(a)s: %(b)s"
msgstr "%(a)s{NBSP}: %(b)s"

msgid "A rather long sentence of seven words."
msgstr "Une phrase assez longue de sept mots."

#~ msgid "Old"
#~ msgstr "Vieux"
"""
KEPT = {("Save", "Enregistrer"), ("Save", "Sauvegarder"), ("Are you sure?", f"Êtes-vous{NBSP}sûr ?")}
LONG = ("A rather long sentence of seven words.", "Une phrase assez longue de sept mots.")
EXPECTED_DROPS = {"fuzzy": 1, "plural": 1, "untranslated": 1, "empty": 1, "no letters": 1}

# A second catalog in the same wheel repeats one pair (a duplicate) and adds one.
PO_JS = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
PO_JS += 'msgid "Save"\nmsgstr "Enregistrer"\n\nmsgid "Cancel"\nmsgstr "Annuler"\n'


def make_wheel(cache, package, version, files: dict[str, bytes | str]):
    """A wheel (a zip) named as pip names it, holding ``files``; returns its path."""
    cache.mkdir(parents=True, exist_ok=True)
    name = f"{package.replace('-', '_').lower()}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(cache / name, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data.encode("utf-8") if isinstance(data, str) else data)
    return cache / name


def gettext_source(package="fakepkg", version="1.0", locale="fr"):
    return WheelSource("fake", package, version, "BSD-3-Clause", "gettext", locale)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the network was used: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)


@pytest.fixture
def fake(tmp_path, no_network):
    """A cache holding one gettext wheel (two catalogs for fr, one for de) and one JupyterLab-style pack."""
    cache = tmp_path / "cache"
    make_wheel(
        cache,
        "fakepkg",
        "1.0",
        {
            "fakepkg/locale/fr/LC_MESSAGES/django.po": PO,
            "fakepkg/locale/fr/LC_MESSAGES/django.mo": b"not read: the .po beside it is",
            "fakepkg/locale/fr/LC_MESSAGES/djangojs.po": PO_JS,
            "fakepkg/locale/de/LC_MESSAGES/django.po": 'msgid "Save"\nmsgstr "Speichern"\n',
            "fakepkg/templates/fr/not_a_catalog.po": "garbage",
        },
    )
    return cache


def test_pairs_drops_and_provenance_from_a_gettext_wheel(fake):
    pairs, report = load_corpus("fr", [gettext_source()], cache_dir=fake, max_words=6)
    found = {(p.source, r) for p in pairs for r in p.references}
    assert found == KEPT | {("Cancel", "Annuler")}
    (source,) = report.sources
    assert source.catalogs == 2 and source.entries == 9 + 2  # the header is metadata, not an entry
    assert source.dropped == {**EXPECTED_DROPS, "too long": 1, "duplicate": 1}
    assert source.entries == source.pairs + sum(source.dropped.values()), "every entry is kept or counted"
    assert report.pairs == len(found) and report.items == len(pairs) == 3
    assert set(source.dropped) <= set(DROP_REASONS) and "fuzzy" in str(report) and "BSD-3-Clause" in str(report)

    save = next(p for p in pairs if p.source == "Save")
    assert save.references == ("Enregistrer", "Sauvegarder") and save.target == "Enregistrer"
    assert save.kind == "sentence" and save.value == "Save" and save.licences == ("BSD-3-Clause",)
    first, second = save.provenance
    files = {p.file for p in first}  # the duplicate in djangojs.po is kept once, with both provenances
    assert files == {"fakepkg/locale/fr/LC_MESSAGES/django.po", "fakepkg/locale/fr/LC_MESSAGES/djangojs.po"}
    assert second == (Provenance("fakepkg", "1.0", "fakepkg/locale/fr/LC_MESSAGES/django.po", "verb", "BSD-3-Clause"),)

    pairs, report = load_corpus("fr", [gettext_source()], cache_dir=fake, min_words=2)
    assert {p.source for p in pairs} == {"Are you sure?", LONG[0]}
    assert report.sources[0].dropped["too short"] == 4  # Save twice, Save again in djangojs.po, Cancel


def test_a_language_is_one_knob(fake):
    pairs, report = load_corpus("de", [gettext_source(locale="de")], cache_dir=fake)
    assert [(p.source, p.target) for p in pairs] == [("Save", "Speichern")] and report.language == "de"


def test_the_same_pair_from_two_packages_is_one_item_with_both_provenances(fake):
    make_wheel(fake, "otherpkg", "2.0", {"otherpkg/locale/fr/LC_MESSAGES/messages.po": PO_JS})
    other = WheelSource("other", "otherpkg", "2.0", "MIT", "gettext", "fr")
    pairs, report = load_corpus("fr", [gettext_source(), other], cache_dir=fake)
    cancel = next(p for p in pairs if p.source == "Cancel")
    assert {p.package for p in cancel.provenance[0]} == {"fakepkg", "otherpkg"}
    assert cancel.licences == ("BSD-3-Clause", "MIT")
    assert report.shared == 2 and report.pairs == sum(s.pairs for s in report.sources) - report.shared


def test_a_mo_catalog_is_read_where_no_po_sits_beside_it(tmp_path, no_network):
    catalog = Catalog(locale="fr")
    catalog.add("Open", "Ouvrir")
    catalog.add("Close", "Fermer", context="window")
    catalog.add(("%d item", "%d items"), ("%d élément", "%d éléments"))
    catalog.add("Draft", "Brouillon", flags=["fuzzy"])  # write_mo leaves fuzzy entries out, as msgfmt does
    mo = io.BytesIO()
    write_mo(mo, catalog)
    make_wheel(tmp_path, "mopkg", "1.0", {"mopkg/locale/fr/LC_MESSAGES/m.mo": mo.getvalue()})
    pairs, report = load_corpus("fr", [gettext_source("mopkg")], cache_dir=tmp_path)
    assert {(p.source, p.target) for p in pairs} == {("Open", "Ouvrir"), ("Close", "Fermer")}
    assert next(p for p in pairs if p.source == "Close").provenance[0][0].context == "window"
    assert report.sources[0].dropped == {"plural": 1}


def jupyterlab_source(locale="fr_FR"):
    return WheelSource("jl", "jlpack", "4.0", "BSD-3-Clause", "jupyterlab-json", locale)


def test_jupyterlab_json_catalogs_join_context_and_message(tmp_path, no_network):
    catalog = {
        "": {"domain": "jupyterlab", "language": "fr-FR", "plural_forms": "nplurals=2; plural=(n > 1);"},
        "Open": ["Ouvrir"],
        "menu\x04Open": ["Ouvrir le menu"],
        "%1 Item": ["%1 élément", "%1 éléments"],
        "Nothing yet": [""],
    }
    make_wheel(tmp_path, "jlpack", "4.0", {"jlpack/locale/fr_FR/LC_MESSAGES/jupyterlab.json": json.dumps(catalog)})
    pairs, report = load_corpus("fr", [jupyterlab_source()], cache_dir=tmp_path)
    (item,) = pairs
    assert item.source == "Open" and item.references == ("Ouvrir", "Ouvrir le menu")
    assert [p[0].context for p in item.provenance] == [None, "menu"]
    assert report.sources[0].dropped == {"plural": 1, "untranslated": 1} and report.sources[0].entries == 4


def test_a_plural_with_one_form_is_found_by_the_mo_beside_the_json(tmp_path, no_network):
    """Japanese has one plural form: in the JSON a plural entry looks like any other; the .mo tells."""
    catalog = {"": {"plural_forms": "nplurals=1; plural=0;"}, "%1 Item": ["%1 個の項目"], "Open": ["開く"]}
    mo_catalog = Catalog(locale="ja")
    mo_catalog.add(("%1 Item", "%1 Items"), ("%1 個の項目",))
    mo_catalog.add("Open", "開く")
    mo = io.BytesIO()
    write_mo(mo, mo_catalog)
    base = "jlpack/locale/ja_JP/LC_MESSAGES/jupyterlab"
    make_wheel(tmp_path, "jlpack", "4.0", {f"{base}.json": json.dumps(catalog), f"{base}.mo": mo.getvalue()})
    pairs, report = load_corpus("ja", [jupyterlab_source("ja_JP")], cache_dir=tmp_path)
    assert [p.source for p in pairs] == ["Open"] and report.sources[0].dropped == {"plural": 1}


@pytest.mark.parametrize(
    "files, words",
    [
        ({"p/locale/fr/LC_MESSAGES/a.json": "{not json"}, r"a\.json.*not valid UTF-8 JSON"),
        ({"p/locale/fr/LC_MESSAGES/a.json": "[1, 2]"}, r"a\.json.*a JSON catalog is an object"),
        ({"p/locale/fr/LC_MESSAGES/a.json": '{"Open": "Ouvrir"}'}, r"'Open' must map to a list of strings"),
        ({"p/locale/de_DE/LC_MESSAGES/a.json": "{}"}, r"no jupyterlab-json catalog for locale 'fr'.*de_DE"),
    ],
)
def test_malformed_json_catalogs_name_the_file(tmp_path, no_network, files, words):
    make_wheel(tmp_path, "p", "1", files)
    source = WheelSource("p", "p", "1", "BSD-3-Clause", "jupyterlab-json", "fr")
    with pytest.raises(ValueError, match=words):
        load_corpus("fr", [source], cache_dir=tmp_path)


def test_a_bad_po_line_is_reported_and_its_entry_counted(tmp_path, no_network):
    po = 'msgid "Open"\nmsgstr "Ouvrir"\n\ngarbage here\n\nmsgid "Close\nmsgstr "Fermer"\n\nmsgid "Cut"\nmsgstr "Couper"\n'
    make_wheel(tmp_path, "p", "1", {"p/locale/fr/LC_MESSAGES/a.po": po})
    pairs, report = load_corpus("fr", [gettext_source("p", "1")], cache_dir=tmp_path)
    (source,) = report.sources
    assert "p/locale/fr/LC_MESSAGES/a.po, line 4: " in source.problems[0]  # the garbage line, named
    # babel reads 'msgid "Close' (no closing quote) as "Clos": the entry is left out, counted, its line named
    assert "a.po, line 6: a string without its closing quote" in source.problems[1]
    assert [p.source for p in pairs] == ["Open", "Cut"]
    assert source.dropped == {"unreadable": 1} and source.entries == source.pairs + 1
    assert "problem" in str(report)


@pytest.mark.parametrize(
    "data, words",
    [
        (b'msgid "caf\xe9"\nmsgstr "x"\n', r"a\.po in p-1-py3-none-any\.whl: not a readable catalog"),
        (b"\x00\x01 binary", None),  # babel reads nothing and says so: reported, no pair
    ],
)
def test_an_unreadable_po_raises_naming_the_file_or_is_reported(tmp_path, no_network, data, words):
    make_wheel(tmp_path, "p", "1", {"p/locale/fr/LC_MESSAGES/a.po": data})
    if words is None:
        pairs, report = load_corpus("fr", [gettext_source("p", "1")], cache_dir=tmp_path)
        assert pairs == [] and report.sources[0].problems
        return
    with pytest.raises(ValueError, match=words) as error:
        load_corpus("fr", [gettext_source("p", "1")], cache_dir=tmp_path)
    assert "delete" in str(error.value)


def test_a_missing_catalog_or_a_broken_wheel_says_what_to_do(tmp_path, no_network):
    make_wheel(tmp_path, "p", "1", {"p/locale/de/LC_MESSAGES/a.po": PO_JS, "p/locale/es/LC_MESSAGES/a.po": PO_JS})
    with pytest.raises(ValueError, match=r"no gettext catalog for locale 'fr'.*its locales are de, es"):
        load_corpus("fr", [gettext_source("p", "1")], cache_dir=tmp_path)
    (tmp_path / "q-1-py3-none-any.whl").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a wheel.*delete it"):
        load_corpus("fr", [gettext_source("q", "1")], cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="fetch_wheel"):
        read_wheel(tmp_path / "nowhere.whl", gettext_source())


# ------------------------------------------------------------------------------------------ downloads


def test_a_cached_wheel_is_used_without_the_network(fake):
    assert fetch_wheel(gettext_source(), fake) == fake / "fakepkg-1.0-py3-none-any.whl"


def test_a_failed_pip_names_the_package_the_version_and_the_cause(tmp_path, monkeypatch):
    calls = []

    def failing_pip(command, **kwargs):
        calls.append(command)
        stderr = "WARNING: Retrying ...\nERROR: Could not find a version\nERROR: No matching distribution found\n"
        return subprocess.CompletedProcess(command, 1, "", stderr)

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(DownloadError, match=r"Django==5\.2\.20 \(exit 1\)[\s\S]*No matching distribution"):
        load_corpus("fr", ["django"], cache_dir=tmp_path / "cache")
    (command,) = calls
    assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command and "--only-binary=:all:" in command
    assert command[-1] == "Django==5.2.20" and not list((tmp_path / "cache").glob("*.whl"))


def test_pip_against_an_index_without_the_package_fails_clearly(tmp_path):
    """A real pip run, isolated from this machine's pip configuration, against an empty local index."""
    index = tmp_path / "index"
    index.mkdir()
    with pytest.raises(DownloadError, match=r"Sphinx==9\.0\.4[\s\S]*No matching distribution[\s\S]*by hand"):
        fetch_wheel(wheel_source("sphinx"), tmp_path / "cache", index_url=index.as_uri())


def test_the_cache_folder_follows_the_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(corpora.CACHE_ENV, str(tmp_path / "env"))
    assert corpora.default_cache_dir() == tmp_path / "env"
    monkeypatch.delenv(corpora.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert corpora.default_cache_dir() == tmp_path / "xdg" / "seq2seq-course" / "wheels"


def test_every_language_names_a_pinned_wheel_per_source():
    for lang, locale in corpora.LANGUAGES.items():
        for name in corpora.SOURCES:
            source = wheel_source(name, lang)
            assert "==" not in source.version and source.version == corpora.PINS[name][1]
            assert source.locale == (locale if source.format == "jupyterlab-json" else lang)
    assert wheel_source("jupyterlab", "ja").package == "jupyterlab-language-pack-ja-JP"


# ------------------------------------------------------------------------------------------ text and splits


def test_normalize_keeps_french_no_break_spaces_in_one_form():
    assert normalize("  Fichier\u202f:  «\u00a0texte\u00a0» \n suite\t") == f"Fichier{NBSP}: «{NBSP}texte{NBSP}» suite"
    assert normalize("Cafe\u0301\u200b") == "Café" and normalize(" \u00a0 ") == ""
    assert normalize(f"a {NBSP} b") == f"a{NBSP}b"  # a run holding a no-break space stays one


def test_placeholders_are_a_multiset():
    text = "%(name)s has %d of %s, {0} {name} {} {0:.2f} %1 %1$s %.2f; 100%% {{literal}} 50 % de"
    assert placeholders(text) == Counter(
        ["%(name)s", "%d", "%s", "{0}", "{name}", "{}", "{0:.2f}", "%1", "%1$s", "%.2f"]
    )
    assert placeholders("%s and %s") == Counter({"%s": 2}) != placeholders("%s")
    assert placeholders("Archive %1") == placeholders("%1 Archive") and not placeholders("no placeholder: 5%")
    with pytest.raises(TypeError, match="text"):
        placeholders(["%s"])


def test_near_duplicates_share_a_split_key_and_a_split():
    variants = ["Delete %(name)s?", "delete {0}?", "DELETE  %s?", "Delete\u00a0{name}?"]
    assert len({split_key(v) for v in variants}) == 1
    assert len({split_of(v) for v in variants}) == 1
    assert split_key("Delete a file?") != split_key("Delete %s?")


def test_split_is_leak_free_and_near_the_fractions_asked():
    sources = [f"{word} item number {i} %s" for i in range(1500) for word in ("Open", "open", "OPEN")]
    pairs = [CorpusPair(s, "x", ("x",), "sentence", s, ((),)) for s in sources]
    splits = split_corpus(pairs, val_fraction=0.2, test_fraction=0.1)
    keys = [{split_key(p.source) for p in part} for part in splits]
    assert not keys[0] & keys[1] and not keys[0] & keys[2] and not keys[1] & keys[2]
    assert sum(map(len, splits)) == len(pairs)
    assert abs(len(splits.val) / len(pairs) - 0.2) < 0.04 and abs(len(splits.test) / len(pairs) - 0.1) < 0.03


def test_the_split_hash_does_not_change_between_processes():
    """Python's hash() of a string is salted per process; the split must not be."""
    sources = [f"sentence {i}" for i in range(40)]
    code = f"from seq2seq_helpers.corpora import split_of; print([split_of(s) for s in {sources!r}])"
    env = dict(os.environ, PYTHONHASHSEED=str(hash("a") % 1000 + 1))  # another salt than this process's
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str([split_of(s) for s in sources])


# ------------------------------------------------------------------------------------------ arguments


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"lang": "xx"}, ValueError, r"lang must be one of \('fr', 'de', 'es', 'ja'\).*WheelSource"),
        ({"lang": 3}, TypeError, "lang must be a str"),
        ({"sources": "django"}, TypeError, r"non-empty list.*sources=\['django', 'sphinx'\]"),
        ({"sources": []}, TypeError, "non-empty list"),
        ({"sources": ["gramps"]}, ValueError, "source must be one of"),
        ({"sources": [3]}, TypeError, "each source must be a WheelSource"),
        ({"sources": ["django", "django"]}, ValueError, "twice"),
        ({"min_words": 0}, ValueError, "min_words must be at least 1"),
        ({"min_words": True}, TypeError, "min_words must be an int"),
        ({"min_words": 3, "max_words": 2}, ValueError, "max_words must be at least 3"),
        ({"max_words": 2.5}, TypeError, "max_words must be an int"),
        ({"cache_dir": 3}, TypeError, "cache_dir must be a str or PathLike"),
        ({"index_url": ""}, ValueError, "index_url is an empty string"),
    ],
)
def test_load_corpus_argument_errors(tmp_path, no_network, kwargs, error, words):
    kwargs.setdefault("cache_dir", tmp_path)
    with pytest.raises(error, match=words):
        load_corpus(**kwargs)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: split_corpus([("a", "b")]), TypeError, r"pairs\[0\] must be a CorpusPair"),
        (lambda: split_corpus("abc"), TypeError, "list of CorpusPair"),
        (lambda: split_corpus([], val_fraction=0.6, test_fraction=0.5), ValueError, "room for training"),
        (lambda: split_of("a", test_fraction=1.0), ValueError, "test_fraction"),
        (lambda: fetch_wheel("django"), TypeError, r"wheel_source\(name, lang\)"),
        (lambda: wheel_source("django", "xx"), ValueError, "lang must be one of"),
        (lambda: normalize(None), TypeError, "text must be a str"),
    ],
)
def test_other_argument_errors(no_network, call, error, words):
    with pytest.raises(error, match=words):
        call()


# ------------------------------------------------------------------------------------------ the real wheels


@pytest.mark.skipif(
    os.environ.get("SEQ2SEQ_DOWNLOAD_TESTS") != "1",
    reason="downloads four wheels (about 22 MB) from PyPI; run with SEQ2SEQ_DOWNLOAD_TESTS=1 to include it",
)
@pytest.mark.parametrize("lang", list(corpora.LANGUAGES))
def test_the_real_wheels_give_a_corpus(lang, capsys):
    pairs, report = load_corpus(lang)
    with capsys.disabled():
        print(f"\n{report}")
    assert [s.source.name for s in report.sources] == list(corpora.SOURCES)
    for source in report.sources:
        assert source.pairs > 0 and source.entries == source.pairs + sum(source.dropped.values()), source
    assert report.items == len(pairs) and {lic for p in pairs for lic in p.licences} <= {"BSD-2-Clause", "BSD-3-Clause"}
    assert all(p.target in p.references and p.source == normalize(p.source) for p in pairs)
    keys = [{split_key(p.source) for p in part} for part in split_corpus(pairs)]
    assert not keys[0] & keys[1] and not keys[0] & keys[2] and not keys[1] & keys[2]
