"""Student versions and exercises: made by nbgrader, in sync with the lessons, and every check proven real.

- student/ is exactly what `make student` makes from notebooks/ now (CI fails when it drifts);
- nbgrader's own `generate_assignment` accepts every lesson, and its gradebook agrees with the cells' points;
  the student versions hold the same exercise cells as nbgrader's release;
- outside the exercises a student version is the lesson; inside, no solution or hidden test is left;
- (slow) each lesson runs once with its solutions, and right after every autograded test cell passes, the
  student stubs of its solution cells run in their place and the test cell must FAIL, both as the learner
  sees it (hidden tests removed) and as the autograder runs it (hidden tests in); the same with an empty
  answer (`pass` in place of the solution), which catches test cells that only call the learner's function.
  A check that passes on a stub is a bug. A fast test proves that this machinery reports weak checks.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import make_student_versions as msv  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob(msv.LESSONS))
IDS = [p.stem for p in LESSONS]


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_solution_code(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("solution"))


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded code that is not itself a solution."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def exercise_groups(nb) -> dict[int, list[int]]:
    """{test cell index: indices of the solution cells it checks} - the solution cells since the previous
    exercise's tests (consecutive test cells check the same solutions)."""
    groups, solutions, after_test = {}, [], False
    for i, cell in enumerate(nb.cells):
        if is_solution_code(cell):
            solutions = [] if after_test else solutions
            solutions.append(i)
            after_test = False
        elif is_test_cell(cell):
            groups[i] = list(solutions)
            after_test = True
    return groups


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

PROBE_SETUP = r'''
def _s2s_snapshot():
    """The names the notebook bound (not _private ones) and the random states, as they are now."""
    import random
    rng = [random.getstate()]
    try:
        import numpy
        rng.append(numpy.random.get_state())
    except ImportError:
        rng.append(None)
    try:
        import torch
        rng.append(torch.get_rng_state())
        rng.append(torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)
    except ImportError:
        rng += [None, None]
    return {k: v for k, v in globals().items() if not k.startswith("_")}, rng

def _s2s_restore(snapshot):
    names, rng = snapshot
    ns = globals()
    for k in [k for k in ns if not k.startswith("_") and k not in names]:
        del ns[k]
    ns.update(names)
    import random
    random.setstate(rng[0])
    if rng[1] is not None:
        import numpy
        numpy.random.set_state(rng[1])
    if rng[2] is not None:
        import torch
        torch.set_rng_state(rng[2])
        if rng[3] is not None:
            torch.cuda.set_rng_state_all(rng[3])

_s2s_snapshots = {}
'''


class Kernel:
    """One kernel running a growing notebook: every cell sent to it is appended, so nothing is overwritten."""

    def __init__(self, metadata, cwd: Path):
        self.nb = nbformat.v4.new_notebook(metadata=metadata)
        self.client = NotebookClient(
            self.nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        )

    def run(self, source: str) -> str | None:
        """Run code; None when it succeeds, else 'ErrorName: message'."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1)
        except CellExecutionError as err:
            return f"{err.ename}: {str(err.evalue).strip().splitlines()[0] if str(err.evalue).strip() else ''}"
        return None


def empty_answers(nb):
    """The lesson with every solution region replaced by `pass`: a learner who deleted the `raise` and wrote
    nothing. A check must fail on this too (it catches test cells that only call the function)."""
    from nbgrader.preprocessors import ClearSolutions

    return ClearSolutions(code_stub={"python": "pass"}).preprocess(copy.deepcopy(nb), {})[0]


def prove_checks(lesson_path: Path, student_path: Path):
    """Run the lesson; after each test cell passes, run it again after the student stubs and record the outcome.

    Each test cell is probed with two stand-ins for the learner's cells (the student version's
    `raise NotImplementedError()`, and an empty answer `pass`), each followed by the test cell as learners see
    it and as the autograder runs it (hidden tests in). Before a probe, the names the solution cells bound are
    put back as they were before them (the student's run never had the solution's variables); after the
    probes, the solution's names and random states come back, so the rest of the lesson runs as if unprobed.

    Returns (rows, problems, seconds): one row per (test cell, stand-in, variant) with the error that made it
    fail, or None where it passed (a problem).
    """
    lesson = nbformat.read(lesson_path, as_version=4)
    stand_ins = {"stub": nbformat.read(student_path, as_version=4), "empty answer": empty_answers(lesson)}
    visible_tests = msv.student_version(lesson, lesson_path.name)  # hidden tests removed, as the learner sees
    groups = exercise_groups(lesson)
    starts = {solutions[0]: test for test, solutions in groups.items() if solutions}
    rows, problems = [], []
    kernel = Kernel(lesson.metadata, lesson_path.parent)
    start = time.perf_counter()
    with kernel.client.setup_kernel():
        assert kernel.run(PROBE_SETUP) is None
        for i, cell in enumerate(lesson.cells):
            if cell.cell_type != "code":
                continue
            if i in starts:  # the state before this exercise's solutions, to replay the student's run from
                assert kernel.run(f"_s2s_snapshots[{i}] = _s2s_snapshot()") is None
            error = kernel.run(cell.source)
            assert error is None, f"{lesson_path.name} cell {i} fails on the solution notebook: {error}"
            if i not in groups or not groups[i]:
                continue
            grade_id = nbgrader_meta(cell)["grade_id"]
            first = groups[i][0]
            assert kernel.run("_s2s_after = _s2s_snapshot()") is None
            variants = {"as the learner sees it": visible_tests.cells[i].source, "with hidden tests": cell.source}
            if variants["as the learner sees it"] == cell.source:
                variants = {"(no hidden tests)": cell.source}
            for stand_in, replacement in stand_ins.items():
                for variant, test_source in variants.items():
                    assert kernel.run(f"_s2s_restore(_s2s_snapshots[{first}])") is None
                    for j in range(first, i):  # the learner's cells from the first solution up to the test cell
                        if replacement.cells[j].cell_type != "code":
                            continue
                        stub_error = kernel.run(replacement.cells[j].source)
                        if (
                            stand_in == "stub"
                            and j in groups[i]
                            and stub_error
                            and not stub_error.startswith("NotImplementedError")
                        ):
                            problems.append(
                                f"{lesson_path.name} {nbgrader_meta(lesson.cells[j])['grade_id']}: "
                                f"the student stub itself fails with {stub_error}"
                            )
                    failure = kernel.run(test_source)
                    rows.append((grade_id, stand_in, variant, failure))
                    if failure is None:
                        problems.append(f"{lesson_path.name} {grade_id} {variant}: PASSES on the {stand_in}")
            assert kernel.run("_s2s_restore(_s2s_after)") is None  # the solution's state, as if never probed
    return rows, problems, time.perf_counter() - start


@pytest.mark.slow
@pytest.mark.parametrize("lesson_path", LESSONS, ids=IDS)
def test_every_autograded_check_passes_on_the_solution_and_fails_on_the_stub(lesson_path):
    read_student(lesson_path.name)
    rows, problems, seconds = prove_checks(lesson_path, ROOT / "student" / lesson_path.name)
    print(f"\n{lesson_path.name}: solution run with probes in {seconds:.0f} s")
    for grade_id, stand_in, variant, failure in rows:
        print(f"  {grade_id:24s} on the {stand_in:12s} {variant:22s}: {failure or 'PASSED (a bug)'}")
    assert rows, f"{lesson_path.name}: no autograded test cell was probed"
    assert not problems, "\n".join(problems)


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


def test_the_proof_catches_a_check_that_passes_on_the_stub(tmp_path):
    """The machinery itself: a weak check is reported, a real one is not, and a variable left over from the
    solution run does not make a check look weak (the student's run never had it)."""
    nb = exercise_notebook(
        [
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
            (
                "solution",
                "def shout(text):\n    ### BEGIN SOLUTION\n    return text.upper()\n    ### END SOLUTION",
                "ex5",
                0,
            ),
            ("test", "shout('hi')\nprint('✓ shout runs')", "ex5-tests", 1),  # weak: runs it, asserts nothing
            ("plain", "assert double(answer) == 84 and note == 'done'", None, 0),  # later cells still see the solutions
        ]
    )
    lesson, student = tmp_path / "99_probe.ipynb", tmp_path / "student.ipynb"
    nbformat.write(nb, lesson)
    nbformat.write(msv.student_version(nb, lesson.name), student)
    rows, problems, _ = prove_checks(lesson, student)
    outcome = {(grade_id, stand_in, variant): failure for grade_id, stand_in, variant, failure in rows}
    assert outcome[("ex1-tests", "stub", "(no hidden tests)")].startswith("NotImplementedError")
    assert outcome[("ex1-tests", "empty answer", "(no hidden tests)")].startswith("AssertionError")  # None != 20
    assert outcome[("ex2-tests", "stub", "(no hidden tests)")].startswith("NameError")
    assert outcome[("ex3-tests", "stub", "with hidden tests")].startswith("NotImplementedError")
    assert outcome[("ex5-tests", "stub", "(no hidden tests)")].startswith("NotImplementedError")
    assert sorted(problems) == [
        "99_probe.ipynb ex3-tests as the learner sees it: PASSES on the empty answer",
        "99_probe.ipynb ex3-tests as the learner sees it: PASSES on the stub",
        "99_probe.ipynb ex4-tests (no hidden tests): PASSES on the empty answer",
        "99_probe.ipynb ex4-tests (no hidden tests): PASSES on the stub",
        "99_probe.ipynb ex5-tests (no hidden tests): PASSES on the empty answer",
    ]
