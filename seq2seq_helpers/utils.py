"""Reproducibility and device helpers used by every lesson."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import _validate

_DEVICE_KINDS = ("cpu", "cuda", "mps")


def seed_everything(seed: int) -> int:
    """Seed Python, NumPy and PyTorch (CPU and all GPUs) so a run can be repeated.

    Returns the seed so a notebook can print what it used. Every lesson's setup cell calls it (lesson 01 §1).
    """
    seed = _validate.integer(seed, "seed", minimum=None)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be between 0 and 2**32 - 1, got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)
    return seed


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_cpus() -> int:
    """CPUs this process may really use: its affinity mask, capped by a cgroup CPU quota if one is set.

    On Binder a container typically sees all of the host's cores but may use only about one of them; PyTorch
    would start one thread per visible core, and oversubscribed threads slow small models down many-fold.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS and Windows have no affinity mask
        cpus = os.cpu_count() or 1
    for path, parse in (
        ("/sys/fs/cgroup/cpu.max", lambda t: t.split()),  # cgroup v2
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", lambda t: [t.strip(), None]),
    ):  # cgroup v1
        try:
            with open(path) as f:
                quota, period = parse(f.read())
            if quota in ("max", "-1"):
                break
            if period is None:
                with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
                    period = f.read().strip()
            cpus = min(cpus, max(1, int(int(quota) // int(period))))
            break
        except (OSError, ValueError):
            continue
    return max(1, cpus)


def get_device(prefer: str | None = None) -> torch.device:
    """The device lessons run on: CUDA if present, then Apple's MPS, then the CPU.

    ``prefer`` forces a kind ("cpu", "cuda", "mps", or "cuda:1"); the environment variable
    ``SEQ2SEQ_DEVICE`` does the same without editing the notebook. On the CPU it also caps PyTorch's
    threads at :func:`available_cpus`, so a container with a CPU quota (Binder) is not oversubscribed.
    """
    device = _pick_device(prefer)
    if device.type == "cpu" and torch.get_num_threads() > available_cpus():
        torch.set_num_threads(available_cpus())
    return device


def _pick_device(prefer: str | None) -> torch.device:
    prefer = prefer if prefer is not None else os.environ.get("SEQ2SEQ_DEVICE") or None
    if prefer is not None:
        if not isinstance(prefer, str):
            raise TypeError(f"prefer must be a string such as 'cpu' or 'cuda', got {type(prefer).__name__}")
        kind = prefer.split(":", 1)[0].lower()
        if kind not in _DEVICE_KINDS:
            raise ValueError(
                f"unknown device {prefer!r}: use one of {', '.join(_DEVICE_KINDS)} (or 'cuda:N'), "
                "or leave it out to pick the best available"
            )
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {prefer!r} was asked for but CUDA is not available here; use 'cpu'")
        if kind == "mps" and not _mps_available():
            raise ValueError(f"device {prefer!r} was asked for but MPS is not available here; use 'cpu'")
        return torch.device(prefer.lower())
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def count_parameters(model: torch.nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters in ``model``."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module (count_parameters counts its parameters), got {type(model).__name__}"
        )
    _validate.boolean(trainable_only, "trainable_only")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
