"""Byte encodings of garbled circuits and labels: round trips under every scheme, and every
malformed message (wrong size, header, scheme, circuit, padding) is rejected before use; shape
checks of the API."""
import dataclasses
import struct

import numpy as np
import pytest
from .garble_kit import SCHEMES, ot_select, tanh_inputs, tiny_activation

from veil.backends.yao.gc import garble as G
from veil.backends.yao.gc.wire import (MAGIC, gc_from_bytes, gc_to_bytes, labels_from_bytes,
                                       labels_to_bytes)
from veil.circuits import adders
from veil.circuits.builder import Builder
from veil.circuits.evaluate import evaluate as plain_evaluate
from veil.circuits.linear import linearise
from veil.util.errors import ProtocolError

HEADER = 64                                            # magic and 7 uint64 fields
TABLE_BYTES = {"half-gates": 32, "three-halves": 24}   # per AND and instance
CONTROL_BITS = {"half-gates": 0, "three-halves": 5}


def _const_circuit():
    b = Builder()
    x = b.input("x", 5)
    b.output("z", adders.add_const(b, x, 9) + [b.const(1), b.const(0)])
    b.output("w", [b.not_(x[0]), x[1]])  # 9 output bits: the decoding bits need padding
    return linearise(b.build())


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("n", [1, 13])
def test_round_trip_over_the_wire(n, scheme):
    lin, acc, _ = tiny_activation()
    inputs = tanh_inputs(n, seed=n)
    gc, sec = G.garble(lin, n, 321, first_instance=5, scheme=scheme)
    data = gc_to_bytes(gc)
    ands = lin.and_count * n
    assert len(data) == (HEADER + ands * TABLE_BYTES[scheme] + -(-ands * CONTROL_BITS[scheme] // 8)
                         + -(-sum(map(len, lin.outputs.values())) * n // 8))
    got = gc_from_bytes(data, lin, n)
    assert (got.tweak_base, got.first_instance, got.scheme) == (321, 5, scheme)
    assert np.array_equal(got.tables, gc.tables) and np.array_equal(got.control, gc.control)
    sent = {"x_masked": labels_to_bytes(G.input_labels(sec, "x_masked", inputs["x_masked"])),
            "r_lo": labels_to_bytes(G.input_labels(sec, "r_lo", inputs["r_lo"]))}
    labels = {k: labels_from_bytes(v, len(lin.inputs[k]), n) for k, v in sent.items()}
    labels["r_c"] = ot_select(G.label_pairs(sec, "r_c"), inputs["r_c"], acc)
    out = G.decode(got, G.evaluate(lin, got, labels))
    assert np.array_equal(out["y_low"], plain_evaluate(lin, inputs)["y_low"])


def test_three_halves_is_a_quarter_smaller_on_the_wire():
    """1.5 kappa + 5 = 197 bits per AND against 256: what the scheme is for."""
    lin, _, _ = tiny_activation()
    size = {s: len(gc_to_bytes(G.garble(lin, 64, 1, scheme=s)[0])) for s in SCHEMES}
    out_bits = sum(map(len, lin.outputs.values()))
    per_and = {s: (v - HEADER - out_bits * 64 // 8) / (lin.and_count * 64)
               for s, v in size.items()}
    assert per_and == {"half-gates": 32.0, "three-halves": 197 / 8}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_round_trip_with_constants_and_two_outputs(scheme):
    lin = _const_circuit()
    gc, sec = G.garble(lin, 9, 1, scheme=scheme)
    got = gc_from_bytes(gc_to_bytes(gc), lin, 9)
    assert np.array_equal(got.constants, gc.constants)
    assert all(np.array_equal(got.decoding[k], gc.decoding[k]) for k in gc.decoding)
    out = G.decode(got, G.evaluate(lin, got, {"x": G.input_labels(sec, "x", np.arange(9))}))
    want = plain_evaluate(lin, {"x": np.arange(9)})
    assert all(np.array_equal(out[k], want[k]) for k in want)


def _message(scheme="three-halves"):
    lin = _const_circuit()
    return lin, gc_to_bytes(G.garble(lin, 9, 1, scheme=scheme)[0])


def _field(k: int, value: int):
    """Replace header field k (0 = scheme, 1 = tweak_base, ... 6 = decoding bits)."""
    return lambda d: d[:8 + 8 * k] + struct.pack("<Q", value) + d[16 + 8 * k:]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("mutate", [
    lambda d: d[:-1],                                   # truncated
    lambda d: d + b"\0",                                # trailing byte
    lambda d: b"XEILGC02" + d[8:],                      # magic
    lambda d: b"VEILGC01" + d[8:],                      # the old format
    _field(0, 0), _field(0, 3), _field(0, 2**63),       # no such scheme
    _field(3, 10),                                      # instance count
    _field(4, 99),                                      # and_count
    _field(2, 2**62),                                   # tweak counter overflow
    _field(6, 5),                                       # decoding bits
    lambda d: d[:-1] + bytes([d[-1] | 0x80]),           # a padding bit set
])
def test_malformed_messages_are_rejected(mutate, scheme):
    lin, data = _message(scheme)
    assert data.startswith(MAGIC) and gc_from_bytes(data, lin, 9).scheme == scheme
    with pytest.raises(ProtocolError):
        gc_from_bytes(mutate(data), lin, 9)


def test_the_other_scheme_of_the_same_size_is_not_mistaken():
    """Changing only the scheme field leaves a message of the wrong length for it."""
    lin, data = _message("three-halves")
    with pytest.raises(ProtocolError):
        gc_from_bytes(_field(0, 1)(data), lin, 9)
    lin, data = _message("half-gates")
    with pytest.raises(ProtocolError):
        gc_from_bytes(_field(0, 2)(data), lin, 9)


def test_a_padding_bit_in_the_control_bits_is_rejected():
    """The control bits (5 per AND and instance) are packed; their padding must be zero."""
    lin = _const_circuit()
    n = next(k for k in range(1, 16) if lin.and_count * k * 5 % 8)
    gc = G.garble(lin, n, 1, scheme="three-halves")[0]
    data = bytearray(gc_to_bytes(gc))
    ands = lin.and_count * n
    last_control_byte = HEADER + ands * 24 + -(-ands * 5 // 8) - 1
    data[last_control_byte] |= 0x80
    with pytest.raises(ProtocolError, match="padding"):
        gc_from_bytes(bytes(data), lin, n)


def test_a_receiver_can_insist_on_a_scheme():
    lin, data = _message("half-gates")
    assert gc_from_bytes(data, lin, 9, schemes=("half-gates",)).scheme == "half-gates"
    with pytest.raises(ProtocolError, match="scheme"):
        gc_from_bytes(data, lin, 9, schemes=("three-halves",))


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
        G.decode(dataclasses.replace(gc, decoding=bad),
                 {"z": np.zeros((7, 9, 16), np.uint8), "w": np.zeros((2, 9, 16), np.uint8)})
    with pytest.raises(ValueError):   # tables of the other scheme's shape
        other = G.garble(lin, 9, 1, scheme="half-gates")[0]
        G.evaluate(lin, dataclasses.replace(gc, tables=other.tables), {"x": good})


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
    with pytest.raises(ValueError):
        gc.control[0, 0, 0] = 1
