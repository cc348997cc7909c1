"""Semantic checks: syntax tree -> CheckedModel, or one SpecError at the offending position."""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Mapping

import numpy as np

from veil.compiler import ast
from veil.compiler.activation_table import ActivationRangeError, ActivationTable
from veil.compiler.budget import (KAPPA_CHARGED, MAX_ACTIVATIONS, MAX_DEGREE, MAX_SEGMENTS,
                                  CircuitBudget, WeightBudget)
from veil.compiler.circuit_estimate import estimated_ands, range_cells
from veil.compiler.errors import SourcePos, SpecError
from veil.compiler.fixedpoint import MAX_TOTAL, FixFormat
from veil.compiler.model import (ActivationDef, CheckedModel, Geometry, Layer, Normalisation,
                                 Symmetry)
from veil.compiler.parser import keywords, parse_prelude
from veil.compiler.polynomials import first_pos, polynomial
from veil.compiler.weights import glorot_uniform, load_npz


# --- entry point ---

def load_prelude() -> dict[str, ActivationDef]:
    """The prelude's activations, checked: a fresh dict {name: ActivationDef}."""
    return dict(_prelude_activations())


@functools.cache
def _prelude_activations() -> dict[str, ActivationDef]:
    prelude = parse_prelude()
    if prelude.models:
        raise SpecError.at(prelude.models[0].pos, "the prelude must not define a model")
    return check_activations(prelude.activations, {})


def check(spec: ast.Spec, activations: Mapping[str, ActivationDef],
          allow_weight_files: bool = True) -> CheckedModel:
    """Check a parsed spec given the already known activations (normally the prelude's).
    Without `allow_weight_files` a `weights "FILE"` clause is a SpecError and no file is
    opened: a spec from the network must not make its reader open its files."""
    known = check_activations(spec.activations, activations)
    if not spec.models:
        raise SpecError(spec.path, 1, 1, "the spec defines no model")
    if len(spec.models) > 1:
        raise SpecError.at(spec.models[1].pos, "a spec defines exactly one model "
                                               f"('{spec.models[0].name}' came first)")
    return _check_model(spec.models[0], known, spec.path, allow_weight_files)


# --- activations ---

def check_activations(decls, known: Mapping[str, ActivationDef]) -> dict[str, ActivationDef]:
    out = dict(known)
    if len(decls) > MAX_ACTIVATIONS:
        raise SpecError.at(decls[MAX_ACTIVATIONS].pos, f"a spec may define at most "
                                                       f"{MAX_ACTIVATIONS} activations")
    for d in decls:
        if d.name in keywords():
            raise SpecError.at(d.name_pos, f"'{d.name}' is a keyword, not a usable activation name")
        if d.name in out:
            raise SpecError.at(d.name_pos, f"activation '{d.name}' is already defined "
                                           f"(at {out[d.name].pos})")
        out[d.name] = _check_activation(d)
    return out


def _check_activation(d: ast.ActivationDecl) -> ActivationDef:
    if len(d.segments) > MAX_SEGMENTS:
        raise SpecError.at(d.segments[MAX_SEGMENTS].pos, f"activation '{d.name}': an "
                                                         f"activation may have at most "
                                                         f"{MAX_SEGMENTS} segments")
    bounds, coeffs = [], []
    for seg in d.segments:
        b = seg.bound
        if not (b.value > 0 and math.isfinite(b.value)):
            raise SpecError.at(b.pos, f"activation bounds must be positive, got {b.text}")
        if bounds and b.value <= bounds[-1]:
            raise SpecError.at(b.pos, f"activation bounds must be strictly increasing: "
                                      f"{b.text} after {bounds[-1]:g}")
        bounds.append(b.value)
        coeffs.append(tuple(float(c) for c in polynomial(seg.poly, "x", MAX_DEGREE,
                                                          "an activation polynomial")))
    if not math.isfinite(d.saturation.value):
        raise SpecError.at(d.saturation.pos, "saturation value must be finite")
    return ActivationDef(d.name, tuple(bounds), tuple(coeffs), d.saturation.value,
                         Symmetry(d.symmetry), d.pos)


# --- the model ---

_REQUIRED = {"patch": "'patch'", "normalise": "'normalise'", "input": "'input' format",
             "activation": "'activation' format", "weight": "'weight' format",
             "bias": "'bias' format", "coefficient": "'coefficient frac'",
             "weights": "'weights'"}


def _key(e: ast.Entry) -> str:
    if isinstance(e, ast.Format):
        return e.kind
    if isinstance(e, (ast.WeightsFile, ast.WeightsRandom)):
        return "weights"
    return type(e).__name__.lower()


def _int(n: ast.Num, what: str, lo: int, hi: int | None = None) -> int:
    if not n.is_int:
        raise SpecError.at(n.pos, f"{what} must be an integer, got {n.text}")
    v = int(n.text)
    if v < lo or (hi is not None and v > hi):
        limits = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
        raise SpecError.at(n.pos, f"{what} must be {limits}, got {v}")
    return v


def _check_model(m: ast.ModelDecl, known: dict[str, ActivationDef], path: str,
                 allow_weight_files: bool) -> CheckedModel:
    single: dict[str, ast.Entry] = {}
    dense: list[ast.Dense] = []
    for e in m.entries:
        if isinstance(e, ast.Dense):
            dense.append(e)
            continue
        k = _key(e)
        if k in single:
            raise SpecError.at(e.pos, f"duplicate {_REQUIRED.get(k, repr(k))} entry "
                                      f"(first at line {single[k].pos.line})")
        single[k] = e
    missing = [label for k, label in _REQUIRED.items() if k not in single]
    if not dense:
        missing.append("a 'dense' layer")
    if missing:
        raise SpecError.at(m.pos, f"model '{m.name}' is missing {', '.join(missing)}")

    geometry = _geometry(single["patch"])
    norm = _normalisation(single["normalise"])
    fmt = {k: _format(single[k]) for k in ("input", "activation", "weight", "bias")}
    coeff = single["coefficient"]
    coeff_frac = _int(coeff.frac, "coefficient frac", 0, MAX_TOTAL - 1)
    shapes = _layer_shapes(dense, geometry, known)
    acc = _accumulators(dense, shapes, fmt, single["bias"])
    _charge_circuits(dense, acc, known, fmt["activation"], coeff_frac)
    source, params = _float_params(single["weights"], dense, shapes, path, allow_weight_files)

    layers = []
    for k, (d, (n_in, n_out), (bits, frac), (w, b)) in enumerate(
            zip(dense, shapes, acc, params), start=1):
        layers.append(Layer(
            index=k, n_in=n_in, n_out=n_out,
            activation=known[d.activation] if d.activation else None,
            weights=_quantise(w, fmt["weight"], f"layer {k} weight", d.pos),
            bias=_quantise(b, fmt["bias"], f"layer {k} bias", d.pos),
            weights_float=w, bias_float=b,
            in_format=fmt["input"] if k == 1 else fmt["activation"],
            weight_format=fmt["weight"], bias_format=fmt["bias"],
            acc_bits=bits, acc_frac=frac, pos=d.pos))
    return CheckedModel(
        name=m.name, path=path, geometry=geometry, normalisation=norm,
        input_format=fmt["input"], activation_format=fmt["activation"],
        weight_format=fmt["weight"], bias_format=fmt["bias"], coeff_frac=coeff_frac,
        layers=tuple(layers), weights_source=source, activations=known,
        residual=single["predict"].residual if "predict" in single else False)


def _geometry(p: ast.Patch) -> Geometry:
    i = _int(p.input_size, "input side", 1)
    o = _int(p.output_size, "output side", 1)
    if o > i:
        raise SpecError.at(p.output_size.pos, f"output side {o} is larger than input side {i}")
    if (i - o) % 2:
        raise SpecError.at(p.output_size.pos, f"input side {i} and output side {o} must have "
                                              "the same parity (the output is centred)")
    s = o if p.stride is None else _int(p.stride, "stride", 1, o)
    return Geometry(i, o, s)


def _normalisation(n: ast.Normalise) -> Normalisation:
    offset, scale = np.pad(polynomial(n.expr, n.var, 1, "the normalisation"), (0, 1))[:2]
    if scale == 0:
        raise SpecError.at(first_pos(n.expr), f"the normalisation does not depend on '{n.var}'")
    return Normalisation(float(scale), float(offset))


def _format(f: ast.Format) -> FixFormat:
    total = _int(f.total, "total bits", 0)
    frac = _int(f.frac, "fractional bits", 0)
    try:
        return FixFormat(total, frac)
    except ValueError as e:
        raise SpecError.at(f.pos, f"bad {f.kind} format fix<{total},{frac}>: {e}") from None


def _layer_shapes(dense: list[ast.Dense], g: Geometry,
                  known: dict[str, ActivationDef]) -> list[tuple[int, int]]:
    shapes: list[tuple[int, int]] = []
    budget = WeightBudget()
    for k, d in enumerate(dense, start=1):
        n_in = _int(d.n_in, "layer input size", 1)
        n_out = _int(d.n_out, "layer output size", 1)
        budget.charge(k, n_in, n_out, d.pos)
        last = k == len(dense)
        if k == 1 and n_in != g.input_size ** 2:
            s = g.input_size
            raise SpecError.at(d.pos, f"layer 1 takes {n_in} inputs but the input patch "
                                      f"has {s}x{s} = {s * s} pixels")
        if k > 1 and n_in != shapes[-1][1]:
            raise SpecError.at(d.pos, f"layer {k} takes {n_in} inputs but layer {k - 1} "
                                      f"gives {shapes[-1][1]} outputs")
        if last and n_out != g.output_size ** 2:
            s = g.output_size
            raise SpecError.at(d.pos, f"the last layer gives {n_out} outputs but the output "
                                      f"patch has {s}x{s} = {s * s} pixels")
        if d.activation is not None:
            if d.activation not in known:
                raise SpecError.at(d.activation_pos, f"unknown activation '{d.activation}' "
                                                     f"(known: {', '.join(sorted(known))})")
            if last:
                raise SpecError.at(d.activation_pos, "the last layer must not have an "
                                                     "activation (it outputs pixels)")
        elif not last:
            raise SpecError.at(d.pos, f"layer {k} needs an activation "
                                      "(only the last layer has none)")
        shapes.append((n_in, n_out))
    return shapes


def _accumulators(dense: list[ast.Dense], shapes: list[tuple[int, int]],
                  fmt: dict[str, FixFormat], bias: ast.Format) -> list[tuple[int, int]]:
    """(acc_bits, acc_frac) per layer; the bias must shift left into every accumulator."""
    w, b = fmt["weight"], fmt["bias"]
    acc = []
    for k, (d, (n_in, _)) in enumerate(zip(dense, shapes), start=1):
        x = fmt["input"] if k == 1 else fmt["activation"]
        bits = w.total + x.total + n_in.bit_length() + 1    # bit_length = ceil(log2(n_in + 1))
        frac = w.frac + x.frac
        if bits > MAX_TOTAL:
            raise SpecError.at(d.pos, f"layer {k} needs a {bits}-bit accumulator, "
                                      f"more than {MAX_TOTAL}")
        if b.frac > frac:
            raise SpecError.at(bias.pos, f"bias has {b.frac} fractional bits, more than "
                                         f"layer {k}'s accumulator ({frac} = weight {w.frac} "
                                         f"+ input {x.frac})")
        if b.total - b.frac + frac > bits - 1:
            raise SpecError.at(bias.pos, f"bias {b} does not fit layer {k}'s {bits}-bit "
                                         f"accumulator with {frac} fractional bits "
                                         f"(at most {bits - 1 - frac} integer bits)")
        acc.append((bits, frac))
    return acc


def _charge_circuits(dense: list[ast.Dense], acc: list[tuple[int, int]],
                     known: dict[str, ActivationDef], act_format: FixFormat,
                     coeff_frac: int) -> None:
    """Each hidden layer's activation, quantised for its accumulator (no range analysis),
    charged against the circuit budgets before anything is enumerated, synthesised or drawn."""
    budget = CircuitBudget()
    for k, (d, (bits, frac)) in enumerate(zip(dense, acc), start=1):
        if d.activation is None:
            continue
        try:
            table = ActivationTable.quantise(known[d.activation], bits, frac, act_format,
                                             coeff_frac)
        except ActivationRangeError as exc:             # as lower.py reports it
            raise SpecError.at(d.pos, f"layer {k}: {exc}") from None
        budget.charge(k, d.activation, (d.activation, bits, frac), range_cells(table),
                      estimated_ands(table, KAPPA_CHARGED), d.activation_pos)


def _float_params(src: ast.Entry, dense: list[ast.Dense], shapes: list[tuple[int, int]],
                  spec_path: str, allow_files: bool) -> tuple[str, list]:
    if isinstance(src, ast.WeightsRandom):
        seed = _int(src.seed, "seed", 0)
        return f"random seed {seed}", glorot_uniform(shapes, seed)
    assert isinstance(src, ast.WeightsFile)
    if not allow_files:
        raise SpecError.at(src.pos, "a published spec may not name a weights file (only "
                                    "'weights random seed N')")
    path = Path(spec_path).parent / src.path
    return f"file {src.path}", load_npz(path, shapes, src.pos, [d.pos for d in dense])


def _quantise(x: np.ndarray, f: FixFormat, what: str, pos: SourcePos) -> np.ndarray:
    scale = 2.0**f.frac
    # rint is monotone, so the extremes of x decide whether all of it fits
    if x.size and not f.min_int <= np.rint(x.min() * scale) <= np.rint(x.max() * scale) <= f.max_int:
        scaled = np.rint(x * scale)
        bad = np.flatnonzero((scaled < f.min_int) | (scaled > f.max_int))[0]
        i = np.unravel_index(bad, x.shape)
        where = ", ".join(str(int(j)) for j in i)
        raise SpecError.at(pos, f"{what} [{where}] = {float(x[i])!r} is out of range of "
                                f"{f} ({f.range_str()})")
    return f.quantise(x)
