"""Pictures a learner would rather look at than read: training curves and accuracy by length."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt

from . import _validate
from .training import History

# Lesson 06 writes dates in Japanese and Korean; matplotlib's DejaVu Sans has no CJK glyphs (empty boxes). The
# package ships a small subset of Noto Sans CJK (SIL OFL 1.1, see fonts/OFL.txt; made by scripts/make_cjk_font.py)
# with exactly the characters the dates use, and adds it to matplotlib's font families as a fallback: a glyph
# DejaVu Sans lacks is drawn from it, everything else looks as before.
CJK_FAMILY = "Seq2seq Course CJK"
CJK_FONT = Path(__file__).resolve().parent / "fonts" / "Seq2seqCourseCJK-Regular.otf"


def use_cjk_fallback() -> None:
    """Register the course's CJK font with matplotlib and append it to `font.family` (idempotent)."""
    import matplotlib
    from matplotlib import font_manager

    if not CJK_FONT.exists():
        return
    if CJK_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(CJK_FONT))
    families = list(matplotlib.rcParams["font.family"])
    if CJK_FAMILY not in families:
        matplotlib.rcParams["font.family"] = [*families, CJK_FAMILY]


use_cjk_fallback()


def _axes(ax) -> None:
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()) or None, got {type(ax).__name__}")


def _title(title) -> None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}")


def _names(metrics) -> tuple[str, ...]:
    if isinstance(metrics, str) or not isinstance(metrics, (tuple, list)):
        raise TypeError(f"metrics must be a tuple of metric names such as ('exact_match',), got {metrics!r}")
    return tuple(_validate.string(m, "metrics", "exact_match") for m in metrics)


def _check_histories(histories) -> dict[str, History]:
    if isinstance(histories, History):
        return {"model": histories}
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("pass a History, or a dict {label: History} to compare runs")
    for label, h in histories.items():
        if not isinstance(h, History):
            raise TypeError(f"{label!r} maps to {type(h).__name__}, expected a History returned by fit()")
    return dict(histories)


# One colour-blind-safe palette for every figure of the course (Okabe & Ito, "Color Universal Design"): blue,
# vermillion, bluish green, reddish purple, sky blue, orange, yellow; distinguishable with every common form of
# colour blindness, and in the order that keeps the first pairs far apart. Lessons draw their own plots with it too.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#F0E442")


def running_mean(values, window: int) -> list[float]:
    """Trailing mean of the last ``window`` values at each point (fewer at the start), so the smoothed curve
    starts where the raw one does and never looks ahead."""
    window = _validate.integer(window, "window")
    values = [float(v) for v in values]
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _full_scale(ax, top: float = 1.0) -> None:
    """A metric on its full scale, 0 to `top` (small gaps are not blown up), with room above `top` so that points
    at 100% are drawn whole, clear of the frame and the title."""
    ax.set_ylim(0.0, 1.05 * top)
    ax.set_yticks([top * i / 5 for i in range(6)])


def _scale_of(values) -> float | None:
    """The full scale of a metric from its values: 1 for fractions, 100 for percentages and scores such as BLEU
    and chrF, None (let matplotlib choose) for anything else."""
    values = [v for v in values if v == v]  # NaN (not measured) says nothing about the scale
    if values and min(values) < 0:
        return None
    if not values or max(values) <= 1.0:
        return 1.0
    return 100.0 if max(values) <= 100.0 else None


def _legend_outside(ax) -> None:
    """The legend to the right of the axes, never on top of the data."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)


def plot_history(
    histories, metrics: tuple[str, ...] = ("exact_match",), title: str | None = None, smooth: int | None = None
):
    """Training loss (log scale) and evaluation metrics over steps, for one run or several ``{label: History}``.

    The loss is drawn faintly as logged, with its running mean over ``smooth`` logged values on top (default:
    a twentieth of the run; ``smooth=1`` draws the raw curve alone). Metrics keep their full range (0-1 for
    fractions, 0-100 for scores such as BLEU and chrF), and points at the top are not cut by the frame. Returns
    the matplotlib figure. Lesson 01 §5 draws the first one.
    """
    runs = _check_histories(histories)
    metrics = _names(metrics)
    _title(title)
    if smooth is not None:
        smooth = _validate.integer(smooth, "smooth")
    fig, axes = plt.subplots(1, 1 + len(metrics), figsize=(4.2 * (1 + len(metrics)) + 1.2, 3.2), squeeze=False)
    axes = axes[0]
    smoothed = False
    for i, (label, h) in enumerate(runs.items()):
        color = PALETTE[i % len(PALETTE)]
        window = smooth if smooth is not None else max(1, len(h.loss) // 20)
        if window > 1:
            smoothed = True
            axes[0].plot(h.steps, h.loss, color=color, alpha=0.25, lw=0.8)
            axes[0].plot(h.steps, running_mean(h.loss, window), color=color, lw=1.8, label=label)
        else:
            axes[0].plot(h.steps, h.loss, color=color, label=label)
        for ax, name in zip(axes[1:], metrics):
            if h.evals and name in h.evals[-1]:
                ax.plot(h.eval_steps, h.metric(name), marker="o", markersize=3, color=color, label=label, clip_on=False)
    loss_title = "loss (faint: as logged; line: running mean)" if smoothed else "loss"
    axes[0].set(xlabel="step", ylabel="training loss", yscale="log", title=loss_title)
    for ax, name in zip(axes[1:], metrics):
        ax.set(xlabel="step", ylabel=name.replace("_", " "), title=name.replace("_", " "))
        scale = _scale_of([v for h in runs.values() if h.evals and name in h.evals[-1] for v in h.metric(name)])
        if scale is not None:
            _full_scale(ax, scale)
    for ax in axes:
        ax.grid(alpha=0.3)
    if len(runs) > 1:
        _legend_outside(axes[-1])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_accuracy_by_length(results: Mapping[str, Mapping], metric: str = "exact_match", title: str | None = None):
    """Bar-free line plot of ``metric`` per length for one or more models, on the full 0-1 scale.

    ``results``: ``{label: accuracy_by_length(...) or accuracy_by_bucket(...)}``. The legend sits beside the
    axes (one model needs none: its label is the y-axis'). Returns the figure (lesson 01 §5; by bucket in
    lesson 04 §3).
    """
    if not isinstance(results, Mapping) or not results:
        raise TypeError("pass a dict {label: accuracy_by_length(...)} with at least one entry")
    _validate.string(metric, "metric", "exact_match")
    _title(title)
    for label, per_length in results.items():
        if not isinstance(per_length, Mapping) or not all(isinstance(v, Mapping) for v in per_length.values()):
            raise TypeError(
                f"results[{label!r}] must be what accuracy_by_length returns, {{length: {{metric: "
                f"value}}}}, got {type(per_length).__name__}"
            )
        keys = list(per_length)
        if keys and metric not in per_length[keys[0]]:
            raise ValueError(f"no metric {metric!r} in results for {label!r}; have {sorted(per_length[keys[0]])}")
    fig, ax = plt.subplots(figsize=(6 if len(results) == 1 else 7.5, 3.2))
    for i, (label, per_length) in enumerate(results.items()):
        keys = list(per_length)
        ax.plot(
            [str(k) for k in keys],
            [per_length[k][metric] for k in keys],
            marker="o",
            color=PALETTE[i % len(PALETTE)],
            label=label,
            clip_on=False,  # a point at 1.0 is drawn whole, not cut in half by the frame
        )
    ylabel = metric.replace("_", " ")
    ax.set(xlabel="length", ylabel=ylabel if len(results) > 1 else f"{ylabel}, {next(iter(results))}", title=title)
    _full_scale(ax)
    ax.grid(alpha=0.3)
    if len(results) > 1:
        _legend_outside(ax)
    fig.tight_layout()
    return fig


def draw_seq2seq(src: str, tgt: str, title: str | None = None):
    """Schematic of an encoder-decoder reading ``src`` and writing ``tgt`` (one character per cell).

    Encoder cells (blue) read the source; their last hidden state, the *context vector*, starts the decoder
    (orange), which reads ``<sos>`` then its own previous output and writes ``tgt`` followed by ``<eos>``.
    Lesson 01 §1's picture.
    """
    _validate.string(src, "src", "abc", allow_empty=True)
    _validate.string(tgt, "tgt", "cba", allow_empty=True)
    _title(title)
    if not src or not tgt:
        raise ValueError("draw_seq2seq needs a non-empty source src and target tgt, e.g. draw_seq2seq('abc', 'cba')")
    n_src, n_tgt = len(src), len(tgt) + 1
    fig, ax = plt.subplots(figsize=(1.0 * (n_src + n_tgt) + 1.5, 2.6))
    cell = dict(boxstyle="round,pad=0.35", linewidth=1.2)
    arrow = dict(arrowstyle="->", color="0.3", lw=1.2)
    for i, ch in enumerate(src):
        ax.text(i, 0, "GRU", ha="center", va="center", bbox={**cell, "facecolor": "#cfe3f7", "edgecolor": "#0072B2"})
        ax.text(i, -1, repr(ch)[1:-1], ha="center", va="center", fontsize=12, family="monospace")
        ax.annotate("", xy=(i, -0.3), xytext=(i, -0.8), arrowprops=arrow)
        if i:
            ax.annotate("", xy=(i - 0.3, 0), xytext=(i - 0.7, 0), arrowprops=arrow)
    x0 = n_src + 0.8
    ax.annotate("", xy=(x0 - 0.3, 0), xytext=(n_src - 0.7, 0), arrowprops={**arrow, "color": "#D55E00", "lw": 2})
    ax.text((n_src - 1 + x0) / 2, 0.35, "context\nvector", ha="center", va="bottom", fontsize=9, color="#D55E00")
    inputs = ["<sos>"] + list(tgt)
    outputs = list(tgt) + ["<eos>"]
    for j in range(n_tgt):
        x = x0 + j
        ax.text(x, 0, "GRU", ha="center", va="center", bbox={**cell, "facecolor": "#fde2c8", "edgecolor": "#D55E00"})
        ax.text(
            x,
            -1,
            inputs[j],
            ha="center",
            va="center",
            fontsize=10 if len(inputs[j]) > 1 else 12,
            family="monospace",
            color="0.35",
        )
        ax.text(
            x,
            1.05,
            outputs[j],
            ha="center",
            va="center",
            fontsize=10 if len(outputs[j]) > 1 else 12,
            family="monospace",
            weight="bold",
        )
        ax.annotate("", xy=(x, -0.3), xytext=(x, -0.8), arrowprops=arrow)
        ax.annotate("", xy=(x, 0.8), xytext=(x, 0.3), arrowprops=arrow)
        if j:
            ax.annotate("", xy=(x - 0.3, 0), xytext=(x - 0.7, 0), arrowprops=arrow)
    ax.text((n_src - 1) / 2, -1.6, "encoder reads the source", ha="center", color="#0072B2")
    ax.text(x0 + (n_tgt - 1) / 2, -1.6, "decoder writes the target, one token at a time", ha="center", color="#D55E00")
    ax.set(xlim=(-0.8, x0 + n_tgt - 0.2), ylim=(-1.9, 1.5), title=title)
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_attention(
    weights, src_tokens, out_tokens, ax=None, title: str | None = None, highlight_step: int | None = None
):
    """Heatmap of attention weights: one row per output token, one column per source token.

    ``weights``: ``[out_len, src_len]`` (a tensor or nested lists; extra padded rows/columns are cut to the
    token lists). For reversal the bright cells form an anti-diagonal: output ``t`` looks at source ``S-1-t``.
    Lesson 04 §4 draws them.
    """
    import numpy as np

    try:
        # .tolist(), not the tensor itself: torch builds older than 2.3 cannot hand a tensor to numpy 2
        matrix = np.asarray(weights.detach().cpu().tolist() if hasattr(weights, "detach") else weights, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"weights must be a [out_len, src_len] tensor or nested lists of numbers, got {type(weights).__name__}"
        ) from None
    if matrix.ndim != 2:
        raise ValueError(f"weights must be [out_len, src_len], got shape {list(matrix.shape)}")
    if not np.isfinite(matrix).all():
        raise ValueError(
            "weights hold NaN or inf: attention weights are probabilities (a row with every score "
            "-inf gives NaN; is a source empty?)"
        )
    for name, tokens in (("src_tokens", src_tokens), ("out_tokens", out_tokens)):
        if isinstance(tokens, (bytes, dict)) or not hasattr(tokens, "__iter__"):
            raise TypeError(f"{name} must be a list of token texts, got {type(tokens).__name__}")
    if highlight_step is not None:
        _validate.integer(highlight_step, "highlight_step", minimum=None)
    _title(title)
    _axes(ax)
    src_tokens, out_tokens = list(src_tokens), list(out_tokens)
    if len(out_tokens) > matrix.shape[0] or len(src_tokens) > matrix.shape[1]:
        raise ValueError(
            f"{len(out_tokens)} output and {len(src_tokens)} source tokens do not fit weights of shape "
            f"{list(matrix.shape)}"
        )
    matrix = matrix[: len(out_tokens), : len(src_tokens)]
    if ax is None:
        size = (max(3.0, 0.32 * len(src_tokens) + 1.5), max(2.5, 0.3 * len(out_tokens) + 1.2))
        fig, ax = plt.subplots(figsize=size)
    else:
        fig = ax.figure
    ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(src_tokens)), src_tokens, fontsize=8)
    ax.set_yticks(range(len(out_tokens)), out_tokens, fontsize=8)
    ax.set(xlabel="source (encoder positions)", ylabel="output (decoder steps)", title=title)
    if highlight_step is not None and 0 <= highlight_step < len(out_tokens):
        ax.axhline(highlight_step - 0.5, color="#D55E00", lw=1.5)
        ax.axhline(highlight_step + 0.5, color="#D55E00", lw=1.5)
    fig.tight_layout()
    return fig


def _check_beam_history(history, itos) -> None:
    from .decoding import BeamNode

    if not isinstance(history, (list, tuple)) or not history:
        raise ValueError("history must be one input's list of steps: beam_search(..., return_history=True).history[b]")
    for t, step in enumerate(history):
        if not isinstance(step, (list, tuple)) or not all(isinstance(node, BeamNode) for node in step):
            raise TypeError(
                f"history[{t}] must be a list of BeamNode, as beam_search(..., return_history=True)"
                ".history[b] holds; did you pass the history of all inputs instead of one?"
            )
    if isinstance(itos, (str, bytes)) or not hasattr(itos, "__getitem__") or not hasattr(itos, "__len__"):
        raise TypeError(f"itos must be the id -> token list, vocab.itos, got {type(itos).__name__}")


def _beam_tree_nodes(history):
    """Every kept hypothesis of a ``beam_search(..., return_history=True)`` history for ONE input, as
    ``(step, slot, node, prefix tokens, parent slot)``; ``prefix`` includes the node's own token."""
    nodes, previous = [], []
    for t, step_nodes in enumerate(history):
        prefixes = []
        for slot, node in enumerate(step_nodes):
            parent = node.parent if t and 0 <= node.parent < len(previous) else -1
            prefix = (previous[parent] if parent >= 0 else []) + [node.token]
            prefixes.append(prefix)
            nodes.append((t, slot, node, prefix, parent))
        previous = prefixes
    return nodes


def plot_beam_tree(history, itos, best=None, upto_step: int | None = None, ax=None, title: str | None = None):
    """The search tree of one beam search: one column per step, one box per kept hypothesis.

    ``history``: ``beam_search(..., return_history=True).history[b]`` (a list per step of ``BeamNode``);
    ``itos``: id -> token text (``vocab.itos``); ``best``: the returned best token ids, whose path is drawn
    in orange; ``upto_step``: draw only steps ``0..upto_step`` (for stepping through the search), on axes sized for
    the whole search so that the figure keeps one size from step 0 to the last.
    Boxes show the token and the hypothesis' running log-probability; finished ones (EOS) are green.
    Hypotheses that fell out of the beam are not in the history, so branches simply stop.
    """
    _check_beam_history(history, itos)
    if upto_step is not None:
        _validate.integer(upto_step, "upto_step", minimum=None)
    _title(title)
    _axes(ax)
    if best is not None:
        (best,) = _validate.id_rows([best.tolist() if hasattr(best, "tolist") else best], "best")
    if upto_step is not None and not 0 <= upto_step < len(history):
        raise ValueError(f"upto_step must be between 0 and {len(history) - 1}, got {upto_step}")
    last = len(history) - 1 if upto_step is None else upto_step
    nodes = [n for n in _beam_tree_nodes(history) if n[0] <= last]
    best = [int(i) for i in best] if best is not None else None
    rows = max(len(step) for step in history)
    steps = len(history)  # the figure and its axes are sized for the whole search, so stepping keeps them still
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4.0, 1.25 * steps + 1.0), max(2.2, 0.55 * rows + 0.9)))
    else:
        fig = ax.figure
    on_best = {(t, slot) for t, slot, _, prefix, _ in nodes if best is not None and best[: len(prefix)] == prefix}
    for t, slot, node, _, parent in nodes:
        if t and parent >= 0:
            good = (t, slot) in on_best and (t - 1, parent) in on_best
            ax.plot(
                [t - 1 + 0.32, t - 0.32],
                [-parent, -slot],
                color="#D55E00" if good else "#a0aec0",
                lw=2.2 if good else 0.9,
                zorder=1,
            )
        text = str(itos[node.token]) if 0 <= node.token < len(itos) else str(node.token)
        face = "#c6f6d5" if node.finished else "white"
        edge = "#D55E00" if (t, slot) in on_best else "#4a5568"
        ax.text(
            t,
            -slot,
            f"{text}\n{node.log_prob:.2f}",
            ha="center",
            va="center",
            fontsize=7.5,
            zorder=2,
            bbox=dict(boxstyle="round,pad=0.25", fc=face, ec=edge, lw=1.6 if (t, slot) in on_best else 0.8),
        )
    ax.set(xlim=(-0.6, steps - 1 + 0.6), ylim=(-rows + 0.4, 0.6), title=title)
    ax.set_xticks(range(steps), [f"step {t}" for t in range(steps)], fontsize=8)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def plot_attention_heads(
    layers, query_tokens, key_tokens, title: str | None = None, query_label: str = "query", key_label: str = "key"
):
    """A grid of attention heatmaps: one row per layer, one column per head (lesson 08).

    ``layers``: a list (one entry per layer) of ``[heads, query_len, key_len]`` weights for ONE example (tensors
    or nested lists; padded rows/columns beyond the token lists are cut). Returns the figure.
    """
    import numpy as np

    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or not len(layers):
        raise ValueError("layers must be a non-empty list of [heads, query_len, key_len] weights, one per layer")
    grids = [np.asarray(w.detach().cpu() if hasattr(w, "detach") else w, dtype=float) for w in layers]
    if any(g.ndim != 3 for g in grids) or len({g.shape[0] for g in grids}) != 1:
        raise ValueError(
            f"every layer must be [heads, query_len, key_len] with the same number of heads, got shapes "
            f"{[list(g.shape) for g in grids]}"
        )
    query_tokens, key_tokens = list(query_tokens), list(key_tokens)
    heads = grids[0].shape[0]
    fig, axes = plt.subplots(len(grids), heads, figsize=(2.3 * heads + 0.6, 2.2 * len(grids) + 0.6), squeeze=False)
    for layer, grid in enumerate(grids):
        for head in range(heads):
            ax = axes[layer][head]
            ax.imshow(
                grid[head, : len(query_tokens), : len(key_tokens)], cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto"
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=9)
            if head == 0:
                ax.set_ylabel(f"layer {layer}\n{query_label}", fontsize=9)
            if layer == len(grids) - 1:
                ax.set_xlabel(key_label, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
