"""`veil train SPEC`: train the architecture a spec declares and write its weights file.

The spec's own `weights` entry names the output (.npz beside the spec); to read the
architecture before any weights exist, the spec is checked with that entry swapped for
seeded random weights. Geometry, normalisation, layer widths and the activation all come
from the spec: training uses the spec's piecewise activation in float (tanh* for compact).
"""
from __future__ import annotations

import dataclasses
import io
import time
from pathlib import Path

import numpy as np

from veil.compiler import ast
from veil.compiler.check import check, load_prelude
from veil.compiler.parser import parse_file
from veil.models.catalog import resolve_spec
from veil.models.training import TrainConfig, train
from veil.util.atomic import atomic_write_bytes
from veil.util.errors import SpecError, UsageError


def _architecture(spec_path: Path):
    """(checked model with placeholder weights, the weights file the spec names or None)."""
    tree = parse_file(spec_path)
    if len(tree.models) != 1:
        check(tree, load_prelude())                 # raises the SpecError at its position
    model = tree.models[0]
    weights = [e for e in model.entries if isinstance(e, (ast.WeightsFile, ast.WeightsRandom))]
    target = weights[0].path if weights and isinstance(weights[0], ast.WeightsFile) else None
    entries = tuple(ast.WeightsRandom(seed=ast.Num(0.0, "0", e.pos), pos=e.pos)
                    if isinstance(e, ast.WeightsFile) else e for e in model.entries)
    tree = dataclasses.replace(tree, models=(dataclasses.replace(model, entries=entries),))
    return check(tree, load_prelude()), target


def train_spec(spec: str, output: str | None, steps: int, batch: int, seed: int,
               log=print) -> Path:
    if steps < 1 or batch < 1:
        raise UsageError("--steps and --batch must be at least 1")
    path = resolve_spec(spec)
    model, target = _architecture(path)
    if output is None:
        if target is None:
            raise UsageError(f"{path} uses random weights; say where to write them with -o")
        output = path.parent / target
    if not Path(output).parent.is_dir():
        raise UsageError(f"{output}: folder {Path(output).parent} does not exist")
    acts = {L.activation.name for L in model.layers if L.activation is not None}
    if len(acts) != 1:
        raise SpecError("training supports one activation shared by all hidden layers")
    act = next(L.activation for L in model.layers if L.activation is not None)
    g, norm = model.geometry, model.normalisation
    cfg = TrainConfig(input_size=g.input_size, output_size=g.output_size,
                      hidden=tuple(L.n_out for L in model.layers[:-1]),
                      scale=norm.scale, offset=norm.offset, steps=steps, batch=batch, seed=seed,
                      residual=model.residual)
    t0 = time.time()
    weights = train(cfg, act.float_activation(), log=log, log_every=max(1, min(5000, steps // 10)))
    log(f"trained {steps} steps of {batch} patches in {time.time() - t0:.0f} s")
    buf = io.BytesIO()
    np.savez(buf, **weights)
    atomic_write_bytes(Path(output), buf.getvalue())
    return Path(output)
