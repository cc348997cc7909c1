"""Experiment (issue 15, not a model Veil can run): does a wider, pooled context help?

The network sees a WINDOW x WINDOW square around its 8x8 output: the central 16x16 at full
resolution, plus the whole window average-pooled by POOL with the cells the centre already
covers left out (WINDOW 32, POOL 2: 256 + 192 = 448 inputs). The pooling is a public linear
map of the user's own pixels, so the protocol could apply it before encryption at no MAC
cost; only the first layer's wider input is paid for. Trained by veil.models.training's own
loop (its sampler's draws mapped to these features by a sampler_class), evaluated in float with tanh* on the
noisy images of bench/float_quality.py (same seeds), so rows compare with its table.

    python bench/search/pooled_context.py NAME WINDOW POOL H1 H2 STEPS [--lr 1e-3]
    python bench/search/pooled_context.py NAME WINDOW POOL H1 H2 0 --weights NAME.npz
POOL 0 is the plain 16x16 input (compact's shape with H1 = H2 = 256).
"""
from __future__ import annotations

import argparse

import numpy as np

import veil.models.training as training
from veil.bench.quality import test_images
from veil.models.catalog import compile_model
from veil.models.noise import add_noise, psnr
from veil.models.patches import PatchGeometry, PatchGrid
from veil.models.train_images import load_training_images

SCALE, OFFSET = 1 / 255 / 0.2, -0.5 / 0.2       # compact's normalisation
CENTRE, OUT = 16, 8


def features(windows: np.ndarray, pool: int) -> np.ndarray:
    """(n, W, W) normalised windows -> (n, inputs) float32."""
    n, w = len(windows), windows.shape[1]
    b = (w - CENTRE) // 2
    centre = windows[:, b:b + CENTRE, b:b + CENTRE].reshape(n, -1)
    if pool == 0:
        return centre.astype(np.float32)
    g = w // pool
    pooled = windows.reshape(n, g, pool, g, pool).mean(axis=(2, 4))
    keep = np.ones((g, g), bool)
    keep[b // pool:(b + CENTRE) // pool, b // pool:(b + CENTRE) // pool] = False
    return np.concatenate([centre, pooled[:, keep]], axis=1).astype(np.float32)


def tanh_star():
    return next(layer.activation for layer in compile_model("compact").model.layers
                if layer.activation is not None).float_activation()


def forward(params, act, x):
    for i in range(0, len(params), 2):
        x = x @ params[i].T + params[i + 1]
        if i + 2 < len(params):
            x = act(x)
    return x


def train(window, pool, hidden, steps, lr):
    cfg = training.TrainConfig(input_size=window, output_size=OUT, hidden=hidden, scale=SCALE,
                               offset=OFFSET, residual=True, steps=steps, lr=lr, seed=1)

    class Sampler(training.PatchSampler):
        def draw(self, n):
            x, target = super().draw(n)
            return features(x.reshape(n, window, window), pool), target

    rng = np.random.default_rng(cfg.seed)
    sizes = [features(np.zeros((1, window, window)), pool).shape[1], *hidden, OUT * OUT]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [training.glorot(rng, fan_in, fan_out), np.zeros(fan_out, np.float32)]
    state = training.TrainState(params, [np.zeros_like(p) for p in params],
                                [np.zeros_like(p) for p in params], rng)
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) / OUT ** 2
    print(f"{sizes[0]} inputs, {macs:,.0f} MACs per pixel ({macs / 2304:.2f}x compact)",
          flush=True)
    training.run_steps(cfg, tanh_star(), load_training_images("wheels"), state,
                       log_every=5000, sampler_class=Sampler)
    return state.params


def evaluate(params, window, pool) -> dict[str, float]:
    act, geom, res = tanh_star(), PatchGeometry(window, OUT, OUT), {}
    b = (window - OUT) // 2
    for k, (group, _name, clean) in enumerate(test_images(["holdout", "set12", "bsd68"])):
        noisy = add_noise(clean[None], 25.0, k)[0]
        grid = PatchGrid(noisy.shape, geom)
        acc = grid.new_accumulator()
        for idx, patches in grid.batches(grid.pad(noisy), 4096):
            x = (patches * SCALE + OFFSET).reshape(len(patches), window, window)
            out = forward(params, act, features(x, pool)) + \
                x[:, b:b + OUT, b:b + OUT].reshape(len(x), -1)
            acc.add(idx, (out - OFFSET) / SCALE)
        res.setdefault(group, []).append(psnr(clean, np.rint(np.clip(acc.result(), 0, 255))))
    return {g: float(np.mean(v)) for g, v in res.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("window", type=int)
    ap.add_argument("pool", type=int)
    ap.add_argument("h1", type=int)
    ap.add_argument("h2", type=int)
    ap.add_argument("steps", type=int)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weights", help="evaluate these weights (w1, b1, ...) instead")
    a = ap.parse_args()
    if a.weights:
        with np.load(a.weights) as z:
            params = [z[f"{kind}{i}"] for i in range(1, len(z.files) // 2 + 1) for kind in "wb"]
    else:
        params = train(a.window, a.pool, (a.h1, a.h2), a.steps, a.lr)
        np.savez(f"{a.name}.npz", **{f"{'wb'[i % 2]}{i // 2 + 1}": p
                                     for i, p in enumerate(params)})
    print(a.name, "  ".join(f"{g} {v:.2f}" for g, v in evaluate(params, a.window, a.pool).items()))


if __name__ == "__main__":
    main()
