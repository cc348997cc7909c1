"""`veil check`: random patches through several exact backends, compared bit for bit."""
from __future__ import annotations

import numpy as np

from veil.backends.catalog import get_backend
from veil.models.catalog import compile_model
from veil.util.errors import UsageError


def random_pixel_patches(n: int, size: int, seed: int) -> np.ndarray:
    """Noisy-looking test patches: a smooth random field plus sigma-25 noise, 0..255."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 255, (n, 1, 1)) + rng.normal(0, 40, (n, size, size)).cumsum(1) / size
    return np.clip(np.rint(base + rng.normal(0, 25, base.shape)), 0, 255).reshape(n, -1)


def cross_check(spec: str, backends: list[str], lowering: str, patches: int,
                seed: int, key_bits: int = 2048,
                workers: int | None = None) -> tuple[bool, str]:
    if patches < 1:
        raise UsageError("--patches must be at least 1")
    program = compile_model(spec, lowering, key_bits=key_bits)
    runners = [get_backend(name.strip(), workers=workers)
               for name in backends]
    for b in runners:
        if not b.exact:
            raise UsageError(f"backend {b.name} is not exact; check compares fixed-point backends")
    x = program.quantise_input(random_pixel_patches(patches, program.model.geometry.input_size, seed))
    try:
        results = [b.run_fixed(program, x) for b in runners]
    finally:
        for b in runners:
            b.close()
    ok, lines = True, []
    ref = results[0]
    for b, res in zip(runners[1:], results[1:]):
        same = np.all(res == ref, axis=1)
        ok &= bool(same.all())
        lines.append(f"{b.name} vs {runners[0].name} ({lowering}): {int(same.sum())}/{patches} "
                     f"patches bit-identical" + ("" if same.all() else
                                                 f"; first difference in patch {int(np.argmin(same))}"))
    if not lines:
        lines.append(f"{runners[0].name}: {patches} patches ran (name a second backend to compare)")
    return ok, "\n".join(lines)
