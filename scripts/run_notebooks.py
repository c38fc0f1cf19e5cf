"""Re-execute lessons top to bottom and save them with their outputs: what gets committed.

    python scripts/run_notebooks.py notebooks/*.ipynb      (or: make notebooks)

Runs each notebook in a fresh kernel from this environment, in the notebook's folder (as nbval does),
stores the state of the interactive widgets (so the saved notebook shows them), drops progress bars
and closed widgets (they would show timings or "model not found"), and records no timings.
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


def tidy_widgets(nb) -> int:
    """Drop displays of progress bars and of closed widgets; keep only the state the remaining views need.

    Finished progress bars would show timings and, once closed, "model not found"; interactive widgets
    (text boxes, sliders) stay, with their saved state, so the saved lesson still shows them.
    Returns the number of outputs dropped.
    """
    container = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    state = container.get("state", {}) if container else {}
    dropped, roots = 0, set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is not None:
                model_id = view.get("model_id")
                if model_id not in state or _is_progress_bar(model_id, state):
                    dropped += 1
                    continue
                roots.add(model_id)
            kept.append(out)
        cell.outputs = kept
    # keep the widgets reachable from a remaining view (children, layouts, styles), nothing else
    needed, todo = set(), list(roots)
    while todo:
        model_id = todo.pop()
        if model_id in needed or model_id not in state:
            continue
        needed.add(model_id)
        todo.extend(_refs(state[model_id].get("state", {})))
    if container is not None:
        if needed:
            container["state"] = {k: v for k, v in state.items() if k in needed}
        else:
            del nb.metadata["widgets"]
    return dropped


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path, timeout, store_widget_state=True)
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    tidy_widgets(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        print(f"  done in {run(path, args.timeout):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
