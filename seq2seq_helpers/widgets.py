"""ipywidgets front-ends for the lessons.

Only widgets and calls that exist in both ipywidgets 7.7 (what Colab ships) and 8 (JupyterLab 4) are
used: ``Text``, ``HTML``, ``VBox``, ``Layout`` and ``observe(..., names="value")``.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets


def text_to_text_demo(transform: Callable[[str], str], description: str = "input", value: str = "",
                      placeholder: str = "type here", label: str = "model output") -> widgets.VBox:
    """A text box and the model's answer below it, updated as the learner types.

    ``transform(text) -> str`` is any function, e.g. one that encodes, decodes greedily and detokenizes.
    A ``ValueError`` it raises (an unknown character, say) is shown as a friendly message, not a traceback.
    """
    if not callable(transform):
        raise TypeError(f"transform must be a function str -> str, got {type(transform).__name__}")
    box = widgets.Text(value=value, description=description, placeholder=placeholder, continuous_update=True,
                       layout=widgets.Layout(width="420px"))
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
    demo = widgets.VBox([box, answer])
    demo.show = show  # lets a test (or a curious learner) drive the widget without a browser
    return demo
