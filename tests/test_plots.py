"""Tests for seq2seq_helpers.plots: the figures hold the right axes and lines (drawn off-screen, Agg)."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

from seq2seq_helpers.data import EOS
from seq2seq_helpers.metrics import accuracy_by_bucket, accuracy_by_length
from seq2seq_helpers.plots import PALETTE, plot_accuracy_by_length, plot_history, running_mean
from seq2seq_helpers.training import History


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _history(scale=1.0):
    return History(
        steps=[10, 20, 30],
        loss=[2.0 * scale, 1.0 * scale, 0.5 * scale],
        lr=[0.1, 0.05, 0.0],
        eval_steps=[15, 30],
        evals=[
            {"exact_match": 0.2 * scale, "token_accuracy": 0.5},
            {"exact_match": 0.9 * scale, "token_accuracy": 0.95},
        ],
    )


def test_plot_history_of_one_run():
    h = _history()
    fig = plot_history(h)
    assert len(fig.axes) == 2  # loss + the default ("exact_match",)
    loss_ax, em_ax = fig.axes
    (line,) = loss_ax.get_lines()
    assert list(line.get_xdata()) == h.steps and list(line.get_ydata()) == h.loss
    assert loss_ax.get_yscale() == "log"
    (line,) = em_ax.get_lines()
    assert list(line.get_xdata()) == h.eval_steps and list(line.get_ydata()) == h.metric("exact_match")


@pytest.mark.parametrize("values, top", [([0.2, 0.9], 1.0), ([35.0, 99.9], 100.0), ([0.5, 1.0], 1.0)])
def test_plot_history_draws_each_metric_on_its_own_full_scale(values, top):
    """Fractions on 0-1, scores such as chrF on 0-100: every point inside the axes, none cut by the frame."""
    h = History(
        steps=[10, 20], loss=[1.0, 0.5], lr=[0.1, 0.0], eval_steps=[10, 20], evals=[{"chrF": v} for v in values]
    )
    fig = plot_history(h, metrics=("chrF",))
    ax = fig.axes[1]
    low, high = ax.get_ylim()
    assert low == 0.0 and top < high <= 1.1 * top, (low, high)
    assert ax.get_yticks()[-1] == pytest.approx(top)


def test_plot_history_leaves_other_metrics_to_matplotlib():
    h = History(
        steps=[10, 20],
        loss=[1.0, 0.5],
        lr=[0.1, 0.0],
        eval_steps=[10, 20],
        evals=[{"perplexity": v} for v in (250.0, 120.0)],
    )
    low, high = plot_history(h, metrics=("perplexity",)).axes[1].get_ylim()
    assert low <= 120.0 and high >= 250.0 and high < 1000.0


def test_plot_history_compares_runs_with_one_line_each():
    runs = {"gru": _history(), "attention": _history(0.5)}
    fig = plot_history(runs, metrics=("exact_match", "token_accuracy"), title="two runs")
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert len(ax.get_lines()) == 2
    # one legend, beside the last axes (never on top of the data), in the course's palette
    assert [ax.get_legend() is not None for ax in fig.axes] == [False, False, True]
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == ["gru", "attention"]
    assert _legend_is_outside(fig.axes[-1])
    assert [line.get_color() for line in fig.axes[0].get_lines()] == list(PALETTE[:2])
    assert list(fig.axes[0].get_lines()[1].get_ydata()) == runs["attention"].loss
    assert list(fig.axes[2].get_lines()[0].get_ydata()) == [0.5, 0.95]
    assert fig._suptitle.get_text() == "two runs"


def test_plot_history_with_no_metrics_or_no_evaluations():
    assert len(plot_history(_history(), metrics=()).axes) == 1
    no_evals = History(steps=[1, 2], loss=[1.0, 0.5], lr=[0.1, 0.1])
    fig = plot_history(no_evals)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].get_lines()) == 1 and len(fig.axes[1].get_lines()) == 0


def _legend_is_outside(ax) -> bool:
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    return legend.x0 >= ax.get_window_extent().x1  # starts right of the axes' frame


def test_running_mean_is_trailing_and_starts_with_the_first_value():
    assert running_mean([4, 2, 6, 0, 10], 2) == [4.0, 3.0, 4.0, 3.0, 5.0]  # by hand
    assert running_mean([4, 2, 6], 5) == [4.0, 3.0, 4.0]  # fewer than a window: the mean so far
    assert running_mean([1.5, 2.5], 1) == [1.5, 2.5]
    with pytest.raises(ValueError, match="window"):
        running_mean([1.0], 0)


def test_plot_history_draws_the_raw_loss_faintly_under_its_running_mean():
    steps = list(range(10, 1010, 10))
    loss = [1.0 + (i % 2) for i in range(100)]  # a saw tooth: 1, 2, 1, 2 ...
    h = History(steps=steps, loss=loss, lr=[0.1] * 100)
    raw, smooth = plot_history(h, metrics=()).axes[0].get_lines()
    assert list(raw.get_ydata()) == loss and raw.get_alpha() < 0.5
    assert list(smooth.get_ydata()) == running_mean(loss, 5)  # default window: a twentieth of 100 points
    assert max(smooth.get_ydata()[5:]) - min(smooth.get_ydata()[5:]) < 0.25  # the raw spread is 1.0
    (only,) = plot_history(h, metrics=(), smooth=1).axes[0].get_lines()
    assert list(only.get_ydata()) == loss
    with pytest.raises(TypeError, match="smooth"):
        plot_history(h, smooth=2.5)


def test_accuracy_axes_keep_the_full_range_and_do_not_cut_points_at_one():
    fig = plot_history(_history())
    assert fig.axes[1].get_ylim() == pytest.approx((0.0, 1.05)) and fig.axes[1].get_yticks()[-1] == 1.0
    assert all(not line.get_clip_on() for line in fig.axes[1].get_lines())
    fig = plot_accuracy_by_length({"gru": accuracy_by_length(PREDS, TARGETS)})
    (ax,) = fig.axes
    assert ax.get_ylim() == pytest.approx((0.0, 1.05)) and not ax.get_lines()[0].get_clip_on()
    assert ax.get_legend() is None and "gru" in ax.get_ylabel()  # one model: named on the axis, no legend box


@pytest.mark.parametrize("bad", [None, [_history()], {}, {"run": {"loss": [1.0]}}, "history"])
def test_plot_history_rejects_other_types(bad):
    with pytest.raises(TypeError):
        plot_history(bad)


TARGETS = [[3, EOS], [3, 4, EOS], [3, 4, 5, EOS], [5, 4, 3, EOS]]
PREDS = [[3, EOS], [3, 3, EOS], [3, 4, 5, EOS], [5, 4, 3, EOS]]  # lengths 1, 2, 3, 3: exact 1, 0, 1, 1


def test_plot_accuracy_by_length_from_accuracy_by_length():
    per_length = accuracy_by_length(PREDS, TARGETS)
    fig = plot_accuracy_by_length({"gru": per_length, "copy": per_length})
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 2
    assert list(lines[0].get_xdata()) == ["1", "2", "3"]
    assert list(lines[0].get_ydata()) == [1.0, 0.0, 1.0]  # by hand: lengths 1, 2, 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["gru", "copy"]
    assert _legend_is_outside(ax)
    assert [line.get_color() for line in lines] == list(PALETTE[:2])


def test_plot_accuracy_by_length_other_metric_and_buckets():
    fig = plot_accuracy_by_length({"gru": accuracy_by_length(PREDS, TARGETS)}, metric="token_accuracy", title="t")
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == pytest.approx([1.0, 2 / 3, 1.0])
    assert fig.axes[0].get_title() == "t"
    buckets = accuracy_by_bucket(PREDS, TARGETS, None, [(1, 2), (3, 4)])
    fig = plot_accuracy_by_length({"gru": buckets})
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [0.5, 1.0]


def test_plot_accuracy_by_length_errors():
    with pytest.raises(ValueError, match="bleu"):
        plot_accuracy_by_length({"gru": accuracy_by_length(PREDS, TARGETS)}, metric="bleu")
    for bad in ({}, None, [accuracy_by_length(PREDS, TARGETS)]):
        with pytest.raises(TypeError):
            plot_accuracy_by_length(bad)


def test_plot_attention_draws_the_weights_cut_to_the_tokens():
    import numpy as np

    from seq2seq_helpers.plots import plot_attention

    weights = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.2, 0.0], [0.0, 0.0, 0.0]])  # last row/column: padding
    fig = plot_attention(weights, ["a", "b"], ["b", "a"], title="t", highlight_step=1)
    image = fig.axes[0].images[0].get_array()
    assert np.allclose(np.asarray(image), weights[:2, :2].numpy())
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b"]
    plt.close(fig)
    with pytest.raises(ValueError, match="out_len, src_len"):
        plot_attention(torch.zeros(2), ["a"], ["a"])
    with pytest.raises(ValueError, match="do not fit"):
        plot_attention(torch.zeros(2, 2), ["a", "b", "c"], ["a"])


def _beam_history():
    """A two-step search for one input: step 0 keeps 'a' and 'b'; at step 1 'b' finishes and 'a' grows."""
    from seq2seq_helpers.decoding import BeamNode

    return [
        [BeamNode(-1, 3, -0.5, False), BeamNode(-1, 4, -0.9, False)],
        [BeamNode(0, 3, -1.7, False), BeamNode(0, 4, -2.0, False), BeamNode(1, EOS, -1.0, True)],
    ]


def test_plot_beam_tree_draws_every_kept_hypothesis_and_the_best_path():
    from seq2seq_helpers.plots import plot_beam_tree

    itos = ["<pad>", "<sos>", "<eos>", "a", "b"]
    fig = plot_beam_tree(_beam_history(), itos, best=[4, EOS])
    ax = fig.axes[0]
    boxed = [t for t in ax.texts if t.get_bbox_patch() is not None]
    assert sorted(t.get_text() for t in boxed) == sorted(["a", "b", "a", "b", "<eos>"])
    scores = [t for t in ax.texts if t.get_bbox_patch() is None]
    assert sorted(t.get_text() for t in scores) == sorted(["-0.50", "-0.90", "-1.70", "-2.00", "-1.00"])
    # the token is what a learner reads: in its box, larger than the score printed under it
    assert min(t.get_fontsize() for t in boxed) > max(t.get_fontsize() for t in scores)
    assert len(ax.lines) == 3  # one edge per step-1 node to its parent
    orange = [line for line in ax.lines if line.get_color() == PALETTE[1]]
    assert len(orange) == 1 and list(orange[0].get_ydata()) == [-1, -2]  # b (slot 1) -> <eos> (slot 2)
    finished = [t for t in ax.texts if t.get_text().startswith("<eos>")]
    assert finished[0].get_bbox_patch().get_facecolor()[:3] != (1.0, 1.0, 1.0)  # finished boxes are coloured
    partial = plot_beam_tree(_beam_history(), itos, upto_step=0).axes[0]
    assert len(partial.texts) == 4 and not partial.lines  # two boxes, two scores
    # Stepping through the search keeps one figure size and one x range (the widget does not jump).
    assert tuple(partial.figure.get_size_inches()) == tuple(fig.get_size_inches())
    assert partial.get_xlim() == ax.get_xlim()


def test_plot_beam_tree_errors():
    from seq2seq_helpers.plots import plot_beam_tree

    with pytest.raises(ValueError, match="history must be one input's list of steps"):
        plot_beam_tree([], ["a"])
    with pytest.raises(ValueError, match="upto_step must be between 0 and 1"):
        plot_beam_tree(_beam_history(), ["a"] * 5, upto_step=2)


# ------------------------------------------------------------------------------------------ CJK glyphs


def _missing_glyph_warnings(text: str, families) -> list[str]:
    import warnings

    import matplotlib

    with matplotlib.rc_context({"font.family": families}):
        fig, ax = plt.subplots(figsize=(40, 1))
        ax.set_title(text)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def test_every_character_the_dates_write_has_a_glyph():
    """Lesson 06's dates in every locale and format (over a leap year: every month, weekday and day) draw
    without a missing glyph: DejaVu Sans, then the course's CJK subset. The control: without the subset the
    Japanese and Korean characters are missing (so this test can fail). A new locale whose characters the
    subset lacks fails here until scripts/make_cjk_font.py is run again."""
    import matplotlib

    import seq2seq_helpers.plots as plots

    sys_path = str(Path(__file__).resolve().parents[1] / "scripts")
    if sys_path not in sys.path:
        sys.path.insert(0, sys_path)
    from make_cjk_font import characters_the_dates_use

    assert plots.CJK_FONT.exists(), "the package's CJK font is missing (seq2seq_helpers/fonts/)"
    assert (plots.CJK_FONT.parent / "OFL.txt").exists(), "the font's licence must ship beside it"
    assert plots.CJK_FAMILY in matplotlib.rcParams["font.family"], "importing plots adds the CJK fallback"
    text = "".join(sorted(characters_the_dates_use()))
    assert "年" in text and "월" in text
    assert _missing_glyph_warnings(text, matplotlib.rcParams["font.family"]) == []
    without = _missing_glyph_warnings(text, ["sans-serif"])
    assert any(w.startswith(f"Glyph {ord('年')} ") for w in without), without
    assert any(w.startswith(f"Glyph {ord('월')} ") for w in without), without


def test_use_cjk_fallback_is_idempotent():
    import matplotlib

    from seq2seq_helpers.plots import CJK_FAMILY, use_cjk_fallback

    use_cjk_fallback()
    use_cjk_fallback()
    assert list(matplotlib.rcParams["font.family"]).count(CJK_FAMILY) == 1


# ------------------------------------------------------------------------------------------ the figure rule


def _saved_png_width(fig) -> int:
    """The width of the PNG the notebook would show: saved as the inline backend does (tight, INLINE_DPI)."""
    import io
    import struct

    from seq2seq_helpers.plots import INLINE_DPI

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=INLINE_DPI, bbox_inches="tight")
    header = buffer.getvalue()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])[0]


def _text_sizes_px(fig) -> dict[str, float]:
    """Every visible, non-empty text of the figure and its size in pixels at the inline dpi."""
    from matplotlib.text import Text

    from seq2seq_helpers.plots import INLINE_DPI

    fig.canvas.draw()
    return {
        t.get_text(): t.get_fontsize() * INLINE_DPI / 72
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    }


def _long_history(label_scale, n=200):
    steps = list(range(10, 10 * n + 10, 10))
    return History(
        steps=steps,
        loss=[3.0 / (1 + i) for i in range(n)],
        lr=[0.1] * n,
        eval_steps=steps[::20],
        evals=[
            {"exact_match": min(1.0, 0.1 * i * label_scale), "token_accuracy": 1.0} for i in range(len(steps[::20]))
        ],
    )


def _tokens(n, prefix="▁piece"):
    return [f"{prefix}{i}" for i in range(n)]


def _beam(steps, width=3):
    from seq2seq_helpers.decoding import BeamNode

    return [
        [BeamNode(-1 if t == 0 else s, 3 + (t + s) % 5, -0.7 * t - s, t == steps - 1) for s in range(width)]
        for t in range(steps)
    ]


def _figures():
    """(name, builder) for every plotting function on small and on large inputs."""
    from seq2seq_helpers import plots
    from seq2seq_helpers.widgets import _browser_figure

    itos = ["<pad>", "<sos>", "<eos>", "a", "b", "c", "d", "e"]
    lengths = {length: {"exact_match": 1.0 - length / 60} for length in range(1, 41)}
    return [
        ("history, one run", lambda: plots.plot_history(_history())),
        (
            "history, four runs, two metrics",
            lambda: plots.plot_history(
                {f"a rather long run name {i}": _long_history(i + 1) for i in range(4)},
                metrics=("exact_match", "token_accuracy"),
                title="four runs",
            ),
        ),
        ("accuracy by length, one model", lambda: plots.plot_accuracy_by_length({"gru": lengths})),
        (
            "accuracy by length, five models",
            lambda: plots.plot_accuracy_by_length({f"model with a long name {i}": lengths for i in range(5)}),
        ),
        ("seq2seq, short", lambda: plots.draw_seq2seq("abcd", "dcba")),
        ("seq2seq, 40 letters", lambda: plots.draw_seq2seq("a" * 40, "b" * 40, title="long")),
        ("attention, 3 tokens", lambda: plots.plot_attention(torch.eye(3), list("abc"), list("cba"))),
        (
            "attention, 40 pieces",
            lambda: plots.plot_attention(torch.rand(40, 40), _tokens(40), _tokens(40, "▁sortie"), title="40 pieces"),
        ),
        ("attention, 150 letters", lambda: plots.plot_attention(torch.rand(5, 150), ["x"] * 150, list("abcde"))),
        ("beam tree, 2 steps", lambda: plots.plot_beam_tree(_beam_history(), ["<pad>", "<sos>", "<eos>", "a", "b"])),
        ("beam tree, 20 steps", lambda: plots.plot_beam_tree(_beam(20, width=4), itos, title="long")),
        ("heads, 1 x 1", lambda: plots.plot_attention_heads([torch.rand(1, 3, 3)], list("abc"), list("abc"))),
        (
            "heads, 3 layers x 4",
            lambda: plots.plot_attention_heads(
                [torch.rand(4, 21, 21)] * 3,
                list("abcdefghijjihgfedcba") + ["<eos>"],
                list("abcdefghijjihgfedcba") + ["<eos>"],
                title="cross-attention: output step (rows) x source position (columns)",
            ),
        ),
        ("heads, 16", lambda: plots.plot_attention_heads([torch.rand(16, 5, 5)], list("abcde"), list("abcde"))),
        ("attention browser, 3 letters", lambda: _browser_figure(list("abc"), list("cba"), torch.eye(3), 1)),
        ("attention browser, 40 pieces", lambda: _browser_figure(_tokens(40), _tokens(41), torch.rand(41, 40), 3)),
    ]


@pytest.mark.parametrize("name, build", _figures(), ids=[name for name, _ in _figures()])
def test_every_figure_fits_the_notebook_column_with_legible_text(name, build):
    from seq2seq_helpers.plots import MAX_FIGURE_PX, MIN_TEXT_PX

    fig = build()
    assert _saved_png_width(fig) <= MAX_FIGURE_PX, f"{name}: wider than JupyterLab's output column"
    small = {text: px for text, px in _text_sizes_px(fig).items() if px < MIN_TEXT_PX}
    assert not small, f"{name}: text below {MIN_TEXT_PX} px: {small}"


def test_the_figure_rule_can_fail():
    """The two measures catch what they are for: a 12-inch figure, 6-point text."""
    from seq2seq_helpers.plots import MAX_FIGURE_PX, MIN_TEXT_PT, MIN_TEXT_PX, figure_width_px, smallest_text_px

    assert MAX_FIGURE_PX == 960 and MIN_TEXT_PT == pytest.approx(7.2)
    fig, ax = plt.subplots(figsize=(12, 3))
    ax.plot([0, 1], [0, 1])
    assert _saved_png_width(fig) > MAX_FIGURE_PX
    assert abs(figure_width_px(fig) - _saved_png_width(fig)) <= 2  # the package's measure agrees with the PNG
    ax.set_title("tiny", fontsize=6)
    assert _text_sizes_px(fig)["tiny"] < MIN_TEXT_PX and smallest_text_px(fig) < MIN_TEXT_PX


def test_content_too_large_for_the_width_is_cut_with_a_note_not_shrunk():
    from seq2seq_helpers import plots

    fig = plots.draw_seq2seq("a" * 40, "b" * 40)
    assert any(
        t.get_text().startswith("drawn: the first") and "of 40 source" in t.get_text() for t in fig.axes[0].texts
    )
    ax = plots.plot_attention(torch.rand(5, 150), ["x"] * 150, list("abcde")).axes[0]
    assert "token labelled" in ax.get_xlabel()
    labelled = [t for t in ax.get_xticklabels() if t.get_text()]
    assert 10 < len(labelled) < 150
    ax = plots.plot_attention(torch.rand(40, 40), _tokens(40), _tokens(40)).axes[0]
    assert len(ax.get_xticklabels()) == 40 and "labelled" not in ax.get_xlabel()  # 40 pieces: every one labelled
    assert all(t.get_rotation() == 90 for t in ax.get_xticklabels())  # on their side, at full size
    ax = plots.plot_beam_tree(_beam(20), ["<pad>", "<sos>", "<eos>", "a", "b", "c", "d", "e"]).axes[0]
    assert "not drawn" in ax.get_xlabel() and ax.get_xticklabels()[-1].get_text() == "step 19"
    fig = plots.plot_attention_heads([torch.rand(16, 5, 5)], list("abcde"), list("abcde"))
    assert "of 16 drawn" in fig._suptitle.get_text()


def test_a_score_at_the_top_of_its_scale_is_drawn_whole():
    """A BLEU of 100 on a 0-100 axis: the marker stays below the axes' top, and nothing clips it."""
    from seq2seq_helpers.plots import plot_lines

    h = History(steps=[1, 2], loss=[1.0, 0.5], lr=[0.1, 0.1], eval_steps=[1, 2], evals=[{"BLEU": 100.0}] * 2)
    _, sweep_ax = plt.subplots(figsize=(4, 3))
    plot_lines(sweep_ax, [1, 2, 5], {"beam": [100.0, 100.0, 100.0]}, ylim=(0, 100))
    for ax in (plot_history(h, metrics=("BLEU",)).axes[1], sweep_ax):
        ax.figure.canvas.draw()
        (line, *_) = ax.get_lines()
        assert not line.get_clip_on()
        top_px = ax.transData.transform((0, ax.get_ylim()[1]))[1]
        point_px = ax.transData.transform((0, 100.0))[1]
        radius_px = line.get_markersize() / 2 * ax.figure.dpi / 72
        assert top_px - point_px > radius_px, "the marker at 100 would touch the top spine"


def _assert_told_apart(lines):
    styles = [(line.get_marker(), str(line.get_linestyle()), line.get_color()) for line in lines]
    assert len(set(styles)) == len(styles), styles
    sizes = [line.get_markersize() for line in lines]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)  # later ones nest inside


def test_series_that_coincide_are_told_apart():
    """Lesson 07's length penalties give the same BLEU: each curve keeps its own marker and dashes, each marker
    smaller than the one under it, so all of them show."""
    from seq2seq_helpers.plots import plot_lines

    fig, ax = plt.subplots()
    lines = plot_lines(ax, [1, 2, 5], {f"α = {a}": [99.0, 99.5, 99.5] for a in (0.0, 0.5, 1.0)}, ylim=(90, 100))
    _assert_told_apart(lines)
    assert ax.get_ylim() == pytest.approx((90, 100.5))
    fig = plot_history({"gru": _history(), "gru again": _history()}, metrics=("exact_match",))
    _assert_told_apart(fig.axes[1].get_lines())
    styles = [str(line.get_linestyle()) for line in fig.axes[0].get_lines() if line.get_label() in ("gru", "gru again")]
    assert len(set(styles)) == 2  # the two loss curves too
    with pytest.raises(ValueError, match="values for 3 x"):
        plot_lines(ax, [1, 2, 5], {"short": [1.0]})


@pytest.mark.parametrize("n", [8, 30, 60])
def test_accuracy_by_length_labels_never_run_together(n):
    """Lesson 08's 30 lengths were labelled '101112...2930': the labels shown keep apart, and there are still
    enough of them to read the axis (the first length is always labelled)."""
    import matplotlib.pyplot as plt

    from seq2seq_helpers.plots import plot_accuracy_by_length

    per_length = {length: {"exact_match": 1.0 - 0.01 * (length % 3)} for length in range(1, n + 1)}
    fig = plot_accuracy_by_length({"a": per_length, "b": per_length})
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    shown = [t for t in ax.get_xticklabels() if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in shown]
    assert shown[0].get_text() == "1"
    assert len(shown) >= min(n, 8), [t.get_text() for t in shown]
    for left, right in zip(boxes, boxes[1:]):
        assert right.x0 - left.x1 >= 2, f"labels touch: {[t.get_text() for t in shown]}"
    plt.close(fig)
