"""Measuring the `packed` lowering for `veil bench`: cost of the secure backend per
multiply-accumulate, per activation and per patch.

`measure_model(spec)` runs every step of the `packed` lowering (backends/yao/lowerings/
packed/linear.py and the garbled activation) on each dense layer of a compiled model, for a
batch of patches, and the `paper` lowering's unit costs on the same layers (bench/timing.py);
the result is a ModelCost (bench/costs.py: LayerCost per layer, Step per party's step), which
bench/report.py prints. All figures are CPU seconds of one party (bench/timing.py has the
clocks). Every measured step runs on real ciphertexts, checked against the plaintext reference.

Every step calls the lowering's own functions with the program's PackedLayout; fixed-base
tables and uniform factors are built as the parties build them (packed/linear.py's exponent
ranges, PooledFreshNoise): nothing here re-derives a width or a range. Provisioning (once per
model and user) includes each party's fixed-base tables. What is extrapolated, and how (each
Step carries its factor):
- provisioning is timed on a sample of columns and scaled to the layer's n_in (the tables:
  built for the blocks timed, scaled like them);
- a layer of more than FULL_LAYER_COLUMNS packed columns is timed on its first SAMPLE_BLOCKS
  blocks (each block is an independent multi-exponentiation of the same size) and scaled to
  its block count; the garbled activations always run on the whole layer;
- the `paper` lowering is timed on a sample of products and activations per layer and scaled
  to n_in * n_out products and n_out activations per patch.
Bytes are not extrapolated: bench/traffic.py runs the real parties on the same patches and
counts every frame (models that provision in seconds: compact, wide)."""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from veil.backends.plaintext import dense_exact
from veil.backends.yao import paillier as P
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.lowerings.packed.user import MAX_BATCH_PATCHES, split_rows
from veil.backends.yao.paillier.pooled import FixedBases, PooledFreshNoise
from veil.bench.costs import (TRAFFIC_MAX_COLUMNS, LayerCost, ModelCost, Step, UnitCost,
                              image_patches)
from veil.bench.traffic import measure_traffic
from veil.bench.timing import (GcSession, clock, gc_session, paper_activation, paper_products,
                               timed_pair)
from veil.compiler.model import Layer
from veil.compiler.packed_layout import PackedLayout
from veil.compiler.program import ActivationStage
from veil.models.catalog import compile_model
from veil.util.errors import UsageError

FULL_LAYER_COLUMNS = 4096      # layers with more packed columns (blocks x n_in) are sampled
SAMPLE_BLOCKS = 2
Matrix = list[list[int]]


@dataclass
class Keys:
    """The user's key u and the cloud's key c, with the noise sources the protocol uses."""
    pk_u: P.PublicKey
    sk_u: P.PrivateKey
    pk_c: P.PublicKey
    sk_c: P.PrivateKey
    short_u: P.ShortExpNoise = field(init=False)
    short_c: P.ShortExpNoise = field(init=False)
    fresh_u: PooledFreshNoise = field(init=False)      # uniform factors towards a key owner
    fresh_c: PooledFreshNoise = field(init=False)
    pool_seconds: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self.short_u, self.short_c = P.ShortExpNoise(self.pk_u), P.ShortExpNoise(self.pk_c)
        self.fresh_u, t_u = _pooled_noise(self.pk_u)
        self.fresh_c, t_c = _pooled_noise(self.pk_c)
        self.pool_seconds = {"cloud": t_u, "user": t_c}      # the cloud's factors are under u

    @classmethod
    def generate(cls, bits: int) -> "Keys":
        return cls(*P.generate_keypair(bits), *P.generate_keypair(bits))


def _pooled_noise(pk: P.PublicKey) -> tuple[PooledFreshNoise, float]:
    """The parties' source of uniform factors as it runs once a job is long (subset products
    of its pool), and the CPU seconds of its pool: a per-session cost, reported apart. Its
    first factor makes the pool."""
    noise = PooledFreshNoise(pk, switch_after=0)
    _, t = clock(lambda: noise.take(1))
    return noise, t


def _sample(layer: Layer, sh: PackedLayout, rows: int, cols: int) -> tuple[Layer, PackedLayout]:
    """The first rows x cols of a layer and its layout (same formats, same slots): what a
    sample is timed on."""
    sub = dataclasses.replace(
        layer, n_out=rows, n_in=cols, weights=layer.weights[:rows, :cols],
        bias=layer.bias[:rows], weights_float=layer.weights_float[:rows, :cols],
        bias_float=layer.bias_float[:rows])
    return sub, dataclasses.replace(sh, n_in=cols, n_out=rows)


def _weights_plus_masks(layer: Layer, R: Matrix) -> Matrix:
    """V = W + R in the clear: what unmask_columns must give (checked in _provisioning), and
    so what _linear may use without decrypting every column again."""
    return [[w + r for w, r in zip(ws, rs)] for ws, rs in zip(layer.weights.tolist(), R)]


def _flat(rows: Matrix) -> list[int]:
    return [v for row in rows for v in row]


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
    sub, psh = _sample(layer, sh, rows, c)
    whole_rows, bsh = _sample(layer, sh, rows, layer.n_in)
    per_col, per_block = sh.blocks / mb * layer.n_in / c, sh.blocks / mb
    cols, t = clock(lambda: L.publish_columns(k.pk_u, sub, psh, k.short_u))
    add("provisioning", "owner", "linear", "publish_columns", t, per_col)
    bias, t = clock(lambda: L.publish_bias(k.pk_u, whole_rows, bsh, k.short_u))
    add("provisioning", "owner", "linear", "publish_bias", t, per_block)
    R, t1 = clock(lambda: L.draw_weight_masks(psh))
    masked, t2 = clock(lambda: L.masked_columns(k.pk_u, cols, R, psh, k.short_u))
    add("provisioning", "cloud", "linear", "draw_weight_masks + masked_columns", t1 + t2, per_col)
    neg_R, t = clock(lambda: L.negated_masks(k.pk_c, R, psh, k.short_c))   # as PackedCloud
    add("provisioning", "cloud", "linear", "negated_masks", t, per_col)
    _, t = clock(lambda: L.inverted_bias(k.pk_u, bias, bsh))
    add("provisioning", "cloud", "linear", "inverted_bias", t, per_block)
    V, t = clock(lambda: L.unmask_columns(k.sk_u, masked, psh))
    add("provisioning", "user", "linear", "unmask_columns", t, per_col)
    _, t = clock(lambda: L.user_columns(k.pk_c, V, neg_R, psh))
    add("provisioning", "user", "linear", "user_columns", t, per_col)
    if V != _weights_plus_masks(sub, R):
        raise AssertionError(f"layer {layer.index}: V != W + R")
    return c


def _linear(k: Keys, layer: Layer, sh: PackedLayout, rows: int, mb: int, e: Matrix,
            s: Matrix | None, x: np.ndarray, last: bool, add: Callable) -> tuple[Matrix, Matrix]:
    """Offline and online linear steps on the measured blocks for a batch of patches: e the
    user's exponents (its patches on layer 1, the garbled activation's y + s after), s the
    cloud's input masks (None on layer 1), x = W y + b the plaintext reference. Returns the
    cloud's decoded x + r_c and the user's masks r_c, of the measured rows."""
    sub, ssh = _sample(layer, sh, rows, layer.n_in)
    n, scale = len(e), sh.blocks / mb
    # what provisioning leaves behind, built untimed (fast noise; the bench knows R) ...
    columns = L.publish_columns(k.pk_u, sub, ssh, k.short_u)
    R = L.draw_weight_masks(ssh)
    neg_R = L.negated_masks(k.pk_c, R, ssh, k.short_c)
    Q = FixedBases(L.user_columns(k.pk_c, _weights_plus_masks(sub, R), neg_R, ssh),
                   k.pk_c.nsquare, *L.user_exponent_range(ssh))
    neg_bias = L.inverted_bias(k.pk_u, L.publish_bias(k.pk_u, sub, ssh, k.short_u), ssh)
    # ... except each party's fixed-base tables, built on the first products() call: timed
    _, t = clock(lambda: Q.products([]))
    add("provisioning", "user", "linear", "fixed-base tables of Q", t, scale)
    cloud_columns = None
    if s is not None:
        cloud_columns = FixedBases(columns, k.pk_u.nsquare, *L.cloud_exponent_range(ssh))
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
    D, t = clock(lambda: L.user_products(k.pk_c, Q, e, F, ssh))
    add("online", "user", "linear", "user_products", t / n, scale)
    decoded, t = clock(lambda: L.cloud_decode(k.sk_c, D, m, ssh))
    add("online", "cloud", "linear", "cloud_decode", t / n, scale)
    got, t = clock(lambda: L.user_output(decoded, r_c, ssh))
    if last:                   # a hidden layer's r_c comes off in the garbled circuit instead
        add("online", "user", "linear", "user_output", t / n, scale)
    if got != x[:, :rows].tolist():
        raise AssertionError(f"layer {layer.index}: packed result differs from the reference")
    return decoded, r_c


def _activation(gs: GcSession, stage: ActivationStage, sh: PackedLayout, next_sh: PackedLayout,
                x: np.ndarray, decoded: Matrix, r_c_rows: Matrix, add: Callable
                ) -> tuple[np.ndarray, Matrix, Matrix]:
    """The garbled tanh* on the whole layer: the cloud garbles (offline, with the OT for the
    user's r_c), sends the labels of x + r_c (online); the user evaluates y + s. Returns the
    next layer's true inputs y, the cloud's masks s on them and the user's exponents y + s."""
    n, width = x.shape
    # the unmeasured rows: their masks' draw and their decoding are scaled in _linear
    r_c = [row + more[len(row):] for row, more in zip(r_c_rows, L.draw_accumulator_masks(sh, n))]
    x_masked = [d + [a + b for a, b in zip(xs[len(d):], rs[len(d):])]
                for d, xs, rs in zip(decoded, x.tolist(), r_c)]
    box: dict = {}

    def cloud():
        box["s"] = L.draw_input_masks(next_sh, n)
        box["g"] = gs.garbler.prepare(gs.g_ch, stage, _flat(box["s"]))

    def user():
        box["e"] = gs.evaluator.prepare(gs.e_ch, stage, _flat(r_c))
    tu, tc = timed_pair(user, cloud, (gs.g_ch, gs.e_ch))
    add("offline", "cloud", "activation", "draw_input_masks + OT + garble", tc / n)
    add("offline", "user", "activation", "OT + receive tables", tu / n)
    _, t = clock(lambda: gs.garbler.send_inputs(gs.g_ch, box["g"], _flat(x_masked)))
    add("online", "cloud", "activation", "send_inputs", t / n)
    out, t = clock(lambda: gs.evaluator.finish(gs.e_ch, box["e"]))
    add("online", "user", "activation", "finish (evaluate)", t / n)
    y, s, e = stage.table.reference(x), box["s"], split_rows(out, width)
    if [[a - b for a, b in zip(es, ss)] for es, ss in zip(e, s)] != y.tolist():
        raise AssertionError(f"act{stage.index}: garbled result differs from the reference")
    return y, s, e


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


def measure_model(spec: str, bits: int = 2048, patches: int = 2, sample: int = 32,
                  blocks: int | None = None, keys: Keys | None = None, seed: int = 1,
                  log: Callable[[str], None] | None = None, traffic: bool = True) -> ModelCost:
    """Every step of both lowerings on every dense layer of `spec` (see the module doc); then,
    if `traffic` and the model provisions at most TRAFFIC_MAX_COLUMNS packed columns, the
    bytes of a run of the real parties on the same patches (bench/traffic.py)."""
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
    e, s, x0 = y.tolist(), None, y   # layer 1: the user's exponents are its own patches
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
        decoded, r_c = _linear(keys, layer, sh, rows, mb, e, s, x, stage is None, add)
        paper = _paper(keys, gs_paper, layer, stage, y, x, sample)
        if stage is not None:
            y, s, e = _activation(gs_packed, stage, sh, shapes[i + 1], x, decoded, r_c, add)
        layers.append(LayerCost(layer.index, layer.n_in, layer.n_out, stage is not None,
                                sh.blocks, mb, cols, tuple(steps), *paper))
        if log:
            log(f"{spec} layer {layer.index} ({layer.n_out} x {layer.n_in}): measured, "
                f"{time.perf_counter() - start:.0f} s so far")
    wire = None
    if traffic and sum(sh.blocks * sh.n_in for sh in shapes) <= TRAFFIC_MAX_COLUMNS:
        wire, _ = measure_traffic(program, keys.pk_u, keys.sk_u, (keys.pk_c, keys.sk_c),
                                  x0[:MAX_BATCH_PATCHES], pools=(keys.fresh_u, keys.fresh_c))
        if log:
            log(f"{spec} bytes: the real parties ran in {sum(wire.wall.values()):.0f} s, "
                f"{time.perf_counter() - start:.0f} s so far")
    g = program.model.geometry
    geometry = (g.input_size, g.output_size, g.stride)
    base = {"packed_cloud": gs_packed.base_garbler, "packed_user": gs_packed.base_evaluator,
            "paper_user": gs_paper.base_garbler, "paper_cloud": gs_paper.base_evaluator,
            "pool_user": keys.pool_seconds["user"], "pool_cloud": keys.pool_seconds["cloud"]}
    return ModelCost(spec, bits, kappa, patches, geometry, image_patches(geometry),
                     tuple(layers), base, time.perf_counter() - start, load, wire)


def measure_models(specs: tuple[str, ...], bits: int, patches: int = 2, sample: int = 32,
                   blocks: int | None = None, log: Callable[[str], None] | None = None,
                   traffic: bool = True) -> list[ModelCost]:
    """measure_model for each spec, with one pair of keys (and factor pools) for all."""
    keys = Keys.generate(bits)
    return [measure_model(spec, bits, patches, sample, blocks, keys, log=log, traffic=traffic)
            for spec in specs]
