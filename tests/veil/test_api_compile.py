"""veil.compile and veil.Program: the same text as `veil compile`, the layers and formats of
the spec, the gate graph of the circuit the protocol garbles, one-line errors."""
import json
import re
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

import veil
from veil.circuits.gates import Op
from veil.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY_SPEC = (ROOT / "models" / "tiny.veil").read_text()


@pytest.fixture(scope="module")
def tiny():
    return veil.compile("tiny")


def cli(*args) -> str:
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 0, res.output + res.stderr
    return res.output


def test_stats_and_circuits_are_what_the_command_prints(tiny):
    assert str(tiny.stats()) == cli("compile", "tiny")
    assert tiny.stats() == json.loads(cli("compile", "tiny", "--emit", "stats", "--json"))
    assert tiny.to_bristol(1) == cli("compile", "tiny", "--emit", "bristol", "--layer", 1)
    assert tiny.to_bristol(2, unmasked=True) == cli("compile", "tiny", "--emit", "bristol",
                                                    "--layer", 2, "--unmasked")
    assert tiny.emit("ir") == cli("compile", "tiny", "--emit", "ir")


def test_summary_shows_every_layer_and_the_specs_formats(tiny):
    text = repr(tiny)
    assert text == str(tiny) == tiny.summary()
    # the formats as the spec writes them, e.g. "weight fix<11, 9>" -> "fix<11,9>"
    spec_formats = {kind: f"fix<{a},{b}>" for kind, a, b in
                    re.findall(r"^\s*(\w+)\s+fix<(\d+),\s*(\d+)>", TINY_SPEC, flags=re.M)}
    assert set(spec_formats) == {"input", "activation", "weight", "bias"}
    dense = re.findall(r"dense (\d+) -> (\d+)", TINY_SPEC)
    for i, (n_in, n_out) in enumerate(dense, start=1):
        assert (f"layer {i}  dense {n_in} -> {n_out}, weight {spec_formats['weight']}, "
                f"bias {spec_formats['bias']}") in text
    assert f"input    25 x {spec_formats['input']}" in text
    assert text.count(f"tanh_star -> {spec_formats['activation']}") == 2
    assert {k: tiny.formats[k] for k in spec_formats} == spec_formats
    assert [(L["in"], L["out"]) for L in tiny.layers] == [(int(a), int(b)) for a, b in dense]
    assert (tiny.name, tiny.lowering, tiny.key_bits, tiny.kappa) == ("tiny", "packed", 2048, 40)


def _bristol_counts(text: str) -> tuple[int, list[int], list[int]]:
    """(ANDs, input bus widths, output bus widths) read from Bristol Fashion text."""
    lines = [line for line in text.splitlines() if line.strip()]
    ins = [int(w) for w in lines[1].split()[1:]]
    outs = [int(w) for w in lines[2].split()[1:]]
    return sum(line.split()[-1] == "AND" for line in lines[3:]), ins, outs


@pytest.mark.parametrize("layer,unmasked", [(1, False), (2, True)])
def test_activation_circuit_is_the_gate_graph_of_the_bristol_text(tiny, layer, unmasked):
    g = tiny.activation_circuit(layer, unmasked=unmasked)
    assert isinstance(g, nx.DiGraph) and nx.is_directed_acyclic_graph(g)
    ands, ins, outs = _bristol_counts(tiny.to_bristol(layer, unmasked=unmasked))
    assert sum(gate.op is Op.AND for _, gate in g.nodes(data="gate")) == ands
    assert [len(w) for w in g.graph["inputs"].values()] == ins
    assert [len(w) for w in g.graph["outputs"].values()] == outs
    for wire, gate in g.nodes(data="gate"):          # edges run from operands to readers
        assert set(g.predecessors(wire)) == set(gate.args)


def test_activation_circuit_is_a_copy(tiny):
    g = tiny.activation_circuit(1)
    g.remove_nodes_from(list(g.nodes)[:10])
    g.graph["inputs"].clear()
    assert tiny.activation_circuit(1).number_of_nodes() == g.number_of_nodes() + 10
    assert tiny.activation_circuit(1).graph["inputs"]


def test_a_path_spec_text_and_a_name_compile_alike(tiny, tmp_path, monkeypatch):
    by_path = veil.compile(ROOT / "models" / "tiny.veil")
    assert str(by_path.stats()) == str(tiny.stats())
    monkeypatch.chdir(tmp_path)          # spec text reads its weights file from here
    (tmp_path / "tiny.npz").symlink_to(ROOT / "models" / "tiny.npz")
    by_text = veil.compile(TINY_SPEC)
    assert by_text.to_bristol(1) == tiny.to_bristol(1)
    assert by_text.stats()["layers"] == tiny.stats()["layers"]
    paper = veil.compile("tiny", lowering="paper", key_bits=1024, kappa=48)
    assert (paper.lowering, paper.key_bits, paper.kappa) == ("paper", 1024, 48)
    assert "lowering paper, 1024-bit keys, kappa 48" in str(paper)


def test_errors_are_one_line_veil_errors(tiny):
    cases = [(lambda: veil.compile("no-such-model"), veil.UsageError, "no built-in model"),
             (lambda: veil.compile("tiny", lowering="fast"), veil.UsageError, "unknown lowering"),
             (lambda: veil.compile("tiny", key_bits=100), veil.UsageError,
              "key_bits must be an even number"),
             (lambda: veil.compile("tiny", kappa=0), veil.UsageError, "kappa must be positive"),
             (lambda: veil.compile("model m {\n  patch 5 -> 1\n  dense 25 -> 1 relu\n}\n"),
              veil.SpecError, "<spec text>:"),
             (lambda: tiny.to_bristol(3), veil.UsageError, "layer 3 has no activation"),
             (lambda: tiny.activation_circuit(7), veil.UsageError, "layer 7"),
             (lambda: tiny.stats(9), veil.UsageError, "no layer 9")]
    for call, kind, words in cases:
        with pytest.raises(kind, match=re.escape(words)) as info:
            call()
        assert "\n" not in str(info.value)
