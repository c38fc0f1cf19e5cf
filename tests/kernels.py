"""Kernelspecs for the tests that run notebooks in an environment of their own (launch and floors tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

_SCRIPTS = str(Path(__file__).resolve().parents[1] / "scripts")
if _SCRIPTS not in sys.path:
    sys.path.insert(0, _SCRIPTS)
from nbexec import quiet_widgets  # noqa: E402  (every NotebookClient the tests make goes through it)

__all__ = ["quiet_widgets", "write_kernelspec"]


def write_kernelspec(python: Path, home: Path, name: str, env: dict[str, str] | None = None) -> str:
    """A kernel named ``name`` that runs in ``python``'s environment, found through ``JUPYTER_PATH=home``.

    Its IPython history stays in memory, as nbclient asks of its own python3 kernels, not in the user's
    ~/.ipython history database, which kernels of tests running side by side would share. ``env``: extra
    environment variables for the kernel. Returns ``name``.
    """
    spec = home / "kernels" / name
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}", "--HistoryManager.hist_file=:memory:"]
    kernel = {"argv": argv, "display_name": name, "language": "python"}
    if env:
        kernel["env"] = dict(env)
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return name
