"""Encoders, decoders and the two seq2seq wrappers used by every lesson (attention itself: ``attention.py``).

Conventions (see ``data.py``): tensors are batch-first, ``PAD=0, SOS=1, EOS=2``; a target ``tgt`` ends in
EOS and holds no SOS, the model prepends SOS itself when it feeds the decoder.

Both wrappers, :class:`Seq2Seq` (GRU, no attention) and :class:`AttentionSeq2Seq` (LSTM + attention), share
one small interface that the decoding and training code rely on (named once, as the ``typing.Protocol``
:class:`seq2seq_helpers.decoding.Seq2SeqModel`)::

    state = model.encode(src, src_lengths)                          # a DecoderState
    logits, state, attention = model.decode_step(prev_tokens, state)  # one step for every row
    logits = model(src, src_lengths, tgt, teacher_forcing_ratio=1.0)  # [batch, tgt_len, vocab]

Every public entry point (``forward``, ``step``, ``encode``, ``decode_step``, the constructors) checks its
arguments in one line and raises a ``ValueError``/``TypeError`` that names the problem and the fix, instead of a
shape error from deep inside PyTorch; what follows the check is the computation, with its shapes. The generic
checks are ``_validate.py``'s; each model's own contract (its state's layout, which encoder fits which decoder)
is checked here, beside the model. The package's own loops (decoding, teacher forcing step by step) call the
unchecked private twins (``_forward``, ``_step``, ``_decode_step``) on tensors they produced themselves, so a
decoding step reads no tensor value back to the host for a check.
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
    _Attention,
    _lengths_to_mask,
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


# --------------------------------------------------------------------------------------- contracts
# Each model's own contract, checked at its public entries (forward, step, decode_step, the wrappers'
# constructors) with _validate's generic helpers. The package's loops call the unchecked private twins
# (_forward, _step, _decode_step) on tensors they produced themselves.


def _check_hidden(
    hidden, num_layers: int, batch: int, hid_dim: int, lstm: bool, where: str, device: torch.device
) -> None:
    """An RNN decoder's state: ``h`` (GRU) or ``(h, c)`` (LSTM), float tensors ``[num_layers, batch, hid_dim]``."""
    expected = [num_layers, batch, hid_dim]
    if lstm and not (isinstance(hidden, (tuple, list)) and len(hidden) == 2):
        raise TypeError(
            f"{where}: an LSTM's hidden state is a pair (h, c) of tensors {expected}, got {type(hidden).__name__}"
        )
    if not lstm and not isinstance(hidden, torch.Tensor):
        raise TypeError(f"{where}: a GRU's hidden state is one tensor {expected}, got {type(hidden).__name__}")
    for part in hidden if lstm else (hidden,):
        if not isinstance(part, torch.Tensor):
            raise TypeError(f"{where}: hidden state parts must be tensors, got {type(part).__name__}")
        if not part.is_floating_point():
            raise TypeError(f"{where}: the hidden state must be a float tensor, got dtype {part.dtype}")
        if part.device != device:
            raise ValueError(
                f"{where}: the hidden state is on {part.device} but the decoder input is on {device}; "
                "move both to the model's device"
            )
        if list(part.shape) != expected:
            raise ValueError(
                f"{where}: hidden state has shape {list(part.shape)} but [num_layers, batch, hid_dim] = {expected} "
                "was expected; do the encoder and decoder have the same hid_dim and num_layers, and is the "
                "batch the same?"
            )


def _check_decoder_input(decoder, tokens, hidden, lstm: bool, name: str = "tgt_in", dims: int = 2) -> torch.Tensor:
    """A decoder's ``forward(tgt_in [batch, len], hidden, ...)`` or ``step(prev_tokens [batch], hidden, ...)``
    (``name="prev_tokens", dims=1``); returns the tokens as long."""
    tokens = _validate.token_ids(tokens, name, decoder.vocab_size, dims=dims)
    _validate.same_device(decoder, tokens, name)
    _check_hidden(
        hidden, decoder.num_layers, tokens.shape[0], decoder.hid_dim, lstm, type(decoder).__name__, tokens.device
    )
    return tokens


def _check_attention_decoder_input(decoder, tokens, hidden, name: str = "tgt_in", dims: int = 2) -> torch.Tensor:
    """``AttentionDecoder``'s tokens and state: the state's form follows the decoder's cell and input feeding
    (``h``, ``(h, c)``, ``(h, feed)`` or ``(h, c, feed)``); returns the tokens as long."""
    lstm = decoder.cell == "lstm"
    if not decoder.input_feeding:
        return _check_decoder_input(decoder, tokens, hidden, lstm, name, dims)
    tokens = _validate.token_ids(tokens, name, decoder.vocab_size, dims=dims)
    _validate.same_device(decoder, tokens, name)
    where, form = type(decoder).__name__, "(h, c, feed)" if lstm else "(h, feed)"
    if not (isinstance(hidden, (tuple, list)) and len(hidden) == (3 if lstm else 2)):
        raise TypeError(
            f"{where}: with input_feeding=True the state is {form}, the RNN's state and the previous attentional "
            f"vector feed [1, batch, hid_dim]; build the first one with decoder.init_hidden(encoder_hidden), got "
            f"{_validate._describe(hidden)}"
        )
    *parts, feed = hidden
    batch = tokens.shape[0]
    _check_hidden(
        tuple(parts) if lstm else parts[0], decoder.num_layers, batch, decoder.hid_dim, lstm, where, tokens.device
    )
    _check_hidden(feed, 1, batch, decoder.hid_dim, False, f"{where} (the input feed)", tokens.device)
    return tokens


def _check_encoder_outputs(decoder, outputs, src_mask, attention_keys, batch: int) -> None:
    """``AttentionDecoder``'s keys: ``encoder_outputs [batch, src_len, enc_dim]`` of the weights' dtype,
    ``src_mask [batch, src_len]`` bool with a real token per row, ``attention_keys`` None or
    ``precompute_keys(encoder_outputs)``, all on the weights' device."""
    name = type(decoder).__name__
    _validate.float_tensor(
        outputs, f"{name}: encoder_outputs", [batch, None, decoder.enc_dim], "[batch, src_len, enc_dim]"
    )
    dtype, device = _validate.weights_of(decoder)
    named = {"encoder_outputs": outputs}
    if attention_keys is not None:
        named["attention_keys"] = attention_keys
    _validate.float_tensors(name, named, dtype)
    _validate.src_mask_(src_mask, outputs.shape[0], outputs.shape[1], name)
    projected_dim = getattr(decoder.attention, "projected_dim", None)
    if attention_keys is not None and (
        attention_keys.dim() != 3
        or list(attention_keys.shape[:2]) != list(outputs.shape[:2])
        or (projected_dim is not None and attention_keys.shape[2] != projected_dim)
    ):
        raise ValueError(
            f"{name}: attention_keys must be decoder.precompute_keys(encoder_outputs), [batch, src_len, "
            f"{projected_dim or '*'}] for encoder_outputs {list(outputs.shape)}, got {list(attention_keys.shape)}"
        )
    _validate.one_device(name, {**named, "src_mask": src_mask}, device)


def _check_target(model, src: torch.Tensor, tgt) -> torch.Tensor:
    """``forward``'s ``tgt``: target ids ending in EOS, without the SOS the model prepends itself."""
    tgt = _validate.token_ids(tgt, "tgt", model.vocab_size)
    if bool((tgt[:, 0] == SOS).all()):
        raise ValueError(
            "every row of tgt starts with SOS, but tgt holds the target tokens followed by EOS and no "
            "SOS (as collate_pairs makes it): the model prepends SOS itself. If you prepended it, pass "
            "tgt[:, 1:]; to score a decoder's own output (which may start with SOS), use "
            "seq2seq_helpers.decoding.sequence_log_probs"
        )
    if tgt.shape[0] != src.shape[0]:
        raise ValueError(f"tgt has {tgt.shape[0]} sequences but src has {src.shape[0]}; they must pair up")
    _validate.same_device(model, tgt, "tgt")
    return tgt


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
        return self._select(_validate.row_index(index, self.batch_size, keep_size=False))

    def _select(self, index: torch.Tensor) -> DecoderState:
        # select without the check, for decoding loops that built index themselves
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
        return self._reorder(_validate.row_index(index, self.batch_size, keep_size=True))

    def _reorder(self, index: torch.Tensor) -> DecoderState:
        # reorder without the check, for beam search's own index
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
# kernel (oneDNN), but over a packed batch with a slower step-by-step loop: the packed encoder took up to about
# half of a BiLSTM + attention model's training step (with Luong's one-call decoder). The fast path keeps the padded batch and makes every padding step a
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
        tgt_in = _check_decoder_input(self, tgt_in, hidden, lstm=False)
        return self._forward(tgt_in, hidden)

    def _forward(self, tgt_in, hidden):
        outputs, hidden = self.rnn(self.embedding(tgt_in), hidden)  # [batch, tgt_len, hid], [layers, batch, hid]
        return self.out(outputs), hidden  # logits [batch, tgt_len, vocab]

    def step(self, prev_tokens: torch.Tensor, hidden: torch.Tensor):
        # prev_tokens: [batch], hidden: [layers, batch, hid]
        prev_tokens = _check_decoder_input(self, prev_tokens, hidden, lstm=False, name="prev_tokens", dims=1)
        return self._step(prev_tokens, hidden)

    def _step(self, prev_tokens, hidden):
        logits, hidden = self._forward(prev_tokens.unsqueeze(1), hidden)  # [batch, 1, vocab]
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

    def _attention(self):
        """The attention to call on arguments the decoder checked: an attention module of ``attention.py`` (its
        ``forward`` not replaced) gives its unchecked ``_attend``; any other module is called as it is."""
        attention = self.attention
        if isinstance(attention, _Attention) and type(attention).forward is _Attention.forward:
            return attention._attend
        return attention

    def _one_step(self, embedded, hidden, encoder_outputs, src_mask, keys, attend):
        # embedded: [batch, 1, emb]; returns attentional vector [batch, 1, hid], hidden, attention [batch, 1, src_len]
        rnn_state, feed = self._split(hidden)
        if self.layout == "bahdanau":
            previous = (rnn_state[0] if self.cell == "lstm" else rnn_state)[-1].unsqueeze(1)  # [batch, 1, hid]
            context, attention = attend(previous, encoder_outputs, src_mask, **keys)  # [batch, 1, enc_dim]
            output, rnn_state = self.rnn(torch.cat([embedded, context], dim=-1), rnn_state)  # [batch, 1, hid]
        else:
            rnn_input = embedded if feed is None else torch.cat([embedded, feed.transpose(0, 1)], dim=-1)
            output, rnn_state = self.rnn(rnn_input, rnn_state)  # [batch, 1, hid]: the new state is the query
            context, attention = attend(output, encoder_outputs, src_mask, **keys)  # [batch, 1, enc_dim]
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
        tgt_in = self._check(tgt_in, hidden, encoder_outputs, src_mask, attention_keys)
        return self._forward(tgt_in, hidden, encoder_outputs, src_mask, attention_keys)

    def _check(self, tokens, hidden, encoder_outputs, src_mask, attention_keys, name="tgt_in", dims=2):
        tokens = _check_attention_decoder_input(self, tokens, hidden, name, dims)
        _check_encoder_outputs(self, encoder_outputs, src_mask, attention_keys, tokens.shape[0])
        return tokens

    def _forward(self, tgt_in, hidden, encoder_outputs, src_mask, attention_keys=None):
        if attention_keys is None and tgt_in.shape[1] > 1:
            attention_keys = self.precompute_keys(encoder_outputs)  # once, not at every step
        keys = {} if attention_keys is None else {"projected_keys": attention_keys}
        attend = self._attention()
        embedded = self.embedding(tgt_in)  # [batch, tgt_len, emb]
        if self.one_call:
            queries, hidden = self.rnn(embedded, self._split(hidden)[0])  # [batch, tgt_len, hid]
            context, attention = attend(queries, encoder_outputs, src_mask, **keys)
            # context: [batch, tgt_len, enc_dim], attention: [batch, tgt_len, src_len]
            combined = torch.tanh(self.combine(torch.cat([queries, context], dim=-1)))  # [batch, tgt_len, hid]
            return self.out(combined), hidden, attention  # logits [batch, tgt_len, vocab]
        outputs, weights = [], []
        for t in range(tgt_in.shape[1]):
            attentional, hidden, attention = self._one_step(
                embedded[:, t : t + 1], hidden, encoder_outputs, src_mask, keys, attend
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
        prev_tokens = self._check(prev_tokens, hidden, encoder_outputs, src_mask, attention_keys, "prev_tokens", 1)
        return self._step(prev_tokens, hidden, encoder_outputs, src_mask, attention_keys)

    def _step(self, prev_tokens, hidden, encoder_outputs, src_mask, attention_keys=None):
        logits, hidden, attention = self._forward(
            prev_tokens.unsqueeze(1), hidden, encoder_outputs, src_mask, attention_keys
        )
        return logits.squeeze(1), hidden, attention.squeeze(1)  # [batch, vocab], hidden, [batch, src_len]


# ---------------------------------------------------------------------------------------- wrappers


def _unchecked_decode_step(model):
    """``model.decode_step`` without its argument checks, for the loops that feed it tokens they chose themselves
    and the states it returned: a model of this package whose ``decode_step`` is the shared one (check, then
    ``_decode_step``), replaced neither on its class nor on the instance, gives its ``_decode_step``; any other
    model (a learner's, a wrapped one) its own ``decode_step``."""
    if (
        isinstance(model, _Seq2SeqBase)
        and type(model).decode_step is _Seq2SeqBase.decode_step
        and "decode_step" not in vars(model)
    ):
        return model._decode_step
    return model.decode_step


class _Seq2SeqBase(nn.Module):
    """The shared interface: ``encode``, ``decode_step``, ``teacher_forced`` and ``forward`` (lesson 03 §1).

    A subclass gives ``encode`` (checked: it reads the learner's batch), ``_check_step`` and ``_decode_step``
    (``decode_step`` is the two in a row), and ``teacher_forced`` (with an unchecked ``_teacher_forced`` when
    it checks). ``forward`` is the same for every model: teacher forcing in one call or step by step.
    """

    encoder: nn.Module
    decoder: nn.Module

    @property
    def vocab_size(self) -> int:
        return self.decoder.vocab_size

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor):
        raise NotImplementedError

    def decode_step(self, prev_tokens: torch.Tensor, state):
        """One step for every row: ``(logits [batch, vocab], next state, attention [batch, src_len] or None)``.
        Checks ``prev_tokens`` and ``state``, then runs :meth:`_decode_step`."""
        prev_tokens = self._check_step(prev_tokens, state)
        return self._decode_step(prev_tokens, state)

    def _check_step(self, prev_tokens, state) -> torch.Tensor:
        """``decode_step``'s arguments; returns ``prev_tokens`` as long."""
        raise NotImplementedError

    def _decode_step(self, prev_tokens, state):
        """``decode_step`` without its checks."""
        raise NotImplementedError

    def teacher_forced(self, state, tgt_in: torch.Tensor):
        """All steps at once from the gold inputs ``tgt_in`` (SOS first): ``(logits [B,T,V], attention or None)``."""
        raise NotImplementedError

    def _teacher_forced(self, state, tgt_in):
        """``teacher_forced`` without its checks (the same call where it has none)."""
        return self.teacher_forced(state, tgt_in)

    def forward(
        self,
        src: torch.Tensor,
        src_lengths: torch.Tensor,
        tgt: torch.Tensor,
        teacher_forcing_ratio: float = 1.0,
        return_attention: bool = False,
    ):
        """``logits [batch, tgt_len, vocab]`` of a teacher-forced pass over ``tgt`` (ending in EOS, no SOS), or
        ``(logits, attention [batch, tgt_len, src_len] or None)`` with ``return_attention=True``."""
        # src: [batch, src_len], src_lengths: [batch], tgt: [batch, tgt_len] ending in EOS
        _validate.boolean(return_attention, "return_attention")
        logits, attention = self._run(src, src_lengths, tgt, teacher_forcing_ratio)
        return (logits, attention) if return_attention else logits

    def _run(self, src, src_lengths, tgt, teacher_forcing_ratio):
        ratio = _validate.probability(
            teacher_forcing_ratio,
            "teacher_forcing_ratio",
            " (1.0 = always feed the gold token, 0.0 = always the model's own prediction)",
        )
        state = self.encode(src, src_lengths)
        tgt = _check_target(self, src, tgt)
        if ratio == 1.0:  # fast path: the decoder reads the whole gold sequence in one call
            return self._teacher_forced(state, shift_right(tgt))
        batch, tgt_len = tgt.shape
        decode_step = _unchecked_decode_step(self)  # the tokens fed back are the gold ones or the model's argmax
        prev = torch.full((batch,), SOS, dtype=torch.long, device=tgt.device)  # [batch]
        all_logits, all_attention = [], []
        for t in range(tgt_len):
            logits, state, attention = decode_step(prev, state)  # [batch, vocab]
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


def _check_gru_pair(encoder, decoder) -> None:
    """``Seq2Seq(encoder, decoder)``: the encoder's final state must fit the decoder's first state."""
    for name, module in (("encoder", encoder), ("decoder", decoder)):
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"{name} must be an nn.Module, got {_validate._describe(module)}")
    enc_rnn, dec_rnn = getattr(encoder, "rnn", None), getattr(decoder, "rnn", None)
    if not (
        isinstance(enc_rnn, torch.nn.RNNBase)
        and isinstance(dec_rnn, torch.nn.RNNBase)
        and callable(getattr(decoder, "step", None))
    ):
        raise TypeError(
            f"Seq2Seq needs an encoder and a decoder like EncoderGRU and DecoderGRU (each with an .rnn, "
            f"the decoder with .step), got {type(encoder).__name__} and {type(decoder).__name__}"
        )
    if enc_rnn.bidirectional:
        raise ValueError(
            "Seq2Seq needs a one-directional encoder: a bidirectional final state does not fit the "
            "decoder; use AttentionSeq2Seq with an LSTMEncoder"
        )
    if (enc_rnn.hidden_size, enc_rnn.num_layers) != (dec_rnn.hidden_size, dec_rnn.num_layers):
        raise ValueError(
            f"the encoder's final state [{enc_rnn.num_layers}, batch, {enc_rnn.hidden_size}] cannot start the "
            f"decoder, which needs [{dec_rnn.num_layers}, batch, {dec_rnn.hidden_size}]; give both the same "
            "hid_dim and num_layers"
        )
    if type(enc_rnn) is not type(dec_rnn):
        raise ValueError(
            f"encoder uses {type(enc_rnn).__name__} but decoder {type(dec_rnn).__name__}; "
            "their states are not compatible"
        )


class Seq2Seq(_Seq2SeqBase):
    """GRU encoder + GRU decoder, no attention: the encoder's final state is the decoder's first state.

    Built in lesson 01 §3 (one example at a time) and lesson 02 §4 (batched); teacher forcing: lesson 03 §1.
    ``forward(src, src_lengths, tgt, teacher_forcing_ratio=1.0) -> logits [batch, tgt_len, vocab]``.
    At step 0 the decoder reads SOS; at step t it reads ``tgt[:, t-1]`` with probability
    ``teacher_forcing_ratio`` (per row and step, from ``torch``'s random generator) and its own argmax
    prediction otherwise. A ratio of 1.0 runs the whole target in one GRU call. (``return_attention=True``
    returns ``(logits, None)``: this model has no attention.)
    """

    def __init__(self, encoder: EncoderGRU, decoder: DecoderGRU):
        super().__init__()
        _check_gru_pair(encoder, decoder)
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        # src: [batch, src_len], src_lengths: [batch]
        _, hidden = self.encoder(src, src_lengths)  # [layers, batch, hid]
        return DecoderState(hidden=hidden)

    def _check_step(self, prev_tokens, state):
        _validate.instance(state, DecoderState, "state", " (what encode returns)")
        if isinstance(self.decoder, DecoderGRU):
            return _check_decoder_input(self.decoder, prev_tokens, state.hidden, False, "prev_tokens", dims=1)
        return prev_tokens  # another decoder's step checks its own arguments

    def _decode_step(self, prev_tokens, state):
        # prev_tokens: [batch]
        step = self.decoder._step if isinstance(self.decoder, DecoderGRU) else self.decoder.step
        logits, hidden = step(prev_tokens, state.hidden)  # [batch, vocab], [layers, batch, hid]
        return logits, state._replace(hidden=hidden), None

    def teacher_forced(self, state, tgt_in):
        logits, _ = self.decoder(tgt_in, state.hidden)  # [batch, tgt_len, vocab]
        return logits, None

    def _teacher_forced(self, state, tgt_in):
        forward = self.decoder._forward if isinstance(self.decoder, DecoderGRU) else self.decoder
        logits, _ = forward(tgt_in, state.hidden)  # [batch, tgt_len, vocab]
        return logits, None


def _check_attention_pair(encoder, decoder) -> None:
    """``AttentionSeq2Seq(encoder, decoder)``: cell, output width and final state must fit the decoder."""
    rnn = getattr(encoder, "rnn", None) if isinstance(encoder, torch.nn.Module) else None
    if not isinstance(rnn, (torch.nn.LSTM, torch.nn.GRU)):
        raise TypeError(
            f"encoder must be an LSTM or GRU encoder such as LSTMEncoder or EncoderGRU, got {type(encoder).__name__}"
        )
    if type(rnn) is not type(decoder.rnn):
        cell = "lstm" if isinstance(rnn, torch.nn.LSTM) else "gru"
        raise ValueError(
            f"the encoder is a {type(rnn).__name__} but the decoder's cell is {decoder.cell!r}; their states do not "
            f"fit: build the decoder with cell={cell!r}"
        )
    enc_dim, dec_hid_dim = getattr(encoder, "enc_dim", None), getattr(encoder, "dec_hid_dim", None)
    if enc_dim != decoder.enc_dim:
        raise ValueError(
            f"the encoder's outputs are {enc_dim} wide but the decoder was built with "
            f"enc_dim={decoder.enc_dim}; pass enc_dim=encoder.enc_dim"
        )
    if dec_hid_dim != decoder.hid_dim or encoder.num_layers != decoder.num_layers:
        raise ValueError(
            f"the encoder's final state [{encoder.num_layers}, batch, {dec_hid_dim}] cannot start the decoder, "
            f"which needs [{decoder.num_layers}, batch, {decoder.hid_dim}]; build the decoder with "
            "hid_dim=encoder.dec_hid_dim and the same num_layers"
        )


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
        _check_attention_pair(encoder, decoder)
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        # src: [batch, src_len], src_lengths: [batch] (the encoder checks both)
        encoder_outputs, hidden = self.encoder(src, src_lengths)  # [batch, src_len, enc_dim], (h, c) or h
        src_mask = _lengths_to_mask(src_lengths.to(src.device), src.shape[1])  # [batch, src_len]
        return DecoderState(
            hidden=self.decoder.init_hidden(hidden),  # the bridge: the encoder's final state starts the decoder
            encoder_outputs=encoder_outputs,
            src_mask=src_mask,
            attention_keys=self.decoder.precompute_keys(encoder_outputs),
        )

    def _check_step(self, prev_tokens, state):
        _validate.instance(state, DecoderState, "state", " (what encode returns)")
        return self.decoder._check(
            prev_tokens, state.hidden, state.encoder_outputs, state.src_mask, state.attention_keys, "prev_tokens", 1
        )

    def _decode_step(self, prev_tokens, state):
        # prev_tokens: [batch]
        logits, hidden, attention = self.decoder._step(
            prev_tokens, state.hidden, state.encoder_outputs, state.src_mask, state.attention_keys
        )
        # logits [batch, vocab], hidden (h, c), attention [batch, src_len]
        return logits, state._replace(hidden=hidden), attention

    def teacher_forced(self, state, tgt_in):
        logits, _, attention = self.decoder(
            tgt_in, state.hidden, state.encoder_outputs, state.src_mask, state.attention_keys
        )
        return logits, attention  # [batch, tgt_len, vocab], [batch, tgt_len, src_len]

    def _teacher_forced(self, state, tgt_in):
        logits, _, attention = self.decoder._forward(
            tgt_in, state.hidden, state.encoder_outputs, state.src_mask, state.attention_keys
        )
        return logits, attention  # [batch, tgt_len, vocab], [batch, tgt_len, src_len]
