"""Checks at the learner's door, not at every decoding step (issue 28).

A *host read* brings a tensor's value back to Python: ``item()``, ``bool(t)``, ``int(t)``, ``tolist()``,
``nonzero()``, indexing with a bool mask, ``.cpu()``. On a GPU each one waits until the device has finished
everything queued before it, so a check that reads a value at every decoding step stalls the device at every
step. The public entries (``greedy_decode``, ``beam_search``, a model's ``encode`` / ``decode_step``) check their
arguments once; the loops then call unchecked private steps on the tokens they chose themselves. These tests
count the reads of whole decoding calls on the CPU, where the same calls are made, so that a per-step check
added back anywhere on the path fails them.

What a decode needs, and no more: the door (one read for the source batch: ids' range, lengths' range and
padding agreement together); greedy decoding one read per step (has every row finished?) except after the last
step; beam search one per step (finished hypotheses and the best live scores together), a second one at a step
where a hypothesis finishes (its prefix), and two at the end (the final hypotheses). A packed GRU encoder also
copies the lengths to the CPU once, for ``pack_padded_sequence``. Reads that torch makes inside its own
functions (the packed batch's ``batch_sizes``, which live on the CPU by design) are not counted.
"""

import collections
import contextlib
import os
import sys

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from seq2seq_helpers.data import EOS, pad_sequences
from seq2seq_helpers.decoding import beam_search, greedy_decode
from seq2seq_helpers.models import AttentionDecoder, AttentionSeq2Seq, DecoderGRU, EncoderGRU, LSTMEncoder, Seq2Seq

VOCAB, SOURCES, MAX_LEN = 20, 16, 10
TORCH_DIR = os.path.dirname(torch.__file__)
DISPATCH_WRAPPERS = tuple(os.path.join(TORCH_DIR, p) for p in ("_dynamo", "_compile.py", "utils/_python_dispatch.py"))
_aten = torch.ops.aten


class HostReads(TorchDispatchMode):
    """Counts host reads by the Python line that made them (``where``); reads made inside torch's own Python code
    are kept apart (``inside_torch``). Every scalar read (``item``, ``bool``, ``int``, ``float``, comparisons in an
    ``if``) goes through ``aten._local_scalar_dense``; ``nonzero`` and bool-mask indexing have a shape that depends
    on values; ``tolist`` and ``cpu`` read without dispatching, so they are wrapped while counting."""

    def __init__(self):
        super().__init__()
        self.where = collections.Counter()
        self.inside_torch = 0

    def note(self):
        frame = sys._getframe(1)  # skip the counter's frames and torch's dispatch wrappers: the line that read
        while (
            frame.f_code.co_filename == __file__
            and frame.f_code.co_name in ("note", "wrapper", "__torch_dispatch__")
            or (frame.f_code.co_filename.startswith(DISPATCH_WRAPPERS))
        ):
            frame = frame.f_back
        if frame.f_code.co_filename.startswith(TORCH_DIR):
            self.inside_torch += 1
        else:
            self.where[f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"] += 1

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        reads = func in (_aten._local_scalar_dense.default, _aten.nonzero.default) or (
            func is _aten.index.Tensor
            and any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in args[1] if i is not None)
        )
        if reads:
            self.note()
        return func(*args, **(kwargs or {}))

    @property
    def total(self) -> int:
        return sum(self.where.values())


@contextlib.contextmanager
def count_host_reads():
    counter = HostReads()
    originals = {name: getattr(torch.Tensor, name) for name in ("tolist", "cpu", "numpy")}

    def counted(method):
        def wrapper(self, *args, **kwargs):
            counter.note()
            return method(self, *args, **kwargs)

        return wrapper

    try:
        for name, method in originals.items():
            setattr(torch.Tensor, name, counted(method))
        with counter:
            yield counter
    finally:
        for name, method in originals.items():
            setattr(torch.Tensor, name, method)


def sources():
    generator = torch.Generator().manual_seed(1)
    lengths = torch.randint(3, 11, (SOURCES,), generator=generator).tolist()
    return pad_sequences([torch.randint(3, VOCAB, (n,), generator=generator).tolist() for n in lengths])


def models():
    torch.manual_seed(0)
    gru = Seq2Seq(EncoderGRU(VOCAB, 16, 32), DecoderGRU(VOCAB, 16, 32))
    encoder = LSTMEncoder(VOCAB, 16, 16)  # bidirectional
    attention = AttentionSeq2Seq(encoder, AttentionDecoder(VOCAB, 16, encoder.dec_hid_dim, encoder.enc_dim))
    return {"gru": gru.eval(), "bilstm+attention": attention.eval()}


def never_finishing(model):
    """The model with EOS's logit pushed far down: no row ever finishes, so every call runs all MAX_LEN steps."""
    with torch.no_grad():
        model.decoder.out.bias[EOS] = -1e4
    return model


PACKING = {"gru": 1, "bilstm+attention": 0}  # the lengths' copy to the CPU that pack_padded_sequence needs


@pytest.mark.parametrize("name", ["gru", "bilstm+attention"])
def test_greedy_decoding_reads_the_host_once_per_step(name):
    """Issue 28's target: greedy decoding of 16 sources to max_len 10 with at most 10 host reads (it was 77 for
    BiLSTM + attention, 67 of them in argument checks at every step): one at the door, one per step but the last,
    plus the GRU's lengths copy for packing."""
    model = never_finishing(models()[name])
    src, src_lengths = sources()
    with count_host_reads() as reads:
        result = greedy_decode(model, src, src_lengths, max_len=MAX_LEN)
    assert result.tokens.shape[1] == MAX_LEN  # every step ran
    assert reads.total <= 1 + (MAX_LEN - 1) + PACKING[name], dict(reads.where)
    assert reads.total <= 10 + PACKING[name]


@pytest.mark.parametrize("name", ["gru", "bilstm+attention"])
def test_beam_search_reads_the_host_once_per_step(name):
    """Beam search: one read per step while no hypothesis finishes, plus the door and the two final reads; with
    EOS allowed, at most one more at each step (a finished hypothesis' prefix). It was 111 for BiLSTM + attention
    (beam 4), 84 of them in argument checks at every step."""
    src, src_lengths = sources()
    model = models()[name]
    with count_host_reads() as reads:
        beam_search(model, src, src_lengths, beam_size=4, max_len=MAX_LEN)
    assert reads.total <= 1 + 2 * MAX_LEN + 2 + PACKING[name], dict(reads.where)
    never_finishing(model)
    with count_host_reads() as reads:
        result = beam_search(model, src, src_lengths, beam_size=4, max_len=MAX_LEN)
    assert result.tokens.shape[-1] == MAX_LEN  # every step ran, none finished
    assert reads.total <= 1 + MAX_LEN + 2 + PACKING[name], dict(reads.where)


def test_the_counter_sees_every_kind_of_host_read():
    x = torch.tensor([1.0, 2.0, 3.0])
    kinds = [
        lambda: x[0].item(),
        lambda: bool(x.any()),
        lambda: int(x.max()),
        lambda: float(x.sum()),
        lambda: x.tolist(),
        lambda: x.cpu(),
        lambda: x.nonzero(),
        lambda: x[x > 1.5],
        lambda: bool(x[0] > 0.5),
    ]
    for read in kinds:
        with count_host_reads() as reads:
            read()
        assert reads.total == 1
    with count_host_reads() as reads:
        (x * 2 + 1).softmax(0).argmax()  # computation alone reads nothing
    assert reads.total == 0
