"""scripts/benchmark.py (its parts in scripts/bench/) works and reports what it should, and runs lessons with the
notebook client it shares with scripts/run_notebooks.py. No timing thresholds: figures are the benchmark's job."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

# the scripts import each other from their folder, as when run as scripts
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import nbexec
import run_notebooks
from bench.headlines import HEADLINES, format_value, headlines_for, lesson_number
from bench.lessons import LessonResult, run_lesson
from bench.report import targets as course_targets

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
SCRIPT = SCRIPTS / "benchmark.py"


def write_notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a fake lesson")] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def table(report, heading):
    """Rows (lists of cells) of the first table under ``## heading``."""
    section = report.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert len(lines) >= 3, f"no table under {heading!r}"
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def run_script(*args, timeout=300):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_quick_mode_writes_a_complete_report(tmp_path):
    out = tmp_path / "report.md"
    proc = run_script("--quick", "--threads", "1", "--out", str(out))
    report = out.read_text(encoding="utf-8")
    assert report.strip() in proc.stdout, "the report is also printed"
    for heading in ("# Course benchmark", "## Machine", "## Lessons", "## Speed claims", "## Targets"):
        assert heading in report

    machine = dict(row[:2] for row in table(report, "Machine"))
    for key in ("CPU", "logical cores", "RAM", "torch", "device"):
        assert machine.get(key), f"machine section lacks {key}"
    assert machine["torch threads (micro-benchmarks)"] == "1"

    micro = table(report, "Speed claims")
    names = " ".join(row[0] for row in micro)
    assert "training" in names and "greedy" in names and "beam search k=5" in names
    for row in micro:
        slow, fast, ratio = (float(row[i].rstrip("x").replace(",", "")) for i in (3, 5, 6))
        assert slow > 0 and fast > 0 and ratio > 0, row
        assert re.fullmatch(r"[\d.]+x-[\d.]+x \(\d+ rounds\)", row[7]), row

    targets = {row[0]: row for row in table(report, "Targets")}
    assert any("whole course" in t for t in targets) and any("memory" in t for t in targets)
    assert all(row[2].startswith(("met", "missed", "n/a")) for row in targets.values())
    assert "Quick mode" in report


def test_headlines_are_read_from_the_kernel_and_failures_are_na(tmp_path):
    path = write_notebook(tmp_path / "01_fake.ipynb", "x = 0.25\nname = 'ok'", "raise ValueError('boom')", "y = 4")
    specs = [
        ("quarter", "x", "pct"),
        ("text", "name", "num"),
        ("after the error", "y", "num"),
        ("undefined", "no_such_name", "num"),
        ("broken", "1 / 0", "num"),
    ]
    result = run_lesson(path, specs, timeout=120)

    assert result.status.startswith("error in code cell 2: ValueError"), result.status
    assert result.seconds > 0 and result.peak_mib > 0
    assert result.slowest_cell[0] in (1, 2)
    assert result.value("quarter") == 0.25
    assert result.headlines["text"]["value"] == "'ok'"
    assert result.value("after the error") is None and "NameError" in result.headlines["after the error"]["error"]
    assert "NameError" in result.headlines["undefined"]["error"]
    assert "ZeroDivisionError" in result.headlines["broken"]["error"]
    assert result.kernel_threads is None  # this notebook never imports torch


def test_lesson_run_reports_headlines_and_missing_lessons(tmp_path):
    # 01 matches HEADLINES' "01_toy_reversal" by number; 02.. have no notebook here and must show as n/a
    write_notebook(tmp_path / "01_fake.ipynb", "test_exact = 0.5")
    out = tmp_path / "report.md"
    run_script("--notebooks-dir", str(tmp_path), "--skip-micro", "--out", str(out))
    report = out.read_text(encoding="utf-8")

    rows = {row[0]: row for row in table(report, "Lessons")}
    assert rows["01_fake"][1] == "ok"
    assert float(rows["01_fake"][2]) > 0 and float(rows["01_fake"][3]) > 0
    assert "held-out exact match 50.0%" in rows["01_fake"][6]
    for stem in HEADLINES:
        if lesson_number(stem) != "01":
            assert rows[stem][1] == "missing" and rows[stem][2] == "n/a" and "n/a" in rows[stem][6]
    assert "1 lesson(s) run." in report  # every notebook in the folder ran: the course total is complete
    targets = {row[0]: row for row in table(report, "Targets")}
    course = targets["whole course <= 10 min on 2 cores (issue 30)"]
    assert course[2].startswith("met")  # "(busy machine ...)" may follow
    assert targets["batched vs per-example training >= 30x"][2] == "n/a"


def test_targets_need_the_accuracy_as_well_as_the_time():
    def lesson_02(seconds, exact):
        return LessonResult(
            "02_batched_gru",
            "ok",
            100.0,
            500.0,
            (1, 1.0),
            {
                "held-out exact match": {"value": exact, "fmt": "pct"},
                "training time to 99%": {"value": seconds, "fmt": "s"},
            },
        )

    def status(lessons):
        rows = {t: s for t, _, s in course_targets(lessons, [], course_complete=False, quick=False)}
        return rows["batched GRU to 99% exact, lengths 3-10, <= 60 s"], rows["peak kernel memory < 1 GiB"]

    assert status([lesson_02(50.0, 0.995)]) == ("met", "met")
    assert status([lesson_02(50.0, 0.98)])[0] == "missed (below 99%)"
    assert status([lesson_02(70.0, 0.995)])[0] == "missed"
    assert status([LessonResult("02_batched_gru", "missing")]) == ("n/a", "n/a")
    big = lesson_02(50.0, 0.995)
    big.peak_mib = 1500.0
    assert status([big])[1] == "missed"


@pytest.mark.parametrize("name, number", [("01_toy_reversal", "01"), ("7_x.ipynb", "07"), ("12_capstone", "12")])
def test_lesson_numbers(name, number):
    assert lesson_number(name) == number


def test_headlines_match_lessons_by_number():
    assert headlines_for("04_attention_renamed") == HEADLINES["04_attention"]
    assert headlines_for("99_unknown") == []
    assert format_value(0.995, "pct") == "99.5%"
    assert format_value(None, "pct") == "n/a"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_every_lesson_has_headlines_naming_its_own_variables(path):
    """A new lesson needs a HEADLINES entry, and a renamed variable must not silently turn a headline into n/a."""
    import ast
    import builtins

    specs = headlines_for(path.stem)
    assert specs, f"add {path.stem!r} to HEADLINES in scripts/bench/headlines.py (the figures the lesson asserts)"
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    for label, expression, _ in specs:
        names = {n.id for n in ast.walk(ast.parse(expression, mode="eval")) if isinstance(n, ast.Name)}
        for name in names - set(dir(builtins)):
            assert re.search(rf"\b{re.escape(name)}\b", code), (
                f"HEADLINES[{path.stem!r}] {label!r} reads {name!r}, which {path.name} never defines"
            )


# ------------------------------------------------------------------ the notebook client shared with run_notebooks


def test_the_shared_client_runs_a_notebook_in_its_own_folder_with_the_python3_kernel(tmp_path):
    path = tmp_path / "lesson.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "some-other-kernel", "display_name": "x", "language": "python"}
    client = nbexec.notebook_client(nb, path, 30, store_widget_state=True)
    assert client.kernel_name == "python3", "lessons run in this environment's python3 kernel, as nbval does"
    assert client.resources["metadata"]["path"] == str(tmp_path)
    assert client.timeout == 30 and client.record_timing is False and client.store_widget_state is True


def test_run_notebooks_and_the_benchmark_create_their_clients_in_one_place():
    """One module builds the client, so the committed notebooks and the benchmark run lessons alike."""
    builders = sorted(
        p.relative_to(SCRIPTS).as_posix() for p in SCRIPTS.rglob("*.py") if "NotebookClient(" in p.read_text()
    )
    assert builders == ["nbexec.py"], builders
    for path in (SCRIPTS / "run_notebooks.py", SCRIPTS / "bench" / "lessons.py"):
        assert "notebook_client(" in path.read_text(), f"{path.name} should run notebooks through nbexec"


def test_run_notebooks_saves_a_top_to_bottom_run_made_in_the_notebooks_folder(tmp_path, monkeypatch):
    folder = tmp_path / "lessons"
    folder.mkdir()
    path = write_notebook(folder / "01_fake.ipynb", "import os\nprint(os.path.basename(os.getcwd()))", "1 + 1")
    monkeypatch.chdir(tmp_path)  # as `make notebooks` runs it: from above the notebooks' folder, a relative path
    run_notebooks.run(Path("lessons") / path.name, timeout=60)
    saved = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert [c.execution_count for c in saved] == [1, 2]
    assert saved[0].outputs[0]["text"] == "lessons\n", "the kernel works in the notebook's folder"
    assert saved[1].outputs[0]["data"]["text/plain"] == "2"
    assert all("execution" not in c.metadata for c in saved), "no timings are recorded"


def test_the_benchmark_runs_a_lesson_in_its_folder_given_a_relative_path(tmp_path, monkeypatch):
    folder = tmp_path / "lessons"
    folder.mkdir()
    write_notebook(folder / "01_fake.ipynb", "import os\nhere = os.getcwd()")
    monkeypatch.chdir(tmp_path)
    result = run_lesson(Path("lessons") / "01_fake.ipynb", [("in its folder", f"here == {str(folder)!r}", "num")])
    assert result.ok, result.status
    assert result.value("in its folder") == 1.0, result.headlines


def test_transformer_targets_read_lesson_08s_headlines():
    def lesson_08(min_bucket, speedup):
        return LessonResult(
            "08_transformer",
            "ok",
            100.0,
            500.0,
            (1, 1.0),
            {
                "Transformer min bucket": {"value": min_bucket, "fmt": "pct"},
                "KV cache speed-up at length 30": {"value": speedup, "fmt": "x"},
            },
        )

    def status(lessons):
        rows = {t: (m, s) for t, m, s in course_targets(lessons, [], course_complete=False, quick=False)}
        return (
            rows["Transformer >= 99% in every bucket up to 30"],
            rows["KV cache >= 3x faster than recomputing, length 30"],
        )

    assert status([lesson_08(0.995, 5.2)]) == (("99.5%", "met"), ("5.2x", "met"))
    assert status([lesson_08(0.98, 2.5)]) == (("98.0%", "missed"), ("2.5x", "missed"))
    assert status([LessonResult("08_transformer", "missing")]) == (("n/a", "n/a"), ("n/a", "n/a"))


def test_run_notebooks_names_the_slow_cells_that_show_no_progress(tmp_path, monkeypatch):
    """A learner should not wait in silence: `make notebooks` names each cell that ran longer than SLOW_S without a
    progress bar (a live tqdm one, or the empty display a closed progress_bar leaves); --no-save writes nothing."""
    monkeypatch.setattr(run_notebooks, "SLOW_S", 0.5)
    path = write_notebook(
        tmp_path / "01_fake.ipynb",
        "import time\nfrom seq2seq_helpers.training import progress_bar",
        "time.sleep(1.0)",  # slow and silent
        "for _ in progress_bar(range(2), 'waiting'):\n    time.sleep(0.5)",  # slow, with a bar that closes
        "from tqdm.auto import tqdm\nfor _ in tqdm(range(2)):\n    time.sleep(0.5)",  # slow, with a bar kept
        "1 + 1",  # fast
    )
    before = path.read_text(encoding="utf-8")
    _, silent = run_notebooks.run(path, timeout=60, save=False)
    flagged = {s.split(":")[0] for s in silent}  # indices count the markdown cell; cell 1's imports may be slow too
    assert "cell 2" in flagged and not flagged & {"cell 3", "cell 4", "cell 5"}, silent
    assert path.read_text(encoding="utf-8") == before, "--no-save must not write the notebook"


def test_the_output_widget_stand_in_never_writes_to_the_kernels_shell_channel():
    """nbclient's Output widget stand-in sends each captured output back to the kernel on the shell channel, and
    that send made cells wait for their full timeout (scripts/nbexec.py says how it was found and measured). The
    stand-in every course run uses captures the same outputs and sends nothing."""
    from nbclient.output_widget import OutputWidget

    class Shell:
        sent = 0

        def send(self, msg):
            Shell.sent += 1

    class KernelClient:
        shell_channel = Shell()
        session = type("Session", (), {"msg": staticmethod(lambda *args, **kwargs: {})})()

    class Executor:
        widget_state = {"c1": {}}

    import nbformat
    from nbexec import notebook_client

    client = notebook_client(nbformat.v4.new_notebook(), ROOT / "notebooks" / "x.ipynb", timeout=10)
    stand_in = client.widget_registry["@jupyter-widgets/output"]["OutputModel"]  # what a run really uses
    msg = {
        "header": {"msg_type": "stream"},
        "msg_type": "stream",
        "parent_header": {"msg_id": "m"},
        "content": {"name": "stdout", "text": "hi\n"},
    }
    clear = {"msg_type": "clear_output", "parent_header": {"msg_id": "m"}, "content": {"wait": False}}
    for cls, expected_sends in ((OutputWidget, 2), (stand_in, 0)):
        Shell.sent = 0
        widget = cls("c1", {"outputs": []}, KernelClient(), Executor())
        widget.output([], msg, None, 0)
        assert [o["text"] for o in widget.outputs] == ["hi\n"], "the output is captured as before"
        widget.clear_output([], clear, 0)
        assert Shell.sent == expected_sends, f"{cls.__name__} sent {Shell.sent} messages to the kernel"
