"""The package's own layout: the special tokens live in a leaf module, and no module imports one that imports it.

A cycle (A imports B, which imports A, at the top of the file or inside a function) makes the import order
matter and hides which module owns what; the one the package had, `_validate` copying `PAD` "so that data.py
can import this module" and importing `SOS` from `data` inside a function, is what `tokens.py` ended.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "seq2seq_helpers"


def package_imports() -> dict[str, set[str]]:
    """{module: the package modules it imports anywhere in its file (top level or inside a function)}."""
    graph = {}
    for path in sorted(PACKAGE.glob("*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    imported.add(node.module.split(".")[0])
                else:  # from . import _validate
                    imported.update(alias.name for alias in node.names)
        graph[path.stem] = imported & {p.stem for p in PACKAGE.glob("*.py")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_special_tokens_live_in_a_leaf_module():
    graph = package_imports()
    assert graph["tokens"] == set(), f"tokens.py must import nothing from the package, imports {graph['tokens']}"
    from seq2seq_helpers import _validate, data, tokens, translation

    assert (data.PAD, data.SOS, data.EOS, data.NUM_SPECIAL) == (tokens.PAD, tokens.SOS, tokens.EOS, tokens.NUM_SPECIAL)
    assert _validate.PAD is tokens.PAD and translation.UNK == tokens.UNK == tokens.NUM_SPECIAL
    for path in PACKAGE.glob("*.py"):
        if path.stem == "tokens":
            continue
        text = path.read_text(encoding="utf-8")
        for name in ("PAD", "SOS", "EOS", "NUM_SPECIAL", "UNK"):
            assert f"\n{name} = " not in text and f"\n{name}, " not in text, f"{path.name} defines {name} again"


def test_no_module_imports_a_module_that_imports_it():
    cycle = find_cycle(package_imports())
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_compare_is_near_the_leaves():
    """Every lesson imports compare.py to state a comparison; it needs nothing but the argument checks."""
    assert package_imports()["compare"] <= {"_validate", "tokens"}


# Model internals _validate.py must not read (issue 28): each model's contract is checked beside the model.
MODEL_INTERNALS = (
    "cell",
    "rnn",
    "input_feeding",
    "enc_dim",
    "dec_hid_dim",
    "hid_dim",
    "num_layers",
    "layout",
    "attention",
    "encoder",
    "decoder",
    "encoder_outputs",
    "attention_keys",
    "hidden",
)


def attribute_reads(source: str) -> set[str]:
    """Every ``x.name`` in ``source``, and every name a ``getattr(x, "name")`` reads."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("getattr", "hasattr"):
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                names.add(node.args[1].value)
    return names


def test_validate_holds_generic_checks_only():
    """``_validate.py`` imports no model and reads no model attribute: changing a decoder's state layout means
    editing ``models.py`` alone."""
    source = (PACKAGE / "_validate.py").read_text(encoding="utf-8")
    assert package_imports()["_validate"] <= {"tokens"}
    assert attribute_reads(source) & set(MODEL_INTERNALS) == set()
    for name in MODEL_INTERNALS:  # not through a string either (getattr(module, name), vars(...)[name])
        assert f'"{name}"' not in source and f"'{name}'" not in source, name


def test_the_model_internals_test_sees_a_model_attribute():
    assert attribute_reads("def f(decoder):\n    return decoder.cell == 'lstm'") >= {"cell"}
    assert attribute_reads("getattr(encoder, 'enc_dim', None)") == {"enc_dim"}
    assert attribute_reads("x.hid_dim + y.rnn.num_layers") >= {"hid_dim", "rnn", "num_layers"}
