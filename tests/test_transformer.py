"""Unit and property tests for seq2seq_helpers.transformer: attention against PyTorch's own, masks that give
exactly zero weight, the KV cache against recomputation, padding invariance, teacher forcing against a step
loop, the decoders of decoding.py used unchanged, and the errors a learner meets. Tiny models, a few seconds."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from references import beam_search_reference
from torch import nn

from seq2seq_helpers.data import EOS, PAD, SOS, pad_sequences
from seq2seq_helpers.decoding import beam_search, greedy_decode, sequence_log_probs
from seq2seq_helpers.models import lengths_to_mask
from seq2seq_helpers.training import masked_cross_entropy, stepwise_loss
from seq2seq_helpers.transformer import (
    DecoderLayer,
    MultiHeadAttention,
    TransformerSeq2Seq,
    TransformerState,
    causal_mask,
    scaled_dot_product_attention,
    sinusoidal_positions,
)

VOCAB = 11  # PAD, SOS, EOS + 8 data tokens
ATOL = 1e-5


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_model(seed=0, **kw):
    torch.manual_seed(seed)
    kw = {"d_model": 16, "num_heads": 4, "num_layers": 2, "d_ff": 32, "max_len": 64, **kw}
    model = TransformerSeq2Seq(VOCAB, **kw).eval()
    with torch.no_grad():  # a random model with confident, varied predictions (not always the same token)
        model.decoder.out.weight.mul_(8.0)
    return model


@pytest.fixture
def batch():
    sources = [[3, 4, 5, 6, 7, 8], [9, 3], [5, 5, 6, 10]]
    src, src_lengths = pad_sequences(sources)
    tgt, _ = pad_sequences([s[::-1] + [EOS] for s in sources])
    return src, src_lengths, tgt


# ------------------------------------------------------------------------------------------ pieces


def test_scaled_dot_product_attention_equals_pytorchs_and_masks_exactly():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    mask = lengths_to_mask(torch.tensor([7, 3]), 7)[:, None, None, :]  # [2, 1, 1, 7]
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, 3, 5, 4) and weights.shape == (2, 3, 5, 7)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=ATOL)
    assert torch.all(weights[1, :, :, 3:] == 0), "padded keys must get exactly zero weight"
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 5))
    manual = (q @ k.transpose(-2, -1) / math.sqrt(8)).softmax(-1)
    assert torch.allclose(scaled_dot_product_attention(q, k, v)[1], manual, atol=ATOL)  # the 1/sqrt(d) scale


def test_causal_mask_and_future_positions_get_zero_weight():
    assert torch.equal(causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool))
    torch.manual_seed(1)
    x = torch.randn(2, 6, 8)
    _, weights = scaled_dot_product_attention(x, x, x, causal_mask(6))
    assert torch.all(weights.triu(diagonal=1) == 0) and torch.all(weights.diagonal(dim1=-2, dim2=-1) > 0)


def test_sinusoidal_positions_formula():
    table = sinusoidal_positions(50, 8)
    assert table.shape == (50, 8)
    p, i = 7, 2  # PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(...)
    angle = p / 10000 ** (2 * i / 8)
    assert table[p, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert table[p, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert torch.equal(table[0, 0::2], torch.zeros(4)) and torch.equal(table[0, 1::2], torch.ones(4))


@pytest.mark.parametrize("masked", [False, True])
def test_multi_head_attention_equals_torch_multihead_attention(masked):
    torch.manual_seed(2)
    torch_mha = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    mine = MultiHeadAttention(16, 4).load_torch_weights(torch_mha)
    query, memory = torch.randn(3, 5, 16), torch.randn(3, 6, 16)
    lengths = torch.tensor([6, 2, 4])
    mask = lengths_to_mask(lengths, 6)
    out, weights = mine(query, memory, memory, mask[:, None, None, :] if masked else None)
    ref, ref_weights = torch_mha(
        query, memory, memory, key_padding_mask=~mask if masked else None, average_attn_weights=False
    )  # PyTorch's padding mask is True = ignore
    assert torch.allclose(out, ref, atol=ATOL) and torch.allclose(weights, ref_weights, atol=ATOL)
    if masked:
        assert torch.all(weights[1, :, :, 2:] == 0)


def test_a_query_that_may_attend_no_key_gets_zero_like_pytorchs_not_nan():
    """Issue 28: a query whose mask allows no key gave NaN (a softmax over nothing but -inf); PyTorch's
    scaled_dot_product_attention gives output 0 there, with zero and finite gradients. Other queries unchanged."""
    torch.manual_seed(3)
    q, k, v = (torch.randn(2, 3, s, 8, requires_grad=True) for s in (4, 5, 5))
    mask = torch.ones(2, 3, 4, 5, dtype=torch.bool)
    mask[0, 1, 2] = False  # query 2 of head 1 in example 0 may attend nothing
    mask[1, :, :, 3:] = False  # example 1: padding, every query still sees 3 keys
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(out[0, 1, 2], torch.zeros(8)) and torch.equal(weights[0, 1, 2], torch.zeros(5))
    grads = torch.autograd.grad(out.square().sum(), (q, k, v))
    assert all(torch.isfinite(grad).all() for grad in grads)
    assert torch.equal(grads[0][0, 1, 2], torch.zeros(8)), "a query that sees nothing gets no gradient"
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    sees = mask.any(-1)  # [2, 3, 4]: the queries that may attend some key
    torch.testing.assert_close(out[sees], ref[sees], atol=ATOL, rtol=0)
    if torch.isfinite(ref).all():  # current PyTorch answers 0 there too; older releases (2.1, the floor) give NaN
        assert torch.equal(ref[0, 1, 2], torch.zeros(8)), "PyTorch's own answer: 0"
        ref_grads = torch.autograd.grad(ref.square().sum(), (q, k, v))
        for grad, ref_grad in zip(grads, ref_grads):
            torch.testing.assert_close(grad, ref_grad, atol=ATOL, rtol=0)
    masked = weights.masked_select(~mask)
    assert torch.equal(masked, torch.zeros_like(masked)) and torch.allclose(weights[1].sum(-1), torch.ones(3, 4))


def test_multi_head_attention_of_a_query_that_may_attend_no_key_is_its_output_bias():
    """Every head of such a query outputs 0 (as above), so the layer gives out_proj(0) = out_proj.bias, and
    PyTorch's MultiheadAttention (need_weights=False, its scaled_dot_product_attention path) gives the same."""
    torch.manual_seed(4)
    torch_mha = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        torch_mha.out_proj.bias.normal_()  # PyTorch initialises it to 0, which would hide a wrong answer
    mine = MultiHeadAttention(16, 4).load_torch_weights(torch_mha)
    query, memory = torch.randn(2, 3, 16), torch.randn(2, 5, 16)
    real = torch.tensor([[False] * 5, [True, True, False, False, False]])  # example 0 has no real key
    out, weights = mine(query, memory, memory, real[:, None, None, :])
    ref, _ = torch_mha(query, memory, memory, key_padding_mask=~real, need_weights=False)
    assert torch.isfinite(out).all() and torch.equal(weights[0], torch.zeros(4, 3, 5))
    torch.testing.assert_close(out[0], mine.out_proj.bias.detach().expand(3, 16), atol=0, rtol=0)
    torch.testing.assert_close(out[1], ref[1], atol=ATOL, rtol=0)
    if torch.isfinite(ref).all():  # older PyTorch (2.1, the floor) gives NaN for example 0
        torch.testing.assert_close(out, ref, atol=ATOL, rtol=0)


# ------------------------------------------------------------------------------------------ the model


def test_cached_decoding_equals_recomputing_the_prefix(batch):
    src, src_lengths, _ = batch
    model = make_model()
    cached = greedy_decode(model, src, src_lengths, max_len=9)
    model.use_cache = False
    recomputed = greedy_decode(model, src, src_lengths, max_len=9)
    assert len(set(cached.tokens.flatten().tolist())) > 2, "the test model should write varied tokens"
    assert torch.equal(cached.tokens, recomputed.tokens) and torch.equal(cached.lengths, recomputed.lengths)
    assert torch.allclose(cached.log_probs, recomputed.log_probs, atol=ATOL)
    assert torch.allclose(cached.attention, recomputed.attention, atol=ATOL)


def test_cache_grows_one_position_per_step_and_steps_equal_teacher_forcing(batch):
    src, src_lengths, tgt = batch
    model = make_model(seed=3)
    with torch.no_grad():
        logits, attention = model(src, src_lengths, tgt, return_attention=True)  # [3, T, vocab], [3, T, S + 1]
        state = model.encode(src, src_lengths)
        prev = torch.full((3,), SOS)
        for t in range(tgt.shape[1]):
            step_logits, state, step_attention = model.decode_step(prev, state)
            assert len(state.self_kv) == 2 and state.self_kv[0][0].shape == (3, 4, t + 1, 4)
            assert state.tokens.shape == (3, t + 1)
            assert torch.allclose(step_logits, logits[:, t], atol=ATOL), f"step {t} differs from teacher forcing"
            assert torch.allclose(step_attention, attention[:, t], atol=ATOL)
            prev = tgt[:, t]
    batch_obj = type("B", (), {"src": src, "src_lengths": src_lengths, "tgt": tgt})
    with torch.no_grad():
        assert torch.allclose(stepwise_loss(model, batch_obj), masked_cross_entropy(logits, tgt), atol=ATOL)


def test_padding_invariance(batch):
    """A row's logits, attention and decoded tokens do not depend on the other rows or on extra padding."""
    src, src_lengths, tgt = batch
    model = make_model(seed=4)
    with torch.no_grad():
        logits, attention = model(src, src_lengths, tgt, return_attention=True)
        for i in range(3):
            n, m = int(src_lengths[i]), int((tgt[i] != PAD).sum())
            wide = F.pad(src[i : i + 1, :n], (0, 5), value=PAD)  # alone, with much more padding
            alone, alone_attention = model(wide, src_lengths[i : i + 1], tgt[i : i + 1, :m], return_attention=True)
            assert torch.allclose(alone[0], logits[i, :m], atol=ATOL)
            assert torch.allclose(alone_attention[0, :, : n + 1], attention[i, :m, : n + 1], atol=ATOL)
            assert torch.all(attention[i, :, n + 1 :] == 0), "padding (after the end marker) gets exactly zero weight"
    together = greedy_decode(model, src, src_lengths, max_len=9)
    for i in range(3):
        n = int(src_lengths[i])
        alone = greedy_decode(model, src[i : i + 1, :n], src_lengths[i : i + 1], max_len=9)
        width = alone.tokens.shape[1]
        assert torch.equal(alone.tokens[0], together.tokens[i, :width])
        assert torch.all(together.tokens[i, width:] == PAD)


def test_changing_a_future_target_token_changes_no_earlier_logit(batch):
    src, src_lengths, tgt = batch
    model = make_model(seed=5)
    changed = tgt.clone()
    changed[:, 2] = 3 + (changed[:, 2] - 2) % 8  # another data token at position 2
    with torch.no_grad():
        a, b = model(src, src_lengths, tgt), model(src, src_lengths, changed)
    assert torch.allclose(a[:, :3], b[:, :3], atol=ATOL), "the decoder must not see the future (causal mask)"
    assert not torch.allclose(a[:, 3:], b[:, 3:], atol=ATOL)


def test_encoder_self_attention_ignores_padding_and_returns_every_map(batch):
    src, src_lengths, tgt = batch
    maps = make_model(seed=6).attention_maps(src, src_lengths, tgt)
    assert set(maps) == {"encoder self-attention", "decoder self-attention", "cross-attention"}
    enc, self_attn, cross = maps["encoder self-attention"], maps["decoder self-attention"], maps["cross-attention"]
    assert len(enc) == len(self_attn) == len(cross) == 2
    assert enc[0].shape == (3, 4, 7, 7) and self_attn[0].shape == (3, 4, 7, 7) and cross[0].shape == (3, 4, 7, 7)
    assert torch.all(enc[1][1, :, :, 3:] == 0)  # source 1 has 2 tokens + the end marker
    assert torch.all(self_attn[0].triu(diagonal=1) == 0)


def test_without_positions_the_encoder_cannot_tell_the_order():
    model = make_model(seed=7, positions=None, mark_end=False)
    src = torch.tensor([[3, 4, 5, 6], [6, 5, 4, 3]])
    lengths = torch.tensor([4, 4])
    with torch.no_grad():
        state = model.encode(src, lengths)
        logits, _, _ = model.decode_step(torch.full((2,), SOS), state)
    assert torch.allclose(logits[0], logits[1], atol=ATOL), "a permuted source must give the same prediction"
    assert torch.allclose(state.memory[0], state.memory[1].flip(0), atol=ATOL)


@pytest.mark.parametrize("seed", [0, 1])
def test_beam_width_one_is_greedy_and_beam_equals_the_reference(batch, seed):
    src, src_lengths, _ = batch
    model = make_model(seed=seed)
    greedy = greedy_decode(model, src, src_lengths, max_len=9)
    beam = beam_search(model, src, src_lengths, beam_size=1, max_len=9)
    width = greedy.tokens.shape[1]
    assert torch.equal(beam.tokens[:, 0, :width], greedy.tokens)
    assert torch.allclose(beam.log_probs[:, 0], greedy.log_probs, atol=ATOL)
    wide = beam_search(model, src, src_lengths, beam_size=3, max_len=9, n_best=3)
    for i in range(3):
        n = int(src_lengths[i])
        ref = beam_search_reference(model, src[i, :n], n, beam_size=3, max_len=9)
        for j, hyp in enumerate(ref):
            assert wide.tokens[i, j, : len(hyp.tokens)].tolist() == hyp.tokens
            assert wide.log_probs[i, j].item() == pytest.approx(hyp.log_prob, abs=1e-4)


def test_beam_search_with_and_without_cache_agree(batch):
    src, src_lengths, _ = batch
    model = make_model(seed=8)
    cached = beam_search(model, src, src_lengths, beam_size=4, max_len=9, n_best=4)
    model.use_cache = False
    recomputed = beam_search(model, src, src_lengths, beam_size=4, max_len=9, n_best=4)
    assert torch.equal(cached.tokens, recomputed.tokens)
    assert torch.allclose(cached.log_probs, recomputed.log_probs, atol=ATOL)


def test_sequence_log_probs_equal_the_decoders_own(batch):
    src, src_lengths, _ = batch
    model = make_model(seed=9)
    greedy = greedy_decode(model, src, src_lengths, max_len=9)
    assert torch.allclose(sequence_log_probs(model, src, src_lengths, greedy.tokens), greedy.log_probs, atol=1e-4)
    beam = beam_search(model, src, src_lengths, beam_size=3, max_len=9, n_best=2)
    for j in range(2):
        scored = sequence_log_probs(model, src, src_lengths, beam.tokens[:, j])
        assert torch.allclose(scored, beam.log_probs[:, j], atol=1e-4)


def test_state_select_and_reorder(batch):
    src, src_lengths, _ = batch
    model = make_model()
    state = model.encode(src, src_lengths)
    _, state, _ = model.decode_step(torch.full((3,), SOS), state)
    picked = state.select(torch.tensor([2, 2, 0]))
    assert isinstance(picked, TransformerState) and picked.batch_size == 3
    assert torch.equal(picked.memory[0], state.memory[2]) and torch.equal(picked.memory[2], state.memory[0])
    assert torch.equal(picked.self_kv[1][0][1], state.self_kv[1][0][2])
    assert torch.equal(picked.cross_kv[0][1][0], state.cross_kv[0][1][2])
    beam = state.select(torch.tensor([0, 0, 1, 1]))  # two hypotheses per source
    swapped = beam.reorder(torch.tensor([1, 0, 3, 2]))
    full = beam.select(torch.tensor([1, 0, 3, 2]))
    for a, b in zip(swapped.self_kv[0] + (swapped.tokens,), full.self_kv[0] + (full.tokens,)):
        assert torch.equal(a, b)
    with pytest.raises(TypeError, match="1-D torch.long"):
        state.select([0, 1])
    with pytest.raises(ValueError, match="outside"):
        state.select(torch.tensor([3]))
    with pytest.raises(ValueError, match="keeps the number of rows"):
        state.reorder(torch.tensor([0, 1]))


def test_decoder_layer_step_equals_its_forward():
    torch.manual_seed(10)
    layer = DecoderLayer(16, 4, 32).eval()
    x, memory = torch.randn(2, 5, 16), torch.randn(2, 3, 16)
    k, v = layer.cross_attn.project_kv(memory, memory)
    mask = torch.ones(2, 1, 1, 3, dtype=torch.bool)
    full, _, _ = layer(x, k, v, mask)
    cache = None
    for t in range(5):
        out, cache, _ = layer.step(x[:, t : t + 1], cache, k, v, mask)
        assert torch.allclose(out[:, 0], full[:, t], atol=ATOL)
    assert cache[0].shape == (2, 4, 5, 4)


def test_training_reduces_the_loss(batch):
    src, src_lengths, tgt = batch
    model = make_model(seed=11).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = masked_cross_entropy(model(src, src_lengths, tgt), tgt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_dropout_is_off_in_eval_and_decoding(batch):
    src, src_lengths, tgt = batch
    model = make_model(seed=12, dropout=0.3)
    with torch.no_grad():
        assert torch.equal(model(src, src_lengths, tgt), model(src, src_lengths, tgt))
    model.train()
    greedy_decode(model, src, src_lengths, max_len=5)
    assert model.training, "decoding restores training mode"


# ------------------------------------------------------------------------------------------ errors


def test_errors_for_bad_construction():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        TransformerSeq2Seq(VOCAB, d_model=10, num_heads=4)
    with pytest.raises(ValueError, match="positions must be"):
        TransformerSeq2Seq(VOCAB, positions="learned")
    with pytest.raises(TypeError, match="d_model must be an int"):
        TransformerSeq2Seq(VOCAB, d_model=16.0)
    with pytest.raises(ValueError, match="vocab_size"):
        TransformerSeq2Seq(2)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(10, 7)
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(TypeError, match="nn.MultiheadAttention"):
        MultiHeadAttention(16, 4).load_torch_weights(nn.Linear(16, 16))
    with pytest.raises(ValueError, match="num_heads=4"):
        MultiHeadAttention(16, 4).load_torch_weights(nn.MultiheadAttention(16, 2))


def test_positions_none_needs_no_even_d_model_and_sinusoidal_does(batch):
    """d_model's evenness is a need of the sine/cosine table alone (checked once, where the table is built):
    without positions an odd d_model works, as TransformerSeq2Seq's docstring promises."""
    src, src_lengths, tgt = batch
    model = TransformerSeq2Seq(VOCAB, d_model=9, num_heads=3, d_ff=16, positions=None)
    assert model(src, src_lengths, tgt).shape == (3, tgt.shape[1], VOCAB)
    with pytest.raises(ValueError, match="d_model must be even for sinusoidal positions"):
        TransformerSeq2Seq(VOCAB, d_model=9, num_heads=3)


def test_errors_for_bad_inputs(batch):
    src, src_lengths, tgt = batch
    model = make_model()
    with pytest.raises(TypeError, match="integer token ids"):
        model.encode(src.float(), src_lengths)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model.encode(src + VOCAB, src_lengths)
    with pytest.raises(ValueError, match="src_lengths"):
        model.encode(src, src_lengths[:2])
    with pytest.raises(TypeError, match="integer lengths"):
        model.encode(src, src_lengths.float())
    with pytest.raises(ValueError, match="starts with SOS"):
        model(src, src_lengths, torch.cat([torch.full((3, 1), SOS), tgt], dim=1))
    state = model.encode(src, src_lengths)
    with pytest.raises(ValueError, match="prev_tokens has 2 rows"):
        model.decode_step(torch.tensor([SOS, SOS]), state)
    with pytest.raises(ValueError, match=r"shape \[batch\]"):
        model.decode_step(torch.full((3, 1), SOS), state)
    with pytest.raises(TypeError, match="TransformerState"):
        model.decode_step(torch.full((3,), SOS), (state.memory,))
    with pytest.raises(ValueError, match="max_len"):
        short = make_model(max_len=4)
        short.encode(src, src_lengths)
    x = torch.randn(2, 3, 8)
    with pytest.raises(TypeError, match="bool"):
        scaled_dot_product_attention(x, x, x, torch.ones(3, 3))
    with pytest.raises(ValueError, match="does not broadcast"):
        scaled_dot_product_attention(x, x, x, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="same size"):
        scaled_dot_product_attention(x, torch.randn(2, 3, 4), x)
    with pytest.raises(ValueError, match="d_model=16"):
        MultiHeadAttention(16, 4)(x, x, x)


def _attention_doors():
    """(name, call) for every public attention entry of the package, each taking (query, key, value, mask) as
    [batch, length, 16] tensors and a [batch, 1, 1, key_len] (or, for lesson 04's modules, [batch, key_len]) mask."""
    from seq2seq_helpers.attention import make_attention

    torch.manual_seed(5)
    mha, layer = MultiHeadAttention(16, 4), DecoderLayer(16, 4, 32)

    def attend(q, k, v, m):
        return mha.attend(q, *mha.project_kv(k, v), m) if k.dtype == q.dtype else mha.attend(q, k, v, m)

    doors = [
        ("scaled_dot_product_attention", lambda q, k, v, m: scaled_dot_product_attention(q, k, v, m[:, 0]), True),
        ("MultiHeadAttention", mha, True),
        ("MultiHeadAttention.attend", attend, True),
    ]
    for kind in ("additive", "dot", "general"):
        module = make_attention(kind, 16, 16)
        doors.append((type(module).__name__, lambda q, k, v, m, module=module: module(q, k, m[:, 0, 0]), False))
    doors.append(("DecoderLayer", lambda q, k, v, m: layer(q, *layer.cross_attn.project_kv(k, v), m), True))
    return doors


@pytest.mark.parametrize("name, door, heads", _attention_doors(), ids=[d[0] for d in _attention_doors()])
def test_every_attention_door_names_the_problem_and_the_fix_instead_of_torchs_runtime_error(name, door, heads):
    """Issue 28: a float64 key beside a float32 query, integer tensors, batches that don't broadcast, masks of
    the wrong dtype or shape and tensors on two devices reached PyTorch's RuntimeErrors. Each must be a
    TypeError (wrong dtype) or ValueError (wrong shape or device) that names what is wrong and the fix."""
    q, kv = torch.randn(2, 3, 16), torch.randn(2, 5, 16)
    mask = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    door(q, kv, kv, mask)  # the valid call works
    cases = [
        (
            "float64 key",
            (q, kv.double(), kv, mask),
            TypeError,
            r"(key|keys|k) is torch\.float64.*\.to\(|but (key|keys|k) is torch\.float64.*\.to\(",
        ),
        (
            "integer query",
            (q.long(), kv, kv, mask),
            TypeError,
            r"(query|x) must be a float tensor.*Embedding.*float\(\)",
        ),
        ("integer key", (q, kv.long(), kv, mask), TypeError, r"(key|keys|k) must be a float tensor"),
        ("other batch", (q, torch.randn(3, 5, 16), torch.randn(3, 5, 16), mask), ValueError, r"batch"),
        ("int mask", (q, kv, kv, mask.long()), TypeError, r"mask must be a bool tensor.*(lengths_to_mask|\.bool\(\))"),
        ("mask too long", (q, kv, kv, torch.ones(2, 1, 1, 6, dtype=torch.bool)), ValueError, r"mask"),
        ("key on meta", (q, kv.to("meta"), kv.to("meta"), mask), ValueError, r"is on meta.*\.to\("),
    ]
    if heads:
        cases.append(("value float64", (q, kv, kv.double(), mask), TypeError, r"float64"))
    for label, args, error, says in cases:
        with pytest.raises((TypeError, ValueError)) as caught:
            door(*args)
        assert type(caught.value) is error, f"{name}, {label}: {type(caught.value).__name__}: {caught.value}"
        assert re.search(says, str(caught.value)), f"{name}, {label}: {caught.value}"
        assert str(caught.value).startswith(name.split(".")[0]) or name == "DecoderLayer", caught.value


def test_a_float64_model_takes_float64_inputs_and_a_float32_one_says_what_to_convert():
    mha = MultiHeadAttention(16, 4).double()
    x = torch.randn(2, 3, 16, dtype=torch.float64)
    out, _ = mha(x, x, x)
    assert out.dtype == torch.float64
    with pytest.raises(TypeError, match=r"query is torch\.float32 but the module's weights are torch\.float64.*to\("):
        mha(x.float(), x.float(), x.float())
    with pytest.raises(ValueError, match=r"does not broadcast to the scores' shape \[2, 3, 3\]"):
        scaled_dot_product_attention(x, x, x, torch.ones(4, 2, 3, 3, dtype=torch.bool))  # would grow the output
    with pytest.raises(ValueError, match=r"one new position"):
        DecoderLayer(16, 4, 32).double().step(x, None, *mha.project_kv(x, x), None)


def test_the_model_checks_once_at_its_door_and_its_layers_run_unchecked(batch, monkeypatch):
    """Issue 28: the package's own loops do not re-check tensors they produced. Training and cached decoding call
    none of the attention checks: the model's encode / decode_step check the tokens the learner passes."""
    import seq2seq_helpers.transformer as transformer

    calls = []
    for check in ("_check_vectors", "_check_projected", "_check_heads_mask"):
        original = getattr(transformer, check)
        monkeypatch.setattr(transformer, check, lambda *a, _f=original, **k: calls.append(1) or _f(*a, **k))
    monkeypatch.setattr(transformer._validate, "float_tensors", lambda *a, **k: calls.append(1))
    src, src_lengths, tgt = batch
    model = make_model()
    masked_cross_entropy(model(src, src_lengths, tgt), tgt).backward()
    greedy_decode(model, src, src_lengths, max_len=6)
    assert calls == []
    model.decoder.layers[0](
        torch.randn(1, 2, 16), *model.decoder.layers[0].cross_attn.project_kv(*[torch.randn(1, 3, 16)] * 2), None
    )
    assert calls, "the checks this test counts are the ones the public entries run"


# ------------------------------------------------------------------------------------------ pictures


def test_attention_heads_browser_follows_its_controls(batch):
    import matplotlib

    matplotlib.use("Agg")
    from seq2seq_helpers.widgets import attention_heads_browser

    src, src_lengths, tgt = batch
    maps = make_model(seed=13).attention_maps(src[:1], src_lengths[:1], tgt[:1])
    one = {kind: [w[0] for w in layers] for kind, layers in maps.items()}  # example 0: [heads, query, key] per layer
    src_tokens = list("abcdef") + ["<eos>"]
    out_tokens = list("fedcba") + ["<eos>"]
    demo = attention_heads_browser(one, src_tokens, out_tokens)
    note = demo.children[1]
    assert "encoder self-attention, layer 0, head 0" in note.value
    weights = one["encoder self-attention"][0][0]
    r, c = divmod(int(weights.argmax()), weights.shape[1])
    assert f"<b>{weights[r, c]:.2f}</b>" in note.value and f"(row {r})" in note.value and f"(column {c})" in note.value
    demo.controls["kind"].value = "cross-attention"
    demo.controls["layer"].value = 1
    demo.controls["head"].value = 3
    weights = one["cross-attention"][1][3]
    r, c = divmod(int(weights.argmax()), weights.shape[1])
    assert "cross-attention, layer 1, head 3" in note.value and f"(row {r})" in note.value
    assert f"<b>{html_escape(out_tokens[r])}</b>" in note.value and f"<b>{html_escape(src_tokens[c])}</b>" in note.value
    demo.controls["kind"].value = "decoder self-attention"
    assert "(column" in note.value and demo.controls["head"].max == 3 and demo.controls["layer"].max == 1
    with pytest.raises(ValueError, match="non-empty dict"):
        attention_heads_browser({}, src_tokens, out_tokens)
    with pytest.raises(ValueError, match="one \\[heads, query, key\\] entry per layer"):
        attention_heads_browser({"cross-attention": []}, src_tokens, out_tokens)


def html_escape(text):
    import html

    return html.escape(text)


def test_plot_attention_heads_draws_one_panel_per_layer_and_head(batch):
    import matplotlib

    matplotlib.use("Agg")
    from seq2seq_helpers.plots import plot_attention_heads

    src, src_lengths, tgt = batch
    maps = make_model(seed=14).attention_maps(src[:1], src_lengths[:1], tgt[:1])
    fig = plot_attention_heads(
        [w[0] for w in maps["cross-attention"]], list("fedcba") + ["<eos>"], list("abcdef") + ["<eos>"], title="cross"
    )
    assert len(fig.axes) == 2 * 4 and fig.axes[0].get_title() == "head 0"
    image = fig.axes[5].get_images()[0].get_array()
    assert image.shape == (7, 7) and abs(float(image[2].sum()) - 1.0) < 1e-5
    with pytest.raises(ValueError, match="non-empty list"):
        plot_attention_heads([], ["a"], ["b"])
    with pytest.raises(ValueError, match="same number of heads"):
        plot_attention_heads([torch.ones(2, 3, 3), torch.ones(3, 3, 3)], list("abc"), list("abc"))


# Lesson 08's exercises are proven against plausible mistakes by the autograding proof, in nbval's run of the
# lesson (tests/autograding_proof.py; the mistakes are listed in tests/plausible_mistakes.py).
