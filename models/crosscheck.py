"""`veil check` and `veil.check`: random patches through several exact backends, compared
bit for bit with the first. One implementation; the command prints the result's summary."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veil.backends.catalog import get_backend
from veil.compiler.program import Program
from veil.models.catalog import compile_model
from veil.util.errors import UsageError


def random_pixel_patches(n: int, size: int, seed: int) -> np.ndarray:
    """Noisy-looking test patches: a smooth random field plus sigma-25 noise, 0..255."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 255, (n, 1, 1)) + rng.normal(0, 40, (n, size, size)).cumsum(1) / size
    return np.clip(np.rint(base + rng.normal(0, 25, base.shape)), 0, 255).reshape(n, -1)


@dataclass(frozen=True)
class Difference:
    """The first patch on which `backend` and the reference backend disagree."""
    backend: str
    reference: str
    patch: int                # index among the checked patches
    pixels: np.ndarray        # its input pixels, 0..255
    expected: np.ndarray      # the reference's output accumulators (int64)
    got: np.ndarray           # this backend's


@dataclass(frozen=True)
class CheckResult:
    backends: tuple[str, ...]           # the first is the reference
    lowering: str
    patches: int
    identical_counts: tuple[int, ...]   # per backend after the first: patches bit-identical
    differences: tuple[Difference | None, ...]   # per backend after the first: its first

    @property
    def identical(self) -> bool:
        return all(n == self.patches for n in self.identical_counts)

    @property
    def first_difference(self) -> Difference | None:
        return next((d for d in self.differences if d is not None), None)

    @property
    def summary(self) -> str:
        """What `veil check` prints: one line per backend compared with the reference."""
        if len(self.backends) == 1:
            return (f"{self.backends[0]}: {self.patches} patches ran (name a second backend "
                    f"to compare)")
        return "\n".join(
            f"{name} vs {self.backends[0]} ({self.lowering}): {same}/{self.patches} patches "
            f"bit-identical" + ("" if d is None else f"; first difference in patch {d.patch}")
            for name, same, d in zip(self.backends[1:], self.identical_counts, self.differences))

    def __str__(self) -> str:
        return self.summary


@dataclass
class CheckRun:
    """The patches and what each backend made of them (output accumulators), as the report
    (models/report/check.py) shows them; `result()` compares them."""
    program: Program
    pixels: np.ndarray            # (n, input_size**2) input patches, 0..255
    x: np.ndarray                 # the same, quantised
    names: list[str]
    results: list[np.ndarray]     # per backend, (n, output_size**2) int64
    phases: dict[str, dict]       # backend name -> its time and bytes per phase, if it counts them
    traffic: dict[str, str]       # backend name -> the same as the summary prints them

    def result(self) -> CheckResult:
        ref, counts, differences = self.results[0], [], []
        for name, res in zip(self.names[1:], self.results[1:]):
            same = np.all(res == ref, axis=1)
            counts.append(int(same.sum()))
            i = int(np.argmin(same))
            differences.append(None if same.all() else
                               Difference(name, self.names[0], i, self.pixels[i], ref[i],
                                          res[i]))
        return CheckResult(tuple(self.names), self.program.lowering.value, len(self.x),
                           tuple(counts), tuple(differences))

    def report(self) -> tuple[bool, str]:
        result = self.result()
        return result.identical, result.summary


def run_check(spec: str | Program, backends: list[str] | tuple[str, ...], lowering: str,
              patches: int, seed: int, key_bits: int = 2048,
              workers: int | None = None) -> CheckRun:
    if patches < 1:
        raise UsageError("--patches must be at least 1")
    program = spec if isinstance(spec, Program) else compile_model(spec, lowering,
                                                                    key_bits=key_bits)
    runners = [get_backend(name.strip(), workers=workers) for name in backends]
    for b in runners:
        if not b.exact:
            raise UsageError(f"backend {b.name} is not exact; check compares fixed-point backends")
    pixels = random_pixel_patches(patches, program.model.geometry.input_size, seed)
    x = program.quantise_input(pixels)
    try:
        results = [b.run_fixed(program, x) for b in runners]
    finally:
        for b in runners:
            b.close()
    return CheckRun(program, pixels, x, [b.name for b in runners], results,
                    {b.name: b.phases for b in runners if hasattr(b, "phases")},
                    {b.name: b.traffic() for b in runners if hasattr(b, "traffic")})


def cross_check(spec: str | Program, backends: list[str] | tuple[str, ...], lowering: str,
                patches: int, seed: int, key_bits: int = 2048,
                workers: int | None = None) -> CheckResult:
    return run_check(spec, backends, lowering, patches, seed, key_bits, workers).result()
