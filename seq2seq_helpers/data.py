"""Vocabularies, toy tasks, leak-free splits and padding.

Conventions used across the course:

* ids ``PAD=0``, ``SOS=1``, ``EOS=2`` are reserved; data tokens start at ``3``, so a special token can
  never collide with a data token;
* a pair is ``(src, tgt)``, two lists of data-token ids *without* SOS/EOS; :func:`collate_pairs` appends
  EOS to the target, and the model prepends SOS when it feeds the decoder;
* tensors are batch-first: ``tokens [batch, max_len]`` with ``lengths [batch]``.
"""

from __future__ import annotations

import random
import string
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch

from . import _validate
from ._sampling import REJECTED, sample_until
from .tokens import EOS, NUM_SPECIAL, PAD, SOS, SPECIAL_TOKENS  # noqa: F401  (lessons import them from here too)


class Vocab:
    """Maps tokens (strings) to ids and back. Ids 0-2 are always PAD, SOS, EOS (lesson 01 §2).

    ``sep`` joins tokens into text and splits text into tokens: ``""`` for characters, ``" "`` for words.
    Every text ``decode`` writes, ``encode`` reads back as the same ids, so a token may not contain ``sep``
    nor end with the start of a multi-character ``sep`` (``"a-"`` with ``sep="--"`` would split wrongly).

    >>> v = Vocab("abc")
    >>> v.encode("cab")
    [5, 3, 4]
    >>> v.decode([5, 3, 4, EOS, PAD])
    'cab'
    """

    def __init__(self, tokens: Iterable[str], sep: str = ""):
        sep = _validate.string(sep, "sep", " ", allow_empty=True)
        if isinstance(tokens, (str, bytes)) and sep:
            raise TypeError(
                f"tokens must be a list of strings when sep={sep!r}, got the string {tokens!r}; "
                f"pass {tokens.split(sep) if isinstance(tokens, str) else 'a list'}"
            )
        if isinstance(tokens, torch.Tensor) or not isinstance(tokens, Iterable):
            raise TypeError(
                f"tokens must be an iterable of strings such as 'abc' or ['cat', 'dog'], got {type(tokens).__name__}"
            )
        tokens = list(tokens)
        if not tokens:
            raise ValueError("a Vocab needs at least one data token")
        for tok in tokens:
            if not isinstance(tok, str) or not tok:
                raise TypeError(f"vocabulary tokens must be non-empty strings, got {tok!r}")
            if tok in SPECIAL_TOKENS:
                raise ValueError(f"{tok!r} is reserved for a special token; choose another name for the data token")
            if sep and sep in tok:
                raise ValueError(
                    f"token {tok!r} contains the separator {sep!r}: text holding it could not be encoded back"
                )
            clash = [sep[:i] for i in range(1, len(sep)) if tok.endswith(sep[:i])]
            if clash:
                raise ValueError(
                    f"token {tok!r} ends with {clash[-1]!r}, the start of the separator {sep!r}: "
                    f"{tok!r} + {sep!r} + the next token would split in the wrong place, so decoded "
                    "text could not be encoded back; choose a separator that no token ends into"
                )
            if sep == "" and len(tok) != 1:
                raise ValueError(
                    f"token {tok!r} has several characters but sep='' splits text into single characters; "
                    "pass sep=' ' for word tokens"
                )
        if len(set(tokens)) != len(tokens):
            dupes = sorted({t for t in tokens if tokens.count(t) > 1})
            raise ValueError(f"duplicate tokens in the vocabulary: {dupes}")
        self.sep = sep
        self.itos: list[str] = list(SPECIAL_TOKENS) + tokens
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        shown = self.itos[NUM_SPECIAL : NUM_SPECIAL + 8]
        more = "..." if len(self.itos) > NUM_SPECIAL + 8 else ""
        return f"Vocab(size={len(self)}, specials={list(SPECIAL_TOKENS)}, data={shown}{more})"

    @property
    def data_ids(self) -> range:
        """Ids of the data tokens (everything but the specials)."""
        return range(NUM_SPECIAL, len(self))

    def tokenize(self, text: str | Sequence[str]) -> list[str]:
        if isinstance(text, str):
            return list(text) if self.sep == "" else text.split(self.sep)
        if isinstance(text, (bytes, torch.Tensor)) or not isinstance(text, Sequence):
            raise TypeError(
                f"text must be a string or a list of tokens, got {type(text).__name__}; "
                "to turn ids into text use decode"
            )
        return list(text)

    def encode(self, text: str | Sequence[str], add_eos: bool = False) -> list[int]:
        """Token ids for ``text`` (a string, split by ``sep``, or a list of tokens)."""
        _validate.boolean(add_eos, "add_eos")
        ids = []
        for tok in self.tokenize(text):
            if tok not in self.stoi or self.stoi[tok] < NUM_SPECIAL:
                known = "".join(self.itos[NUM_SPECIAL:]) if self.sep == "" else self.itos[NUM_SPECIAL:]
                raise ValueError(f"token {tok!r} is not in the vocabulary; known tokens: {known}")
            ids.append(self.stoi[tok])
        if add_eos:
            ids.append(EOS)
        return ids

    def decode(self, ids: Iterable[int] | torch.Tensor, stop_at_eos: bool = True, keep_specials: bool = False) -> str:
        """Readable text for ``ids``: stops at the first EOS and drops PAD/SOS unless told otherwise."""
        _validate.boolean(stop_at_eos, "stop_at_eos")
        _validate.boolean(keep_specials, "keep_specials")
        if isinstance(ids, torch.Tensor):
            _validate.integer_dtype(ids, "ids")
            if ids.dim() != 1:
                raise ValueError(f"ids: decode takes one sequence (a 1-D tensor); got shape {list(ids.shape)}")
            ids = ids.tolist()
        (ids,) = _validate.id_rows([ids], "ids")
        out = []
        for i in ids:
            self.check_id(i)
            if i == EOS and stop_at_eos:
                if keep_specials:
                    out.append(self.itos[i])
                break
            if i < NUM_SPECIAL and not keep_specials:
                continue
            out.append(self.itos[i])
        # Specials like "<eos>" are several characters long: show them space-separated.
        joiner = " " if keep_specials and not self.sep else self.sep
        return joiner.join(out)

    def check_id(self, i: int) -> None:
        _validate.integer(i, "token id", minimum=None)
        if not 0 <= i < len(self):
            raise ValueError(f"token id {i} is outside the vocabulary (valid ids are 0..{len(self) - 1})")

    @classmethod
    def letters(cls, num_symbols: int) -> Vocab:
        """A vocabulary of ``num_symbols`` single letters ``a, b, c, ...`` (up to 52, lower then upper case)."""
        alphabet = string.ascii_lowercase + string.ascii_uppercase
        return cls(alphabet[: _validate.integer(num_symbols, "num_symbols", 1, len(alphabet))])


# ---------------------------------------------------------------------------------------------- tasks

TASKS: dict[str, Callable[[list[int]], list[int]]] = {
    "reverse": lambda src: src[::-1],
    "copy": lambda src: list(src),
    "sort": lambda src: sorted(src),
}

SPLITS = ("train", "val", "test")


def _fractions(val_fraction, test_fraction) -> None:
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        _validate.number(value, name, 0.0, 1.0, high_open=True)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction = {val_fraction + test_fraction} leaves no training data; "
            "keep their sum below 1"
        )


def split_of(src: Sequence[int], val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """Which split a source sequence belongs to, decided by a stable hash of its ids.

    Every sequence has exactly one split, on every machine and in every run, so a test sequence can
    never be sampled for training, however much training data is drawn (lesson 01 §2).
    """
    _fractions(val_fraction, test_fraction)
    if isinstance(src, torch.Tensor):
        _validate.integer_dtype(src, "src")
        src = src.tolist()
    # a NumPy row must land in the same split as the same list of ints (the ids are hashed as text)
    (ids,) = _validate.id_rows([src], "src")
    return _split_of_ids(ids, val_fraction, test_fraction)


def _split_of_ids(ids: list[int], val_fraction: float, test_fraction: float) -> str:
    """:func:`split_of` for a list of ints and checked fractions (SequenceTask.sample's own draws)."""
    bucket = zlib.crc32(bytes(str(ids), "ascii")) % 10_000 / 10_000
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + val_fraction:
        return "val"
    return "train"


@dataclass
class SequenceTask:
    """A toy seq2seq task over a vocabulary: random source sequences, target = ``TASKS[name](src)`` (lesson 01 §2).

    >>> task = SequenceTask(Vocab.letters(10), "reverse", min_len=3, max_len=5)
    >>> src, tgt = task.sample(1, seed=0)[0]
    >>> tgt == src[::-1]
    True
    """

    vocab: Vocab
    name: str = "reverse"
    min_len: int = 3
    max_len: int = 10
    val_fraction: float = 0.1
    test_fraction: float = 0.1

    def __post_init__(self):
        _validate.instance(self.vocab, Vocab, "vocab")
        _validate.one_of(self.name, "name (the task)", sorted(TASKS))
        _validate.integer(self.min_len, "min_len")
        _validate.integer(self.max_len, "max_len")
        if self.max_len < self.min_len:
            raise ValueError(f"max_len ({self.max_len}) must be >= min_len ({self.min_len})")
        _fractions(self.val_fraction, self.test_fraction)

    def target(self, src: Sequence[int]) -> list[int]:
        return TASKS[self.name](list(src))

    def split_of(self, src: Sequence[int]) -> str:
        return split_of(src, self.val_fraction, self.test_fraction)

    def sample(
        self,
        n: int,
        seed: int | None = None,
        split: str | None = "train",
        unique: bool = False,
        min_len: int | None = None,
        max_len: int | None = None,
        rng: random.Random | None = None,
    ) -> list[tuple[list[int], list[int]]]:
        """``n`` random (src, tgt) pairs whose sources belong to ``split`` (``None``: any split).

        Lengths are uniform in ``[min_len, max_len]`` (the task's range unless overridden); ``unique=True``
        returns distinct sources and raises ``ValueError`` if the split cannot supply that many.
        """
        _validate.integer(n, "n", minimum=0)
        if split is not None:
            _validate.one_of(split, "split", SPLITS + (None,))
        _validate.boolean(unique, "unique")
        lo = self.min_len if min_len is None else _validate.integer(min_len, "min_len")
        hi = self.max_len if max_len is None else _validate.integer(max_len, "max_len")
        if hi < lo:
            raise ValueError(f"need min_len <= max_len, got min_len={lo}, max_len={hi}")
        if rng is not None:
            _validate.instance(rng, random.Random, "rng", " (or leave it out and pass seed)")
        elif seed is not None:
            _validate.integer(seed, "seed", minimum=0)
        rng = rng or random.Random(seed)
        ids = list(self.vocab.data_ids)

        def draw():
            src = [rng.choice(ids) for _ in range(rng.randint(lo, hi))]
            if split is not None and _split_of_ids(src, self.val_fraction, self.test_fraction) != split:
                return REJECTED
            return src

        def fail(found, draws):
            return (
                f"could only find {found} distinct {split} sequences of lengths {lo}-{hi} over {len(ids)} symbols "
                f"in {draws:,} draws; ask for fewer, allow longer sequences or use more symbols"
            )

        return sample_until(n, draw, fail, key=tuple if unique else None, keep=lambda src: (src, self.target(src)))


class Splits(NamedTuple):
    train: list
    val: list
    test: list


def make_splits(task: SequenceTask, n_train: int, n_val: int, n_test: int, seed: int = 0) -> Splits:
    """Fixed train / validation / test sets that share no source sequence (see :func:`split_of`).

    Validation and test sets hold distinct sequences; the training set may repeat a sequence, as a
    stream of random examples would.
    """
    _validate.instance(task, SequenceTask, "task")
    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        _validate.integer(value, name, minimum=0)
    rng = random.Random(_validate.integer(seed, "seed", minimum=0))
    return Splits(
        train=task.sample(n_train, split="train", rng=rng),
        val=task.sample(n_val, split="val", unique=True, rng=rng),
        test=task.sample(n_test, split="test", unique=True, rng=rng),
    )


# -------------------------------------------------------------------------------------------- batches


def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int = PAD) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad id lists to one tensor: returns ``tokens [batch, max_len]`` and ``lengths [batch]`` (lesson 02 §1)."""
    if isinstance(seqs, torch.Tensor) or isinstance(seqs, (str, bytes)) or not isinstance(seqs, Iterable):
        raise TypeError(f"pad_sequences takes a list of id lists, e.g. [[3, 4], [5]], got {type(seqs).__name__}")
    pad_id = _validate.integer(pad_id, "pad_id", minimum=0)
    seqs = _validate.id_rows(list(seqs), "seqs")
    if not seqs:
        raise ValueError("cannot pad an empty batch: pass at least one sequence")
    for i, s in enumerate(seqs):
        if not s:
            raise ValueError(f"sequence {i} of the batch is empty; every sequence needs at least one token")
        if min(s) < 0:
            raise ValueError(f"sequence {i} holds the id {min(s)}: token ids are never negative")
    return _pad(seqs, pad_id)


def _pad(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """pad_sequences for checked, non-empty lists of ints: one tensor built from the padded lists."""
    width = max(len(s) for s in seqs)
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    tokens = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], dtype=torch.long)
    return tokens, lengths


class Batch(NamedTuple):
    """A padded batch: ``src [batch, src_len]``, ``src_lengths [batch]``, ``tgt [batch, tgt_len]`` ending in EOS."""

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt: torch.Tensor
    tgt_lengths: torch.Tensor

    def to(self, device) -> Batch:
        # Lengths stay where they are needed: packing wants them on the CPU, masks build them on the fly.
        return Batch(self.src.to(device), self.src_lengths, self.tgt.to(device), self.tgt_lengths)

    @property
    def num_target_tokens(self) -> int:
        return int(self.tgt_lengths.sum())


def collate_pairs(pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> Batch:
    """``DataLoader`` collate function: pads sources and targets (with EOS appended) of a list of pairs
    (lesson 02 §4)."""
    if isinstance(pairs, (str, bytes, torch.Tensor)) or not isinstance(pairs, Sequence):
        raise TypeError(f"collate_pairs takes a list of (src, tgt) pairs, got {type(pairs).__name__}")
    if not len(pairs):
        raise ValueError("cannot collate an empty batch: pass at least one (src, tgt) pair")
    srcs, tgts = [], []
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"item {i} of the batch is {type(pair).__name__}, expected a (src, tgt) pair")
        src, tgt = _validate.id_rows(list(pair), f"pairs[{i}]")
        if not src:
            raise ValueError(f"sequence {i} of the batch is empty; every sequence needs at least one token")
        if min(src, default=0) < 0 or min(tgt, default=0) < 0:
            bad = min(src + tgt)
            raise ValueError(f"pairs[{i}] holds the id {bad}: token ids are never negative")
        srcs.append(src)
        tgts.append(tgt + [EOS])
    src, src_lengths = _pad(srcs, PAD)
    tgt, tgt_lengths = _pad(tgts, PAD)
    return Batch(src, src_lengths, tgt, tgt_lengths)


def check_tokens(
    tokens: torch.Tensor, lengths: torch.Tensor | None = None, vocab_size: int | None = None, name: str = "src"
) -> None:
    """Raise a clear error if ``tokens``/``lengths`` are not a valid padded batch.

    Checks: ``tokens`` is a tensor ``[batch, len]`` of any integer dtype, not empty; ids lie in
    ``0..vocab_size-1``; ``lengths`` is ``[batch]`` with values in ``1..len``, and agrees with the padding:
    a row's positions ``< length`` hold real tokens, the others PAD.
    """
    if vocab_size is not None:
        _validate.integer(vocab_size, "vocab_size")
    _validate.padded_batch(tokens, lengths, vocab_size, name)
