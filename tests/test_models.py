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


def make_attention(kind="additive", seed=0, num_layers=1, bidirectional=True):
    torch.manual_seed(seed)
    encoder = LSTMEncoder(VOCAB, EMB, HID // 2 if bidirectional else HID, num_layers, bidirectional)
    decoder = AttentionDecoder(VOCAB, EMB, encoder.dec_hid_dim, encoder.enc_dim, kind, num_layers)
    return AttentionSeq2Seq(encoder, decoder)


ALL_MODELS = [("gru", None)] + [("attention", kind) for kind in ATTENTION_KINDS]


def make_model(name, kind, seed=0):
    return make_gru(seed) if name == "gru" else make_attention(kind, seed)


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
        hidden = state.hidden if name == "gru" else state.hidden[0]
        alone_hidden = alone_state.hidden if name == "gru" else alone_state.hidden[0]
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
