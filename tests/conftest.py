"""Shared pytest setup: off-screen plots, one thread for tiny tensors, and parallel runs that stay honest.

`make test` runs the suite on every usable CPU with pytest-xdist (`-n auto`):
- each notebook's nbval cells are one unit of work, so a lesson's cells run in order in one kernel on one worker;
- every other test is its own unit of work, so the slow ones (the autograding proofs, the fresh virtual
  environments, the browser) spread over the workers;
- `-n auto` means the CPUs this process may really use (its affinity mask capped by a cgroup quota, as
  `get_device` counts them), not the host's cores;
- nbval's run of a lesson also proves its autograded checks (autograding_proof.py): no lesson runs twice;
- each worker, and every kernel it starts (they inherit its environment), gets its share of those CPUs as
  torch threads, so two lessons running side by side on 2 cores do not fight over 4 threads.
"""

from __future__ import annotations

import os

import matplotlib
import pytest

# Plot tests draw off-screen. matplotlib.use (not the MPLBACKEND variable) so the choice stays in this process
# and does not leak into the Jupyter kernels nbval starts, which should keep their inline backend.
matplotlib.use("Agg")


def _available_cpus() -> int:
    from seq2seq_helpers.utils import available_cpus

    return available_cpus()


@pytest.hookimpl(optionalhook=True)  # pytest-xdist hooks: the tests also run without xdist
def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker per CPU this process may use (a CPU quota counts, as on Binder or in CI)."""
    return _available_cpus()


def pytest_configure(config):
    # The autograding proof runs inside nbval's run of each lesson (tests/autograding_proof.py)
    import autograding_proof

    if not config.pluginmanager.is_registered(autograding_proof):
        config.pluginmanager.register(autograding_proof, "autograding-proof")
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers and "OMP_NUM_THREADS" not in os.environ:  # in a worker: its share of the CPUs, for its kernels too
        os.environ["OMP_NUM_THREADS"] = str(max(1, _available_cpus() // int(workers)))


# Rough seconds each long unit of work takes on one of two workers (fresh-clone `make test`, stop 12), so the
# scheduler can start the longest first. Only the order matters: within a factor of two is good enough.
# tests/test_scheduling.py checks that every key still names a lesson or a test.
EXPECTED_SECONDS = {
    "notebooks/01_toy_reversal.ipynb": 150,
    "notebooks/02_batched_gru.ipynb": 70,
    "notebooks/03_teacher_forcing.ipynb": 100,
    "notebooks/04_attention.ipynb": 250,
    "notebooks/05_beam_search.ipynb": 45,
    "notebooks/06_capstone.ipynb": 130,
    "notebooks/07_translation.ipynb": 220,
    "notebooks/08_transformer.ipynb": 180,
    "tests/test_instructors.py::test_the_guide_runs_release_to_feedback": 180,
    "tests/test_floors.py::test_the_lowest_allowed_versions_run_the_helpers_tests_and_the_lessons": 130,
    "tests/test_launch.py::test_binder_requirements_install_and_run_the_smoke_notebook": 80,
    # Its real time. It was once listed at 150 s so that it ran early: run late, it stalled for its 300 s cell
    # timeout. The cause was nbclient's Output widget stand-in writing to the kernel's shell channel, which the
    # quiet stand-in was meant to stop but never did until scripts/nbexec.py's quiet_widgets (stop 25).
    "tests/test_launch.py::test_widgets_build_and_render_on_colabs_ipywidgets_7_7_1": 40,
    "tests/test_browser.py::test_a_notebook_runs_in_jupyterlab_in_headless_chromium": 45,
    "tests/test_browser.py::test_committed_lessons_open_in_a_fresh_clone_without_raw_widgets": 45,
}
LONG_S = 20  # a worker busy with a unit this long is handed short units in advance, not the next long one


def expected_seconds(scope: str) -> float:
    """EXPECTED_SECONDS for a long unit (a test's parameters ignored); 30 s for an unlisted lesson, else 0.5 s."""
    key = scope.split("[", 1)[0]
    if key in EXPECTED_SECONDS:
        return EXPECTED_SECONDS[key]
    return 30.0 if key.endswith(".ipynb") else 0.5


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Keep each notebook's nbval cells together, in order, on one worker; spread every other test singly.

    (xdist's own `--dist loadgroup` marks do not reach the scheduler under pytest 9.2, and `loadfile` would put
    all of a file's slow tests, such as the autograding proof of every lesson, on one worker.) Work goes out
    longest first (EXPECTED_SECONDS), so the last minutes are filled with short tests, not one worker finishing
    a long one while the other idles. A worker must always hold one unit beyond the one it runs (it runs a test
    only once it knows the next), so a worker busy with a long unit is handed the first short unit in the queue,
    not the next long one, which would wait behind it while the other worker could have started it.
    """
    from collections import OrderedDict

    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        _ordered = False

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

        def _assign_work_unit(self, node) -> None:
            if not self._ordered:  # the queue is complete the first time work goes out
                ordered = sorted(self.workqueue.items(), key=lambda item: -expected_seconds(item[0]))
                self.workqueue = OrderedDict(ordered)  # sorted() is stable: equal costs keep pytest's order
                self._ordered = True
            assigned = self.assigned_work.get(node, {})
            if any(expected_seconds(scope) >= LONG_S and not all(unit.values()) for scope, unit in assigned.items()):
                short = next((scope for scope in self.workqueue if expected_seconds(scope) < LONG_S), None)
                if short is not None:
                    self.workqueue.move_to_end(short, last=False)  # the next unit out
            super()._assign_work_unit(node)

    return NotebookScheduling(config, log)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny tensors gain nothing from threads, and on a busy 2-core machine threads slow them down a lot.

    A test module asks for it with `pytestmark = pytest.mark.usefixtures("one_thread")`.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
