"""The one way the course's scripts execute a notebook: an nbclient client for it, in its own folder.

Shared by ``run_notebooks.py`` (which saves what it runs: the committed lessons) and the benchmark
(``bench/lessons.py``, which only measures), so both run a lesson exactly as nbval does: a fresh kernel of this
environment's ``python3`` kernelspec, started with the notebook's folder as its working directory, recording
no cell timings, with nbclient's Output widget stand-in kept from writing to the kernel (``quiet_widgets``:
it made cells stall until their timeout).
"""

from __future__ import annotations

from pathlib import Path

KERNEL_NAME = "python3"


def _quiet_output_widget_class():
    from nbclient.output_widget import OutputWidget

    class QuietOutputWidget(OutputWidget):
        """nbclient's stand-in for a front end's Output widget, minus the copy of its outputs it sends back to the
        kernel on the shell channel.

        That send is one cause of cells that stall until their timeout (lesson 03's schedule explorer, 900 s,
        under `make notebooks`): nbclient awaits the cell's execute_reply by polling the shell socket, and a send
        on that same socket from the iopub handler can swallow the socket's wake-up, so the reply, already
        there, is only read when the cell's timeout fires. Measured with 300 one-line cells that print into an
        Output widget under CPU load (3 s timeout): 16 and 33 cells stalled for the full timeout with the send,
        0 without it. (A later stall of the Colab-like test's schedule-explorer cell, taken for a second cause,
        happened in runs that never had this stand-in: see ``quiet_widgets``.) The kernel never needs the copy:
        the outputs nbclient saves come from this object, as before.
        """

        def send(self, data=None, metadata=None, buffers=None) -> None:
            pass

    return QuietOutputWidget


def widget_registry() -> dict:
    """``NotebookClient``'s ``widget_registry`` with the quiet Output widget (see ``_quiet_output_widget_class``)."""
    return {"@jupyter-widgets/output": {"OutputModel": _quiet_output_widget_class()}}


def quiet_widgets(client):
    """``client`` (an ``nbclient.NotebookClient``) with the quiet Output widget installed; returns it.

    It must be set on the client, not passed to it: ``widget_registry`` is no trait of ``NotebookClient``
    (nbclient 0.11), whose ``__init__`` sets its own registry after traitlets has dropped an unknown keyword with
    only a DeprecationWarning. Until this function, every run that passed ``widget_registry=...`` kept nbclient's
    own stand-in (tests/test_benchmark.py now checks the client, not only the class). Every nbclient run of the
    course's scripts and tests goes through it.
    """
    client.widget_registry = widget_registry()
    return client


def notebook_client(nb, path: str | Path, timeout: int | None, **options):
    """An ``nbclient.NotebookClient`` that runs ``nb`` (read from ``path``) in ``path``'s folder.

    ``timeout`` is the limit per cell in seconds (None or -1: none); ``options`` go to ``NotebookClient`` as they are (for example
    ``store_widget_state=True``). The kernel is the ``python3`` kernelspec, whatever the notebook's metadata names.
    """
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(Path(path).parent)}},
        record_timing=False,
        **options,
    )
    return quiet_widgets(client)
