"""Measuring the `packed` lowering for `veil bench`: cost of the secure backend per
multiply-accumulate, per activation and per patch.

`measure_model(spec)` runs every step of the `packed` lowering (backends/yao/lowerings/packed/linear.py
and the garbled activation) on each dense layer of a compiled model, for a batch of patches,
and the `paper` lowering's unit costs on the same layers (bench/timing.py); the result is
a ModelCost (LayerCost per layer, Step per party's step), which bench/report.py prints.
All figures are CPU seconds of one party (see bench/timing.py for the clocks). Every
measured step runs on real ciphertexts and is checked against the plaintext reference.

Provisioning (once per model and user) includes each party's fixed-base tables for its
multi-exponentiations. What is extrapolated, and how (each Step carries its factor):
- provisioning is timed on a sample of columns and scaled to the layer's n_in (the tables:
  built for the blocks timed, scaled like them);
- a layer of more than FULL_LAYER_COLUMNS packed columns is timed on its first SAMPLE_BLOCKS
  blocks (each block is an independent multi-exponentiation of the same size) and scaled to
  its block count; the garbled activations always run on the whole layer;
- the `paper` lowering is timed on a sample of products and activations per layer and scaled
  to n_in * n_out products and n_out activations per patch.
"""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from veil.backends.plaintext import dense_exact
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.garbled_activation import uniform_mask
from veil.backends.yao.paillier.pooled import FixedBases
from veil.compiler.packed_layout import PackedLayout
from veil.backends.yao.paillier.subset_noise import SubsetProductNoise, pool_size
from veil.bench.timing import (GcSession, UnitCost, clock, gc_session, paper_activation,
                               paper_products, timed_pair)
from veil.models.catalog import compile_model
from veil.compiler.model import Layer
from veil.compiler.program import ActivationStage
from veil.models.patches import PatchGeometry, PatchGrid
from veil.util.errors import UsageError

FULL_LAYER_COLUMNS = 4096      # layers with more packed columns (blocks x n_in) are sampled
SAMPLE_BLOCKS = 2
IMAGE_SIDE = 512


# -- the figures ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One party's step on one layer: CPU seconds for the whole layer, once per model and
    user (provisioning) or per patch (offline, online). scale > 1: timed on 1/scale of it."""
    phase: str           # provisioning, offline or online
    party: str           # owner, cloud or user
    part: str            # linear or activation
    name: str
    seconds: float
    scale: float = 1.0


@dataclass(frozen=True)
class LayerCost:
    index: int
    n_in: int
    n_out: int
    activation: bool
    blocks: int
    measured_blocks: int           # the linear steps' sample (the garbled circuits: all)
    columns_sampled: int           # provisioning's sample of the n_in columns
    steps: tuple[Step, ...]
    paper_product: UnitCost        # the `paper` lowering's unit costs on this layer
    paper_activation: UnitCost | None
    paper_samples: tuple[int, int]  # products, activations timed

    @property
    def macs(self) -> int:
        return self.n_in * self.n_out

    @property
    def neurons(self) -> int:
        return self.n_out if self.activation else 0

    def seconds(self, phase: str, part: str | None = None, party: str | None = None) -> float:
        return sum(s.seconds for s in self.steps if s.phase == phase
                   and part in (None, s.part) and party in (None, s.party))

    def paper_seconds(self) -> float:
        """The `paper` lowering per patch on this layer (extrapolated from its unit costs)."""
        p, a = self.paper_product, self.paper_activation
        return self.macs * (p.user + p.cloud) + (self.neurons * (a.user + a.cloud) if a else 0.0)


@dataclass(frozen=True)
class ModelCost:
    spec: str
    bits: int
    kappa: int
    patches: int                   # per measured batch
    geometry: tuple[int, int, int]  # input side, output side, stride
    image_patches: int             # per IMAGE_SIDE x IMAGE_SIDE channel
    layers: tuple[LayerCost, ...]
    base_ot: dict[str, float]      # CPU seconds once per session (base OTs and fresh-factor pools)
    wall_seconds: float            # of this measurement
    load: float                    # 1-minute load average when it started

    @property
    def macs(self) -> int:
        return sum(x.macs for x in self.layers)

    @property
    def neurons(self) -> int:
        return sum(x.neurons for x in self.layers)

    def seconds(self, phase: str, part: str | None = None, party: str | None = None) -> float:
        return sum(x.seconds(phase, part, party) for x in self.layers)

    def paper_seconds(self) -> float:
        return sum(x.paper_seconds() for x in self.layers)


# -- measuring the `packed` lowering ----------------------------------------------------------
@dataclass
class Keys:
    """The user's key u and the cloud's key c, with the noise sources the protocol uses."""
    pk_u: P.PublicKey
    sk_u: P.PrivateKey
    pk_c: P.PublicKey
    sk_c: P.PrivateKey
    short_u: P.ShortExpNoise = field(init=False)
    short_c: P.ShortExpNoise = field(init=False)
    crt_c: P.CrtNoise = field(init=False)
    # uniform factors on what goes to a key owner, as PooledFreshNoise makes them once a job
    # is long (subset products of a pool); the pools' CPU seconds are a per-session cost
    fresh_u: SubsetProductNoise = field(init=False)
    fresh_c: SubsetProductNoise = field(init=False)
    pool_seconds: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self.short_u, self.short_c = P.ShortExpNoise(self.pk_u), P.ShortExpNoise(self.pk_c)
        self.crt_c = P.CrtNoise(self.sk_c)
        self.fresh_u, t_u = clock(lambda: _subset_noise(self.pk_u))
        self.fresh_c, t_c = clock(lambda: _subset_noise(self.pk_c))
        self.pool_seconds = {"cloud": t_u, "user": t_c}      # the cloud's factors are under u

    @classmethod
    def generate(cls, bits: int) -> "Keys":
        return cls(*P.generate_keypair(bits), *P.generate_keypair(bits))


def _subset_noise(pk: P.PublicKey) -> SubsetProductNoise:
    return SubsetProductNoise(pk, P.FreshNoise(pk).take(pool_size(pk)))


def _sub_layer(layer: Layer, rows: int, cols: int) -> Layer:
    """The first rows x cols of a layer (same formats): what a sample is timed on."""
    return dataclasses.replace(
        layer, n_out=rows, n_in=cols, weights=layer.weights[:rows, :cols],
        bias=layer.bias[:rows], weights_float=layer.weights_float[:rows, :cols],
        bias_float=layer.bias_float[:rows])


def measured_blocks(sh: PackedLayout, blocks: int | None) -> int:
    """Blocks of a layer the linear steps are timed on: `blocks` if given, else the whole
    layer up to FULL_LAYER_COLUMNS packed columns, else SAMPLE_BLOCKS."""
    if blocks:
        return min(blocks, sh.blocks)
    if sh.blocks * sh.n_in <= FULL_LAYER_COLUMNS:
        return sh.blocks
    return min(SAMPLE_BLOCKS, sh.blocks)


def _provisioning(k: Keys, layer: Layer, sh: PackedLayout, rows: int, mb: int, sample: int,
                  add: Callable) -> int:
    """Owner, cloud and user provisioning steps on `sample` columns of the measured blocks."""
    c = min(sample, layer.n_in)
    sub, psh, bsh = _sub_layer(layer, rows, c), dataclasses.replace(sh, n_in=c, n_out=rows), \
        dataclasses.replace(sh, n_out=rows)
    per_col, per_block = sh.blocks / mb * layer.n_in / c, sh.blocks / mb
    cols, t = clock(lambda: L.publish_columns(k.pk_u, sub, psh, k.short_u))
    add("provisioning", "owner", "linear", "publish_columns", t, per_col)
    bias, t = clock(lambda: L.publish_bias(k.pk_u, _sub_layer(layer, rows, layer.n_in), bsh,
                                          k.short_u))
    add("provisioning", "owner", "linear", "publish_bias", t, per_block)
    R, t1 = clock(lambda: L.draw_weight_masks(psh))
    masked, t2 = clock(lambda: L.masked_columns(k.pk_u, cols, R, psh, k.short_u))
    add("provisioning", "cloud", "linear", "draw_weight_masks + masked_columns", t1 + t2, per_col)
    neg_R, t = clock(lambda: L.negated_masks(k.pk_c, R, psh, k.crt_c))
    add("provisioning", "cloud", "linear", "negated_masks", t, per_col)
    _, t = clock(lambda: L.inverted_bias(k.pk_u, bias, bsh))
    add("provisioning", "cloud", "linear", "inverted_bias", t, per_block)
    V, t = clock(lambda: L.unmask_columns(k.sk_u, masked, psh))
    add("provisioning", "user", "linear", "unmask_columns", t, per_col)
    _, t = clock(lambda: L.user_columns(k.pk_c, V, neg_R, psh))
    add("provisioning", "user", "linear", "user_columns", t, per_col)
    if V != [[w + r for w, r in zip(ws, rs)] for ws, rs in zip(sub.weights.tolist(), R)]:
        raise AssertionError(f"layer {layer.index}: V != W + R")
    return c


def _linear(k: Keys, layer: Layer, sh: PackedLayout, rows: int, mb: int, y: np.ndarray,
            s: list[list[int]] | None, x: np.ndarray, last: bool, add: Callable
            ) -> list[list[int]]:
    """Offline and online linear steps on the measured blocks for a batch of patches y (the
    layer's true inputs) with the cloud's input masks s (None on layer 1); x = W y + b is the
    plaintext reference. Returns the user's accumulator masks r_c of the measured rows."""
    sub, ssh, n = _sub_layer(layer, rows, layer.n_in), dataclasses.replace(sh, n_out=rows), len(y)
    scale = sh.blocks / mb
    # what provisioning leaves behind, built untimed (fast noise; the bench knows R) ...
    columns = L.publish_columns(k.pk_u, sub, ssh, k.short_u)
    R = L.draw_weight_masks(ssh)
    V = [[w + r for w, r in zip(ws, rs)] for ws, rs in zip(sub.weights.tolist(), R)]
    Q = FixedBases(L.user_columns(k.pk_c, V, L.negated_masks(k.pk_c, R, ssh, k.short_c), ssh),
                   k.pk_c.nsquare, -ssh.exponent_bound + 1 if ssh.first else 0,
                   ssh.exponent_bound)          # the bounds the packed user uses
    neg_bias = L.inverted_bias(k.pk_u, L.publish_bias(k.pk_u, sub, ssh, k.short_u), ssh)
    # ... except each party's fixed-base tables, built on the first products() call: timed
    _, t = clock(lambda: Q.products([]))
    add("provisioning", "user", "linear", "fixed-base tables of Q", t, scale)
    cloud_columns = None
    if s is not None:
        cloud_columns = FixedBases(columns, k.pk_u.nsquare, 0, 1 << (ssh.input_bits + ssh.kappa))
        _, t = clock(lambda: cloud_columns.products([]))
        add("provisioning", "cloud", "linear", "fixed-base tables of the columns", t, scale)

    def cloud_offline():
        m = L.draw_slot_masks(ssh, n)
        return m, L.cloud_corrections(k.pk_u, cloud_columns, neg_bias, s, m, ssh, k.fresh_u)
    (m, E), t = clock(cloud_offline)
    add("offline", "cloud", "linear", "draw_slot_masks + cloud_corrections", t / n, scale)

    def user_offline():
        r_c = L.draw_accumulator_masks(ssh, n)
        return r_c, L.user_corrections(k.sk_u, k.pk_c, E, r_c, ssh, k.fresh_c)
    (r_c, F), t = clock(user_offline)
    add("offline", "user", "linear", "draw_accumulator_masks + user_corrections", t / n, scale)
    exps = y.tolist() if s is None else [[a + b for a, b in zip(ys, ss)]
                                         for ys, ss in zip(y.tolist(), s)]
    D, t = clock(lambda: L.user_products(k.pk_c, Q, exps, F, ssh))
    add("online", "user", "linear", "user_products", t / n, scale)
    decoded, t = clock(lambda: L.cloud_decode(k.sk_c, D, m, ssh))
    add("online", "cloud", "linear", "cloud_decode", t / n, scale)
    if last:
        got, t = clock(lambda: L.user_output(decoded, r_c, ssh))
        add("online", "user", "linear", "user_output", t / n, scale)
    else:
        got = [[v - r for v, r in zip(vs, rs)] for vs, rs in zip(decoded, r_c)]
    if got != x[:, :rows].tolist():
        raise AssertionError(f"layer {layer.index}: packed result differs from the reference")
    return r_c


def _activation(gs: GcSession, stage: ActivationStage, x: np.ndarray, r_c_rows: list[list[int]],
                next_sh: PackedLayout, kappa: int, add: Callable) -> tuple[np.ndarray, list]:
    """The garbled tanh* on the whole layer: the cloud garbles (offline, with the OT for the
    user's r_c), sends the labels of x + r_c (online); the user evaluates y + s. Returns the
    next layer's inputs y and the cloud's masks s on them."""
    n, width = x.shape
    r_c = [row + [uniform_mask(stage.table.acc_bits, kappa) for _ in range(width - len(row))]
           for row in r_c_rows]        # the unmeasured rows' masks: their draw is scaled above
    flat_rc = [v for row in r_c for v in row]
    box: dict = {}

    def cloud():
        box["s"] = L.draw_input_masks(next_sh, n)
        box["g"] = gs.garbler.prepare(gs.g_ch, stage, [v for row in box["s"] for v in row])

    def user():
        box["e"] = gs.evaluator.prepare(gs.e_ch, stage, flat_rc)
    tu, tc = timed_pair(user, cloud, (gs.g_ch, gs.e_ch))
    add("offline", "cloud", "activation", "draw_input_masks + OT + garble", tc / n)
    add("offline", "user", "activation", "OT + receive tables", tu / n)
    x_masked = [a + b for a, b in zip(x.ravel().tolist(), flat_rc)]
    _, t = clock(lambda: gs.garbler.send_inputs(gs.g_ch, box["g"], x_masked))
    add("online", "cloud", "activation", "send_inputs", t / n)
    out, t = clock(lambda: gs.evaluator.finish(gs.e_ch, box["e"]))
    add("online", "user", "activation", "finish (evaluate)", t / n)
    t_ref = stage.table.reference(x)
    s = box["s"]
    if [v - m for v, m in zip(out, (v for row in s for v in row))] != t_ref.ravel().tolist():
        raise AssertionError(f"act{stage.index}: garbled result differs from the reference")
    return t_ref, s


def _paper(k: Keys, gs: GcSession, layer: Layer, stage: ActivationStage | None, y: np.ndarray,
           x: np.ndarray, sample: int) -> tuple[UnitCost, UnitCost | None, tuple[int, int]]:
    """The `paper` lowering's unit costs on this layer: the first `sample` products W_ij y_j
    of patch 0 and the first `sample` activations (same circuit: lowerings differ in the
    dense layers only)."""
    n_p = min(sample, layer.n_in * layer.n_out)
    j = np.arange(n_p) % layer.n_in
    prod = paper_products(k.pk_u, k.sk_u, layer.weights.ravel()[:n_p].tolist(),
                          y[0][j].tolist())
    if stage is None:
        return prod, None, (n_p, 0)
    n_a = min(sample, layer.n_out)
    return prod, paper_activation(k.pk_u, k.sk_u, gs, stage, x[0, :n_a].tolist()), (n_p, n_a)


def image_patches(geometry: tuple[int, int, int], side: int = IMAGE_SIDE) -> int:
    """Patches per side x side channel at the model's stride (models/patches.py grid)."""
    return len(PatchGrid((side, side), PatchGeometry(*geometry)))


def measure_model(spec: str, bits: int = 2048, patches: int = 2, sample: int = 32,
                  blocks: int | None = None, keys: Keys | None = None, seed: int = 1,
                  log: Callable[[str], None] | None = None) -> ModelCost:
    """Every step of both lowerings on every dense layer of `spec` (see the module doc)."""
    if patches < 1 or sample < 1:
        raise UsageError("--patches and --sample must be at least 1")
    start, load = time.perf_counter(), os.getloadavg()[0]
    program = compile_model(spec, "packed", key_bits=bits)
    keys = keys or Keys.generate(bits)
    kappa = program.security.kappa
    shapes = [st.packed for st in program.dense]
    fmt = program.dense[0].layer.in_format
    y = np.random.default_rng(seed).integers(fmt.min_int, fmt.max_int + 1,
                                             size=(patches, shapes[0].n_in))
    s = None
    gs_packed, gs_paper = gc_session(kappa), gc_session(kappa)   # garblers: cloud, user
    layers = []
    for i, (st, sh) in enumerate(zip(program.dense, shapes)):
        layer, stage = st.layer, program.activation(st.layer.index)
        steps: list[Step] = []

        def add(phase, party, part, name, secs, scale=1.0):
            steps.append(Step(phase, party, part, name, secs * scale, scale))
        mb = measured_blocks(sh, blocks)
        rows = min(sh.n_out, mb * sh.slots)
        cols = _provisioning(keys, layer, sh, rows, mb, sample, add)
        x = dense_exact(layer, y)
        r_c = _linear(keys, layer, sh, rows, mb, y, s, x, stage is None, add)
        paper = _paper(keys, gs_paper, layer, stage, y, x, sample)
        if stage is not None:
            y, s = _activation(gs_packed, stage, x, r_c, shapes[i + 1], kappa, add)
        layers.append(LayerCost(layer.index, layer.n_in, layer.n_out, stage is not None,
                                sh.blocks, mb, cols, tuple(steps), *paper))
        if log:
            log(f"{spec} layer {layer.index} ({layer.n_out} x {layer.n_in}): measured, "
                f"{time.perf_counter() - start:.0f} s so far")
    g = program.model.geometry
    geometry = (g.input_size, g.output_size, g.stride)
    base = {"packed_cloud": gs_packed.base_garbler, "packed_user": gs_packed.base_evaluator,
            "paper_user": gs_paper.base_garbler, "paper_cloud": gs_paper.base_evaluator,
            "pool_user": keys.pool_seconds["user"], "pool_cloud": keys.pool_seconds["cloud"]}
    return ModelCost(spec, bits, kappa, patches, geometry, image_patches(geometry),
                     tuple(layers), base, time.perf_counter() - start, load)
