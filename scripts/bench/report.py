"""The benchmark's report: the machine it ran on, the course's targets (met or missed) and the Markdown."""

from __future__ import annotations

import datetime as _dt
import os
import platform

from .headlines import format_value, lesson_number
from .lessons import POLL_S, LessonResult
from .micro import Paired

FULL_COMMAND = "make benchmark"  # = .venv/bin/python scripts/benchmark.py


def machine_info(device) -> list[tuple[str, str]]:
    import psutil
    import torch

    from seq2seq_helpers import utils

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    rows = [("CPU", cpu), ("logical cores", str(os.cpu_count()))]
    if hasattr(utils, "available_cpus"):
        rows.append(("available CPUs (affinity, cgroup quota)", str(utils.available_cpus())))
    rows.append(("RAM", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"))
    if hasattr(os, "getloadavg"):
        rows.append(("load average at start (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in os.getloadavg())))
    rows += [
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("torch", torch.__version__),
        ("torch threads (micro-benchmarks)", str(torch.get_num_threads())),
        ("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "(unset)")),
        ("device", str(device)),
    ]
    if device.type == "cuda":
        rows.append(("GPU", torch.cuda.get_device_name(device)))
    return rows


def busy_warning(machine) -> str | None:
    """A warning when other work competed for the CPUs: the 1-minute load average at the start (before this
    run added its own) exceeded half the usable CPUs."""
    rows = dict(machine)
    cpus = int(rows.get("available CPUs (affinity, cgroup quota)") or rows.get("logical cores") or 1)
    start = rows.get("load average at start (1, 5, 15 min)")
    load = float(start.split(",")[0]) if start else 0.0
    if load > max(0.5, cpus / 2):
        return (
            f"**Busy machine:** the load average was {load:.1f} on {cpus} usable CPU(s) when this run started: "
            "other work competed for the CPUs, so wall times and ratios are not representative."
        )
    return None


def _cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def _status(value, op: str, threshold: float) -> str:
    if value is None:
        return "n/a"
    ok = {"<=": value <= threshold, "<": value < threshold, ">=": value >= threshold}[op]
    return "met" if ok else "missed"


def _lesson(results: list[LessonResult], number: str) -> LessonResult | None:
    return next((r for r in results if lesson_number(r.name) == number and r.ran), None)


def targets(lessons: list[LessonResult], micro: list[Paired], course_complete: bool, quick: bool):
    """Rows (target, measured, result) for issue 7's targets. Extend here when a target is added."""
    rows = []
    ran = [r for r in lessons if r.ran]
    total = sum(r.seconds for r in ran) / 60 if ran else None
    why = "n/a (not every lesson ran)" if not course_complete else None
    threads = {r.kernel_threads for r in ran if r.kernel_threads}
    one_thread = threads == {1}
    limit, label = (
        (11, "whole course <= 11 min at 1 thread (issue 30)")
        if one_thread
        else (10, "whole course <= 10 min on 2 cores (issue 30)")
    )
    measured = f"{total:.1f} min" if total is not None else "n/a"
    rows.append((label, measured, why or _status(total, "<=", limit)))

    slowest = max(ran, key=lambda r: r.seconds) if ran else None
    rows.append(
        (
            "every lesson <= 3 min (issues 4, 6 and 30)",
            f"{slowest.seconds:.0f} s ({slowest.name})" if slowest else "n/a",
            _status(slowest.seconds if slowest else None, "<=", 180),
        )
    )

    def lesson_time(number, time_label, acc_label, limit, text, min_accuracy=0.99):
        lesson = _lesson(lessons, number)
        seconds = lesson.value(time_label) if lesson else None
        accuracy = lesson.value(acc_label) if lesson else None
        if seconds is None:
            rows.append((text, "n/a", "n/a"))
            return
        reached = accuracy is not None and accuracy >= min_accuracy
        measured = f"{seconds:.1f} s" + (f" (reached {accuracy:.1%})" if accuracy is not None else "")
        status = _status(seconds, "<=", limit)
        rows.append((text, measured, status if reached or status == "missed" else f"missed (below {min_accuracy:.0%})"))

    lesson_time(
        "02", "training time to 99%", "held-out exact match", 60, "batched GRU to 99% exact, lengths 3-10, <= 60 s"
    )
    lesson_time(
        "04",
        "attention training time",
        "attention min bucket",
        90,
        "BiLSTM + attention >= 99% in every bucket, lengths 3-30, training <= 90 s",
    )
    lesson_time(
        "06",
        "training time",
        "test exact match (beam 5)",
        180,
        "capstone: attention + beam to >= 85% exact on unseen dates, written and read out in words, training <= 180 s",
        min_accuracy=0.85,
    )

    transformer = _lesson(lessons, "08")
    for label, limit, text, fmt in (
        ("Transformer min bucket", 0.99, "Transformer >= 99% in every bucket up to 30", "pct"),
        ("KV cache speed-up at length 30", 3.0, "KV cache >= 3x faster than recomputing, length 30", "x"),
    ):
        value = transformer.value(label) if transformer else None
        rows.append((text, format_value(value, fmt) if value is not None else "n/a", _status(value, ">=", limit)))

    by_name = {p.name.split(",")[0]: p for p in micro}
    for key, limit, text in (
        ("training", 30, "batched vs per-example training >= 30x"),
        ("beam search k=5", 8, "batched beam-5 vs per-sequence loop >= 8x"),
    ):
        paired = by_name.get(key)
        value = paired.ratio if paired else None
        status = "n/a (--quick sizes)" if quick and value is not None else _status(value, ">=", limit)
        rows.append((text, f"{value:.1f}x" if value is not None else "n/a", status))

    peaks = [r.peak_mib for r in ran if r.peak_mib is not None]
    peak = max(peaks) if peaks else None
    rows.append(
        ("peak kernel memory < 1 GiB", f"{peak:.0f} MiB" if peak is not None else "n/a", _status(peak, "<", 1024))
    )
    return rows


def render(
    machine,
    lessons: list[LessonResult],
    micro: list[Paired],
    *,
    quick: bool,
    course_complete: bool,
    command: str,
    elapsed: float,
    date: str | None = None,
    incomplete: str | None = None,
) -> str:
    date = date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Course benchmark", ""]
    out.append(
        f"Generated by `scripts/benchmark.py` on {date} with `{command}` "
        f"(benchmark wall time {elapsed / 60:.1f} min). Full run: `{FULL_COMMAND}`."
    )
    if incomplete:
        out += ["", f"**Incomplete ({incomplete}):** only what was measured so far is below."]
    if quick:
        out += [
            "",
            "**Quick mode:** lessons skipped, micro-benchmarks at tiny sizes. It checks that the benchmark "
            "works; its figures are not measurements.",
        ]
    elif not course_complete:
        out += ["", "**Partial run:** not every lesson ran; the whole-course total covers only the lessons below."]

    out += ["", "## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in machine]
    busy = busy_warning(machine)
    if busy:
        out += ["", busy]

    out += [
        "",
        "## Lessons",
        "",
        "Each lesson executed headless (nbclient, fresh `python3` kernel, cwd `notebooks/`); time from kernel "
        "start to the last cell; memory is the peak resident set of the kernel and its children, polled every "
        f"{POLL_S} s, or the kernel's own high-water mark (Linux's VmHWM, exact) where it is larger.",
        "",
        "| lesson | status | time (s) | peak kernel memory (MiB) | kernel torch threads | slowest code cell "
        "| headline figures |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    problems = []
    for r in lessons:
        heads = []
        for label, entry in r.figures().items():
            value = entry.get("value")
            heads.append(
                f"{label} {format_value(value, entry.get('fmt', 'num'))}" if value is not None else f"{label} n/a"
            )
            if value is None and r.ran:
                problems.append(f"{r.name}, {label}: {entry.get('error', 'no value')}")
        seconds = f"{r.seconds:.1f}" if r.ran else "n/a"
        peak = f"{r.peak_mib:.0f}" if r.peak_mib is not None else "n/a"
        slowest = f"#{r.slowest_cell[0]} ({r.slowest_cell[1]:.1f} s)" if r.slowest_cell else "n/a"
        threads = r.kernel_threads if r.kernel_threads is not None else "n/a"
        out.append(
            f"| {r.name} | {_cell(r.status)} | {seconds} | {peak} | {threads} | {slowest} | "
            f"{_cell('; '.join(heads) or 'none defined')} |"
        )
    if not lessons:
        out.append("| (none) | skipped | n/a | n/a | n/a | n/a | n/a |")
    ran = [r for r in lessons if r.ran]
    total = sum(r.seconds for r in ran)
    out += [
        "",
        f"**Whole course: {total:.1f} s ({total / 60:.1f} min)** over {len(ran)} lesson(s) run"
        + ("" if course_complete else " (not every lesson ran)")
        + ".",
    ]
    if problems:
        out += ["", "Headline figures not available:", ""] + [f"- {p.replace(chr(10), ' ')}" for p in problems]

    out += [
        "",
        "## Speed claims (paired micro-benchmarks)",
        "",
        "Slow and fast paths alternate round by round; each column is the median over rounds, the ratio is "
        "fast median / slow median, and the range is the smallest and largest per-round ratio.",
        "",
        "| benchmark | unit | slow path | slow | fast path | fast | ratio | per-round range |",
        "|---|---|---|---:|---|---:|---:|---|",
    ]
    for p in micro:
        rr = p.round_ratios
        out.append(
            f"| {p.name} | {p.unit} | {p.slow_label} | {_fmt_rate(p.slow_median)} | {p.fast_label} | "
            f"{_fmt_rate(p.fast_median)} | {p.ratio:.1f}x | {min(rr):.1f}x-{max(rr):.1f}x ({len(rr)} rounds) |"
        )
    if not micro:
        out.append("| (skipped) | | | | | | | |")

    out += [
        "",
        "## Targets (issue 7, set for 2 CPU cores; the machine table gives this run's torch threads)",
        "",
        "| target | measured | result |",
        "|---|---|---|",
    ]
    for target, measured, status in targets(lessons, micro, course_complete, quick):
        if busy and status in ("met", "missed") and "memory" not in target:
            status += " (busy machine: not representative)"
        out.append(f"| {target} | {measured} | {status} |")
    return "\n".join(out) + "\n"
