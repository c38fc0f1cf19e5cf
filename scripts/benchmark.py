"""Course benchmark: time, peak kernel memory and headline figures of every lesson, and the course's speed
claims measured side by side. Writes a Markdown report and prints it.

    python scripts/benchmark.py                     (or: make benchmark)   every lesson + micro-benchmarks
    python scripts/benchmark.py --lessons 01,02     only these lessons (+ micro-benchmarks)
    python scripts/benchmark.py --quick --out r.md  no lessons, micro-benchmarks at tiny sizes (CI: it works)
    python scripts/benchmark.py --threads 1         torch threads for the kernels and the micro-benchmarks

Run it on a quiet machine: the figures are wall-clock times, and on a busy machine (the report warns when
the load average at the start exceeds half the CPUs) PyTorch's threads wait for each other and small models
slow down many-fold. The report is rewritten after each lesson, so an interrupted run keeps what it measured.

Each lesson runs headless with nbclient in a fresh ``python3`` kernel from this environment, in the notebook's
folder (as nbval runs it, and as run_notebooks.py does); the notebook is not saved. A background thread polls
the kernel process (and its children) with psutil every 0.2 s for the peak resident memory. After the last
cell, one extra cell in the same kernel prints the lesson's headline figures (the expressions in ``HEADLINES``);
a missing notebook or an expression that fails is reported as "n/a", never a crash.

The micro-benchmarks alternate the slow and the fast path round by round and compare the medians, so a short
burst of background work hits both sides alike (sustained load still hurts the small, many-call slow paths
most; the per-round range in the report shows it). Models in the decoding benchmarks are untrained:
the figures are about speed, not accuracy.
"""

# This file is the command line only. The parts live in scripts/bench/: headlines (HEADLINES, the figures each
# lesson asserts), lessons (running a lesson, polling its memory), micro (the paired micro-benchmarks) and
# report (machine, targets, Markdown).

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from bench.lessons import LessonResult, find_lessons, run_lessons
from bench.micro import FULL_SIZES, QUICK_SIZES, Paired, micro_benchmarks
from bench.report import machine_info, render

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", help="comma-separated lesson numbers, e.g. 01,02 (default: all)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the lessons; micro-benchmarks at tiny sizes (seconds); a smoke test, not a measure",
    )
    parser.add_argument("--skip-micro", action="store_true", help="skip the micro-benchmarks")
    parser.add_argument(
        "--device", help="cpu, cuda, mps or cuda:N: sets SEQ2SEQ_DEVICE for the lessons and the micro-benchmarks"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads for the micro-benchmarks and the lessons' kernels "
        "(sets OMP_NUM_THREADS; default: torch's, capped by get_device)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"Markdown report (default {DEFAULT_OUT.relative_to(ROOT)}; with --quick only when given)",
    )
    parser.add_argument("--notebooks-dir", type=Path, default=DEFAULT_NOTEBOOKS, help="where the NN_*.ipynb are")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)

    if args.device:
        os.environ["SEQ2SEQ_DEVICE"] = args.device  # the kernels inherit it
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # before torch is imported here, and in the kernels
    sys.path.insert(0, str(ROOT))  # the package, when run from a checkout without `pip install -e .`
    from seq2seq_helpers import get_device

    device = get_device()  # honours SEQ2SEQ_DEVICE; on the CPU caps torch's threads at the CPUs we may use
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # progress on stderr, report on stdout
    start = time.perf_counter()
    machine = machine_info(device)

    selected = [s.strip() for s in args.lessons.split(",") if s.strip()] if args.lessons else None
    notebooks = [stem for stem, path in find_lessons(args.notebooks_dir, None) if path is not None]
    lessons = [] if args.quick else find_lessons(args.notebooks_dir, selected)
    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)
    command = " ".join(["python scripts/benchmark.py", *(sys.argv[1:] if argv is None else argv)])
    results: list[LessonResult] = []
    micro: list[Paired] = []

    def report(incomplete: str | None = None) -> str:
        ran = {r.name for r in results if r.ran}
        course_complete = bool(notebooks) and all(stem in ran for stem in notebooks)
        end_load = (
            [("load average at end (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in os.getloadavg()))]
            if hasattr(os, "getloadavg")
            else []
        )
        return render(
            machine + end_load,
            results,
            micro,
            quick=args.quick,
            course_complete=course_complete,
            command=command,
            elapsed=time.perf_counter() - start,
            incomplete=incomplete,
        )

    def save(text: str) -> None:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")

    def terminate(signum, frame):  # a SIGTERM shuts the kernel down and keeps what was measured, as Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        if not args.skip_micro:
            micro += micro_benchmarks(QUICK_SIZES if args.quick else FULL_SIZES, device, log)
        for stem, path in lessons:
            save(report(incomplete="still running"))  # a long run that gets cut off leaves what it measured
            results += run_lessons([(stem, path)], args.timeout, log)
    except KeyboardInterrupt:
        text = report(incomplete="interrupted")
        print(text)
        save(text)
        log(f"interrupted; partial report written to {out}" if out else "interrupted")
        return 130
    text = report()
    print(text)
    save(text)
    if out is not None:
        log(f"report written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
