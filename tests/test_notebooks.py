"""Structure and hygiene of the committed lessons: what a learner sees on GitHub and what nbval runs."""

import json
import re
from pathlib import Path

import pytest

import seq2seq_helpers

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_lessons():
    assert NOTEBOOKS, "no notebooks/NN_topic.ipynb found"
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name) for p in NOTEBOOKS)


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request):
    return request.param, load(request.param)


def test_outputs_come_from_one_clean_run(notebook):
    path, nb = notebook
    counts = [c["execution_count"] for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run it top to bottom (make notebooks)"


def test_no_errors_warnings_or_local_paths_in_outputs(notebook):
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: code cell {i} stores an error"
            text = "".join(out.get("text", ""))
            if out.get("name") == "stderr":
                assert not re.search(r"Warning|Traceback", text), f"{path.name}: code cell {i} stores: {text[:200]}"
            for data in out.get("data", {}).values():
                text += data if isinstance(data, str) else "".join(data) if isinstance(data, list) else ""
            assert not re.search(r"/(home|root|tmp|Users)/\w", text), f"{path.name}: code cell {i} shows a local path"


def test_widgets_are_saved_as_a_line_that_says_run_this_cell(notebook):
    """A saved widget view draws only where its state is trusted, and then with no kernel behind it; a learner
    opening a committed lesson (GitHub, Colab, a fresh clone's JupyterLab) sees each widget's text form, which
    must say to run the cell, never ipywidgets' raw ``VBox(children=...`` repr (scripts/run_notebooks.py)."""
    path, nb = notebook
    assert "widgets" not in nb["metadata"], f"{path.name}: saved widget state (re-run it with make notebooks)"
    for i, cell in enumerate(code_cells(nb)):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            assert WIDGET_VIEW not in data, f"{path.name}: code cell {i} saves a widget view (make notebooks)"
            text = "".join(data.get("text/plain", ""))
            assert not re.match(r"(VBox|HBox|Box|Output|Text|HTML|Dropdown|\w+Slider|\w+Progress)\(", text), (
                f"{path.name}: code cell {i} shows a widget's raw repr {text[:60]!r}"
            )
    widget_calls = [
        c for c in code_cells(nb) if re.search(r"\b(\w+_demo|\w+_explorer|\w+_browser|beam_stepper)\(", source(c))
    ]
    for cell in widget_calls:
        shown = ["".join(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])]
        assert any(t.startswith("▶ Run this cell to use the ") for t in shown), (
            f"{path.name}: a cell that builds a widget saves no 'Run this cell' line: {shown}"
        )


def test_badges_and_colab_setup_use_the_one_repository(notebook):
    path, nb = notebook
    repo = seq2seq_helpers.REPOSITORY
    intro = source(nb["cells"][0])
    assert f"colab.research.google.com/github/{repo}/blob/main/notebooks/{path.name}" in intro
    assert f"mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/notebooks/{path.name}" in intro
    setup = source(code_cells(nb)[0])
    assert "import google.colab" in setup and "if IN_COLAB:" in setup, "first code cell must guard the Colab install"
    assert f"git+https://github.com/{repo}" in setup
    assert "torch" not in setup.split("%pip", 1)[1], "the Colab install must not reinstall torch"


def test_every_other_repository_link_is_the_one_repository():
    repo = seq2seq_helpers.REPOSITORY
    texts = {p.name: p.read_text(encoding="utf-8") for p in NOTEBOOKS + [ROOT / "README.md", ROOT / "pyproject.toml"]}
    for name, text in texts.items():
        for found in re.findall(r"github(?:\.com)?/([\w.-]+/[\w.-]+?)(?:\.git|/|\"|\)|\s)", text):
            assert found == repo, f"{name} links to {found}, not {repo} (seq2seq_helpers.REPOSITORY)"


def test_lesson_asserts_its_claims_and_checks_deterministic_outputs(notebook):
    path, nb = notebook
    plain = [source(c) for c in code_cells(nb) if "nbgrader" not in c["metadata"]]
    assert any(re.search(r"^assert ", s, re.M) for s in plain), f"{path.name}: no cell asserts the lesson's claim"
    assert any(s.startswith("# NBVAL_CHECK_OUTPUT") for s in plain), f"{path.name}: no deterministic output is checked"


def test_exercises_use_nbgrader_cells(notebook):
    path, nb = notebook
    graded = [c for c in nb["cells"] if "nbgrader" in c["metadata"]]
    assert graded, f"{path.name}: no exercises in nbgrader format"
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in graded]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id"
    for c in graded:
        meta = c["metadata"]["nbgrader"]
        if c["cell_type"] == "code" and meta["solution"]:
            text = source(c)
            assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text, f"{meta['grade_id']}: no markers"
        if meta["grade"]:
            assert meta.get("points", 0) > 0, f"{meta['grade_id']}: a graded cell needs points"
        if c["cell_type"] == "code" and meta["grade"] and not meta["solution"]:
            assert meta["locked"] and re.search(r"^\s*assert ", source(c), re.M), f"{meta['grade_id']}: test cell"


def test_readme_course_map_lists_every_lesson():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f"(notebooks/{path.name})" in readme, f"README's course map misses {path.name}"
        assert f"blob/main/notebooks/{path.name}" in readme, f"README has no Colab badge for {path.name}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make test" in ci
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    command = "pytest -n auto --nbval-lax --nbval-current-env tests notebooks"
    assert command in makefile and command in readme, "the README must name the command `make test` runs"
    test_target = re.search(r"^test:(.*)$", makefile, re.M)
    assert test_target and "lint" in test_target.group(1), "make test must lint first (make lint)"
    assert re.search(r"^lint:.*\n\t.*ruff check .*\n\t.*ruff format --check", makefile, re.M), "make lint runs ruff"


def test_lessons_import_each_helper_from_the_module_that_defines_it(notebook):
    """One import rule: `from seq2seq_helpers.<module> import name`, where <module> is the file that holds the
    code, so a learner sees where to read it (never the package's top-level re-exports)."""
    import ast
    import importlib

    path, nb = notebook
    problems = []
    for i, cell in enumerate(code_cells(nb)):
        text = re.sub(r"^(\s*)[%!].*$", r"\1pass", source(cell), flags=re.M)  # IPython magics are not Python
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "seq2seq_helpers":
                if node.module == "seq2seq_helpers":
                    problems.append(f"cell {i}: import from the submodule, not `from seq2seq_helpers import ...`")
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    home = getattr(getattr(module, alias.name), "__module__", node.module)
                    if home != node.module:
                        problems.append(f"cell {i}: {alias.name} lives in {home}, not {node.module}")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_printed_text_is_one_block_per_stream(notebook):
    """A closed progress bar leaves nothing between two prints of a cell: they show as one block of text, as they
    would have without the bar (scripts/run_notebooks.py joins what a dropped bar split)."""
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        outputs = cell.get("outputs", [])
        for before, after in zip(outputs, outputs[1:]):
            split = before["output_type"] == after["output_type"] == "stream" and before["name"] == after["name"]
            assert not split, f"{path.name}: code cell {i} shows its {before['name']} in two blocks (make notebooks)"
