"""The integer semantics of a piecewise-polynomial activation: one table, one definition.

An activation layer receives the accumulator X (a signed `acc_bits`-bit integer with
`acc_frac` fractional bits) and returns t(X) in the activation format fix<l_a, f_a>:

    s = [X < 0]
    a = ((X xor -s) + 2^(shift-1)) >> shift
                                       shift = acc_frac - f_a: the ones' complement magnitude
                                       |X| - s (XOR gates only in a circuit), rounded to
                                       nearest at the activation's precision (rounding rather
                                       than truncating keeps t unbiased)
    a > T[-1]            -> y = S      (saturation value, S = round(sat * 2^f_a))
    else k = first k with a <= T[k]    (T[k] = floor(bound_k * 2^f_a))
         P1 = a,  Pj = (P(j-1) * a) >> f_a
         y  = (sum_j K[k][j] * Pj  +  K[k][0] * 2^f_a  +  2^(f_c - 1)) >> f_c
                                       (K[k][j] = round(c_kj * 2^f_c); '>>' is floor)
    odd: t = s ? -y : y;   even: t = y

`reference()` is the straightforward numpy evaluation of exactly this; the circuit
synthesis (compiler.synthesis) builds gates for the same table, and the tests hold one to the
other bit for bit. `ranges()` is an exhaustive range analysis over every magnitude a <= T[-1],
from which the circuit takes minimal bit widths.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from veil.compiler.fixedpoint import FixFormat
from veil.compiler.model import ActivationDef, Symmetry
from veil.util.errors import SpecError


MAX_MAGNITUDE_BITS = 24   # range analysis enumerates every magnitude up to the last bound


def _power(x: float) -> str:
    return f"2^{int(np.log2(x))}" if np.isfinite(x) else "more than 2^1023"


class ActivationRangeError(SpecError):
    """The quantised activation does not fit the declared output format (a spec problem
    without a position: the lowering re-raises it as the compiler's SpecError at the layer)."""


@dataclass(frozen=True)
class ActivationTable:
    name: str
    odd: bool
    acc_bits: int
    acc_frac: int
    out_format: FixFormat
    coeff_frac: int
    thresholds: tuple[int, ...]
    coeffs: tuple[tuple[int, ...], ...]
    saturation: int

    @classmethod
    def build(cls, act: ActivationDef, acc_bits: int, acc_frac: int,
              out_format: FixFormat, coeff_frac: int) -> "ActivationTable":
        """The table, its values checked against the output format (a range analysis)."""
        table = cls.quantise(act, acc_bits, acc_frac, out_format, coeff_frac)
        lo, hi = table.ranges()["y"]
        lo, hi = min(lo, table.saturation), max(hi, table.saturation)
        if table.odd:
            lo, hi = min(lo, -hi), max(hi, -lo)
        f_a = out_format.frac
        if lo < out_format.min_int or hi > out_format.max_int:
            raise ActivationRangeError(
                f"activation {act.name} takes values in [{lo / 2 ** f_a:g}, {hi / 2 ** f_a:g}], "
                f"outside {out_format}")
        return table

    @classmethod
    def quantise(cls, act: ActivationDef, acc_bits: int, acc_frac: int,
                 out_format: FixFormat, coeff_frac: int) -> "ActivationTable":
        """The table without the range analysis: cheap, what the compile budgets are charged
        with (budget.py) before anything is enumerated or synthesised."""
        f_a = out_format.frac
        if acc_frac < f_a:
            raise ActivationRangeError(
                f"accumulator has {acc_frac} fractional bits, fewer than the activation's {f_a}")
        # Compared as floats first: a finite bound or value can scale to infinity.
        last = act.bounds[-1] * 2.0 ** f_a
        if not last < 1 << MAX_MAGNITUDE_BITS:
            raise ActivationRangeError(
                f"activation {act.name}: last bound {act.bounds[-1]:g} is about {_power(last)} "
                f"units of {out_format}; at most 2^{MAX_MAGNITUDE_BITS} are supported")
        if not abs(act.saturation) * 2.0 ** f_a < 2.0 ** 62:
            raise ActivationRangeError(
                f"activation {act.name}: saturation value {act.saturation:g} is outside "
                f"{out_format}")
        # Every intermediate (powers, coefficient products, sums) must stay below 2^62 so
        # that numpy's int64 evaluation here and the range analysis are exact.
        bound = float(act.bounds[-1])
        biggest = max(sum(abs(c) * 2.0 ** coeff_frac * max(bound, 1.0) ** j * 2.0 ** f_a
                          for j, c in enumerate(seg)) for seg in act.coeffs)
        if biggest >= 2.0 ** 61:
            raise ActivationRangeError(
                f"activation {act.name}: its polynomials reach about {_power(biggest)} "
                f"in fixed point, more than the 2^61 supported; lower the bounds, the degree or "
                f"the coefficient precision")
        table = cls(
            name=act.name, odd=act.symmetry is Symmetry.ODD, acc_bits=acc_bits,
            acc_frac=acc_frac, out_format=out_format, coeff_frac=coeff_frac,
            thresholds=tuple(int(np.floor(b * 2 ** f_a)) for b in act.bounds),
            coeffs=tuple(tuple(int(np.rint(c * 2 ** coeff_frac)) for c in seg)
                         for seg in act.coeffs),
            saturation=int(np.rint(act.saturation * 2 ** f_a)))
        # The powers too, whatever their coefficients: one too small to quantise to a nonzero
        # integer escapes the check above, and its power is still computed (P(j-1) * a).
        last_int = table.thresholds[-1]
        product = max((p * last_int for p in table.powers_at(last_int)[:-1]), default=0)
        if product >= 1 << 62:
            raise ActivationRangeError(
                f"activation {act.name}: its powers of |x| reach about "
                f"2^{product.bit_length() - 1} in fixed point, more than the 2^62 supported; "
                f"lower the bounds or the degree")
        return table

    def powers_at(self, a: int) -> list[int]:
        """[a, P2, .., P_degree] at one magnitude, exactly (Python integers); each is
        nondecreasing in a, so at T[k] it is the largest over segment k and below."""
        powers = [a]
        for _ in range(2, self.degree + 1):
            powers.append((powers[-1] * a) >> self.out_format.frac)
        return powers

    @property
    def shift(self) -> int:
        return self.acc_frac - self.out_format.frac

    @property
    def degree(self) -> int:
        return max(len(c) for c in self.coeffs) - 1

    def _rounding(self) -> int:
        return 1 << (self.coeff_frac - 1) if self.coeff_frac > 0 else 0

    def _powers(self, a: np.ndarray) -> list[np.ndarray]:
        powers = [None, a]
        for _ in range(2, self.degree + 1):
            powers.append((powers[-1] * a) >> self.out_format.frac)
        return powers

    def _segment(self, k: int, powers: list[np.ndarray]) -> np.ndarray:
        c = self.coeffs[k]
        acc = np.full_like(powers[1], c[0] << self.out_format.frac) + self._rounding()
        for j in range(1, len(c)):
            acc = acc + c[j] * powers[j]
        return acc >> self.coeff_frac

    def magnitude_values(self, a: np.ndarray) -> np.ndarray:
        """y for magnitudes a (int64 array), saturation included."""
        powers = self._powers(np.minimum(a, self.thresholds[-1]))
        y = np.full_like(a, self.saturation)
        for k in reversed(range(len(self.thresholds))):
            y = np.where(a <= self.thresholds[k], self._segment(k, powers), y)
        return np.where(a > self.thresholds[-1], self.saturation, y)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """t(X) for accumulators X (int64 array), exactly as specified above."""
        x = np.asarray(x, dtype=np.int64)
        s = x < 0
        ones = np.where(s, -x - 1, x)
        a = (ones + (1 << (self.shift - 1))) >> self.shift if self.shift else ones
        y = self.magnitude_values(a)
        return np.where(s, -y, y) if self.odd else y

    @cached_property
    def _range_table(self) -> dict[str, tuple[int, int]]:
        a = np.arange(self.thresholds[-1] + 1, dtype=np.int64)
        powers = self._powers(a)
        out: dict[str, tuple[int, int]] = {"a": (0, int(a[-1]))}
        for j in range(2, len(powers)):
            out[f"P{j}"] = (int(powers[j].min()), int(powers[j].max()))
        ys = []
        for k, c in enumerate(self.coeffs):
            lo_bound = self.thresholds[k - 1] + 1 if k else 0
            sel = slice(lo_bound, self.thresholds[k] + 1)
            seg_powers = [None] + [p[sel] for p in powers[1:]]
            acc = np.full_like(seg_powers[1], (c[0] << self.out_format.frac) + self._rounding())
            for j in range(1, len(c)):
                acc = acc + c[j] * seg_powers[j]
            # The circuit computes each segment modulo 2^w for every magnitude and lets the
            # multiplexer discard it outside its interval, so only in-interval sums must fit.
            lo, hi = int(acc.min(initial=0)), int(acc.max(initial=0))
            out[f"seg{k}"] = (lo, hi)
            ys.append(acc >> self.coeff_frac)
        allys = np.concatenate(ys) if ys else np.zeros(1, np.int64)
        out["y"] = (int(allys.min()), int(allys.max()))
        return out

    def ranges(self) -> dict[str, tuple[int, int]]:
        """Exact [min, max] of every intermediate over all magnitudes a <= T[-1]:
        'a', 'P2'.., 'seg{k}' (the sum of segment k, before the final shift, over its interval),
        and 'y' (segment values before saturation)."""
        return self._range_table
