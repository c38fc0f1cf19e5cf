"""The figures each lesson asserts (``HEADLINES``) and how the benchmark reads them from the lesson's kernel.

After a lesson's last cell, one extra cell in the same kernel evaluates the expressions and prints them as one
JSON line after ``MARKER``; an expression that fails, or a lesson without an entry, shows as "n/a", never a crash.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# Per lesson (matched by its two-digit number, so a renamed notebook keeps its entry): the figures the lesson
# asserts, as (label, Python expression evaluated in the lesson's kernel after its last cell, format).
# Formats: "pct" (0.993 -> 99.3%), "pts" (0.05 -> 5.0 pts), "x" (ratio), "s" (seconds), "num".
# To cover a new lesson, add an entry; a name the notebook does not define shows as "n/a".
HEADLINES: dict[str, list[tuple[str, str, str]]] = {
    "01_toy_reversal": [
        ("held-out exact match", "test_exact", "pct"),
    ],
    "02_batched_gru": [
        ("held-out exact match", 'results["exact_match"]', "pct"),
        ("batched/per-example speed-up", "speedup", "x"),
        ("training time to 99%", "history.elapsed_s", "s"),
    ],
    "03_teacher_forcing": [
        ("teacher forcing mean exact", 'summary["teacher forcing (1.0)"][0]', "pct"),
        ("late-position exposure gap", "late", "pts"),
    ],
    "04_attention": [
        ("attention min bucket", "min(attention_buckets.values())", "pct"),
        ("GRU 21-30", '(gru_buckets["21-25"] + gru_buckets["26-30"]) / 2', "pct"),
        ("attention training time", "attention_history.elapsed_s", "s"),
        ("layouts, worst bucket up to 15", "min(min(row.values()) for row in layout_results.values())", "pct"),
        ("Luong's peak on the mirrored letter", 'offsets["Luong\'s layout"]["mirrored"]', "pct"),
        ("Bahdanau's peak on the letter just written", 'offsets["Bahdanau\'s layout"]["just written (+1)"]', "pct"),
    ],
    "05_beam_search": [
        ("greedy finds the most likely output", 'ambiguous_results["greedy"][0]', "pct"),
        ("beam 2 finds it", 'ambiguous_results["beam 2"][0]', "pct"),
        (
            "batched/per-sequence beam-5 speed-up",
            'speed["BiLSTM + attention"][1] / speed["BiLSTM + attention"][0]',
            "x",
        ),
    ],
    "06_capstone": [
        ("test exact match (beam 5)", "test_exact", "pct"),
        ("test exact match (greedy)", "greedy_exact", "pct"),
        ("written formats exact", "1 - written_errors / len(written)", "pct"),
        ("outputs beam changes", "len(changed) / len(test)", "pct"),
        ("test character error rate", "test_cer", "num"),
        ("attention on the month name", "month_focus", "pct"),
        ("training time", "history.elapsed_s", "s"),
    ],
    "07_translation": [
        ("test BLEU, model (beam chosen on validation)", "scores[chosen][0]", "num"),
        ("test chrF, model (beam chosen on validation)", "scores[chosen][1]", "num"),
        ("test chrF, model (greedy)", 'scores["model, greedy"][1]', "num"),
        ("test chrF, translation memory", 'scores["translation memory"][1]', "num"),
        ("test chrF, copy the source", 'scores["copy the source"][1]', "num"),
        ("p, chosen beam vs memory (chrF)", 'p_vs_memory["chrF"]', "num"),
        ("training time", "history.elapsed_s", "s"),
    ],
    "08_transformer": [
        ("Transformer min bucket", "min(transformer_buckets.values())", "pct"),
        ("BiLSTM + attention min bucket", "min(bilstm_buckets.values())", "pct"),
        ("Transformer time to 99%", "time_to(transformer_history)", "s"),
        ("BiLSTM + attention time to 99%", "time_to(bilstm_history)", "s"),
        ("time to 99%, Transformer / BiLSTM", "time_ratio", "x"),
        ("KV cache speed-up at length 30", "cache_speedup", "x"),
        ("Transformer on unseen lengths 31-33", 'transformer_long["31-33"]', "pct"),
    ],
}

MARKER = "__BENCHMARK_HEADLINES__"
THREADS_KEY = "__torch_threads__"  # stored with the headlines: torch's thread count in the lesson's kernel


def lesson_number(name: str) -> str:
    """'01_toy_reversal' or '01_toy_reversal.ipynb' -> '01'."""
    match = re.match(r"(\d+)", Path(name).name)
    return f"{int(match.group(1)):02d}" if match else name


def headlines_for(stem: str, headlines: dict = HEADLINES) -> list[tuple[str, str, str]]:
    if stem in headlines:
        return headlines[stem]
    for key, specs in headlines.items():
        if lesson_number(key) == lesson_number(stem):
            return specs
    return []


def format_value(value, fmt: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if fmt == "pct":
        return f"{value:.1%}"
    if fmt == "pts":
        return f"{100 * value:.1f} pts"
    if fmt == "x":
        return f"{value:.1f}x"
    if fmt == "s":
        return f"{value:.1f} s"
    return f"{value:.4g}"


def headline_code(specs: list[tuple[str, str, str]]) -> str:
    """Source of the extra cell: evaluates each expression in the kernel's namespace, prints one JSON line."""
    pairs = [(label, expr) for label, expr, _ in specs]
    return (
        "def __benchmark_headlines(pairs):\n"
        "    import json\n"
        "    namespace, out = globals(), {}\n"
        "    for label, expr in pairs:\n"
        "        try:\n"
        "            value = eval(expr, namespace)\n"
        "            try:\n"
        "                out[label] = {'value': float(value)}\n"
        "            except (TypeError, ValueError):\n"
        "                out[label] = {'value': repr(value)[:80]}\n"
        "        except Exception as error:\n"
        "            out[label] = {'error': type(error).__name__ + ': ' + str(error)[:200]}\n"
        "    torch = __import__('sys').modules.get('torch')\n"
        "    out['__torch_threads__'] = {'value': torch.get_num_threads() if torch else None}\n"
        f"    print({MARKER!r} + json.dumps(out))\n"
        f"__benchmark_headlines({pairs!r})\n"
        "del __benchmark_headlines\n"
    )


def extract_headlines(client, nb, specs: list[tuple[str, str, str]], alive: bool) -> dict:
    """Run the headline cell (``headline_code``) in the client's kernel after the lesson's last cell.

    Returns label -> {"value": ..., "fmt": ...} or {"error": ..., "fmt": ...}, plus ``THREADS_KEY``; with
    ``alive`` false (the kernel died or hangs) every figure is "not evaluated" and nothing is executed.
    """
    import nbformat

    out = {label: {"error": "not evaluated", "fmt": fmt} for label, _, fmt in specs}
    if not alive:
        return out
    cell = nbformat.v4.new_code_cell(headline_code(specs))
    nb.cells.append(cell)
    try:
        client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
    except Exception as error:  # a broken kernel must not stop the benchmark
        for entry in out.values():
            entry["error"] = f"headline cell failed: {type(error).__name__}"
        return out
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    for line in text.splitlines():
        if line.startswith(MARKER):
            found = json.loads(line[len(MARKER) :])
            for label, _, fmt in specs:
                out[label] = dict(found.get(label, {"error": "not reported"}), fmt=fmt)
            threads = found.get("__torch_threads__", {}).get("value")
            if threads is not None:
                out[THREADS_KEY] = {"value": int(threads), "fmt": "num"}
    return out
