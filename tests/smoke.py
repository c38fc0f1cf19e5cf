"""A small smoke notebook: what a lesson does, in 10-20 seconds instead of minutes.

The browser test runs it in JupyterLab in Chromium; it exercises each thing a learner's browser has to
show: the helpers imported from the package, a model trained by `fit` with its tqdm progress bar (a
widget), a matplotlib plot, and a live ipywidgets control that answers typing with the kernel's reply.
Re-training a whole lesson there would add minutes to every `make test` and check nothing more about the
browser (nbval runs every lesson in full).
"""

from __future__ import annotations

import nbformat

CELLS = [
    """\
import torch

from seq2seq_helpers import SequenceTask, Vocab, collate_pairs, fit, get_device, seed_everything, seq2seq_step
from seq2seq_helpers.decoding import greedy_decode
from seq2seq_helpers.models import DecoderGRU, EncoderGRU, Seq2Seq
from seq2seq_helpers.plots import plot_history
from seq2seq_helpers.widgets import text_to_text_demo

seed_everything(0)
device = get_device()
print("running on", device.type)""",
    """\
vocab = Vocab.letters(8)
task = SequenceTask(vocab, "reverse", min_len=2, max_len=6)
train = task.sample(3000, split="train", seed=0)
batches = [collate_pairs(train[i:i + 64]) for i in range(0, len(train) - 63, 64)]
model = Seq2Seq(EncoderGRU(len(vocab), 16, 64), DecoderGRU(len(vocab), 16, 64)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
history = fit(model, optimizer, batches, 60, seq2seq_step(teacher_forcing=1.0), device=device, desc="smoke")
print(f"final loss {history.loss[-1]:.3f}")""",
    "plot_history(history, title='smoke test');",
    """\
def reverse_with_model(text):
    ids = vocab.encode(text) or [3]
    result = greedy_decode(model, torch.tensor([ids], device=device), torch.tensor([len(ids)]), max_len=10)
    return vocab.decode(result.tokens[0])


text_to_text_demo(reverse_with_model, description="reverse", value="abcde", label="model says")""",
]


def smoke_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb
