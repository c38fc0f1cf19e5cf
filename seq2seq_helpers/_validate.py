"""Generic argument checks (scalars, tensors, token ids, lengths, masks, lists), so the model code can read like
its equations. Each model's own contract (its state layout, which encoder fits which decoder) is checked beside
the model, in ``models.py`` and ``transformer.py``; nothing here knows a model's attributes.

One rule everywhere: a **TypeError** when an argument has the wrong type (or dtype), a **ValueError** when it
has the right type but a wrong value (shape, range, emptiness, lengths that contradict the padding, another
device). Every message names the argument, says what was found and how to fix it. Each public helper calls
these in one line, before doing any work; the package's own loops call unchecked private steps instead, on
tensors they produced themselves. A check that reads tensor values reads them once (one host read, which on a
GPU waits for the device), and only an error reads more, to describe itself.

Token ids: every integer dtype works (``torch.uint8`` ... ``torch.int64``); the checks return them as
``torch.long``, what ``nn.Embedding`` and ``cross_entropy`` need (a no-op for ``long`` input). Floats and
bools are refused: ``3.7`` is not a token id.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import torch

from .tokens import NUM_SPECIAL, PAD

# --------------------------------------------------------------------------------------------- scalars


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {list(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__}: {text if len(text) <= 60 else text[:57] + '...'}"


def integer(value, name: str, minimum: int | None = 1, maximum: int | None = None) -> int:
    """An int (not a bool) in ``minimum..maximum``; returns it as a Python int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    if minimum is not None and maximum is not None and not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return int(value)


def number(
    value,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> float:
    """A real number (not a bool, not NaN) in the interval; returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if math.isnan(value) or too_low or too_high:
        if high is None and low is not None:
            interval = f"{'>' if low_open else '>='} {low:g}"
        elif low is None and high is not None:
            interval = f"{'<' if high_open else '<='} {high:g}"
        else:
            interval = (
                f"in {'(' if low_open else '['}{'-inf' if low is None else f'{low:g}'}, "
                f"{'inf' if high is None else f'{high:g}'}{')' if high_open else ']'}"
            )
        raise ValueError(f"{name} must be {interval}{hint}, got {value}")
    return value


def probability(value, name: str, hint: str = "") -> float:
    return number(value, name, 0.0, 1.0, hint=hint)


def dropout(value) -> float:
    return number(value, "dropout", 0.0, 1.0, high_open=True, hint=" (0 = no dropout)")


def boolean(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return value


def string(value, name: str, example: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string such as {example!r}, got {_describe(value)}")
    if not value and not allow_empty:
        raise ValueError(f"{name} is an empty string; pass something such as {example!r}")
    return value


def one_of(value, name: str, choices: Sequence) -> Any:
    if isinstance(value, (list, dict, set, torch.Tensor)) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {_describe(value)}")
    return value


def instance(value, cls, name: str, fix: str = "") -> Any:
    if not isinstance(value, cls):
        kind = cls.__name__ if isinstance(cls, type) else " or ".join(c.__name__ for c in cls)
        raise TypeError(f"{name} must be a {kind}, got {_describe(value)}{fix}")
    return value


def function(value, name: str, signature: str) -> Any:
    if not callable(value):
        raise TypeError(f"{name} must be a function {signature}, got {_describe(value)}")
    return value


def implements(value, protocol, name: str, what: str) -> Any:
    """``value`` has every method of the ``typing.Protocol`` ``protocol`` (runtime-checkable)."""
    if not isinstance(value, protocol):
        members = {
            n
            for base in protocol.__mro__
            if base.__module__ not in ("typing", "builtins")
            for n in [*vars(base), *getattr(base, "__annotations__", {})]
            if not n.startswith("_")
        }
        missing = sorted(n for n in members if not hasattr(value, n))
        raise TypeError(f"{name} must be {what}; {type(value).__name__} has no {', '.join(missing)}")
    return value


def sizes(**named: int) -> None:
    """Model sizes: ``vocab_size`` leaves room for the specials and one data token; the others are >= 1."""
    for name, value in named.items():
        integer(value, name, minimum=NUM_SPECIAL + 1 if name == "vocab_size" else 1)


# --------------------------------------------------------------------------------------------- tensors


def tensor(value, name: str, expected: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor {expected}, got {_describe(value)}")
    return value


def integer_dtype(t: torch.Tensor, name: str, what: str = "integer token ids") -> torch.Tensor:
    """Any integer dtype is accepted and returned as ``torch.long``; floats, bools and complex are refused."""
    if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
        raise TypeError(
            f"{name} must hold {what} (an integer dtype such as torch.long), got dtype {t.dtype}; "
            "a float or bool id is not an id: build the tensor from ints (torch.tensor(ids)), "
            "not by rounding"
        )
    return t.long()


def _ids(tokens, name: str, dims: int) -> torch.Tensor:
    """``token_ids`` without the range check: type, integer dtype, shape, not empty. No host read."""
    shape = f"[batch, {name}_len]" if dims == 2 else "[batch]"
    tokens = integer_dtype(tensor(tokens, name, f"of token ids {shape}"), name)
    if tokens.dim() != dims:
        fix = (
            "for one sequence use tokens.unsqueeze(0)"
            if dims == 2
            else "one token per sequence; for a whole sequence call forward instead of step"
        )
        raise ValueError(f"{name} must have shape {shape}, got {list(tokens.shape)}; {fix}")
    if tokens.numel() == 0:
        raise ValueError(f"{name} is empty (shape {list(tokens.shape)}): a batch needs at least one token")
    return tokens


def _id_range(name: str, vocab_size: int | None, lo: int, hi: int) -> None:
    if lo < 0 and vocab_size is None:
        raise ValueError(f"{name} holds token id {lo}; token ids are never negative")
    if vocab_size is not None:
        if lo < 0 or hi >= vocab_size:
            raise ValueError(
                f"{name} holds token id {hi if hi >= vocab_size else lo}, outside the vocabulary "
                f"(valid ids are 0..{vocab_size - 1}); was the data encoded with another Vocab?"
            )


def token_ids(tokens, name: str, vocab_size: int | None = None, dims: int = 2) -> torch.Tensor:
    """Token ids ``[batch, len]`` (or ``[batch]`` with ``dims=1``), not empty, inside the vocabulary; as long.
    One host read (the smallest and largest id together)."""
    tokens = _ids(tokens, name, dims)
    _id_range(name, vocab_size, *torch.stack([tokens.min(), tokens.max()]).tolist())
    return tokens


def _lengths_form(lengths, name: str, batch: int | None) -> torch.Tensor:
    """``lengths`` without the range check: type, integer dtype, shape ``[batch]``. No host read."""
    lengths = integer_dtype(tensor(lengths, name, "of lengths [batch]"), name, "integer lengths")
    if lengths.dim() != 1 or (batch is not None and lengths.shape[0] != batch):
        expected = "[batch]" if batch is None else f"[{batch}], one length per sequence of the batch"
        raise ValueError(f"{name} has shape {list(lengths.shape)}; expected {expected}")
    return lengths


def _lengths_range(name: str, width: int | None, minimum: int, lo: int, hi: int) -> None:
    if lo < minimum:
        raise ValueError(
            f"{name} holds {lo}: "
            + ("every sequence needs at least one token" if minimum == 1 else "a length is never negative")
        )
    if width is not None and hi > width:
        raise ValueError(
            f"{name} holds {hi} but the tokens are only {width} wide; lengths must not exceed the padded width"
        )


def lengths(lengths, name: str, batch: int | None = None, width: int | None = None, minimum: int = 1) -> torch.Tensor:
    """Lengths ``[batch]`` of an integer dtype, each in ``minimum..width``; returned as long. One host read."""
    lengths = _lengths_form(lengths, name, batch)
    if lengths.numel():
        _lengths_range(name, width, minimum, *torch.stack([lengths.min(), lengths.max()]).tolist())
    return lengths


def padded_batch(tokens, lengths_, vocab_size: int | None = None, name: str = "src", need_lengths: bool = False):
    """``(tokens, lengths)`` as long tensors, after checking that they describe the same padded batch.

    A row's tokens at positions ``< length`` must be real (not PAD) and those at positions ``>= length`` PAD:
    anything else means the lengths belong to other rows (sorted the batch, not the lengths) or the padding
    was built by hand, and the model would silently drop real tokens or read ``<pad>`` as data.

    One host read for the whole check (on a GPU each read waits for the device): the checks that need no
    values come first (types, dtypes, shapes), then the ids' range, the lengths' range and whether any
    position contradicts its length are read together; the details of an error are read only to report it.
    """
    tokens = _ids(tokens, name, dims=2)
    if lengths_ is None and need_lengths:
        raise TypeError(
            f"{name}_lengths must be a torch.Tensor of lengths [batch], got None; pad_sequences and "
            "collate_pairs return them with the tokens"
        )
    if lengths_ is None:
        _id_range(name, vocab_size, *torch.stack([tokens.min(), tokens.max()]).tolist())
        return tokens, None
    lengths_ = _lengths_form(lengths_, f"{name}_lengths", tokens.shape[0])
    positions = torch.arange(tokens.shape[1], device=tokens.device)  # [len]
    on_device = lengths_.to(tokens.device)
    inside = positions.unsqueeze(0) < on_device.unsqueeze(1)  # [batch, len]
    wrong = inside != (tokens != PAD)  # [batch, len]
    lo, hi, shortest, longest, contradiction = torch.stack(
        [tokens.min(), tokens.max(), on_device.min(), on_device.max(), wrong.any().long()]
    ).tolist()  # the one host read
    _id_range(name, vocab_size, lo, hi)
    _lengths_range(f"{name}_lengths", tokens.shape[1], 1, shortest, longest)
    if contradiction:
        row, col = (int(i) for i in wrong.nonzero()[0])
        length = int(lengths_[row])
        found = (
            "holds <pad> (id 0) inside its length"
            if col < length
            else f"holds token id {int(tokens[row, col])} after its length"
        )
        raise ValueError(
            f"{name}_lengths contradicts the padding of {name}: row {row} has {name}_lengths[{row}] = {length} but "
            f"position {col} {found}. Positions < length must hold real tokens and positions >= length <pad>; "
            "if you sorted or shuffled the batch, reorder the lengths with it (or rebuild both with "
            "pad_sequences / collate_pairs)"
        )
    return tokens, lengths_


def device(value, name: str = "device") -> torch.device:
    """A device as ``torch.device`` accepts it: ``'cpu'``, ``'cuda:0'``, a ``torch.device``."""
    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a string such as 'cpu' or a torch.device, got {_describe(value)}")
    try:
        return torch.device(value)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"{name} {value!r} is not a device; use 'cpu', 'cuda', 'cuda:1', 'mps' or get_device()"
        ) from None


def same_device(module, t: torch.Tensor, name: str) -> None:
    for p in module.parameters():
        if t.device != p.device:
            raise ValueError(
                f"{name} is on {t.device} but the model is on {p.device}; move the data to the model's "
                f"device with {name}.to(device) (or the model with model.to(device))"
            )
        return


def float_tensor(value, name: str, shape: Sequence[int | None], what: str) -> torch.Tensor:
    """A float tensor whose shape matches ``shape`` (None = any size)."""
    value = tensor(value, name, what)
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a float tensor {what}, got dtype {value.dtype}")
    if value.dim() != len(shape) or any(s is not None and s != v for s, v in zip(shape, value.shape)):
        want = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        raise ValueError(f"{name} must have shape {want} {what}, got {list(value.shape)}")
    return value


def weights_of(module) -> tuple[torch.dtype | None, torch.device | None]:
    """The dtype and device of a module's (first) parameter, what its inputs must match; ``(None, None)`` for a
    module without parameters."""
    for p in module.parameters():
        return p.dtype, p.device
    return None, None


def _where(where: str) -> str:
    return f"{where}: " if where else ""


def float_tensors(where: str, named: dict, dtype: torch.dtype | None = None) -> None:
    """Tensors of one float dtype, and of ``dtype`` (a module's weights') when given.

    An integer or bool tensor is a TypeError (vectors, not ids); a float64 key beside a float32 query, or a
    float64 input to float32 weights, is a TypeError naming both dtypes and the conversion that fixes it, where
    PyTorch would stop inside a matrix product with a RuntimeError.
    """
    first = None
    for name, t in named.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{_where(where)}{name} must be a torch.Tensor, got {_describe(t)}")
        if not t.is_floating_point():
            raise TypeError(
                f"{_where(where)}{name} must be a float tensor of vectors, got dtype {t.dtype}; token ids go "
                f"through an nn.Embedding first, other numbers can be converted with {name}.float()"
            )
        if first is None:
            first = name, t.dtype
        elif t.dtype != first[1]:
            raise TypeError(
                f"{_where(where)}{first[0]} is {first[1]} but {name} is {t.dtype}; give them one dtype, "
                f"e.g. {name}.to({first[0]}.dtype)"
            )
    if first is not None and dtype is not None and first[1] != dtype:
        raise TypeError(
            f"{_where(where)}{first[0]} is {first[1]} but the module's weights are {dtype}; convert the inputs "
            f"({first[0]}.to({dtype})) or the module (module.to({first[1]}))"
        )


def one_device(where: str, named: dict, device: torch.device | None = None) -> None:
    """Tensors (None entries skipped) on one device, and on ``device`` (a module's weights') when given."""
    first = None
    for name, t in named.items():
        if t is None:
            continue
        if first is None:
            first = name, t.device
        elif t.device != first[1]:
            raise ValueError(
                f"{_where(where)}{first[0]} is on {first[1]} but {name} is on {t.device}; move them to one "
                f"device, e.g. {name}.to({first[0]}.device)"
            )
    if first is not None and device is not None and first[1] != device:
        raise ValueError(
            f"{_where(where)}{first[0]} is on {first[1]} but the module's weights are on {device}; move the "
            "inputs with .to(device) (or the module with module.to(device))"
        )


def batch_shapes(where: str, named: dict) -> torch.Size:
    """The broadcast of the batch shapes ``named`` (name -> torch.Size); a ValueError naming them if they
    do not broadcast (each dimension equal, or 1 in all but one)."""
    try:
        return torch.broadcast_shapes(*named.values())
    except RuntimeError:
        shapes = ", ".join(f"{name} {list(shape)}" for name, shape in named.items())
        raise ValueError(
            f"{_where(where)}the batch dimensions (all but the last two) do not broadcast: {shapes}; give every "
            "tensor the same batch (or size 1 where it is shared)"
        ) from None


def bool_mask(mask, where: str, shape: Sequence[int], layout: str, meaning: str = "True = may attend") -> None:
    """A bool mask that broadcasts to ``shape`` (the attention scores') without growing it.

    ``layout`` names the scores' dimensions and how a common mask is shaped for them, for the message.
    """
    fix = "build it with lengths_to_mask or causal_mask (a 0/1 mask converts with mask.bool())"
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{_where(where)}mask must be a bool torch.Tensor ({meaning}) or None, got {_describe(mask)}")
    if mask.dtype != torch.bool:
        raise TypeError(f"{_where(where)}mask must be a bool tensor ({meaning}), got dtype {mask.dtype}; {fix}")
    try:
        fits = torch.broadcast_shapes(mask.shape, shape) == tuple(shape)
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(
            f"{_where(where)}mask of shape {list(mask.shape)} does not broadcast to the scores' shape "
            f"{list(shape)} {layout}"
        )


# --------------------------------------------------------------------------------------------- masks, rows


def src_mask_(mask, batch: int, src_len: int, where: str) -> None:
    """A padding mask ``[batch, src_len]``, bool, True on real positions, with a real position in every row."""
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        found = f"dtype {mask.dtype}" if isinstance(mask, torch.Tensor) else _describe(mask)
        raise TypeError(
            f"{where}: mask must be a bool tensor (True = real token), got {found}; build it with "
            "lengths_to_mask(src_lengths, src_len)"
        )
    if list(mask.shape) != [batch, src_len]:
        raise ValueError(
            f"{where}: mask has shape {list(mask.shape)} but keys need [batch, src_len] = {[batch, src_len]}"
        )
    if not bool(mask.any(dim=1).all()):
        raise ValueError(f"{where}: a row of mask has no real token; every source sequence needs at least one")


def row_index(index, batch_size: int, keep_size: bool) -> torch.Tensor:
    """A decoder state's ``select``/``reorder`` index: a 1-D long tensor of rows in ``0..batch_size-1``."""
    if not isinstance(index, torch.Tensor) or index.dim() != 1 or index.dtype != torch.long:
        raise TypeError("index must be a 1-D torch.long tensor of row numbers, e.g. torch.tensor([0, 0, 1])")
    if keep_size and index.numel() != batch_size:
        raise ValueError(
            f"reorder keeps the number of rows ({batch_size}), got an index of {index.numel()}; "
            "use select to copy rows into a new batch"
        )
    if index.numel():
        lo, hi = torch.stack([index.min(), index.max()]).tolist()  # one host read
        if lo < 0 or hi >= batch_size:
            raise ValueError(f"index holds rows outside 0..{batch_size - 1}")
    return index


# --------------------------------------------------------------------------------------------- lists


def id_rows(x, name: str) -> list[list[int]]:
    """A ``[batch, len]`` integer tensor or a list of id lists, as a list of lists of ints."""
    if isinstance(x, torch.Tensor):
        integer_dtype(x, name)
        if x.dim() != 2:
            raise ValueError(f"{name} must have shape [batch, len], got {list(x.shape)}")
        return x.tolist()
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(f"{name} must be a [batch, len] tensor or a list of id lists, got {_describe(x)}")
    rows = []
    for i, row in enumerate(x):
        if isinstance(row, torch.Tensor):
            integer_dtype(row, f"{name}[{i}]")
            row = row.tolist() if row.dim() == 1 else row
        elif hasattr(row, "dtype") and hasattr(row, "tolist") and getattr(row, "ndim", 0) == 1:  # a NumPy row
            if row.dtype.kind not in "iu":
                raise TypeError(f"{name}[{i}] must hold integer token ids, got dtype {row.dtype}")
            row = row.tolist()
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise TypeError(
                f"{name} must be a list of id lists such as [[3, 4, 2]], but {name}[{i}] is "
                f"{_describe(row)}; for one sequence wrap it in a list: [{name}]"
            )
        if all(type(t) is int for t in row):  # the common case, without the slower abstract-class checks
            rows.append(list(row))
            continue
        for t in row:
            if isinstance(t, bool) or not isinstance(t, numbers.Integral):
                raise TypeError(f"{name}[{i}] must hold int token ids, got {_describe(t)}")
        rows.append([int(t) for t in row])
    return rows


def real_values(value, name: str, what: str, max_dims: int = 1, allow_bool: bool = False) -> torch.Tensor:
    """Real numbers as a list, tuple, tensor or NumPy array with 1..``max_dims`` axes, not empty, none NaN or
    infinite; returned as a float64 tensor on the CPU. ``what`` says what one number is ("one score per seed").
    Bools are refused unless ``allow_bool`` (a 0/1 outcome per test item may well be ``pred == tgt``)."""
    shape = "[n]" if max_dims == 1 else "[n] or [seeds, n]"
    fix = f"pass {what} as a list of numbers or a 1-D tensor"
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must hold {what}, got {_describe(value)}; {fix}")
    if hasattr(value, "dtype") and hasattr(value, "tolist") and not isinstance(value, torch.Tensor):  # NumPy
        value = value.tolist()  # Python numbers (or lists of them): checked one by one below
    if isinstance(value, torch.Tensor):
        if value.dtype.is_complex or (value.dtype == torch.bool and not allow_bool):
            raise TypeError(f"{name} must hold real numbers ({what}), got dtype {value.dtype}")
        values = value.detach().to("cpu", torch.float64)
    elif isinstance(value, Sequence):
        nested = max_dims > 1 and len(value) > 0 and all(_is_row(row) for row in value)
        rows = value if nested else [value]
        for i, row in enumerate(rows):
            for j, x in enumerate(row.tolist() if isinstance(row, torch.Tensor) else row):
                if (isinstance(x, bool) and not allow_bool) or not isinstance(x, numbers.Real):
                    where = f"{name}[{i}][{j}]" if nested else f"{name}[{j}]"
                    raise TypeError(f"{where} must be a number ({what}), got {_describe(x)}")
        if nested:
            widths = sorted({len(row) for row in value})
            if len(widths) > 1:
                raise ValueError(
                    f"the rows of {name} have different lengths {widths}: each row ({what}) needs one value "
                    "for every test item, the same items in the same order"
                )
            values = torch.tensor([[float(x) for x in row] for row in value], dtype=torch.float64)
        else:
            values = torch.tensor([float(x) for x in value], dtype=torch.float64)
    else:
        raise TypeError(f"{name} must hold {what}, got {_describe(value)}; {fix}")
    if not 1 <= values.dim() <= max_dims:
        raise ValueError(f"{name} must have shape {shape} ({what}), got {list(values.shape)}")
    if values.numel() == 0:
        raise ValueError(f"{name} is empty: it must hold {what}")
    bad = ~torch.isfinite(values)
    if bool(bad.any()):
        where = [int(i) for i in bad.nonzero()[0]]
        index = "".join(f"[{i}]" for i in where)
        raise ValueError(
            f"{name}{index} is {float(values[tuple(where)])}: every value must be a finite number; a NaN or "
            "infinite score usually means a run diverged: rerun it, or leave that run out of both sides"
        )
    return values


def _is_row(row) -> bool:
    return isinstance(row, torch.Tensor) or (isinstance(row, Sequence) and not isinstance(row, (str, bytes)))
