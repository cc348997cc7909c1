"""Byte encodings of garbled circuits and labels: round trips, and every malformed message
(wrong size, header, circuit, padding) is rejected before use; shape checks of the API."""
import struct

import numpy as np
import pytest
from .garble_kit import ot_select, tanh_inputs, tiny_activation

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc.wire import (MAGIC, gc_from_bytes, gc_to_bytes, labels_from_bytes,
                                       labels_to_bytes)
from veil.circuits import adders
from veil.circuits.builder import Builder
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.circuits.linear import linearise
from veil.util.errors import ProtocolError


def _const_circuit():
    b = Builder()
    x = b.input("x", 5)
    b.output("z", adders.add_const(b, x, 9) + [b.const(1), b.const(0)])
    b.output("w", [b.not_(x[0]), x[1]])  # 9 output bits: the decoding bits need padding
    return linearise(b.build())


@pytest.mark.parametrize("n", [1, 13])
def test_round_trip_over_the_wire(n):
    lin, acc, _ = tiny_activation()
    inputs = tanh_inputs(n, seed=n)
    gc, sec = G.garble(lin, n, 321, first_instance=5)
    data = gc_to_bytes(gc)
    assert len(data) == 56 + lin.and_count * n * 32 + -(-51 * n // 8)  # 32 bytes per AND
    got = gc_from_bytes(data, lin, n)
    assert (got.tweak_base, got.first_instance) == (321, 5)
    assert np.array_equal(got.tables, gc.tables)
    sent = {"x_masked": labels_to_bytes(G.input_labels(sec, "x_masked", inputs["x_masked"])),
            "r_u": labels_to_bytes(G.input_labels(sec, "r_u", inputs["r_u"]))}
    labels = {k: labels_from_bytes(v, len(lin.inputs[k]), n) for k, v in sent.items()}
    labels["r_c"] = ot_select(G.label_pairs(sec, "r_c"), inputs["r_c"], acc)
    out = G.decode(got, G.evaluate(lin, got, labels))
    assert np.array_equal(out["y_masked"], plain_evaluate(lin, inputs)["y_masked"])


def test_round_trip_with_constants_and_two_outputs():
    lin = _const_circuit()
    gc, sec = G.garble(lin, 9, 1)
    got = gc_from_bytes(gc_to_bytes(gc), lin, 9)
    assert np.array_equal(got.constants, gc.constants)
    assert all(np.array_equal(got.decoding[k], gc.decoding[k]) for k in gc.decoding)
    out = G.decode(got, G.evaluate(lin, got, {"x": G.input_labels(sec, "x", np.arange(9))}))
    want = plain_evaluate(lin, {"x": np.arange(9)})
    assert all(np.array_equal(out[k], want[k]) for k in want)


def _message():
    lin = _const_circuit()
    return lin, gc_to_bytes(G.garble(lin, 9, 1)[0])


@pytest.mark.parametrize("mutate", [
    lambda d: d[:-1],                                   # truncated
    lambda d: d + b"\0",                                # trailing byte
    lambda d: b"XEILGC01" + d[8:],                      # magic
    lambda d: d[:24] + struct.pack("<Q", 10) + d[32:],  # instance count
    lambda d: d[:32] + struct.pack("<Q", 99) + d[40:],  # and_count
    lambda d: d[:16] + struct.pack("<Q", 2**63) + d[24:],  # tweak counter overflow
    lambda d: d[:-1] + bytes([d[-1] | 0x80]),           # a padding bit set
])
def test_malformed_messages_are_rejected(mutate):
    lin, data = _message()
    assert data.startswith(MAGIC)
    with pytest.raises(ProtocolError):
        gc_from_bytes(mutate(data), lin, 9)


def test_message_for_another_circuit_or_count_is_rejected():
    lin, data = _message()
    with pytest.raises(ProtocolError):
        gc_from_bytes(data, lin, 8)
    with pytest.raises(ProtocolError):
        gc_from_bytes(data, tiny_activation()[0], 9)


def test_label_messages_are_length_checked():
    labels = np.zeros((3, 4, 16), np.uint8)
    assert labels_from_bytes(labels_to_bytes(labels), 3, 4).shape == (3, 4, 16)
    with pytest.raises(ProtocolError):
        labels_from_bytes(labels_to_bytes(labels), 3, 5)
    with pytest.raises(ValueError):
        labels_to_bytes(np.zeros((3, 4, 8), np.uint8))


def test_evaluate_checks_shapes_and_buses():
    lin = _const_circuit()
    gc, sec = G.garble(lin, 9, 1)
    good = G.input_labels(sec, "x", np.arange(9))
    with pytest.raises(KeyError):
        G.evaluate(lin, gc, {"y": good})
    for bad in (good[:, :8], good[:4], good.astype(np.uint16), good[..., :8]):
        with pytest.raises(ValueError):
            G.evaluate(lin, gc, {"x": bad})
    with pytest.raises(ValueError):
        G.evaluate(tiny_activation()[0], gc, {"x": good})
    with pytest.raises(ValueError):
        G.decode(gc, {"z": np.zeros((1, 9, 16), np.uint8), "w": np.zeros((2, 9, 16), np.uint8)})
    bad = dict(gc.decoding, w=np.full((2, 9), 2, np.uint8))  # decoding bits must be bits
    with pytest.raises(ValueError):
        G.decode(G.GarbledCircuit(gc.tables, gc.constants, bad, 1, 0),
                 {"z": np.zeros((7, 9, 16), np.uint8), "w": np.zeros((2, 9, 16), np.uint8)})


def test_garble_argument_checks():
    lin = _const_circuit()
    for kwargs in ({"n_instances": 0, "tweak_base": 1}, {"n_instances": 2, "tweak_base": -1},
                   {"n_instances": 2, "tweak_base": 2**64}):
        with pytest.raises(ValueError):
            G.garble(lin, **kwargs)
    tiny = tiny_activation()[0]
    with pytest.raises(ValueError):
        G.garble(tiny, 2, 1, first_instance=2**64 // (2 * tiny.and_count))
    with pytest.raises(KeyError):
        G.garble(lin, 2, 1, zero_labels={"nope": np.zeros((1, 2, 16), np.uint8)})
    with pytest.raises(ValueError):
        G.garble(lin, 2, 1, zero_labels={"x": np.zeros((5, 3, 16), np.uint8)})
    with pytest.raises(ValueError):
        G.input_labels(G.garble(lin, 2, 1)[1], "x", [1, 2, 3])
    gc = G.garble(lin, 2, 1)[0]
    with pytest.raises(ValueError):
        gc.tables[0, 0, 0, 0] = 1  # read-only
