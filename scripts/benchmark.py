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
folder (as nbval runs it); the notebook is not saved. A background thread polls the kernel process (and its
children) with psutil every 0.2 s for the peak resident memory. After the last cell, one extra cell in the same
kernel prints the lesson's headline figures (the expressions in ``HEADLINES``); a missing notebook or an
expression that fails is reported as "n/a", never a crash.

The micro-benchmarks alternate the slow and the fast path round by round and compare the medians, so a short
burst of background work hits both sides alike (sustained load still hurts the small, many-call slow paths
most; the per-round range in the report shows it). Models in the decoding benchmarks are untrained:
the figures are about speed, not accuracy.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import signal
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
FULL_COMMAND = "make benchmark"  # = .venv/bin/python scripts/benchmark.py

# ------------------------------------------------------------------------------------------- headlines
# Per lesson (matched by its two-digit number, so a renamed notebook keeps its entry): the figures the lesson
# asserts, as (label, Python expression evaluated in the lesson's kernel after its last cell, format).
# Formats: "pct" (0.993 -> 99.3%), "pts" (0.05 -> 5.0 pts), "x" (ratio), "s" (seconds), "num".
# To cover a new lesson, add an entry; a name the notebook does not define shows as "n/a".
HEADLINES: dict[str, list[tuple[str, str, str]]] = {
    "01_toy_reversal": [
        ("held-out exact match", "test_exact", "pct"),
    ],
    "02_batched_gru": [
        ("held-out exact match", 'results["exact_match"]', "pct"),
        ("batched/per-example speed-up", "speedup", "x"),
        ("training time to 99%", "history.elapsed_s", "s"),
    ],
    "03_teacher_forcing": [
        ("teacher forcing mean exact", 'summary["teacher forcing (1.0)"][0]', "pct"),
        ("late-position exposure gap", "late", "pts"),
    ],
    "04_attention": [
        ("attention min bucket", "min(attention_buckets.values())", "pct"),
        ("GRU 21-30", '(gru_buckets["21-25"] + gru_buckets["26-30"]) / 2', "pct"),
        ("attention training time", "attention_history.elapsed_s", "s"),
    ],
    "05_beam_search": [
        ("greedy finds the most likely output", 'ambiguous_results["greedy"][0]', "pct"),
        ("beam 2 finds it", 'ambiguous_results["beam 2"][0]', "pct"),
        ("batched/per-sequence beam-5 speed-up", 'speed["BiLSTM + attention"][1] / speed["BiLSTM + attention"][0]', "x"),
    ],
    "06_capstone": [
        ("test exact match (beam 5)", "test_exact", "pct"),
        ("test character error rate", "test_cer", "num"),
        ("attention on the month name", "month_focus", "pct"),
        ("training time", "history.elapsed_s", "s"),
    ],
    "07_translation": [
        ("test BLEU (best beam on validation)", "test_bleu", "num"),
        ("test chrF (best beam on validation)", "test_chrf", "num"),
        ("test chrF (greedy)", "greedy_chrf", "num"),
        ("noisy corpus: validation BLEU greedy", "noisy_greedy_bleu", "num"),
        ("noisy corpus: validation BLEU beam 50", "noisy_beam_bleu", "num"),
        ("training time", "history.elapsed_s", "s"),
    ],
}

MARKER = "__BENCHMARK_HEADLINES__"
THREADS_KEY = "__torch_threads__"  # stored with the headlines: torch's thread count in the lesson's kernel
POLL_S = 0.2


def lesson_number(name: str) -> str:
    """'01_toy_reversal' or '01_toy_reversal.ipynb' -> '01'."""
    match = re.match(r"(\d+)", Path(name).name)
    return f"{int(match.group(1)):02d}" if match else name


def headlines_for(stem: str, headlines: dict = HEADLINES) -> list[tuple[str, str, str]]:
    if stem in headlines:
        return headlines[stem]
    for key, specs in headlines.items():
        if lesson_number(key) == lesson_number(stem):
            return specs
    return []


def format_value(value, fmt: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if fmt == "pct":
        return f"{value:.1%}"
    if fmt == "pts":
        return f"{100 * value:.1f} pts"
    if fmt == "x":
        return f"{value:.1f}x"
    if fmt == "s":
        return f"{value:.1f} s"
    return f"{value:.4g}"


def headline_code(specs: list[tuple[str, str, str]]) -> str:
    """Source of the extra cell: evaluates each expression in the kernel's namespace, prints one JSON line."""
    pairs = [(label, expr) for label, expr, _ in specs]
    return (
        "def __benchmark_headlines(pairs):\n"
        "    import json\n"
        "    namespace, out = globals(), {}\n"
        "    for label, expr in pairs:\n"
        "        try:\n"
        "            value = eval(expr, namespace)\n"
        "            try:\n"
        "                out[label] = {'value': float(value)}\n"
        "            except (TypeError, ValueError):\n"
        "                out[label] = {'value': repr(value)[:80]}\n"
        "        except Exception as error:\n"
        "            out[label] = {'error': type(error).__name__ + ': ' + str(error)[:200]}\n"
        "    torch = __import__('sys').modules.get('torch')\n"
        "    out['__torch_threads__'] = {'value': torch.get_num_threads() if torch else None}\n"
        f"    print({MARKER!r} + json.dumps(out))\n"
        f"__benchmark_headlines({pairs!r})\n"
        "del __benchmark_headlines\n"
    )


# --------------------------------------------------------------------------------------- lesson runs


class PeakRSS:
    """Polls a process and its children every ``interval`` seconds in a thread; ``peak`` is the largest
    sum of their resident set sizes seen, in bytes."""

    def __init__(self, pid: int, interval: float = POLL_S):
        import psutil

        self._psutil = psutil
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        psutil = self._psutil
        try:
            procs = [self.process] + self.process.children(recursive=True)
        except psutil.Error:
            return
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:  # a child that just exited
                pass
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def kernel_pid(km) -> int | None:
    """The kernel's process id, from jupyter_client's provisioner (or the older ``km.kernel``)."""
    provisioner = getattr(km, "provisioner", None)
    for obj, attr in ((provisioner, "pid"), (getattr(provisioner, "process", None), "pid"),
                      (getattr(km, "kernel", None), "pid")):
        pid = getattr(obj, attr, None) if obj is not None else None
        if isinstance(pid, int):
            return pid
    return None


@dataclass
class LessonResult:
    name: str                      # notebook stem, e.g. "01_toy_reversal"
    status: str                    # "ok", "missing", "error in code cell N: ...", "timed out ...", ...
    seconds: float | None = None   # kernel start to last cell
    peak_mib: float | None = None  # peak RSS of the kernel and its children
    slowest_cell: tuple[int, float] | None = None  # (code cell number, seconds)
    headlines: dict = field(default_factory=dict)  # label -> {"value": ..., "fmt": ...} or {"error": ...}

    @property
    def ran(self) -> bool:
        return self.seconds is not None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def kernel_threads(self) -> int | None:
        return self.headlines.get(THREADS_KEY, {}).get("value")

    def figures(self) -> dict:
        """The lesson's headline entries (without the bookkeeping ones)."""
        return {k: v for k, v in self.headlines.items() if k != THREADS_KEY}

    def value(self, label: str):
        entry = self.headlines.get(label, {})
        value = entry.get("value")
        return value if isinstance(value, (int, float)) else None


def run_lesson(path: Path, specs: list[tuple[str, str, str]], timeout: int = 900) -> LessonResult:
    """Execute one notebook headless (not saved) and collect time, peak kernel memory and headlines."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent.resolve())}}, record_timing=False)
    result = LessonResult(path.stem, "ok")
    cell_times: list[tuple[int, float]] = []
    start = time.perf_counter()
    client.reset_execution_trackers()
    with client.setup_kernel():
        pid = kernel_pid(client.km)
        sampler = PeakRSS(pid) if pid is not None else None
        if sampler:
            sampler.__enter__()
        try:
            code_number = 0
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                code_number += 1
                cell_start = time.perf_counter()
                try:
                    client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                except CellExecutionError as error:
                    ename = getattr(error, "ename", "") or type(error).__name__
                    evalue = (getattr(error, "evalue", "") or "").strip().splitlines()
                    detail = f"{ename}: {evalue[0][:120]}" if evalue else ename
                    result.status = f"error in code cell {code_number}: {detail}"
                    break
                except CellTimeoutError:
                    result.status = f"timed out in code cell {code_number} (--timeout {timeout} s)"
                    break
                except DeadKernelError:
                    result.status = f"kernel died in code cell {code_number} (out of memory?)"
                    break
                finally:
                    cell_times.append((code_number, time.perf_counter() - cell_start))
            result.seconds = time.perf_counter() - start
            result.slowest_cell = max(cell_times, key=lambda c: c[1]) if cell_times else None
            usable = not result.status.startswith(("kernel died", "timed out"))  # else the extra cell would hang
            result.headlines = _extract_headlines(client, nb, specs, alive=usable)
        finally:
            if sampler:
                sampler.__exit__(None, None, None)
                result.peak_mib = sampler.peak / 2**20
    return result


def _extract_headlines(client, nb, specs, alive: bool) -> dict:
    import nbformat

    out = {label: {"error": "not evaluated", "fmt": fmt} for label, _, fmt in specs}
    if not alive:
        return out
    cell = nbformat.v4.new_code_cell(headline_code(specs))
    nb.cells.append(cell)
    try:
        client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
    except Exception as error:  # noqa: BLE001 - a broken kernel must not stop the benchmark
        for entry in out.values():
            entry["error"] = f"headline cell failed: {type(error).__name__}"
        return out
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    for line in text.splitlines():
        if line.startswith(MARKER):
            found = json.loads(line[len(MARKER):])
            for label, _, fmt in specs:
                out[label] = dict(found.get(label, {"error": "not reported"}), fmt=fmt)
            threads = found.get("__torch_threads__", {}).get("value")
            if threads is not None:
                out[THREADS_KEY] = {"value": int(threads), "fmt": "num"}
    return out


def find_lessons(notebooks_dir: Path, selected: list[str] | None, headlines: dict = HEADLINES):
    """(stem, path or None) for every lesson notebook and every HEADLINES lesson, in lesson order."""
    present = {p.stem: p for p in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))}
    numbers = {lesson_number(s) for s in present}
    lessons = dict(present)
    for key in headlines:
        if lesson_number(key) not in numbers:
            lessons[key] = None
    if selected is not None:
        wanted = {lesson_number(s) for s in selected}
        lessons = {k: v for k, v in lessons.items() if lesson_number(k) in wanted}
    return sorted(lessons.items(), key=lambda kv: (lesson_number(kv[0]), kv[0]))


def run_lessons(lessons, timeout: int, log=print) -> list[LessonResult]:
    results = []
    for stem, path in lessons:
        specs = headlines_for(stem)
        if path is None:
            results.append(LessonResult(stem, "missing",
                                        headlines={l: {"error": "no notebook", "fmt": f} for l, _, f in specs}))
            log(f"{stem}: missing")
            continue
        log(f"running {path.name} ...")
        try:
            result = run_lesson(path, specs, timeout=timeout)
        except Exception as error:  # noqa: BLE001 - e.g. no python3 kernel: report it, go on with the next lesson
            result = LessonResult(stem, f"could not run: {type(error).__name__}: {str(error)[:120]}",
                                  headlines={l: {"error": "did not run", "fmt": f} for l, _, f in specs})
            log(f"  {result.status}")
            results.append(result)
            continue
        log(f"  {result.status}, {result.seconds:.1f} s, peak kernel memory "
            f"{result.peak_mib or float('nan'):.0f} MiB")
        results.append(result)
    return results


# ------------------------------------------------------------------------------------ micro-benchmarks

# round_s: seconds each side works per round (see paired)
FULL_SIZES = dict(rounds=5, round_s=2.0, batch_size=128, greedy_batch=500, beam_batch=100, beam_size=5)
QUICK_SIZES = dict(rounds=3, round_s=0.05, batch_size=128, greedy_batch=500, beam_batch=16, beam_size=5)
MAX_REPS = 5000


@dataclass
class Paired:
    name: str
    unit: str
    slow_label: str
    fast_label: str
    slow: list[float]  # per round, items per second
    fast: list[float]

    @property
    def slow_median(self) -> float:
        return statistics.median(self.slow)

    @property
    def fast_median(self) -> float:
        return statistics.median(self.fast)

    @property
    def ratio(self) -> float:
        return self.fast_median / self.slow_median

    @property
    def round_ratios(self) -> list[float]:
        return [f / s for f, s in zip(self.fast, self.slow)]


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _timed(fn, device) -> tuple[float, float]:
    """(items fn reported, seconds it took)."""
    _sync(device)
    start = time.perf_counter()
    items = fn()
    _sync(device)
    return items, time.perf_counter() - start


def paired(slow_fn: Callable[[int], float], fast_fn: Callable[[int], float], rounds: int, round_s: float,
           device) -> tuple[list[float], list[float]]:
    """Alternate two workloads round by round; items per second of each, per round.

    ``fn(reps)`` does ``reps`` units of work and returns how many items (tokens, sequences) it processed.
    After a warm-up, each side works in chunks of about a tenth of ``round_s`` until its round has lasted
    ``round_s`` seconds, so a round stays short even when the machine gets busy.
    """
    chunks = []
    for fn in (slow_fn, fast_fn):
        fn(1)  # warm-up: allocator, lazy initialisation, caches
        _, seconds = _timed(lambda: fn(2), device)
        chunks.append(max(1, min(MAX_REPS, round(round_s / 10 / (seconds / 2)))))
    slow, fast = [], []
    for _ in range(rounds):
        for fn, chunk, out in ((slow_fn, chunks[0], slow), (fast_fn, chunks[1], fast)):
            items = seconds = 0.0
            while seconds < round_s:
                n, dt = _timed(lambda: fn(chunk), device)
                items, seconds = items + n, seconds + dt
            out.append(items / seconds)
    return slow, fast


def micro_benchmarks(sizes: dict, device, log=print) -> list[Paired]:
    import torch

    from seq2seq_helpers import SequenceTask, Vocab, collate_pairs, fit, seed_everything, seq2seq_step
    from seq2seq_helpers.decoding import beam_search, greedy_decode
    from seq2seq_helpers.models import (AttentionDecoder, AttentionSeq2Seq, DecoderGRU, EncoderGRU, LSTMEncoder,
                                        Seq2Seq)
    from seq2seq_helpers.training import stepwise_loss

    rounds, round_s, bs = sizes["rounds"], sizes["round_s"], sizes["batch_size"]
    vocab = Vocab.letters(10)
    results = []

    # (a) training: lesson 01's loop (batch of one, decoder called per token) vs 128 per step, one decoder call
    seed_everything(0)
    pairs = SequenceTask(vocab, "reverse", 3, 10).sample(32 * bs, seed=1)
    single = [collate_pairs([p]).to(device) for p in pairs[:1000]]
    batched = [collate_pairs(pairs[i:i + bs]).to(device) for i in range(0, len(pairs), bs)]

    def gru():
        return Seq2Seq(EncoderGRU(len(vocab), 32, 128), DecoderGRU(len(vocab), 32, 128)).to(device)

    def trainer(batches, step_fn):
        model = gru()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        offset = [0]

        def train(reps):  # `reps` optimizer steps, continuing through the batches
            chunk = [batches[(offset[0] + i) % len(batches)] for i in range(reps)]
            offset[0] += reps
            return fit(model, optimizer, chunk, reps, step_fn, lr_schedule=None, progress=False).tokens

        return train

    log("micro-benchmark: training throughput ...")
    slow, fast = paired(trainer(single, lambda model, batch, step: stepwise_loss(model, batch)),
                        trainer(batched, seq2seq_step(teacher_forcing=1.0)), rounds, round_s, device)
    results.append(Paired("training, reversal lengths 3-10, GRU 128", "target tokens/s",
                          "per example (lesson 01 loop)", f"batched {bs}, one decoder call", slow, fast))

    # (b) greedy decoding: one sequence at a time vs a batch of greedy_batch
    seed_everything(0)
    model = gru().eval()
    big = collate_pairs(pairs[:sizes["greedy_batch"]]).to(device)
    max_len = 10 + 5  # longest target + 5, as training.evaluate does

    def greedy_single(reps):
        for i in range(reps):
            b = single[i % len(single)]
            greedy_decode(model, b.src, b.src_lengths, max_len=max_len)
        return reps

    def greedy_batched(reps):
        for _ in range(reps):
            greedy_decode(model, big.src, big.src_lengths, max_len=max_len)
        return reps * big.src.shape[0]

    log("micro-benchmark: greedy decoding ...")
    slow, fast = paired(greedy_single, greedy_batched, rounds, round_s, device)
    results.append(Paired("greedy decoding, GRU 128, untrained", "sequences/s",
                          "one sequence at a time", f"batch {sizes['greedy_batch']}", slow, fast))

    # (c) beam search, beam 5, attention model, lengths 1-30: per-sequence loop vs one batched call
    seed_everything(0)
    long_pairs = SequenceTask(vocab, "reverse", 1, 30).sample(sizes["beam_batch"], seed=2)
    attn = AttentionSeq2Seq(LSTMEncoder(len(vocab), 32, 64),
                            AttentionDecoder(len(vocab), 32, 128, 128, "additive", attn_dim=32)).to(device).eval()
    k, max_len = sizes["beam_size"], 30 + 5
    long_single = [collate_pairs([p]).to(device) for p in long_pairs]
    long_big = collate_pairs(long_pairs).to(device)

    def beam_single(reps):
        for i in range(reps):
            b = long_single[i % len(long_single)]
            beam_search(attn, b.src, b.src_lengths, beam_size=k, max_len=max_len)
        return reps

    def beam_batched(reps):
        for _ in range(reps):
            beam_search(attn, long_big.src, long_big.src_lengths, beam_size=k, max_len=max_len)
        return reps * long_big.src.shape[0]

    log("micro-benchmark: beam search ...")
    slow, fast = paired(beam_single, beam_batched, rounds, round_s, device)
    results.append(Paired(f"beam search k={k}, LSTM + additive attention (attn_dim 32, as lessons 04-05), "
                          "lengths 1-30, untrained", "sequences/s",
                          "per-sequence loop", f"batch {sizes['beam_batch']}", slow, fast))
    return results


# ---------------------------------------------------------------------------------------------- report


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
    rows += [("OS", platform.platform()), ("Python", platform.python_version()),
             ("torch", torch.__version__), ("torch threads (micro-benchmarks)", str(torch.get_num_threads())),
             ("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "(unset)")),
             ("device", str(device))]
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
        return (f"**Busy machine:** the load average was {load:.1f} on {cpus} usable CPU(s) when this run started: "
                "other work competed for the CPUs, so wall times and ratios are not representative.")
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
    for limit, label in ((12, "whole course <= 12 min"), (8, "whole course, aim <= 8 min")):
        measured = f"{total:.1f} min" if total is not None else "n/a"
        rows.append((label, measured, why or _status(total, "<=", limit)))

    slowest = max(ran, key=lambda r: r.seconds) if ran else None
    rows.append(("every lesson <= 3 min (issues 4 and 6)",
                 f"{slowest.seconds:.0f} s ({slowest.name})" if slowest else "n/a",
                 _status(slowest.seconds if slowest else None, "<=", 180)))

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

    lesson_time("02", "training time to 99%", "held-out exact match", 60, "batched GRU to 99% exact, lengths 3-10, <= 60 s")
    lesson_time("04", "attention training time", "attention min bucket", 90, "attention to 99% on lengths 1-30 <= 90 s")
    lesson_time("06", "training time", "test exact match (beam 5)", 180,
                "capstone: attention + beam to >= 97% exact on unseen dates, training <= 180 s", min_accuracy=0.97)

    by_name = {p.name.split(",")[0]: p for p in micro}
    for key, limit, text in (("training", 30, "batched vs per-example training >= 30x"),
                             ("beam search k=5", 8, "batched beam-5 vs per-sequence loop >= 8x")):
        paired = by_name.get(key)
        value = paired.ratio if paired else None
        status = "n/a (--quick sizes)" if quick and value is not None else _status(value, ">=", limit)
        rows.append((text, f"{value:.1f}x" if value is not None else "n/a", status))

    peaks = [r.peak_mib for r in ran if r.peak_mib is not None]
    peak = max(peaks) if peaks else None
    rows.append(("peak kernel memory < 1 GiB", f"{peak:.0f} MiB" if peak is not None else "n/a",
                 _status(peak, "<", 1024)))
    return rows


def render(machine, lessons: list[LessonResult], micro: list[Paired], *, quick: bool, course_complete: bool,
           command: str, elapsed: float, date: str | None = None, incomplete: str | None = None) -> str:
    date = date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Course benchmark", ""]
    out.append(f"Generated by `scripts/benchmark.py` on {date} with `{command}` "
               f"(benchmark wall time {elapsed / 60:.1f} min). Full run: `{FULL_COMMAND}`.")
    if incomplete:
        out += ["", f"**Incomplete ({incomplete}):** only what was measured so far is below."]
    if quick:
        out += ["", "**Quick mode:** lessons skipped, micro-benchmarks at tiny sizes. It checks that the benchmark "
                    "works; its figures are not measurements."]
    elif not course_complete:
        out += ["", "**Partial run:** not every lesson ran; the whole-course total covers only the lessons below."]

    out += ["", "## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in machine]
    busy = busy_warning(machine)
    if busy:
        out += ["", busy]

    out += ["", "## Lessons", "",
            "Each lesson executed headless (nbclient, fresh `python3` kernel, cwd `notebooks/`); time from kernel "
            "start to the last cell; memory is the peak resident set of the kernel and its children, polled every "
            f"{POLL_S} s.", "",
            "| lesson | status | time (s) | peak kernel memory (MiB) | kernel torch threads | slowest code cell "
            "| headline figures |",
            "|---|---|---:|---:|---:|---|---|"]
    problems = []
    for r in lessons:
        heads = []
        for label, entry in r.figures().items():
            value = entry.get("value")
            heads.append(f"{label} {format_value(value, entry.get('fmt', 'num'))}" if value is not None
                         else f"{label} n/a")
            if value is None and r.ran:
                problems.append(f"{r.name}, {label}: {entry.get('error', 'no value')}")
        seconds = f"{r.seconds:.1f}" if r.ran else "n/a"
        peak = f"{r.peak_mib:.0f}" if r.peak_mib is not None else "n/a"
        slowest = f"#{r.slowest_cell[0]} ({r.slowest_cell[1]:.1f} s)" if r.slowest_cell else "n/a"
        threads = r.kernel_threads if r.kernel_threads is not None else "n/a"
        out.append(f"| {r.name} | {_cell(r.status)} | {seconds} | {peak} | {threads} | {slowest} | "
                   f"{_cell('; '.join(heads) or 'none defined')} |")
    if not lessons:
        out.append("| (none) | skipped | n/a | n/a | n/a | n/a | n/a |")
    ran = [r for r in lessons if r.ran]
    total = sum(r.seconds for r in ran)
    out += ["", f"**Whole course: {total:.1f} s ({total / 60:.1f} min)** over {len(ran)} lesson(s) run"
                + ("" if course_complete else " (not every lesson ran)") + "."]
    if problems:
        out += ["", "Headline figures not available:", ""] + [f"- {p.replace(chr(10), ' ')}" for p in problems]

    out += ["", "## Speed claims (paired micro-benchmarks)", "",
            "Slow and fast paths alternate round by round; each column is the median over rounds, the ratio is "
            "fast median / slow median, and the range is the smallest and largest per-round ratio.", "",
            "| benchmark | unit | slow path | slow | fast path | fast | ratio | per-round range |",
            "|---|---|---|---:|---|---:|---:|---|"]
    for p in micro:
        rr = p.round_ratios
        out.append(f"| {p.name} | {p.unit} | {p.slow_label} | {_fmt_rate(p.slow_median)} | {p.fast_label} | "
                   f"{_fmt_rate(p.fast_median)} | {p.ratio:.1f}x | {min(rr):.1f}x-{max(rr):.1f}x ({len(rr)} rounds) |")
    if not micro:
        out.append("| (skipped) | | | | | | | |")

    out += ["", "## Targets (issue 7, set for 2 CPU cores; the machine table gives this run's torch threads)", "", "| target | measured | result |", "|---|---|---|"]
    for target, measured, status in targets(lessons, micro, course_complete, quick):
        if busy and status in ("met", "missed") and "memory" not in target:
            status += " (busy machine: not representative)"
        out.append(f"| {target} | {measured} | {status} |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------------ main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lessons", help="comma-separated lesson numbers, e.g. 01,02 (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="skip the lessons; micro-benchmarks at tiny sizes (seconds); a smoke test, not a measure")
    parser.add_argument("--skip-micro", action="store_true", help="skip the micro-benchmarks")
    parser.add_argument("--device", help="cpu, cuda, mps or cuda:N: sets SEQ2SEQ_DEVICE for the lessons and the "
                                         "micro-benchmarks")
    parser.add_argument("--threads", type=int, help="torch threads for the micro-benchmarks and the lessons' kernels "
                                                    "(sets OMP_NUM_THREADS; default: torch's, capped by get_device)")
    parser.add_argument("--out", type=Path, help=f"Markdown report (default {DEFAULT_OUT.relative_to(ROOT)}; "
                                                 "with --quick only when given)")
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
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731 - progress on stderr, report on stdout
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
        end_load = [("load average at end (1, 5, 15 min)", ", ".join(f"{x:.2f}" for x in os.getloadavg()))] \
            if hasattr(os, "getloadavg") else []
        return render(machine + end_load, results, micro, quick=args.quick, course_complete=course_complete, command=command,
                      elapsed=time.perf_counter() - start, incomplete=incomplete)

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
