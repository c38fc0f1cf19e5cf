"""The widgets build, react to their controls, and show friendly errors (no browser needed here)."""

import matplotlib
import pytest

from seq2seq_helpers.widgets import schedule_explorer, text_to_text_demo

matplotlib.use("Agg")


def test_text_demo_shows_the_transform_and_friendly_errors():
    def upper(text):
        if "!" in text:
            raise ValueError("no '!' please")
        return text.upper()

    demo = text_to_text_demo(upper, value="abc")
    box, answer = demo.children
    assert "ABC" in answer.value
    box.value = "xy"  # the observer fires as in the browser
    assert "XY" in answer.value
    box.value = "a!"
    assert "no &#x27;!&#x27; please" in answer.value and "⚠" in answer.value
    box.value = ""
    assert "type something" in answer.value


def test_text_demo_rejects_a_non_function():
    with pytest.raises(TypeError, match="function"):
        text_to_text_demo("not callable")


def test_schedule_explorer_reports_the_schedule_it_draws():
    demo = schedule_explorer(total_steps=100)
    note = demo.children[1]
    assert "half-way: <b>0.50</b>" in note.value  # the default k puts the inverse sigmoid at 1/2 half-way
    assert "step 0: <b>0.9" in note.value  # k / (k + 1) with k ln k = 50, about 0.95
    demo.controls["kind"].value = "linear"
    assert "step 0: <b>1.00</b>" in note.value and "half-way: <b>0.50</b>" in note.value
    assert "end: <b>0.00</b>" in note.value
    demo.controls["min_ratio"].value = 0.5
    assert "end: <b>0.50</b>" in note.value


@pytest.mark.parametrize("bad, error", [(1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_schedule_explorer_rejects_bad_steps(bad, error):
    with pytest.raises(error, match="total_steps"):
        schedule_explorer(total_steps=bad)


def test_attention_browser_follows_its_sliders():
    from seq2seq_helpers.widgets import attention_browser

    weights = [[0.0, 0.1, 0.9], [0.1, 0.8, 0.1], [0.7, 0.2, 0.1]]
    demo = attention_browser([(list("abc"), list("cba"), weights), (list("xy"), list("yx"), [[0.2, 0.8], [0.6, 0.4]])])
    note = demo.children[1]
    assert "writes <b>c</b>" in note.value and "position 2" in note.value
    demo.controls["step"].value = 2
    assert "writes <b>a</b>" in note.value and "position 0" in note.value
    demo.controls["example"].value = 1
    assert demo.controls["step"].max == 1
    assert "writes <b>x</b>" in note.value and "weight 0.60" in note.value


def test_attention_browser_grows_with_the_example():
    from seq2seq_helpers.plots import MAX_FIGURE_IN
    from seq2seq_helpers.widgets import _browser_size

    small, long = _browser_size(3, 4), _browser_size(30, 31)
    assert small == (9.0, 3.2)  # short examples keep the old size
    assert long[1] / 31 >= 0.18  # every row keeps its room on 30 letters
    assert long[0] <= MAX_FIGURE_IN < 0.3 * 30 + 3.5  # columns narrow instead of passing the width rule


def test_attention_browser_needs_examples():
    from seq2seq_helpers.widgets import attention_browser

    with pytest.raises(ValueError, match="at least one"):
        attention_browser([])


def test_beam_stepper_lists_each_steps_hypotheses():
    from seq2seq_helpers.decoding import BeamNode
    from seq2seq_helpers.widgets import beam_stepper

    history = [
        [BeamNode(-1, 3, -0.5, False), BeamNode(-1, 4, -0.9, False)],
        [BeamNode(0, 3, -1.7, False), BeamNode(1, 2, -1.0, True)],
    ]
    demo = beam_stepper(history, ["<pad>", "<sos>", "<eos>", "a", "b"], best=[4, 2])
    table = demo.children[1]
    assert "2 live, 0 finished" in table.value and "<code>a</code>" in table.value
    demo.controls["step"].value = 1
    assert "1 live, 1 finished" in table.value
    assert table.value.index("b &lt;eos&gt;") < table.value.index("a a")  # best first: -1.0 before -1.7
    history[1].append(BeamNode(0, 4, -2.0, False))  # step 1 now holds 3 hypotheses, step 0 only 2
    demo = beam_stepper(history, ["<pad>", "<sos>", "<eos>", "a", "b"], best=[4, 2])
    rows_at = {}
    for t in (1, 0):  # the table keeps one number of rows (a stable height) at every step
        demo.controls["step"].value = t
        rows_at[t] = demo.children[1].value.count("<tr>")
    assert rows_at[0] == rows_at[1] == 4, rows_at  # header + the 3 rows of the fullest step
    with pytest.raises(ValueError, match="needs one input's history"):
        beam_stepper([], ["a"])


def _fake_translate(text, choice="up"):
    if "!" in text:
        raise ValueError("no '!' please")
    output = text.upper() if choice == "up" else text.lower()
    n = len(text)
    return {
        "output": output,
        "beam": [(output, -0.1), (output[::-1], -2.5)],
        "src_tokens": list(text),
        "out_tokens": list(output) + ["<eos>"],
        "weights": [[1.0 if j == min(i, n - 1) else 0.0 for j in range(n)] for i in range(n + 1)],
    }


def test_translation_explorer_shows_output_beam_and_heatmap(monkeypatch):
    import seq2seq_helpers.plots
    from seq2seq_helpers.widgets import translation_explorer

    drawn = []
    real_plot = seq2seq_helpers.plots.plot_attention

    def spy(weights, src_tokens, out_tokens, **kwargs):
        drawn.append((src_tokens, out_tokens))
        return real_plot(weights, src_tokens, out_tokens, **kwargs)

    monkeypatch.setattr(seq2seq_helpers.plots, "plot_attention", spy)
    demo = translation_explorer(_fake_translate, choices=["up", "down"], value="abc")
    answer = demo.children[1]
    assert "output: <code" in answer.value and "ABC" in answer.value
    assert "CBA" in answer.value and "-2.500" in answer.value  # the second beam hypothesis and its score
    assert drawn == [(list("abc"), list("ABC") + ["<eos>"])]  # the heatmap of the best hypothesis
    demo.controls["choice"].value = "down"  # the observer fires as in the browser
    assert "abc" in answer.value and "ABC" not in answer.value
    demo.controls["text"].value = "Hi"
    assert "hi" in answer.value
    demo.show("xy!")
    assert "⚠" in answer.value and "no &#x27;!&#x27; please" in answer.value
    assert len(drawn) == 3  # no heatmap for an error
    demo.show("")
    assert "type something" in answer.value


def test_translation_explorer_without_choices_calls_translate_with_the_text_only():
    from seq2seq_helpers.widgets import translation_explorer

    demo = translation_explorer(lambda text: _fake_translate(text), value="ok")
    assert set(demo.controls) == {"text"} and "OK" in demo.children[1].value


def test_translation_explorer_rejects_bad_arguments_and_results():
    from seq2seq_helpers.widgets import translation_explorer

    with pytest.raises(TypeError, match="function"):
        translation_explorer("not callable")
    with pytest.raises(ValueError, match="not one of"):
        translation_explorer(_fake_translate, choices=["up"], choice="sideways")
    with pytest.raises(ValueError, match="non-empty list"):
        translation_explorer(_fake_translate, choices=[])
    with pytest.raises(TypeError, match="beam"):
        translation_explorer(lambda text: {"output": text}, value="x")


def test_every_front_end_says_run_this_cell_where_no_kernel_draws_it():
    """The text form (what GitHub, Colab before a run and an untrusted notebook show) is one friendly line that
    survives ipywidgets' 110-character cut, never the raw ``VBox(children=...`` repr; the widget is still a VBox."""
    import ipywidgets

    from seq2seq_helpers.widgets import LessonWidget

    demo = text_to_text_demo(lambda text: text[::-1], description="reverse", value="abc")
    assert isinstance(demo, LessonWidget) and isinstance(demo, ipywidgets.VBox)
    text = repr(demo)
    assert text.startswith("▶ Run this cell to use the try-it-yourself box") and len(text) <= 110, text
    bundle = demo._repr_mimebundle_() if hasattr(demo, "_repr_mimebundle_") else None
    if bundle is not None:  # ipywidgets 8: this is the notebook's text/plain
        assert bundle["text/plain"] == text


def test_progress_bars_in_a_notebook_leave_no_closed_widget_behind(tmp_path):
    """In a real kernel: a closed ``leave=False`` bar (fit's) replaces its display with an empty one, so a saved
    notebook never points at a closed widget; a bar that failed (stopped short) and a ``leave=True`` bar stay."""
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "from seq2seq_helpers.training import progress_bar\n"
        "with progress_bar(total=3, desc='transient') as bar:\n    for _ in range(3):\n        bar.update()",
        "bar = progress_bar(total=5, desc='stopped short')\nbar.update(2)\nbar.close()",
        "with progress_bar(total=2, desc='kept', leave=True) as bar:\n    bar.update(2)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    from kernels import quiet_widgets

    quiet_widgets(
        NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    ).execute()
    view = "application/vnd.jupyter.widget-view+json"
    transient, failed, kept = ([o.get("data", {}) for o in c.outputs] for c in nb.cells)
    assert transient == [{"text/plain": ""}], transient
    assert len(failed) == 1 and view in failed[0], failed
    assert len(kept) == 1 and view in kept[0], kept


def test_progress_bar_outside_a_notebook_is_tqdms_own():
    import io

    from tqdm.auto import tqdm

    from seq2seq_helpers.training import progress_bar

    stream = io.StringIO()
    bar = progress_bar(range(4), "text", file=stream, mininterval=0)
    assert type(bar) is tqdm, type(bar)
    assert list(bar) == [0, 1, 2, 3]  # iterates like tqdm, and closes at the end
    assert "text" in stream.getvalue() and "4/4" in stream.getvalue()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"leave": "no"}, TypeError, "leave must be True or False"),
        ({"disable": 1}, TypeError, "disable must be True or False"),
        ({"desc": 3}, TypeError, "desc must be a string"),
    ],
)
def test_progress_bar_rejects_flags_that_are_not_flags(kwargs, error, match):
    """A truthy string is not a flag: leave='no' would keep the bar, so it is refused at the door."""
    from seq2seq_helpers.training import progress_bar

    with pytest.raises(error, match=match):
        progress_bar(range(2), **kwargs)
