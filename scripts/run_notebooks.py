"""Re-execute lessons top to bottom and save them with their outputs: what gets committed.

    python scripts/run_notebooks.py notebooks/*.ipynb      (or: make notebooks)

Runs each notebook in a fresh kernel from this environment, in the notebook's folder (as nbval does),
keeps each interactive widget's text form ("▶ Run this cell to use the ...") and no widget state, drops
progress bars and closed widgets (they would show timings or "model not found"), and records no timings.
It names the cells that ran longer than 5 s without showing a progress bar (--no-save: only run and report).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbexec import notebook_client

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _refs(value) -> set[str]:
    """Model ids a widget's state points to ("IPY_MODEL_<id>" strings, possibly nested in lists)."""
    if isinstance(value, str) and value.startswith("IPY_MODEL_"):
        return {value[len("IPY_MODEL_") :]}
    if isinstance(value, (list, tuple)):
        return set().union(*map(_refs, value)) if value else set()
    if isinstance(value, dict):
        return set().union(*map(_refs, value.values())) if value else set()
    return set()


def _is_progress_bar(model_id: str, state: dict) -> bool:
    """tqdm's notebook bar: an HBox holding a FloatProgress/IntProgress."""
    model = state.get(model_id, {})
    if model.get("model_name") != "HBoxModel":
        return False
    children = _refs(model.get("state", {}).get("children", []))
    return any(state.get(c, {}).get("model_name") in ("FloatProgressModel", "IntProgressModel") for c in children)


FALLBACK_PREFIX = "▶ Run this cell"  # seq2seq_helpers.widgets.LessonWidget's text form


def tidy_widgets(nb) -> int:
    """Leave no widget view in the saved lesson: each interactive widget keeps only its text form.

    A committed widget view draws only where its saved state is trusted (not on GitHub, not on Colab before a
    run, not in a fresh clone's JupyterLab, which shows the text form instead), and where it draws it has no
    kernel behind it: moving a slider changes nothing. So the saved lesson keeps each course widget's text
    form, "▶ Run this cell to use the ...", which every renderer shows, and no widget state. Progress bars
    (they would show timings), closed widgets and the empty displays that closed progress bars leave
    (``seq2seq_helpers.training.progress_bar``) are dropped, and printed text they split is joined again. A
    widget whose text form is not the course's fallback (a raw ``VBox(children=...`` repr) is refused: build
    it with ``seq2seq_helpers.widgets``.
    Returns the number of outputs dropped.
    """
    container = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    state = container.get("state", {}) if container else {}
    dropped = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if out.get("output_type") == "display_data" and data == {"text/plain": ""}:
                dropped += 1  # a closed progress bar's display
                continue
            view = data.get(WIDGET_VIEW)
            if view is not None:
                model_id = view.get("model_id")
                if model_id not in state or _is_progress_bar(model_id, state):
                    dropped += 1
                    continue
                text = "".join(data.get("text/plain", ""))
                if not text.startswith(FALLBACK_PREFIX):
                    raise ValueError(
                        f"cell {index} shows a widget whose text form is {text[:60]!r}: build it with "
                        "seq2seq_helpers.widgets (a LessonWidget), so that a saved lesson tells the learner to run it"
                    )
                del data[WIDGET_VIEW]
            if kept and out.get("output_type") == "stream" and kept[-1].get("output_type") == "stream":
                if kept[-1].get("name") == out.get("name"):  # text a dropped bar had split: one block again
                    kept[-1]["text"] = "".join(kept[-1]["text"]) + "".join(out["text"])
                    continue
            kept.append(out)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)
    return dropped


SLOW_S = 5.0  # a cell that runs longer than this shows progress (issue 29): a learner should not wait in silence


def shows_progress(outputs, state: dict) -> bool:
    """Whether a cell's outputs (before tidying) held a progress bar: a live one, or the empty display a closed
    ``seq2seq_helpers.training.progress_bar`` leaves."""
    for out in outputs:
        data = out.get("data", {})
        if out.get("output_type") == "display_data" and data == {"text/plain": ""}:
            return True
        view = data.get(WIDGET_VIEW)
        if view is not None and _is_progress_bar(view.get("model_id"), state):
            return True
    return False


def run(path: Path, timeout: int, save: bool = True) -> tuple[float, list[str]]:
    """Execute ``path`` top to bottom (saving it, tidied, unless ``save`` is False). Returns the seconds it took
    and the cells that ran longer than SLOW_S without showing progress ("cell 29: 17.2 s")."""
    nb = nbformat.read(path, as_version=4)
    started = {}
    client = notebook_client(
        nb,
        path,
        timeout,
        store_widget_state=True,
        on_cell_execute=lambda cell, cell_index: started.__setitem__(cell_index, time.perf_counter()),
        on_cell_executed=lambda cell, cell_index, execute_reply: started.__setitem__(
            cell_index, time.perf_counter() - started[cell_index]
        ),
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    silent = [
        f"cell {index}: {seconds:.1f} s"
        for index, seconds in sorted(started.items())
        if seconds > SLOW_S and not shows_progress(nb.cells[index].get("outputs", []), state)
    ]
    if save:
        tidy_widgets(nb)
        nbformat.validate(nb)
        nbformat.write(nb, path)
    return elapsed, silent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--no-save", action="store_true", help="only run and report (slow silent cells); save nothing")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        elapsed, silent = run(path, args.timeout, save=not args.no_save)
        print(f"  done in {elapsed:.1f} s", flush=True)
        if silent:
            print(f"  ran longer than {SLOW_S:.0f} s with no progress bar: {'; '.join(silent)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
