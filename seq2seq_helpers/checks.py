"""Self-checks for learners: one call, one line per aspect, each saying what was compared and how far off it is
(``check_same``: one line per comparison).

    >>> check_mask(padding_mask)
    ✓ returns a tensor on every input
    ✓ dtype torch.bool
    ✓ shape [batch, max_len] on all 5 inputs
    ✗ True exactly on real tokens: lengths [3, 1], max_len 4: 2 of 8 entries differ, first at [0, 3] (got True,
      expected False)

Every check prints its lines and returns ``True`` when every aspect holds, ``False`` otherwise. With
``strict=True`` a failing check raises ``AssertionError`` carrying the same lines instead, so an autograded
test cell can use it directly: ``check_mask(padding_mask, strict=True)``.

The checks never touch the global random state: the inputs they make come from their own seeded generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

import torch

from . import _validate
from .tokens import PAD

__all__ = ["check_same", "check_shape", "check_mask", "check_loss", "check_attention"]

PASS, FAIL = "✓", "✗"


def _options(strict, atol=0.0, rtol=0.0, name="tensor") -> None:
    """The arguments every check shares: ``strict`` a bool, tolerances numbers >= 0, ``name`` a string."""
    _validate.boolean(strict, "strict")
    _validate.number(atol, "atol", 0.0)
    _validate.number(rtol, "rtol", 0.0)
    _validate.string(name, "name", "context")


class _Report:
    """The lines of one check: (ok, text) pairs, printed or raised together."""

    def __init__(self) -> None:
        self.lines: list[tuple[bool, str]] = []

    def add(self, ok: bool, text: str) -> bool:
        self.lines.append((bool(ok), text))
        return bool(ok)

    def text(self) -> str:
        return "\n".join(f"{PASS if ok else FAIL} {text}" for ok, text in self.lines)

    def finish(self, strict: bool) -> bool:
        ok = all(passed for passed, _ in self.lines)
        if strict and not ok:
            raise AssertionError("\n" + self.text())
        print(self.text())
        return ok


def _shape(t) -> list[int]:
    return list(t.shape)


def _fmt(value) -> str:
    """A number or a bool as a learner would write it."""
    if isinstance(value, torch.Tensor):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _index(flat_index: int, shape: Sequence[int]) -> list[int]:
    idx = []
    for size in reversed(shape):
        idx.append(flat_index % size)
        flat_index //= size
    return idx[::-1]


def _compare_values(actual: torch.Tensor, expected: torch.Tensor, atol: float, rtol: float) -> tuple[bool, str]:
    """Compare two tensors of one shape: (ok, what differs and by how much)."""
    a, e = actual.detach().cpu(), expected.detach().cpu()
    if a.numel() == 0:
        return True, "no entries to compare"
    exact = a.dtype in (torch.bool,) or not (a.is_floating_point() or e.is_floating_point())
    if exact:
        differ = a.ne(e.to(a.dtype)) if a.dtype == torch.bool else a.ne(e)
        count = int(differ.sum())
        if count == 0:
            return True, f"all {a.numel()} entries equal"
        first = int(differ.flatten().nonzero()[0])
        where = _index(first, a.shape)
        return False, (
            f"{count} of {a.numel()} entries differ, first at {where} "
            f"(got {_fmt(a.flatten()[first])}, expected {_fmt(e.flatten()[first])})"
        )
    a, e = a.double(), e.double()
    nan_a, nan_e = a.isnan(), e.isnan()
    inf_differs = (a.isinf() | e.isinf()) & (a != e) & ~nan_a & ~nan_e
    non_finite_differs = (nan_a != nan_e) | inf_differs  # NaN where the other has none, or another inf
    if bool(non_finite_differs.any()):
        first = int(non_finite_differs.flatten().nonzero()[0])
        return False, (
            f"non-finite values differ, first at {_index(first, a.shape)} "
            f"(got {_fmt(a.flatten()[first])}, expected {_fmt(e.flatten()[first])})"
        )
    finite = torch.isfinite(a) & torch.isfinite(e)
    diff = torch.where(finite, (a - e).abs(), torch.zeros_like(a))
    worst = int(diff.flatten().argmax())
    max_diff = float(diff.flatten()[worst])
    allowed = atol + rtol * abs(float(e.flatten()[worst]))
    close = bool(torch.where(finite, diff <= atol + rtol * e.abs(), torch.ones_like(finite)).all())
    if close:
        return True, f"max |difference| {max_diff:.2g}"
    detail = (
        f"max |difference| {max_diff:.3g} at {_index(worst, a.shape)} "
        f"(got {_fmt(a.flatten()[worst])}, expected {_fmt(e.flatten()[worst])}; allowed {allowed:.2g})"
    )
    return False, detail


def _as_tensor_like(report: _Report, actual, expected: torch.Tensor, name: str):
    """The learner's value as a tensor (a Python number is fine for a scalar), or None after a ✗ line."""
    if isinstance(actual, torch.Tensor):
        return actual
    if isinstance(actual, (int, float, bool)) and expected.dim() == 0:
        return torch.tensor(actual)
    report.add(False, f"{name}: expected a tensor of shape {_shape(expected)}, got {type(actual).__name__}")
    return None


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def _check_same_into(report: _Report, actual, expected, name: str, atol: float, rtol: float) -> bool:
    """Shape, kind of dtype and values in one line: what was compared when all match, else exactly what differs."""
    expected = expected if isinstance(expected, torch.Tensor) else torch.as_tensor(expected)
    actual = _as_tensor_like(report, actual, expected, name)
    if actual is None:
        return False
    if _shape(actual) != _shape(expected):
        return report.add(False, f"{name}: shape {_shape(actual)}, expected {_shape(expected)}")
    bool_mismatch = (actual.dtype == torch.bool) != (expected.dtype == torch.bool)
    float_mismatch = actual.is_floating_point() != expected.is_floating_point()
    dtype_ok = not (bool_mismatch or float_mismatch)
    values_ok, detail = _compare_values(actual, expected, atol, rtol)
    if dtype_ok and values_ok:
        return report.add(True, f"{name}: shape {_shape(actual)}, {_dtype(actual)}, {detail}")
    differs = [] if dtype_ok else [f"dtype {actual.dtype}, expected {expected.dtype}"]
    differs += [] if values_ok else [f"values differ: {detail}"]
    return report.add(False, f"{name}: " + "; ".join(differs))


# ------------------------------------------------------------------------------------------ public checks


def check_same(
    actual, expected, name: str = "tensor", *, atol: float = 1e-5, rtol: float = 1e-4, strict: bool = False
) -> bool:
    """Compare your tensor with the expected one: shape, kind of dtype (bool / integer / float) and values
    (lesson 04 §1 compares the notebook's attention with the package's; lesson 05 §3 the hand-written beam).

    Float values may differ by ``atol + rtol * |expected|``. One line per comparison: when everything matches,
    what was compared and the largest difference; otherwise exactly what differs (the shape; or the dtype and
    the values, with the largest difference and where).

    >>> check_same(package_context, reference_context, "context")
    ✓ context: shape [4, 1, 16], float32, max |difference| 3.1e-07
    >>> check_same(my_context, reference_context, "context")
    ✗ context: values differ: max |difference| 0.31 at [2, 0, 5] (got 0.12, expected 0.43; allowed 5.4e-05)
    >>> check_same(my_weights, reference_weights, "weights")
    ✗ weights: shape [4, 7], expected [4, 1, 7]
    >>> check_same(my_mask.long(), reference_mask, "mask")
    ✗ mask: dtype torch.int64, expected torch.bool
    """
    _options(strict, atol, rtol, name)
    if not isinstance(expected, torch.Tensor):
        try:
            if expected is None or isinstance(expected, (str, bytes)):
                raise TypeError
            expected = torch.as_tensor(expected)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(
                f"expected must be a tensor (or numbers torch.as_tensor reads), got {type(expected).__name__}"
            ) from None
    if expected.dtype.is_complex:
        raise TypeError("expected must hold real numbers or bools, not complex numbers")
    report = _Report()
    _check_same_into(report, actual, expected, name, atol, rtol)
    return report.finish(strict)


def check_shape(actual, expected: Sequence, name: str = "tensor", *, strict: bool = False) -> bool:
    """Check a tensor's shape; ``None`` in ``expected`` matches any size (for the learner's own shape trails).

    >>> check_shape(encoder_outputs, [batch_size, None, 64], "encoder_outputs")
    ✗ encoder_outputs: shape [4, 7, 32], expected [4, *, 64] (dim 2 differs)
    """
    _options(strict, name=name)
    if isinstance(expected, (str, bytes, torch.Tensor)) or not isinstance(expected, Sequence):
        raise TypeError(f"expected must be a list of sizes (None = any), e.g. [4, None, 64], got {expected!r}")
    for size in expected:
        if size is not None:
            _validate.integer(size, "a size in expected", minimum=0)
    report = _Report()
    want = "[" + ", ".join("*" if s is None else str(s) for s in expected) + "]"
    if not isinstance(actual, torch.Tensor):
        report.add(False, f"{name}: expected a tensor of shape {want}, got {type(actual).__name__}")
        return report.finish(strict)
    got = _shape(actual)
    if len(got) != len(expected):
        report.add(False, f"{name}: shape {got}, expected {want} ({len(got)} dims instead of {len(expected)})")
    else:
        bad = [i for i, (g, e) in enumerate(zip(got, expected)) if e is not None and g != e]
        report.add(not bad, f"{name}: shape {got}" + (f", expected {want} (dim {bad[0]} differs)" if bad else ""))
    return report.finish(strict)


def _call(report: _Report, fn: Callable, args: tuple, label: str):
    """Call the learner's function; an exception becomes a ✗ line instead of a traceback."""
    try:
        return True, fn(*args)
    except NotImplementedError:
        report.add(False, f"{label} raised NotImplementedError: replace `raise NotImplementedError()` with your code")
    except Exception as err:
        report.add(False, f"{label} raised {type(err).__name__}: {err}")
    return False, None


def _reference_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    return torch.arange(max_len).unsqueeze(0) < lengths.unsqueeze(1)  # [batch, max_len], True on real tokens


MASK_CASES = [([3, 1], 4), ([1, 7, 3, 7], 9), ([5, 5], 5), ([1], 1), ([2, 6, 4], 6)]


def check_mask(fn_or_mask, lengths=None, max_len: int | None = None, *, strict: bool = False) -> bool:
    """Check a padding mask: True on real tokens, False on padding, shape [batch, max_len], dtype bool
    (lesson 02, exercise 1).

    ``check_mask(padding_mask)`` calls your function ``padding_mask(lengths, max_len)`` on five batches (with and
    without padding, one row, one token) and compares with the reference. ``check_mask(mask, lengths, max_len)``
    checks one mask you already built.
    """
    _options(strict)
    report = _Report()
    if isinstance(fn_or_mask, torch.Tensor):
        if lengths is None:
            raise TypeError("check_mask(mask, lengths, max_len): give the lengths the mask was built from")
        if not isinstance(lengths, torch.Tensor):
            (lengths,) = _validate.id_rows([lengths], "lengths")
            lengths = torch.tensor(lengths, dtype=torch.long)
        lengths = _validate.lengths(lengths, "lengths", minimum=0)
        if fn_or_mask.dim() == 0:
            raise ValueError("mask must be [batch, max_len], got a 0-d tensor")
        max_len = fn_or_mask.shape[-1] if max_len is None else _validate.integer(max_len, "max_len", minimum=0)
        if lengths.numel() and int(lengths.max()) > max_len:
            raise ValueError(f"lengths holds {int(lengths.max())}, longer than max_len={max_len}")
        cases = [(lengths, max_len, fn_or_mask)]
    elif callable(fn_or_mask):
        cases = []
        for case_lengths, case_max in MASK_CASES:
            case_lengths = torch.tensor(case_lengths)
            ok, mask = _call(
                report,
                fn_or_mask,
                (case_lengths, case_max),
                f"{_name(fn_or_mask)}(lengths={case_lengths.tolist()}, max_len={case_max})",
            )
            if not ok:
                return report.finish(strict)
            cases.append((case_lengths, case_max, mask))
    else:
        raise TypeError(f"check_mask takes your mask function or a mask tensor, got {type(fn_or_mask).__name__}")

    not_tensor = [type(m).__name__ for _, _, m in cases if not isinstance(m, torch.Tensor)]
    if not report.add(
        not not_tensor,
        "returns a tensor" + (f" (got {not_tensor[0]})" if not_tensor else " on every input" if len(cases) > 1 else ""),
    ):
        return report.finish(strict)
    dtypes = sorted({str(m.dtype) for _, _, m in cases})
    report.add(
        dtypes == ["torch.bool"],
        "dtype torch.bool" + ("" if dtypes == ["torch.bool"] else f" expected, got {', '.join(dtypes)}"),
    )
    bad_shape = [(ln, ml, m) for ln, ml, m in cases if _shape(m) != [len(ln), ml]]
    if bad_shape:
        ln, ml, m = bad_shape[0]
        report.add(
            False,
            f"shape {_shape(m)}, expected [batch, max_len] = {[len(ln), ml]} (lengths {ln.tolist()}, max_len {ml})",
        )
        return report.finish(strict)
    report.add(True, "shape [batch, max_len]" + (f" on all {len(cases)} inputs" if len(cases) > 1 else ""))
    for ln, ml, m in cases:
        ok, detail = _compare_values(
            m.detach().cpu().bool() if m.dtype != torch.bool else m.cpu(), _reference_mask(ln.cpu(), ml), 0.0, 0.0
        )
        if not ok:
            report.add(False, f"True exactly on real tokens: lengths {ln.tolist()}, max_len {ml}: {detail}")
            return report.finish(strict)
    report.add(
        True,
        "True exactly on real tokens, False on padding" + (f" on all {len(cases)} inputs" if len(cases) > 1 else ""),
    )
    return report.finish(strict)


def _name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _loss_cases(pad_id: int):
    """(label, logits, targets) batches for check_loss, from a private seeded generator."""
    gen = torch.Generator().manual_seed(0)
    vocab = 11
    full = torch.randint(3, vocab, (3, 5), generator=gen)
    padded = torch.randint(3, vocab, (4, 6), generator=gen)
    padded[0, 2:], padded[1, 5:], padded[3, 1:] = pad_id, pad_id, pad_id
    return [
        ("no padding", torch.randn(3, 5, vocab, generator=gen), full),
        ("with padding", torch.randn(4, 6, vocab, generator=gen), padded),
    ]


def check_loss(
    fn: Callable, reference: Callable | None = None, *, pad_id: int = PAD, atol: float = 1e-5, strict: bool = False
) -> bool:
    """Check a masked loss ``fn(logits [batch, tgt_len, vocab], targets [batch, tgt_len]) -> scalar``
    (lesson 02, exercise 2).

    Compares with the reference (``masked_cross_entropy``: mean cross-entropy over the non-PAD targets) on a
    batch without and with padding, and checks what a masked loss must do: ignore the logits at PAD positions,
    not change when more padding is added, average over real tokens only, and pass gradients to the logits
    (none to PAD positions).
    """
    _validate.function(fn, "fn", "(logits, targets) -> scalar loss")
    if reference is not None:
        _validate.function(reference, "reference", "(logits, targets) -> scalar loss")
    _validate.integer(pad_id, "pad_id", minimum=0)
    _options(strict, atol)
    if reference is None:
        from .training import masked_cross_entropy

        def reference(logits, targets):
            return masked_cross_entropy(logits, targets, pad_id=pad_id)

    report = _Report()
    name = _name(fn)
    cases = _loss_cases(pad_id)

    # 1. a scalar tensor equal to the reference, with and without padding
    results = []
    for label, logits, targets in cases:
        ok, loss = _call(report, fn, (logits.clone(), targets.clone()), f"{name}(logits, targets) [{label}]")
        if not ok:
            return report.finish(strict)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            if isinstance(loss, torch.Tensor):
                report.add(
                    False,
                    f"returns a scalar tensor (shape []), got shape {_shape(loss)} [{label}]: reduce "
                    "it to one number, the sum over real tokens divided by their count",
                )
            else:
                report.add(
                    False,
                    f"returns a scalar tensor, got {type(loss).__name__} [{label}]: return the torch "
                    "tensor itself (no .item() or float()), so that backward() works",
                )
            return report.finish(strict)
        results.append((label, float(loss), float(reference(logits, targets))))
    report.add(True, "returns a scalar tensor")
    worst = max(results, key=lambda r: abs(r[1] - r[2]))
    matches = all(abs(got - want) <= atol + 1e-4 * abs(want) for _, got, want in results)
    report.add(
        matches,
        f"equals the reference on {len(results)} batches"
        if matches
        else f"differs from the reference [{worst[0]}]: got {worst[1]:.6g}, expected {worst[2]:.6g} "
        f"(|difference| {abs(worst[1] - worst[2]):.3g})",
    )

    _, logits, targets = cases[1]
    base = float(reference(logits, targets))
    pad = targets == pad_id  # [batch, tgt_len]

    # 2. logits at PAD positions must not matter
    noisy = logits.clone()
    noisy[pad] = torch.randn(int(pad.sum()), logits.shape[-1], generator=torch.Generator().manual_seed(1)) * 50
    ok, loss = _call(report, fn, (noisy, targets.clone()), f"{name} with other logits at padding")
    if ok:
        diff = abs(float(loss) - float(fn(logits.clone(), targets.clone())))
        report.add(
            diff <= atol,
            "ignores the logits at PAD positions"
            if diff <= atol
            else f"changes by {diff:.3g} when only the logits at PAD positions change: mask them out",
        )

    # 3. more padding at the end must not change the loss
    extra = 3
    wider_logits = torch.cat(
        [logits, torch.randn(logits.shape[0], extra, logits.shape[-1], generator=torch.Generator().manual_seed(2))],
        dim=1,
    )
    wider_targets = torch.cat([targets, torch.full((targets.shape[0], extra), pad_id)], dim=1)
    ok, loss = _call(report, fn, (wider_logits, wider_targets), f"{name} with {extra} more PAD columns")
    if ok:
        diff = abs(float(loss) - base)
        same = diff <= atol + 1e-4 * abs(base)
        report.add(
            same,
            f"unchanged by {extra} extra PAD columns"
            if same
            else f"changes from {base:.6g} to {float(loss):.6g} with {extra} extra PAD columns: divide by the "
            "number of real tokens, not by all positions",
        )

    # 4. gradients reach the logits of real tokens, and none reach PAD positions
    leaf = logits.clone().requires_grad_(True)
    ok, loss = _call(report, fn, (leaf, targets.clone()), f"{name}(...).backward()")
    if ok:
        try:
            loss.backward()
        except Exception as err:
            report.add(False, f"backward() failed: {type(err).__name__}: {err} (keep the computation in torch)")
        else:
            grad = leaf.grad
            if grad is None:
                report.add(
                    False, "no gradient reaches the logits (was the loss built outside torch, e.g. with .item()?)"
                )
            else:
                leak = float(grad[pad].abs().max()) if bool(pad.any()) else 0.0
                real = float(grad[~pad].abs().max())
                report.add(
                    leak == 0.0 and real > 0,
                    "gradients reach real tokens only"
                    if leak == 0.0 and real > 0
                    else f"gradient on PAD positions up to {leak:.3g} (should be 0)"
                    if leak
                    else "no gradient reaches the real tokens",
                )
    return report.finish(strict)


def _attention_inputs(query_dim: int, key_dim: int):
    gen = torch.Generator().manual_seed(0)
    lengths = torch.tensor([7, 5, 3, 1])
    src_len = 7
    query = torch.randn(4, 1, query_dim, generator=gen)  # [batch, 1, query_dim]: one decoder step
    keys = torch.randn(4, src_len, key_dim, generator=gen)  # [batch, src_len, key_dim]
    mask = _reference_mask(lengths, src_len)  # [batch, src_len]
    keys = keys.masked_fill(~mask.unsqueeze(-1), 0.0)  # padding rows of an encoder's output are 0 after unpacking
    return query, keys, mask


def _check_weights_into(report: _Report, weights, mask: torch.Tensor, tgt_len: int | None, atol: float) -> None:
    """The aspects of attention weights on their own: shape, finite, >= 0, sum to 1 over real, 0 on padding."""
    batch, src_len = mask.shape
    expected = f"[{batch}, {'tgt_len' if tgt_len is None else tgt_len}, {src_len}]"
    if not isinstance(weights, torch.Tensor):
        report.add(False, f"weights: expected a tensor {expected}, got {type(weights).__name__}")
        return
    shape = _shape(weights)
    shape_ok = (
        len(shape) == 3 and shape[0] == batch and shape[2] == src_len and (tgt_len is None or shape[1] == tgt_len)
    )
    hint = f", expected {expected}" + (
        " (keep the tgt_len dim: weights.unsqueeze(1))" if shape == [batch, src_len] else ""
    )
    report.add(shape_ok, f"shape {shape}" + ("" if shape_ok else hint))
    if shape[0] != batch or shape[-1] != src_len or not weights.is_floating_point():
        report.add(False, f"cannot read the weights as [batch={batch}, ..., src_len={src_len}] floats")
        return
    w = weights.detach().cpu().double().reshape(batch, -1, src_len)  # [batch, tgt_len, src_len]
    m = mask.cpu().unsqueeze(1).expand_as(w)  # [batch, tgt_len, src_len]
    finite = bool(torch.isfinite(w).all())
    report.add(
        finite,
        "no NaN or inf"
        if finite
        else f"{int((~torch.isfinite(w)).sum())} weights are NaN or inf (a row with every score -inf?)",
    )
    if not finite:
        return
    lowest = float(w.min())
    report.add(
        lowest >= -atol,
        "weights are >= 0" if lowest >= -atol else f"a weight is {lowest:.3g}; softmax weights are never negative",
    )
    sums = (w * m).sum(-1)  # [batch, tgt_len]
    off = float((sums - 1).abs().max())
    worst_sum = float(sums.flatten()[(sums - 1).abs().flatten().argmax()])
    report.add(
        off <= 1e-4,
        "weights sum to 1 over real positions" + (f" (a row sums to {worst_sum:.4f})" if off > 1e-4 else ""),
    )
    on_pad = float((w * ~m).abs().max()) if bool((~m).any()) else 0.0
    report.add(
        on_pad <= atol,
        "padding gets 0"
        if on_pad <= atol
        else f"padding gets up to {on_pad:.3g}; set padded scores to -inf before the softmax",
    )


def check_attention(
    weights_or_fn,
    mask: torch.Tensor | None = None,
    *,
    keys: torch.Tensor | None = None,
    context: torch.Tensor | None = None,
    reference: Callable | None = None,
    query_dim: int | None = None,
    key_dim: int | None = None,
    atol: float = 1e-5,
    strict: bool = False,
) -> bool:
    """Check attention weights, or a whole attention function (lesson 04 §1 and exercise 1).

    ``check_attention(weights, mask)``: weights ``[batch, tgt_len, src_len]`` against the mask ``[batch,
    src_len]`` (True on real tokens): shape, no NaN, >= 0, sum to 1 over real positions, 0 on padding; with
    ``keys=`` and ``context=`` also that ``context = weights @ keys``.

    ``check_attention(my_attention)``: calls ``my_attention(query [4, 1, H], keys [4, 7, H], mask [4, 7])``
    (lengths 7, 5, 3, 1), which returns ``(context, weights)`` like the package's attention modules, checks the
    same aspects, that garbage in the padded keys changes nothing, and with ``reference=`` (a module or
    function with the same call) that the results agree.
    """
    _options(strict, atol)
    for name, dim in (("query_dim", query_dim), ("key_dim", key_dim)):
        if dim is not None:
            _validate.integer(dim, name)
    if reference is not None:
        _validate.function(reference, "reference", "(query, keys, mask) -> (context, weights)")
    report = _Report()
    if isinstance(weights_or_fn, torch.Tensor):
        if mask is None:
            raise TypeError("check_attention(weights, mask): give the mask [batch, src_len] too (True = real token)")
        _validate.tensor(mask, "mask", "[batch, src_len], True on real tokens")
        if mask.dim() != 2:
            raise ValueError(f"mask must be [batch, src_len], got shape {list(mask.shape)}")
        for name, t in (("keys", keys), ("context", context)):
            if t is not None:
                _validate.float_tensor(t, name, [mask.shape[0], None, None], "[batch, len, dim]")
        _check_weights_into(report, weights_or_fn, mask.bool(), None, atol)
        if keys is not None and context is not None and isinstance(weights_or_fn, torch.Tensor):
            w = weights_or_fn.detach().reshape(mask.shape[0], -1, mask.shape[1])
            _check_same_into(
                report,
                context.detach().reshape(w.shape[0], w.shape[1], -1),
                torch.bmm(w, keys.detach()),
                "context = weights @ keys",
                atol,
                1e-4,
            )
        return report.finish(strict)
    if not callable(weights_or_fn):
        raise TypeError(
            f"check_attention takes weights and a mask, or your attention function; got {type(weights_or_fn).__name__}"
        )

    fn, name = weights_or_fn, _name(weights_or_fn)
    q_dim = query_dim or getattr(fn, "query_dim", None) or key_dim or getattr(fn, "key_dim", None) or 8
    k_dim = key_dim or getattr(fn, "key_dim", None) or q_dim
    query, keys_in, mask_in = _attention_inputs(q_dim, k_dim)

    def run(q, k, m, label):
        ok, out = _call(report, fn, (q, k, m), f"{name}(query {_shape(q)}, keys {_shape(k)}, mask {_shape(m)}){label}")
        if not ok:
            return None
        if isinstance(out, (tuple, list)) and len(out) == 2:
            return out[0], out[1]
        report.add(False, f"{name} should return (context, weights), got {type(out).__name__}")
        return None

    with torch.no_grad():
        out = run(query, keys_in, mask_in, "")
        if out is None:
            return report.finish(strict)
        ctx, w = out
        _check_weights_into(report, w, mask_in, 1, atol)
        if all(ok for ok, _ in report.lines):
            w3 = w.reshape(4, 1, -1).double()
            want_ctx = torch.bmm(w3, keys_in.double())  # [batch, 1, key_dim]
            if isinstance(ctx, torch.Tensor) and ctx.numel() == want_ctx.numel():
                _check_same_into(report, ctx.reshape(want_ctx.shape), want_ctx, "context = weights @ keys", atol, 1e-4)
            else:
                got = _shape(ctx) if isinstance(ctx, torch.Tensor) else type(ctx).__name__
                report.add(False, f"context: shape {got}, expected {_shape(want_ctx)}")

        # garbage in the padded keys must change nothing
        noisy_keys = keys_in.clone()
        garbage_gen = torch.Generator().manual_seed(3)
        noisy_keys[~mask_in] = 100 * torch.randn(int((~mask_in).sum()), k_dim, generator=garbage_gen)
        noisy = run(query, noisy_keys, mask_in, " with garbage in the padded keys")
        if noisy is not None and isinstance(noisy[1], torch.Tensor) and isinstance(w, torch.Tensor):
            same = (
                noisy[1].shape == w.shape
                and bool(torch.allclose(noisy[1], w, atol=atol))
                and isinstance(noisy[0], torch.Tensor)
                and noisy[0].shape == ctx.shape
                and bool(torch.allclose(noisy[0], ctx, atol=atol))
            )
            report.add(
                same,
                "padded keys do not matter"
                if same
                else "the result changes when only padded keys change: padding leaks into the attention",
            )

        if reference is not None:
            ref = reference(query, keys_in, mask_in)
            _check_same_into(report, w, ref[1], "weights match the reference", atol, 1e-4)
            _check_same_into(report, ctx, ref[0], "context matches the reference", atol, 1e-4)
    return report.finish(strict)
