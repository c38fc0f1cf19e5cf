"""The one way the course's scripts execute a notebook: an nbclient client for it, in its own folder.

Shared by ``run_notebooks.py`` (which saves what it runs: the committed lessons) and the benchmark
(``bench/lessons.py``, which only measures), so both run a lesson exactly as nbval does: a fresh kernel of this
environment's ``python3`` kernelspec, started with the notebook's folder as its working directory, recording
no cell timings.
"""

from __future__ import annotations

from pathlib import Path

KERNEL_NAME = "python3"


def notebook_client(nb, path: str | Path, timeout: int | None, **options):
    """An ``nbclient.NotebookClient`` that runs ``nb`` (read from ``path``) in ``path``'s folder.

    ``timeout`` is the limit per cell in seconds (None or -1: none); ``options`` go to ``NotebookClient`` as they are (for example
    ``store_widget_state=True``). The kernel is the ``python3`` kernelspec, whatever the notebook's metadata names.
    """
    from nbclient import NotebookClient

    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(Path(path).parent)}},
        record_timing=False,
        **options,
    )
