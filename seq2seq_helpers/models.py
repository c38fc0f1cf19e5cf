"""Encoders, decoders and the two seq2seq wrappers used by every lesson (attention itself: ``attention.py``).

Conventions (see ``data.py``): tensors are batch-first, ``PAD=0, SOS=1, EOS=2``; a target ``tgt`` ends in
EOS and holds no SOS, the model prepends SOS itself when it feeds the decoder.

Both wrappers, :class:`Seq2Seq` (GRU, no attention) and :class:`AttentionSeq2Seq` (LSTM + attention), share
one small interface that the decoding and training code rely on (named once, as the ``typing.Protocol``
:class:`seq2seq_helpers.decoding.Seq2SeqModel`)::

    state = model.encode(src, src_lengths)                          # a DecoderState
    logits, state, attention = model.decode_step(prev_tokens, state)  # one step for every row
    logits = model(src, src_lengths, tgt, teacher_forcing_ratio=1.0)  # [batch, tgt_len, vocab]

Every public entry point checks its arguments in one line (``_validate.py``) and raises a
``ValueError``/``TypeError`` that names the problem and the fix, instead of a shape error from deep inside
PyTorch; what follows the check is the computation, with its shapes.
"""

from __future__ import annotations

from typing import NamedTuple, Union

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import _validate
from .attention import (  # noqa: F401  (re-exported: lessons 02-06 import them from here)
    ATTENTION_KINDS,
    AdditiveAttention,
    DotAttention,
    GeneralAttention,
    lengths_to_mask,
    make_attention,
)
from .tokens import EOS, PAD, SOS

__all__ = [
    "PAD",
    "SOS",
    "EOS",
    "lengths_to_mask",
    "shift_right",
    "DecoderState",
    "EncoderGRU",
    "DecoderGRU",
    "LSTMEncoder",
    "AdditiveAttention",
    "DotAttention",
    "GeneralAttention",
    "AttentionDecoder",
    "LAYOUTS",
    "CELLS",
    "Seq2Seq",
    "AttentionSeq2Seq",
]

Hidden = Union[torch.Tensor, tuple]  # a GRU's h, or an LSTM's (h, c); batch is on dim 1


# ----------------------------------------------------------------------------------------- helpers


def shift_right(tgt: torch.Tensor, start: int = SOS) -> torch.Tensor:
    """Teacher-forcing decoder input: SOS followed by ``tgt`` without its last column (lesson 01 §3).

    ``tgt = [[a, b, EOS]]`` gives ``[[SOS, a, b]]``: at step t the decoder sees the gold token t-1.
    """
    tgt = _validate.token_ids(tgt, "tgt")
    start = _validate.integer(start, "start", minimum=0)
    starts = torch.full((tgt.shape[0], 1), start, dtype=tgt.dtype, device=tgt.device)  # [batch, 1]
    return torch.cat([starts, tgt[:, :-1]], dim=1)  # [batch, tgt_len]


def _select_hidden(hidden: Hidden, index: torch.Tensor) -> Hidden:
    if isinstance(hidden, torch.Tensor):
        return hidden.index_select(1, index.to(hidden.device))  # batch is dim 1 for RNN states
    return tuple(_select_hidden(part, index) for part in hidden)


class DecoderState(NamedTuple):
    """What the decoder needs between steps (lesson 01 §6 passes ``hidden`` by hand; lesson 04 adds the rest).

    * ``hidden``: the decoder's recurrent state, ``[layers, batch, hid]`` (GRU) or a pair ``(h, c)`` (LSTM);
    * ``encoder_outputs``: ``[batch, src_len, enc_dim]`` (attention models; ``None`` otherwise);
    * ``src_mask``: ``[batch, src_len]`` bool, True on real source tokens (attention models; ``None`` otherwise);
    * ``attention_keys``: the attention's projection of ``encoder_outputs`` (e.g. ``U k`` of additive
      attention), computed once by ``encode`` so decoding does not redo it at every step; ``None`` when the
      attention module has no ``precompute`` method.
    """

    hidden: Hidden
    encoder_outputs: torch.Tensor | None = None
    src_mask: torch.Tensor | None = None
    attention_keys: torch.Tensor | None = None

    @property
    def batch_size(self) -> int:
        h = self.hidden if isinstance(self.hidden, torch.Tensor) else self.hidden[0]
        return h.shape[1]

    def select(self, index: torch.Tensor) -> DecoderState:
        """The state of rows ``index`` (a 1-D LongTensor) in that order; rows may repeat (lesson 05 §3).

        Beam search uses it to copy a sequence's state into its ``beam_size`` hypotheses and to reorder
        hypotheses after each step. RNN states keep batch on dim 1, the other tensors on dim 0.
        """
        index = _validate.row_index(index, self.batch_size, keep_size=False)
        rows = [
            None if t is None else t.index_select(0, index.to(t.device))
            for t in (self.encoder_outputs, self.src_mask, self.attention_keys)
        ]
        return DecoderState(_select_hidden(self.hidden, index), *rows)

    def reorder(self, index: torch.Tensor) -> DecoderState:
        """``select(index)`` for an ``index`` that only moves rows among rows of the SAME source (the
        hypotheses of one input in beam search): those rows share the encoder outputs, mask and attention
        keys, so only the recurrent state is reordered. Same result as ``select``, without copying the rest.
        """
        index = _validate.row_index(index, self.batch_size, keep_size=True)
        return self._replace(hidden=_select_hidden(self.hidden, index))


# ---------------------------------------------------------------------------------------- encoders


def _embed(module: nn.Module, src: torch.Tensor, src_lengths: torch.Tensor):
    """The encoders' door and first step: check the padded batch, embed it (with dropout when training)."""
    src, src_lengths = _validate.padded_batch(src, src_lengths, module.vocab_size, name="src", need_lengths=True)
    _validate.same_device(module, src, "src")
    embedded = F.dropout(module.embedding(src), module.dropout, module.training)  # [batch, src_len, emb]
    return embedded, src_lengths


def _run_packed(rnn: nn.Module, embedded: torch.Tensor, src_lengths: torch.Tensor):
    """Lesson 02 §2: pack, run the RNN, unpack to the input width."""
    packed = pack_padded_sequence(embedded, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
    outputs, hidden = rnn(packed)  # hidden: [layers * dirs, batch, hid] (or a pair for an LSTM)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=embedded.shape[1])
    return outputs, hidden  # outputs: [batch, src_len, hid * dirs], exactly 0 at padding


# A padding step the LSTM skips (issue 30). On a CPU, PyTorch runs an LSTM over a padded batch with one fused
# kernel (oneDNN), but over a packed batch with a slower step-by-step loop: packing took about half of a
# BiLSTM + attention model's training step. The fast path keeps the padded batch and makes every padding step a
# no-op instead: one extra input, 1 at padding and 0 elsewhere, enters the gates with a fixed weight of -BIG for
# the input gate and +BIG for the forget gate, so at padding i = sigmoid(... - BIG) = 0 and f = 1 exactly in
# float32, and c' = f * c + i * g = c. The forward direction reads a row's real tokens and then keeps its cell
# state through the padding; the backward direction meets the padding first and stays at its zero start
# (h = o * tanh(0) = 0) until the row's last real token. Only the forward direction's final h moved at
# padding (h = o * tanh(c) with a new o), so it is read from the output at the row's last real token. The
# learned weights are unchanged (the extra column is a constant, not a parameter), the gradients at padding
# are exactly 0 (saturated gates), and tests/test_models.py proves outputs, final states and gradients equal to
# the packed path's to float tolerance. Kept for one layer on the CPU; elsewhere (cuDNN, MPS, stacked layers)
# packing is used.
_PADDING_GATE = 1e4


def _run_lstm_padded(module: nn.Module, embedded: torch.Tensor, src_lengths: torch.Tensor):
    """The CPU fast path of :class:`LSTMEncoder` (one layer): the padded batch with padding as a no-op step."""
    batch, src_len, _ = embedded.shape
    rnn, hid = module.rnn, module.hid_dim
    src_lengths = src_lengths.to(embedded.device)
    real = torch.arange(src_len, device=embedded.device) < src_lengths.unsqueeze(1)  # [batch, src_len]
    flagged = torch.cat([embedded, (~real).unsqueeze(-1).to(embedded.dtype)], dim=-1)  # [batch, src_len, emb + 1]
    column = embedded.new_zeros(4 * hid, 1)  # the padding flag's weight into the gates i, f, g, o
    column[:hid], column[hid : 2 * hid] = -_PADDING_GATE, _PADDING_GATE
    weights = []
    for suffix in ("", "_reverse")[: 2 if module.bidirectional else 1]:
        w_ih, w_hh = getattr(rnn, "weight_ih_l0" + suffix), getattr(rnn, "weight_hh_l0" + suffix)
        b_ih, b_hh = getattr(rnn, "bias_ih_l0" + suffix), getattr(rnn, "bias_hh_l0" + suffix)
        weights += [torch.cat([w_ih, column], dim=1), w_hh, b_ih, b_hh]
    dirs = 2 if module.bidirectional else 1
    zeros = embedded.new_zeros(dirs, batch, hid)
    outputs, h, c = torch.lstm(flagged, (zeros, zeros), weights, True, 1, 0.0, module.training, dirs == 2, True)
    # outputs: [batch, src_len, hid * dirs]; h, c: [dirs, batch, hid]
    last = outputs[torch.arange(batch, device=outputs.device), src_lengths - 1, :hid]  # [batch, hid]: forward h
    h = torch.cat([last.unsqueeze(0), h[1:]], dim=0)  # the backward direction's h is already right
    return outputs * real.unsqueeze(-1), (h, c)  # padding outputs set to exactly 0, as unpacking does


class EncoderGRU(nn.Module):
    """GRU encoder (lesson 01 §3; packed in lesson 02 §2).

    ``forward(src [B,S], src_lengths [B]) -> (encoder_outputs [B,S,H], hidden [layers,B,H])``. Sequences are
    packed, so ``hidden`` is each sequence's state after its own last real token, never after padding.
    ``dropout`` is applied to the embeddings and between stacked layers (training only).
    """

    def __init__(self, vocab_size: int, emb_dim: int, hid_dim: int, num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        _validate.sizes(vocab_size=vocab_size, emb_dim=emb_dim, hid_dim=hid_dim, num_layers=num_layers)
        self.vocab_size, self.hid_dim, self.num_layers = vocab_size, hid_dim, num_layers
        self.dropout = _validate.dropout(dropout)
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.GRU(
            emb_dim, hid_dim, num_layers, batch_first=True, dropout=self.dropout if num_layers > 1 else 0.0
        )

    @property
    def enc_dim(self) -> int:
        """Width of ``encoder_outputs`` (attention's keys, lesson 04 §5)."""
        return self.hid_dim

    @property
    def dec_hid_dim(self) -> int:
        """The ``hid_dim`` a decoder needs to start from this encoder's final state."""
        return self.hid_dim

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor):
        # src: [batch, src_len], src_lengths: [batch]
        embedded, src_lengths = _embed(self, src, src_lengths)  # [batch, src_len, emb]
        encoder_outputs, hidden = _run_packed(self.rnn, embedded, src_lengths)
        return encoder_outputs, hidden  # [batch, src_len, hid], [layers, batch, hid]


class LSTMEncoder(nn.Module):
    """(Bi)LSTM encoder for attention models (lesson 04 §2).

    ``forward(src [B,S], src_lengths [B]) -> (encoder_outputs [B,S,enc_dim], (h, c))`` with
    ``enc_dim = hid_dim * (2 if bidirectional else 1)``.

    The decoder-ready state ``(h, c)`` has shape ``[num_layers, B, enc_dim]``: for a bidirectional encoder
    the forward and backward final states of each layer are *concatenated* (no extra parameters), so the
    decoder's ``hid_dim`` must equal ``enc_dim`` (available as ``encoder.dec_hid_dim``). The backward
    direction's final state is its state after reading the sequence's first token, and with packing the
    forward direction stops at the true last token.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int,
        hid_dim: int,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
    ):
        super().__init__()
        _validate.sizes(vocab_size=vocab_size, emb_dim=emb_dim, hid_dim=hid_dim, num_layers=num_layers)
        self.vocab_size, self.hid_dim, self.num_layers = vocab_size, hid_dim, num_layers
        self.dropout = _validate.dropout(dropout)
        self.bidirectional = _validate.boolean(bidirectional, "bidirectional")
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.LSTM(
            emb_dim,
            hid_dim,
            num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=self.dropout if num_layers > 1 else 0.0,
        )

    @property
    def enc_dim(self) -> int:
        """Width of ``encoder_outputs``."""
        return self.hid_dim * (2 if self.bidirectional else 1)

    @property
    def dec_hid_dim(self) -> int:
        """The ``hid_dim`` a decoder needs to start from this encoder's final state (= ``enc_dim``)."""
        return self.enc_dim

    def _merge_directions(self, state: torch.Tensor) -> torch.Tensor:
        # state: [layers * dirs, batch, hid] -> [layers, batch, hid * dirs]
        if not self.bidirectional:
            return state  # [layers, batch, hid]
        state = state.view(self.num_layers, 2, state.shape[1], self.hid_dim)  # [layers, 2, batch, hid]
        return torch.cat([state[:, 0], state[:, 1]], dim=-1)  # [layers, batch, 2 * hid]

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor):
        # src: [batch, src_len], src_lengths: [batch]
        embedded, src_lengths = _embed(self, src, src_lengths)  # [batch, src_len, emb]
        if embedded.device.type == "cpu" and self.num_layers == 1:
            encoder_outputs, (h, c) = _run_lstm_padded(self, embedded, src_lengths)
        else:
            encoder_outputs, (h, c) = _run_packed(self.rnn, embedded, src_lengths)
        # encoder_outputs: [batch, src_len, enc_dim]; h, c: [layers * dirs, batch, hid]
        h, c = self._merge_directions(h), self._merge_directions(c)  # [layers, batch, enc_dim] each
        return encoder_outputs, (h, c)


# ---------------------------------------------------------------------------------------- decoders


class DecoderGRU(nn.Module):
    """GRU decoder without attention (lesson 01 §3; the one-call teacher-forced pass: lesson 02 §4).

    * ``forward(tgt_in [B,T], hidden [layers,B,H]) -> (logits [B,T,V], hidden)``: the whole
      teacher-forced input sequence in one GRU call (fast);
    * ``step(prev_tokens [B], hidden) -> (logits [B,V], hidden)``: one token per row, for decoding.
    """

    def __init__(self, vocab_size: int, emb_dim: int, hid_dim: int, num_layers: int = 1):
        super().__init__()
        _validate.sizes(vocab_size=vocab_size, emb_dim=emb_dim, hid_dim=hid_dim, num_layers=num_layers)
        self.vocab_size, self.hid_dim, self.num_layers = vocab_size, hid_dim, num_layers
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.GRU(emb_dim, hid_dim, num_layers, batch_first=True)
        self.out = nn.Linear(hid_dim, vocab_size)

    def forward(self, tgt_in: torch.Tensor, hidden: torch.Tensor):
        # tgt_in: [batch, tgt_len] (SOS, y1, y2, ...), hidden: [layers, batch, hid]
        tgt_in = _validate.decoder_input(self, tgt_in, hidden, lstm=False)
        outputs, hidden = self.rnn(self.embedding(tgt_in), hidden)  # [batch, tgt_len, hid], [layers, batch, hid]
        return self.out(outputs), hidden  # logits [batch, tgt_len, vocab]

    def step(self, prev_tokens: torch.Tensor, hidden: torch.Tensor):
        # prev_tokens: [batch], hidden: [layers, batch, hid]
        prev_tokens = _validate.token_ids(prev_tokens, "prev_tokens", self.vocab_size, dims=1)
        logits, hidden = self.forward(prev_tokens.unsqueeze(1), hidden)  # [batch, 1, vocab]
        return logits.squeeze(1), hidden  # [batch, vocab], [layers, batch, hid]


LAYOUTS = ("luong", "bahdanau")
CELLS = ("lstm", "gru")


class AttentionDecoder(nn.Module):
    """An RNN decoder with attention over the encoder outputs, in Luong's or Bahdanau's layout (lesson 04 §2, §5).

    ``layout="luong"`` (the default; Luong, Pham and Manning 2015): the RNN reads the previous token and gives the
    new state ``h_t``, which is the query; attention gives the context ``c_t``; ``logits = out(tanh(combine([h_t;
    c_t])))``. The query does not depend on the previous context, so a teacher-forced sequence runs in ONE RNN call
    plus one batched attention over all target positions. ``input_feeding=True`` adds Luong's input feeding: the
    previous step's attentional vector ``tanh(combine([h_{t-1}; c_{t-1}]))`` is concatenated to the input, so the
    steps run one at a time and the decoder's state carries that vector too (see ``init_hidden``).

    ``layout="bahdanau"`` (Bahdanau, Cho and Bengio 2015, as d2l and many tutorials build it): the query is the
    *previous* state ``h_{t-1}`` (top layer; at step 0 the encoder's final state), the context ``c_t`` is
    concatenated to the embedded previous token as the RNN's input, and the prediction is made from the new state
    and the context with the same ``out(tanh(combine([h_t; c_t])))`` as Luong's (the original's deep output with
    maxout is left out, so that the two layouts differ only in the query and where the context enters). Every step
    needs the previous one's state, so teacher forcing runs step by step.

    * ``forward(tgt_in [B,T], hidden, encoder_outputs [B,S,E], src_mask [B,S])
      -> (logits [B,T,V], hidden, attention [B,T,S])``
    * ``step(prev_tokens [B], hidden, encoder_outputs, src_mask) -> (logits [B,V], hidden, attention [B,S])``

    ``cell`` is ``"lstm"`` (``hidden = (h, c)``) or ``"gru"`` (``hidden = h``), each ``[num_layers, B, hid_dim]``;
    with input feeding the previous attentional vector ``[1, B, hid_dim]`` is appended: ``(h, c, feed)`` or
    ``(h, feed)``. ``init_hidden(encoder_hidden)`` builds the first state from the encoder's final state.
    ``attention`` is ``'additive'`` (Bahdanau), ``'dot'`` or ``'general'`` (Luong), or any module with the
    interface ``(query [B,T,hid_dim], keys [B,S,enc_dim], mask [B,S]) -> (context [B,T,enc_dim], weights [B,T,S])``.
    ``attn_dim`` sizes additive attention's hidden layer (default ``hid_dim``); it sets the cost of every
    step, ``batch x tgt_len x src_len x attn_dim`` tanh evaluations, and 32 is plenty for the course's tasks.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int,
        hid_dim: int,
        enc_dim: int,
        attention: str | nn.Module = "additive",
        num_layers: int = 1,
        attn_dim: int | None = None,
        layout: str = "luong",
        input_feeding: bool = False,
        cell: str = "lstm",
    ):
        super().__init__()
        _validate.sizes(vocab_size=vocab_size, emb_dim=emb_dim, hid_dim=hid_dim, enc_dim=enc_dim, num_layers=num_layers)
        self.vocab_size, self.hid_dim, self.enc_dim, self.num_layers = vocab_size, hid_dim, enc_dim, num_layers
        self.layout = _validate.one_of(layout, "layout", LAYOUTS)
        self.input_feeding = _validate.boolean(input_feeding, "input_feeding")
        self.cell = _validate.one_of(cell, "cell", CELLS)
        if self.input_feeding and self.layout == "bahdanau":
            raise ValueError(
                "input_feeding is part of Luong's layout; Bahdanau's layout already feeds the context into the "
                "RNN's input: drop input_feeding=True or use layout='luong'"
            )
        extra = enc_dim if self.layout == "bahdanau" else hid_dim if self.input_feeding else 0
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = (nn.LSTM if self.cell == "lstm" else nn.GRU)(emb_dim + extra, hid_dim, num_layers, batch_first=True)
        self.attention = make_attention(attention, hid_dim, enc_dim, attn_dim)
        self.combine = nn.Linear(hid_dim + enc_dim, hid_dim)
        self.out = nn.Linear(hid_dim, vocab_size)

    @property
    def one_call(self) -> bool:
        """True when a teacher-forced sequence runs through the RNN in one call (Luong, no input feeding)."""
        return self.layout == "luong" and not self.input_feeding

    def init_hidden(self, encoder_hidden: Hidden) -> Hidden:
        """The decoder's first state from the encoder's final state (the bridge, lesson 04 §2): the same state,
        plus a zero attentional vector ``[1, batch, hid_dim]`` when the decoder uses input feeding."""
        if not self.input_feeding:
            return encoder_hidden
        parts = tuple(encoder_hidden) if self.cell == "lstm" else (encoder_hidden,)
        h = parts[0]
        _validate.instance(h, torch.Tensor, "encoder_hidden", " (the encoder's final state)")
        return (*parts, h.new_zeros(1, h.shape[1], self.hid_dim))

    def _split(self, hidden):
        # hidden -> (the RNN's state, the input feed [1, batch, hid] or None)
        if not self.input_feeding:
            return (tuple(hidden) if self.cell == "lstm" else hidden), None
        *parts, feed = hidden
        return (tuple(parts) if self.cell == "lstm" else parts[0]), feed

    def _join(self, rnn_state, feed):
        if feed is None:
            return rnn_state
        return (*rnn_state, feed) if self.cell == "lstm" else (rnn_state, feed)

    def _one_step(self, embedded, hidden, encoder_outputs, src_mask, keys):
        # embedded: [batch, 1, emb]; returns attentional vector [batch, 1, hid], hidden, attention [batch, 1, src_len]
        rnn_state, feed = self._split(hidden)
        if self.layout == "bahdanau":
            previous = (rnn_state[0] if self.cell == "lstm" else rnn_state)[-1].unsqueeze(1)  # [batch, 1, hid]
            context, attention = self.attention(previous, encoder_outputs, src_mask, **keys)  # [batch, 1, enc_dim]
            output, rnn_state = self.rnn(torch.cat([embedded, context], dim=-1), rnn_state)  # [batch, 1, hid]
        else:
            rnn_input = embedded if feed is None else torch.cat([embedded, feed.transpose(0, 1)], dim=-1)
            output, rnn_state = self.rnn(rnn_input, rnn_state)  # [batch, 1, hid]: the new state is the query
            context, attention = self.attention(output, encoder_outputs, src_mask, **keys)  # [batch, 1, enc_dim]
        attentional = torch.tanh(self.combine(torch.cat([output, context], dim=-1)))  # [batch, 1, hid]
        feed = attentional.transpose(0, 1) if self.input_feeding else None  # [1, batch, hid]
        return attentional, self._join(rnn_state, feed), attention

    def forward(
        self,
        tgt_in: torch.Tensor,
        hidden,
        encoder_outputs: torch.Tensor,
        src_mask: torch.Tensor,
        attention_keys: torch.Tensor | None = None,
    ):
        # tgt_in: [batch, tgt_len], hidden: see the class docstring, each part [layers, batch, hid]
        # encoder_outputs: [batch, src_len, enc_dim], src_mask: [batch, src_len] bool
        # attention_keys: self.attention.precompute(encoder_outputs), or None to compute it here
        tgt_in = _validate.attention_decoder_input(self, tgt_in, hidden)
        _validate.encoder_outputs(self, encoder_outputs, src_mask, tgt_in.shape[0])
        if attention_keys is None and tgt_in.shape[1] > 1:
            attention_keys = self.precompute_keys(encoder_outputs)  # once, not at every step
        keys = {} if attention_keys is None else {"projected_keys": attention_keys}
        embedded = self.embedding(tgt_in)  # [batch, tgt_len, emb]
        if self.one_call:
            queries, hidden = self.rnn(embedded, self._split(hidden)[0])  # [batch, tgt_len, hid]
            context, attention = self.attention(queries, encoder_outputs, src_mask, **keys)
            # context: [batch, tgt_len, enc_dim], attention: [batch, tgt_len, src_len]
            combined = torch.tanh(self.combine(torch.cat([queries, context], dim=-1)))  # [batch, tgt_len, hid]
            return self.out(combined), hidden, attention  # logits [batch, tgt_len, vocab]
        outputs, weights = [], []
        for t in range(tgt_in.shape[1]):
            attentional, hidden, attention = self._one_step(
                embedded[:, t : t + 1], hidden, encoder_outputs, src_mask, keys
            )
            outputs.append(attentional)
            weights.append(attention)
        combined, attention = torch.cat(outputs, dim=1), torch.cat(weights, dim=1)  # [batch, tgt_len, hid / src_len]
        return self.out(combined), hidden, attention  # logits [batch, tgt_len, vocab]

    def precompute_keys(self, encoder_outputs: torch.Tensor) -> torch.Tensor | None:
        """The attention's key projection, to pass to ``step(..., attention_keys=)`` at every step (None if
        the attention module has no ``precompute``)."""
        precompute = getattr(self.attention, "precompute", None)
        return precompute(encoder_outputs) if callable(precompute) else None

    def step(
        self,
        prev_tokens: torch.Tensor,
        hidden,
        encoder_outputs: torch.Tensor,
        src_mask: torch.Tensor,
        attention_keys: torch.Tensor | None = None,
    ):
        # prev_tokens: [batch]
        prev_tokens = _validate.token_ids(prev_tokens, "prev_tokens", self.vocab_size, dims=1)
        logits, hidden, attention = self.forward(
            prev_tokens.unsqueeze(1), hidden, encoder_outputs, src_mask, attention_keys
        )
        return logits.squeeze(1), hidden, attention.squeeze(1)  # [batch, vocab], hidden, [batch, src_len]


# ---------------------------------------------------------------------------------------- wrappers


class _Seq2SeqBase(nn.Module):
    """The shared interface: ``encode``, ``decode_step``, ``teacher_forced`` and ``forward`` (lesson 03 §1)."""

    encoder: nn.Module
    decoder: nn.Module

    @property
    def vocab_size(self) -> int:
        return self.decoder.vocab_size

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        raise NotImplementedError

    def decode_step(self, prev_tokens: torch.Tensor, state: DecoderState):
        raise NotImplementedError

    def teacher_forced(self, state: DecoderState, tgt_in: torch.Tensor):
        """All steps at once from the gold inputs ``tgt_in`` (SOS first): ``(logits [B,T,V], attention or None)``."""
        raise NotImplementedError

    def _run(self, src, src_lengths, tgt, teacher_forcing_ratio):
        ratio = _validate.probability(
            teacher_forcing_ratio,
            "teacher_forcing_ratio",
            " (1.0 = always feed the gold token, 0.0 = always the model's own prediction)",
        )
        state = self.encode(src, src_lengths)
        tgt = _validate.target(self, src, tgt)
        if ratio == 1.0:  # fast path: the decoder reads the whole gold sequence in one call
            return self.teacher_forced(state, shift_right(tgt))
        batch, tgt_len = tgt.shape
        prev = torch.full((batch,), SOS, dtype=torch.long, device=tgt.device)  # [batch]
        all_logits, all_attention = [], []
        for t in range(tgt_len):
            logits, state, attention = self.decode_step(prev, state)  # [batch, vocab]
            all_logits.append(logits)
            all_attention.append(attention)
            if t + 1 < tgt_len:
                prediction = logits.argmax(dim=-1)  # [batch]
                if ratio == 0.0:
                    prev = prediction
                else:  # one coin per row and step, drawn on the CPU so a seed gives the same run on any device
                    use_gold = (torch.rand(batch) < ratio).to(tgt.device)  # [batch] bool
                    prev = torch.where(use_gold, tgt[:, t], prediction)  # [batch]
        logits = torch.stack(all_logits, dim=1)  # [batch, tgt_len, vocab]
        attention = None if all_attention[0] is None else torch.stack(all_attention, dim=1)  # [batch, tgt_len, src_len]
        return logits, attention


class Seq2Seq(_Seq2SeqBase):
    """GRU encoder + GRU decoder, no attention: the encoder's final state is the decoder's first state.

    Built in lesson 01 §3 (one example at a time) and lesson 02 §4 (batched); teacher forcing: lesson 03 §1.
    ``forward(src, src_lengths, tgt, teacher_forcing_ratio=1.0) -> logits [batch, tgt_len, vocab]``.
    At step 0 the decoder reads SOS; at step t it reads ``tgt[:, t-1]`` with probability
    ``teacher_forcing_ratio`` (per row and step, from ``torch``'s random generator) and its own argmax
    prediction otherwise. A ratio of 1.0 runs the whole target in one GRU call.
    """

    def __init__(self, encoder: EncoderGRU, decoder: DecoderGRU):
        super().__init__()
        _validate.gru_pair(encoder, decoder)
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        # src: [batch, src_len], src_lengths: [batch]
        _, hidden = self.encoder(src, src_lengths)  # [layers, batch, hid]
        return DecoderState(hidden=hidden)

    def decode_step(self, prev_tokens: torch.Tensor, state: DecoderState):
        # prev_tokens: [batch]
        _validate.instance(state, DecoderState, "state", " (what encode returns)")
        logits, hidden = self.decoder.step(prev_tokens, state.hidden)  # [batch, vocab], [layers, batch, hid]
        return logits, state._replace(hidden=hidden), None

    def teacher_forced(self, state, tgt_in):
        logits, _ = self.decoder(tgt_in, state.hidden)  # [batch, tgt_len, vocab]
        return logits, None

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt: torch.Tensor, teacher_forcing_ratio: float = 1.0
    ) -> torch.Tensor:
        # src: [batch, src_len], src_lengths: [batch], tgt: [batch, tgt_len] ending in EOS
        logits, _ = self._run(src, src_lengths, tgt, teacher_forcing_ratio)
        return logits  # [batch, tgt_len, vocab]


class AttentionSeq2Seq(_Seq2SeqBase):
    """An encoder + attention decoder (lesson 04 §2): an :class:`LSTMEncoder` (often bidirectional) with an LSTM
    decoder, or an :class:`EncoderGRU` with a decoder built with ``cell="gru"``.

    ``forward(src, src_lengths, tgt, teacher_forcing_ratio=1.0, return_attention=False)`` returns
    ``logits [batch, tgt_len, vocab]``, or ``(logits, attention [batch, tgt_len, src_len])`` when asked.
    Teacher forcing works as in :class:`Seq2Seq`.
    """

    def __init__(self, encoder: LSTMEncoder, decoder: AttentionDecoder):
        super().__init__()
        _validate.instance(decoder, AttentionDecoder, "decoder")
        _validate.attention_pair(encoder, decoder)
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        # src: [batch, src_len], src_lengths: [batch]
        encoder_outputs, hidden = self.encoder(src, src_lengths)  # [batch, src_len, enc_dim], (h, c) or h
        src_mask = lengths_to_mask(src_lengths.to(src.device), src.shape[1])  # [batch, src_len]
        return DecoderState(
            hidden=self.decoder.init_hidden(hidden),  # the bridge: the encoder's final state starts the decoder
            encoder_outputs=encoder_outputs,
            src_mask=src_mask,
            attention_keys=self.decoder.precompute_keys(encoder_outputs),
        )

    def decode_step(self, prev_tokens: torch.Tensor, state: DecoderState):
        # prev_tokens: [batch]
        _validate.instance(state, DecoderState, "state", " (what encode returns)")
        logits, hidden, attention = self.decoder.step(
            prev_tokens, state.hidden, state.encoder_outputs, state.src_mask, state.attention_keys
        )
        # logits [batch, vocab], hidden (h, c), attention [batch, src_len]
        return logits, state._replace(hidden=hidden), attention

    def teacher_forced(self, state, tgt_in):
        logits, _, attention = self.decoder(
            tgt_in, state.hidden, state.encoder_outputs, state.src_mask, state.attention_keys
        )
        return logits, attention  # [batch, tgt_len, vocab], [batch, tgt_len, src_len]

    def forward(
        self,
        src: torch.Tensor,
        src_lengths: torch.Tensor,
        tgt: torch.Tensor,
        teacher_forcing_ratio: float = 1.0,
        return_attention: bool = False,
    ):
        # src: [batch, src_len], src_lengths: [batch], tgt: [batch, tgt_len] ending in EOS
        _validate.boolean(return_attention, "return_attention")
        logits, attention = self._run(src, src_lengths, tgt, teacher_forcing_ratio)
        return (logits, attention) if return_attention else logits
