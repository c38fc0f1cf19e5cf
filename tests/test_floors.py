"""The package's dependency floors are real: the lowest versions pyproject.toml allows run the course.

Colab keeps its own torch and ipywidgets only because pyproject.toml asks for loose ranges; a floor that
was never tried is a promise nobody checked. This test builds an environment with the lowest Python that
`requires-python` allows and every dependency at the floor pyproject.toml names, then runs there:
- the helpers' own unit tests (every test file that needs nothing but the package, pytest and hypothesis);
- lesson 05 from top to bottom in a kernel of that environment, plots and widgets included;
- every other lesson's opening cells up to its first training step, comparing the outputs nbval checks
  (`# NBVAL_CHECK_OUTPUT`: data samples, vocabularies, dates rendered by babel) with the committed ones; these
  run in one kernel, one lesson after another, each after `%reset -f`.

The environment is large (torch's Linux wheels on PyPI come with CUDA libraries: about 5 GB, 3-8 minutes
to build the first time), so it is built once into ~/.cache/seq2seq-course/ and reused for as long as the
floors and the test tools below stay the same. SEQ2SEQ_FLOORS_TEST=0 turns the test off (say so when you do).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from kernels import quiet_widgets, write_kernelspec
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the main environment is 3.11+
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seq2seq-course"
FULL_LESSON = "05_beam_search.ipynb"  # the fastest lesson, with plots and a widget
# The tools the test itself needs in that environment, pinned to versions that support the floor Python,
# so pip does not spend minutes resolving them.
TOOLS = ["pytest==8.4.2", "hypothesis==6.141.1", "ipykernel==6.31.0"]
# Test files that need more than the package, pytest and hypothesis (notebooks, nbgrader, browsers, venvs).
NOT_HELPER_TESTS = {
    "test_benchmark.py",
    "test_browser.py",
    "test_floors.py",
    "test_gpu_check.py",
    "test_instructors.py",
    "test_launch.py",
    "test_notebooks.py",
    "test_prose.py",
    "test_student_versions.py",
}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def floors() -> list[str]:
    """Each dependency pinned to its floor: 'torch>=2.1' -> 'torch==2.1'; one without a floor is an error."""
    pins = []
    for requirement in pyproject()["project"]["dependencies"]:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([\w.]+)\s*(?:,.*)?", requirement.split(";")[0])
        assert m, f"pyproject.toml dependency {requirement!r} has no floor (name>=version): give it one"
        pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


def floor_python() -> tuple[str, str]:
    """The lowest Python requires-python allows, and an interpreter for it (pyenv's or one on PATH)."""
    m = re.fullmatch(r">=\s*(\d+)\.(\d+)", pyproject()["project"]["requires-python"].strip())
    assert m, "requires-python should read '>=3.N'"
    version = f"{m.group(1)}.{m.group(2)}"
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(str(p / "bin" / "python") for p in pyenv.glob(f"{version}.*"))
    candidates.append(shutil.which(f"python{version}"))  # may be a pyenv shim that is not set up for it: try it
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return version, candidate
    pytest.skip(f"no Python {version} here (the lowest requires-python allows); install it to test the floors")


def floor_environment() -> Path:
    """The cached environment at the floors (built when missing); returns its python."""
    version, interpreter = floor_python()
    pins = floors()
    key = hashlib.sha256(json.dumps([version, pins, TOOLS]).encode()).hexdigest()[:12]
    venv = CACHE / f"floors-py{version}-{key}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, timeout=300)
    # The helpers themselves are not installed: the cache is shared by every checkout on this machine, so the
    # test puts its own checkout first on PYTHONPATH instead (`checkout_env`).
    for args in (["--upgrade", "pip"], [*pins, *TOOLS]):
        run = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert run.returncode == 0, f"pip install {' '.join(args)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    (venv / ".complete").write_text(json.dumps({"python": version, "floors": pins, "tools": TOOLS}), encoding="utf-8")
    return python


def checkout_env(python: Path) -> dict[str, str]:
    """The environment to run the floors' python in: this checkout's helpers first on the path (a cache built
    before this rule held an editable install of whichever checkout built it; this shadows it), checked."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    where = subprocess.run(
        [str(python), "-c", "import seq2seq_helpers; print(seq2seq_helpers.__file__)"],
        env=env,
        cwd=ROOT / "notebooks",
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(ROOT), f"the floors' python imports the helpers from {where}"
    return env


def installed(python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )
    found = json.loads(subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout)
    return found


def checked_prefix(nb) -> list[int]:
    """Indices of the code cells before the lesson's first training step, if any of them is output-checked."""
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if re.search(r"\b(?:fit|train_translation)\(", cell.source):  # lesson 07 trains through its recipe
            break
        cells.append(i)
    return cells if any("NBVAL_CHECK_OUTPUT" in nb.cells[i].source for i in cells) else []


def text_outputs(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SEQ2SEQ_FLOORS_TEST") == "0", reason="SEQ2SEQ_FLOORS_TEST=0 turns it off")
@pytest.mark.skipif(tomllib is None, reason="reads pyproject.toml with tomllib (Python 3.11+)")
def test_the_lowest_allowed_versions_run_the_helpers_tests_and_the_lessons(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    start = time.perf_counter()
    python = floor_environment()
    found = installed(python)
    for pin in floors():
        name, version = pin.split("==")
        have = found.get(name.lower())
        assert have and Version(have) == Version(version), f"the floor environment has {name} {have}, not {version}"
    built = time.perf_counter() - start

    helper_tests = sorted(str(p) for p in (ROOT / "tests").glob("test_*.py") if p.name not in NOT_HELPER_TESTS)
    run = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow",
            "-W",
            "ignore::DeprecationWarning",
            *helper_tests,
        ],
        cwd=ROOT,
        env=checkout_env(python),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, f"the helpers' tests fail at the floors:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    summary = run.stdout.strip().splitlines()[-1]

    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    checkout = {"PYTHONPATH": str(ROOT)}  # this checkout's helpers (see checkout_env)
    kernel = write_kernelspec(python, tmp_path / "jupyter", "floors", env=checkout)
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    # FULL_LESSON top to bottom in a kernel of its own; the other lessons' checked openings one after another in
    # one more kernel, each after `%reset -f` (the names of the lesson before are gone; the modules stay
    # imported, which spares a kernel start and torch's import per lesson)
    full, openings = [], []
    for path in lessons:
        committed = nbformat.read(path, as_version=4)
        if path.name == FULL_LESSON:
            full.append((path, committed, None))  # None: every cell
        elif keep := checked_prefix(committed):
            openings.append((path, committed, keep))
    problems = []
    for run_lessons in (run for run in (full, openings) if run):
        nb = nbformat.v4.new_notebook(metadata=run_lessons[0][1].metadata)
        spans = []
        for path, committed, keep in run_lessons:
            indices = range(len(committed.cells)) if keep is None else keep
            nb.cells.append(nbformat.v4.new_code_cell("%reset -f"))
            spans.append((path, committed, indices, len(nb.cells)))
            nb.cells += [copy.deepcopy(committed.cells[i]) for i in indices]
        quiet_widgets(
            NotebookClient(
                nb,
                timeout=600,
                kernel_name=kernel,
                resources={"metadata": {"path": str(ROOT / "notebooks")}},
                allow_errors=True,
            )
        ).execute()
        for path, committed, indices, first in spans:
            for ran, i in zip(nb.cells[first:], indices):
                if ran.cell_type != "code":
                    continue
                errors = [f"{o['ename']}: {o['evalue'][:200]}" for o in ran.outputs if o["output_type"] == "error"]
                if errors:
                    problems.append(f"{path.name} cell {i}: {errors[0]}")
                elif "NBVAL_CHECK_OUTPUT" in ran.source and text_outputs(ran) != text_outputs(committed.cells[i]):
                    problems.append(
                        f"{path.name} cell {i} prints other output at the floors:\n"
                        f"{text_outputs(ran)[:600]}\nexpected:\n{text_outputs(committed.cells[i])[:600]}"
                    )
    assert not problems, "\n".join(problems)
    print(
        f"\nfloors {floors()} on Python {floor_python()[0]}: environment ready in {built:.0f} s; helpers' tests: "
        f"{summary}; {FULL_LESSON} in full and the lessons' checked openings ran, "
        f"{time.perf_counter() - start:.0f} s in all"
    )
