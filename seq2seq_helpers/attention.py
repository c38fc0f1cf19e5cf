"""Attention over the encoder outputs, and the padding masks it needs (lesson 04 §1; masks: lesson 02 §3).

Every attention module computes, for queries ``q`` (decoder states) and keys ``k`` (encoder outputs)::

    scores  = score(q, k)                        # [batch, tgt_len, src_len]
    weights = softmax(scores masked to -inf on padding)
    context = weights @ k                        # [batch, tgt_len, key_dim]

and differs only in ``score``: additive (Bahdanau) ``v·tanh(W q + U k)``, dot (Luong) ``q·k``, general (Luong)
``qᵀ W k``. The part of the score that depends on the keys alone (``U k``, ``W k``) is ``precompute(keys)``, so
a decoder that runs step by step computes it once per source sentence.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _validate

__all__ = [
    "lengths_to_mask",
    "AdditiveAttention",
    "DotAttention",
    "GeneralAttention",
    "ATTENTION_KINDS",
    "make_attention",
]


def lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``[batch, max_len]`` bool mask, True on real tokens: ``mask[b, i] = i < lengths[b]``.

    Built by hand in lesson 02 §3 (masking) and exercise 1 there; attention uses it in lesson 04 §1.

    >>> lengths_to_mask(torch.tensor([3, 1]), 4)
    tensor([[ True,  True,  True, False],
            [ True, False, False, False]])
    """
    lengths = _validate.lengths(lengths, "lengths", width=_validate.integer(max_len, "max_len"), minimum=0)
    return _lengths_to_mask(lengths, max_len)


def _lengths_to_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    # lengths_to_mask without the checks, for a model's encode (its encoder checked the lengths already)
    positions = torch.arange(max_len, device=lengths.device)  # [max_len]
    return positions.unsqueeze(0) < lengths.unsqueeze(1)  # [batch, max_len]


class _Attention(nn.Module):
    """What every attention shares: mask, softmax and the weighted sum (lesson 04 §1).

    A subclass gives ``precompute(keys [B,S,Hk]) -> projected [B,S,P]`` (the keys' part of the score, ``P`` its
    ``projected_dim``) and ``score_projected(query [B,T,Hq], projected) -> scores [B,T,S]``.

    ``forward`` checks its arguments (a source row with no real token is refused: its softmax would be over
    nothing but ``-inf``, NaN); ``_attend`` is the same computation unchecked, for a decoder that calls it at
    every step on tensors it made itself.
    """

    query_dim: int
    key_dim: int
    projected_dim: int

    def precompute(self, keys: torch.Tensor) -> torch.Tensor:
        return keys  # [batch, src_len, key_dim]

    def score_projected(self, query: torch.Tensor, projected: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor, projected_keys: torch.Tensor | None = None
    ):
        # query: [batch, tgt_len, query_dim], keys: [batch, src_len, key_dim], mask: [batch, src_len] True = real
        # projected_keys: precompute(keys), passed by step-by-step decoders that computed it once
        self._check(query, keys, mask, projected_keys)
        return self._attend(query, keys, mask, projected_keys)

    def _attend(self, query, keys, mask, projected_keys=None):
        if projected_keys is None:
            projected_keys = self.precompute(keys)
        scores = self.score_projected(query, projected_keys)  # [batch, tgt_len, src_len]
        weights = torch.softmax(scores.masked_fill(~mask.unsqueeze(1), float("-inf")), dim=-1)  # 0 on padding
        return torch.bmm(weights, keys), weights  # context [batch, tgt_len, key_dim], weights [batch, tgt_len, src_len]

    def _check(self, query, keys, mask, projected_keys) -> None:
        """``forward``'s arguments: ``query [B,T,query_dim]``, ``keys [B,S,key_dim]``, ``mask [B,S]`` bool with a
        real token in every row, ``projected_keys`` None or ``precompute(keys)`` ``[B,S,projected_dim]``; float
        tensors of the weights' dtype, all on the weights' device. Only the last check reads tensor values."""
        where = type(self).__name__
        dtype, device = _validate.weights_of(self)
        named = {"query": query, "keys": keys}
        if projected_keys is not None:
            named["projected_keys"] = projected_keys
        _validate.float_tensors(where, named, dtype)
        if query.dim() != 3:
            raise ValueError(
                f"{where}: query must have shape [batch, tgt_len, {self.query_dim}], got "
                f"{list(query.shape)}; for one step use query.unsqueeze(1)"
            )
        if keys.dim() != 3:
            raise ValueError(f"{where}: keys must have shape [batch, src_len, {self.key_dim}], got {list(keys.shape)}")
        if query.shape[0] != keys.shape[0]:
            raise ValueError(f"{where}: query has batch {query.shape[0]} but keys have batch {keys.shape[0]}")
        if query.shape[-1] != self.query_dim or keys.shape[-1] != self.key_dim:
            raise ValueError(
                f"{where}: expected query [..., {self.query_dim}] and keys [..., {self.key_dim}], got "
                f"query {list(query.shape)} and keys {list(keys.shape)}"
            )
        if query.shape[1] == 0 or keys.shape[1] == 0:
            raise ValueError(
                f"{where}: query and keys need at least one position, got query {list(query.shape)} and "
                f"keys {list(keys.shape)}"
            )
        expected = [*keys.shape[:2], self.projected_dim]
        if projected_keys is not None and list(projected_keys.shape) != expected:
            raise ValueError(
                f"{where}: projected_keys must be precompute(keys), [batch, src_len, {self.projected_dim}] = "
                f"{expected}, got {list(projected_keys.shape)}"
            )
        _validate.one_device(where, {**named, "mask": mask if isinstance(mask, torch.Tensor) else None}, device)
        _validate.src_mask_(mask, keys.shape[0], keys.shape[1], where)  # type, shape, then a real token per row


class AdditiveAttention(_Attention):
    """Bahdanau (additive) attention: ``score(q, k) = vᵀ tanh(W q + U k)`` (lesson 04 §1).

    ``attn_dim`` (default ``query_dim``) is the width of the hidden layer ``W q + U k``.
    """

    def __init__(self, query_dim: int, key_dim: int, attn_dim: int | None = None):
        super().__init__()
        attn_dim = query_dim if attn_dim is None else attn_dim
        _validate.sizes(query_dim=query_dim, key_dim=key_dim, attn_dim=attn_dim)
        self.query_dim, self.key_dim, self.projected_dim = query_dim, key_dim, attn_dim
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
    """Luong dot attention: ``score(q, k) = q · k``; needs ``query_dim == key_dim``; no parameters
    (lesson 04 §1 and its exercise 1)."""

    def __init__(self, query_dim: int, key_dim: int | None = None):
        super().__init__()
        key_dim = query_dim if key_dim is None else key_dim
        _validate.sizes(query_dim=query_dim, key_dim=key_dim)
        if query_dim != key_dim:
            raise ValueError(
                f"dot attention needs query and key vectors of the same size, got query_dim={query_dim} and "
                f"key_dim={key_dim}; use 'general' or 'additive' attention, or make the decoder's hid_dim equal "
                "the encoder's output size"
            )
        self.query_dim, self.key_dim, self.projected_dim = query_dim, key_dim, key_dim

    def score_projected(self, query, projected):
        return torch.bmm(query, projected.transpose(1, 2))  # [batch, tgt_len, src_len]


class GeneralAttention(_Attention):
    """Luong general attention: ``score(q, k) = qᵀ W k`` (lesson 04 §1; compared in lesson 06 exercise 2)."""

    def __init__(self, query_dim: int, key_dim: int):
        super().__init__()
        _validate.sizes(query_dim=query_dim, key_dim=key_dim)
        self.query_dim, self.key_dim, self.projected_dim = query_dim, key_dim, query_dim
        self.W = nn.Linear(key_dim, query_dim, bias=False)

    def precompute(self, keys):
        return self.W(keys)  # [batch, src_len, query_dim]

    def score_projected(self, query, projected):
        return torch.bmm(query, projected.transpose(1, 2))  # [batch, tgt_len, src_len]


ATTENTION_KINDS = ("additive", "dot", "general")


def make_attention(kind, query_dim: int, key_dim: int, attn_dim: int | None = None) -> nn.Module:
    """``kind`` (one of ``ATTENTION_KINDS``) built for these sizes, or ``kind`` itself if it is a module."""
    if attn_dim is not None and kind != "additive":
        raise ValueError(
            f"attn_dim is the size of additive attention's hidden layer; "
            f"{kind if isinstance(kind, str) else type(kind).__name__!r} attention has none: "
            "drop attn_dim or use attention='additive'"
        )
    if isinstance(kind, nn.Module):
        return kind
    if not isinstance(kind, str):
        raise TypeError(f"attention must be one of {ATTENTION_KINDS} or an attention module, got {kind!r}")
    _validate.one_of(kind, "attention", ATTENTION_KINDS)
    if kind == "additive":
        return AdditiveAttention(query_dim, key_dim, attn_dim)
    return DotAttention(query_dim, key_dim) if kind == "dot" else GeneralAttention(query_dim, key_dim)
