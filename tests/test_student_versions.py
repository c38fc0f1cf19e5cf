"""Student versions and exercises: made by nbgrader, in sync with the lessons, and every check proven real.

- student/ is exactly what `make student` makes from notebooks/ now (CI fails when it drifts);
- nbgrader's own `generate_assignment` accepts every lesson, and its gradebook agrees with the cells' points;
  the student versions hold the same exercise cells as nbgrader's release;
- outside the exercises a student version is the lesson; inside, no solution or hidden test is left;
- every autograded check fails on the stub, on an empty answer and on plausible mistakes: the proof itself runs
  inside nbval's run of each lesson (autograding_proof.py, registered by conftest.py); here fast tests prove
  that its machinery reports weak checks, both in a plain kernel and inside nbval, and that every plausible
  mistake listed still fits its lesson's solution.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from autograding_proof import (
    exercise_groups,
    is_solution_code,
    is_test_cell,
    nbgrader_meta,
    prove_checks,
    trailing_change,
    with_mistake,
)
from plausible_mistakes import MISTAKES, mistake

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_student_versions as msv  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob(msv.LESSONS))
IDS = [p.stem for p in LESSONS]


def test_there_are_lessons_and_student_versions():
    assert LESSONS
    assert (ROOT / "student").is_dir(), "no student/: run `make student`"


# ------------------------------------------------------------------------------------- sync and contents


def test_student_versions_are_in_sync_with_the_lessons(tmp_path):
    problems = msv.differences(ROOT / "notebooks", ROOT / "student")
    assert not problems, "\n".join(problems + ["run `make student` and commit student/"])
    # and `make student` into a fresh folder writes exactly the committed files
    written = msv.write(ROOT / "notebooks", tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in (ROOT / "student").glob(msv.LESSONS))
    for path in written:
        assert path.read_bytes() == (ROOT / "student" / path.name).read_bytes(), path.name


def test_the_check_mode_reports_drift(tmp_path):
    msv.write(ROOT / "notebooks", tmp_path)
    assert msv.main(["--out", str(tmp_path), "--check"]) == 0
    first = sorted(tmp_path.glob(msv.LESSONS))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("NotImplementedError", "Exception"), encoding="utf-8")
    (tmp_path / "99_gone.ipynb").write_text("{}", encoding="utf-8")
    problems = msv.differences(ROOT / "notebooks", tmp_path)
    assert problems == [
        f"{tmp_path.name}/99_gone.ipynb has no lesson in notebooks/",
        f"{tmp_path.name}/{first.name} differs from what notebooks/{first.name} gives",
    ]


def read_student(name: str):
    path = ROOT / "student" / name
    if not path.exists():
        pytest.fail(f"student/{name} is missing: run `make student` and commit student/")
    return nbformat.read(path, as_version=4)


@pytest.fixture(params=LESSONS, ids=IDS)
def pair(request):
    lesson = nbformat.read(request.param, as_version=4)
    student = read_student(request.param.name)
    return request.param.name, lesson, student


def test_student_version_hides_every_solution_and_keeps_the_lesson(pair):
    name, lesson, student = pair
    assert len(student.cells) == len(lesson.cells), f"{name}: cells were added or removed"
    for i, (src, out) in enumerate(zip(lesson.cells, student.cells)):
        meta = nbgrader_meta(src)
        where = f"{name} cell {i} ({meta.get('grade_id', 'lesson')})"
        assert out.cell_type == src.cell_type, where
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in out.source, f"{where}: {marker} left in the student version"
        if not meta:
            if i > 0:  # the title cell points its badges at the student version
                assert out == src, f"{where}: a lesson cell differs in the student version"
            continue
        assert nbgrader_meta(out)["grade_id"] == meta["grade_id"], where
        if out.cell_type == "code":
            assert out.outputs == [] and out.execution_count is None, f"{where}: exercise outputs were kept"
        if meta.get("solution"):
            stub = "raise NotImplementedError()" if out.cell_type == "code" else "YOUR ANSWER HERE"
            assert stub in out.source, f"{where}: no `{stub}`"
            solution_lines = {
                line.strip()
                for line in src.source.split("### BEGIN SOLUTION")[-1].split("### END SOLUTION")[0].splitlines()
                if len(line.strip()) > 12
            }
            leaked = [line for line in solution_lines if line in out.source]
            assert not leaked, f"{where}: solution lines left: {leaked[:3]}"
        if is_test_cell(src):
            assert out.metadata.get("editable") is False, f"{where}: test cells are locked for learners"
    title = student.cells[0].source
    assert f"/blob/main/student/{name}" in title and f"lab/tree/student/{name}" in title
    assert f"notebooks/{name}" in title and "Student version" in title


def test_every_exercise_has_a_test_and_every_test_a_solution(pair):
    name, lesson, _ = pair
    groups = exercise_groups(lesson)
    assert groups, f"{name}: no autograded test cells"
    for test_index, solutions in groups.items():
        assert solutions, f"{name}: test cell {nbgrader_meta(lesson.cells[test_index])['grade_id']} checks no solution"
    checked = {i for solutions in groups.values() for i in solutions}
    unchecked = [
        nbgrader_meta(c)["grade_id"]
        for i, c in enumerate(lesson.cells)
        if is_solution_code(c) and not nbgrader_meta(c).get("grade") and i not in checked
    ]  # graded ones are marked by hand
    assert not unchecked, f"{name}: solution cells no test cell checks: {unchecked}"


def test_readme_opens_every_student_version_in_colab():
    import seq2seq_helpers

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    badge = "https://colab.research.google.com/assets/colab-badge.svg"
    for path in LESSONS:
        link = f"https://colab.research.google.com/github/{seq2seq_helpers.REPOSITORY}/blob/main/student/{path.name}"
        assert link in readme, (
            f"README has no Colab link to student/{path.name}; add to the student versions line: "
            f"[{path.name[:2]} ![Open In Colab]({badge})]({link})"
        )


# ------------------------------------------------------------------------------------- nbgrader itself


@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory):
    """Every lesson as the source of one nbgrader assignment, released by `nbgrader generate_assignment`."""
    root = tmp_path_factory.mktemp("course")
    source = root / "source" / "seq2seq"
    source.mkdir(parents=True)
    for path in LESSONS:
        (source / path.name).write_bytes(path.read_bytes())
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "seq2seq", f"--CourseDirectory.root={root}"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, f"nbgrader generate_assignment failed:\n{run.stdout}\n{run.stderr}"
    return root


def test_nbgrader_generate_assignment_accepts_every_lesson(nbgrader_course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{nbgrader_course / 'gradebook.db'}") as gradebook:
        assignment = gradebook.find_assignment("seq2seq")
        notebooks = {nb.name: nb for nb in assignment.notebooks}
        assert sorted(notebooks) == IDS
        for path in LESSONS:
            lesson = nbformat.read(path, as_version=4)
            graded = {
                nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
                for c in lesson.cells
                if nbgrader_meta(c).get("grade")
            }
            in_gradebook = {g.name: g.max_score for g in notebooks[path.stem].grade_cells}
            assert in_gradebook == graded, f"{path.name}: nbgrader's gradebook disagrees with the cells' points"
            assert notebooks[path.stem].max_score == sum(graded.values()) > 0
            solutions = {nbgrader_meta(c)["grade_id"] for c in lesson.cells if nbgrader_meta(c).get("solution")}
            assert {s.name for s in notebooks[path.stem].solution_cells} == solutions


def test_student_versions_hold_nbgraders_release(nbgrader_course):
    """Same cells, sources and nbgrader metadata (checksums included) as `generate_assignment`'s release;
    only the outputs of the lesson's own cells and the title cell differ, on purpose."""
    for path in LESSONS:
        release = nbformat.read(nbgrader_course / "release" / "seq2seq" / path.name, as_version=4)
        student = read_student(path.name)
        assert len(release.cells) == len(student.cells), path.name
        for i, (r, s) in enumerate(zip(release.cells, student.cells)):
            if i == 0:
                continue
            assert (r.cell_type, r.source, r.metadata) == (s.cell_type, s.source, s.metadata), f"{path.name} cell {i}"


# ------------------------------------------------------------------------------------- checks are real


def exercise_notebook(cells):
    """A tiny lesson: (kind, source, grade_id, points) tuples, kind in plain / solution / test."""
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(nbformat.v4.new_markdown_cell("# Lesson 99"))
    for kind, source, grade_id, points in cells:
        cell = nbformat.v4.new_code_cell(source)
        if kind != "plain":
            cell.metadata["nbgrader"] = {
                "schema_version": 3,
                "grade_id": grade_id,
                "solution": kind == "solution",
                "grade": kind == "test",
                "locked": kind == "test",
                "task": False,
            }
            if kind == "test":
                cell.metadata["nbgrader"]["points"] = points
        nb.cells.append(cell)
    return nb


PROBE_LESSON = [
    ("plain", "base = 10", None, 0),
    ("solution", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "ex1", 0),
    ("test", "assert double(base) == 20", "ex1-tests", 1),
    ("solution", "### BEGIN SOLUTION\nanswer = base + 32\n### END SOLUTION", "ex2", 0),
    ("test", "assert answer == 42", "ex2-tests", 1),  # real: the stub never binds `answer`
    ("solution", "def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION", "ex3", 0),
    (
        "test",
        "assert base == 10\n### BEGIN HIDDEN TESTS\nassert half(base) == 5\n### END HIDDEN TESTS",
        "ex3-tests",
        1,
    ),  # weak as learners see it: the visible part never calls half
    ("solution", "### BEGIN SOLUTION\nnote = 'done'\n### END SOLUTION", "ex4", 0),
    ("test", "assert isinstance(base, int)", "ex4-tests", 1),  # weak: checks nothing the learner wrote
    ("solution", "def shout(text):\n    ### BEGIN SOLUTION\n    return text.upper()\n    ### END SOLUTION", "ex5", 0),
    ("test", "shout('hi')\nprint('✓ shout runs')", "ex5-tests", 1),  # weak: runs it, asserts nothing
    ("solution", "def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION", "ex6", 0),
    (
        "test",
        "assert triple(1) == 3\nprint('✓ triple works')\n### BEGIN HIDDEN TESTS\nassert triple(2) == 6\n"
        "### END HIDDEN TESTS",
        "ex6-tests",
        1,
    ),  # its visible part lets `x + 2` through, and then tells the learner it is right
    ("plain", "assert double(answer) == 84 and note == 'done'", None, 0),  # later cells still see the solutions
]
PROBE_MISTAKES = {
    "ex1": [mistake("adds instead", ("2 * x", "2 + x")), mistake("right after all", ("2 * x", "x + x"))],
    "ex3": [mistake("thirds", ("x / 2", "x / 3"), visible=False)],
    "ex6": [mistake("adds two", ("3 * x", "x + 2"), visible=False), mistake("adds", ("3 * x", "x + 3"))],
}
PROBE_PROBLEMS = [
    "99_probe.ipynb ex1-tests (no hidden tests): PASSES on the mistake 'right after all'",
    "99_probe.ipynb ex3-tests as the learner sees it: PASSES on the empty answer",
    "99_probe.ipynb ex3-tests as the learner sees it: PASSES on the stub",
    "99_probe.ipynb ex4-tests (no hidden tests): PASSES on the empty answer",
    "99_probe.ipynb ex4-tests (no hidden tests): PASSES on the stub",
    "99_probe.ipynb ex5-tests (no hidden tests): PASSES on the empty answer",
    "99_probe.ipynb ex6-tests as the learner sees it: prints ✓ on the mistake 'adds two', a wrong answer "
    "(printed: '✓ triple works')",
]


def test_the_proof_catches_weak_checks(tmp_path):
    """The machinery itself, in a plain kernel: a weak check is reported, a real one is not, a listed mistake
    that is in fact right is reported, a visible test that ticks a wrong answer is reported, and a variable
    left over from the solution run does not make a check look weak (the student's run never had it)."""
    lesson = tmp_path / "99_probe.ipynb"
    nbformat.write(exercise_notebook(PROBE_LESSON), lesson)
    rows, problems = prove_checks(lesson, PROBE_MISTAKES)
    outcome = {(grade_id, stand_in, variant): failure for grade_id, stand_in, variant, failure in rows}
    assert outcome[("ex1-tests", "stub", "(no hidden tests)")].startswith("NotImplementedError")
    assert outcome[("ex1-tests", "empty answer", "(no hidden tests)")].startswith("AssertionError")  # None != 20
    assert outcome[("ex1-tests", "mistake 'adds instead'", "(no hidden tests)")].startswith("AssertionError")
    assert outcome[("ex2-tests", "stub", "(no hidden tests)")].startswith("NameError")
    assert outcome[("ex3-tests", "stub", "with hidden tests")].startswith("NotImplementedError")
    assert outcome[("ex3-tests", "mistake 'thirds'", "with hidden tests")].startswith("AssertionError")
    assert outcome[("ex5-tests", "stub", "(no hidden tests)")].startswith("NotImplementedError")
    assert outcome[("ex6-tests", "mistake 'adds'", "as the learner sees it")].startswith("AssertionError")
    assert sorted(problems) == PROBE_PROBLEMS


@pytest.mark.slow
def test_the_proof_runs_inside_nbval_and_fails_the_test_cell(tmp_path):
    """The way `make test` runs it: nbval executes the lesson, the plugin probes in nbval's kernel, the weak
    checks' test cells fail with the problems, the real ones pass, and the cells after the exercises (which
    use the solutions' names) still pass."""
    nbformat.write(exercise_notebook(PROBE_LESSON), tmp_path / "99_probe.ipynb")
    (tmp_path / "conftest.py").write_text(
        "import plausible_mistakes\n"
        "from test_student_versions import PROBE_MISTAKES\n"
        "plausible_mistakes.MISTAKES['99_probe.ipynb'] = PROBE_MISTAKES\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "autograding_proof", "-p", "no:cacheprovider", "--nbval-lax"]
        + ["--nbval-current-env", "-rA", "-q", "99_probe.ipynb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = run.stdout + run.stderr
    failed = sorted(line.split("::")[1].split(" ")[0:2] for line in report.splitlines() if line.startswith("FAILED"))
    cells = {
        c.metadata["nbgrader"]["grade_id"]: n
        for n, c in enumerate(c for c in exercise_notebook(PROBE_LESSON).cells if c.cell_type == "code")
        if "nbgrader" in c.metadata
    }
    expected = sorted(
        ["Cell", str(cells[g])] for g in ("ex1-tests", "ex3-tests", "ex4-tests", "ex5-tests", "ex6-tests")
    )
    assert failed == expected, report
    for problem in PROBE_PROBLEMS:
        assert problem in report, report
    assert "5 failed, 9 passed" in report, report  # the plain cells, the solution cells and ex2's test cell
    summary = report.split("autograding proof: seconds of replays added to nbval's run")[1]
    timed = re.findall(r"^\s*[\d.]+ s  99_probe\.ipynb (ex\d-tests)$", summary, re.M)
    assert sorted(timed) == sorted(g for g in cells if g.endswith("-tests")) and re.search(
        r"s  in all, over 6 test cells", summary
    ), summary


SHORTCUT_LESSON = [
    ("plain", "trained, data = [], [3, 1, 2]", None, 0),
    (
        "solution",
        "### BEGIN SOLUTION\ntrained.append('once')  # the costly part\nmodel = sorted(data)\nscore = model[0]\n"
        "### END SOLUTION",
        "ex7",
        0,
    ),
    ("test", "assert score == 1, 'score the sorted model'", "ex7-tests", 1),
    # the solution ran once, the full replay of 'scores the last' once; the stub, the empty answer and the
    # three mistakes replayed from the solution's state not at all
    ("plain", "assert trained == ['once', 'once'], trained", None, 0),
]
SHORTCUT_MISTAKES = {
    "ex7": [
        mistake("scores the raw data", ("score = model[0]", "score = data[0]"), after_solution=True),
        mistake("forgets to store the score", ("score = model[0]", "model[0]"), after_solution=True),
        mistake("right after all", ("score = model[0]", "score = min(model)"), after_solution=True),
        mistake("scores the last", ("score = model[0]", "score = model[-1]")),
    ]
}


def test_a_mistake_in_the_last_bindings_is_replayed_from_the_solutions_state(tmp_path):
    """`after_solution`: only the changed trailing statements run (the cell after the tests counts the costly
    part's runs), the names the solution bound there are unbound first (a forgotten assignment fails), and the
    test still runs against the mistake (one that is right after all is reported)."""
    lesson = tmp_path / "98_shortcut.ipynb"
    nbformat.write(exercise_notebook(SHORTCUT_LESSON), lesson)
    rows, problems = prove_checks(lesson, SHORTCUT_MISTAKES)
    outcome = {stand_in: failure for _, stand_in, _, failure in rows}
    assert outcome["mistake 'scores the raw data'"].startswith("AssertionError: score the sorted model")
    assert outcome["mistake 'forgets to store the score'"].startswith("NameError"), outcome
    assert outcome["mistake 'scores the last'"].startswith("AssertionError")
    assert problems == ["98_shortcut.ipynb ex7-tests (no hidden tests): PASSES on the mistake 'right after all'"]


@pytest.mark.parametrize(
    "solution, wrong, refused",
    [
        ("m = f()\ns = g(m)", "m = f()\ns = h(m)", None),
        ("m = f()\ns = g(m)\nt = s", "m = f()\ns = h(m)", None),  # a dropped binding: nothing to run for it
        ("m = f()\ns = g(m)", "m = f2()\ns = g(m)", "first statement"),
        ("m = f()\nprint(m)", "m = f()\nprint(-m)", "not a `name = ...` binding"),
        ("m = f()\ns = g(m)\nprint(s)", "m = f()\ns = h(m)\nprint(s)", None),  # printing it again is harmless
        ("m = f()\ns = g(m)\nlog(s)", "m = f()\ns = h(m)\nlog(s)", "not a print call"),
        ("m = f()\na, b = g(m)", "m = f()\na, b = h(m)", "not a `name = ...` binding"),
        ("s = f()\ns = g(s)", "s = f()\ns = h(s)", "shared statements use ['s']"),
        ("%time m = f()\ns = g(m)", "%time m = f()\ns = h(m)", "plain Python"),
    ],
)
def test_after_solution_accepts_only_trailing_bindings(solution, wrong, refused):
    if refused is None:
        tail, names = trailing_change(solution, wrong, "here")
        assert tail == wrong.split("\n", 1)[1], tail
        assert names == ["s"] + (["t"] if "t = s" in solution else [])
    else:
        with pytest.raises(ValueError, match=re.escape(refused)):
            trailing_change(solution, wrong, "here")


def test_after_solution_needs_the_exercises_last_cell(tmp_path):
    cells = SHORTCUT_LESSON[:2] + [("plain", "extra = 1", None, 0)] + SHORTCUT_LESSON[2:3]
    nbformat.write(exercise_notebook(cells), tmp_path / "97_between.ipynb")
    with pytest.raises(ValueError, match="last cell before its tests"):
        prove_checks(tmp_path / "97_between.ipynb", SHORTCUT_MISTAKES)


def test_every_plausible_mistake_fits_its_lesson():
    """Each listed mistake names a solution cell of its lesson and its edits still apply to that solution (the
    proof would otherwise stop the lesson's nbval run with a definition error)."""
    for name, by_id in MISTAKES.items():
        lesson = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        for grade_id, listed in by_id.items():
            assert listed, f"{name} {grade_id}: an empty list of mistakes"
            for m in listed:
                changed = with_mistake(lesson, m, grade_id)
                assert changed.cells != lesson.cells, f"{name} {grade_id} {m.label!r} changes nothing"
                if m.after_solution:  # raises unless the change is to the cell's trailing bindings
                    j = next(j for j, c in enumerate(lesson.cells) if nbgrader_meta(c).get("grade_id") == grade_id)
                    trailing_change(lesson.cells[j].source, changed.cells[j].source, grade_id)


def test_every_autograded_exercise_has_plausible_mistakes():
    """Every solution cell checked by an autograded test has at least one plausible mistake listed."""
    missing = []
    for path in sorted((ROOT / "notebooks").glob(msv.LESSONS)):
        nb = nbformat.read(path, as_version=4)
        checked = {j for solutions in exercise_groups(nb).values() for j in solutions}
        for j in sorted(checked):
            grade_id = nbgrader_meta(nb.cells[j])["grade_id"]
            if grade_id not in MISTAKES.get(path.name, {}):
                missing.append(f"{path.name} {grade_id}")
    assert not missing, "no plausible mistakes listed (tests/plausible_mistakes.py) for: " + ", ".join(missing)
