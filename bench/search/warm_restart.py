"""Experiment (issue 15): train a spec further from finished weights (a warm restart).

A new cosine schedule from LR down to 1e-5 over STEPS steps, fresh Adam moments, seed SEED
for the patches, `wheels` pictures; the spec's architecture must match the weights. Writes
OUT.npz, which `python bench/float_quality.py SPEC=OUT.npz` measures.

    python bench/search/warm_restart.py SPEC WEIGHTS.npz STEPS LR OUT.npz [--seed 2]
"""
from __future__ import annotations

import argparse

import numpy as np

from veil.models.catalog import resolve_spec
from veil.models.train_cli import _architecture
from veil.models.train_images import load_training_images
from veil.models.training import TrainConfig, initial_state, run_steps, weights_of


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("weights")
    ap.add_argument("steps", type=int)
    ap.add_argument("lr", type=float)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=2)
    a = ap.parse_args()
    model, _ = _architecture(resolve_spec(a.spec))
    act = next(layer.activation for layer in model.layers if layer.activation is not None)
    g, norm = model.geometry, model.normalisation
    cfg = TrainConfig(input_size=g.input_size, output_size=g.output_size,
                      hidden=tuple(layer.n_out for layer in model.layers[:-1]),
                      scale=norm.scale, offset=norm.offset, steps=a.steps, seed=a.seed,
                      residual=model.residual, lr=a.lr, lr_final=1e-5)
    state = initial_state(cfg)
    with np.load(a.weights) as z:
        start = [z[f"{kind}{i}"] for i in range(1, len(state.params) // 2 + 1) for kind in "wb"]
    if [p.shape for p in start] != [p.shape for p in state.params]:
        raise SystemExit(f"{a.weights}: weights of another architecture than {a.spec}")
    state.params[:] = [p.astype(np.float32) for p in start]
    run_steps(cfg, act.float_activation(), load_training_images("wheels"), state,
              log_every=5000)
    np.savez(a.out, **weights_of(state))


if __name__ == "__main__":
    main()
