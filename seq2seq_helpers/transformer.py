"""The Transformer (Vaswani et al., 2017), built in lesson 08 from lesson 04's dot-product attention.

Pieces, each a small function or module a learner can call alone:

* :func:`scaled_dot_product_attention` ``softmax(q k^T / sqrt(d) + mask) v``, exactly zero weight where masked;
* :class:`MultiHeadAttention` (``h`` heads of size ``d_model / h``; equal to ``torch.nn.MultiheadAttention``
  given the same weights, see :meth:`MultiHeadAttention.load_torch_weights`);
* :func:`sinusoidal_positions`, :func:`causal_mask`;
* :class:`EncoderLayer`, :class:`DecoderLayer` (pre-norm residual blocks: ``x + sublayer(LayerNorm(x))``);
* :class:`TransformerSeq2Seq`, with the same interface as the RNN models of ``models.py``::

      state = model.encode(src, src_lengths)                            # a TransformerState
      logits, state, attention = model.decode_step(prev_tokens, state)  # one step for every row
      logits = model(src, src_lengths, tgt)                             # [batch, tgt_len, vocab], teacher forced

  so ``greedy_decode``, ``beam_search`` and ``sequence_log_probs`` of ``decoding.py`` work unchanged.

Incremental decoding keeps a key/value cache: the cross-attention keys and values of the encoder outputs are
computed once in ``encode``; each decoder layer's self-attention keys and values grow by one position per step.
``model.use_cache = False`` makes ``decode_step`` recompute the whole prefix instead (same results, slower):
lesson 08 measures the difference.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from . import _validate
from .attention import _lengths_to_mask
from .models import _check_target, _Seq2SeqBase, shift_right
from .tokens import EOS, PAD

__all__ = [
    "scaled_dot_product_attention",
    "causal_mask",
    "sinusoidal_positions",
    "MultiHeadAttention",
    "FeedForward",
    "EncoderLayer",
    "DecoderLayer",
    "PositionalEncoding",
    "TransformerEncoder",
    "TransformerDecoder",
    "TransformerState",
    "TransformerSeq2Seq",
]


# ------------------------------------------------------------------------------------------ checks
# The public entries (scaled_dot_product_attention; MultiHeadAttention's forward, project_kv and attend; the
# layers' forward and step) check their arguments once, with these and _validate's generic helpers. The
# package's own layers and TransformerSeq2Seq call the unchecked private steps (_sdpa, _forward, _project_kv,
# _attend, _step) on tensors they produced themselves, so training and decoding do not check again.

_PADDING = "a padding mask [batch, key_len] needs mask[:, None, None, :] for [batch, heads, query_len, key_len]"
_HEADS = f"[batch, heads, query_len, key_len]; {_PADDING}, a causal mask is [query_len, key_len]"


def _shapes(named: dict) -> str:
    parts = [f"{name} {list(t.shape)}" for name, t in named.items()]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _check_vectors(mha: MultiHeadAttention, where: str, **named) -> int:
    """Float tensors ``[batch, length, d_model]`` of the weights' dtype and device, all of one batch; returns it."""
    dtype, device = _validate.weights_of(mha)
    _validate.float_tensors(where, named, dtype)
    for name, t in named.items():
        if t.dim() != 3 or t.shape[-1] != mha.d_model:
            raise ValueError(f"{where}: {name} must be [batch, length, d_model={mha.d_model}], got {list(t.shape)}")
    batches = {name: t.shape[0] for name, t in named.items()}
    if len(set(batches.values())) > 1:
        raise ValueError(f"{where}: {_shapes(named)} must share the batch")
    _validate.one_device(where, named, device)
    return next(iter(batches.values()))


def _check_projected(mha: MultiHeadAttention, where: str, batch: int, **named) -> int:
    """Keys and values split into heads, ``[batch, heads, key_len, d_head]`` as ``project_kv`` returns them, of
    the weights' dtype and device, all of one length; returns it."""
    dtype, device = _validate.weights_of(mha)
    _validate.float_tensors(where, named, dtype)
    for name, t in named.items():
        if t.dim() != 4 or (t.shape[0], t.shape[1], t.shape[3]) != (batch, mha.num_heads, mha.d_head):
            raise ValueError(
                f"{where}: {name} must be [batch={batch}, heads={mha.num_heads}, key_len, d_head={mha.d_head}] "
                f"as project_kv returns it, got {list(t.shape)}"
            )
    if len({t.shape[2] for t in named.values()}) > 1:
        raise ValueError(f"{where}: {_shapes(named)} must have one key_len")
    _validate.one_device(where, named, device)
    return next(iter(named.values())).shape[2]


def _check_heads_mask(mha: MultiHeadAttention, where: str, mask, batch: int, query_len: int, key_len: int) -> None:
    if mask is not None:
        _validate.bool_mask(mask, where, (batch, mha.num_heads, query_len, key_len), _HEADS)
        _validate.one_device(where, {"mask": mask}, _validate.weights_of(mha)[1])


def _check_heads(d_model: int, num_heads: int) -> None:
    if d_model % num_heads:
        raise ValueError(
            f"d_model ({d_model}) must be divisible by num_heads ({num_heads}): each head gets "
            "d_model / num_heads dimensions"
        )


# ------------------------------------------------------------------------------------------ pieces


def scaled_dot_product_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None
):
    """``softmax(query key^T / sqrt(d) masked) value``: lesson 08 §1.

    ``query [..., T, d]``, ``key [..., S, d]``, ``value [..., S, d_v]``, float tensors of one dtype and device
    whose batch dimensions ``...`` broadcast; ``mask`` a bool tensor broadcastable to ``[..., T, S]``, True where
    a query may attend. A masked position gets weight exactly 0; a query whose mask allows no key at all gets
    weight 0 on every key and output 0, as ``torch.nn.functional.scaled_dot_product_attention`` gives it (a
    softmax over nothing but ``-inf`` would be NaN). Returns ``(output [..., T, d_v], weights [..., T, S])``.
    """
    where = "scaled_dot_product_attention"
    named = {"query": query, "key": key, "value": value}
    _validate.float_tensors(where, named)
    for name, t in named.items():
        if t.dim() < 2:
            raise ValueError(f"{where}: {name} must be [..., length, dim], got shape {list(t.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"{where}: query and key vectors must have the same size, got {query.shape[-1]} and {key.shape[-1]}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{where}: key and value must have the same length, got {key.shape[-2]} and {value.shape[-2]}")
    _validate.batch_shapes(where, {name: t.shape[:-2] for name, t in named.items()})
    if mask is not None:
        scores = (*torch.broadcast_shapes(query.shape[:-2], key.shape[:-2]), query.shape[-2], key.shape[-2])
        _validate.bool_mask(mask, where, scores, f"[..., query_len, key_len]; {_PADDING}")
    _validate.one_device(where, {**named, "mask": mask})
    return _sdpa(query, key, value, mask)


def _sdpa(query, key, value, mask=None):
    """:func:`scaled_dot_product_attention` without its checks, for the package's own layers."""
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])  # [..., T, S]
    if mask is None:
        weights = scores.softmax(dim=-1)  # [..., T, S]
        return weights @ value, weights
    # Masked scores get the lowest finite value, not -inf: a query that may attend no key then has a finite
    # softmax (no NaN, forward or backward), which the second masked_fill zeroes; every other query's masked
    # weights are exactly 0 either way (exp underflows), so its output is the same as with -inf.
    masked_out = ~mask
    weights = scores.masked_fill(masked_out, torch.finfo(scores.dtype).min).softmax(dim=-1)  # [..., T, S]
    weights = weights.masked_fill(masked_out, 0.0)  # exactly 0 where masked, and on a query that sees no key
    return weights @ value, weights  # [..., T, d_v], [..., T, S]


def causal_mask(size: int, device=None) -> torch.Tensor:
    """``[size, size]`` bool, True where query ``i`` may attend key ``j``: ``j <= i`` (itself and the past).

    >>> causal_mask(3).int()
    tensor([[1, 0, 0],
            [1, 1, 0],
            [1, 1, 1]], dtype=torch.int32)
    """
    _validate.integer(size, "size")
    return torch.ones(size, size, dtype=torch.bool, device=device).tril()  # [size, size]


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """``[max_len, d_model]`` table: ``PE[p, 2i] = sin(p / 10000^(2i/d))``, ``PE[p, 2i+1] = cos(...)``."""
    _validate.integer(max_len, "max_len")
    _validate.integer(d_model, "d_model")
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions (sine and cosine pairs), got {d_model}")
    positions = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)  # [max_len, 1]
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float32) / d_model)
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(positions * frequencies)  # [max_len, d_model / 2]
    table[:, 1::2] = torch.cos(positions * frequencies)
    return table


class MultiHeadAttention(nn.Module):
    """``num_heads`` scaled dot-product attentions on learned projections, concatenated and projected back.

    ``forward(query [B,T,d], key [B,S,d], value [B,S,d], mask) -> (output [B,T,d], weights [B,heads,T,S])``;
    ``mask`` is bool, True = may attend, broadcastable to ``[B, heads, T, S]`` (``[B, 1, 1, S]`` for padding,
    ``[T, S]`` for the causal mask). A query that may attend no key gets weights 0 and output ``out_proj.bias``
    (its heads' outputs are 0, as in :func:`scaled_dot_product_attention`). The parameters ``q_proj, k_proj,
    v_proj, out_proj`` are what ``torch.nn.MultiheadAttention`` keeps in ``in_proj_weight`` (stacked) and
    ``out_proj``. ``forward``, ``project_kv`` and ``attend`` check their arguments; the package's layers call
    the unchecked ``_forward``, ``_project_kv`` and ``_attend``.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        _validate.integer(d_model, "d_model")
        _validate.integer(num_heads, "num_heads")
        _validate.dropout(dropout)
        _check_heads(d_model, num_heads)
        self.d_model, self.num_heads, self.d_head, self.dropout = d_model, num_heads, d_model // num_heads, dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        # x: [batch, length, d_model] -> [batch, heads, length, d_head]
        return x.view(x.shape[0], x.shape[1], self.num_heads, self.d_head).transpose(1, 2)

    def project_kv(self, key: torch.Tensor, value: torch.Tensor):
        """Keys and values split into heads, ``[B, heads, S, d_head]`` each: what a decoder caches. Contiguous, so
        attending to them at every step does not copy them again."""
        where = "MultiHeadAttention.project_kv"
        _check_vectors(self, where, key=key, value=value)
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"{where}: key {list(key.shape)} and value {list(value.shape)} must have one length")
        return self._project_kv(key, value)

    def _project_kv(self, key, value):
        return self.split_heads(self.k_proj(key)).contiguous(), self.split_heads(self.v_proj(value)).contiguous()

    def attend(self, query: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None):
        """Attention of ``query [B,T,d]`` (projected here) over already projected ``k, v [B,heads,S,d_head]``."""
        where = "MultiHeadAttention.attend"
        batch = _check_vectors(self, where, query=query)
        key_len = _check_projected(self, where, batch, k=k, v=v)
        _check_heads_mask(self, where, mask, batch, query.shape[1], key_len)
        return self._attend(query, k, v, mask)

    def _attend(self, query, k, v, mask=None):
        q = self.split_heads(self.q_proj(query))  # [batch, heads, T, d_head]
        context, weights = _sdpa(q, k, v, mask)  # [batch, heads, T, d_head], [.., T, S]
        if self.training and self.dropout:
            context = F.dropout(weights, self.dropout) @ v
        context = context.transpose(1, 2).reshape(query.shape[0], query.shape[1], self.d_model)  # [batch, T, d]
        return self.out_proj(context), weights

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None):
        where = "MultiHeadAttention"
        batch = _check_vectors(self, where, query=query, key=key, value=value)
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"{where}: key {list(key.shape)} and value {list(value.shape)} must have one length")
        _check_heads_mask(self, where, mask, batch, query.shape[1], key.shape[1])
        return self._forward(query, key, value, mask)

    def _forward(self, query, key, value, mask=None):
        k, v = self._project_kv(key, value)  # [batch, heads, S, d_head]
        return self._attend(query, k, v, mask)

    @torch.no_grad()
    def load_torch_weights(self, mha: nn.MultiheadAttention) -> MultiHeadAttention:
        """Copy the weights of a ``torch.nn.MultiheadAttention(d_model, num_heads, batch_first=True)``."""
        if not isinstance(mha, nn.MultiheadAttention):
            raise TypeError(f"mha must be a torch.nn.MultiheadAttention, got {type(mha).__name__}")
        if (
            (mha.embed_dim, mha.num_heads) != (self.d_model, self.num_heads)
            or mha.in_proj_weight is None
            or mha.in_proj_bias is None
        ):
            raise ValueError(
                f"mha must have embed_dim={self.d_model}, num_heads={self.num_heads} and biases, with "
                "the same size for queries, keys and values"
            )
        for i, proj in enumerate((self.q_proj, self.k_proj, self.v_proj)):
            proj.weight.copy_(mha.in_proj_weight[i * self.d_model : (i + 1) * self.d_model])
            proj.bias.copy_(mha.in_proj_bias[i * self.d_model : (i + 1) * self.d_model])
        self.out_proj.weight.copy_(mha.out_proj.weight)
        self.out_proj.bias.copy_(mha.out_proj.bias)
        return self


class FeedForward(nn.Module):
    """Position-wise ``Linear(d_model, d_ff) -> ReLU -> Linear(d_ff, d_model)``, the same at every position."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.linear1, self.linear2, self.dropout = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model), dropout

    def forward(self, x):
        # x: [batch, length, d_model]
        return self.linear2(F.dropout(F.relu(self.linear1(x)), self.dropout, self.training))  # [batch, length, d]


class EncoderLayer(nn.Module):
    """Pre-norm encoder layer: ``x = x + SelfAttention(LN(x))``; ``x = x + FeedForward(LN(x))``."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, src_mask: torch.Tensor | None):
        # x: [batch, src_len, d_model], src_mask: [batch, 1, 1, src_len] (True = real token)
        batch = _check_vectors(self.self_attn, "EncoderLayer", x=x)
        _check_heads_mask(self.self_attn, "EncoderLayer", src_mask, batch, x.shape[1], x.shape[1])
        return self._forward(x, src_mask)

    def _forward(self, x, src_mask):
        h = self.norm1(x)
        attended, weights = self.self_attn._forward(h, h, h, src_mask)  # [batch, src_len, d], [batch, heads, S, S]
        x = x + F.dropout(attended, self.dropout, self.training)
        x = x + F.dropout(self.feed_forward(self.norm2(x)), self.dropout, self.training)
        return x, weights


class DecoderLayer(nn.Module):
    """Pre-norm decoder layer: masked self-attention, cross-attention over the encoder, feed-forward.

    ``forward`` runs a whole (teacher-forced) target; :meth:`step` runs one new position given the cache of
    the previous positions' self-attention keys and values, and the encoder's cross-attention keys and values.
    Both check their arguments; the model calls the unchecked ``_forward`` and ``_step``.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout = dropout

    def _check(self, where, x, cross_k, cross_v, src_mask) -> int:
        batch = _check_vectors(self.cross_attn, where, x=x)
        src_len = _check_projected(self.cross_attn, where, batch, cross_k=cross_k, cross_v=cross_v)
        _check_heads_mask(self.cross_attn, where, src_mask, batch, x.shape[1], src_len)
        return batch

    def _rest(self, x, cross_k, cross_v, src_mask):
        attended, cross_weights = self.cross_attn._attend(self.norm2(x), cross_k, cross_v, src_mask)
        x = x + F.dropout(attended, self.dropout, self.training)
        x = x + F.dropout(self.feed_forward(self.norm3(x)), self.dropout, self.training)
        return x, cross_weights

    def forward(self, x: torch.Tensor, cross_k: torch.Tensor, cross_v: torch.Tensor, src_mask: torch.Tensor | None):
        # x: [batch, T, d]; cross_k, cross_v: [batch, heads, S, d_head]; src_mask: [batch, 1, 1, S]
        self._check("DecoderLayer", x, cross_k, cross_v, src_mask)
        return self._forward(x, cross_k, cross_v, src_mask)

    def _forward(self, x, cross_k, cross_v, src_mask):
        h = self.norm1(x)
        mask = causal_mask(x.shape[1], device=x.device)  # [T, T]: position t sees 0..t only
        attended, self_weights = self.self_attn._forward(h, h, h, mask)  # [batch, T, d], [batch, heads, T, T]
        x = x + F.dropout(attended, self.dropout, self.training)
        x, cross_weights = self._rest(x, cross_k, cross_v, src_mask)
        return x, self_weights, cross_weights

    def step(
        self, x: torch.Tensor, cache: tuple | None, cross_k: torch.Tensor, cross_v: torch.Tensor, src_mask: torch.Tensor
    ):
        """One new position ``x [batch, 1, d]``; ``cache = (k, v)`` of the previous positions,
        ``[batch, heads, t, d_head]`` each (or None at the first step). Returns ``(x, new cache, cross weights)``."""
        where = "DecoderLayer.step"
        batch = self._check(where, x, cross_k, cross_v, src_mask)
        if x.shape[1] != 1:
            raise ValueError(
                f"{where}: x must be one new position [batch, 1, d_model], got {list(x.shape)}; "
                "for a whole target call the layer itself"
            )
        if cache is not None:
            if not (isinstance(cache, tuple) and len(cache) == 2):
                raise TypeError(
                    f"{where}: cache must be None (first step) or the (k, v) pair the previous step returned, "
                    f"got {_validate._describe(cache)}"
                )
            _check_projected(self.self_attn, where, batch, cache_k=cache[0], cache_v=cache[1])
        return self._step(x, cache, cross_k, cross_v, src_mask)

    def _step(self, x, cache, cross_k, cross_v, src_mask):
        h = self.norm1(x)
        k_new, v_new = self.self_attn._project_kv(h, h)  # [batch, heads, 1, d_head] each
        if cache is not None:
            k_new, v_new = torch.cat([cache[0], k_new], dim=2), torch.cat([cache[1], v_new], dim=2)
        attended, _ = self.self_attn._attend(h, k_new, v_new)  # the newest position may see every cached one
        x = x + F.dropout(attended, self.dropout, self.training)
        x, cross_weights = self._rest(x, cross_k, cross_v, src_mask)
        return x, (k_new, v_new), cross_weights


# ------------------------------------------------------------------------------------------ the model


def _select_rows(value, index: torch.Tensor):
    """``index_select`` on dim 0 of a tensor, or of every tensor inside (nested) tuples; None stays None."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value.index_select(0, index.to(value.device))
    return tuple(_select_rows(v, index) for v in value)


class TransformerState(NamedTuple):
    """What :class:`TransformerSeq2Seq` needs between decoding steps (every tensor has batch on dim 0).

    * ``memory``: the encoder's outputs ``[batch, src_len, d_model]``;
    * ``src_mask``: ``[batch, src_len]`` bool, True on real source positions;
    * ``cross_kv``: per decoder layer, the cross-attention ``(keys, values)`` of ``memory``,
      ``[batch, heads, src_len, d_head]`` each, computed once by ``encode``;
    * ``self_kv``: per decoder layer, the self-attention ``(keys, values)`` of the positions decoded so far,
      ``[batch, heads, t, d_head]`` (the KV cache; ``None`` before the first step or without a cache);
    * ``tokens``: the decoder inputs read so far ``[batch, t]`` (SOS first); its width is the next position.
    """

    memory: torch.Tensor
    src_mask: torch.Tensor
    cross_kv: tuple
    self_kv: tuple | None
    tokens: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.memory.shape[0]

    def select(self, index: torch.Tensor) -> TransformerState:
        """The state of rows ``index`` in that order (rows may repeat), as beam search needs."""
        return self._select(_validate.row_index(index, self.batch_size, keep_size=False))

    def _select(self, index: torch.Tensor) -> TransformerState:
        # select without the check, for decoding loops that built index themselves
        return TransformerState(*(_select_rows(value, index) for value in self))

    def reorder(self, index: torch.Tensor) -> TransformerState:
        """``select(index)`` for an index that only moves rows among rows of the same source (one input's beam
        hypotheses): those share ``memory``, ``src_mask`` and ``cross_kv``, so only the cache and the tokens
        are reordered."""
        return self._reorder(_validate.row_index(index, self.batch_size, keep_size=True))

    def _reorder(self, index: torch.Tensor) -> TransformerState:
        # reorder without the check, for beam search's own index
        return self._replace(self_kv=_select_rows(self.self_kv, index), tokens=_select_rows(self.tokens, index))


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal positions ``start, start + 1, ...`` to token embeddings (``positions=None``: no
    position information at all). The embeddings are not scaled by ``sqrt(d_model)`` as in Vaswani et al.: PyTorch
    initialises ``nn.Embedding`` with unit variance, the same scale as the sine and cosine values, so neither
    drowns the other."""

    def __init__(self, d_model: int, max_len: int = 512, positions: str | None = "sinusoidal", dropout: float = 0.0):
        super().__init__()
        if positions not in ("sinusoidal", None):
            raise ValueError(f"positions must be 'sinusoidal' or None, got {positions!r}")
        self.d_model, self.max_len, self.positions, self.dropout = d_model, max_len, positions, dropout
        table = sinusoidal_positions(max_len, d_model) if positions is not None else None  # None: no table to build
        self.register_buffer("table", table, persistent=False)

    def forward(self, embedded: torch.Tensor, start: int = 0) -> torch.Tensor:
        # embedded: [batch, length, d_model]
        x = embedded
        if self.positions is not None:
            end = start + embedded.shape[1]
            if end > self.max_len:
                raise ValueError(
                    f"position {end - 1} is beyond max_len={self.max_len}; build the model with a larger max_len"
                )
            x = x + self.table[start:end]  # [length, d_model], broadcast over the batch
        return F.dropout(x, self.dropout, self.training)  # [batch, length, d_model]


class TransformerEncoder(nn.Module):
    """Token embedding + positions, ``num_layers`` :class:`EncoderLayer` s and a final LayerNorm."""

    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, dropout, max_len, positions):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.positions = PositionalEncoding(d_model, max_len, positions, dropout)
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, src: torch.Tensor, src_mask: torch.Tensor):
        # src: [batch, src_len], src_mask: [batch, src_len] True = real
        x = self.positions(self.embedding(src))  # [batch, src_len, d_model]
        weights = []
        for layer in self.layers:
            x, w = layer._forward(
                x, src_mask[:, None, None, :]
            )  # [batch, src_len, d], [batch, heads, src_len, src_len]
            weights.append(w)
        return self.norm(x), weights  # memory [batch, src_len, d_model]


class TransformerDecoder(nn.Module):
    """Token embedding + positions, ``num_layers`` :class:`DecoderLayer` s, a final LayerNorm, the output layer."""

    def __init__(self, vocab_size, d_model, num_heads, num_layers, d_ff, dropout, max_len, positions):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.positions = PositionalEncoding(d_model, max_len, positions, dropout)
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model)
        self.out = nn.Linear(d_model, vocab_size)


class TransformerSeq2Seq(_Seq2SeqBase):
    """Encoder-decoder Transformer with the course's seq2seq interface (lesson 08).

    ``forward(src, src_lengths, tgt, teacher_forcing_ratio=1.0, return_attention=False)`` returns
    ``logits [batch, tgt_len, vocab]`` (and the last decoder layer's cross-attention averaged over heads,
    ``[batch, tgt_len, src_len]``, when asked). ``encode`` / ``decode_step`` decode one position at a time
    with a key/value cache (``use_cache=False``: recompute the whole prefix at every step instead).

    * ``positions``: ``"sinusoidal"`` (added to the scaled embeddings) or ``None`` (no position information:
      the encoder then cannot tell ``abc`` from ``cba``; lesson 08 shows it);
    * ``mark_end``: append EOS to every source inside the model, so each source position can find the end of
      its sequence (reversal needs the distance to it); the attention then has one extra source column;
    * ``max_len``: the longest source or target (plus one) the position table covers.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        d_ff: int = 256,
        dropout: float = 0.0,
        max_len: int = 512,
        positions: str | None = "sinusoidal",
        mark_end: bool = True,
    ):
        super().__init__()
        _validate.sizes(vocab_size=vocab_size)
        for name, value in (
            ("d_model", d_model),
            ("num_heads", num_heads),
            ("num_layers", num_layers),
            ("d_ff", d_ff),
            ("max_len", max_len),
        ):
            _validate.integer(value, name)
        _validate.dropout(dropout)
        if not isinstance(mark_end, bool):
            raise TypeError(f"mark_end must be True or False, got {mark_end!r}")
        _check_heads(d_model, num_heads)  # positions (and an even d_model for them): PositionalEncoding checks them
        self.d_model, self.num_heads, self.num_layers = d_model, num_heads, num_layers
        self.max_len, self.positions, self.mark_end = max_len, positions, mark_end
        self.use_cache = True
        args = (vocab_size, d_model, num_heads, num_layers, d_ff, float(dropout), max_len, positions)
        self.encoder = TransformerEncoder(*args)
        self.decoder = TransformerDecoder(*args)

    # ---- encoder

    def _mark_end(self, src, src_lengths):
        if not self.mark_end:
            return src, src_lengths
        src = F.pad(src, (0, 1), value=PAD)  # [batch, src_len + 1]
        src = src.scatter(1, src_lengths.unsqueeze(1), EOS)  # EOS right after each source's last token
        return src, src_lengths + 1

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor, return_attention: bool = False):
        """Run the encoder; returns the :class:`TransformerState` decoding starts from (and, if asked, each
        encoder layer's self-attention ``[batch, heads, src_len, src_len]``)."""
        # src: [batch, src_len], src_lengths: [batch]
        src, src_lengths = _validate.padded_batch(src, src_lengths, self.vocab_size, "src", need_lengths=True)
        _validate.same_device(self, src, "src")
        src, src_lengths = self._mark_end(src, src_lengths.to(src.device))
        src_mask = _lengths_to_mask(src_lengths, src.shape[1])  # [batch, src_len] True = real (lengths checked above)
        memory, all_weights = self.encoder(src, src_mask)  # [batch, src_len, d_model], per layer [B, h, S, S]
        cross_kv = tuple(layer.cross_attn._project_kv(memory, memory) for layer in self.decoder.layers)
        empty = torch.zeros(src.shape[0], 0, dtype=torch.long, device=src.device)  # [batch, 0]: nothing read yet
        state = TransformerState(memory, src_mask, cross_kv, None, empty)
        return (state, all_weights) if return_attention else state

    # ---- decoder

    def _decode(self, tgt_in: torch.Tensor, state: TransformerState):
        """The whole decoder over ``tgt_in [batch, T]``: logits and every layer's attention weights."""
        x = self.decoder.positions(self.decoder.embedding(tgt_in))  # [batch, T, d_model]
        mask = state.src_mask[:, None, None, :]  # [batch, 1, 1, src_len]
        self_weights, cross_weights = [], []
        for layer, (k, v) in zip(self.decoder.layers, state.cross_kv):
            x, s, c = layer._forward(x, k, v, mask)  # [batch, T, d], [batch, heads, T, T], [batch, heads, T, S]
            self_weights.append(s)
            cross_weights.append(c)
        return self.decoder.out(self.decoder.norm(x)), self_weights, cross_weights  # logits [batch, T, vocab]

    def teacher_forced(self, state: TransformerState, tgt_in: torch.Tensor):
        """All steps at once from the gold inputs ``tgt_in`` (SOS first): ``(logits [B,T,V], attention [B,T,S])``."""
        logits, _, cross = self._decode(tgt_in, state)
        return logits, cross[-1].mean(dim=1)  # [batch, T, vocab], [batch, T, src_len]

    # decode_step (the base class's: _check_step, then _decode_step) gives one step for every row:
    # (logits [batch, vocab], new state, attention [batch, src_len]), the attention being the last layer's
    # cross-attention averaged over heads.

    def _check_step(self, prev_tokens, state):
        prev_tokens = _validate.token_ids(prev_tokens, "prev_tokens", self.vocab_size, dims=1)
        if not isinstance(state, TransformerState):
            raise TypeError(f"state must be the TransformerState that encode returned, got {type(state).__name__}")
        if prev_tokens.shape[0] != state.batch_size:
            raise ValueError(f"prev_tokens has {prev_tokens.shape[0]} rows but the state has {state.batch_size}")
        _validate.same_device(self, prev_tokens, "prev_tokens")
        return prev_tokens

    def _decode_step(self, prev_tokens: torch.Tensor, state: TransformerState):
        # prev_tokens: [batch]
        tokens = torch.cat([state.tokens, prev_tokens.unsqueeze(1)], dim=1)  # [batch, t + 1]
        position = tokens.shape[1] - 1
        if not self.use_cache:  # recompute the whole prefix, keep only its last position
            logits, _, cross = self._decode(tokens, state)
            return logits[:, -1], state._replace(tokens=tokens), cross[-1][:, :, -1].mean(dim=1)
        x = self.decoder.positions(self.decoder.embedding(prev_tokens.unsqueeze(1)), start=position)  # [batch, 1, d]
        mask = state.src_mask[:, None, None, :]  # [batch, 1, 1, src_len]
        caches = state.self_kv if state.self_kv is not None else (None,) * self.num_layers
        new_caches = []
        for layer, cache, (k, v) in zip(self.decoder.layers, caches, state.cross_kv):
            x, cache, cross = layer._step(x, cache, k, v, mask)  # x: [batch, 1, d]; cache grows by one position
            new_caches.append(cache)
        logits = self.decoder.out(self.decoder.norm(x)).squeeze(1)  # [batch, vocab]
        new_state = state._replace(self_kv=tuple(new_caches), tokens=tokens)
        return logits, new_state, cross[:, :, 0].mean(dim=1)  # attention: [batch, src_len]

    @torch.no_grad()
    def attention_maps(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt: torch.Tensor) -> dict:
        """Every attention of a teacher-forced pass over ``tgt``, per layer, ``[batch, heads, query, key]``:
        ``{"encoder self-attention": [...], "decoder self-attention": [...], "cross-attention": [...]}``."""
        was_training = self.training
        self.eval()
        try:
            state, encoder_weights = self.encode(src, src_lengths, return_attention=True)
            tgt = _check_target(self, src, tgt)
            _, self_weights, cross_weights = self._decode(shift_right(tgt), state)
        finally:
            self.train(was_training)
        return {
            "encoder self-attention": encoder_weights,
            "decoder self-attention": self_weights,
            "cross-attention": cross_weights,
        }
