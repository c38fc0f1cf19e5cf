"""Plausible wrong answers to every autograded exercise, for the autograding proof (autograding_proof.py).

A test cell that passes on a solution a learner could plausibly write wrong is too weak: nbgrader would give
full marks for it. Each entry rewrites one solution cell of a lesson the way a learner might get it wrong (an
off-by-one, a forgotten mask, the wrong axis, probabilities where log-probabilities belong ...); the proof runs
the exercise's test cell after it, as the autograder does (hidden tests in), and the test must fail.
`visible=False` marks a mistake only the hidden tests are meant to catch; the visible part may then pass, but
must not print a tick. `after_solution=True` marks a mistake that changes only the last statements of the
exercise's last solution cell, statements that bind names (`name = ...`) and draw no random numbers, such as
the line that scores a model the cell trained: the proof then replays only those statements, from the
solution's own state, instead of training again (autograding_proof.py checks the shape of the change).

{lesson file: {solution grade_id: [Mistake, ...]}}
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    label: str
    edits: tuple[tuple[str, str], ...]  # (text in the solution cell, what the learner wrote instead)
    visible: bool = True  # the visible tests catch it too
    after_solution: bool = False  # replay only the changed trailing bindings, from the solution's state

    def apply(self, source: str, where: str) -> str:
        for old, new in self.edits:
            if source.count(old) != 1:
                raise ValueError(
                    f"plausible mistake {self.label!r} for {where}: {old!r} occurs {source.count(old)} times in the "
                    "solution cell (it must occur once); update the mistake to the lesson's solution"
                )
            source = source.replace(old, new)
        return source


def mistake(label: str, *edits: tuple[str, str], visible: bool = True, after_solution: bool = False) -> Mistake:
    return Mistake(label, tuple(edits), visible, after_solution)


M = mistake
MISTAKES: dict[str, dict[str, list[Mistake]]] = {
    "01_toy_reversal.ipynb": {
        "ex1-log-prob": [
            M(
                "adds probabilities, not log-probabilities",
                ("logits.log_softmax(-1)[0, token]", "logits.softmax(-1)[0, token]"),
            ),
            M("keeps only the last token's log-probability", ("total += float(", "total = float(")),
            M("never feeds the previous token back", ("prev_tokens = torch.tensor([token], device=device)", "pass")),
            M(
                "feeds back its own guess (free running), not the given target",
                ("prev_tokens = torch.tensor([token], device=device)", "prev_tokens = logits.argmax(-1)"),
            ),
        ],
        "ex2-copy": [
            M(
                "scores the copy model on its training pairs",
                ("evaluate(copy_model, copy_test)", "evaluate(copy_model, copy_train)"),
                after_solution=True,  # the training before it is the solution's own
            ),
            M(
                "scores the reversal model on the copy pairs",
                ("evaluate(copy_model, copy_test)", "evaluate(model, copy_test)"),
                after_solution=True,
            ),
        ],
    },
    "02_batched_gru.ipynb": {
        "ex1-mask": [
            M(
                "off by one: <= keeps one padding position",
                ("positions.unsqueeze(0) < lengths", "positions.unsqueeze(0) <= lengths"),
            ),
            M(
                "True on padding, not on tokens",
                ("positions.unsqueeze(0) < lengths", "positions.unsqueeze(0) >= lengths"),
            ),
            M(
                "transposed: [max_len, batch]",
                ("positions.unsqueeze(0) < lengths.unsqueeze(1)", "positions.unsqueeze(1) < lengths.unsqueeze(0)"),
            ),
            M(
                "a 0/1 integer mask, not bool",
                (
                    "return positions.unsqueeze(0) < lengths.unsqueeze(1)",
                    "return (positions.unsqueeze(0) < lengths.unsqueeze(1)).long()",
                ),
            ),
        ],
        "ex2-masked-loss": [
            M(
                "plain mean: padding counts in the average",
                ("return (per_token * mask).sum() / mask.sum()", "return per_token.mean()"),
            ),
            M("zeroes padding but divides by every position", ("/ mask.sum()", "/ mask.numel()")),
            M(
                "mean of per-sentence means",
                (
                    "return (per_token * mask).sum() / mask.sum()",
                    "m = mask.view(targets.shape)\n"
                    "    return ((per_token.view(targets.shape) * m).sum(1) / m.sum(1)).mean()",
                ),
            ),
            M(
                "a float, not a tensor (no gradient)",
                (
                    "return (per_token * mask).sum() / mask.sum()",
                    "return torch.tensor(float((per_token * mask).sum() / mask.sum()))",
                ),
            ),
        ],
        "ex3-longer": [
            M("lengths 11-13", ("max_len=12", "max_len=13")),
            M("the error rate, not the exact match", ("longer_exact = evaluate(", "longer_exact = 1 - evaluate(")),
        ],
    },
    "03_teacher_forcing.ipynb": {
        "ex1-sampled": [
            M(
                "feeds back the argmax, not a sample",
                (
                    "sample = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(tgt.device)",
                    "sample = logits.argmax(-1)",
                ),
            ),
            M(
                "feeds the gold token when the coin says model (the coin inverted)",
                ("generator=generator) < ratio)", "generator=generator) >= ratio)"),
            ),
            M("feeds the token it must predict next (off by one)", ("tgt[:, t], sample)", "tgt[:, t + 1], sample)")),
            M(
                "samples from the raw logits, not the softmax",
                ("probs = logits.softmax(-1)", "probs = logits"),
            ),
            M(
                "draws from the global generator, not `generator`",
                ("torch.multinomial(probs.cpu(), 1, generator=generator)", "torch.multinomial(probs.cpu(), 1)"),
            ),
        ],
        "ex2-gold-prefix": [
            M(
                "counts padding positions",
                ("return float((right & has_token).sum() / has_token.sum())", "return float(right.float().mean())"),
            ),
            M("divides by the batch size", ("/ has_token.sum())", "/ len(has_token))")),
            M("compares with the next target token", ("== batch.tgt[:, position]", "== batch.tgt[:, position + 1]")),
        ],
    },
    "04_attention.ipynb": {
        "ex1-dot-attention": [
            M("no mask", ('scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))', "pass")),
            M("the mask inverted", ("~mask.unsqueeze(1)", "mask.unsqueeze(1)")),
            M("padding set to 0, not -inf", ('float("-inf")', "0.0")),
            M("softmax over the query axis", ("scores.softmax(dim=-1)", "scores.softmax(dim=1)")),
            M(
                "scaled by sqrt(d) (that is lesson 08's attention)",
                ("keys.transpose(1, 2)", "keys.transpose(1, 2) / keys.shape[-1] ** 0.5"),
            ),
        ],
        "ex2-diagonal": [
            M("the diagonal, not the anti-diagonal", ("== S - 1 - t", "== t"), visible=False),
            M("off by one: S - t", ("== S - 1 - t", "== S - t"), visible=False),
        ],
    },
    "05_beam_search.ipynb": {
        "ex1-expand": [
            M(
                "parents and tokens swapped",
                ("index // vocab_size, index % vocab_size", "index % vocab_size, index // vocab_size"),
            ),
            M(
                "divides by the beam, not the vocabulary",
                ("index // vocab_size, index % vocab_size", "index // live, index % live"),
            ),
            M("forgets the hypotheses' scores", ("(scores.unsqueeze(-1) + step_log_probs)", "step_log_probs")),
            M("the k worst", ("topk(k, dim=1)", "topk(k, dim=1, largest=False)")),
        ],
        "ex2-sampling": [
            M(
                "argmax, not a sample",
                (
                    "token = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(src.device)",
                    "token = probs.argmax(-1)",
                ),
            ),
            M("multiplies by the temperature", ("logits / temperature", "logits * temperature")),
            M("keeps writing after <eos>", ("token = token.masked_fill(finished, 0)", "pass")),
            M("stops every row at the first <eos>", ("if finished.all():", "if finished.any():")),
            M(
                "draws from the global generator, not `generator`",
                ("torch.multinomial(probs.cpu(), 1, generator=generator)", "torch.multinomial(probs.cpu(), 1)"),
                visible=False,
            ),
        ],
    },
    "06_capstone.ipynb": {
        "ex1-coverage": [
            M("counts padding positions", ("(coverage.log() * real).sum(dim=1)", "coverage.log().sum(dim=1)")),
            M("no cap at 1 (over-attention rewarded)", (".clamp(min=1e-9, max=1.0)", ".clamp(min=1e-9)")),
            M("forgets beta", ("return beta * (", "return (")),
        ],
        "ex2-general": [
            M(
                "reports the additive model's score",
                ("general_exact = exact(general_out, splits.val)", "general_exact = short_exact"),
                after_solution=True,  # the training and decoding before it are the solution's own
            ),
            M(
                "builds the additive model again",
                (
                    'make_model(len(src_vocab), len(tgt_vocab), attention="general")',
                    "make_model(len(src_vocab), len(tgt_vocab))",
                ),
            ),
        ],
    },
    "07_translation.ipynb": {
        "ex1-precision": [
            M(
                "no clipping",
                (
                    "sum(min(count, best[gram]) for gram, count in counts.items())",
                    "sum(count for gram, count in counts.items() if gram in best)",
                ),
            ),
            M("clips to the sum over the references", ("best |= grams(reference)", "best += grams(reference)")),
            M("misses the last n-gram", ("range(len(tokens) - n + 1)", "range(len(tokens) - n)")),
            M(
                "counts the references' n-grams as the total",
                ("return matches, sum(counts.values())", "return matches, sum(best.values())"),
            ),
        ],
        "ex2-exact": [
            M("only the first reference counts", ("output in pair.references", "output == pair.references[0]")),
            M(
                "a part of a reference counts",
                ("output in pair.references", "any(output in r for r in pair.references)"),
            ),
            M("a count, not a fraction", (" / len(pairs)", "")),
            M(
                "only the first or the last reference counts",
                ("output in pair.references", "output in (pair.references[0], pair.references[-1])"),
            ),
        ],
        "ex3-placeholders": [
            M("every source counts", ("if placeholders(s)]", "]")),
            M(
                "sets, not counts",
                ("placeholders(o) == placeholders(s)", "set(placeholders(o)) == set(placeholders(s))"),
            ),
            M(
                "added placeholders go unnoticed",
                ("placeholders(o) == placeholders(s)", "not placeholders(s) - placeholders(o)"),
            ),
            M(
                "order must match",
                ("placeholders(o) == placeholders(s)", "list(placeholders(o)) == list(placeholders(s))"),
            ),
            M("a count, not a fraction", (" / len(rows)", "")),
        ],
    },
    "08_transformer.ipynb": {
        "ex1-decoder-mask": [
            M("a position cannot see itself: tril(-1)", (".tril()", ".tril(-1)")),
            M("the next position leaks: tril(1)", (".tril()", ".tril(1)")),
            M("the upper triangle: triu()", (".tril()", ".triu()")),
            M("no causal mask", (".tril()", "")),
            M("padding masks the queries", ("real.unsqueeze(1)", "real.unsqueeze(2)")),
            M(
                "no padding mask",
                ("causal.unsqueeze(0) & real.unsqueeze(1)", "causal.unsqueeze(0).expand(len(tgt_lengths), -1, -1)"),
            ),
        ],
        "ex2-rotation": [
            M("rotates the wrong way (transposed)", ("= cos, -sin", "= cos, sin"), ("= sin, cos", "= -sin, cos")),
            M(
                "rates over i, not 2i",
                ("torch.arange(0, d_model, 2) / d_model", "torch.arange(d_model // 2) / d_model"),
            ),
            M("the identity", ("return R", "return torch.eye(d_model)")),
        ],
        "ex3-cached-step": [
            M(
                "the cache is never extended",
                ("keys, values = torch.cat([cache[0], keys], dim=2), torch.cat([cache[1], values], dim=2)", "pass"),
            ),
            M(
                "the newest position goes first",
                (
                    "torch.cat([cache[0], keys], dim=2), torch.cat([cache[1], values], dim=2)",
                    "torch.cat([keys, cache[0]], dim=2), torch.cat([values, cache[1]], dim=2)",
                ),
            ),
            M(
                "the old cache is returned",
                ("return output, (keys, values)", "return output, cache if cache is not None else (keys, values)"),
            ),
        ],
    },
}
