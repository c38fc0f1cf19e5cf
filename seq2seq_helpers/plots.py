"""Pictures a learner would rather look at than read: training curves and accuracy by length.

The figure rule (DESIGN.md, 6b). The lessons draw inline at ``INLINE_DPI`` (100) with ``bbox_inches="tight"``;
JupyterLab 4's output column at a 1400 px wide window is about 968 px, and a wider image is shrunk until it fits,
text and all. So every figure this module (and ``widgets``) draws is at most ``MAX_FIGURE_PX`` = 960 px wide as
saved (its tight bounding box plus the 0.1 inch padding, at ``INLINE_DPI``), and shown at its own size, so a
pixel of the PNG is a pixel on the screen. No text is smaller than ``MIN_TEXT_PX`` = 10 px (7.2 pt at 100 dpi):
DejaVu Sans at 10 px has a lowercase height of about 5.5 px, the least at which a, e, o and c stay apart on a
screen of ordinary density (one device pixel per CSS pixel); 9 px and below blurs them. The course's small text
(tick labels and legends, 8 pt = 11 px) sits just above it. A plot that grows with its content (a heatmap of a
long token sequence, a long beam search) narrows its cells and turns its labels on their side to keep within the
width; when even that would need text below the minimum, it draws a part and says so in a note on the figure,
never smaller text. ``figure_width_px`` and ``smallest_text_px`` measure a figure against the rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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

INLINE_DPI = 100  # the lessons' inline figures: matplotlib's default dpi, which the inline backend keeps
MAX_FIGURE_PX = 960  # JupyterLab 4's output column (about 968 px at a 1400 px window), less a little margin
MIN_TEXT_PX = 10  # the smallest text a figure may hold, in pixels at INLINE_DPI (see the module docstring)
MIN_TEXT_PT = MIN_TEXT_PX * 72 / INLINE_DPI  # the same in points: 7.2 pt
MAX_FIGURE_IN = MAX_FIGURE_PX / INLINE_DPI  # 9.6 inches: a figure at most this wide fits, padding aside
TICK_PT = 8  # tick labels of token axes and legends: 11 px, above MIN_TEXT_PX
_PAD_IN = 0.1  # savefig's pad_inches with bbox_inches="tight", on each side


def figure_width_px(fig, dpi: float = INLINE_DPI) -> int:
    """The width in pixels of ``fig`` saved with ``bbox_inches="tight"`` at ``dpi`` (the notebook's inline image)."""
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())  # inches
    return math.ceil((box.width + 2 * _PAD_IN) * dpi)


def smallest_text_px(fig, dpi: float = INLINE_DPI) -> float:
    """The size in pixels at ``dpi`` of the smallest visible, non-empty text in ``fig`` (inf when it has none)."""
    from matplotlib.text import Text

    fig.canvas.draw()
    sizes = [t.get_fontsize() * dpi / 72 for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes, default=math.inf)


def _fit_width(fig) -> None:
    """Lay ``fig`` out and narrow it (never its text) until its saved image is at most ``MAX_FIGURE_PX`` wide:
    text sticking out of the figure (a legend beside the axes, a long title) counts too."""
    for _ in range(5):
        fig.tight_layout()
        excess = figure_width_px(fig) - MAX_FIGURE_PX
        if excess <= 0:
            return
        width, height = fig.get_size_inches()
        fig.set_size_inches(max(1.0, width - (excess + 2) / INLINE_DPI), height)


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

# Series that coincide (three length penalties with the same BLEU, two runs with the same accuracy) must still show
# as several: series i gets its own colour, marker and line style, and a smaller marker than series i - 1, drawn
# on top of it, so equal points show as nested markers and equal lines as a solid line under dashes and dots.
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (1, 1, 4, 1)), (0, (3, 3)))


def series_style(i: int) -> dict:
    """Colour, marker, marker size and line style of the ``i``-th series of a plot (see ``MARKERS``)."""
    i = _validate.integer(i, "i", minimum=0)
    return {
        "color": PALETTE[i % len(PALETTE)],
        "marker": MARKERS[i % len(MARKERS)],
        "markersize": max(3.0, 7.0 - 1.5 * i),
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
    }


def _headroom(ax, low: float, top: float) -> None:
    """Y from ``low`` to ``top`` plus 5% of the range, so that a point at ``top`` (a BLEU of 100) is drawn whole,
    below the frame and the title, not cut in half by the top spine."""
    ax.set_ylim(low, top + 0.05 * (top - low))


def plot_lines(ax, x, series: Mapping[str, Sequence[float]], ylim: tuple[float, float] | None = None) -> list:
    """Draw ``series`` (``{label: values at x}``) on ``ax`` so that every one stays visible where they coincide:
    each gets its own colour, marker and line style (``series_style``), later ones smaller and on top. With
    ``ylim=(low, top)``, the range the values live in (``(0, 100)`` for BLEU), the axes get headroom above
    ``top``; no point is clipped by the frame. Returns the lines. Lesson 07's beam sweeps use it.
    """
    _axes(ax)
    if ax is None:
        raise TypeError("plot_lines draws on axes you pass: fig, ax = plt.subplots(); plot_lines(ax, x, {...})")
    if not isinstance(series, Mapping) or not series:
        raise TypeError("series must be a non-empty dict {label: values}, one value per x")
    x = list(x)
    lines = []
    for i, (label, values) in enumerate(series.items()):
        values = [float(v) for v in values]
        if len(values) != len(x):
            raise ValueError(f"series {label!r} has {len(values)} values for {len(x)} x positions")
        (line,) = ax.plot(x, values, label=str(label), clip_on=False, **series_style(i))
        lines.append(line)
    if ylim is not None:
        low, top = (float(v) for v in ylim)
        if not low < top:
            raise ValueError(f"ylim must be (low, top) with low < top, got {ylim!r}")
        _headroom(ax, low, top)
    return lines


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
    _headroom(ax, 0.0, top)
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
    ax.legend(fontsize=TICK_PT, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)


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
    panels = 1 + len(metrics)
    cols = min(panels, 2)  # at most two panels side by side: a third wraps to the next row (the width rule)
    rows = math.ceil(panels / cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4.2 * cols + 1.2, 3.2 * rows), squeeze=False)
    axes = list(grid.flat)
    for spare in axes[panels:]:
        fig.delaxes(spare)
    axes = axes[:panels]
    smoothed = False
    for i, (label, h) in enumerate(runs.items()):
        style = series_style(i)
        color = style["color"]
        window = smooth if smooth is not None else max(1, len(h.loss) // 20)
        if window > 1:
            smoothed = True
            axes[0].plot(h.steps, h.loss, color=color, alpha=0.25, lw=0.8)
            axes[0].plot(h.steps, running_mean(h.loss, window), color=color, lw=1.8, ls=style["linestyle"], label=label)
        else:
            axes[0].plot(h.steps, h.loss, color=color, ls=style["linestyle"], label=label)
        for ax, name in zip(axes[1:], metrics):
            if h.evals and name in h.evals[-1]:
                ax.plot(h.eval_steps, h.metric(name), label=label, clip_on=False, **style)
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
    _fit_width(fig)
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
            label=label,
            clip_on=False,  # a point at 1.0 is drawn whole, not cut in half by the frame
            **series_style(i),
        )
    ylabel = metric.replace("_", " ")
    ax.set(xlabel="length", ylabel=ylabel if len(results) > 1 else f"{ylabel}, {next(iter(results))}", title=title)
    _full_scale(ax)
    ax.grid(alpha=0.3)
    if len(results) > 1:
        _legend_outside(ax)
    _fit_width(fig)
    _thin_category_labels(ax)
    return fig


def _thin_category_labels(ax) -> None:
    """Leave a label on every k-th tick of a categorical x axis when all of them would run together ("101112..."),
    k as small as keeps neighbouring labels apart; the ticks themselves all stay."""
    ticks = ax.get_xticks()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    if len(ticks) < 2:
        return
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    widest = max(t.get_window_extent(renderer).width for t in ax.get_xticklabels()) * INLINE_DPI / fig.dpi
    spacing = _axes_px(ax)[0] / max(1, len(ticks) - 1)
    every = max(1, math.ceil((widest + 6) / spacing))  # at least 6 px between neighbouring labels
    if every > 1:
        ax.set_xticks(ticks, [label if i % every == 0 else "" for i, label in enumerate(labels)])


_SEQ2SEQ_CELL_IN = 1.0  # inches per GRU cell of draw_seq2seq when the strings are short
_SEQ2SEQ_MIN_CELL_IN = 0.72  # the least that keeps a "GRU" box (10 pt) clear of the arrows between boxes


def draw_seq2seq(src: str, tgt: str, title: str | None = None):
    """Schematic of an encoder-decoder reading ``src`` and writing ``tgt`` (one character per cell).

    Encoder cells (blue) read the source; their last hidden state, the *context vector*, starts the decoder
    (orange), which reads ``<sos>`` then its own previous output and writes ``tgt`` followed by ``<eos>``.
    Cells narrow as the strings grow, to keep the figure within ``MAX_FIGURE_PX``; strings too long for that are
    cut, and a note under the picture says how much is drawn. Lesson 01 §1's picture.
    """
    _validate.string(src, "src", "abc", allow_empty=True)
    _validate.string(tgt, "tgt", "cba", allow_empty=True)
    _title(title)
    if not src or not tgt:
        raise ValueError("draw_seq2seq needs a non-empty source src and target tgt, e.g. draw_seq2seq('abc', 'cba')")
    room = MAX_FIGURE_IN - 0.8  # inches for the cells; the rest is the gap for the context vector and padding
    most = int(room / _SEQ2SEQ_MIN_CELL_IN - 0.8)  # cells that fit at the least cell width
    inputs, outputs = ["<sos>", *tgt], [*tgt, "<eos>"]
    n_src, n_tgt = len(src), len(outputs)
    note = None
    if n_src + n_tgt > most:
        n_src = min(n_src, max(1, most // 2))
        n_tgt = min(n_tgt, most - n_src)
        n_src = min(len(src), most - n_tgt)
        note = (
            f"drawn: the first {n_src} of {len(src)} source characters and the first {n_tgt} of {len(outputs)} "
            "decoder steps"
        )
    src, inputs, outputs = src[:n_src], inputs[:n_tgt], outputs[:n_tgt]
    cell_in = min(_SEQ2SEQ_CELL_IN, room / (n_src + n_tgt + 0.8))
    fig, ax = plt.subplots(figsize=(cell_in * (n_src + n_tgt + 0.6) + 0.6, 2.6 if note is None else 2.9))
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
    bottom = -1.9
    if note is not None:
        ax.text((x0 + n_tgt - 1) / 2, -2.1, note, ha="center", fontsize=9, color="0.3", style="italic")
        bottom = -2.4
    ax.set(xlim=(-0.8, x0 + n_tgt - 0.2), ylim=(bottom, 1.5), title=title)
    ax.axis("off")
    _fit_width(fig)
    return fig


def _axes_px(ax) -> tuple[float, float]:
    """The axes' width and height in pixels at ``INLINE_DPI``, from its current position in the figure."""
    width, height = ax.figure.get_size_inches()
    box = ax.get_position()
    return box.width * width * INLINE_DPI, box.height * height * INLINE_DPI


def token_ticks(ax, axis: str, tokens, label: str = "") -> None:
    """Label ``axis`` ("x" or "y") of a heatmap or bar chart with one tick per token at ``TICK_PT``, as legibly as
    the axes' size allows: x labels lie flat when every one fits its column, stand on their side when the
    columns are narrower, and when even a line of text is taller than a column only every k-th token is
    labelled, which the axis label then says (the text never shrinks below ``MIN_TEXT_PX``)."""
    tokens = [str(t) for t in tokens]
    width, height = _axes_px(ax)
    cell = (width if axis == "x" else height) / max(1, len(tokens))
    char_px = 0.62 * TICK_PT * INLINE_DPI / 72  # DejaVu Sans: about 0.6 em per character
    line_px = 1.25 * TICK_PT * INLINE_DPI / 72
    every = max(1, math.ceil(line_px / cell))
    shown = range(0, len(tokens), every)
    set_ticks = ax.set_xticks if axis == "x" else ax.set_yticks
    set_ticks(list(shown), [tokens[i] for i in shown], fontsize=TICK_PT)
    if axis == "x" and max((len(t) for t in tokens), default=0) * char_px + 4 > cell * every:
        ax.tick_params(axis="x", labelrotation=90)
    if every > 1:
        label = f"{label}; every {every}{'nd' if every == 2 else 'rd' if every == 3 else 'th'} token labelled"
    if label:
        (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)


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
    own = ax is None
    if own:
        # 0.32 inch a column while that fits, then narrower columns up to the width rule (token_ticks turns or
        # thins the labels to match); rows keep 0.3 inch, the page scrolls down, not sideways
        longest = max((len(str(t)) for t in out_tokens), default=1)
        margin = 1.2 + 0.06 * longest  # the y labels and the axis title
        width = min(MAX_FIGURE_IN - 0.3, max(3.0, 0.32 * len(src_tokens) + margin))
        fig, ax = plt.subplots(figsize=(width, max(2.5, 0.3 * len(out_tokens) + 1.2)))
        fig.subplots_adjust(left=min(0.5, margin / width), right=0.97)
    else:
        fig = ax.figure
    ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_title(title)
    token_ticks(ax, "x", src_tokens, "source (encoder positions)")
    token_ticks(ax, "y", out_tokens, "output (decoder steps)")
    if highlight_step is not None and 0 <= highlight_step < len(out_tokens):
        ax.axhline(highlight_step - 0.5, color="#D55E00", lw=1.5)
        ax.axhline(highlight_step + 0.5, color="#D55E00", lw=1.5)
    if own:
        _fit_width(fig)
    else:
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


_BEAM_TOKEN_PT = 11  # a box's token, 15 px: the largest text in the tree
_BEAM_MIN_STEP_IN = 0.8  # a step's column: the widest token ("<eos>", 11 pt) and a score with room for the edges


def plot_beam_tree(history, itos, best=None, upto_step: int | None = None, ax=None, title: str | None = None):
    """The search tree of one beam search: one column per step, one box per kept hypothesis.

    ``history``: ``beam_search(..., return_history=True).history[b]`` (a list per step of ``BeamNode``);
    ``itos``: id -> token text (``vocab.itos``); ``best``: the returned best token ids, whose path is drawn
    in orange; ``upto_step``: draw only steps ``0..upto_step`` (for stepping through the search), on axes sized for
    the whole search so that the figure keeps one size from step 0 to the last.
    Boxes show the token, with the hypothesis' running log-probability in small print below; finished ones (EOS)
    are green. Hypotheses that fell out of the beam are not in the history, so branches simply stop. A search
    too long for ``MAX_FIGURE_PX`` shows its latest steps (up to ``upto_step``), and the x-axis says which are not
    drawn.
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
    best = [int(i) for i in best] if best is not None else None
    rows = max(len(step) for step in history)
    steps = len(history)  # the figure and its axes are sized for the whole search, so stepping keeps them still
    step_in = max(_BEAM_MIN_STEP_IN, min(1.25, (MAX_FIGURE_IN - 1.0) / steps))
    shown = min(steps, int((MAX_FIGURE_IN - 1.0) / step_in))  # steps that fit the width rule
    first = max(0, last - shown + 1)  # a long search shows its latest `shown` steps, with a note
    nodes = [n for n in _beam_tree_nodes(history) if first <= n[0] <= last]
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(max(4.0, step_in * shown + 1.0), max(2.2, 0.62 * rows + 0.9)))
    else:
        fig = ax.figure
    gap = 0.3 / step_in  # edges stop 0.3 inch from a box's centre, clear of its token and score
    on_best = {(t, slot) for t, slot, _, prefix, _ in nodes if best is not None and best[: len(prefix)] == prefix}
    for t, slot, node, _, parent in nodes:
        if t > first and parent >= 0:
            good = (t, slot) in on_best and (t - 1, parent) in on_best
            ax.plot(
                [t - 1 + gap, t - gap],
                [-parent, -slot],
                color="#D55E00" if good else "#a0aec0",
                lw=2.2 if good else 0.9,
                zorder=1,
            )
        text = str(itos[node.token]) if 0 <= node.token < len(itos) else str(node.token)
        face = "#c6f6d5" if node.finished else "white"
        edge = "#D55E00" if (t, slot) in on_best else "#4a5568"
        # the token is what a learner reads: large, in its box; the running log-probability small, below it
        ax.text(
            t,
            -slot,
            text,
            ha="center",
            va="center",
            fontsize=_BEAM_TOKEN_PT,
            zorder=2,
            bbox=dict(boxstyle="round,pad=0.25", fc=face, ec=edge, lw=1.6 if (t, slot) in on_best else 0.8),
        )
        ax.text(t, -slot - 0.36, f"{node.log_prob:.2f}", ha="center", va="center", fontsize=TICK_PT, color="0.25")
    ax.set(xlim=(first - 0.6, first + shown - 1 + 0.6), ylim=(-rows + 0.35, 0.6), title=title)
    ax.set_xticks(range(first, first + shown), [f"step {t}" for t in range(first, first + shown)], fontsize=TICK_PT)
    if first:
        ax.set_xlabel(f"steps 0-{first - 1} not drawn (the scores include them); {steps} steps in all", fontsize=9)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if own:
        _fit_width(fig)
    else:
        fig.tight_layout()
    return fig


_HEAD_MIN_IN = 1.0  # a head's panel: its title "head 10" (9 pt) and a heatmap still worth looking at


def plot_attention_heads(
    layers, query_tokens, key_tokens, title: str | None = None, query_label: str = "query", key_label: str = "key"
):
    """A grid of attention heatmaps: one row per layer, one column per head (lesson 08).

    ``layers``: a list (one entry per layer) of ``[heads, query_len, key_len]`` weights for ONE example (tensors
    or nested lists; padded rows/columns beyond the token lists are cut). Panels narrow with more heads to keep
    within ``MAX_FIGURE_PX``; past 8 heads only the first 8 are drawn, and the title says so. Returns the figure.
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
    panel_in = min(2.3, (MAX_FIGURE_IN - 0.8) / heads)
    shown = heads if panel_in >= _HEAD_MIN_IN else int((MAX_FIGURE_IN - 0.8) / _HEAD_MIN_IN)
    panel_in = max(panel_in, _HEAD_MIN_IN)
    fig, axes = plt.subplots(len(grids), shown, figsize=(panel_in * shown + 0.6, 2.2 * len(grids) + 0.6), squeeze=False)
    for layer, grid in enumerate(grids):
        for head in range(shown):
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
    if shown < heads:  # too many heads for the width: draw the first ones and say so
        title = f"{title or ''}\n(heads 0-{shown - 1} of {heads} drawn)".strip()
    if title:
        fig.suptitle(title)
    _fit_width(fig)
    return fig
