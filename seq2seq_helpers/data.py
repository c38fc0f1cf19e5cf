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
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple, Sequence

import torch

PAD, SOS, EOS = 0, 1, 2
SPECIAL_TOKENS = ("<pad>", "<sos>", "<eos>")
NUM_SPECIAL = len(SPECIAL_TOKENS)


class Vocab:
    """Maps tokens (strings) to ids and back. Ids 0-2 are always PAD, SOS, EOS.

    >>> v = Vocab("abc")
    >>> v.encode("cab")
    [5, 3, 4]
    >>> v.decode([5, 3, 4, EOS, PAD])
    'cab'
    """

    def __init__(self, tokens: Iterable[str], sep: str = ""):
        tokens = list(tokens)
        if not tokens:
            raise ValueError("a Vocab needs at least one data token")
        for tok in tokens:
            if not isinstance(tok, str) or not tok:
                raise TypeError(f"vocabulary tokens must be non-empty strings, got {tok!r}")
            if tok in SPECIAL_TOKENS:
                raise ValueError(f"{tok!r} is reserved for a special token; choose another name for the data token")
            if sep and sep in tok:
                raise ValueError(f"token {tok!r} contains the separator {sep!r}: text holding it could not be "
                                 "encoded back")
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
        return list(text)

    def encode(self, text: str | Sequence[str], add_eos: bool = False) -> list[int]:
        """Token ids for ``text`` (a string, split by ``sep``, or a list of tokens)."""
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
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"decode takes one sequence (a 1-D tensor); got shape {list(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            i = int(i)
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
        if not 0 <= i < len(self):
            raise ValueError(f"token id {i} is outside the vocabulary (valid ids are 0..{len(self) - 1})")

    @classmethod
    def letters(cls, num_symbols: int) -> "Vocab":
        """A vocabulary of ``num_symbols`` single letters ``a, b, c, ...`` (up to 52, lower then upper case)."""
        alphabet = string.ascii_lowercase + string.ascii_uppercase
        if isinstance(num_symbols, bool) or not isinstance(num_symbols, int):
            raise TypeError(f"num_symbols must be an int, got {type(num_symbols).__name__}")
        if not 1 <= num_symbols <= len(alphabet):
            raise ValueError(f"num_symbols must be between 1 and {len(alphabet)}, got {num_symbols}")
        return cls(alphabet[:num_symbols])


# ---------------------------------------------------------------------------------------------- tasks

TASKS: dict[str, Callable[[list[int]], list[int]]] = {
    "reverse": lambda src: src[::-1],
    "copy": lambda src: list(src),
    "sort": lambda src: sorted(src),
}

SPLITS = ("train", "val", "test")


def split_of(src: Sequence[int], val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """Which split a source sequence belongs to, decided by a stable hash of its ids.

    Every sequence has exactly one split, on every machine and in every run, so a test sequence can
    never be sampled for training, however much training data is drawn.
    """
    ids = [int(t) for t in src]  # a tensor or NumPy row must land in the same split as the same list of ints
    bucket = zlib.crc32(bytes(str(ids), "ascii")) % 10_000 / 10_000
    if bucket < test_fraction:
        return "test"
    if bucket < test_fraction + val_fraction:
        return "val"
    return "train"


@dataclass
class SequenceTask:
    """A toy seq2seq task over a vocabulary: random source sequences, target = ``TASKS[name](src)``.

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
        if not isinstance(self.vocab, Vocab):
            raise TypeError(f"vocab must be a Vocab, got {type(self.vocab).__name__}")
        if self.name not in TASKS:
            raise ValueError(f"unknown task {self.name!r}; choose one of {sorted(TASKS)}")
        for attr in ("min_len", "max_len"):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{attr} must be an int, got {value!r}")
        if self.min_len < 1:
            raise ValueError(f"min_len must be at least 1 (empty sequences have nothing to learn), got {self.min_len}")
        if self.max_len < self.min_len:
            raise ValueError(f"max_len ({self.max_len}) must be >= min_len ({self.min_len})")
        if not (0 <= self.val_fraction < 1 and 0 <= self.test_fraction < 1
                and self.val_fraction + self.test_fraction < 1):
            raise ValueError("val_fraction and test_fraction must be in [0, 1) and leave room for training data")

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
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        if split is not None and split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
        lo = self.min_len if min_len is None else min_len
        hi = self.max_len if max_len is None else max_len
        if lo < 1 or hi < lo:
            raise ValueError(f"need 1 <= min_len <= max_len, got min_len={lo}, max_len={hi}")
        rng = rng or random.Random(seed)
        ids = list(self.vocab.data_ids)
        pairs, seen = [], set()
        attempts, max_attempts = 0, 200 * n + 1000
        while len(pairs) < n:
            attempts += 1
            if attempts > max_attempts:
                raise ValueError(
                    f"could only find {len(pairs)} distinct {split} sequences of lengths {lo}-{hi} over "
                    f"{len(ids)} symbols; ask for fewer, allow longer sequences or use more symbols"
                )
            src = [rng.choice(ids) for _ in range(rng.randint(lo, hi))]
            if split is not None and self.split_of(src) != split:
                continue
            if unique:
                key = tuple(src)
                if key in seen:
                    continue
                seen.add(key)
            pairs.append((src, self.target(src)))
        return pairs


class Splits(NamedTuple):
    train: list
    val: list
    test: list


def make_splits(task: SequenceTask, n_train: int, n_val: int, n_test: int, seed: int = 0) -> Splits:
    """Fixed train / validation / test sets that share no source sequence (see :func:`split_of`).

    Validation and test sets hold distinct sequences; the training set may repeat a sequence, as a
    stream of random examples would.
    """
    rng = random.Random(seed)
    return Splits(
        train=task.sample(n_train, split="train", rng=rng),
        val=task.sample(n_val, split="val", unique=True, rng=rng),
        test=task.sample(n_test, split="test", unique=True, rng=rng),
    )


# -------------------------------------------------------------------------------------------- batches


def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int = PAD) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad id lists to one tensor: returns ``tokens [batch, max_len]`` and ``lengths [batch]``."""
    if isinstance(seqs, torch.Tensor) or isinstance(seqs, (str, bytes)):
        raise TypeError("pad_sequences takes a list of id lists, e.g. [[3, 4], [5]]")
    seqs = [list(s) for s in seqs]
    if not seqs:
        raise ValueError("cannot pad an empty batch: pass at least one sequence")
    for i, s in enumerate(seqs):
        if not s:
            raise ValueError(f"sequence {i} of the batch is empty; every sequence needs at least one token")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    tokens = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return tokens, lengths


class Batch(NamedTuple):
    """A padded batch: ``src [batch, src_len]``, ``src_lengths [batch]``, ``tgt [batch, tgt_len]`` ending in EOS."""

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt: torch.Tensor
    tgt_lengths: torch.Tensor

    def to(self, device) -> "Batch":
        # Lengths stay where they are needed: packing wants them on the CPU, masks build them on the fly.
        return Batch(self.src.to(device), self.src_lengths, self.tgt.to(device), self.tgt_lengths)

    @property
    def num_target_tokens(self) -> int:
        return int(self.tgt_lengths.sum())


def collate_pairs(pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> Batch:
    """``DataLoader`` collate function: pads sources and targets (with EOS appended) of a list of pairs."""
    if not len(pairs):
        raise ValueError("cannot collate an empty batch: pass at least one (src, tgt) pair")
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"item {i} of the batch is {type(pair).__name__}, expected a (src, tgt) pair")
    src, src_lengths = pad_sequences([s for s, _ in pairs])
    tgt, tgt_lengths = pad_sequences([list(t) + [EOS] for _, t in pairs])
    return Batch(src, src_lengths, tgt, tgt_lengths)


def check_tokens(tokens: torch.Tensor, lengths: torch.Tensor | None = None, vocab_size: int | None = None,
                 name: str = "src") -> None:
    """Raise a clear error if ``tokens``/``lengths`` are not a valid padded batch.

    Checks: ``tokens`` is an integer tensor ``[batch, len]``, not empty; ``lengths`` is ``[batch]`` with
    values in ``1..len`` (and the longest equal to ``len``); ids lie in ``0..vocab_size-1``.
    """
    if not isinstance(tokens, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of token ids, got {type(tokens).__name__}")
    if tokens.dtype not in (torch.long, torch.int, torch.int16, torch.int8, torch.uint8):
        raise TypeError(f"{name} must hold integer token ids (torch.long), got dtype {tokens.dtype}")
    if tokens.dim() != 2:
        raise ValueError(f"{name} must have shape [batch, {name}_len], got {list(tokens.shape)}; "
                         "for one sequence use tokens.unsqueeze(0)")
    if tokens.shape[0] == 0 or tokens.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {list(tokens.shape)}): a batch needs at least one token")
    if vocab_size is not None:
        lo, hi = int(tokens.min()), int(tokens.max())
        if lo < 0 or hi >= vocab_size:
            bad = hi if hi >= vocab_size else lo
            raise ValueError(f"{name} holds token id {bad}, outside the vocabulary (valid ids are 0..{vocab_size - 1}); "
                             "was the data encoded with another Vocab?")
    if lengths is not None:
        if not isinstance(lengths, torch.Tensor):
            raise TypeError(f"{name}_lengths must be a torch.Tensor, got {type(lengths).__name__}")
        if lengths.dim() != 1 or lengths.shape[0] != tokens.shape[0]:
            raise ValueError(f"{name}_lengths has shape {list(lengths.shape)} but {name} has {tokens.shape[0]} "
                             f"sequences; expected [{tokens.shape[0]}]")
        if int(lengths.min()) < 1:
            raise ValueError(f"{name}_lengths holds {int(lengths.min())}: every sequence needs at least one token")
        if int(lengths.max()) > tokens.shape[1]:
            raise ValueError(f"{name}_lengths holds {int(lengths.max())} but {name} is only {tokens.shape[1]} "
                             "tokens wide; lengths must not exceed the padded width")
