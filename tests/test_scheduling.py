"""The parallel schedule of `make test` (tests/conftest.py): its table of long units names real work."""

import ast
from pathlib import Path

from conftest import EXPECTED_SECONDS, LONG_S, expected_seconds

ROOT = Path(__file__).resolve().parents[1]


def test_every_long_unit_names_a_lesson_or_a_test_function():
    for key in EXPECTED_SECONDS:
        path, _, name = key.partition("::")
        assert (ROOT / path).is_file(), f"EXPECTED_SECONDS names {path}, which does not exist: update the table"
        if name:
            tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
            functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
            assert name in functions, f"EXPECTED_SECONDS names {key}, but {path} has no {name}: update the table"


def test_every_lesson_is_in_the_table():
    lessons = sorted(f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    missing = [lesson for lesson in lessons if lesson not in EXPECTED_SECONDS]
    assert not missing, f"add the new lessons to EXPECTED_SECONDS in tests/conftest.py: {missing}"


def test_expected_seconds_orders_long_units_first():
    lesson, guide = "notebooks/04_attention.ipynb", "tests/test_instructors.py::test_the_guide_runs_release_to_feedback"
    assert expected_seconds(lesson) == EXPECTED_SECONDS[lesson] >= LONG_S
    assert expected_seconds(guide) >= LONG_S
    assert expected_seconds("tests/test_data.py::test_vocab_round_trip[abc]") < LONG_S
    assert expected_seconds("notebooks/99_new_lesson.ipynb") >= LONG_S  # a lesson not yet timed counts as long
