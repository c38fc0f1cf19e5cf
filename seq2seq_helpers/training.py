"""The training loop every lesson uses: progress bar, learning-rate schedule, clipping, evaluation, history.

The loop knows nothing about seq2seq: ``step_fn(model, batch, step)`` returns the loss of one batch, and
``eval_fn(model)`` returns a dict of metrics. :func:`seq2seq_step` builds the usual ``step_fn``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import _validate
from .data import collate_pairs
from .tokens import PAD, SOS

# ------------------------------------------------------------------------------------------------ progress


@functools.cache
def _transient_notebook_bar_class():
    """tqdm's notebook bar, changed so that closing a ``leave=False`` bar also removes it from the cell's output.

    tqdm closes such a bar's widget but leaves the output pointing at it; JupyterLab saves no state for a
    closed widget, so after saving and reopening the cell shows "Error displaying widget: model not found".
    This bar shows itself through a display handle and, once closed, replaces that display with an empty one.
    """

    class TransientNotebookBar(tqdm):  # tqdm.auto's class: the notebook bar (with its asyncio mix-in)
        def __init__(self, *args, **kwargs):
            kwargs["display"] = False  # shown below, through a handle this bar keeps
            super().__init__(*args, **kwargs)
            self._handle = None
            if not self.disable:
                from IPython.display import display

                # the view's own bundle, published with a display id: ipywidgets 7 (Colab) displays a widget
                # through _ipython_display_, which would publish it without the id this bar updates later
                bundle = {
                    "text/plain": repr(self.container),
                    "application/vnd.jupyter.widget-view+json": {
                        "version_major": 2,
                        "version_minor": 0,
                        "model_id": self.container.model_id,
                    },
                }
                self._handle = display(bundle, raw=True, display_id=True)
                self.displayed = True

        def close(self):
            if self.disable:
                return
            failed = bool(self.total and self.n < self.total)  # tqdm keeps a failed bar (red) on screen
            super().close()
            handle, self._handle = self._handle, None
            if handle is not None and not self.leave and not failed:
                handle.update({"text/plain": ""}, raw=True)

    return TransientNotebookBar


def progress_bar(
    iterable=None, desc: str | None = None, *, total=None, leave: bool = False, disable: bool = False, **options
):
    """A ``tqdm.auto`` progress bar over ``iterable`` (or a manual one of ``total`` steps): a widget in a notebook,
    text in a terminal (``fit``, lesson 03's runs, lesson 07's sweeps).

    ``leave=False`` (the default) removes the bar when it closes. In a notebook it also takes the bar's display
    out of the cell's output, so that a notebook saved after the run never points at a closed widget (which
    JupyterLab shows as "Error displaying widget: model not found"); tqdm's own ``leave=False`` does not.
    Other ``options`` (``mininterval``, ``unit``, ...) go to tqdm as they are.
    """
    from tqdm.notebook import tqdm as notebook_tqdm

    leave = _validate.boolean(leave, "leave")
    disable = _validate.boolean(disable, "disable")
    if desc is not None:
        _validate.string(desc, "desc", "training", allow_empty=True)
    cls = _transient_notebook_bar_class() if not leave and issubclass(tqdm, notebook_tqdm) else tqdm
    return cls(iterable, desc=desc, total=total, leave=leave, disable=disable, **options)


# ------------------------------------------------------------------------------------------------ loss


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, pad_id: int = PAD) -> torch.Tensor:
    """Mean cross-entropy over the real (non-PAD) target tokens (lesson 02 §3 and its exercise 2).

    logits: [batch, tgt_len, vocab] floats, targets: [batch, tgt_len] ids of any integer dtype
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError(
            "masked_cross_entropy takes two tensors: logits [batch, tgt_len, vocab], targets [batch, tgt_len]"
        )
    if not logits.is_floating_point():
        raise TypeError(f"logits must be a float tensor (the model's scores), got dtype {logits.dtype}")
    targets = _validate.integer_dtype(targets, "targets", "integer target ids")
    pad_id = _validate.integer(pad_id, "pad_id", minimum=0)
    if logits.dim() != 3 or targets.dim() != 2 or logits.shape[:2] != targets.shape:
        raise ValueError(
            f"logits must be [batch, tgt_len, vocab] and targets [batch, tgt_len] with the same first two "
            f"sizes; got logits {list(logits.shape)} and targets {list(targets.shape)}"
        )
    if logits.device != targets.device:
        raise ValueError(f"logits are on {logits.device} but targets on {targets.device}; move both to one device")
    if targets.numel() and (int(targets.max()) >= logits.shape[-1] or int(targets.min()) < 0):
        raise ValueError(
            f"targets hold ids outside 0..{logits.shape[-1] - 1}, the model's vocabulary (the last "
            f"dim of logits, {logits.shape[-1]})"
        )
    if not bool((targets != pad_id).any()):
        raise ValueError(
            "every target token is padding (targets == pad_id everywhere): there is nothing to learn from this batch"
        )
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad_id)  # PAD positions ignored


# ----------------------------------------------------------------------------------- optimiser


def adam(params, lr: float = 1e-3, **options) -> torch.optim.Adam:
    """``torch.optim.Adam(params, lr, **options)``, with its fused implementation where this torch has one for
    the parameters' device (CUDA; the CPU from torch 2.4), else torch's default one.

    The algorithm and its hyper-parameters are the same; fused only changes how the update is computed: one
    kernel over all parameters instead of about ten small operations per parameter tensor. For the course's
    small models the optimiser step is a large part of training on a CPU (lesson 01 trains one example per
    step: on lesson 01's model the fused step took about a third of the default one's time, as the micro-benchmark
    in ``scripts/benchmark.py`` measures it). Results agree with the default implementation to float rounding, not bit for bit. Pass
    ``fused=False`` (or ``foreach=...``) to choose yourself.
    """
    params = list(params)  # read twice if the fused optimiser is refused
    if "fused" in options or "foreach" in options:
        return torch.optim.Adam(params, lr=lr, **options)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True, **options)
    except RuntimeError:  # no fused Adam for this device in this torch (the CPU before 2.4; MPS before 2.5)
        return torch.optim.Adam(params, lr=lr, **options)


# ----------------------------------------------------------------------------------- schedules


def cosine_schedule(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int = 0, min_lr_ratio: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up, then cosine decay from the optimizer's learning rate down to ``min_lr_ratio`` of it
    (``fit``'s default schedule, lesson 02 §6)."""
    _validate.instance(optimizer, torch.optim.Optimizer, "optimizer", " such as torch.optim.Adam(model.parameters())")
    total_steps = _validate.integer(total_steps, "total_steps")
    warmup_steps = _validate.integer(warmup_steps, "warmup_steps", minimum=0)
    min_lr_ratio = _validate.number(
        min_lr_ratio, "min_lr_ratio", 0.0, 1.0, hint=" (a fraction of the base learning rate)"
    )
    if warmup_steps >= total_steps:  # the ranges of each alone were checked just above
        raise ValueError(
            f"warmup_steps must be below total_steps (the warm-up ends before training does), "
            f"got total_steps={total_steps}, warmup_steps={warmup_steps}"
        )

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def teacher_forcing_schedule(
    kind: str, total_steps: int | None = None, *, ratio: float = 1.0, k: float | None = None, min_ratio: float = 0.0
) -> Callable[[int], float]:
    """Teacher-forcing ratio as a function of the training step (scheduled sampling, Bengio et al. 2015).

    * ``"constant"``: always ``ratio``;
    * ``"linear"``: ``max(min_ratio, 1 - step / total_steps)``;
    * ``"exponential"``: ``k ** step`` (``0 < k < 1``; defaults so the ratio reaches 0.01 at ``total_steps``);
    * ``"inverse_sigmoid"``: ``k / (k + exp(step / k))`` (``k >= 1``; defaults so the ratio is 0.5 half-way).

    Lesson 03 §3 (scheduled sampling) plots and compares them.
    """
    kinds = ("constant", "linear", "exponential", "inverse_sigmoid")
    if not isinstance(kind, str) or kind not in kinds:
        raise (ValueError if isinstance(kind, str) else TypeError)(
            f"unknown teacher-forcing schedule {kind!r}; choose one of {kinds}"
        )
    if kind == "constant":
        ratio = _validate.number(ratio, "ratio", 0.0, 1.0)
        return lambda step: float(ratio)
    if total_steps is None or isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise (ValueError if total_steps is None or isinstance(total_steps, int) else TypeError)(
            f"the {kind!r} schedule needs total_steps >= 1, got {total_steps!r}"
        )
    min_ratio = _validate.number(min_ratio, "min_ratio", 0.0, 1.0, high_open=True)
    if k is not None:
        k = _validate.number(k, "k")
    if kind == "linear":
        return lambda step: max(min_ratio, 1.0 - step / total_steps)
    if kind == "exponential":
        k = 0.01 ** (1.0 / total_steps) if k is None else k
        if not 0.0 < k < 1.0:
            raise ValueError(f"the exponential schedule needs 0 < k < 1, got {k}")
        return lambda step: max(min_ratio, k**step)
    if k is None:  # ratio 1/2 at total_steps / 2 means k = exp(T / 2k), i.e. k * ln(k) = T / 2: bisect for k
        lo, hi = 1.0, float(total_steps) + 3.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mid * math.log(mid) < total_steps / 2 else (lo, mid)
        k = (lo + hi) / 2
    if k < 1.0:
        raise ValueError(f"the inverse-sigmoid schedule needs k >= 1, got {k}")
    kk = k
    return lambda step: max(min_ratio, kk / (kk + math.exp(min(step / kk, 700.0))))


# ------------------------------------------------------------------------------------------- history


@dataclass
class History:
    """What happened during :func:`fit`, for plots and tables."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)
    tokens: int = 0
    elapsed_s: float = 0.0

    def metric(self, name: str) -> list[float]:
        """Values of one evaluation metric, aligned with ``eval_steps``."""
        _validate.string(name, "name", "exact_match")
        if self.evals and name not in self.evals[-1]:
            raise ValueError(f"no metric {name!r}; evaluation returned {sorted(self.evals[-1])}")
        return [e[name] for e in self.evals]

    @property
    def final(self) -> dict:
        """The last evaluation's metrics (empty if none ran)."""
        return dict(self.evals[-1]) if self.evals else {}

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.elapsed_s if self.elapsed_s > 0 else float("nan")


def _count_tokens(batch) -> int:
    n = getattr(batch, "num_target_tokens", None)
    return int(n) if n is not None else 0


def _model_device(model) -> torch.device | None:
    """Where ``model``'s parameters live (its first one's device), what ``device=None`` means for ``fit`` and
    ``evaluate``; None for a model without parameters (its batches then stay where they are)."""
    parameters = getattr(model, "parameters", None)
    for p in parameters() if callable(parameters) else ():
        return p.device
    return None


def _move(batch, device):
    if device is None:
        return batch
    if hasattr(batch, "to"):
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(_move(b, device) for b in batch)
    return batch


def _batch_stream(batches) -> Iterable:
    """Cycle through a re-iterable (a DataLoader reshuffles each pass) or call ``batches(step)``."""
    if callable(batches) and not hasattr(batches, "__iter__"):
        step = 1  # the same step number fit passes to step_fn for this batch
        while True:
            yield batches(step)
            step += 1
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("the batch source is empty: give fit at least one batch")


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batches,
    steps: int,
    step_fn: Callable,
    *,
    device: torch.device | str | None = None,
    lr_schedule: str | None | torch.optim.lr_scheduler.LRScheduler = "cosine",
    warmup_steps: int = 0,
    clip_grad_norm: float | None = 1.0,
    eval_fn: Callable[[torch.nn.Module], dict] | None = None,
    eval_every: int | None = None,
    log_every: int = 10,
    desc: str = "training",
    progress=True,
) -> History:
    """Train ``model`` for ``steps`` optimizer steps and return a :class:`History`.

    ``batches``: an iterable of batches (cycled; a shuffling DataLoader reshuffles every pass) or a
    function ``step -> batch``. ``step_fn(model, batch, step)`` returns the scalar loss, whose ``backward`` then
    runs; gradients are zeroed before ``step_fn``, so a ``step_fn`` may call ``backward`` on parts of its batch
    itself and return the last part's loss (gradient accumulation, as lesson 07's recipe does). ``lr_schedule``:
    ``"cosine"`` (decay to 0 over ``steps``; what makes 99% reachable quickly on the toy tasks), ``None``
    (constant), or a scheduler you built. ``eval_fn(model)`` runs every ``eval_every`` steps and at the end.
    The progress bar shows step, loss and the latest evaluation, and disappears when training ends.
    ``device``: where each batch is moved first; ``None`` (the default) means the model's device, so a model
    moved to a GPU trains there without naming it again.
    ``progress``: ``True`` (a bar of its own), ``False`` (none), or an open tqdm bar that ``fit`` advances by
    one per step and leaves open, so that several runs share one bar (lesson 03 §4 trains 18 models under one).
    The loop itself is written by hand in lesson 01 §5 before this helper takes it over.
    """
    _validate.instance(model, torch.nn.Module, "model")
    _validate.instance(optimizer, torch.optim.Optimizer, "optimizer", " such as torch.optim.Adam(model.parameters())")
    _validate.integer(steps, "steps")
    _validate.function(step_fn, "step_fn", "(model, batch, step) -> scalar loss tensor")
    _validate.integer(log_every, "log_every")
    if eval_every is not None:
        _validate.integer(eval_every, "eval_every")
    if eval_fn is not None:
        _validate.function(eval_fn, "eval_fn", "(model) -> dict of metrics")
    _validate.integer(warmup_steps, "warmup_steps", minimum=0)
    if clip_grad_norm is not None:
        _validate.number(clip_grad_norm, "clip_grad_norm", 0.0, low_open=True, hint=" (or None for no clipping)")
    device = _validate.device(device) if device is not None else _model_device(model)
    _validate.string(desc, "desc", "training", allow_empty=True)
    outer_bar = None
    if not isinstance(progress, bool):
        if not (callable(getattr(progress, "update", None)) and callable(getattr(progress, "set_postfix", None))):
            raise TypeError(
                f"progress must be True, False, or an open tqdm bar to advance (tqdm(total=...)), "
                f"got {type(progress).__name__}"
            )
        outer_bar = progress
        outer_bar.set_description(desc, refresh=False)  # which run the shared bar is on now
    if isinstance(batches, (str, bytes, torch.Tensor)) or not (callable(batches) or hasattr(batches, "__iter__")):
        raise TypeError(
            f"batches must be an iterable of batches (a list, a DataLoader) or a function step -> batch, "
            f"got {type(batches).__name__}"
        )
    if lr_schedule == "cosine":
        scheduler = cosine_schedule(optimizer, steps, warmup_steps)
    elif lr_schedule is None:
        scheduler = None
    elif isinstance(lr_schedule, str):
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}: use 'cosine', None, or a torch LR scheduler")
    elif not callable(getattr(lr_schedule, "step", None)):
        raise TypeError(f"lr_schedule must be 'cosine', None, or a torch LR scheduler, got {lr_schedule!r}")
    else:
        scheduler = lr_schedule

    history = History()
    stream = _batch_stream(batches)
    bar = outer_bar or progress_bar(total=steps, desc=desc, disable=not progress, mininterval=0.5)
    running, start = None, time.perf_counter()
    try:
        for step in range(1, steps + 1):
            model.train()
            batch = _move(next(stream), device)
            optimizer.zero_grad(set_to_none=True)  # before step_fn, which may accumulate gradients itself
            loss = step_fn(model, batch, step)
            if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
                raise TypeError("step_fn must return the batch's loss as a scalar tensor")
            loss.backward()
            if clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            history.tokens += _count_tokens(batch)

            if step % log_every == 0 or step == steps:
                value = float(loss.detach())
                running = value if running is None else 0.9 * running + 0.1 * value
                history.steps.append(step)
                history.loss.append(value)
                history.lr.append(optimizer.param_groups[0]["lr"])
                bar.set_postfix(
                    loss=f"{running:.4f}",
                    **{k: f"{v:.3f}" for k, v in history.final.items() if isinstance(v, float)},
                    refresh=False,
                )
            if eval_fn is not None and ((eval_every and step % eval_every == 0) or step == steps):
                history.elapsed_s += time.perf_counter() - start
                model.eval()
                with torch.no_grad():
                    metrics = dict(eval_fn(model))
                history.eval_steps.append(step)
                history.evals.append(metrics)
                start = time.perf_counter()  # evaluation time is not training time
            bar.update(1)
    finally:
        if outer_bar is None:
            bar.close()  # an outer bar belongs to the caller, who closes it after the last run
    history.elapsed_s += time.perf_counter() - start
    model.eval()
    return history


def seq2seq_step(teacher_forcing: float | Callable[[int], float] = 1.0) -> Callable:
    """The usual ``step_fn``: masked cross-entropy of ``model(src, src_lengths, tgt, ratio)`` against ``tgt``.

    ``teacher_forcing`` is a ratio or a schedule ``step -> ratio`` (see :func:`teacher_forcing_schedule`);
    lesson 02 §4 uses it with 1.0, lesson 03 §3 with schedules.
    """
    if not callable(teacher_forcing):
        _validate.probability(teacher_forcing, "teacher_forcing", " (or a function step -> ratio)")
    schedule = teacher_forcing if callable(teacher_forcing) else (lambda step: float(teacher_forcing))

    def step_fn(model, batch, step):
        logits = model(batch.src, batch.src_lengths, batch.tgt, teacher_forcing_ratio=schedule(step))
        return masked_cross_entropy(logits, batch.tgt)

    return step_fn


def _decoding():
    from . import decoding  # decoding imports models; keep this module light to import

    return decoding


def stepwise_loss(model, batch, step=None) -> torch.Tensor:
    """Teacher-forced loss computed the slow, explicit way: one ``decode_step`` call per target position.

    This is lesson 01's per-example loop (there with batches of one); it gives the same loss as
    ``masked_cross_entropy(model(src, src_lengths, tgt), tgt)``, which runs the decoder in one call
    (lesson 02 §4 compares the two).
    """
    _validate.implements(model, _decoding().Seq2SeqModel, "model", "a seq2seq model with encode and decode_step")
    for name in ("src", "src_lengths", "tgt"):
        if not hasattr(batch, name):
            raise TypeError(
                f"batch must be a Batch (src, src_lengths, tgt, tgt_lengths) as collate_pairs makes it, "
                f"got {type(batch).__name__}"
            )
    from .models import _Seq2SeqBase, _unchecked_decode_step

    state = model.encode(batch.src, batch.src_lengths)
    tgt, decode_step = batch.tgt, model.decode_step
    if isinstance(model, _Seq2SeqBase):  # the gold tokens checked once here, not at every step
        tgt = _validate.token_ids(tgt, "tgt", model.vocab_size)
        _validate.same_device(model, tgt, "tgt")
        decode_step = _unchecked_decode_step(model)
    prev_tokens = torch.full((tgt.shape[0],), SOS, dtype=torch.long, device=tgt.device)  # [batch]
    all_logits = []
    for t in range(tgt.shape[1]):
        logits, state, _ = decode_step(prev_tokens, state)  # [batch, vocab]
        all_logits.append(logits)
        prev_tokens = tgt[:, t]  # teacher forcing: read the gold token
    return masked_cross_entropy(torch.stack(all_logits, dim=1), tgt)  # logits: [batch, tgt_len, vocab]


def evaluate(
    model, pairs, *, device=None, batch_size: int = 1000, max_len: int | None = None, by_length: bool = False
) -> dict:
    """Greedy-decode ``pairs`` (a list of ``(src, tgt)``) and score them against their targets.

    Returns ``{"exact_match", "token_accuracy"}`` (and ``"by_length"``, keyed by source length, if asked).
    ``max_len`` defaults to the longest target plus 5, so a model that forgets to stop is caught, not cut.
    The batches are built on ``device``; ``None`` (the default) means the model's device.
    Lesson 02 §6 evaluates this way after training.
    """
    from .decoding import greedy_decode  # decoding imports models; keep this module light to import
    from .metrics import accuracy_by_length, exact_match, token_accuracy

    if isinstance(pairs, (str, bytes, torch.Tensor)) or not hasattr(pairs, "__iter__"):
        raise TypeError(f"pairs must be a list of (src, tgt) id-list pairs, got {type(pairs).__name__}")
    pairs = list(pairs)
    if not pairs:
        raise ValueError("evaluate needs at least one (src, tgt) pair")
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"pairs[{i}] is {type(pair).__name__}, expected a (src, tgt) pair of id lists")
    _validate.integer(batch_size, "batch_size")
    _validate.boolean(by_length, "by_length")
    device = _validate.device(device) if device is not None else _model_device(model)
    if max_len is not None:
        _validate.integer(max_len, "max_len")
    if max_len is None:
        max_len = max(len(tgt) for _, tgt in pairs) + 5
    predictions, targets, lengths = [], [], []
    for i in range(0, len(pairs), batch_size):
        batch = collate_pairs(pairs[i : i + batch_size])
        batch = batch.to(device) if device is not None else batch
        result = greedy_decode(model, batch.src, batch.src_lengths, max_len=max_len)
        predictions += result.tokens.tolist()
        targets += batch.tgt.tolist()
        lengths += batch.src_lengths.tolist()
    scores = {"exact_match": exact_match(predictions, targets), "token_accuracy": token_accuracy(predictions, targets)}
    if by_length:
        scores["by_length"] = accuracy_by_length(predictions, targets, lengths)
    return scores
