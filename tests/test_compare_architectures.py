"""scripts/compare_architectures.py works, and its report holds what its run measured.

The script runs once, with ``--quick`` (tiny data, models and steps, one thread) and ``--json``: the test
recomputes every test score from the outputs the run decoded, rebuilds the models to count their parameters, and
checks the Markdown shows exactly those figures. No timing thresholds: figures are the full run's job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sacrebleu.metrics import BLEU, CHRF

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "compare_architectures.py"
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other from their folder
import compare_architectures as compare  # noqa: E402

from seq2seq_helpers.utils import count_parameters  # noqa: E402

SEEDS = (3, 5)  # not the default seeds, so the report must come from this run's arguments


def section(report: str, heading: str) -> str:
    return report.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]


def table_after(text: str, marker: str) -> list[list[str]]:
    """Rows (lists of cells, header and rule left out) of the first table after ``marker`` in ``text``."""
    lines = text.split(marker, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert end - start >= 3, f"no table after {marker!r}"
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[start + 2 : end]]


def test_a_quick_run_reports_what_it_measured(tmp_path):
    out, raw = tmp_path / "architectures.md", tmp_path / "results.json"
    seeds = ",".join(map(str, SEEDS))
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--threads", "1", "--seeds", seeds, "--out", str(out)]
        + ["--json", str(raw)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report, data = out.read_text(encoding="utf-8"), json.loads(raw.read_text(encoding="utf-8"))
    assert report.strip() in proc.stdout, "the report is also printed"
    assert f"--seeds {seeds}" in report and "**Quick mode:**" in report, "the report names its command and mode"

    machine = dict(row[:2] for row in table_after(report, "## Machine"))
    for key in ("CPU", "logical cores", "RAM", "torch", "device", "load average at end (1, 5, 15 min)"):
        assert machine.get(key), f"the machine table lacks {key}"
    assert machine["torch threads"] == "1" and machine["OMP_NUM_THREADS"] == "1"

    results = data["results"]
    assert {(r["task"], r["model"], r["seed"]) for r in results} == {
        (t, m, s) for t in compare.TASKS for m in compare.MODELS for s in SEEDS
    }, "one run per task, model and seed"
    for name, title in (("dates", "Dates (lesson 06)"), ("translation", "Translation, English → French (lesson 07)")):
        task = data["tasks"][name]
        config = compare.TaskConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in task["config"].items()})
        assert config == compare.QUICK[name]
        runs = [r for r in results if r["task"] == name]
        text = section(report, title)
        summary = {row[0]: row[1:] for row in table_after(text, "min-max).")}
        per_seed = {(row[0], int(row[1])): row[2:] for row in table_after(text, "Per seed:")}
        curves = {(row[0], int(row[1])): row[2:] for row in table_after(text, "by training step:")}

        # parameters: the models the script builds, with the run's vocabularies, counted again
        shell = compare.TaskData(config, task["src_vocab_size"], task["tgt_vocab_size"], [], 0, None, [], [], None, "")
        for i, model in enumerate(compare.MODELS):
            counted = count_parameters(compare.BUILDERS[model](shell))
            assert all(r["parameters"] == counted for r in runs if r["model"] == model)
            assert summary["parameters"][i] == f"{counted:,}", f"{name}, {model}: parameters in the report"

        references = task["references"]
        for r in runs:
            row = per_seed[r["model"], r["seed"]]
            for decoder, exact_cell in (("greedy", row[2]), ("beam 5", row[3])):
                outputs = r["outputs"][decoder]
                assert len(outputs) == len(references) == config.n_test
                exact = sum(o in refs for o, refs in zip(outputs, references)) / len(outputs)
                assert r["test"][decoder]["exact"] == exact, f"{name}, {r['model']}, {decoder}: exact match"
                assert exact_cell == f"{100 * exact:.2f}%", "the per-seed table shows the run's exact match"
                if name == "translation":  # sacrebleu again, against the first and the last spelling
                    streams = [[refs[0] for refs in references], [refs[-1] for refs in references]]
                    assert r["test"][decoder]["bleu"] == pytest.approx(BLEU().corpus_score(outputs, streams).score)
                    assert r["test"][decoder]["chrf"] == pytest.approx(CHRF().corpus_score(outputs, streams).score)
            assert row[0] == f"{r['train_seconds']:.1f} s", "the per-seed table shows the run's training time"
            if name == "translation":
                g, b = r["test"]["greedy"], r["test"]["beam 5"]
                assert row[4] == f"{g['bleu']:.2f} / {b['bleu']:.2f}" and row[5] == f"{g['chrf']:.2f} / {b['chrf']:.2f}"

            # the validation curve, and the time to target: the first evaluation at or above the target
            shown = [f"{100 * v:.2f}" if name == "dates" else f"{v:.2f}" for v in r["eval_metric"]]
            assert curves[r["model"], r["seed"]] == shown, "the validation table shows the run's evaluations"
            assert r["eval_steps"][-1] == config.steps and len(r["eval_metric"]) == len(r["eval_train_seconds"])
            assert 0 < r["eval_train_seconds"][0] <= r["eval_train_seconds"][-1] == r["train_seconds"]
            first = next((i for i, v in enumerate(r["eval_metric"]) if v >= config.target), None)
            expected = None if first is None else r["eval_train_seconds"][first]
            assert r["seconds_to_target"] == expected
            assert row[1] == ("not reached" if first is None else f"{expected:.1f} s (step {r['eval_steps'][first]})")

        if name == "translation":
            signature = data["tasks"][name]["signatures"]["BLEU"]
            assert "nrefs:2" in signature and f"`{signature}`" in text, "the BLEU signature of the real scoring"
        else:
            assert f"of {task['src_vocab_size']} (source) and {task['tgt_vocab_size']} (target)" in text


def fake_run(task, model, seed, seconds, to_target, exact, **scores):
    return compare.RunResult(
        task=task,
        model=model,
        seed=seed,
        parameters=1000,
        train_seconds=seconds,
        eval_steps=[6, 12],
        eval_train_seconds=[seconds / 2, seconds],
        eval_metric=[0.5, 1.0],
        seconds_to_target=to_target,
        steps_to_target=None if to_target is None else 12,
        test={"greedy": {"exact": exact, **scores}, "beam 5": {"exact": exact, **scores}},
    )


def test_the_findings_follow_the_numbers():
    """The report's sentences say what its numbers say (which model is better, whether the seeds' ranges
    overlap, the ratios, a target never reached), whichever way the numbers go."""
    config = compare.QUICK["dates"]
    task = compare.TaskData(config, 20, 20, [], 0, None, [], [], None, "fake data")
    results = [
        fake_run("dates", compare.MODELS[0], 0, 10.0, 8.0, 0.90),
        fake_run("dates", compare.MODELS[0], 1, 12.0, 9.0, 0.92),
        fake_run("dates", compare.MODELS[1], 0, 20.0, 5.0, 0.99),
        fake_run("dates", compare.MODELS[1], 1, 24.0, None, 0.98),
    ]
    report = compare.render(results, {"dates": task}, [], seeds=[0, 1], quick=True, command="x", elapsed=1.0)
    assert "Training time (all steps), Transformer / BiLSTM: 2.00x (seed 0), 2.00x (seed 1)." in report
    assert "Training time to the target, Transformer / BiLSTM: 0.62x (seed 0)." in report
    assert "5.0 s (1 of 2 seeds never reached it)" in report
    assert (
        "Test exact match, beam 5: Transformer better (91.00% BiLSTM, 98.50% Transformer; the ranges over seeds "
        "do not overlap)." in report
    )
    assert "| Transformer | 1 | 24.0 s | not reached | 98.00% | 98.00% |" in report
    assert "| training time, 12 steps | 11.0 s (10.0-12.0) | 22.0 s (20.0-24.0) |" in report
    assert "rows for" not in report, "same vocabulary sizes: no unused rows to report"

    results[2] = fake_run("dates", compare.MODELS[1], 0, 20.0, 5.0, 0.91)
    results[3] = fake_run("dates", compare.MODELS[1], 1, 24.0, 4.0, 0.80)
    report = compare.render(results, {"dates": task}, [], seeds=[0, 1], quick=True, command="x", elapsed=1.0)
    assert (
        "Test exact match, beam 5: BiLSTM + attention better (91.00% BiLSTM, 85.50% Transformer; the ranges "
        "over seeds overlap)." in report
    )
    assert (
        "Training time to the target: Transformer better (8.5 s BiLSTM, 4.5 s Transformer; the ranges over "
        "seeds do not overlap)." in report
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seeds", "a,b"], "--seeds takes comma-separated integers"),
        (["--seeds", ""], "--seeds needs distinct integers >= 0"),
        (["--seeds", "1,1"], "--seeds needs distinct integers >= 0"),
        (["--seeds", "-1"], "--seeds needs distinct integers >= 0"),
        (["--tasks", "dates,poems"], "--tasks takes dates, translation"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--steps", "5"], "unrecognized arguments: --steps"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare.main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
