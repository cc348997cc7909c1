"""`veil check`: random patches through several exact backends, compared bit for bit."""
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


@dataclass
class CheckRun:
    """The patches and what each backend made of them (output accumulators)."""
    program: Program
    lowering: str
    pixels: np.ndarray            # (n, input_size**2) input patches, 0..255
    x: np.ndarray                 # the same, quantised
    names: list[str]
    results: list[np.ndarray]     # per backend, (n, output_size**2) int64
    phases: dict[str, dict]       # backend name -> its time and bytes per phase, if it counts them
    traffic: dict[str, str]       # backend name -> the same as the summary prints them

    def report(self) -> tuple[bool, str]:
        ok, lines, ref, n = True, [], self.results[0], len(self.x)
        for name, res in zip(self.names[1:], self.results[1:]):
            same = np.all(res == ref, axis=1)
            ok &= bool(same.all())
            lines.append(f"{name} vs {self.names[0]} ({self.lowering}): {int(same.sum())}/{n} "
                         f"patches bit-identical" + ("" if same.all() else
                                                     f"; first difference in patch {int(np.argmin(same))}"))
        if not lines:
            lines.append(f"{self.names[0]}: {n} patches ran (name a second backend to compare)")
        return ok, "\n".join(lines)


def run_check(spec: str, backends: list[str], lowering: str, patches: int, seed: int,
              key_bits: int = 2048, workers: int | None = None) -> CheckRun:
    if patches < 1:
        raise UsageError("--patches must be at least 1")
    program = compile_model(spec, lowering, key_bits=key_bits)
    runners = [get_backend(name.strip(), workers=workers)
               for name in backends]
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
    return CheckRun(program, lowering, pixels, x, [b.name for b in runners], results,
                    {b.name: b.phases for b in runners if hasattr(b, "phases")},
                    {b.name: b.traffic() for b in runners if hasattr(b, "traffic")})


def cross_check(spec: str, backends: list[str], lowering: str, patches: int,
                seed: int, key_bits: int = 2048,
                workers: int | None = None) -> tuple[bool, str]:
    return run_check(spec, backends, lowering, patches, seed, key_bits, workers).report()
