"""The instructors' guide, run: docs/instructors.md's nbgrader commands, as written, on lesson 05.

Every ```bash block of the guide carries an HTML comment `<!-- test: NAME -->` (a fast test checks this), and
the slow test runs each block by name with `bash -euo pipefail`, after a prelude that stands in for the
guide's `variables` block: COURSE is this checkout, GRADING and EXCHANGE are temporary folders, and the
environment activated is a throwaway one layered on the course's `.venv` (a venv whose .pth adds .venv's
site-packages, with .venv's scripts re-pointed at it and a copy of .venv's Jupyter config). So `make
instructor` and `make learner` run for real without changing `.venv`, and HOME is a temporary folder, so
the user's ~/.jupyter is never touched.

Between the blocks the test plays the learners: two made-up submissions of lesson 05, each of which
autograde runs in full, so two and not more: a complete one (every solution), fetched and submitted through
the exchange, and a partial one in an LMS-style zip at ~/Downloads/submissions.zip (exercise 1 solved;
exercise 2 with a plausible mistake that only a hidden test catches: it draws from the global random
generator, not the `generator` it is given; the written answer left as released). That every check fails
on the untouched stubs is proven in nbval's run of the lesson (tests/autograding_proof.py). Then the
instructor's clicks in the formgrader, through the formgrader's own API (what typing a score does). It
checks: learner mode is plain and instructor mode turns nbgrader on; the validate recipe's exit status (on
two small notebooks, since tests/test_student_versions.py already runs the lesson's tests on its solutions);
zip_collect collects the file; the formgrader, started by the guide's command, lists the assignment and its
two submissions; per-cell autograded scores (an unanswered written answer scores 0 at once); the manual
score; the exported grades; and that no feedback (also the one a learner fetches) holds a line of a hidden
test.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "instructors.md"
VENV = ROOT / ".venv"
ASSIGNMENT = "05_beam_search"  # the shortest lesson (docs/benchmarks.md)
LESSON = ROOT / "notebooks" / f"{ASSIGNMENT}.ipynb"
TAGGED = re.compile(r"<!-- test: (?P<name>[\w-]+) -->\n```bash\n(?P<body>.*?)\n```", re.DOTALL)
# the blocks the slow test runs, all of them (a fast test checks that the guide has no others)
RUN = [
    "variables",
    "instructor",
    "setup",
    "exchange",
    "validate",
    "generate",
    "release",
    "learner-fetch",
    "learner-submit",
    "zip-collect",
    "collect",
    "autograde",
    "formgrader",
    "feedback",
    "learner-feedback",
    "export",
    "points",
]
WRONG_EXERCISE = "ex2-sampling"  # the solution cell the partial submission gets wrong ...
WRONG_EDIT = ("generator=generator)", ")")  # ... so: its samples do not follow the seed it is given
LMS_NAME = "hoppergrace_late_1002_5002_{nb}-1.ipynb"  # the partial one, named as Canvas names a late resubmission
LMS_STUDENT = "hoppergrace"
WRITTEN_SHARE = 0.5  # the share of the written answer's points the grader gives the complete submission


def guide_blocks() -> dict[str, str]:
    return {m["name"]: m["body"] for m in TAGGED.finditer(GUIDE.read_text(encoding="utf-8"))}


def test_every_bash_block_of_the_guide_is_tagged_and_run():
    text = GUIDE.read_text(encoding="utf-8")
    names = [m["name"] for m in TAGGED.finditer(text)]
    assert text.count("```bash") == len(names), "a ```bash block of docs/instructors.md has no <!-- test: NAME -->"
    assert len(set(names)) == len(names), f"block names repeat: {names}"
    assert sorted(names) == sorted(RUN), f"the guide's blocks {names} differ from the ones this test runs {RUN}"


def test_the_variables_block_sets_what_the_prelude_replaces():
    lines = [line.split("#")[0].strip() for line in guide_blocks()["variables"].splitlines()]
    lines = [line for line in lines if line]
    assigned = [line.split("=")[0] for line in lines if "=" in line]
    assert assigned == ["COURSE", "GRADING", "EXCHANGE"], assigned
    assert lines[-1] == '. "$COURSE/.venv/bin/activate"', lines


# --------------------------------------------------------------------------------------------- helpers


def layered_venv(path: Path) -> Path:
    """A venv whose site-packages add .venv's, with .venv's console scripts pointed at its python and a copy
    of .venv's Jupyter config: `--level=sys_prefix` commands write here, not in .venv."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = next((path / "lib").glob("python3*/site-packages"))
    venv_site = next((VENV / "lib").glob("python3*/site-packages"))
    (site / "course_venv.pth").write_text(f"import site; site.addsitedir({str(venv_site)!r})\n")
    shebang = f"#!{VENV}/bin/python"
    for script in (VENV / "bin").iterdir():
        target = path / "bin" / script.name
        if target.exists() or not script.is_file():
            continue
        with open(script, "rb") as f:
            first = f.readline().decode(errors="replace").strip()
        if first == shebang or first.startswith(shebang + " "):
            rest = script.read_text(encoding="utf-8").split("\n", 1)[1]
            target.write_text(f"#!{path}/bin/python\n{rest}", encoding="utf-8")
            target.chmod(0o755)
    shutil.copytree(VENV / "etc" / "jupyter", path / "etc" / "jupyter")
    (path / ".installed").touch()  # the Makefile's stamp: `make instructor` must not reinstall
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page_text(path: Path) -> str:
    """An HTML page's text as a reader sees it: tags out (code is split into highlighted spans), entities in."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def solution_text(source: str) -> str:
    return "".join(
        line
        for line in source.splitlines(keepends=True)
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def make_submissions(release: Path, source: Path, out: Path) -> dict[str, Path]:
    """The learners' notebooks: complete (every solution), and partial (the written answers left as released,
    WRONG_EXERCISE with a plausible mistake, the other exercises solved)."""
    rel = json.loads(release.read_text(encoding="utf-8"))
    src = json.loads(source.read_text(encoding="utf-8"))
    solutions = {
        c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
        for c in src["cells"]
        if c["metadata"].get("nbgrader", {}).get("solution")
    }
    assert WRONG_EXERCISE in solutions and solutions[WRONG_EXERCISE].count(WRONG_EDIT[0]) == 1, (
        f"lesson {ASSIGNMENT} changed: update WRONG_EXERCISE / WRONG_EDIT in this test"
    )
    paths = {}
    for kind in ("complete", "partial"):
        nb = json.loads(json.dumps(rel))
        for cell in nb["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id not in solutions or (kind == "partial" and cell["cell_type"] == "markdown"):
                continue
            answer = solution_text(solutions[grade_id])
            if kind == "partial" and grade_id == WRONG_EXERCISE:
                answer = answer.replace(*WRONG_EDIT)
            cell["source"] = answer
        paths[kind] = out / f"{kind}.ipynb"
        paths[kind].write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return paths


def tiny_notebook(path: Path, answer: int) -> Path:
    """An nbgrader notebook with one solution cell and one test cell that passes only when answer is 42."""

    def meta(**kw):
        return {
            "nbgrader": {"schema_version": 3, "locked": False, "solution": False, "grade": False, "task": False, **kw}
        }

    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "outputs": [],
            "source": f"answer = {answer}",
            "metadata": meta(grade_id="answer", solution=True),
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "outputs": [],
            "source": 'assert answer == 42, "the answer is 42"',
            "metadata": meta(grade_id="answer-tests", grade=True, locked=True, points=1),
        },
    ]
    nb = {
        "cells": cells,
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    }
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def hidden_test_lines(source: Path) -> list[str]:
    """The hidden tests' lines that say something: a line of brackets alone (`)` closing a long assert) would
    match any feedback."""
    lines, hidden = [], False
    for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if line.strip() == "### BEGIN HIDDEN TESTS":
                hidden = True
            elif line.strip() == "### END HIDDEN TESTS":
                hidden = False
            elif hidden and any(ch.isalnum() for ch in line):
                lines.append(line.strip())
    return lines


def graded_cells(source: Path) -> dict[str, dict]:
    return {
        c["metadata"]["nbgrader"]["grade_id"]: dict(
            c["metadata"]["nbgrader"], cell_type=c["cell_type"], source="".join(c["source"])
        )
        for c in json.loads(source.read_text(encoding="utf-8"))["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade")
    }


class Guide:
    """Runs the guide's blocks by name, in a temporary world, and keeps each block's time."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.venv = layered_venv(tmp / "venv")
        self.home = tmp / "home"
        self.grading, self.exchange = tmp / "grading", tmp / "exchange"
        self.port, self.token = free_port(), secrets.token_hex(16)
        (self.home / ".jupyter").mkdir(parents=True)
        # this HOME's own server settings, for the `formgrader` block's `jupyter lab`
        (self.home / ".jupyter" / "jupyter_server_config.py").write_text(
            f"c.ServerApp.port = {self.port}\nc.ServerApp.port_retries = 0\nc.ServerApp.ip = '127.0.0.1'\n"
            "c.ServerApp.open_browser = False\n"
            f"c.ServerApp.allow_root = True\nc.IdentityProvider.token = {self.token!r}\n"
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("JUPYTER", "IPYTHON", "VIRTUAL_ENV", "PYTHON", "MAKE"))
        }
        env.update(
            HOME=str(self.home),
            PATH=os.environ["PATH"].replace(f"{VENV}/bin:", ""),
            JUPYTER_PATH=str(VENV / "share" / "jupyter"),  # the lab extensions live in .venv
            JUPYTERLAB_DIR=str(VENV / "share" / "jupyter" / "lab"),
            MAKEFLAGS=f"VENV={self.venv}",
        )  # `make -C $COURSE ...` acts on it
        self.env = env
        self.blocks = guide_blocks()
        self.times: dict[str, float] = {}

    def script(self, name: str, replace: tuple[str, str] | None = None) -> str:
        body = self.blocks[name]
        if replace:
            assert replace[0] in body, f"block {name!r} no longer holds {replace[0]!r}"
            body = body.replace(*replace)
        prelude = (
            f'COURSE="{ROOT}"\nGRADING="{self.grading}"\nEXCHANGE="{self.exchange}"\n'
            f'. "{self.venv}/bin/activate"\nif [ -d "$GRADING" ]; then cd "$GRADING"; fi\n'
        )
        return prelude + body + "\n"

    def run(self, name: str, replace: tuple[str, str] | None = None, check: bool = True):
        start = time.monotonic()
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", self.script(name, replace)],
            check=False,
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
        )
        self.times[name] = self.times.get(name, 0.0) + time.monotonic() - start
        output = done.stdout + done.stderr
        if check and done.returncode != 0:
            raise AssertionError(f"the guide's {name!r} block failed (exit {done.returncode}):\n{output[-6000:]}")
        return done.returncode, output

    def shell(self, command: str) -> str:
        """A command in the activated layered environment (not a guide block): for checks."""
        prelude = f'. "{self.venv}/bin/activate"\n'
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", prelude + command],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout + done.stderr


def nbgrader_mode(guide: Guide) -> tuple[str, list[str]]:
    """('enabled'/'disabled' for the lab extension, the state of each nbgrader server extension)."""
    labs = re.sub(r"\x1b\[[0-9;]*m", "", guide.shell("jupyter labextension list"))
    servers = re.sub(r"\x1b\[[0-9;]*m", "", guide.shell("jupyter server extension list"))
    lab = re.search(r"@jupyter/nbgrader v\S+ (enabled|disabled)", labs)
    assert lab, labs
    server = re.findall(r"nbgrader\.server_extensions\.\w+ (enabled|disabled)", servers)
    assert len(server) == 4, servers
    return lab.group(1), server


class Formgrader:
    def __init__(self, guide: Guide):
        self.base, self.token = f"http://127.0.0.1:{guide.port}", guide.token
        self.log = open(guide.tmp / "jupyterlab.log", "w", encoding="utf-8")
        self.server = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", guide.script("formgrader")],
            env=guide.env,
            cwd=guide.tmp,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                self.api("/api/status")
                return
            except OSError:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(
                        "the formgrader block did not start JupyterLab:\n"
                        + (guide.tmp / "jupyterlab.log").read_text()[-4000:]
                    ) from None
                time.sleep(0.5)

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def stop(self):
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.log.close()


# ------------------------------------------------------------------------------------------ the run


@pytest.fixture
def guide(tmp_path):
    start = time.monotonic()
    guide = Guide(tmp_path)
    yield guide
    timings = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in guide.times.items())
    print(f"\nthe guide's blocks: {timings}; whole test {time.monotonic() - start:.0f} s")


@pytest.mark.slow
@pytest.mark.skipif(not (VENV / "bin" / "nbgrader").exists(), reason="needs the course's .venv: run `make setup`")
def test_the_guide_runs_release_to_feedback(guide, tmp_path):
    cells = graded_cells(LESSON)
    tests = {g: c for g, c in cells.items() if c["cell_type"] == "code"}
    written = {g: c for g, c in cells.items() if c["cell_type"] == "markdown"}
    assert tests and written, f"{ASSIGNMENT} should have autograded tests and written answers"

    # learner mode (what `make setup` leaves), then the guide's one instructor command
    subprocess.run(["make", "-s", "-C", str(ROOT), "learner"], env=guide.env, check=True, capture_output=True)
    assert nbgrader_mode(guide) == ("disabled", ["disabled"] * 4), "learners' JupyterLab should be plain"
    guide.run("instructor")
    assert nbgrader_mode(guide) == ("enabled", ["enabled"] * 4), "make instructor should turn nbgrader on"

    guide.run("setup")
    guide.run("exchange")
    assert (guide.grading / "source" / ASSIGNMENT / LESSON.name).exists()

    # the validate recipe: exit 0 when the notebook passes, 1 when it fails (nbgrader validate: 0 either way)
    source_nb = f"source/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    passing, failing = tiny_notebook(tmp_path / "pass.ipynb", 42), tiny_notebook(tmp_path / "fail.ipynb", 41)
    assert guide.run("validate", replace=(source_nb, str(passing)), check=False)[0] == 0
    code, output = guide.run("validate", replace=(source_nb, str(failing)), check=False)
    assert code == 1 and "VALIDATION FAILED" in output, output[-3000:]
    plain = subprocess.run(
        ["bash", "-c", f'. "{guide.venv}/bin/activate"; nbgrader validate "{failing}"'],
        check=False,
        env=guide.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 0 and "VALIDATION FAILED" in plain.stdout, (
        "nbgrader validate now exits non-zero on failure: simplify the guide's validate block"
    )

    guide.run("generate")
    release = guide.grading / "release" / ASSIGNMENT / LESSON.name
    subs = make_submissions(release, LESSON, tmp_path)

    # exchange: release, a learner fetches, works (the complete notebook), submits
    guide.run("release")
    guide.run("learner-fetch")
    fetched = guide.home / "seq2seq-learner" / ASSIGNMENT / LESSON.name
    assert fetched.exists()
    shutil.copy(subs["complete"], fetched)
    guide.run("learner-submit")

    # LMS: a zip of the partial one, named as Canvas names it
    (guide.home / "Downloads").mkdir()
    with zipfile.ZipFile(guide.home / "Downloads" / "submissions.zip", "w") as zf:
        zf.write(subs["partial"], LMS_NAME.format(nb=ASSIGNMENT))
    _, output = guide.run("zip-collect")
    assert "1 files collected" in output and "skipped" not in output, output[-3000:]
    guide.run("collect")
    submitted = guide.grading / "submitted"
    exchange_students = [p.parent.parent.name for p in submitted.glob(f"*/{ASSIGNMENT}/submission_secret.txt")]
    assert len(exchange_students) == 1, exchange_students
    students = {"partial": LMS_STUDENT, "complete": exchange_students[0]}
    assert sorted(p.name for p in submitted.iterdir()) == sorted(students.values())

    guide.run("autograde")

    # the formgrader, started by the guide's command from the grading directory
    formgrader = Formgrader(guide)
    try:
        listed = {a["name"]: a["num_submissions"] for a in formgrader.api("/formgrader/api/assignments")}
        lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        assert sorted(listed) == lessons and listed[ASSIGNMENT] == 2, listed
        notebooks = formgrader.api(f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
        by_student = {nb["student"]: nb["id"] for nb in notebooks}
        grades = {
            kind: {
                g["name"]: g
                for g in formgrader.api(f"/formgrader/api/grades?submission_id={by_student[students[kind]]}")
            }
            for kind in students
        }
        for grade_id, cell in tests.items():
            assert grades["complete"][grade_id]["auto_score"] == cell["points"], grade_id
            partial_expected = 0 if grade_id == f"{WRONG_EXERCISE}-tests" else cell["points"]
            assert grades["partial"][grade_id]["auto_score"] == partial_expected, (
                grade_id,
                "the mistake passes the visible tests and only the hidden ones catch it",
            )
        for grade_id, cell in written.items():
            unanswered = grades["partial"][grade_id]  # YOUR ANSWER HERE: 0 at once, nothing for the grader to do
            assert unanswered["auto_score"] == 0 and not unanswered["needs_manual_grade"], unanswered
            grade = grades["complete"][grade_id]
            assert grade["needs_manual_grade"], grade
            score = WRITTEN_SHARE * cell["points"]
            given = formgrader.api(f"/formgrader/api/grade/{grade['id']}", "PUT", {"manual_score": score})
            assert given["manual_score"] == score and not given["needs_manual_grade"], given
    finally:
        formgrader.stop()

    # feedback: no line of a hidden test, and the visible tests are there (so the check can see code)
    guide.run("feedback")
    guide.run("learner-feedback")
    hidden = hidden_test_lines(LESSON)
    visible = [
        line.strip()
        for c in tests.values()
        for line in c["source"].split("### BEGIN HIDDEN TESTS")[0].splitlines()
        if line.strip()
    ]
    assert hidden and visible
    pages = {
        kind: guide.grading / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        for kind, student in students.items()
    }
    fetched_feedback = list((guide.home / "seq2seq-learner" / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(fetched_feedback) == 1, f"the learner should have fetched one feedback page: {fetched_feedback}"
    pages["fetched by the learner"] = fetched_feedback[0]
    for kind, page in pages.items():
        text = page_text(page)
        shown = [line for line in hidden if line in text]
        assert not shown, f"the feedback ({kind}) shows hidden tests: {shown}"
        assert "HIDDEN TESTS" not in text, kind
        missing = [line for line in visible if line not in text]
        assert not missing, f"the feedback ({kind}) lacks visible test lines (is the check blind?): {missing}"
    assert re.search(r"AssertionError: \S", page_text(pages["partial"])), "the partial one should see why it failed"

    # the exported grades
    guide.run("export")
    with open(guide.grading / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    total = sum(c["points"] for c in cells.values())
    expected = {
        "complete": sum(c["points"] for c in tests.values())
        + WRITTEN_SHARE * sum(c["points"] for c in written.values()),
        "partial": float(sum(c["points"] for g, c in tests.items() if g != f"{WRONG_EXERCISE}-tests")),
    }
    assert 0 < expected["partial"] < expected["complete"] < total
    for kind, student in students.items():
        assert float(rows[student]["max_score"]) == total, rows[student]
        assert float(rows[student]["score"]) == pytest.approx(expected[kind]), (kind, rows[student])

    _, output = guide.run("points")
    assert re.search(rf"{ASSIGNMENT}\.ipynb {total:g}(\.0)? ", output), output
