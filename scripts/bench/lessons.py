"""Running a lesson for the benchmark: headless in a fresh kernel, its peak memory polled, its headlines read.

Each lesson runs with nbclient in a fresh ``python3`` kernel from this environment, in the notebook's folder (the
client comes from ``nbexec``, shared with ``run_notebooks.py``); the notebook is not saved. A background thread
polls the kernel process (and its children) with psutil every ``POLL_S`` seconds for the peak resident memory;
on Linux it also reads the kernel's own high-water mark (``VmHWM`` in ``/proc/<pid>/status``), which catches a
peak shorter than the polling interval (one training step on a long batch, say).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbexec import notebook_client

from .headlines import HEADLINES, THREADS_KEY, extract_headlines, headlines_for, lesson_number

POLL_S = 0.2


class PeakRSS:
    """Polls a process and its children every ``interval`` seconds in a thread; ``peak`` is the largest
    sum of their resident set sizes seen, in bytes, or the process's own high-water mark where the system
    keeps one (Linux), whichever is larger."""

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
        self.peak = max(self.peak, total, self._high_water_mark())

    def _high_water_mark(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024  # kB
        except (OSError, ValueError, IndexError):
            pass  # not Linux, or the process has exited
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
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
    for obj, attr in (
        (provisioner, "pid"),
        (getattr(provisioner, "process", None), "pid"),
        (getattr(km, "kernel", None), "pid"),
    ):
        pid = getattr(obj, attr, None) if obj is not None else None
        if isinstance(pid, int):
            return pid
    return None


@dataclass
class LessonResult:
    name: str  # notebook stem, e.g. "01_toy_reversal"
    status: str  # "ok", "missing", "error in code cell N: ...", "timed out ...", ...
    seconds: float | None = None  # kernel start to last cell
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
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path).absolute()
    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path, timeout)
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
            result.headlines = extract_headlines(client, nb, specs, alive=usable)
        finally:
            if sampler:
                sampler.__exit__(None, None, None)
                result.peak_mib = sampler.peak / 2**20
    return result


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
            results.append(
                LessonResult(
                    stem, "missing", headlines={label: {"error": "no notebook", "fmt": fmt} for label, _, fmt in specs}
                )
            )
            log(f"{stem}: missing")
            continue
        log(f"running {path.name} ...")
        try:
            result = run_lesson(path, specs, timeout=timeout)
        except Exception as error:  # e.g. no python3 kernel: report it, go on with the next lesson
            result = LessonResult(
                stem,
                f"could not run: {type(error).__name__}: {str(error)[:120]}",
                headlines={label: {"error": "did not run", "fmt": fmt} for label, _, fmt in specs},
            )
            log(f"  {result.status}")
            results.append(result)
            continue
        log(f"  {result.status}, {result.seconds:.1f} s, peak kernel memory {result.peak_mib or float('nan'):.0f} MiB")
        results.append(result)
    return results
