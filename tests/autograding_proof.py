"""The autograding proof: every autograded check passes on the solution and fails on wrong answers.

It runs inside nbval's own run of each lesson, in nbval's kernel, so no lesson is executed twice. As nbval runs
a lesson cell by cell, right after an autograded test cell passes on the solution, the learner's part of that
exercise is replayed with stand-ins in place of the solution cells, and the test cell must FAIL on each:

- the student version's stub (`raise NotImplementedError()`), as the student version holds it;
- an empty answer (`pass` in place of the solution): catches test cells that only call the learner's function;
- every plausible mistake listed for the exercise in `plausible_mistakes.py` (an off-by-one, a forgotten mask,
  the wrong axis ...): catches test cells too weak to tell a wrong answer from a right one.

Each is tried against the test cell as the learner sees it (hidden tests removed) and as the autograder runs it
(hidden tests in). A stub or empty answer must fail both. A plausible mistake must fail the autograder's
version; where the visible part lets it pass (the mistake is listed with `visible=False`, caught only by the
hidden tests), the visible part must not print a tick (✓), so no learner is told a wrong answer is right.

Before a replay, the names the solution cells bound are put back as they were before them (the learner's run
never had the solution's variables), with the random states; after the replays, the solution's names and
random states come back, so the rest of the lesson runs, and nbval compares its outputs, as if unprobed.

A replay runs the exercise's solution cells again, training included. A mistake marked `after_solution` in
plausible_mistakes.py (it changes only trailing `name = ...` statements of the last solution cell, such as the
line that scores the model the cell trained; `print` calls may follow) is replayed from the solution's own
state instead: the names those statements bound are put back as they were before the exercise, and only the
mistake's changed statements (and the prints after them) run. The statements before them are the same code on
the same state, so running them again could only repeat the same work; `trailing_change` checks that shape and
refuses anything else.

`make test` turns this on (tests/conftest.py registers the plugin); plain `pytest --nbval notebooks/` does not.
The same `Prover` also drives a plain kernel (`prove_checks`), which the fast tests use on tiny notebooks.
"""

from __future__ import annotations

import ast
import copy
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from plausible_mistakes import MISTAKES, Mistake  # noqa: E402

TICK = "✓"
PROOF_TIME = "autograding proof seconds"  # a user property of each test cell the proof replays


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


def _student_version(nb, name: str):
    """`make student`'s version of a lesson (imported here, not at the top: nbgrader is needed only when a
    lesson with exercises is proven, and the floors environment of tests/test_floors.py has no nbgrader)."""
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    import make_student_versions

    return make_student_versions.student_version(nb, name)


def empty_answers(nb):
    """The lesson with every solution region replaced by `pass`: a learner who deleted the `raise` and wrote
    nothing. A check must fail on this too (it catches test cells that only call the function)."""
    from nbgrader.preprocessors import ClearSolutions

    return ClearSolutions(code_stub={"python": "pass"}).preprocess(copy.deepcopy(nb), {})[0]


def with_mistake(nb, mistake: Mistake, grade_id: str):
    """The lesson with one solution cell (`grade_id`) rewritten as `mistake` says; the other cells unchanged."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if is_solution_code(c) and nbgrader_meta(c).get("grade_id") == grade_id]
    if len(cells) != 1:
        raise ValueError(f"plausible mistake {mistake.label!r}: no single solution cell {grade_id!r}")
    cells[0].source = mistake.apply(cells[0].source, where=grade_id)
    return nb


def _is_print(stmt) -> bool:
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"


def trailing_change(solution: str, wrong: str, where: str) -> tuple[str, list[str]]:
    """For a mistake marked `after_solution`: (the mistake's source from its first changed statement on, the
    names the solution's changed statements bind). ValueError unless the two cells share their first statements,
    every changed statement of the solution is a `name = ...` binding of names the shared first statements never
    mention (so putting those names back undoes it), and what the two share after the change is only `print(...)`
    calls (they run again after the mistake's statements)."""
    try:
        ours, theirs = ast.parse(solution).body, ast.parse(wrong).body
    except SyntaxError as err:
        raise ValueError(f"{where}: after_solution needs a solution cell of plain Python ({err.msg})") from None
    same = 0
    while same < min(len(ours), len(theirs)) and ast.dump(ours[same]) == ast.dump(theirs[same]):
        same += 1
    end = 0
    while end < min(len(ours), len(theirs)) - same and ast.dump(ours[-1 - end]) == ast.dump(theirs[-1 - end]):
        end += 1
    changed = ours[same : len(ours) - end]
    if same == 0 or (not changed and len(theirs) == len(ours)):
        raise ValueError(f"{where}: after_solution, but the mistake changes the cell's first statement or none")
    names = []
    for stmt in changed:
        if not (isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets)):
            raise ValueError(
                f"{where}: after_solution, but the solution's changed statement on line {stmt.lineno} is not a "
                "`name = ...` binding; replay this mistake in full (drop after_solution)"
            )
        names += [t.id for t in stmt.targets]
    for stmt in ours[len(ours) - end :]:
        if not _is_print(stmt):
            raise ValueError(
                f"{where}: after_solution, but the statement on line {stmt.lineno} after the change is not a print "
                "call, and it would run twice; replay this mistake in full (drop after_solution)"
            )
    shared = {n.id for stmt in ours[:same] for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    if shared & set(names):
        raise ValueError(f"{where}: after_solution, but the shared statements use {sorted(shared & set(names))}")
    tail = "\n".join(wrong.splitlines()[theirs[same].lineno - 1 :]) if same < len(theirs) else "pass"
    return tail, names


@dataclass
class Outcome:
    error: str | None  # 'ErrorName: first line of the message', or None when the code ran
    text: str  # what it printed or displayed (text/plain)


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

def _s2s_unbind(names, snapshot):
    """Put `names` back as they were in `snapshot` (unbound if they were not bound then)."""
    ns, before = globals(), snapshot[0]
    for k in names:
        if k in before:
            ns[k] = before[k]
        else:
            ns.pop(k, None)

_s2s_snapshots = {}
_s2s_solved = {}
'''


def _broken(stand_in: str, error: str) -> bool:
    """Whether a stand-in's own cell failing is a bug of the stand-in: the stub may only raise
    NotImplementedError; a plausible mistake may raise anything a learner's code could, but not fail to parse
    (a substitution in plausible_mistakes.py that no longer fits the solution)."""
    if stand_in == "stub":
        return not error.startswith("NotImplementedError")
    if stand_in.startswith("mistake"):
        return error.startswith(("SyntaxError", "IndentationError"))
    return False


class Prover:
    """One lesson's proof, driven cell by cell by whatever runs the lesson.

    `run(source) -> Outcome` runs code in the lesson's kernel. Call `before(i)` before the lesson's cell i runs
    and `after(i)` once it has run without error; `after` returns the problems found at that cell (a check that
    passed on a stand-in). `rows` keeps every probe: (test grade_id, stand-in, variant, error or None).
    """

    def __init__(self, lesson, name: str, run, mistakes: dict[str, list[Mistake]] | None = None):
        self.name, self.run, self.lesson = name, run, lesson
        self.groups = exercise_groups(lesson)
        self.starts = {solutions[0] for solutions in self.groups.values() if solutions}
        self.visible = _student_version(lesson, name)  # hidden tests removed, as the learner sees them
        self.stand_ins = {"stub": self.visible, "empty answer": empty_answers(lesson)}
        # test cell -> [(mistake, the lesson with it, None or (its changed statements, the names to put back))]
        self.mistakes: dict[int, list[tuple[Mistake, object, tuple[str, list[str]] | None]]] = {}
        mistakes = MISTAKES.get(name, {}) if mistakes is None else mistakes
        by_id = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(lesson.cells) if is_solution_code(c)}
        for grade_id, listed in mistakes.items():
            if grade_id not in by_id:
                raise ValueError(f"{name}: plausible mistakes listed for {grade_id!r}, which is no solution cell")
            cell = by_id[grade_id]
            tests = [t for t, solutions in self.groups.items() if cell in solutions]
            for mistake in listed:
                wrong = with_mistake(lesson, mistake, grade_id)
                shortcut = None
                if mistake.after_solution:
                    where = f"{name} {grade_id} mistake {mistake.label!r}"
                    last = all(cell == max(self.groups[t]) for t in tests)
                    between = [j for t in tests for j in range(cell + 1, t) if lesson.cells[j].cell_type == "code"]
                    if not last or between:
                        raise ValueError(f"{where}: after_solution needs the exercise's last cell before its tests")
                    shortcut = trailing_change(lesson.cells[cell].source, wrong.cells[cell].source, where)
                for t in tests:
                    self.mistakes.setdefault(t, []).append((mistake, wrong, shortcut))
        self.rows: list[tuple[str, str, str, str | None]] = []
        self.ready = False

    def _must(self, source: str):
        outcome = self.run(source)
        assert outcome.error is None, f"{self.name}: the proof's own code failed: {outcome.error}"

    def before(self, i: int):
        if not self.ready:
            self._must(PROBE_SETUP)
            self.ready = True
        if i in self.starts:  # the state before this exercise's solutions, to replay the learner's run from
            self._must(f"_s2s_snapshots[{i}] = _s2s_snapshot()")
        if any(shortcut for _, _, shortcut in self.mistakes.get(i, [])):  # the solution's state, before its tests
            self._must(f"_s2s_solved[{i}] = _s2s_snapshot()")

    def after(self, i: int) -> list[str]:
        if not self.groups.get(i):
            return []
        cell = self.lesson.cells[i]
        grade_id, first, problems = nbgrader_meta(cell)["grade_id"], self.groups[i][0], []
        self._must("_s2s_after = _s2s_snapshot()")
        variants = {"as the learner sees it": self.visible.cells[i].source, "with hidden tests": cell.source}
        if variants["as the learner sees it"] == cell.source:
            variants = {"(no hidden tests)": cell.source}
        probes = [(name, nb, None, None) for name, nb in self.stand_ins.items()]
        probes += [(f"mistake '{m.label}'", nb, m, shortcut) for m, nb, shortcut in self.mistakes.get(i, [])]
        for stand_in, replacement, mistake, shortcut in probes:
            if shortcut:  # the solution's state with its trailing bindings undone, then the mistake's statements
                tail, names = shortcut
                self._must(f"_s2s_restore(_s2s_solved[{i}])")
                self._must(f"_s2s_unbind({names!r}, _s2s_snapshots[{first}])")
                replayed = [(self.groups[i][-1], tail)]
            else:  # the learner's cells from the first solution up to the test cell
                self._must(f"_s2s_restore(_s2s_snapshots[{first}])")
                replayed = [(j, replacement.cells[j].source) for j in range(first, i)]
            for j, source in replayed:
                if self.lesson.cells[j].cell_type != "code":
                    continue
                error = self.run(source).error
                if j in self.groups[i] and error and _broken(stand_in, error):
                    problems.append(
                        f"{self.name} {nbgrader_meta(self.lesson.cells[j])['grade_id']}: "
                        f"the {stand_in} itself fails with {error}"
                    )
            self._must("_s2s_replayed = _s2s_snapshot()")
            for variant, test_source in variants.items():
                self._must("_s2s_restore(_s2s_replayed)")  # each variant starts from the learner's state
                outcome = self.run(test_source)
                self.rows.append((grade_id, stand_in, variant, outcome.error))
                if outcome.error is not None:
                    continue
                if mistake is None or variant != "as the learner sees it":
                    problems.append(f"{self.name} {grade_id} {variant}: PASSES on the {stand_in}")
                elif mistake.visible:
                    problems.append(
                        f"{self.name} {grade_id} {variant}: PASSES on the {stand_in} (listed as caught by the "
                        "visible tests; strengthen them or list it with visible=False)"
                    )
                elif TICK in outcome.text:
                    problems.append(
                        f"{self.name} {grade_id} {variant}: prints {TICK} on the {stand_in}, a wrong answer "
                        f"(printed: {outcome.text.strip()[:200]!r})"
                    )
        self._must("_s2s_restore(_s2s_after)")  # the solution's state, as if never probed
        return problems

    def report(self) -> str:
        return "\n".join(
            f"  {grade_id:24s} on the {stand_in:40s} {variant:22s}: {failure or 'PASSED'}"
            for grade_id, stand_in, variant, failure in self.rows
        )


# --------------------------------------------------------------------------------------- plain kernel


def prove_checks(lesson_path: Path, mistakes: dict[str, list[Mistake]] | None = None):
    """Run a lesson top to bottom in a fresh kernel with the proof on (what nbval does in `make test`).

    Returns (rows, problems).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    lesson = nbformat.read(lesson_path, as_version=4)
    scratch = nbformat.v4.new_notebook(metadata=lesson.metadata)
    from kernels import quiet_widgets

    client = quiet_widgets(  # nbclient's own Output widget stand-in stalls cells (scripts/nbexec.py)
        NotebookClient(
            scratch,
            timeout=900,
            kernel_name="python3",
            resources={"metadata": {"path": str(lesson_path.parent)}},
        )
    )

    def run(source: str) -> Outcome:
        cell = nbformat.v4.new_code_cell(source)
        scratch.cells.append(cell)
        error = None
        try:
            client.execute_cell(cell, len(scratch.cells) - 1)
        except CellExecutionError as err:
            message = str(err.evalue).strip()
            error = f"{err.ename}: {message.splitlines()[0] if message else ''}"
        return Outcome(error, _text(cell.outputs))

    prover = Prover(lesson, lesson_path.name, run, mistakes)
    problems = []
    with client.setup_kernel():
        for i, cell in enumerate(lesson.cells):
            if cell.cell_type != "code":
                continue
            prover.before(i)
            outcome = run(cell.source)
            assert outcome.error is None, f"{lesson_path.name} cell {i} fails on the solution: {outcome.error}"
            problems += prover.after(i)
    return prover.rows, problems


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


# --------------------------------------------------------------------------------------- inside nbval


def _nbval_runner(kernel, timeout: float):
    """run(source) -> Outcome in nbval's kernel. nbval reads only the replies to its own requests, so the
    proof's messages never reach a lesson cell's outputs."""

    def run(source: str) -> Outcome:
        msg_id = kernel.execute_cell_input(source, allow_stdin=False)
        while True:
            reply = kernel.get_message("shell", timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        outputs = []
        while True:
            msg = kernel.get_message("iopub", timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                break
            if kind == "stream":
                outputs.append({"output_type": "stream", "text": content["text"]})
            elif kind in ("display_data", "execute_result"):
                outputs.append({"output_type": kind, "data": content["data"]})
        content = reply["content"]
        if content["status"] == "ok":
            return Outcome(None, _text(outputs))
        message = str(content.get("evalue", "")).strip()
        return Outcome(f"{content.get('ename')}: {message.splitlines()[0] if message else ''}", _text(outputs))

    return run


_PROVERS: dict[int, tuple[Prover, dict[int, int]]] = {}


def _prover_for(item):
    notebook = item.parent
    key = id(notebook)
    if key not in _PROVERS:
        lesson = nbformat.read(str(notebook.fspath), as_version=4)
        if not exercise_groups(lesson):
            _PROVERS[key] = (None, {})
        else:
            timeout = item.config.option.nbval_cell_timeout or 900
            prover = Prover(lesson, Path(str(notebook.fspath)).name, _nbval_runner(notebook.kernel, timeout))
            code = [i for i, c in enumerate(lesson.cells) if c.cell_type == "code"]
            _PROVERS[key] = (prover, dict(enumerate(code)))  # nbval's cell number -> index in the notebook
    return _PROVERS[key]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if type(item).__name__ != "IPyNbCell" or getattr(item.parent, "kernel", None) is None:
        return (yield)
    prover, index = _prover_for(item)
    if prover is None:
        return (yield)
    i = index[item.cell_num]
    prover.before(i)
    result = yield  # nbval runs the cell; an error or an output mismatch ends the test here
    start = time.perf_counter()
    problems = prover.after(i)
    if prover.groups.get(i):
        grade_id = nbgrader_meta(prover.lesson.cells[i])["grade_id"]
        item.user_properties.append((PROOF_TIME, (prover.name, grade_id, time.perf_counter() - start)))
    if prover.groups.get(i):
        print(f"autograding proof of {prover.name}, after its cell {i} (counting markdown cells):\n{prover.report()}")
        prover.rows.clear()
    if problems:
        raise AssertionError("autograded checks that pass on a wrong answer:\n" + "\n".join(problems))
    return result


_TIMES: list[tuple[str, str, float]] = []


def pytest_runtest_logreport(report):
    """Collects each replay's time (with xdist, the workers' reports reach the controller with it)."""
    if report.when == "call":
        _TIMES.extend(value for key, value in report.user_properties if key == PROOF_TIME)


def pytest_terminal_summary(terminalreporter):
    """What the proof added to the run, exercise by exercise: it is paid on every `make test`."""
    if not _TIMES:
        return
    terminalreporter.section("autograding proof: seconds of replays added to nbval's run")
    for name, grade_id, seconds in sorted(_TIMES, key=lambda t: -t[2]):
        terminalreporter.write_line(f"{seconds:7.1f} s  {name} {grade_id}")
    terminalreporter.write_line(f"{sum(t[2] for t in _TIMES):7.1f} s  in all, over {len(_TIMES)} test cells")
