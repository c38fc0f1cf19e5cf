"""Tests for seq2seq_helpers.utils: seeding, device choice (cuda -> mps -> cpu), parameter counts."""

import os
import random

import numpy as np
import pytest
import torch
from torch import nn

from seq2seq_helpers import utils
from seq2seq_helpers.utils import count_parameters, get_device, seed_everything


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    # Neither a developer's SEQ2SEQ_DEVICE nor the PYTHONHASHSEED that seed_everything sets may leak into a test.
    monkeypatch.delenv("SEQ2SEQ_DEVICE", raising=False)
    monkeypatch.setenv("PYTHONHASHSEED", "0")


def _draws():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


# ------------------------------------------------------------------------------------------ seeding


def test_seed_everything_makes_python_numpy_and_torch_draws_repeat():
    assert seed_everything(123) == 123
    first = _draws()
    seed_everything(123)
    assert _draws() == first
    seed_everything(124)
    other = _draws()
    for a, b in zip(first, other):  # each of the three generators was (re)seeded
        assert a != b
    assert os.environ["PYTHONHASHSEED"] == "124"


@pytest.mark.parametrize("seed", [0, 2**32 - 1])
def test_seed_everything_accepts_the_whole_range(seed):
    assert seed_everything(seed) == seed


@pytest.mark.parametrize("seed", ["7", 1.5, None, True, False])
def test_seed_everything_rejects_non_int_seeds(seed):
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_everything(seed)


@pytest.mark.parametrize("seed", [-1, 2**32])
def test_seed_everything_rejects_out_of_range_seeds(seed):
    with pytest.raises(ValueError, match="between 0 and"):
        seed_everything(seed)


# ------------------------------------------------------------------------------------------- device


def _fake_backends(monkeypatch, cuda: bool, mps: bool):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


def test_get_device_is_cpu_on_this_cpu_only_machine():
    if torch.cuda.is_available() or utils._mps_available():
        pytest.skip("this machine has an accelerator")
    assert get_device() == torch.device("cpu")


@pytest.mark.parametrize(
    "cuda, mps, expected",
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_get_device_picks_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    _fake_backends(monkeypatch, cuda, mps)
    assert get_device() == torch.device(expected)


@pytest.mark.parametrize("prefer", ["cpu", "CPU"])
def test_prefer_cpu_wins_over_an_available_gpu(monkeypatch, prefer):
    _fake_backends(monkeypatch, cuda=True, mps=True)
    assert get_device(prefer) == torch.device("cpu")


def test_prefer_a_numbered_cuda_device(monkeypatch):
    _fake_backends(monkeypatch, cuda=True, mps=False)
    assert get_device("cuda:1") == torch.device("cuda", 1)


def test_env_variable_chooses_the_device(monkeypatch):
    _fake_backends(monkeypatch, cuda=True, mps=False)
    monkeypatch.setenv("SEQ2SEQ_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_explicit_prefer_overrides_the_env_variable(monkeypatch):
    _fake_backends(monkeypatch, cuda=False, mps=False)
    monkeypatch.setenv("SEQ2SEQ_DEVICE", "tpu")  # would raise if it were read
    assert get_device("cpu") == torch.device("cpu")


def test_empty_env_variable_means_auto(monkeypatch):
    _fake_backends(monkeypatch, cuda=False, mps=True)
    monkeypatch.setenv("SEQ2SEQ_DEVICE", "")
    assert get_device() == torch.device("mps")


@pytest.mark.parametrize("prefer", ["tpu", "gpu", "cuda0", ""])
def test_unknown_device_names_raise(monkeypatch, prefer):
    _fake_backends(monkeypatch, cuda=True, mps=True)
    with pytest.raises(ValueError, match="unknown device"):
        get_device(prefer)


def test_unknown_device_in_env_variable_raises(monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_DEVICE", "gpu")
    with pytest.raises(ValueError, match="'gpu'"):
        get_device()


@pytest.mark.parametrize("prefer, backend", [("cuda", "CUDA"), ("cuda:0", "CUDA"), ("mps", "MPS")])
def test_asking_for_a_missing_accelerator_raises(monkeypatch, prefer, backend):
    _fake_backends(monkeypatch, cuda=False, mps=False)
    with pytest.raises(ValueError, match=f"{backend} is not available"):
        get_device(prefer)


def test_prefer_must_be_a_string():
    with pytest.raises(TypeError):
        get_device(0)


# ------------------------------------------------------------------------------------------ params


def test_count_parameters_of_a_linear_layer_trainable_and_frozen():
    layer = nn.Linear(4, 3)  # weight 3x4 = 12, bias 3
    assert count_parameters(layer) == 15
    layer.bias.requires_grad_(False)
    assert count_parameters(layer) == 12
    assert count_parameters(layer, trainable_only=False) == 15
    layer.weight.requires_grad_(False)
    assert count_parameters(layer) == 0
    assert count_parameters(layer, trainable_only=False) == 15


def test_count_parameters_counts_a_shared_module_once():
    layer = nn.Linear(4, 3)
    assert count_parameters(nn.Sequential(layer, nn.ReLU(), layer)) == 15


@pytest.mark.parametrize("not_a_module", [torch.zeros(3), [nn.Parameter(torch.zeros(3))], None])
def test_count_parameters_rejects_non_modules(not_a_module):
    with pytest.raises(TypeError, match="torch.nn.Module"):
        count_parameters(not_a_module)


def test_available_cpus_respects_affinity_and_a_cgroup_quota(monkeypatch, tmp_path):
    import builtins
    import os

    from seq2seq_helpers import utils

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7}, raising=False)
    real_open = builtins.open

    def fake_open(path, *args, **kwargs):
        if path == "/sys/fs/cgroup/cpu.max":
            quota = tmp_path / "cpu.max"
            quota.write_text("150000 100000\n")  # 1.5 CPUs -> 1
            return real_open(quota, *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    assert utils.available_cpus() == 1
    (tmp_path / "cpu.max").write_text("max 100000\n")

    def unlimited(path, *args, **kwargs):
        if path == "/sys/fs/cgroup/cpu.max":
            return real_open(tmp_path / "cpu.max", *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", unlimited)
    assert utils.available_cpus() == 8


def test_get_device_caps_threads_at_the_available_cpus(monkeypatch):
    import torch

    from seq2seq_helpers import utils

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(4)
        monkeypatch.setattr(utils, "available_cpus", lambda: 1)
        assert utils.get_device("cpu").type == "cpu"
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
