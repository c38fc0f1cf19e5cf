"""Encoders, decoders, attention and the two seq2seq wrappers used by every lesson.

Conventions (see ``data.py``): tensors are batch-first, ``PAD=0, SOS=1, EOS=2``; a target ``tgt`` ends in
EOS and holds no SOS, the model prepends SOS itself when it feeds the decoder.

Both wrappers, :class:`Seq2Seq` (GRU, no attention) and :class:`AttentionSeq2Seq` (LSTM + attention), share
one small interface that the decoding and training code rely on::

    state = model.encode(src, src_lengths)                          # a DecoderState
    logits, state, attention = model.decode_step(prev_tokens, state)  # one step for every row
    logits = model(src, src_lengths, tgt, teacher_forcing_ratio=1.0)  # [batch, tgt_len, vocab]

Every public ``forward`` checks its arguments and raises a ``ValueError``/``TypeError`` that names the
problem and the fix, instead of a shape error from deep inside PyTorch.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple, Union

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .data import EOS, NUM_SPECIAL, PAD, SOS, check_tokens

__all__ = [
    "PAD", "SOS", "EOS",
    "lengths_to_mask", "shift_right", "DecoderState",
    "EncoderGRU", "DecoderGRU", "LSTMEncoder",
    "AdditiveAttention", "DotAttention", "GeneralAttention", "AttentionDecoder",
    "Seq2Seq", "AttentionSeq2Seq",
]

Hidden = Union[torch.Tensor, tuple]  # a GRU's h, or an LSTM's (h, c); batch is on dim 1


# ------------------------------------------------------------------------------------------ checks


def _check_int(name: str, value, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _check_dropout(dropout) -> None:
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise TypeError(f"dropout must be a number in [0, 1), got {type(dropout).__name__}: {dropout!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")


def _check_vocab_size(vocab_size) -> None:
    _check_int("vocab_size", vocab_size, minimum=NUM_SPECIAL + 1)


def _model_device(module: nn.Module) -> torch.device | None:
    for p in module.parameters():
        return p.device
    return None


def _check_device(module: nn.Module, tensor: torch.Tensor, name: str) -> None:
    device = _model_device(module)
    if device is not None and tensor.device != device:
        raise ValueError(
            f"{name} is on {tensor.device} but the model is on {device}; move the data to the model's device "
            f"with {name}.to(device) (or the model with model.to(device))"
        )


def _check_lengths_dtype(lengths, name: str) -> None:
    if isinstance(lengths, torch.Tensor) and (lengths.dtype.is_floating_point or lengths.dtype == torch.bool):
        raise TypeError(f"{name} must hold integer lengths (torch.long), got dtype {lengths.dtype}")


def _check_step_tokens(prev_tokens, vocab_size: int) -> None:
    if not isinstance(prev_tokens, torch.Tensor):
        raise TypeError(f"prev_tokens must be a torch.Tensor of token ids, got {type(prev_tokens).__name__}")
    if prev_tokens.dim() != 1:
        raise ValueError(f"prev_tokens must have shape [batch] (one token per sequence), got "
                         f"{list(prev_tokens.shape)}; for a whole sequence call forward instead of step")
    check_tokens(prev_tokens.unsqueeze(1), None, vocab_size, name="prev_tokens")


def _check_hidden(hidden, num_layers: int, batch: int, hid_dim: int, lstm: bool, where: str,
                  device: torch.device) -> None:
    expected = [num_layers, batch, hid_dim]
    parts = hidden
    if lstm:
        if not (isinstance(hidden, (tuple, list)) and len(hidden) == 2):
            raise TypeError(f"{where}: an LSTM's hidden state is a pair (h, c) of tensors {expected}, "
                            f"got {type(hidden).__name__}")
    else:
        if not isinstance(hidden, torch.Tensor):
            raise TypeError(f"{where}: a GRU's hidden state is one tensor {expected}, got {type(hidden).__name__}")
        parts = (hidden,)
    for part in parts:
        if not isinstance(part, torch.Tensor):
            raise TypeError(f"{where}: hidden state parts must be tensors, got {type(part).__name__}")
        if part.device != device:
            raise ValueError(f"{where}: the hidden state is on {part.device} but the decoder input is on {device}; "
                             "move both to the model's device")
        if list(part.shape) != expected:
            raise ValueError(
                f"{where}: hidden state has shape {list(part.shape)} but [num_layers, batch, hid_dim] = {expected} "
                "was expected; do the encoder and decoder have the same hid_dim and num_layers, and is the "
                "batch the same?"
            )


def _check_teacher_forcing_ratio(ratio) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
        raise TypeError(f"teacher_forcing_ratio must be a number in [0, 1], got {type(ratio).__name__}: {ratio!r}")
    if not 0.0 <= float(ratio) <= 1.0:
        raise ValueError(f"teacher_forcing_ratio must be in [0, 1] (1.0 = always feed the gold token, "
                         f"0.0 = always feed the model's own prediction), got {ratio}")
    return float(ratio)


# ----------------------------------------------------------------------------------------- helpers


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``[batch, max_len]`` bool mask, True on real tokens: ``mask[b, i] = i < lengths[b]``.

    >>> lengths_to_mask(torch.tensor([3, 1]), 4)
    tensor([[ True,  True,  True, False],
            [ True, False, False, False]])
    """
    if not isinstance(lengths, torch.Tensor):
        raise TypeError(f"lengths must be a torch.Tensor, got {type(lengths).__name__}")
    _check_lengths_dtype(lengths, "lengths")
    if lengths.dim() != 1:
        raise ValueError(f"lengths must have shape [batch], got {list(lengths.shape)}")
    _check_int("max_len", max_len)
    if lengths.numel() and int(lengths.max()) > max_len:
        raise ValueError(f"lengths holds {int(lengths.max())}, longer than max_len={max_len}")
    positions = torch.arange(max_len, device=lengths.device)  # [max_len]
    return positions.unsqueeze(0) < lengths.unsqueeze(1)  # [batch, max_len]


def shift_right(tgt: torch.Tensor, start: int = SOS) -> torch.Tensor:
    """Teacher-forcing decoder input: SOS followed by ``tgt`` without its last column.

    ``tgt = [[a, b, EOS]]`` gives ``[[SOS, a, b]]``: at step t the decoder sees the gold token t-1.
    """
    starts = torch.full((tgt.shape[0], 1), start, dtype=tgt.dtype, device=tgt.device)  # [batch, 1]
    return torch.cat([starts, tgt[:, :-1]], dim=1)  # [batch, tgt_len]


def _select_hidden(hidden: Hidden, index: torch.Tensor) -> Hidden:
    if isinstance(hidden, torch.Tensor):
        return hidden.index_select(1, index.to(hidden.device))  # batch is dim 1 for RNN states
    return tuple(_select_hidden(part, index) for part in hidden)


class DecoderState(NamedTuple):
    """What the decoder needs between steps.

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

    def select(self, index: torch.Tensor) -> "DecoderState":
        """The state of rows ``index`` (a 1-D LongTensor) in that order; rows may repeat.

        Beam search uses it to copy a sequence's state into its ``beam_size`` hypotheses and to reorder
        hypotheses after each step. RNN states keep batch on dim 1, the other tensors on dim 0.
        """
        if not isinstance(index, torch.Tensor) or index.dim() != 1 or index.dtype != torch.long:
            raise TypeError("index must be a 1-D torch.long tensor of row numbers, e.g. torch.tensor([0, 0, 1])")
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= self.batch_size):
            raise ValueError(f"index holds rows outside 0..{self.batch_size - 1}")
        rows = [None if t is None else t.index_select(0, index.to(t.device))
                for t in (self.encoder_outputs, self.src_mask, self.attention_keys)]
        return DecoderState(_select_hidden(self.hidden, index), *rows)

    def reorder(self, index: torch.Tensor) -> "DecoderState":
        """``select(index)`` for an ``index`` that only moves rows among rows of the SAME source (the
        hypotheses of one input in beam search): those rows share the encoder outputs, mask and attention
        keys, so only the recurrent state is reordered. Same result as ``select``, without copying the rest.
        """
        if not isinstance(index, torch.Tensor) or index.dim() != 1 or index.dtype != torch.long:
            raise TypeError("index must be a 1-D torch.long tensor of row numbers, e.g. torch.tensor([1, 0, 2])")
        if index.numel() != self.batch_size:
            raise ValueError(f"reorder keeps the number of rows ({self.batch_size}), got an index of {index.numel()}; "
                             "use select to copy rows into a new batch")
        return self._replace(hidden=_select_hidden(self.hidden, index))


# ---------------------------------------------------------------------------------------- encoders


def _encode_packed(module: nn.Module, src: torch.Tensor, src_lengths: torch.Tensor, vocab_size: int):
    """Shared body of the encoders: check, embed, pack, run the RNN, unpack to the input width."""
    check_tokens(src, src_lengths, vocab_size, name="src")
    _check_lengths_dtype(src_lengths, "src_lengths")
    _check_device(module, src, "src")
    src_len = src.shape[1]
    embedded = F.dropout(module.embedding(src), module.dropout, module.training)  # [batch, src_len, emb]
    packed = pack_padded_sequence(embedded, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
    outputs, hidden = module.rnn(packed)  # hidden: [layers * dirs, batch, hid] (or a pair for an LSTM)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=src_len)  # [batch, src_len, hid*dirs]
    return outputs, hidden  # padding positions of outputs are exactly 0


class EncoderGRU(nn.Module):
    """GRU encoder. ``forward(src [B,S], src_lengths [B]) -> (encoder_outputs [B,S,H], hidden [layers,B,H])``.

    Sequences are packed, so ``hidden`` is each sequence's state after its own last real token, never
    after padding. ``dropout`` is applied to the embeddings and between stacked layers (training only).
    """

    def __init__(self, vocab_size: int, emb_dim: int, hid_dim: int, num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        _check_vocab_size(vocab_size)
        for name, value in (("emb_dim", emb_dim), ("hid_dim", hid_dim), ("num_layers", num_layers)):
            _check_int(name, value)
        _check_dropout(dropout)
        self.vocab_size, self.hid_dim, self.num_layers, self.dropout = vocab_size, hid_dim, num_layers, float(dropout)
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.GRU(emb_dim, hid_dim, num_layers, batch_first=True,
                          dropout=self.dropout if num_layers > 1 else 0.0)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor):
        # src: [batch, src_len], src_lengths: [batch]
        encoder_outputs, hidden = _encode_packed(self, src, src_lengths, self.vocab_size)
        return encoder_outputs, hidden  # [batch, src_len, hid], [layers, batch, hid]


class LSTMEncoder(nn.Module):
    """(Bi)LSTM encoder for attention models.

    ``forward(src [B,S], src_lengths [B]) -> (encoder_outputs [B,S,enc_dim], (h, c))`` with
    ``enc_dim = hid_dim * (2 if bidirectional else 1)``.

    The decoder-ready state ``(h, c)`` has shape ``[num_layers, B, enc_dim]``: for a bidirectional encoder
    the forward and backward final states of each layer are *concatenated* (no extra parameters), so the
    decoder's ``hid_dim`` must equal ``enc_dim`` (available as ``encoder.dec_hid_dim``). The backward
    direction's final state is its state after reading the sequence's first token, and with packing the
    forward direction stops at the true last token.
    """

    def __init__(self, vocab_size: int, emb_dim: int, hid_dim: int, num_layers: int = 1,
                 bidirectional: bool = True, dropout: float = 0.0):
        super().__init__()
        _check_vocab_size(vocab_size)
        for name, value in (("emb_dim", emb_dim), ("hid_dim", hid_dim), ("num_layers", num_layers)):
            _check_int(name, value)
        _check_dropout(dropout)
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be True or False, got {bidirectional!r}")
        self.vocab_size, self.hid_dim, self.num_layers, self.dropout = vocab_size, hid_dim, num_layers, float(dropout)
        self.bidirectional = bidirectional
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.LSTM(emb_dim, hid_dim, num_layers, batch_first=True, bidirectional=bidirectional,
                           dropout=self.dropout if num_layers > 1 else 0.0)

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
        encoder_outputs, (h, c) = _encode_packed(self, src, src_lengths, self.vocab_size)
        # encoder_outputs: [batch, src_len, enc_dim]; h, c: [layers * dirs, batch, hid]
        h, c = self._merge_directions(h), self._merge_directions(c)  # [layers, batch, enc_dim] each
        return encoder_outputs, (h, c)


# ---------------------------------------------------------------------------------------- decoders


class DecoderGRU(nn.Module):
    """GRU decoder without attention.

    * ``forward(tgt_in [B,T], hidden [layers,B,H]) -> (logits [B,T,V], hidden)``: the whole
      teacher-forced input sequence in one GRU call (fast);
    * ``step(prev_tokens [B], hidden) -> (logits [B,V], hidden)``: one token per row, for decoding.
    """

    def __init__(self, vocab_size: int, emb_dim: int, hid_dim: int, num_layers: int = 1):
        super().__init__()
        _check_vocab_size(vocab_size)
        for name, value in (("emb_dim", emb_dim), ("hid_dim", hid_dim), ("num_layers", num_layers)):
            _check_int(name, value)
        self.vocab_size, self.hid_dim, self.num_layers = vocab_size, hid_dim, num_layers
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.GRU(emb_dim, hid_dim, num_layers, batch_first=True)
        self.out = nn.Linear(hid_dim, vocab_size)

    def forward(self, tgt_in: torch.Tensor, hidden: torch.Tensor):
        # tgt_in: [batch, tgt_len] (SOS, y1, y2, ...), hidden: [layers, batch, hid]
        check_tokens(tgt_in, None, self.vocab_size, name="tgt_in")
        _check_device(self, tgt_in, "tgt_in")
        _check_hidden(hidden, self.num_layers, tgt_in.shape[0], self.hid_dim, lstm=False, where="DecoderGRU",
                      device=tgt_in.device)
        embedded = self.embedding(tgt_in)  # [batch, tgt_len, emb]
        outputs, hidden = self.rnn(embedded, hidden)  # [batch, tgt_len, hid], [layers, batch, hid]
        logits = self.out(outputs)  # [batch, tgt_len, vocab]
        return logits, hidden

    def step(self, prev_tokens: torch.Tensor, hidden: torch.Tensor):
        # prev_tokens: [batch], hidden: [layers, batch, hid]
        _check_step_tokens(prev_tokens, self.vocab_size)
        logits, hidden = self.forward(prev_tokens.unsqueeze(1), hidden)  # [batch, 1, vocab]
        return logits.squeeze(1), hidden  # [batch, vocab], [layers, batch, hid]


# --------------------------------------------------------------------------------------- attention


class _Attention(nn.Module):
    """Shared part of the attention modules: checks, masking, softmax and the weighted sum.

    A subclass implements ``precompute(keys [B,S,Hk]) -> projected [B,S,P]`` (the part of the score that
    depends on the keys alone) and ``score_projected(query [B,T,Hq], projected) -> [B,T,S]``; then
    ``score(query, keys) = score_projected(query, precompute(keys))``. A decoder that runs step by step
    computes ``precompute`` once per source sentence and passes it as ``forward(..., projected_keys=)``.
    """

    query_dim: int
    key_dim: int

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        return keys  # [batch, src_len, key_dim]

    def score_projected(self, query: torch.Tensor, projected: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def score(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return self.score_projected(query, self.precompute(keys))  # [batch, tgt_len, src_len]

    def forward(self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor,
                projected_keys: torch.Tensor | None = None):
        # query: [batch, tgt_len, query_dim], keys: [batch, src_len, key_dim], mask: [batch, src_len] True=real
        # projected_keys: precompute(keys), passed by step-by-step decoders that computed it once
        name = type(self).__name__
        for arg, value in (("query", query), ("keys", keys), ("mask", mask)):
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"{name}: {arg} must be a torch.Tensor, got {type(value).__name__}")
        if query.dim() != 3:
            raise ValueError(f"{name}: query must have shape [batch, tgt_len, {self.query_dim}], got "
                             f"{list(query.shape)}; for one step use query.unsqueeze(1)")
        if keys.dim() != 3:
            raise ValueError(f"{name}: keys must have shape [batch, src_len, {self.key_dim}], got {list(keys.shape)}")
        if query.shape[0] != keys.shape[0]:
            raise ValueError(f"{name}: query has batch {query.shape[0]} but keys have batch {keys.shape[0]}")
        if query.shape[-1] != self.query_dim or keys.shape[-1] != self.key_dim:
            raise ValueError(f"{name}: expected query [..., {self.query_dim}] and keys [..., {self.key_dim}], got "
                             f"query {list(query.shape)} and keys {list(keys.shape)}")
        if mask.dtype != torch.bool:
            raise TypeError(f"{name}: mask must be a bool tensor (True = real token), got dtype {mask.dtype}; "
                            "build it with lengths_to_mask(src_lengths, src_len)")
        if list(mask.shape) != [keys.shape[0], keys.shape[1]]:
            raise ValueError(f"{name}: mask has shape {list(mask.shape)} but keys need [batch, src_len] = "
                             f"{[keys.shape[0], keys.shape[1]]}")
        if not bool(mask.any(dim=1).all()):
            raise ValueError(f"{name}: a row of mask has no real token; every source sequence needs at least one")
        _check_device(self, query, "query")
        if keys.device != query.device or mask.device != query.device:
            raise ValueError(f"{name}: query, keys and mask must be on one device, got {query.device}, "
                             f"{keys.device} and {mask.device}")
        if projected_keys is None:
            projected_keys = self.precompute(keys)
        elif not isinstance(projected_keys, torch.Tensor) or projected_keys.shape[:2] != keys.shape[:2]:
            shape = list(projected_keys.shape) if isinstance(projected_keys, torch.Tensor) else projected_keys
            raise ValueError(f"{name}: projected_keys must be precompute(keys), [batch, src_len, ...] = "
                             f"{list(keys.shape[:2])} + [...], got {shape}")
        scores = self.score_projected(query, projected_keys)  # [batch, tgt_len, src_len]
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))  # padding can never win
        weights = torch.softmax(scores, dim=-1)  # [batch, tgt_len, src_len], exactly 0 on padding
        context = torch.bmm(weights, keys)  # [batch, tgt_len, key_dim]
        return context, weights


class AdditiveAttention(_Attention):
    """Bahdanau (additive) attention: ``score(q, k) = v^T tanh(W q + U k)``."""

    def __init__(self, query_dim: int, key_dim: int, attn_dim: int | None = None):
        super().__init__()
        attn_dim = query_dim if attn_dim is None else attn_dim
        for name, value in (("query_dim", query_dim), ("key_dim", key_dim), ("attn_dim", attn_dim)):
            _check_int(name, value)
        self.query_dim, self.key_dim = query_dim, key_dim
        self.W = nn.Linear(query_dim, attn_dim, bias=False)
        self.U = nn.Linear(key_dim, attn_dim)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def precompute(self, keys):
        return self.U(keys)  # [batch, src_len, attn]

    def score_projected(self, query, projected):
        q = self.W(query).unsqueeze(2)  # [batch, tgt_len, 1, attn]
        k = projected.unsqueeze(1)  # [batch, 1, src_len, attn]
        return self.v(torch.tanh(q + k)).squeeze(-1)  # [batch, tgt_len, src_len]


class DotAttention(_Attention):
    """Luong dot attention: ``score(q, k) = q . k``; needs ``query_dim == key_dim``. No parameters."""

    def __init__(self, query_dim: int, key_dim: int | None = None):
        super().__init__()
        key_dim = query_dim if key_dim is None else key_dim
        _check_int("query_dim", query_dim)
        _check_int("key_dim", key_dim)
        if query_dim != key_dim:
            raise ValueError(
                f"dot attention needs query and key vectors of the same size, got query_dim={query_dim} and "
                f"key_dim={key_dim}; use 'general' or 'additive' attention, or make the decoder's hid_dim equal "
                "the encoder's output size"
            )
        self.query_dim, self.key_dim = query_dim, key_dim

    def score_projected(self, query, projected):
        return torch.bmm(query, projected.transpose(1, 2))  # [batch, tgt_len, src_len]


class GeneralAttention(_Attention):
    """Luong general attention: ``score(q, k) = q^T W k``."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        _check_int("query_dim", query_dim)
        _check_int("key_dim", key_dim)
        self.query_dim, self.key_dim = query_dim, key_dim
        self.W = nn.Linear(key_dim, query_dim, bias=False)

    def precompute(self, keys):
        return self.W(keys)  # [batch, src_len, query_dim]

    def score_projected(self, query, projected):
        return torch.bmm(query, projected.transpose(1, 2))  # [batch, tgt_len, src_len]


_ATTENTION_KINDS = ("additive", "dot", "general")


def _make_attention(kind, query_dim: int, key_dim: int, attn_dim: int | None = None) -> nn.Module:
    if attn_dim is not None and kind != "additive":
        raise ValueError(f"attn_dim is the size of additive attention's hidden layer; {kind!r} attention has none: "
                         "drop attn_dim or use attention='additive'")
    if isinstance(kind, nn.Module):
        return kind
    if kind == "additive":
        return AdditiveAttention(query_dim, key_dim, attn_dim)
    if kind == "dot":
        return DotAttention(query_dim, key_dim)
    if kind == "general":
        return GeneralAttention(query_dim, key_dim)
    raise ValueError(f"attention must be one of {_ATTENTION_KINDS} or an attention module, got {kind!r}")


class AttentionDecoder(nn.Module):
    """LSTM decoder with Luong-style attention over the encoder outputs.

    At each step: the LSTM reads the previous token and gives the query ``h_t``; attention over the
    encoder outputs gives the context ``c_t``; ``logits = out(tanh(combine([h_t; c_t])))``. Because the
    query does not depend on the previous context, a teacher-forced sequence runs in ONE LSTM call plus
    one batched attention over all target positions.

    * ``forward(tgt_in [B,T], hidden (h, c), encoder_outputs [B,S,E], src_mask [B,S])
      -> (logits [B,T,V], hidden, attention [B,T,S])``
    * ``step(prev_tokens [B], hidden, encoder_outputs, src_mask) -> (logits [B,V], hidden, attention [B,S])``

    ``attention`` is ``'additive'`` (Bahdanau), ``'dot'`` or ``'general'`` (Luong), or any module with the
    interface ``(query [B,T,hid_dim], keys [B,S,enc_dim], mask [B,S]) -> (context [B,T,enc_dim], weights [B,T,S])``.
    ``attn_dim`` sizes additive attention's hidden layer (default ``hid_dim``); it sets the cost of every
    step, ``batch x tgt_len x src_len x attn_dim`` tanh evaluations, and 32 is plenty for the course's tasks.
    """

    def __init__(self, vocab_size: int, emb_dim: int, hid_dim: int, enc_dim: int,
                 attention: str | nn.Module = "additive", num_layers: int = 1, attn_dim: int | None = None):
        super().__init__()
        _check_vocab_size(vocab_size)
        for name, value in (("emb_dim", emb_dim), ("hid_dim", hid_dim), ("enc_dim", enc_dim),
                            ("num_layers", num_layers)):
            _check_int(name, value)
        self.vocab_size, self.hid_dim, self.enc_dim, self.num_layers = vocab_size, hid_dim, enc_dim, num_layers
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=PAD)
        self.rnn = nn.LSTM(emb_dim, hid_dim, num_layers, batch_first=True)
        self.attention = _make_attention(attention, hid_dim, enc_dim, attn_dim)
        self.combine = nn.Linear(hid_dim + enc_dim, hid_dim)
        self.out = nn.Linear(hid_dim, vocab_size)

    def forward(self, tgt_in: torch.Tensor, hidden, encoder_outputs: torch.Tensor, src_mask: torch.Tensor,
                attention_keys: torch.Tensor | None = None):
        # tgt_in: [batch, tgt_len], hidden: (h, c) each [layers, batch, hid]
        # encoder_outputs: [batch, src_len, enc_dim], src_mask: [batch, src_len] bool
        # attention_keys: self.attention.precompute(encoder_outputs), or None to compute it here
        check_tokens(tgt_in, None, self.vocab_size, name="tgt_in")
        _check_device(self, tgt_in, "tgt_in")
        batch = tgt_in.shape[0]
        _check_hidden(hidden, self.num_layers, batch, self.hid_dim, lstm=True, where="AttentionDecoder",
                      device=tgt_in.device)
        if not isinstance(encoder_outputs, torch.Tensor) or encoder_outputs.dim() != 3 \
                or encoder_outputs.shape[0] != batch or encoder_outputs.shape[2] != self.enc_dim:
            shape = list(encoder_outputs.shape) if isinstance(encoder_outputs, torch.Tensor) else encoder_outputs
            raise ValueError(f"AttentionDecoder: encoder_outputs must have shape [batch={batch}, src_len, "
                             f"enc_dim={self.enc_dim}], got {shape}")
        embedded = self.embedding(tgt_in)  # [batch, tgt_len, emb]
        queries, hidden = self.rnn(embedded, tuple(hidden))  # [batch, tgt_len, hid]
        # context: [batch, tgt_len, enc_dim], attention: [batch, tgt_len, src_len]
        if attention_keys is None:
            context, attention = self.attention(queries, encoder_outputs, src_mask)
        else:
            context, attention = self.attention(queries, encoder_outputs, src_mask, projected_keys=attention_keys)
        combined = torch.tanh(self.combine(torch.cat([queries, context], dim=-1)))  # [batch, tgt_len, hid]
        logits = self.out(combined)  # [batch, tgt_len, vocab]
        return logits, hidden, attention

    def precompute_keys(self, encoder_outputs: torch.Tensor) -> torch.Tensor | None:
        """The attention's key projection, to pass to ``step(..., attention_keys=)`` at every step (None if
        the attention module has no ``precompute``)."""
        precompute = getattr(self.attention, "precompute", None)
        return precompute(encoder_outputs) if callable(precompute) else None

    def step(self, prev_tokens: torch.Tensor, hidden, encoder_outputs: torch.Tensor, src_mask: torch.Tensor,
             attention_keys: torch.Tensor | None = None):
        # prev_tokens: [batch]
        _check_step_tokens(prev_tokens, self.vocab_size)
        logits, hidden, attention = self.forward(prev_tokens.unsqueeze(1), hidden, encoder_outputs, src_mask,
                                                 attention_keys)
        return logits.squeeze(1), hidden, attention.squeeze(1)  # [batch, vocab], (h, c), [batch, src_len]


# ---------------------------------------------------------------------------------------- wrappers


class _Seq2SeqBase(nn.Module):
    """The shared interface: ``encode``, ``decode_step`` and ``forward`` with teacher forcing."""

    encoder: nn.Module
    decoder: nn.Module

    @property
    def vocab_size(self) -> int:
        return self.decoder.vocab_size

    def _check_tgt(self, src: torch.Tensor, tgt: torch.Tensor) -> None:
        check_tokens(tgt, None, self.decoder.vocab_size, name="tgt")
        if bool((tgt[:, 0] == SOS).all()):
            raise ValueError("every row of tgt starts with SOS, but tgt must hold the target tokens followed by EOS "
                             "and no SOS (as collate_pairs makes it): the model prepends SOS itself; drop tgt's "
                             "first column")
        if tgt.shape[0] != src.shape[0]:
            raise ValueError(f"tgt has {tgt.shape[0]} sequences but src has {src.shape[0]}; they must pair up")
        _check_device(self, tgt, "tgt")

    def _teacher_forced(self, state: DecoderState, tgt_in: torch.Tensor):
        """All steps at once from the gold inputs: ``(logits [B,T,V], attention [B,T,S] or None)``."""
        raise NotImplementedError

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        raise NotImplementedError

    def decode_step(self, prev_tokens: torch.Tensor, state: DecoderState):
        raise NotImplementedError

    def _run(self, src, src_lengths, tgt, teacher_forcing_ratio):
        ratio = _check_teacher_forcing_ratio(teacher_forcing_ratio)
        state = self.encode(src, src_lengths)
        self._check_tgt(src, tgt)
        if ratio == 1.0:  # fast path: the decoder reads the whole gold sequence in one call
            return self._teacher_forced(state, shift_right(tgt))
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
                    prev = torch.where(use_gold, tgt[:, t].long(), prediction)  # [batch]
        logits = torch.stack(all_logits, dim=1)  # [batch, tgt_len, vocab]
        attention = None if all_attention[0] is None else torch.stack(all_attention, dim=1)  # [batch, tgt_len, src_len]
        return logits, attention


class Seq2Seq(_Seq2SeqBase):
    """GRU encoder + GRU decoder, no attention: the encoder's final state is the decoder's first state.

    ``forward(src, src_lengths, tgt, teacher_forcing_ratio=1.0) -> logits [batch, tgt_len, vocab]``.
    At step 0 the decoder reads SOS; at step t it reads ``tgt[:, t-1]`` with probability
    ``teacher_forcing_ratio`` (per row and step, from ``torch``'s random generator) and its own argmax
    prediction otherwise. A ratio of 1.0 runs the whole target in one GRU call.
    """

    def __init__(self, encoder: EncoderGRU, decoder: DecoderGRU):
        super().__init__()
        for name, module in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"{name} must be an nn.Module, got {type(module).__name__}")
        enc_rnn, dec_rnn = getattr(encoder, "rnn", None), getattr(decoder, "rnn", None)
        if isinstance(enc_rnn, nn.RNNBase) and isinstance(dec_rnn, nn.RNNBase):
            if enc_rnn.bidirectional:
                raise ValueError("Seq2Seq needs a one-directional encoder: a bidirectional final state does not "
                                 "fit the decoder; use AttentionSeq2Seq with an LSTMEncoder")
            if (enc_rnn.hidden_size, enc_rnn.num_layers) != (dec_rnn.hidden_size, dec_rnn.num_layers):
                raise ValueError(
                    f"the encoder's final state [{enc_rnn.num_layers}, batch, {enc_rnn.hidden_size}] cannot start "
                    f"the decoder, which needs [{dec_rnn.num_layers}, batch, {dec_rnn.hidden_size}]; give both the "
                    "same hid_dim and num_layers"
                )
            if type(enc_rnn) is not type(dec_rnn):
                raise ValueError(f"encoder uses {type(enc_rnn).__name__} but decoder {type(dec_rnn).__name__}; "
                                 "their states are not compatible")
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        # src: [batch, src_len], src_lengths: [batch]
        _, hidden = self.encoder(src, src_lengths)  # [layers, batch, hid]
        return DecoderState(hidden=hidden)

    def decode_step(self, prev_tokens: torch.Tensor, state: DecoderState):
        # prev_tokens: [batch]
        logits, hidden = self.decoder.step(prev_tokens, state.hidden)  # [batch, vocab], [layers, batch, hid]
        return logits, state._replace(hidden=hidden), None

    def _teacher_forced(self, state, tgt_in):
        logits, _ = self.decoder(tgt_in, state.hidden)  # [batch, tgt_len, vocab]
        return logits, None

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt: torch.Tensor,
                teacher_forcing_ratio: float = 1.0) -> torch.Tensor:
        # src: [batch, src_len], src_lengths: [batch], tgt: [batch, tgt_len] ending in EOS
        logits, _ = self._run(src, src_lengths, tgt, teacher_forcing_ratio)
        return logits  # [batch, tgt_len, vocab]


class AttentionSeq2Seq(_Seq2SeqBase):
    """LSTM encoder + attention decoder.

    ``forward(src, src_lengths, tgt, teacher_forcing_ratio=1.0, return_attention=False)`` returns
    ``logits [batch, tgt_len, vocab]``, or ``(logits, attention [batch, tgt_len, src_len])`` when asked.
    Teacher forcing works as in :class:`Seq2Seq`.
    """

    def __init__(self, encoder: LSTMEncoder, decoder: AttentionDecoder):
        super().__init__()
        if not isinstance(decoder, AttentionDecoder):
            raise TypeError(f"decoder must be an AttentionDecoder, got {type(decoder).__name__}")
        if not isinstance(encoder, nn.Module) or not isinstance(getattr(encoder, "rnn", None), nn.LSTM):
            raise TypeError(f"encoder must be an LSTM encoder such as LSTMEncoder, got {type(encoder).__name__}")
        enc_dim = getattr(encoder, "enc_dim", None)
        dec_hid_dim = getattr(encoder, "dec_hid_dim", None)
        if enc_dim != decoder.enc_dim:
            raise ValueError(f"the encoder's outputs are {enc_dim} wide but the decoder was built with "
                             f"enc_dim={decoder.enc_dim}; pass enc_dim=encoder.enc_dim")
        if dec_hid_dim != decoder.hid_dim or encoder.num_layers != decoder.num_layers:
            raise ValueError(
                f"the encoder's final state [{encoder.num_layers}, batch, {dec_hid_dim}] cannot start the decoder, "
                f"which needs [{decoder.num_layers}, batch, {decoder.hid_dim}]; build the decoder with "
                "hid_dim=encoder.dec_hid_dim and the same num_layers"
            )
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> DecoderState:
        # src: [batch, src_len], src_lengths: [batch]
        encoder_outputs, hidden = self.encoder(src, src_lengths)  # [batch, src_len, enc_dim], (h, c)
        src_mask = lengths_to_mask(src_lengths.to(src.device), src.shape[1])  # [batch, src_len]
        return DecoderState(hidden=hidden, encoder_outputs=encoder_outputs, src_mask=src_mask,
                            attention_keys=self.decoder.precompute_keys(encoder_outputs))

    def decode_step(self, prev_tokens: torch.Tensor, state: DecoderState):
        # prev_tokens: [batch]
        logits, hidden, attention = self.decoder.step(prev_tokens, state.hidden, state.encoder_outputs,
                                                      state.src_mask, state.attention_keys)
        # logits [batch, vocab], hidden (h, c), attention [batch, src_len]
        return logits, state._replace(hidden=hidden), attention

    def _teacher_forced(self, state, tgt_in):
        logits, _, attention = self.decoder(tgt_in, state.hidden, state.encoder_outputs, state.src_mask,
                                            state.attention_keys)
        return logits, attention  # [batch, tgt_len, vocab], [batch, tgt_len, src_len]

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt: torch.Tensor,
                teacher_forcing_ratio: float = 1.0, return_attention: bool = False):
        # src: [batch, src_len], src_lengths: [batch], tgt: [batch, tgt_len] ending in EOS
        logits, attention = self._run(src, src_lengths, tgt, teacher_forcing_ratio)
        return (logits, attention) if return_attention else logits
