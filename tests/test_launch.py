"""Launch: the Colab install cell, the widgets on Colab's ipywidgets 7.7.1, and the Binder environment.

Fast: the first code cell of every lesson installs the helpers only on Colab, from the one repository, and
never touches torch; every widget of `seq2seq_helpers.widgets` has a sample the slow test builds.
Slow (each installs the helpers into a virtual environment outside the repository):
- Colab-like: Colab's preinstalled packages (`torch==2.13.0` standing in for Colab's own torch,
  `ipywidgets==7.7.1`, ipykernel) in an environment cached in ~/.cache/seq2seq-course (Colab does not start
  empty either), then the helpers from a copy of the package, as the Colab cell installs them; a kernel of
  that environment builds every widget, drives its controls, and renders its static form (the saved widget
  state, the view mimebundle, and `ipywidgets.embed`'s HTML and data), plus tqdm's notebook progress bar
  that training shows.
  Colab runs Python 3.12/3.13; this machine has only 3.11, so the environment uses 3.11.
- Binder: `binder/requirements.txt`, unchanged, installed as repo2docker installs it, then the smoke notebook
  of `tests/smoke.py` runs there: the helpers imported from the installed package, `fit` with its tqdm bar, a
  plot and a widget, in 10-20 s. Binder's file pins only torch, so this is where the newest releases the
  package's ranges allow meet the helpers; every lesson runs in full under nbval (requirements.txt's pins).
  The environment is cached in ~/.cache/seq2seq-course and reused while binder/requirements.txt,
  binder/runtime.txt and pyproject.toml's dependencies stay the same and it is less than BINDER_MAX_AGE_DAYS old (so that
  new releases still reach it within a week); the helpers' code is copied afresh into it on every run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from kernels import quiet_widgets, write_kernelspec
from smoke import smoke_notebook

import seq2seq_helpers
import seq2seq_helpers.widgets

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUDENT = sorted((ROOT / "student").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def first_code_cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code")


class FakeIPython:
    """Stands in for the kernel: records line magics (`%pip ...`) instead of running them."""

    def __init__(self):
        self.magics: list[tuple[str, str]] = []

    def run_line_magic(self, name, line, _stack_depth=1):
        self.magics.append((name, line))

    def system(self, command):  # `!pip ...` would land here
        self.magics.append(("!", command))


def run_install_cell(source: str, on_colab: bool, monkeypatch) -> tuple[FakeIPython, dict]:
    """Execute the cell's Python (IPython syntax translated as the kernel does) with or without Colab."""
    if on_colab:
        google = types.ModuleType("google")
        colab = types.ModuleType("google.colab")
        google.colab = colab
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    else:
        monkeypatch.setitem(sys.modules, "google.colab", None)  # `import google.colab` raises ImportError
    shell = FakeIPython()
    namespace = {"get_ipython": lambda: shell, "__name__": "__main__"}
    exec(compile(TransformerManager().transform_cell(source), "<install cell>", "exec"), namespace)
    return shell, namespace


@pytest.mark.parametrize("path", LESSONS + STUDENT, ids=[f"{p.parent.name}/{p.stem}" for p in LESSONS + STUDENT])
def test_colab_install_cell_installs_the_helpers_only_on_colab(path, monkeypatch):
    source = first_code_cell(path)
    shell, namespace = run_install_cell(source, on_colab=False, monkeypatch=monkeypatch)
    assert shell.magics == [] and namespace["IN_COLAB"] is False, "outside Colab the cell must do nothing"

    shell, namespace = run_install_cell(source, on_colab=True, monkeypatch=monkeypatch)
    assert namespace["IN_COLAB"] is True
    assert len(shell.magics) == 1, f"expected one %pip install on Colab, got {shell.magics}"
    magic, line = shell.magics[0]
    assert magic == "pip", "use %pip (installs into the kernel's own environment), not !pip"
    words = shlex.split(line)
    assert words[0] == "install"
    requirements = [w for w in words[1:] if not w.startswith("-")]
    options = [w for w in words[1:] if w.startswith("-")]
    assert requirements == [f"seq2seq-helpers @ git+https://github.com/{seq2seq_helpers.REPOSITORY}"]
    assert not {"-U", "--upgrade", "--force-reinstall", "--ignore-installed", "-I"} & set(options), (
        "the install must not upgrade or reinstall what Colab has (its torch and ipywidgets)"
    )
    assert not any("torch" in w for w in words), "the Colab cell must not name torch"


def test_the_installed_name_and_loose_ranges_keep_colabs_torch_and_ipywidgets():
    import tomllib
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "seq2seq-helpers", "the Colab cell installs `seq2seq-helpers`"
    deps = {Requirement(d).name: Requirement(d) for d in project["dependencies"]}
    # Colab's versions (and older ones we support) must satisfy the ranges, so pip keeps what is there
    for name, version in (("torch", "2.1.0"), ("torch", "2.8.0"), ("ipywidgets", "7.7.1"), ("ipywidgets", "8.1.5")):
        assert deps[name].specifier.contains(Version(version)), f"{deps[name]} would replace Colab's {name} {version}"
    assert not any(str(d.specifier).startswith("==") for d in deps.values()), "no exact pins in the package"


def test_lessons_use_widgets_only_through_the_package():
    """Every widget a lesson shows comes from seq2seq_helpers.widgets (tested on 7.7.1 below) or tqdm."""
    for path in LESSONS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert not re.search(
                    r"^\s*(import ipywidgets|from ipywidgets)|\binteract(_manual)?\(", cell.source, re.M
                ), f"{path.name} builds a widget itself; put it in seq2seq_helpers.widgets"


# How the slow test builds each widget (code run in the Colab-like kernel). A new widget needs a line here.
WIDGET_SAMPLES = {
    "text_to_text_demo": "text_to_text_demo(lambda text: text[::-1], description='reverse', value='abc')",
    "schedule_explorer": "schedule_explorer(total_steps=200)",
    "attention_browser": (
        "attention_browser([(list('abc'), list('cba'), [[0.1, 0.2, 0.7], [0.2, 0.6, 0.2], "
        "[0.7, 0.2, 0.1]]), (list('xy'), list('yx'), [[0.3, 0.7], [0.8, 0.2]])])"
    ),
    "beam_stepper": (
        "beam_stepper([[BeamNode(-1, 3, -0.5, False), BeamNode(-1, 4, -0.9, False)], "
        "[BeamNode(0, 3, -1.7, False), BeamNode(1, 2, -1.0, True)]], ['<pad>', '<sos>', '<eos>', 'a', 'b'], "
        "best=[4, 2])"
    ),
    "translation_explorer": (
        "translation_explorer(lambda text, locale: {'output': text.upper(), 'beam': [(text.upper(), "
        "-0.1), (text, -2.0)], 'src_tokens': list(text), 'out_tokens': list(text.upper()) + ['<eos>'], "
        "'weights': [[1.0 / len(text)] * len(text)] * (len(text) + 1)}, choices=['en_US', 'fr_FR'], "
        "value='abc')"
    ),
    "attention_heads_browser": (
        "attention_heads_browser({'encoder self-attention': [[[[0.6, 0.4], [0.3, 0.7]], "
        "[[0.5, 0.5], [0.9, 0.1]]]], 'cross-attention': [[[[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]], "
        "[[0.5, 0.5], [0.4, 0.6], [0.5, 0.5]]]] * 2}, list('ab'), ['b', 'a', '<eos>'])"
    ),
}


def public_widget_functions() -> list[str]:
    module = seq2seq_helpers.widgets
    return sorted(
        name
        for name, value in vars(module).items()
        if callable(value)
        and not isinstance(value, type)  # LessonWidget, the class every front-end returns
        and not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
    )


def test_every_widget_has_a_sample():
    missing = set(public_widget_functions()) - set(WIDGET_SAMPLES)
    assert not missing, f"add a sample for {sorted(missing)} to WIDGET_SAMPLES in {Path(__file__).name}"


# ------------------------------------------------------------------------------------- fresh environments


def make_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    return path / "bin" / "python"


def pip(python: Path, *args: str, cwd: Path | None = None, timeout: int = 900) -> str:
    run = subprocess.run(
        # --no-compile: no .pyc for the thousands of files nothing here imports (torch's alone take most of a
        # minute); Python compiles what it imports, as it would anyway. Resolution and installed files are the same.
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if run.returncode != 0:
        if "No matching distribution found for torch" in run.stderr + run.stdout:
            pytest.skip(
                "no torch wheel reachable (neither PyTorch's index nor a local wheel): "
                + (run.stderr or run.stdout)[-400:]
            )
        raise AssertionError(f"pip install {' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return run.stdout


def versions(python: Path, *modules: str) -> dict[str, str]:
    code = (
        "import importlib, json, sys; print(json.dumps({m: importlib.import_module(m).__version__ "
        f"for m in {list(modules)!r}}} | {{'python': sys.version.split()[0]}}))"
    )
    return json.loads(
        subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True, timeout=300).stdout
    )


def copy_package(dest: Path) -> Path:
    """What a `git+https://...` install sees: the project files, not this checkout's build leftovers."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / "seq2seq_helpers", dest / "seq2seq_helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return dest


def widget_probe_notebook(html_path: Path):
    cells = [
        "import ipywidgets, sys, torch\nprint(ipywidgets.__version__, sys.version.split()[0], torch.__version__)",
        "from seq2seq_helpers.widgets import *\n"
        "from seq2seq_helpers.decoding import BeamNode\n"
        "import ipywidgets\n"
        "from ipywidgets.embed import embed_data, embed_minimal_html\n"
        "def descendants(w):\n"
        "    yield w\n"
        "    for child in getattr(w, 'children', ()):\n"
        "        yield from descendants(child)\n"
        "def drive(w):\n"
        "    '''Move every control once, as a learner would; a failing observer raises here.'''\n"
        "    for c in descendants(w):\n"
        "        if isinstance(c, ipywidgets.Text):\n"
        "            c.value = c.value + 'x'\n"
        "        elif isinstance(c, ipywidgets.Dropdown):\n"
        "            c.value = c.options[0] if c.value != c.options[0] else c.options[-1]\n"
        "        elif isinstance(c, (ipywidgets.IntSlider, ipywidgets.FloatSlider)):\n"
        "            c.value = c.max\n"
        "demos = {}",
    ]
    for name, sample in WIDGET_SAMPLES.items():
        cells.append(f"demos[{name!r}] = {sample}\ndrive(demos[{name!r}])\ndemos[{name!r}]")
    cells.append(
        "import json\n"
        "data = embed_data(views=list(demos.values()))\n"
        f"embed_minimal_html({str(html_path)!r}, views=list(demos.values()), title='widgets')\n"
        "print(json.dumps({'models': len(data['manager_state']['state']), 'views': len(data['view_specs'])}))"
    )
    cells.append("from tqdm.auto import tqdm\nfor _ in tqdm(range(3), desc='progress'):\n    pass")
    # fit's bar (leave=False): once closed, its display is emptied, so no saved output points at a closed widget
    cells.append(
        "from seq2seq_helpers.training import progress_bar\n"
        "with progress_bar(total=3, desc='transient') as bar:\n"
        "    for _ in range(3):\n"
        "        bar.update()"
    )
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def descendants_in_state(state: dict, model_id: str) -> set[str]:
    seen, todo = set(), [model_id]
    while todo:
        current = todo.pop()
        if current in seen or current not in state:
            continue
        seen.add(current)
        text = json.dumps(state[current]["state"])
        todo.extend(re.findall(r"IPY_MODEL_([0-9a-f]+)", text))
    return seen


COLAB_BASE = ["torch==2.13.0", "ipywidgets==7.7.1", "ipykernel"]  # what Colab has before a lesson's install cell
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seq2seq-course"


@contextlib.contextmanager
def colab_base_environment():
    """Colab's preinstalled environment (COLAB_BASE), cached like the floors' one and held under a file lock.

    Colab does not start from an empty environment either: torch, ipywidgets 7.7.1 and ipykernel are there
    before the install cell runs. The cache is rebuilt whenever it no longer holds exactly those versions (for
    example after a run in which installing the helpers replaced one of them), and the helpers are removed
    from it first, so each run installs them as a learner's `%pip install` would. Yields its python.
    """
    key = hashlib.sha256(json.dumps([sys.version_info[:2], COLAB_BASE]).encode()).hexdigest()[:12]
    venv = CACHE / f"colab-base-py{sys.version_info.major}.{sys.version_info.minor}-{key}"
    python = venv / "bin" / "python"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = (venv / ".complete").exists()
        if ready:
            subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "seq2seq-helpers"], capture_output=True)
            found = versions(python, "torch", "ipywidgets")
            ready = found["torch"].startswith("2.13.0") and found["ipywidgets"] == "7.7.1"
        if not ready:
            shutil.rmtree(venv, ignore_errors=True)
            make_venv(venv)
            pip(python, COLAB_BASE[0])  # the CPU wheel on disk stands in for Colab's own torch
            pip(python, *COLAB_BASE[1:])
            (venv / ".complete").write_text(json.dumps(COLAB_BASE), encoding="utf-8")
        yield python


@pytest.mark.slow
def test_widgets_build_and_render_on_colabs_ipywidgets_7_7_1(tmp_path, monkeypatch):
    with colab_base_environment() as python:
        widgets_on_colabs_ipywidgets(python, tmp_path, monkeypatch)


def widgets_on_colabs_ipywidgets(python, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    start = time.perf_counter()
    pip(python, str(copy_package(tmp_path / "pkg")))  # as the install cell's `%pip install` would
    found = versions(python, "torch", "ipywidgets", "seq2seq_helpers")
    assert found["ipywidgets"] == "7.7.1", f"installing the helpers replaced ipywidgets 7.7.1: {found}"
    assert found["torch"].startswith("2.13.0"), f"installing the helpers replaced torch: {found}"
    installed = time.perf_counter() - start

    write_kernelspec(python, tmp_path / "jupyter", "colab-like")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    html_path = tmp_path / "widgets.html"
    nb = widget_probe_notebook(html_path)
    quiet_widgets(
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="colab-like",
            store_widget_state=True,
            resources={"metadata": {"path": str(tmp_path)}},
        )
    ).execute()

    assert nb.cells[0].outputs[0]["text"].startswith("7.7.1 3.11"), nb.cells[0].outputs
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    for cell, name in zip(nb.cells[2:], WIDGET_SAMPLES):
        assert not any(o["output_type"] == "error" for o in cell.outputs), f"{name}: {cell.outputs}"
        views = [o["data"][WIDGET_VIEW] for o in cell.outputs if WIDGET_VIEW in o.get("data", {})]
        assert len(views) == 1, f"{name} displayed no widget view: {cell.outputs}"
        bundle = next(o["data"] for o in cell.outputs if WIDGET_VIEW in o.get("data", {}))
        assert "text/plain" in bundle and views[0]["version_major"] == 2, f"{name}: mimebundle {bundle}"
        text = "".join(bundle["text/plain"])  # what GitHub, Colab before a run, an untrusted notebook show
        assert text.startswith("▶ Run this cell to use the ") and "VBox(" not in text, f"{name}: text form {text!r}"
        models = descendants_in_state(state, views[0]["model_id"])
        kinds = {state[m]["model_name"] for m in models}
        assert "VBoxModel" in kinds and len(models) > 3, f"{name}: static state misses its parts: {kinds}"
        outputs_models = [state[m]["state"] for m in models if state[m]["model_name"] == "OutputModel"]
        for out in outputs_models:  # a plot drawn into an Output widget is saved as an image
            assert any("image/png" in o.get("data", {}) for o in out.get("outputs", [])), f"{name}: no plot saved"
        htmls = [state[m]["state"].get("value", "") for m in models if state[m]["model_name"] == "HTMLModel"]
        assert any(h for h in htmls), f"{name}: its HTML label stayed empty"
    summary = json.loads(nb.cells[-3].outputs[-1]["text"])
    assert summary["views"] == len(WIDGET_SAMPLES) and summary["models"] > 3 * len(WIDGET_SAMPLES)
    page = html_path.read_text(encoding="utf-8")
    assert WIDGET_STATE in page and page.count(WIDGET_VIEW) == len(WIDGET_SAMPLES)
    progress = [o for o in nb.cells[-2].outputs if WIDGET_VIEW in o.get("data", {})]
    assert progress, f"tqdm.auto drew no notebook progress bar on ipywidgets 7.7.1: {nb.cells[-2].outputs}"
    assert not any("IProgress not found" in o.get("text", "") for o in nb.cells[-2].outputs)
    transient = nb.cells[-1].outputs
    assert [o.get("data") for o in transient] == [{"text/plain": ""}], f"the closed bar's display stayed: {transient}"
    print(
        f"\nColab-like environment: the helpers installed in {installed:.0f} s, total {time.perf_counter() - start:.0f} s"
    )


@pytest.mark.slow
def test_binder_requirements_install_and_run_the_smoke_notebook(tmp_path):
    requirements = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8")
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}", (
        f"binder/runtime.txt asks for {runtime}; this test builds with Python {sys.version.split()[0]}"
    )
    assert re.search(r"^torch==[\d.]+\+cpu$", requirements, re.M), "Binder must get the CPU build of torch"

    start = time.perf_counter()
    with binder_environment() as (python, repo, built):
        found = versions(python, "torch", "ipywidgets", "jupyterlab", "seq2seq_helpers")
        assert found["torch"].endswith("+cpu"), found
        installed = time.perf_counter() - start
        run_smoke_notebook(python, repo, tmp_path)
    print(
        f"\nBinder environment {found}: {'built' if built else 'reused'} in {installed:.0f} s, the smoke notebook "
        f"ran in {time.perf_counter() - start - installed:.0f} s"
    )


BINDER_MAX_AGE_DAYS = 7


@contextlib.contextmanager
def binder_environment():
    """Yields (python, repo, built): the Binder environment and the repository copy it has installed.

    `repo` is what repo2docker sees: the repository, with `-e .` installed from its root. It is built once per
    content of binder/requirements.txt, binder/runtime.txt and pyproject.toml's dependencies (and again after
    BINDER_MAX_AGE_DAYS), under a file lock; on every run the helpers' code in `repo` is replaced by this
    checkout's, which the editable install then imports, so no run tests yesterday's package.
    """
    import tomllib  # Python 3.11+, as this test's environment

    files = [ROOT / "binder" / "requirements.txt", ROOT / "binder" / "runtime.txt"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [project.get("requires-python"), project.get("dependencies"), sys.version_info[:2]]  # what pip resolves
    key = hashlib.sha256(b"".join(f.read_bytes() for f in files) + repr(wanted).encode()).hexdigest()
    home = CACHE / f"binder-py{sys.version_info.major}.{sys.version_info.minor}-{key[:12]}"
    python, repo, marker = home / "venv" / "bin" / "python", home / "repo", home / ".complete"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{home.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fresh = marker.exists() and time.time() - marker.stat().st_mtime < BINDER_MAX_AGE_DAYS * 86400
        if fresh:
            shutil.rmtree(repo / "seq2seq_helpers")
            shutil.copytree(
                ROOT / "seq2seq_helpers",
                repo / "seq2seq_helpers",
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        else:
            for old in CACHE.glob("binder-py*"):  # an older key's environment is never used again
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            copy_package(repo)
            shutil.copytree(ROOT / "binder", repo / "binder")
            (repo / "notebooks").mkdir()
            make_venv(home / "venv")
            # The file as it is. Its PyTorch CPU index is unreachable from this machine; --retries 0 makes each
            # lookup there fail at once, and pip takes the same `torch==...+cpu` wheel from the local wheel folder.
            pip(python, "--retries", "0", "-r", "binder/requirements.txt", cwd=repo, timeout=1500)
            marker.write_text(json.dumps([f.name for f in files]), encoding="utf-8")
        yield python, repo, not fresh


def run_smoke_notebook(python: Path, repo: Path, tmp_path: Path) -> None:
    lesson = repo / "notebooks" / "smoke.ipynb"
    nbformat.write(smoke_notebook(), lesson)
    run = subprocess.run(
        [
            str(python.parent / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=900",
            "--output",
            str(tmp_path / "executed.ipynb"),
            str(lesson),
        ],
        cwd=lesson.parent,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, f"the smoke notebook failed in the Binder environment:\n{run.stderr[-4000:]}"
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "error"]
    assert not errors, errors
    assert len(executed.cells) == len(smoke_notebook().cells)
    outputs = [o for c in executed.cells for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the smoke notebook's plot was not drawn"
    assert any(WIDGET_VIEW in o.get("data", {}) for o in outputs), "the smoke notebook's widget was not shown"


def test_binder_folder_is_what_mybinder_reads():
    files = sorted(p.name for p in (ROOT / "binder").iterdir())
    assert {"requirements.txt", "runtime.txt"} <= set(files), files
    requirements = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in requirements.splitlines()]
    assert "-e ." in lines, "Binder installs the helpers from the repository root"
    assert any(line.startswith("--extra-index-url https://download.pytorch.org/whl/cpu") for line in lines)


@pytest.mark.slow
def test_make_lab_starts_jupyterlab_even_as_root(tmp_path):
    """`make lab` as the README gives it: JupyterLab must answer, also where the user is root (Docker images, many
    cloud notebooks, CI machines like this one), where Jupyter refuses to start without --allow-root."""
    import socket
    import urllib.request

    if not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("no .venv here: `make lab` would build it first (make test builds it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(
        os.environ,
        JUPYTER_PORT=str(port),
        JUPYTER_TOKEN="make-lab-test",
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        BROWSER="true",  # the "browser" Jupyter opens is the `true` command
    )
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        lab = subprocess.Popen(["make", "--no-print-directory", "lab"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline, answered = time.monotonic() + 120, False
        while not answered and lab.poll() is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/status", headers={"Authorization": "token make-lab-test"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    answered = response.status == 200
            except OSError:
                time.sleep(0.5)
        text = log.read_text(encoding="utf-8", errors="replace")
        assert answered, f"`make lab` did not start JupyterLab (as uid {os.geteuid()}):\n{text[-2000:]}"
        if os.geteuid() == 0:
            assert "--allow-root" in text, "as root, `make lab` should pass --allow-root"
        else:
            assert "--allow-root" not in text, "`make lab` should pass --allow-root only as root"
    finally:
        if lab.poll() is None:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(
                    urllib.request.Request(
                        f"http://127.0.0.1:{port}/api/shutdown",
                        method="POST",
                        headers={"Authorization": "token make-lab-test"},
                    ),
                    timeout=10,
                )
            try:
                lab.wait(timeout=30)
            except subprocess.TimeoutExpired:
                lab.kill()
