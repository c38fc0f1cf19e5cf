"""Unit and property tests for seq2seq_helpers.models: shapes, packing, masking, padding invariance,
teacher forcing and the errors a learner meets. Every model is tiny so the file runs in a few seconds."""

import pytest
import torch

from seq2seq_helpers.data import EOS, PAD, SOS, pad_sequences
from seq2seq_helpers.decoding import greedy_decode
from seq2seq_helpers.models import (
    AdditiveAttention,
    AttentionDecoder,
    AttentionSeq2Seq,
    DecoderGRU,
    DecoderState,
    DotAttention,
    EncoderGRU,
    GeneralAttention,
    LSTMEncoder,
    Seq2Seq,
    lengths_to_mask,
    shift_right,
)

VOCAB = 9  # PAD, SOS, EOS + 6 data tokens (ids 3..8)
EMB, HID = 6, 8
ATOL = 1e-5
ATTENTION_KINDS = ["additive", "dot", "general"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors run on one thread


def make_gru(seed=0, num_layers=1):
    torch.manual_seed(seed)
    return Seq2Seq(EncoderGRU(VOCAB, EMB, HID, num_layers), DecoderGRU(VOCAB, EMB, HID, num_layers))


def make_attention(kind="additive", seed=0, num_layers=1, bidirectional=True, **layout):
    """A (Bi)LSTM + attention model; ``layout`` passes layout=, input_feeding= to the decoder."""
    torch.manual_seed(seed)
    encoder = LSTMEncoder(VOCAB, EMB, HID // 2 if bidirectional else HID, num_layers, bidirectional)
    decoder = AttentionDecoder(VOCAB, EMB, encoder.dec_hid_dim, encoder.enc_dim, kind, num_layers, **layout)
    return AttentionSeq2Seq(encoder, decoder)


def make_gru_attention(kind="additive", seed=0, num_layers=1, **layout):
    """A GRU encoder + GRU attention decoder (lesson 04's ablation)."""
    torch.manual_seed(seed)
    encoder = EncoderGRU(VOCAB, EMB, HID, num_layers)
    decoder = AttentionDecoder(VOCAB, EMB, HID, encoder.enc_dim, kind, num_layers, cell="gru", **layout)
    return AttentionSeq2Seq(encoder, decoder)


# Every decoder layout and cell: (name, attention kind); the names are the keys of MAKERS.
MAKERS = {
    "gru": lambda kind, seed: make_gru(seed),
    "attention": lambda kind, seed: make_attention(kind, seed),
    "bahdanau": lambda kind, seed: make_attention(kind, seed, layout="bahdanau"),
    "feeding": lambda kind, seed: make_attention(kind, seed, input_feeding=True),
    "gru-attention": lambda kind, seed: make_gru_attention(kind, seed),
    "gru-bahdanau": lambda kind, seed: make_gru_attention(kind, seed, layout="bahdanau"),
    "gru-feeding": lambda kind, seed: make_gru_attention(kind, seed, input_feeding=True),
    "bahdanau-2-layers": lambda kind, seed: make_attention(kind, seed, num_layers=2, layout="bahdanau"),
    "feeding-2-layers": lambda kind, seed: make_attention(kind, seed, num_layers=2, input_feeding=True),
}
LAYOUT_MODELS = [
    ("bahdanau", "additive"),
    ("bahdanau", "general"),
    ("feeding", "additive"),
    ("feeding", "dot"),
    ("gru-attention", "additive"),
    ("gru-bahdanau", "dot"),
    ("gru-feeding", "general"),
    ("bahdanau-2-layers", "additive"),
    ("feeding-2-layers", "general"),
]
ALL_MODELS = [("gru", None)] + [("attention", kind) for kind in ATTENTION_KINDS] + LAYOUT_MODELS


def make_model(name, kind, seed=0):
    return MAKERS[name](kind, seed)


def first_state(hidden):
    """The RNN's h [layers, batch, hid] from any decoder state: h, (h, c), (h, feed) or (h, c, feed)."""
    return hidden if isinstance(hidden, torch.Tensor) else hidden[0]


@pytest.fixture
def batch():
    """Three sources of lengths 5, 2, 3 and their targets (reversal, EOS appended), padded."""
    sources = [[3, 4, 5, 6, 7], [8, 3], [5, 5, 6]]
    src, src_lengths = pad_sequences(sources)
    tgt, tgt_lengths = pad_sequences([s[::-1] + [EOS] for s in sources])
    return src, src_lengths, tgt, tgt_lengths


# -------------------------------------------------------------------------------------------- shapes


def test_encoder_shapes_and_padding_idx(batch):
    src, src_lengths, _, _ = batch
    torch.manual_seed(0)
    gru = EncoderGRU(VOCAB, EMB, HID, num_layers=2)
    outputs, hidden = gru(src, src_lengths)
    assert outputs.shape == (3, 5, HID) and hidden.shape == (2, 3, HID)
    assert gru.embedding.padding_idx == PAD and torch.all(gru.embedding.weight[PAD] == 0)
    assert gru.rnn.batch_first

    lstm = LSTMEncoder(VOCAB, EMB, HID, num_layers=2, bidirectional=True)
    outputs, (h, c) = lstm(src, src_lengths)
    assert lstm.enc_dim == lstm.dec_hid_dim == 2 * HID
    assert outputs.shape == (3, 5, 2 * HID) and h.shape == c.shape == (2, 3, 2 * HID)
    assert lstm.embedding.padding_idx == PAD
    # Padding positions of the outputs are exactly zero (pad_packed_sequence), width equals the input width.
    mask = lengths_to_mask(src_lengths, 5)
    assert torch.all(outputs[~mask] == 0)
    wide_src = torch.cat([src, torch.full((3, 2), PAD)], dim=1)  # extra padding column
    assert lstm(wide_src, src_lengths)[0].shape == (3, 7, 2 * HID)

    one_way = LSTMEncoder(VOCAB, EMB, HID, bidirectional=False)
    outputs, (h, c) = one_way(src, src_lengths)
    assert one_way.enc_dim == HID and outputs.shape == (3, 5, HID) and h.shape == (1, 3, HID)


def test_decoder_shapes_and_attribute_names(batch):
    src, src_lengths, tgt, _ = batch
    model = make_gru()
    assert {name for name, _ in model.decoder.named_children()} == {"embedding", "rnn", "out"}
    assert {name for name, _ in model.encoder.named_children()} == {"embedding", "rnn"}
    assert model.decoder.embedding.padding_idx == PAD
    hidden = torch.zeros(1, 3, HID)
    logits, hidden = model.decoder(tgt, hidden)
    assert logits.shape == (3, 6, VOCAB) and hidden.shape == (1, 3, HID)
    logits, hidden = model.decoder.step(tgt[:, 0], hidden)
    assert logits.shape == (3, VOCAB)
    assert model(src, src_lengths, tgt).shape == (3, 6, VOCAB)

    att = make_attention()
    logits, attention = att(src, src_lengths, tgt, return_attention=True)
    assert logits.shape == (3, 6, VOCAB) and attention.shape == (3, 6, 5)
    assert att(src, src_lengths, tgt).shape == (3, 6, VOCAB)
    state = att.encode(src, src_lengths)
    logits, state, attention = att.decode_step(torch.full((3,), SOS), state)
    assert logits.shape == (3, VOCAB) and attention.shape == (3, 5)


def test_lengths_to_mask_and_shift_right():
    assert lengths_to_mask(torch.tensor([3, 1]), 4).tolist() == [[True, True, True, False], [True, False, False, False]]
    assert shift_right(torch.tensor([[4, 5, EOS], [6, EOS, PAD]])).tolist() == [[SOS, 4, 5], [SOS, 6, EOS]]


def test_state_select_indexes_batch_of_every_tensor(batch):
    src, src_lengths, _, _ = batch
    state = make_attention().encode(src, src_lengths)
    index = torch.tensor([2, 2, 0])
    picked = state.select(index)
    h, c = state.hidden
    assert torch.equal(picked.hidden[0], h[:, index]) and torch.equal(picked.hidden[1], c[:, index])
    assert torch.equal(picked.encoder_outputs, state.encoder_outputs[index])
    assert torch.equal(picked.src_mask, state.src_mask[index])
    assert torch.equal(picked.attention_keys, state.attention_keys[index])
    # reorder == select when rows only move among rows of one source (beam hypotheses of one input)
    beams = state.select(torch.tensor([0, 0, 1, 1]))
    within = torch.tensor([1, 0, 3, 2])
    for a, b in zip(beams.reorder(within), beams.select(within)):
        for x, y in zip(a, b) if isinstance(a, tuple) else [(a, b)]:
            assert torch.equal(x, y)
    with pytest.raises(ValueError, match="reorder keeps the number of rows"):
        beams.reorder(torch.tensor([0, 1]))
    gru_state = make_gru().encode(src, src_lengths)
    assert torch.equal(gru_state.select(index).hidden, gru_state.hidden[:, index])
    assert gru_state.select(index).batch_size == 3


# ----------------------------------------------------------------------------------- packing, padding


@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_final_state_is_the_unpadded_runs(batch, bidirectional):
    src, src_lengths, _, _ = batch
    torch.manual_seed(1)
    encoder = LSTMEncoder(VOCAB, EMB, HID, bidirectional=bidirectional)
    _, (h, c) = encoder(src, src_lengths)
    for b, length in enumerate(src_lengths.tolist()):
        embedded = encoder.embedding(src[b : b + 1, :length])  # no padding at all
        _, (h_alone, c_alone) = encoder.rnn(embedded)  # [dirs, 1, hid]
        expected_h = h_alone.transpose(0, 1).reshape(1, 1, -1)  # directions concatenated
        expected_c = c_alone.transpose(0, 1).reshape(1, 1, -1)
        torch.testing.assert_close(h[:, b : b + 1], expected_h, atol=ATOL, rtol=0)
        torch.testing.assert_close(c[:, b : b + 1], expected_c, atol=ATOL, rtol=0)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("scale", [1.0, 8.0])  # 8: saturated gates and cell states far from 0
def test_lstm_fast_path_equals_packing(bidirectional, scale):
    """On the CPU, LSTMEncoder skips packing (padding enters the gates as a no-op step, models.py): outputs,
    final states and every gradient equal the packed path's, on random lengths from 1 to the batch width."""
    from seq2seq_helpers.models import _run_lstm_padded, _run_packed

    generator = torch.Generator().manual_seed(3)
    lengths = torch.randint(1, 13, (24,), generator=generator)
    lengths[0] = 12  # one full row, so the batch is 12 wide
    src, _ = pad_sequences([torch.randint(3, VOCAB, (int(n),), generator=generator).tolist() for n in lengths])
    torch.manual_seed(4)
    encoder = LSTMEncoder(VOCAB, EMB, HID, bidirectional=bidirectional)
    with torch.no_grad():
        for parameter in encoder.rnn.parameters():
            parameter.mul_(scale)
    results = []
    for run in (_run_lstm_padded, lambda module, x, n: _run_packed(module.rnn, x, n)):
        encoder.zero_grad()
        embedded = encoder.embedding(src)
        outputs, (h, c) = run(encoder, embedded, lengths)
        (outputs.square().sum() + h.sum() + 0.5 * c.sum()).backward()
        grads = [p.grad.clone() for p in encoder.parameters()]
        results.append((outputs.detach(), h.detach(), c.detach(), grads))
    (fast_out, fast_h, fast_c, fast_grads), (out, h, c, grads) = results
    assert float(c.abs().max()) > (3.0 if scale > 1 else 0.0)  # the large case really has large cell states
    torch.testing.assert_close(fast_out, out, atol=1e-5, rtol=1e-5)
    padding = torch.arange(src.shape[1]) >= lengths.unsqueeze(1)  # [batch, src_len]
    assert bool((fast_out[padding] == 0).all()) and bool((out[padding] == 0).all())  # padding is exactly 0
    torch.testing.assert_close(fast_h, h, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fast_c, c, atol=1e-5, rtol=1e-5)
    for fast_grad, grad in zip(fast_grads, grads):
        torch.testing.assert_close(fast_grad, grad, atol=1e-4, rtol=1e-4)


def test_lstm_encoder_takes_the_fast_path_on_the_cpu_and_packs_with_layers(monkeypatch):
    """The public forward uses the fast path for one layer on the CPU, and packing for stacked layers."""
    import seq2seq_helpers.models as models

    calls = []
    for name in ("_run_lstm_padded", "_run_packed"):
        original = getattr(models, name)
        monkeypatch.setattr(models, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    src, lengths = pad_sequences([[3, 4, 5], [6]])
    LSTMEncoder(VOCAB, EMB, HID)(src, lengths)
    LSTMEncoder(VOCAB, EMB, HID, num_layers=2)(src, lengths)
    assert calls == ["_run_lstm_padded", "_run_packed"]


def test_gru_final_state_is_the_unpadded_run(batch):
    src, src_lengths, _, _ = batch
    torch.manual_seed(2)
    encoder = EncoderGRU(VOCAB, EMB, HID, num_layers=2)
    outputs, hidden = encoder(src, src_lengths)
    for b, length in enumerate(src_lengths.tolist()):
        _, hidden_alone = encoder.rnn(encoder.embedding(src[b : b + 1, :length]))
        torch.testing.assert_close(hidden[:, b : b + 1], hidden_alone, atol=ATOL, rtol=0)
        # The last layer's state is the output at the true last token, not at the padding.
        torch.testing.assert_close(hidden[-1, b], outputs[b, length - 1], atol=ATOL, rtol=0)


@pytest.mark.parametrize("name,kind", ALL_MODELS)
def test_padding_invariance(batch, name, kind):
    """A sequence gets the same encoder state, logits, attention and decoded output alone as in a batch
    with longer sequences and an extra padding column."""
    src, src_lengths, tgt, tgt_lengths = batch
    model = make_model(name, kind).eval()
    wide_src = torch.cat([src, torch.full((3, 2), PAD)], dim=1)
    state = model.encode(wide_src, src_lengths)
    with torch.no_grad():
        out = (
            model(wide_src, src_lengths, tgt, return_attention=True)
            if name != "gru"
            else (model(wide_src, src_lengths, tgt), None)
        )
    decoded = greedy_decode(model, wide_src, src_lengths, max_len=6)
    for b in (1, 2):  # the shorter sequences
        s_len, t_len = int(src_lengths[b]), int(tgt_lengths[b])
        alone_src, alone_tgt = src[b : b + 1, :s_len], tgt[b : b + 1, :t_len]
        alone_state = model.encode(alone_src, src_lengths[b : b + 1])
        hidden, alone_hidden = first_state(state.hidden), first_state(alone_state.hidden)
        torch.testing.assert_close(hidden[:, b : b + 1], alone_hidden, atol=ATOL, rtol=0)
        with torch.no_grad():
            if name == "gru":
                alone_logits, alone_attention = model(alone_src, src_lengths[b : b + 1], alone_tgt), None
            else:
                alone_logits, alone_attention = model(
                    alone_src, src_lengths[b : b + 1], alone_tgt, return_attention=True
                )
        torch.testing.assert_close(out[0][b : b + 1, :t_len], alone_logits, atol=ATOL, rtol=0)
        if name != "gru":
            torch.testing.assert_close(out[1][b : b + 1, :t_len, :s_len], alone_attention, atol=ATOL, rtol=0)
            assert torch.all(out[1][b, :, s_len:] == 0)
        alone_decoded = greedy_decode(model, alone_src, src_lengths[b : b + 1], max_len=6)
        n = int(alone_decoded.lengths[0])
        assert decoded.tokens[b, :n].tolist() == alone_decoded.tokens[0, :n].tolist()
        torch.testing.assert_close(decoded.log_probs[b], alone_decoded.log_probs[0], atol=ATOL, rtol=0)


# ----------------------------------------------------------------------------------------- attention


def _attention_module(kind, query_dim=5, key_dim=5):
    torch.manual_seed(3)
    return {
        "additive": lambda: AdditiveAttention(query_dim, key_dim, attn_dim=4),
        "dot": lambda: DotAttention(query_dim, key_dim),
        "general": lambda: GeneralAttention(query_dim, key_dim),
    }[kind]()


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_attention_weights_sum_to_one_and_ignore_padding(kind):
    attention = _attention_module(kind)
    torch.manual_seed(4)
    query, keys = torch.randn(3, 2, 5), torch.randn(3, 4, 5)
    lengths = torch.tensor([4, 1, 2])
    mask = lengths_to_mask(lengths, 4)
    context, weights = attention(query, keys, mask)
    assert context.shape == (3, 2, 5) and weights.shape == (3, 2, 4)
    assert torch.all(weights[~mask.unsqueeze(1).expand(-1, 2, -1)] == 0)  # exactly zero on padding
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 2))
    assert torch.all(weights[1, :, 0] == 1)  # a single real token takes all the weight
    # Changing the padding keys changes nothing.
    noisy_keys = keys.masked_fill(~mask.unsqueeze(-1), 100.0)
    context2, weights2 = attention(query, noisy_keys, mask)
    torch.testing.assert_close(weights2, weights)
    torch.testing.assert_close(context2, context)
    torch.testing.assert_close(context, weights @ keys)


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_attention_model_weights_on_real_positions(batch, kind):
    src, src_lengths, tgt, _ = batch
    _, attention = make_attention(kind)(src, src_lengths, tgt, return_attention=True)
    mask = lengths_to_mask(src_lengths, src.shape[1]).unsqueeze(1).expand_as(attention)
    assert torch.all(attention[~mask] == 0)
    torch.testing.assert_close(attention.sum(-1), torch.ones(3, tgt.shape[1]))


@pytest.mark.parametrize("kind", ATTENTION_KINDS)
def test_encode_caches_the_key_projection_and_steps_use_it(batch, kind):
    """encode() computes the keys' projection once; a step with it equals a step that recomputes it."""
    src, src_lengths, _, _ = batch
    model = make_attention(kind).eval()
    attention = model.decoder.attention
    with torch.no_grad():
        state = model.encode(src, src_lengths)
        torch.testing.assert_close(state.attention_keys, attention.precompute(state.encoder_outputs))
        query = torch.randn(3, 2, model.decoder.hid_dim)
        cached = attention(query, state.encoder_outputs, state.src_mask, projected_keys=state.attention_keys)
        fresh = attention(query, state.encoder_outputs, state.src_mask)
        for a, b in zip(cached, fresh):
            torch.testing.assert_close(a, b, atol=ATOL, rtol=0)
        prev = torch.tensor([SOS, 4, 5])
        with_cache = model.decode_step(prev, state)
        without = model.decode_step(prev, state._replace(attention_keys=None))
        torch.testing.assert_close(with_cache[0], without[0], atol=ATOL, rtol=0)
        torch.testing.assert_close(with_cache[2], without[2], atol=ATOL, rtol=0)


def test_attn_dim_sizes_additive_attention_only():
    decoder = AttentionDecoder(VOCAB, EMB, 8, 8, attention="additive", attn_dim=3)
    assert decoder.attention.U.out_features == 3 and decoder.attention.v.in_features == 3
    assert AttentionDecoder(VOCAB, EMB, 8, 8).attention.U.out_features == 8  # default: hid_dim
    with pytest.raises(ValueError, match="attn_dim is the size of additive attention's hidden layer"):
        AttentionDecoder(VOCAB, EMB, 8, 8, attention="general", attn_dim=3)
    with pytest.raises(ValueError, match="projected_keys must be precompute"):
        AdditiveAttention(5, 5)(
            torch.randn(2, 1, 5),
            torch.randn(2, 3, 5),
            torch.ones(2, 3, dtype=torch.bool),
            projected_keys=torch.randn(2, 4, 5),
        )


def test_attention_decoder_takes_a_module_and_dot_score():
    module = GeneralAttention(8, 8)
    decoder = AttentionDecoder(VOCAB, EMB, 8, 8, attention=module)
    assert decoder.attention is module
    query, keys = torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[2.0, 0.0], [0.0, 3.0]]])
    _, weights = DotAttention(2)(query, keys, torch.tensor([[True, True]]))
    torch.testing.assert_close(weights, torch.softmax(torch.tensor([[[2.0, 0.0]]]), -1))


# ----------------------------------------------------------------------------------- teacher forcing


@pytest.mark.parametrize("name,kind", ALL_MODELS)
def test_full_teacher_forcing_equals_a_step_loop_on_gold_tokens(batch, name, kind):
    src, src_lengths, tgt, _ = batch
    model = make_model(name, kind).eval()
    with torch.no_grad():
        fast = model(src, src_lengths, tgt, teacher_forcing_ratio=1.0)
        state = model.encode(src, src_lengths)
        prev, steps = torch.full((3,), SOS), []
        for t in range(tgt.shape[1]):
            logits, state, _ = model.decode_step(prev, state)
            steps.append(logits)
            prev = tgt[:, t]
    torch.testing.assert_close(fast, torch.stack(steps, 1), atol=ATOL, rtol=0)


@pytest.mark.parametrize("name,kind", [("gru", None), ("attention", "general")])
def test_free_running_feeds_the_models_own_predictions(batch, name, kind):
    src, src_lengths, tgt, _ = batch
    model = make_model(name, kind).eval()
    with torch.no_grad():
        logits = model(src, src_lengths, tgt, teacher_forcing_ratio=0.0)
        # A manual loop feeding argmax predictions gives the same logits...
        state = model.encode(src, src_lengths)
        prev, steps = torch.full((3,), SOS), []
        for _ in range(tgt.shape[1]):
            step_logits, state, _ = model.decode_step(prev, state)
            steps.append(step_logits)
            prev = step_logits.argmax(-1)
    torch.testing.assert_close(logits, torch.stack(steps, 1), atol=ATOL, rtol=0)
    # ...and its argmax path is greedy decoding's output, up to each row's EOS.
    greedy = greedy_decode(model, src, src_lengths, max_len=tgt.shape[1])
    predicted = logits.argmax(-1)
    for b in range(3):
        n = int(greedy.lengths[b])
        assert predicted[b, :n].tolist() == greedy.tokens[b, :n].tolist()
    # It does not look at the gold tokens at all.
    other_tgt = torch.full_like(tgt, 3)
    with torch.no_grad():
        torch.testing.assert_close(model(src, src_lengths, other_tgt, teacher_forcing_ratio=0.0), logits)


def test_mixed_teacher_forcing_is_per_row_per_step_and_seeded(batch):
    src, src_lengths, tgt, _ = batch
    model = make_gru().eval()
    with torch.no_grad():
        torch.manual_seed(7)
        mixed = model(src, src_lengths, tgt, teacher_forcing_ratio=0.5)
        torch.manual_seed(7)
        again = model(src, src_lengths, tgt, teacher_forcing_ratio=0.5)
        torch.manual_seed(7)  # the same coins by hand: gold where rand < ratio, prediction otherwise
        state = model.encode(src, src_lengths)
        prev, steps = torch.full((3,), SOS), []
        for t in range(tgt.shape[1]):
            logits, state, _ = model.decode_step(prev, state)
            steps.append(logits)
            if t + 1 < tgt.shape[1]:
                prev = torch.where(torch.rand(3) < 0.5, tgt[:, t], logits.argmax(-1))
    assert torch.equal(mixed, again)
    torch.testing.assert_close(mixed, torch.stack(steps, 1), atol=ATOL, rtol=0)


def test_teacher_forcing_trains_gradients(batch):
    src, src_lengths, tgt, _ = batch
    model = make_attention("dot")
    for ratio in (1.0, 0.5):
        model.zero_grad()
        model(src, src_lengths, tgt, teacher_forcing_ratio=ratio).sum().backward()
        assert model.encoder.embedding.weight.grad.abs().sum() > 0
        assert torch.all(model.encoder.embedding.weight.grad[PAD] == 0)


# ------------------------------------------------------------------------------------------- errors


def test_errors_for_bad_tokens_and_lengths(batch):
    src, src_lengths, tgt, _ = batch
    model = make_gru()
    with pytest.raises(ValueError, match=r"shape \[batch, src_len\]"):
        model(src[0], src_lengths, tgt)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(src.masked_fill(src == 8, VOCAB), src_lengths, tgt)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(src, src_lengths, tgt.masked_fill(tgt == EOS, VOCAB + 3))
    with pytest.raises(ValueError, match="src_lengths has shape"):
        model(src, src_lengths[:2], tgt)
    with pytest.raises(ValueError, match="padded width"):
        model(src, src_lengths + 1, tgt)
    with pytest.raises(TypeError, match="integer lengths"):
        model(src, src_lengths.float(), tgt)
    with pytest.raises(TypeError, match="integer token ids"):
        model(src.float(), src_lengths, tgt)
    with pytest.raises(ValueError, match="every row of tgt starts with SOS"):
        model(src, src_lengths, shift_right(tgt))
    with pytest.raises(ValueError, match="tgt has 2 sequences"):
        model(src, src_lengths, tgt[:2])
    with pytest.raises(ValueError, match=r"prev_tokens must have shape \[batch\]"):
        model.decoder.step(tgt, torch.zeros(1, 3, HID))
    with pytest.raises(ValueError, match="hidden state has shape"):
        model.decoder(tgt, torch.zeros(2, 3, HID))


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_error_for_teacher_forcing_ratio_outside_unit_interval(batch, ratio):
    src, src_lengths, tgt, _ = batch
    with pytest.raises(ValueError, match=r"teacher_forcing_ratio must be in \[0, 1\]"):
        make_gru()(src, src_lengths, tgt, teacher_forcing_ratio=ratio)
    with pytest.raises(TypeError, match="teacher_forcing_ratio must be a number"):
        make_gru()(src, src_lengths, tgt, teacher_forcing_ratio="0.5")


def test_errors_for_mismatched_sizes_and_attention_inputs():
    with pytest.raises(ValueError, match="dot attention needs query and key vectors of the same size"):
        DotAttention(4, 6)
    with pytest.raises(ValueError, match="dot attention needs"):
        AttentionDecoder(VOCAB, EMB, hid_dim=8, enc_dim=6, attention="dot")
    with pytest.raises(ValueError, match="attention must be one of"):
        AttentionDecoder(VOCAB, EMB, 8, 8, attention="cosine")
    with pytest.raises(ValueError, match="same hid_dim and num_layers"):
        Seq2Seq(EncoderGRU(VOCAB, EMB, 8), DecoderGRU(VOCAB, EMB, 6))
    encoder = LSTMEncoder(VOCAB, EMB, 4)  # enc_dim 8
    with pytest.raises(ValueError, match="enc_dim=encoder.enc_dim"):
        AttentionSeq2Seq(encoder, AttentionDecoder(VOCAB, EMB, 8, 6))
    with pytest.raises(ValueError, match="hid_dim=encoder.dec_hid_dim"):
        AttentionSeq2Seq(encoder, AttentionDecoder(VOCAB, EMB, 4, 8))
    with pytest.raises(ValueError, match="vocab_size must be at least"):
        EncoderGRU(3, EMB, HID)
    attention = AdditiveAttention(5, 5)
    query, keys = torch.randn(2, 1, 5), torch.randn(2, 3, 5)
    with pytest.raises(ValueError, match="has no real token"):
        attention(query, keys, torch.tensor([[True, False, False], [False, False, False]]))
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        attention(query, keys, torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"mask has shape \[2, 2\]"):
        attention(query, keys, torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="query must have shape"):
        attention(query[:, 0], keys, torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="expected query"):
        attention(torch.randn(2, 1, 4), keys, torch.ones(2, 3, dtype=torch.bool))


def test_error_for_model_and_data_on_different_devices(batch):
    src, src_lengths, tgt, _ = batch
    model = make_gru().to("meta")  # a second device that every machine has
    with pytest.raises(ValueError, match="src is on cpu but the model is on meta"):
        model(src, src_lengths, tgt)
    with pytest.raises(TypeError, match="index must be a 1-D torch.long tensor"):
        DecoderState(torch.zeros(1, 2, 3)).select(torch.tensor([0.0]))


# ------------------------------------------------------------------------- decoder layouts (lesson 04 §5)


def _hand_steps(decoder, state, tokens):
    """Bahdanau's and Luong's equations written out with the decoder's own modules, one step at a time:
    Bahdanau: query = previous top-layer h, RNN input [emb; context]; Luong: query = new h, context after the RNN,
    with input feeding the previous attentional vector joins the input. Returns logits [batch, T, vocab]."""
    lstm = decoder.cell == "lstm"
    rnn_state = tuple(state.hidden[:2]) if lstm else state.hidden[0] if decoder.input_feeding else state.hidden
    feed = torch.zeros(tokens.shape[0], 1, decoder.hid_dim)
    keys, mask = state.encoder_outputs, state.src_mask
    logits = []
    for t in range(tokens.shape[1]):
        embedded = decoder.embedding(tokens[:, t : t + 1])  # [batch, 1, emb]
        h_previous = (rnn_state[0] if lstm else rnn_state)[-1].unsqueeze(1)  # [batch, 1, hid], top layer
        if decoder.layout == "bahdanau":
            context, _ = decoder.attention(h_previous, keys, mask)
            output, rnn_state = decoder.rnn(torch.cat([embedded, context], -1), rnn_state)
        else:
            rnn_input = torch.cat([embedded, feed], -1) if decoder.input_feeding else embedded
            output, rnn_state = decoder.rnn(rnn_input, rnn_state)
            context, _ = decoder.attention(output, keys, mask)
        feed = torch.tanh(decoder.combine(torch.cat([output, context], -1)))  # [batch, 1, hid]
        logits.append(decoder.out(feed))
    return torch.cat(logits, 1)


@pytest.mark.parametrize("name,kind", LAYOUT_MODELS + [("attention", "additive")])
def test_layouts_compute_their_equations(batch, name, kind):
    """Each layout's forward equals its equations written out step by step, and the layouts really differ."""
    src, src_lengths, tgt, _ = batch
    model = make_model(name, kind).eval()
    with torch.no_grad():
        state = model.encode(src, src_lengths)
        tgt_in = shift_right(tgt)
        torch.testing.assert_close(
            model(src, src_lengths, tgt), _hand_steps(model.decoder, state, tgt_in), atol=ATOL, rtol=0
        )
    assert model.decoder.one_call == (name == "attention" or name == "gru-attention")
    in_size = model.decoder.rnn.input_size
    extra = {"bahdanau": model.decoder.enc_dim, "feeding": model.decoder.hid_dim}
    assert in_size == EMB + next((v for k, v in extra.items() if k in name), 0)


def test_the_layouts_give_different_outputs_from_the_same_weights(batch):
    """Bahdanau's and Luong's layouts (with or without input feeding) are different functions: given weights
    that fit both (extra input columns zero), the step-0 query alone differs, so their attention differs."""
    src, src_lengths, tgt, _ = batch
    luong, bahdanau, feeding = (
        make_attention("additive", layout="bahdanau" if n == 1 else "luong", input_feeding=n == 2) for n in range(3)
    )
    with torch.no_grad():
        for other in (bahdanau, feeding):
            weights = luong.state_dict()
            extra = other.decoder.rnn.weight_ih_l0.shape[1] - EMB
            weights["decoder.rnn.weight_ih_l0"] = torch.cat(
                [weights["decoder.rnn.weight_ih_l0"], torch.zeros(4 * HID, extra)], 1
            )
            other.load_state_dict(weights)
        _, a_luong = luong(src, src_lengths, tgt, return_attention=True)
        _, a_bahdanau = bahdanau(src, src_lengths, tgt, return_attention=True)
        _, a_feeding = feeding(src, src_lengths, tgt, return_attention=True)
    # with the feed's input weights at zero, input feeding changes nothing: the same function as plain Luong
    torch.testing.assert_close(a_feeding, a_luong, atol=ATOL, rtol=0)
    assert not torch.allclose(a_bahdanau, a_luong, atol=1e-6, rtol=0)
    # Bahdanau's first query is the bridge itself: the encoder's final state, before the decoder reads anything
    with torch.no_grad():
        state = bahdanau.encode(src, src_lengths)
        _, first = bahdanau.decoder.attention(state.hidden[0][-1].unsqueeze(1), state.encoder_outputs, state.src_mask)
    torch.testing.assert_close(a_bahdanau[:, :1], first, atol=ATOL, rtol=0)


@pytest.mark.parametrize("name,kind", LAYOUT_MODELS)
def test_beam_width_one_is_greedy_for_every_layout(batch, name, kind):
    from seq2seq_helpers.decoding import beam_search

    src, src_lengths, _, _ = batch
    model = make_model(name, kind, seed=3).eval()
    greedy = greedy_decode(model, src, src_lengths, max_len=6)
    beam = beam_search(model, src, src_lengths, beam_size=1, max_len=6)
    width = greedy.tokens.shape[1]
    assert torch.equal(beam.tokens[:, 0, :width], greedy.tokens)
    assert torch.equal(beam.lengths[:, 0], greedy.lengths)
    torch.testing.assert_close(beam.log_probs[:, 0], greedy.log_probs, atol=ATOL, rtol=0)
    # and a wider beam's hypotheses of one source do not depend on the others in the batch
    together = beam_search(model, src, src_lengths, beam_size=3, max_len=6)
    alone = beam_search(model, src[1:2, :2], src_lengths[1:2], beam_size=3, max_len=6)
    n = int(alone.lengths[0, 0])
    assert together.tokens[1, 0, :n].tolist() == alone.tokens[0, 0, :n].tolist()


def test_input_feeding_state_carries_the_attentional_vector(batch):
    src, src_lengths, _, _ = batch
    model = make_attention("general", input_feeding=True).eval()
    state = model.encode(src, src_lengths)
    h, c, feed = state.hidden
    assert feed.shape == (1, 3, HID) and torch.all(feed == 0)  # init_hidden: a zero vector before step 0
    with torch.no_grad():
        logits, state, _ = model.decode_step(torch.full((3,), SOS), state)
    feed = state.hidden[2]
    torch.testing.assert_close(model.decoder.out(feed[0]), logits, atol=ATOL, rtol=0)  # the feed is what out() read
    picked = state.select(torch.tensor([2, 0]))
    assert torch.equal(picked.hidden[2], feed[:, [2, 0]]) and picked.batch_size == 2


def test_default_decoder_is_unchanged_luong_lstm():
    """Lessons 06-08 build AttentionDecoder without the new arguments: same modules, same initial weights."""
    torch.manual_seed(0)
    default = AttentionDecoder(VOCAB, EMB, 8, 8, "additive")
    torch.manual_seed(0)
    explicit = AttentionDecoder(VOCAB, EMB, 8, 8, "additive", layout="luong", input_feeding=False, cell="lstm")
    assert (default.layout, default.input_feeding, default.cell) == ("luong", False, "lstm")
    assert isinstance(default.rnn, torch.nn.LSTM) and default.rnn.input_size == EMB
    for (k1, v1), (k2, v2) in zip(default.state_dict().items(), explicit.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)


def test_errors_for_bad_layouts_and_cells(batch):
    src, src_lengths, tgt, _ = batch
    with pytest.raises(ValueError, match="input_feeding is part of Luong's layout"):
        AttentionDecoder(VOCAB, EMB, 8, 8, layout="bahdanau", input_feeding=True)
    with pytest.raises(ValueError, match=r"layout must be one of \('luong', 'bahdanau'\)"):
        AttentionDecoder(VOCAB, EMB, 8, 8, layout="Bahdanau")
    with pytest.raises(ValueError, match=r"cell must be one of \('lstm', 'gru'\)"):
        AttentionDecoder(VOCAB, EMB, 8, 8, cell="rnn")
    with pytest.raises(TypeError, match="input_feeding must be"):
        AttentionDecoder(VOCAB, EMB, 8, 8, input_feeding="yes")
    with pytest.raises(ValueError, match="build the decoder with cell='gru'"):
        AttentionSeq2Seq(EncoderGRU(VOCAB, EMB, 8), AttentionDecoder(VOCAB, EMB, 8, 8))
    with pytest.raises(ValueError, match="build the decoder with cell='lstm'"):
        AttentionSeq2Seq(LSTMEncoder(VOCAB, EMB, 4), AttentionDecoder(VOCAB, EMB, 8, 8, cell="gru"))
    model = make_attention("dot", input_feeding=True)
    state = model.encode(src, src_lengths)
    with pytest.raises(TypeError, match=r"with input_feeding=True the state is \(h, c, feed\).*init_hidden"):
        model.decoder(tgt, state.hidden[:2], state.encoder_outputs, state.src_mask)
    with pytest.raises(ValueError, match="the input feed"):
        model.decoder(tgt, (*state.hidden[:2], torch.zeros(1, 3, HID + 1)), state.encoder_outputs, state.src_mask)
    gru_model = make_gru_attention("dot")
    gru_state = gru_model.encode(src, src_lengths)
    with pytest.raises(TypeError, match="a GRU's hidden state is one tensor"):
        gru_model.decoder(tgt, (gru_state.hidden, gru_state.hidden), gru_state.encoder_outputs, gru_state.src_mask)
