"""`veil train SPEC`: train the architecture a spec declares and write its weights file.

The spec's own `weights` entry names the output (.npz beside the spec); to read the
architecture before any weights exist, the spec is checked with that entry swapped for
seeded random weights. Geometry, normalisation, layer widths and the activation all come
from the spec: training uses the spec's piecewise activation in float (tanh* for compact).
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import time
import zipfile
from pathlib import Path

import numpy as np

from veil.compiler import ast
from veil.compiler.check import check, load_prelude
from veil.compiler.parser import parse_file
from veil.models.catalog import resolve_spec
from veil.models.train_images import DEFAULT_DATASET, load_training_images
from veil.models.train_checkpoint import describe_run, load_checkpoint, save_checkpoint
from veil.models.training import TrainConfig, initial_state, run_steps, weights_of
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


def load_start_weights(path: str, state) -> tuple[list[np.ndarray], str]:
    """The float32 parameters in a weights .npz (w1, b1, w2, ...) shaped like `state`'s, and
    their SHA-256 (so that a checkpoint of the run names what it started from)."""
    names = [f"{kind}{i}" for i in range(1, len(state.params) // 2 + 1) for kind in "wb"]
    try:
        with np.load(path, allow_pickle=False) as z:
            found = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UsageError(f"--init {path}: not a readable weights file ({type(e).__name__})"
                         ) from None
    digest = hashlib.sha256()
    for name, here in zip(names, state.params):
        there = found.get(name)
        if there is None or there.shape != here.shape:
            got = "missing" if there is None else f"{there.shape}"
            raise UsageError(f"--init {path}: weights of another architecture ({name} is "
                             f"{got} there, {here.shape} here)")
        digest.update(np.ascontiguousarray(there, np.float32).tobytes())
    return [found[n].astype(np.float32) for n in names], digest.hexdigest()


def train_spec(spec: str, output: str | None, steps: int, batch: int, seed: int,
               log=print, dataset: str = DEFAULT_DATASET, checkpoint: str | None = None,
               every: int = 5000, resume: bool = False, until: int | None = None,
               lr: float = 1e-3, lr_final: float = 1e-5,
               init: str | None = None) -> Path | None:
    """Train and write the weights; with `checkpoint`, save the state there every `every`
    steps (and continue it with `resume`). Stopped at `until` < steps: None, no weights.
    With `init` (a weights .npz of the same architecture) the run starts from those weights
    instead of random ones: a warm restart, with a new schedule and fresh Adam moments."""
    if steps < 1 or batch < 1 or every < 1 or (until is not None and until < 1):
        raise UsageError("--steps, --batch, --every and --until must be at least 1")
    if not 0 < lr_final <= lr:
        raise UsageError("want 0 < --lr-final <= --lr")
    if checkpoint is None and (resume or until is not None):
        raise UsageError("--resume and --until need --checkpoint FILE")
    if checkpoint is not None and not resume and Path(checkpoint).exists():
        raise UsageError(f"{checkpoint} exists: add --resume to continue that run, or remove it")
    if checkpoint is not None and not Path(checkpoint).parent.is_dir():
        raise UsageError(f"{checkpoint}: folder {Path(checkpoint).parent} does not exist")
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
                      residual=model.residual, lr=lr, lr_final=lr_final)
    float_act = act.float_activation()
    images = load_training_images(dataset)
    state = initial_state(cfg)
    start, init_digest = (None, None) if init is None else load_start_weights(init, state)
    run = describe_run(cfg, f"{act.name} {float_act!r}", images, init_digest)
    if resume:
        state = load_checkpoint(Path(checkpoint), run)
        log(f"resuming {checkpoint} at step {state.step} of {steps}")
    elif start is not None:
        state.params[:] = start
        log(f"starting from the weights in {init}")
    save = (lambda st: save_checkpoint(Path(checkpoint), st, run)) if checkpoint else None
    t0 = time.time()
    run_steps(cfg, float_act, images, state, until=until, every=every if checkpoint else 0,
              save=save or (lambda st: None), log=log, log_every=max(1, min(5000, steps // 10)))
    if state.step < steps:
        log(f"stopped at step {state.step} of {steps}; the run continues with --resume "
            f"--checkpoint {checkpoint}")
        return None
    log(f"trained {steps} steps of {batch} patches in {time.time() - t0:.0f} s "
        f"({state.elapsed:.0f} s in all)")
    buf = io.BytesIO()
    np.savez(buf, **weights_of(state))
    atomic_write_bytes(Path(output), buf.getvalue())
    return Path(output)
