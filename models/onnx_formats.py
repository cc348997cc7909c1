"""Fixed-point formats for an imported network, chosen from its weights' ranges the way the
compact model's were (docs/quality.md, "Fixed-point formats"; bench/format_sweep.py):

- integer bits: as few as hold the largest value after rounding (the weights' largest |w|,
  the normalised pixels' range, the activation's saturation);
- fractional bits: compact's, which the sweep chose at 0.006 dB below float: 10 for weights
  (fix<12,9> cost 0.027 dB), 8 for activations, coefficients one more; inputs get at least
  8 steps per grey level (compact's 9 bits give 10); weights get more than 10 fractional
  bits when a layer's largest weight would keep fewer than 9 significant bits (compact's
  smallest, layer 3's 0.557, keeps 9.1);
- bias: the accumulators' fractional bits (weight + the smaller of input and activation, the
  most a bias may have), and compact's 5 integer bits unless a bias needs more: a bias is a
  constant added inside the accumulator, so its width costs nothing.

A spec has one format per kind, shared by every layer; the report says per layer what the
shared format leaves each one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from veil.compiler.fixedpoint import MAX_TOTAL, FixFormat
from veil.compiler.model import ActivationDef, Normalisation
from veil.models.onnx_support import OnnxError

WEIGHT_FRAC = 10             # compact's weight fractional bits (the sweep's choice)
ACTIVATION_FRAC = 8          # compact's activation fractional bits
MIN_SIGNIFICANT_BITS = 9     # every layer's largest weight keeps at least this many
MAX_WEIGHT_FRAC = 16         # beyond this a nearly-zero layer would widen every accumulator
STEPS_PER_GREY_LEVEL = 8     # input resolution: at least 8 units of the last place per level
BIAS_INTEGER_BITS = 5        # compact's fix<24,18>


@dataclass(frozen=True)
class Formats:
    input: FixFormat
    activation: FixFormat
    weight: FixFormat
    bias: FixFormat
    coeff_frac: int
    reasons: dict[str, str]           # kind -> why, one line each


def integer_bits(largest: float, frac: int) -> int:
    """The fewest integer bits (sign not counted) that hold +-largest at `frac` bits."""
    units = round(abs(largest) * 2.0 ** frac)
    bits = 0
    while units > (1 << (bits + frac)) - 1:
        bits += 1
    return bits


def _ints(f: FixFormat) -> str:
    n = f.total - 1 - f.frac
    return f"{n} integer bit{'s' if n != 1 else ''}"


def _fmt(int_bits: int, frac: int, what: str) -> FixFormat:
    if 1 + int_bits + frac > MAX_TOTAL:
        raise OnnxError(f"the {what} need {1 + int_bits + frac} bits, more than {MAX_TOTAL}")
    return FixFormat(1 + int_bits + frac, frac)


def choose_formats(weights: list[np.ndarray], biases: list[np.ndarray],
                   norm: Normalisation, act: ActivationDef) -> Formats:
    reasons = {}
    lo, hi = sorted((norm.forward(0.0), norm.forward(255.0)))
    in_frac = max(math.ceil(math.log2(STEPS_PER_GREY_LEVEL / abs(norm.scale))), 0)
    inp = _fmt(integer_bits(max(-lo, hi), in_frac), in_frac, "inputs")
    reasons["input"] = (f"pixels normalise to [{lo:g}, {hi:g}]: {_ints(inp)}; "
                        f"{in_frac} fractional bits "
                        f"give {abs(norm.scale) * 2 ** in_frac:.1f} steps per grey level "
                        f"(at least {STEPS_PER_GREY_LEVEL})")
    act_fmt = _fmt(integer_bits(act.saturation, ACTIVATION_FRAC), ACTIVATION_FRAC,
                   "activations")
    reasons["activation"] = (f"{act.name} lies in [-{act.saturation:g}, {act.saturation:g}]: "
                             f"{_ints(act_fmt)}; "
                             f"{ACTIVATION_FRAC} fractional bits as compact")

    largest = [float(np.abs(w).max(initial=0.0)) for w in weights]
    nonzero = [m for m in largest if m > 0]
    w_frac = WEIGHT_FRAC
    if nonzero:
        need = math.ceil(MIN_SIGNIFICANT_BITS - math.log2(min(nonzero)))
        w_frac = min(max(w_frac, need), MAX_WEIGHT_FRAC)
    k_max = int(np.argmax(largest))
    weight = _fmt(integer_bits(largest[k_max], w_frac), w_frac, "weights")
    reasons["weight"] = (f"largest |w| {largest[k_max]:.4g} (layer {k_max + 1}): "
                         f"{_ints(weight)}; "
                         f"{w_frac} fractional bits ("
                         + ("compact's" if w_frac == WEIGHT_FRAC else
                            f"so that every layer's largest weight keeps "
                            f"{MIN_SIGNIFICANT_BITS} significant bits, at most "
                            f"{MAX_WEIGHT_FRAC}") + ")")

    ins = [inp] + [act_fmt] * (len(weights) - 1)
    b_frac = w_frac + min(f.frac for f in ins)
    room = min(acc_format(weight, x, w.shape[1]).total - 1 - (w_frac + x.frac)
               for x, w in zip(ins, weights))       # integer bits every accumulator has
    b_largest = max(float(np.abs(b).max(initial=0.0)) for b in biases)
    b_need = integer_bits(b_largest, b_frac)
    if b_need > room:
        raise OnnxError(f"a bias of {b_largest:g} does not fit the accumulators "
                        f"({room} integer bits)")
    bias = _fmt(min(max(BIAS_INTEGER_BITS, b_need), room), b_frac, "biases")
    reasons["bias"] = (f"largest |b| {b_largest:.4g}: {_ints(bias)} (compact's "
                       f"{BIAS_INTEGER_BITS} unless more are needed: a bias costs nothing); "
                       f"{b_frac} fractional bits, the accumulators' (weight {w_frac} + input "
                       f"or activation {min(f.frac for f in ins)})")
    return Formats(inp, act_fmt, weight, bias, ACTIVATION_FRAC + 1, reasons)


def acc_format(weight: FixFormat, x: FixFormat, n_in: int) -> FixFormat:
    """A layer's accumulator, as the checker sizes it (compiler.model.Layer.acc_bits)."""
    return FixFormat(min(weight.total + x.total + n_in.bit_length() + 1, MAX_TOTAL),
                     weight.frac + x.frac)


def layer_lines(formats: Formats, weights: list[np.ndarray], tanh: list[bool],
                act_name: str) -> list[str]:
    """Per layer: its input format, its largest weight's significant bits, its accumulator."""
    lines = []
    for k, (w, t) in enumerate(zip(weights, tanh), start=1):
        x = formats.input if k == 1 else formats.activation
        m = float(np.abs(w).max(initial=0.0))
        sig = math.log2(m * 2 ** formats.weight.frac) if m > 0 else 0.0
        out = f"{act_name} -> {formats.activation}" if t else "output (pixels)"
        lines.append(f"layer {k}: {w.shape[1]} -> {w.shape[0]}, input {x}, weight "
                     f"{formats.weight} (largest |w| {m:.4g}: {sig:.1f} significant bits), "
                     f"accumulator {acc_format(formats.weight, x, w.shape[1])}, {out}")
    return lines
