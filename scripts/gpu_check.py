"""GPU readiness in one command: every lesson under nbval on CUDA, then the benchmark's GPU table.

    python scripts/gpu_check.py            (or: make gpu-check)

1. Prints the device ``seq2seq_helpers.utils.get_device()`` picks here; anything but CUDA stops the check at
   once (exit status 2, one line saying why), before anything runs.
2. ``pytest -n 0 --nbval-lax --nbval-current-env notebooks/`` with ``SEQ2SEQ_DEVICE=cuda``: every lesson top to
   bottom on the GPU, its asserts included.
3. ``scripts/benchmark.py --device cuda --out docs/benchmarks-gpu.md``: the benchmark's table on the GPU.

Steps 2 and 3 both run (a failing lesson does not stop the benchmark); their output goes to the terminal and to
a log under ``artifacts/`` (gitignored). The exit status is 0 only when both pass. CI never runs this: it is
for the day a GPU machine is lent.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
GPU_REPORT = "docs/benchmarks-gpu.md"
REFUSED = 2  # exit status when this machine's device is not CUDA


def steps(python: str = sys.executable) -> list[tuple[str, list[str], dict[str, str]]]:
    """(title, command, extra environment) of steps 2 and 3, run from the repository root."""
    return [
        (
            "every lesson under nbval on CUDA",
            [python, "-m", "pytest", "-n", "0", "--nbval-lax", "--nbval-current-env", "notebooks/"],
            {"SEQ2SEQ_DEVICE": "cuda"},
        ),
        (
            f"benchmark on CUDA -> {GPU_REPORT}",
            [python, "scripts/benchmark.py", "--device", "cuda", "--out", GPU_REPORT],
            {},
        ),
    ]


def pick_device():
    """What the lessons would get here: ``get_device()``, which honours ``SEQ2SEQ_DEVICE``."""
    sys.path.insert(0, str(ROOT))  # the package, when run from a checkout without `pip install -e .`
    from seq2seq_helpers.utils import get_device

    return get_device()


def not_cuda_reason(device) -> str:
    """One line: why ``device`` is not good enough, and what to do about it."""
    import torch

    forced = os.environ.get("SEQ2SEQ_DEVICE")
    if forced:
        hint = f"SEQ2SEQ_DEVICE={forced} asks for it; unset it or set SEQ2SEQ_DEVICE=cuda"
    elif torch.version.cuda is None:
        hint = f"torch {torch.__version__} is a CPU-only build; install a CUDA build of torch"
    else:
        hint = "torch sees no CUDA GPU (torch.cuda.is_available() is False; check nvidia-smi, CUDA_VISIBLE_DEVICES)"
    return f"gpu-check refused: get_device() picked {device}, not CUDA: {hint}"


def run_logged(command: list[str], env: dict[str, str], log) -> int:
    """Run ``command`` from the repository root, its output to the terminal and to ``log``; its exit status."""
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
    return proc.returncode


def main(argv=None, pick: Callable = pick_device, run: Callable = run_logged) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", type=Path, help="log file (default artifacts/gpu-check-<UTC time>.log)")
    args = parser.parse_args(argv)

    try:
        device = pick()
    except ValueError as error:  # SEQ2SEQ_DEVICE=cuda on a machine without CUDA
        print(f"gpu-check refused: get_device() failed: {error}", file=sys.stderr)
        return REFUSED
    print(f"device: {device}", flush=True)
    if device.type != "cuda":
        print(not_cuda_reason(device), file=sys.stderr)
        return REFUSED
    import torch

    name = torch.cuda.get_device_name(device) if torch.cuda.is_available() else "?"
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    log_path = args.log or ROOT / "artifacts" / f"gpu-check-{stamp}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    failed = []
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(f"device: {device} ({name}), torch {torch.__version__}, {stamp} UTC\n")
        for title, command, extra_env in steps():
            header = f"== {title}: {' '.join(command)}" + "".join(f" [{k}={v}]" for k, v in extra_env.items())
            print(header, flush=True)
            log.write(header + "\n")
            log.flush()
            status = run(command, {**os.environ, **extra_env}, log)
            result = f"== {title}: {'passed' if status == 0 else f'FAILED (exit status {status})'}"
            print(result, flush=True)
            log.write(result + "\n")
            if status != 0:
                failed.append(title)
    print(f"log: {log_path}" + (f"; failed: {', '.join(failed)}" if failed else "; every step passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
