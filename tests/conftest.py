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


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Keep each notebook's nbval cells together, in order, on one worker; spread every other test singly.

    (xdist's own `--dist loadgroup` marks do not reach the scheduler under pytest 9.2, and `loadfile` would put
    all of a file's slow tests, such as the autograding proof of every lesson, on one worker.) Work goes out
    largest first: whole notebooks, then single tests.
    """
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

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
