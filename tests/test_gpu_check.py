"""scripts/gpu_check.py (make gpu-check): what can be checked without a GPU. It refuses at once, in one line, where
get_device() does not pick CUDA, and with CUDA it runs nbval on every lesson and then the benchmark, logging both."""

import os
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import gpu_check

ROOT = Path(__file__).resolve().parents[1]


def run_check(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k != "SEQ2SEQ_DEVICE"}
    environment.update(CUDA_VISIBLE_DEVICES="", **env)  # no GPU visible, even on a machine that has one
    log = tmp_path / "gpu.log"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--log", str(log)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=tmp_path,
    )
    return proc, log


def test_refuses_in_one_line_where_the_device_is_not_cuda(tmp_path):
    proc, log = run_check(tmp_path)
    assert proc.returncode == gpu_check.REFUSED, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[0] in ("device: cpu", "device: mps"), proc.stdout
    reason = proc.stderr.strip()
    assert len(reason.splitlines()) == 1 and "not CUDA" in reason, reason
    assert not log.exists(), "nothing may run before the device check passes"


def test_refuses_when_cuda_is_asked_for_but_missing(tmp_path):
    proc, log = run_check(tmp_path, SEQ2SEQ_DEVICE="cuda")
    assert proc.returncode == gpu_check.REFUSED, proc.stdout + proc.stderr
    reason = proc.stderr.strip()
    assert len(reason.splitlines()) == 1 and "CUDA is not available" in reason, reason
    assert not log.exists()


def test_reason_names_the_forcing_variable(monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_DEVICE", "cpu")
    assert "SEQ2SEQ_DEVICE=cpu" in gpu_check.not_cuda_reason(torch.device("cpu"))


def test_with_cuda_it_runs_nbval_on_cuda_then_the_gpu_benchmark_and_logs_both(tmp_path, capsys):
    calls = []

    def fake_run(command, env, log):
        calls.append((command, env.get("SEQ2SEQ_DEVICE")))
        log.write(f"output of step {len(calls)}\n")
        return 1 if len(calls) == 1 else 0  # a lesson fails: the benchmark must still run

    log = tmp_path / "logs" / "gpu.log"
    status = gpu_check.main(["--log", str(log)], pick=lambda: torch.device("cuda"), run=fake_run)

    assert status == 1, "a failing step fails the check"
    (nbval, nbval_device), (bench, _) = calls
    assert nbval[1:] == ["-m", "pytest", "-n", "0", "--nbval-lax", "--nbval-current-env", "notebooks/"]
    assert nbval_device == "cuda", "the lessons must run with SEQ2SEQ_DEVICE=cuda"
    assert bench[1:] == ["scripts/benchmark.py", "--device", "cuda", "--out", "docs/benchmarks-gpu.md"]
    text = log.read_text()
    assert text.startswith("device: cuda") and "output of step 1" in text and "output of step 2" in text
    assert "FAILED (exit status 1)" in text and text.rstrip().endswith("passed")
    assert "failed: every lesson under nbval on CUDA" in capsys.readouterr().out


def test_run_logged_streams_a_command_to_the_log_and_returns_its_status(tmp_path):
    log_path = tmp_path / "log.txt"
    with open(log_path, "w") as log:
        code = "import sys; print('to stdout'); print('to stderr', file=sys.stderr); sys.exit(3)"
        status = gpu_check.run_logged([sys.executable, "-c", code], dict(os.environ), log)
    assert status == 3
    assert "to stdout" in log_path.read_text() and "to stderr" in log_path.read_text()
