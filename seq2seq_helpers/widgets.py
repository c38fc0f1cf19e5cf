"""ipywidgets front-ends for the lessons.

Only widgets and calls that exist in both ipywidgets 7.7 (what Colab ships) and 8 (JupyterLab 4) are
used: ``Text``, ``HTML``, ``VBox``, ``Layout`` and ``observe(..., names="value")``.

Every front-end is a :class:`LessonWidget`: a ``VBox`` whose plain-text form (what a notebook shows where no
live kernel draws the widget: GitHub, Colab before a run, a notebook that is not trusted, the committed lessons)
tells the learner to run the cell, instead of ipywidgets' ``VBox(children=(HBox(...`` repr.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets

from . import _validate

# ipywidgets cuts a widget's text/plain at 110 characters; every fallback line stays below that
_FALLBACK_LIMIT = 110


class LessonWidget(widgets.VBox):
    """A lesson's interactive widget: a ``VBox`` whose text form says what it is and that it needs a run.

    ``name`` says what the widget is ("attention browser"); ``repr(widget)`` (the notebook's text/plain
    fallback) reads "▶ Run this cell to use the attention browser (an interactive widget: it needs a running
    kernel)". Built by every front-end in this module.
    """

    def __init__(self, children, name: str, **kwargs):
        super().__init__(children, **kwargs)
        self.lesson_name = name

    def __repr__(self) -> str:
        text = f"▶ Run this cell to use the {self.lesson_name} (an interactive widget: it needs a running kernel)"
        return text if len(text) <= _FALLBACK_LIMIT else f"▶ Run this cell to use the {self.lesson_name}"


def text_to_text_demo(
    transform: Callable[[str], str],
    description: str = "input",
    value: str = "",
    placeholder: str = "type here",
    label: str = "model output",
) -> LessonWidget:
    """A text box and the model's answer below it, updated as the learner types.

    ``transform(text) -> str`` is any function, e.g. one that encodes, decodes greedily and detokenizes.
    A ``ValueError`` it raises (an unknown character, say) is shown as a friendly message, not a traceback.
    Lesson 01 §8 (try it yourself).
    """
    if not callable(transform):
        raise TypeError(f"transform must be a function str -> str, got {type(transform).__name__}")
    for name, text in (("description", description), ("value", value), ("placeholder", placeholder), ("label", label)):
        _validate.string(text, name, "input", allow_empty=True)
    box = widgets.Text(
        value=value,
        description=description,
        placeholder=placeholder,
        continuous_update=True,
        layout=widgets.Layout(width="420px"),
    )
    answer = widgets.HTML()

    def show(text: str) -> None:
        if not text:
            answer.value = f"<i>{html.escape(label)}: type something above</i>"
            return
        try:
            result = transform(text)
        except ValueError as err:
            answer.value = f"<span style='color:#b00'>⚠ {html.escape(str(err))}</span>"
            return
        answer.value = f"{html.escape(label)}: <code style='font-size:1.2em'>{html.escape(str(result))}</code>"

    box.observe(lambda change: show(change["new"]), names="value")
    show(value)
    demo = LessonWidget([box, answer], "try-it-yourself box")
    demo.show = show  # lets a test (or a curious learner) drive the widget without a browser
    return demo


def schedule_explorer(total_steps: int = 1000, min_ratio: float = 0.0) -> LessonWidget:
    """Explore teacher-forcing schedules: pick a kind and a floor, see the ratio over training.

    Uses ``Dropdown``, ``FloatSlider``, ``HTML`` and ``Output``, which behave the same in ipywidgets 7.7
    and 8. The schedules are :func:`seq2seq_helpers.training.teacher_forcing_schedule` with its default ``k``
    (lesson 03 §3).
    """
    import matplotlib.pyplot as plt

    from .plots import PALETTE
    from .training import teacher_forcing_schedule

    _validate.integer(total_steps, "total_steps", minimum=2)
    _validate.number(min_ratio, "min_ratio", 0.0, 0.95, hint=" (the slider's range)")
    kind = widgets.Dropdown(
        options=["linear", "exponential", "inverse_sigmoid"], value="inverse_sigmoid", description="schedule"
    )
    floor = widgets.FloatSlider(
        value=min_ratio, min=0.0, max=0.95, step=0.05, description="min ratio", continuous_update=False
    )
    note = widgets.HTML()
    out = widgets.Output()

    def draw(*_):
        schedule = teacher_forcing_schedule(kind.value, total_steps, min_ratio=floor.value)
        steps = list(range(0, total_steps + 1, max(1, total_steps // 200)))
        values = [schedule(s) for s in steps]
        note.value = (
            f"teacher-forcing ratio at step 0: <b>{values[0]:.2f}</b>, half-way: "
            f"<b>{schedule(total_steps // 2):.2f}</b>, at the end: <b>{values[-1]:.2f}</b>"
        )
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(5.5, 2.6))
            ax.plot(steps, values, color=PALETTE[1])
            ax.set(
                xlabel="training step",
                ylabel="teacher-forcing ratio",
                ylim=(-0.02, 1.02),
                title=f"{kind.value} schedule",
            )
            ax.grid(alpha=0.3)
            plt.show()

    kind.observe(draw, names="value")
    floor.observe(draw, names="value")
    draw()
    demo = LessonWidget([widgets.HBox([kind, floor]), note, out], "schedule explorer")
    demo.controls = {"kind": kind, "min_ratio": floor}  # lets a test drive the widget without a browser
    return demo


def _browser_size(src_len: int, out_len: int) -> tuple[float, float]:
    """The attention browser's figure size in inches for an example of ``src_len`` source and ``out_len`` output
    tokens: it grows down with the example, so that each row label keeps about 0.18 inch (a 30-letter string
    gets a figure about 7 inches tall instead of squeezing 31 rows into 3), and keeps within the course's width
    rule (``plots.MAX_FIGURE_PX``): past that the columns narrow and their labels turn or thin
    (``plots.token_ticks``)."""
    from .plots import MAX_FIGURE_IN

    return min(MAX_FIGURE_IN - 0.4, max(9.0, 0.3 * src_len + 3.5)), max(3.2, 0.18 * out_len + 1.4)


def _browser_figure(src_tokens, out_tokens, weights, t: int):
    """The attention browser's picture at step ``t``: the heatmap with the step marked, and that step's weights."""
    import matplotlib.pyplot as plt

    from .plots import PALETTE, _fit_width, plot_attention, token_ticks

    row = [float(w) for w in list(weights[t])[: len(src_tokens)]]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=_browser_size(len(src_tokens), len(out_tokens)), gridspec_kw={"width_ratios": [3, 2]}
    )
    plot_attention(weights, src_tokens, out_tokens, ax=left, highlight_step=t, title="all steps")
    fig.colorbar(left.images[0], ax=left, fraction=0.05, pad=0.02, label="attention weight")
    right.bar(range(len(row)), row, color=PALETTE[0])
    token_ticks(right, "x", src_tokens)
    right.set(ylim=(0, 1), title=f"step {t}: weights over the source")
    _fit_width(fig)
    return fig


def attention_browser(examples) -> LessonWidget:
    """Browse decoded examples and each decoding step's attention weights.

    ``examples``: a list of ``(src_tokens, out_tokens, weights [out_len, src_len])``, e.g. built from
    ``greedy_decode(...).attention``. An example slider picks the string, a step slider the decoding step;
    the heatmap marks the step and a bar chart shows that step's weights over the source (lesson 04 §4).
    """
    import matplotlib.pyplot as plt

    if isinstance(examples, (str, bytes)) or not hasattr(examples, "__iter__"):
        raise TypeError(f"examples must be a list of (src_tokens, out_tokens, weights), got {type(examples).__name__}")
    examples = list(examples)
    if not examples:
        raise ValueError("attention_browser needs at least one (src_tokens, out_tokens, weights) example")
    for i, example in enumerate(examples):
        if not (isinstance(example, (tuple, list)) and len(example) == 3):
            raise TypeError(
                f"examples[{i}] must be a triple (src_tokens, out_tokens, weights), got {type(example).__name__}"
            )
        src_tokens, out_tokens, weights = example
        if not len(src_tokens) or not len(out_tokens):
            raise ValueError(f"examples[{i}] has no source or no output tokens; each needs at least one")
        shape = list(getattr(weights, "shape", [len(weights), len(weights[0]) if len(weights) else 0]))
        if len(shape) != 2 or shape[0] < len(out_tokens) or shape[1] < len(src_tokens):
            raise ValueError(
                f"examples[{i}]: weights of shape {shape} do not cover {len(out_tokens)} output x "
                f"{len(src_tokens)} source tokens; pass weights [out_len, src_len]"
            )
    example = widgets.IntSlider(value=0, min=0, max=len(examples) - 1, description="example", continuous_update=False)
    step = widgets.IntSlider(
        value=0, min=0, max=max(0, len(examples[0][1]) - 1), description="step", continuous_update=False
    )
    note = widgets.HTML()
    out = widgets.Output()

    def draw(*_):
        src_tokens, out_tokens, weights = examples[example.value]
        step.max = max(0, len(out_tokens) - 1)
        t = min(step.value, step.max)
        row = [float(w) for w in list(weights[t])[: len(src_tokens)]]
        best = max(range(len(row)), key=row.__getitem__)
        note.value = (
            f"step {t}: the decoder writes <b>{html.escape(str(out_tokens[t]))}</b> while looking mostly "
            f"at source position {best} (<b>{html.escape(str(src_tokens[best]))}</b>, weight {row[best]:.2f})"
        )
        with out:
            out.clear_output(wait=True)
            _browser_figure(src_tokens, out_tokens, weights, t)
            plt.show()

    example.observe(draw, names="value")
    step.observe(draw, names="value")
    draw()
    demo = LessonWidget([widgets.HBox([example, step]), note, out], "attention browser")
    demo.controls = {"example": example, "step": step}
    return demo


def beam_stepper(history, itos, best=None, title: str = "beam search") -> LessonWidget:
    """Step through one beam search: a slider picks the step, the tree shows the search so far and a table
    lists that step's live hypotheses (best first) and the ones that finished. Figure and table keep one
    size from step 0 to the last, so the page does not jump as the slider moves.

    ``history``: ``beam_search(..., return_history=True).history[b]``; ``itos``: ``vocab.itos``;
    ``best``: the returned best token ids (their path is drawn in orange). Lesson 05 §4.
    """
    import matplotlib.pyplot as plt

    from .plots import _beam_tree_nodes, _check_beam_history, plot_beam_tree

    if not isinstance(history, (list, tuple)) or not history:
        raise ValueError("beam_stepper needs one input's history: beam_search(..., return_history=True).history[b]")
    _check_beam_history(history, itos)
    _validate.string(title, "title", "beam search", allow_empty=True)
    nodes = _beam_tree_nodes(history)
    most_rows = max(len(nodes_at_step) for nodes_at_step in history)  # the table keeps this many rows at every step
    step = widgets.IntSlider(value=0, min=0, max=len(history) - 1, description="step", continuous_update=False)
    table = widgets.HTML()
    out = widgets.Output()

    def text(tokens):
        return html.escape(" ".join(str(itos[i]) if 0 <= i < len(itos) else str(i) for i in tokens))

    def draw(*_):
        t = step.value
        here = sorted((n for n in nodes if n[0] == t), key=lambda n: -n[2].log_prob)
        rows = "".join(
            f"<tr><td>{'finished' if node.finished else 'live'}</td><td><code>{text(prefix)}</code></td>"
            f"<td style='text-align:right'>{node.log_prob:.3f}</td></tr>"
            for _, _, node, prefix, _ in here
        )
        rows += "<tr><td>&nbsp;</td><td></td><td></td></tr>" * (most_rows - len(here))  # blank rows: a stable height
        table.value = (
            f"<b>step {t}</b>: {sum(not n[2].finished for n in here)} live, "
            f"{sum(n[2].finished for n in here)} finished this step"
            f"<table><tr><th>state</th><th>hypothesis</th><th>log-prob</th></tr>{rows}</table>"
        )
        with out:
            out.clear_output(wait=True)
            plot_beam_tree(history, itos, best=best, upto_step=t, title=title)
            plt.show()

    step.observe(draw, names="value")
    draw()
    demo = LessonWidget([step, table, out], "beam-search stepper")
    demo.controls = {"step": step}
    return demo


def translation_explorer(
    translate: Callable,
    choices=None,
    value: str = "",
    choice=None,
    description: str = "input",
    choice_description: str = "locale",
    placeholder: str = "type here",
) -> LessonWidget:
    """Type a source, see the model's output, its beam's n-best list with scores, and the attention heatmap.

    ``translate(text)`` (or ``translate(text, choice)`` when ``choices`` is given, e.g. a list of locales shown
    as a dropdown) returns a dict with:

    * ``"output"``: the best hypothesis as text;
    * ``"beam"``: the n-best list, ``[(text, score), ...]`` best first;
    * ``"src_tokens"``, ``"out_tokens"``, ``"weights"`` (``[out_len, src_len]``): the best hypothesis's
      attention, as :func:`seq2seq_helpers.plots.plot_attention` takes them.

    A ``ValueError`` raised by ``translate`` (an unknown character, say) is shown as a friendly message.
    Uses only ``Text``, ``Dropdown``, ``HTML``, ``Output``, ``HBox`` and ``VBox`` (ipywidgets 7.7 and 8).
    ``demo.controls`` holds the controls and ``demo.show(text)`` redraws, so tests need no browser.
    Lesson 06 §4 (try your own dates).
    """
    import matplotlib.pyplot as plt

    from .plots import plot_attention

    if not callable(translate):
        raise TypeError(f"translate must be a function text -> dict, got {type(translate).__name__}")
    for name, text in (
        ("value", value),
        ("description", description),
        ("choice_description", choice_description),
        ("placeholder", placeholder),
    ):
        _validate.string(text, name, "input", allow_empty=True)
    if choices is not None:
        if isinstance(choices, (str, bytes)) or not hasattr(choices, "__iter__"):
            raise TypeError(f"choices must be a list, e.g. ['en_US', 'fr_FR'], or None; got {choices!r}")
        if not list(choices):
            raise ValueError("choices must be a non-empty list, e.g. ['en_US', 'fr_FR'], or None")
        choices = list(choices)
        if choice is None:
            choice = choices[0]
        if choice not in choices:
            raise ValueError(f"choice {choice!r} is not one of the choices {choices}")
    box = widgets.Text(
        value=value,
        description=description,
        placeholder=placeholder,
        continuous_update=False,
        layout=widgets.Layout(width="420px"),
    )
    dropdown = (
        widgets.Dropdown(options=choices, value=choice, description=choice_description) if choices is not None else None
    )
    answer = widgets.HTML()
    out = widgets.Output()

    def run(text: str):
        result = translate(text, dropdown.value) if dropdown is not None else translate(text)
        missing = {"output", "beam", "src_tokens", "out_tokens", "weights"} - set(result or {})
        if missing:
            raise TypeError(
                f"translate must return a dict with {sorted(missing)} too; see translation_explorer's docstring"
            )
        return result

    def show(text: str | None = None) -> None:
        if text is not None and text != box.value:
            box.value = text  # the observer calls show() again
            return
        text = box.value
        out.clear_output()
        if not text:
            answer.value = "<i>type something above</i>"
            return
        try:
            result = run(text)
        except ValueError as err:
            answer.value = f"<span style='color:#b00'>⚠ {html.escape(str(err))}</span>"
            return
        rows = "".join(
            f"<tr><td>{i + 1}</td><td><code>{html.escape(str(hyp))}</code></td><td>{float(score):.3f}</td></tr>"
            for i, (hyp, score) in enumerate(result["beam"])
        )
        answer.value = (
            f"output: <code style='font-size:1.2em'>{html.escape(str(result['output']))}</code>"
            f"<table><tr><th>#</th><th>beam hypothesis</th><th>score</th></tr>{rows}</table>"
        )
        with out:
            fig = plot_attention(
                result["weights"], result["src_tokens"], result["out_tokens"], title="attention of the best hypothesis"
            )
            plt.show()
            plt.close(fig)

    box.observe(lambda change: show(), names="value")
    controls = {"text": box}
    top = [box]
    if dropdown is not None:
        dropdown.observe(lambda change: show(), names="value")
        controls["choice"] = dropdown
        top = [dropdown, box]
    show()
    demo = LessonWidget([widgets.HBox(top), answer, out], "try-your-own-input box")
    demo.controls = controls
    demo.show = show  # lets a test (or a curious learner) drive the widget without a browser
    return demo


def attention_heads_browser(maps, src_tokens, out_tokens, in_tokens=None) -> LessonWidget:
    """Pick an attention (encoder self-attention, decoder self-attention, cross-attention), a layer and a head,
    and see its heatmap for one example (lesson 08).

    ``maps``: ``{kind: [per layer: weights [heads, query_len, key_len]]}`` for ONE example, e.g. row ``b`` of
    ``TransformerSeq2Seq.attention_maps``; ``src_tokens``: the encoder positions' tokens; ``out_tokens``: what
    the decoder writes at each step; ``in_tokens``: what it reads (default ``<sos>`` then ``out_tokens[:-1]``).
    Kinds whose name says "encoder" are drawn source x source, "decoder self" output x input, the rest
    output x source. Uses ``Dropdown``, ``IntSlider``, ``HTML`` and ``Output`` (ipywidgets 7.7 and 8).
    """
    import matplotlib.pyplot as plt

    from .plots import plot_attention

    if not isinstance(maps, dict) or not maps:
        raise ValueError("maps must be a non-empty dict {kind: [weights [heads, query_len, key_len] per layer]}")
    for kind, layers in maps.items():
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or not len(layers):
            raise ValueError(f"maps[{kind!r}] must be a non-empty list with one [heads, query, key] entry per layer")
    src_tokens, out_tokens = list(src_tokens), list(out_tokens)
    in_tokens = ["<sos>"] + out_tokens[:-1] if in_tokens is None else list(in_tokens)
    kinds = list(maps)
    kind = widgets.Dropdown(options=kinds, value=kinds[0], description="attention")
    layer = widgets.IntSlider(value=0, min=0, max=len(maps[kinds[0]]) - 1, description="layer", continuous_update=False)
    head = widgets.IntSlider(
        value=0, min=0, max=len(maps[kinds[0]][0]) - 1, description="head", continuous_update=False
    )
    note = widgets.HTML()
    out = widgets.Output()

    def axes_tokens(name: str):
        if "encoder" in name:
            return src_tokens, src_tokens, "source (keys)", "source (queries)"
        if "decoder self" in name:
            return out_tokens, in_tokens, "decoder input (keys)", "output (decoder steps)"
        return out_tokens, src_tokens, "source (encoder positions)", "output (decoder steps)"

    def draw(*_):
        layers = maps[kind.value]
        layer.max = len(layers) - 1
        head.max = len(layers[min(layer.value, layer.max)]) - 1
        weights = layers[min(layer.value, layer.max)][min(head.value, head.max)]
        rows, cols, xlabel, ylabel = axes_tokens(kind.value)
        matrix = [[float(w) for w in list(row)[: len(cols)]] for row in list(weights)[: len(rows)]]
        r, c = max(
            ((i, j) for i in range(len(matrix)) for j in range(len(matrix[i]))), key=lambda ij: matrix[ij[0]][ij[1]]
        )
        note.value = (
            f"{html.escape(kind.value)}, layer {layer.value}, head {head.value}: the strongest weight, "
            f"<b>{matrix[r][c]:.2f}</b>, goes from <b>{html.escape(str(rows[r]))}</b> (row {r}) to "
            f"<b>{html.escape(str(cols[c]))}</b> (column {c})"
        )
        with out:
            out.clear_output(wait=True)
            fig = plot_attention(weights, cols, rows, title=f"{kind.value}, layer {layer.value}, head {head.value}")
            fig.axes[0].set(xlabel=xlabel, ylabel=ylabel)
            plt.show()
            plt.close(fig)

    for control in (kind, layer, head):
        control.observe(draw, names="value")
    draw()
    demo = LessonWidget([widgets.HBox([kind, layer, head]), note, out], "attention-heads browser")
    demo.controls = {"kind": kind, "layer": layer, "head": head}
    return demo
