"""Train an MLP denoiser in float32 numpy (Adam, MSE), on images that ship with scikit-image.

The network is trained with the activation it will be deployed with (the spec's piecewise
polynomial, e.g. tanh*), so the float model already is the model the secure path computes,
up to fixed-point rounding. Everything random here is training randomness (numpy Generator,
seeded for reproducibility); none of it is a protocol secret.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from veil.compiler.float_activation import FloatActivation
from veil.models.train_images import load_training_images


@dataclass(frozen=True)
class TrainConfig:
    input_size: int            # side of the noisy input patch
    output_size: int           # side of the predicted clean centre
    hidden: tuple[int, ...]    # hidden layer widths
    scale: float               # normalised x = scale * q + offset (q: pixel on the 0..255 scale)
    offset: float
    sigma: float = 25.0
    residual: bool = False     # learn clean - noisy centre (the user adds the noisy centre back)
    steps: int = 200_000
    batch: int = 256
    lr: float = 1e-3
    lr_final: float = 1e-5
    seed: int = 1


class PatchSampler:
    """Random (noisy, clean-centre) pairs with dihedral augmentation and fresh noise each draw."""

    def __init__(self, images: list[np.ndarray], cfg: TrainConfig, rng: np.random.Generator):
        self.images = [im.astype(np.float32) for im in images if min(im.shape) >= cfg.input_size]
        areas = np.array([im.size for im in self.images], dtype=np.float64)
        self.p = areas / areas.sum()
        self.cfg = cfg
        self.rng = rng
        s = cfg.input_size
        self.offs = np.arange(s)

    def draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        cfg, rng, s = self.cfg, self.rng, self.cfg.input_size
        which = rng.choice(len(self.images), size=n, p=self.p)
        clean = np.empty((n, s, s), dtype=np.float32)
        for k in np.unique(which):
            sel = np.nonzero(which == k)[0]
            im = self.images[k]
            ys = rng.integers(0, im.shape[0] - s + 1, size=sel.size)
            xs = rng.integers(0, im.shape[1] - s + 1, size=sel.size)
            clean[sel] = im[ys[:, None, None] + self.offs[None, :, None],
                            xs[:, None, None] + self.offs[None, None, :]]
        clean = np.rot90(clean, k=int(rng.integers(4)), axes=(1, 2))
        if rng.integers(2):
            clean = clean[:, :, ::-1]
        noisy = np.clip(np.rint(clean + rng.normal(0.0, cfg.sigma, clean.shape)), 0, 255)
        b = (s - cfg.output_size) // 2
        centre = clean[:, b:b + cfg.output_size, b:b + cfg.output_size]
        norm = lambda q: (q * cfg.scale + cfg.offset).astype(np.float32)
        target = norm(centre)
        if cfg.residual:
            target = target - norm(noisy[:, b:b + cfg.output_size, b:b + cfg.output_size])
        return norm(noisy).reshape(n, -1), target.reshape(n, -1)


def glorot(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)


@dataclass
class TrainState:
    """Everything a run needs to continue bit for bit: a checkpoint stores exactly this."""
    params: list[np.ndarray]         # w1, b1, w2, b2, ... (w_k of shape (out, in))
    m: list[np.ndarray]              # Adam's first moments
    v: list[np.ndarray]              # Adam's second moments
    rng: np.random.Generator         # the one generator of the run (initialisation, patches)
    step: int = 0                    # steps done
    run_loss: float = 0.0            # loss summed since the last log line
    elapsed: float = 0.0             # seconds of training so far


def initial_state(cfg: TrainConfig) -> TrainState:
    rng = np.random.default_rng(cfg.seed)
    sizes = [cfg.input_size ** 2, *cfg.hidden, cfg.output_size ** 2]
    params = []
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        params += [glorot(rng, fi, fo), np.zeros(fo, np.float32)]
    return TrainState(params, [np.zeros_like(p) for p in params],
                      [np.zeros_like(p) for p in params], rng)


def weights_of(state: TrainState) -> dict[str, np.ndarray]:
    """Float32 weights {'w1','b1',...} with w_k of shape (out, in)."""
    out = {}
    for k in range(len(state.params) // 2):
        out[f"w{k + 1}"] = state.params[2 * k]
        out[f"b{k + 1}"] = state.params[2 * k + 1]
    return out


def train(cfg: TrainConfig, act: FloatActivation, log=print, log_every: int = 2000,
          images: list[np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Train from scratch to cfg.steps and return the weights (see weights_of)."""
    images = load_training_images() if images is None else images
    state = initial_state(cfg)
    run_steps(cfg, act, images, state, log=log, log_every=log_every)
    return weights_of(state)


def run_steps(cfg: TrainConfig, act: FloatActivation, images: list[np.ndarray],
              state: TrainState, until: int | None = None, every: int = 0,
              save=lambda state: None, log=print, log_every: int = 2000,
              sampler_class: type[PatchSampler] = PatchSampler) -> TrainState:
    """Continue `state` up to step `until` (default cfg.steps), calling save(state) every
    `every` steps and at the end; the same steps give the same bits however they are split.
    `sampler_class` draws the batches (experiments map them to other inputs)."""
    until = cfg.steps if until is None else min(until, cfg.steps)
    sampler = sampler_class(images, cfg, state.rng)
    params, m, v = state.params, state.m, state.v
    b1, b2, eps = 0.9, 0.999, 1e-8
    t0 = time.time() - state.elapsed
    for step in range(state.step + 1, until + 1):
        x, target = sampler.draw(cfg.batch)
        # forward
        acts, pre = [x], []
        for li in range(0, len(params), 2):
            z = acts[-1] @ params[li].T + params[li + 1]
            pre.append(z)
            acts.append(act(z) if li + 2 < len(params) else z)
        err = acts[-1] - target
        state.run_loss += float(np.mean(err ** 2))
        # backward
        grads = [None] * len(params)
        g = (2.0 / err.size) * err
        for li in range(len(params) - 2, -1, -2):
            grads[li] = g.T @ acts[li // 2]
            grads[li + 1] = g.sum(axis=0)
            if li > 0:
                g = (g @ params[li]) * act.derivative(pre[li // 2 - 1])
        # Adam with cosine learning-rate decay
        lr = cfg.lr_final + 0.5 * (cfg.lr - cfg.lr_final) * (1 + np.cos(np.pi * step / cfg.steps))
        c1, c2 = 1 - b1 ** step, 1 - b2 ** step
        for p, gr, mm, vv in zip(params, grads, m, v):
            mm *= b1
            mm += (1 - b1) * gr
            vv *= b2
            vv += (1 - b2) * gr * gr
            p -= (lr / c1) * mm / (np.sqrt(vv / c2) + eps)
        state.step, state.elapsed = step, time.time() - t0
        if step % log_every == 0:
            mse = state.run_loss / log_every
            psnr = 10 * np.log10(255.0 ** 2 / (mse / cfg.scale ** 2))
            el = state.elapsed
            log(f"step {step}/{cfg.steps}  train mse {mse:.5f} (~{psnr:.2f} dB)  "
                f"lr {lr:.2e}  {el:.0f}s elapsed, {el / step * (cfg.steps - step):.0f}s left")
            state.run_loss = 0.0
        if (every and step % every == 0) or step == until:
            save(state)
    return state
