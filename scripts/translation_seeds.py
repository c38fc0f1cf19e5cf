"""Lesson 07 over three seeds: its model against the copy and translation-memory baselines, and its decoding
sweep (beam width 1-50 × length penalty) on validation, each seed's chosen setting scored once on test with a
paired bootstrap against greedy decoding. Writes docs/translation-seeds.md and, for the lesson to quote,
seq2seq_helpers/reports/translation_seeds.json.

    python scripts/translation_seeds.py                  (or: make translation-seeds) seeds 0, 1, 2; about 12 min
    python scripts/translation_seeds.py --seeds 0 --widths 1 2 --quick --out /tmp/t.md --json /tmp/t.json   tiny: it works, measures nothing

Lesson 07 trains seed 0 and sweeps a few widths within its time budget; the figures it quotes from this script
carry a dagger (†). Everything comes from ``seq2seq_helpers.recipes``, the lesson's own recipe.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from sacrebleu.metrics import BLEU, CHRF  # noqa: E402
from sacrebleu.significance import PairedTest  # noqa: E402

from seq2seq_helpers.corpora import load_corpus, placeholders, split_corpus  # noqa: E402
from seq2seq_helpers.localisation import (  # noqa: E402
    TranslationMemory,
    count_error_kinds,
    error_kinds,
    placeholders_kept,
    words,
)
from seq2seq_helpers.recipes import (  # noqa: E402
    SEEDS_REPORT,
    TranslationRecipe,
    subword_vocabs,
    train_translation,
    translate,
    translation_model,
)
from seq2seq_helpers.translation import reference_streams  # noqa: E402
from seq2seq_helpers.utils import seed_everything  # noqa: E402

WIDTHS = (1, 2, 5, 10, 20, 50)
PENALTIES = (0.0, 0.5, 1.0)
BANDS = ((0, 50), (50, 75), (75, 101))  # translation-memory fuzzy match %, [low, high)
THRESHOLDS = (50, 60, 70, 75, 80, 85, 90, 95, 100, 101)  # the hybrid: the memory's match at or above, else the model


def hybrid(model_outputs, matches, threshold: float) -> list[str]:
    """What a localisation tool does: the memory's translation when its fuzzy match reaches the threshold."""
    return [m.translation if m.similarity >= threshold else o for o, m in zip(model_outputs, matches)]


def scores(outputs, refs) -> dict:
    return {"bleu": BLEU().corpus_score(outputs, refs).score, "chrf": CHRF().corpus_score(outputs, refs).score}


def paired_p(baseline, system, refs) -> dict:
    """sacrebleu's paired bootstrap (1,000 resamples): p-values of system vs baseline for BLEU and chrF."""
    test = PairedTest(
        [("baseline", baseline), ("system", system)], {"BLEU": BLEU(), "chrF": CHRF()}, refs, test_type="bs"
    )
    _, results = test()  # resamples drawn from sacrebleu's own fixed seed (SACREBLEU_SEED, 12345)
    return {"BLEU": results["BLEU"][1].p_value, "chrF": results["chrF2"][1].p_value}


def band_of(similarity: float) -> str:
    for low, high in BANDS:
        if low <= similarity < high:
            return f"{low}-{min(high, 100)}"
    raise ValueError(similarity)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS))
    parser.add_argument("--penalties", type=float, nargs="+", default=list(PENALTIES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20 steps: checks the script runs, measures nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "translation-seeds.md")
    parser.add_argument("--json", type=Path, default=ROOT / "seq2seq_helpers" / SEEDS_REPORT)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    recipe = TranslationRecipe()
    if args.quick:
        recipe = recipe._replace(steps=20)
    start = time.perf_counter()
    pairs, report = load_corpus("fr", max_words=recipe.max_words)
    splits = split_corpus(pairs)
    src_vocab, tgt_vocab = subword_vocabs(splits.train, recipe.vocab_size)
    encoded = [(src_vocab.encode(p.source), tgt_vocab.encode(p.target)) for p in splits.train]
    val_src, test_src = [p.source for p in splits.val], [p.source for p in splits.test]
    val_refs, test_refs = reference_streams(splits.val), reference_streams(splits.test)
    memory = TranslationMemory(splits.train)
    matches = memory.lookup(test_src)
    val_matches = memory.lookup(val_src)
    known = {w for p in splits.train for r in p.references for w in words(r)}
    with_placeholders = [i for i, text in enumerate(test_src) if placeholders(text)]

    def placeholder_share(outputs):
        return sum(placeholders_kept(outputs[i], test_src[i]) for i in with_placeholders) / len(with_placeholders)

    bands = [band_of(m.similarity) for m in matches]
    band_names = [f"{low}-{min(high, 100)}" for low, high in BANDS]

    def by_band(outputs):
        result = {}
        for name in band_names:
            rows = [i for i, b in enumerate(bands) if b == name]
            refs = [[stream[i] for i in rows] for stream in test_refs]
            result[name] = {"n": len(rows), **scores([outputs[i] for i in rows], refs)}
        return result

    baselines = {
        "copy the source": test_src,
        "translation memory": [m.translation for m in matches],
    }
    memory_tags = [
        error_kinds(o, p.references, p.source, known) for o, p in zip(baselines["translation memory"], splits.test)
    ]
    result = {
        "recipe": recipe._asdict(),
        "corpus": {"pairs": len(pairs), "train": len(splits.train), "val": len(splits.val), "test": len(splits.test)},
        "baselines": {
            name: {**scores(out, test_refs), "bands": by_band(out), "placeholders": placeholder_share(out)}
            for name, out in baselines.items()
        },
        "errors_memory": {"wrong": sum(bool(t) for t in memory_tags), **count_error_kinds(memory_tags)},
        "with_placeholders": len(with_placeholders),
        "seeds": {},
        "widths": args.widths,
        "penalties": args.penalties,
        "threads": args.threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": _dt.date.today().isoformat(),
        "quick": args.quick,
    }
    for seed in args.seeds:
        seed_everything(seed)
        model = translation_model(len(src_vocab), len(tgt_vocab), recipe)
        history = train_translation(model, encoded, recipe, seed=seed, desc=f"seed {seed}")
        sweep, val_outputs = {}, {}
        for alpha in args.penalties:
            for width in args.widths:
                if width == 1 and alpha != 0:
                    continue  # greedy decoding has no length penalty
                t = time.perf_counter()
                key = f"{width},{alpha}"
                val_outputs[key] = translate(model, src_vocab, tgt_vocab, val_src, width, alpha)
                n_words = statistics.mean(len(o.split()) for o in val_outputs[key])
                sweep[key] = {
                    **scores(val_outputs[key], val_refs),
                    "words": n_words,
                    "seconds": time.perf_counter() - t,
                }
                print(f"seed {seed} width {width} alpha {alpha}: {sweep[key]}", flush=True)
        best = max(
            sweep, key=lambda k: (round(sweep[k]["chrf"], 2), round(sweep[k]["bleu"], 2), -float(k.split(",")[0]))
        )
        width, alpha = int(best.split(",")[0]), float(best.split(",")[1])
        greedy = translate(model, src_vocab, tgt_vocab, test_src)
        chosen = translate(model, src_vocab, tgt_vocab, test_src, width, alpha)
        threshold = max(
            THRESHOLDS, key=lambda t: CHRF().corpus_score(hybrid(val_outputs[best], val_matches, t), val_refs).score
        )
        mixed = hybrid(chosen, matches, threshold)
        memory_out = baselines["translation memory"]
        tags = [error_kinds(o, p.references, p.source, known) for o, p in zip(chosen, splits.test)]
        result["seeds"][str(seed)] = {
            "train_seconds": history.elapsed_s,
            "val_sweep": sweep,
            "chosen": {"width": width, "alpha": alpha},
            "test_greedy": {**scores(greedy, test_refs), "placeholders": placeholder_share(greedy)},
            "test_chosen": {
                **scores(chosen, test_refs),
                "bands": by_band(chosen),
                "placeholders": placeholder_share(chosen),
            },
            "p_chosen_vs_greedy": paired_p(greedy, chosen, test_refs),
            "p_greedy_vs_memory": paired_p(memory_out, greedy, test_refs),
            "p_chosen_vs_memory": paired_p(memory_out, chosen, test_refs),
            "hybrid": {"threshold": threshold, **scores(mixed, test_refs)},
            "p_hybrid_vs_memory": paired_p(memory_out, mixed, test_refs),
            "p_hybrid_vs_chosen": paired_p(chosen, mixed, test_refs),
            "errors_chosen": {"wrong": sum(bool(t) for t in tags), **count_error_kinds(tags)},
        }
        print(json.dumps(result["seeds"][str(seed)]["test_chosen"]), flush=True)
    result["seconds"] = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    args.out.write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


def _spread(values) -> str:
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def markdown(result: dict) -> str:
    seeds = result["seeds"]
    runs = list(seeds.values())

    def cell(path):  # mean ± sd over seeds of run[path[0]][path[1]]...
        values = []
        for run in runs:
            value = run
            for key in path:
                value = value[key]
            values.append(value)
        return _spread(values)

    lines = [
        "# Lesson 07 over seeds: baselines, model and decoding sweep",
        "",
        f"Made by `scripts/translation_seeds.py` on {result['date']} (torch {result['torch']}, Python "
        f"{result['python']}, {result['threads']} thread(s), {result['seconds'] / 60:.1f} min), seeds "
        f"{', '.join(seeds)}; the recipe is `seq2seq_helpers.recipes.TranslationRecipe()`, lesson 07's. Corpus: "
        f"{result['corpus']['pairs']:,} pairs; train {result['corpus']['train']:,}, validation "
        f"{result['corpus']['val']:,}, test {result['corpus']['test']:,}. Lesson 07 quotes these figures with a "
        "dagger (†). Mean ± standard deviation over seeds; p: sacrebleu's paired bootstrap (1,000 resamples).",
        "",
        "## Test set (sacrebleu, every reference)",
        "",
        f"| system | BLEU | chrF | placeholders kept ({result['with_placeholders']} sources have one) |",
        "|---|---|---|---|",
    ]
    for name, row in result["baselines"].items():
        lines.append(f"| {name} | {row['bleu']:.1f} | {row['chrf']:.1f} | {100 * row['placeholders']:.1f}% |")
    pct = lambda key: _spread(100 * r[key]["placeholders"] for r in runs)
    lines += [
        f"| model, greedy | {cell(('test_greedy', 'bleu'))} | {cell(('test_greedy', 'chrf'))} | {pct('test_greedy')}% |",
        f"| model, beam setting chosen on validation | {cell(('test_chosen', 'bleu'))} | {cell(('test_chosen', 'chrf'))} "
        f"| {pct('test_chosen')}% |",
        "| hybrid: the memory at or above a fuzzy match chosen on validation, else the model (chosen beam) | "
        f"{cell(('hybrid', 'bleu'))} | {cell(('hybrid', 'chrf'))} | |",
        "",
        "## By the translation memory's fuzzy match (test chrF)",
        "",
        "| band | pairs | copy | memory | model (chosen beam) |",
        "|---|---|---|---|---|",
    ]
    for band, row in result["baselines"]["translation memory"]["bands"].items():
        copy = result["baselines"]["copy the source"]["bands"][band]["chrf"]
        lines.append(
            f"| {band}% | {row['n']} | {copy:.1f} | {row['chrf']:.1f} | {cell(('test_chosen', 'bands', band, 'chrf'))} |"
        )
    lines += [
        "",
        "## Per seed (test; p-values for BLEU, chrF)",
        "",
        "| seed | greedy BLEU / chrF | chosen (width, α) | its BLEU / chrF | p chosen vs greedy | p greedy vs memory "
        "| p chosen vs memory | hybrid threshold | p hybrid vs memory | p hybrid vs chosen |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    pv = lambda p: f"{p['BLEU']:.3f}, {p['chrF']:.3f}"
    for seed, r in seeds.items():
        g, c = r["test_greedy"], r["test_chosen"]
        lines.append(
            f"| {seed} | {g['bleu']:.1f} / {g['chrf']:.1f} | {r['chosen']['width']}, {r['chosen']['alpha']:g} | "
            f"{c['bleu']:.1f} / {c['chrf']:.1f} | {pv(r['p_chosen_vs_greedy'])} | {pv(r['p_greedy_vs_memory'])} | "
            f"{pv(r['p_chosen_vs_memory'])} | {r['hybrid']['threshold']}% | {pv(r['p_hybrid_vs_memory'])} | "
            f"{pv(r['p_hybrid_vs_chosen'])} |"
        )
    kinds = [k for k in result["errors_memory"] if k != "wrong"]
    lines += [
        "",
        f"## Wrong test outputs by kind (of {result['corpus']['test']}; an output may have several kinds)",
        "",
        "| kind | memory | model (chosen beam) |",
        "|---|---|---|",
    ]
    for kind in ["wrong", *kinds]:
        lines.append(f"| {kind} | {result['errors_memory'][kind]} | {cell(('errors_chosen', kind))} |")
    lines += [
        "",
        "## Validation sweep",
        "",
        "| width | α | BLEU | chrF | words per output |",
        "|---|---|---|---|---|",
    ]
    for key in runs[0]["val_sweep"]:
        width, alpha = key.split(",")
        lines.append(
            f"| {width} | {float(alpha):g} | {cell(('val_sweep', key, 'bleu'))} | {cell(('val_sweep', key, 'chrf'))} "
            f"| {cell(('val_sweep', key, 'words'))} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
