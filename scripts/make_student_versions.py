"""Make the student versions of the lessons with nbgrader's own preprocessors.

    python scripts/make_student_versions.py            (or: make student)
        notebooks/NN_topic.ipynb -> student/NN_topic.ipynb, for every lesson; stale student files are removed
    python scripts/make_student_versions.py --check
        exit 1 (and say which) if student/ is not exactly what the lessons give now

A student version is what nbgrader's `generate_assignment` releases, run as the same chain of nbgrader
preprocessors, with two differences that suit learners who open it straight from GitHub or Colab:
- only the exercise cells lose their outputs (nbgrader clears every output); the lesson's own plots, tables
  and widgets stay, so the notebook reads like the lesson until the exercises;
- the Colab/Binder badges open the student version, and a note under the title says where the solutions are.
In the exercises, solution regions become `raise NotImplementedError()`, written answers become
"YOUR ANSWER HERE", hidden tests are removed, and test cells are locked (nbgrader's LockCells).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import tidy_widgets

ROOT = Path(__file__).resolve().parents[1]
LESSONS = "[0-9][0-9]_*.ipynb"
STUDENT_NOTE = (
    "> **Student version.** The exercises at the end are yours to solve: replace each "
    '`raise NotImplementedError()` with your code (and each "YOUR ANSWER HERE" with your answer), then run '
    "the test cell below it. The complete lesson, solutions included, is `notebooks/{name}` in the course "
    "repository."
)


class ClearExerciseOutputs(ClearOutput):
    """nbgrader's ClearOutput, applied only to exercise cells (solution and graded cells)."""

    def preprocess_cell(self, cell, resources, cell_index):
        if nbgrader_utils.is_solution(cell) or nbgrader_utils.is_grade(cell):
            return super().preprocess_cell(cell, resources, cell_index)
        return cell, resources


# generate_assignment's chain, less the steps that need a course database or header files
# (IncludeHeaderFooter, InstantiateTests, SaveCells), and with ClearOutput limited to the exercises.
PREPROCESSORS = [
    LockCells,
    ClearSolutions,
    ClearExerciseOutputs,
    CheckCellMetadata,
    ComputeChecksums,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]


def point_badges_at_student_version(nb, name: str) -> None:
    """The title cell's Colab/Binder badges open this student version; a note says where the solutions are."""
    title = nb.cells[0]
    if title.cell_type != "markdown":
        return
    text = title.source
    text = text.replace(f"/blob/main/notebooks/{name}", f"/blob/main/student/{name}")
    text = text.replace(f"urlpath=lab/tree/notebooks/{name}", f"urlpath=lab/tree/student/{name}")
    parts = text.split("\n\n")
    # the note goes right after the paragraph with the badges (or after the heading)
    where = next((i for i, p in enumerate(parts) if "colab-badge" in p), 0) + 1
    parts.insert(where, STUDENT_NOTE.format(name=name))
    title.source = "\n\n".join(parts)


def student_version(nb, name: str):
    """The student version of one lesson (a new notebook; `nb` is left as it is)."""
    nb = copy.deepcopy(nb)
    resources: dict = {}
    for preprocessor in PREPROCESSORS:
        nb, resources = preprocessor().preprocess(nb, resources)
    tidy_widgets(nb)  # drop saved state of widgets whose output was cleared
    point_badges_at_student_version(nb, name)
    nbformat.validate(nb)
    return nb


def render(nb) -> str:
    """Exactly what gets written (nbformat's own layout), so a regeneration can be compared byte for byte."""
    return nbformat.writes(nb) + "\n"


def generate(source_dir: Path) -> dict[str, str]:
    """Student versions of every lesson in `source_dir`, as {file name: text}."""
    lessons = sorted(source_dir.glob(LESSONS))
    if not lessons:
        raise SystemExit(f"no lessons ({LESSONS}) in {source_dir}")
    return {p.name: render(student_version(nbformat.read(p, as_version=4), p.name)) for p in lessons}


def write(source_dir: Path, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = generate(source_dir)
    for stale in sorted(out_dir.glob(LESSONS)):
        if stale.name not in texts:
            stale.unlink()
    written = []
    for name, text in texts.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def differences(source_dir: Path, out_dir: Path) -> list[str]:
    """What differs between `out_dir` and a fresh generation from `source_dir` (empty when in sync)."""
    texts = generate(source_dir)
    present = {p.name for p in out_dir.glob(LESSONS)} if out_dir.is_dir() else set()
    problems = [f"{out_dir.name}/{n} is missing" for n in sorted(set(texts) - present)]
    problems += [f"{out_dir.name}/{n} has no lesson in {source_dir.name}/" for n in sorted(present - set(texts))]
    for name in sorted(set(texts) & present):
        if (out_dir / name).read_text(encoding="utf-8") != texts[name]:
            problems.append(f"{out_dir.name}/{name} differs from what {source_dir.name}/{name} gives")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=ROOT / "notebooks", help="folder of the lessons")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="folder for the student versions")
    parser.add_argument("--check", action="store_true", help="only check that --out is in sync")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences(args.source, args.out)
        for problem in problems:
            print(problem)
        if problems:
            print("run `make student` and commit student/")
        return 1 if problems else 0
    for path in write(args.source, args.out):
        print("wrote", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
