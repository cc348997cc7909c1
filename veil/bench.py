"""Cost of the secure backend per multiply-accumulate, per activation and per patch.

`measure_model(spec)` runs every step of the `packed` lowering (backends/yao/packed_linear.py
and the garbled activation) on each dense layer of a compiled model, for a batch of patches,
and the `paper` lowering's unit costs on the same layers; `report()` prints the figures next
to each other and to the seed paper's. All figures are CPU seconds of one party: inline steps
by time.process_time (one party at a time, multi-exponentiations in this process), garbling
and OT by time.thread_time with the two parties as threads. Every measured step runs on real
ciphertexts and is checked against the plaintext reference.

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
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gmpy2
import numpy as np

from veil.backends.plaintext import dense_exact
from veil.backends.yao import packed_linear as L
from veil.backends.yao import paillier as P
from veil.backends.yao.channel import InProcessChannel, Kind
from veil.backends.yao.garbled_activation import (ActivationEvaluator, ActivationGarbler,
                                                  uniform_mask)
from veil.backends.yao.multiexp_pool import FixedBases
from veil.backends.yao.ot_extension import OTExtReceiver, OTExtSender
from veil.backends.yao.ot_messages import BaseOTStart
from veil.backends.yao.packed_shapes import PackedShapes
from veil.backends.yao.subset_noise import SubsetProductNoise, pool_size
from veil.backends.yao.paper_linear import cloud_mask, cloud_unmask, user_multiply
from veil.compiler.driver import compile_spec, security_for
from veil.compiler.model import Layer
from veil.compiler.program import ActivationStage
from veil.models.patches import PatchGeometry, PatchGrid

SEED_MS = {"product_user": 56.85, "product_cloud": 68.8, "act_user": 230.09, "act_cloud": 237.41}
SEED_PATCH_HOURS = 10.0        # the seed paper's "tens of hours" per patch, at its least
FULL_LAYER_COLUMNS = 4096      # layers with more packed columns (blocks x n_in) are sampled
SAMPLE_BLOCKS = 2
IMAGE_SIDE = 512
TENS_OF_HOURS = "seed 'tens of hours'/packed per patch"
SEED_LAYERS = ((1521, 3072), (3072, 3072), (3072, 2559), (2559, 2047), (2047, 289))   # (in, out)


# -- clocks and the two-thread runs -----------------------------------------------------------
def clock(fn: Callable):
    """(result, CPU seconds of this process) for an inline step."""
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def timed_pair(fa: Callable, fb: Callable, channels: tuple = ()) -> tuple[float, float]:
    """Run two parties as threads; CPU seconds of each thread. The first failure is
    re-raised; it closes `channels` first, so the other party stops waiting at once."""
    out: dict[int, float] = {}
    errors: list[BaseException] = []

    def wrap(i: int, fn: Callable) -> None:
        t = time.thread_time()
        try:
            fn()
        except BaseException as exc:       # noqa: BLE001 - re-raised below
            errors.append(exc)
            for ch in channels:
                ch.close()
        out[i] = time.thread_time() - t
    threads = [threading.Thread(target=wrap, args=a, daemon=True) for a in ((0, fa), (1, fb))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return out[0], out[1]


@dataclass
class GcSession:
    """A garbler and an evaluator with their base OTs done (CPU seconds of that setup)."""
    garbler: ActivationGarbler
    evaluator: ActivationEvaluator
    g_ch: InProcessChannel
    e_ch: InProcessChannel
    base_garbler: float
    base_evaluator: float


def gc_session(kappa: int) -> GcSession:
    sid = os.urandom(16)
    g_ch, e_ch = InProcessChannel.pair(timeout=300.0)
    sender, receiver = OTExtSender(sid), OTExtReceiver(sid)

    def garbler() -> None:
        g_ch.send(Kind.OT, sender.setup(BaseOTStart.from_bytes(g_ch.recv(Kind.OT))).to_bytes())

    def evaluator() -> None:
        e_ch.send(Kind.OT, receiver.setup().to_bytes())
        receiver.finish_setup(e_ch.recv(Kind.OT))
    tg, te = timed_pair(garbler, evaluator, (g_ch, e_ch))
    return GcSession(ActivationGarbler(sender, kappa), ActivationEvaluator(receiver, kappa),
                     g_ch, e_ch, tg, te)


# -- the `paper` lowering's unit costs --------------------------------------------------------
@dataclass(frozen=True)
class UnitCost:
    user: float          # CPU seconds per unit (product or activation)
    cloud: float
    up: float = 0.0      # bytes user -> cloud per unit (activations only)
    down: float = 0.0


def paper_products(pk: P.PublicKey, sk: P.PrivateKey, w: list[int], y: list[int]) -> UnitCost:
    """Erkin products Enc(w_i y_i) as PaperCloud and PaperUser run them, plus the cloud's
    accumulation (one multiplication mod n^2 per product); inputs encrypted untimed."""
    noise = P.CrtNoise(sk)
    enc_w, enc_y = P.encrypt_signed(pk, w, noise), P.encrypt_signed(pk, y, noise)
    (request, masks), c1 = clock(lambda: cloud_mask(pk, enc_w, enc_y))
    replies, tu = clock(lambda: user_multiply(sk, request, noise))
    prods, c2 = clock(lambda: cloud_unmask(pk, replies, enc_w, enc_y, masks))
    _, c3 = clock(lambda: P.sum_ciphertexts(pk, prods))
    if P.decrypt_signed(sk, prods) != [a * b for a, b in zip(w, y)]:
        raise AssertionError("paper products differ from the plaintext products")
    return UnitCost(tu / len(w), (c1 + c2 + c3) / len(w))


def paper_activation(pk: P.PublicKey, sk: P.PrivateKey, gs: GcSession, stage: ActivationStage,
                     xs: list[int]) -> UnitCost:
    """One garbled tanh* per accumulator as in paper_protocol.py: the cloud masks Enc(x), the
    user decrypts and garbles (gs.garbler is the user's), the cloud evaluates and unmasks."""
    noise, kappa, n2 = P.CrtNoise(sk), gs.garbler.kappa, pk.nsquare
    enc_x = P.encrypt_signed(pk, xs, noise)
    before = gs.g_ch.bytes_sent, gs.e_ch.bytes_sent
    box: dict = {"masked": threading.Event(), "ru": threading.Event()}

    def user() -> None:
        if not box["masked"].wait(300):
            raise TimeoutError("the cloud never masked its accumulators")
        r_u = gs.garbler.run(gs.g_ch, stage, P.decrypt(sk, box["cts"]))
        box["enc_ru"] = P.encrypt(pk, r_u, noise)
        box["ru"].set()

    def cloud() -> None:
        r_c = [uniform_mask(stage.table.acc_bits, kappa) for _ in enc_x]
        box["cts"] = P.rerandomise_all(pk, [c * (1 + r * pk.n) % n2 for c, r in zip(enc_x, r_c)])
        box["masked"].set()
        y = gs.evaluator.run(gs.e_ch, stage, r_c)
        if not box["ru"].wait(300):
            raise TimeoutError("the user never sent Enc(r_u)")
        box["enc_t"] = [(1 + v * pk.n) * gmpy2.invert(c, n2) % n2
                        for v, c in zip(y, box["enc_ru"])]
    tu, tc = timed_pair(user, cloud, (gs.g_ch, gs.e_ch))
    if P.decrypt_signed(sk, box["enc_t"]) != [int(v) for v in stage.table.reference(np.array(xs))]:
        raise AssertionError("paper activation differs from the plaintext reference")
    n = len(xs)
    return UnitCost(tu / n, tc / n, (gs.g_ch.bytes_sent - before[0]) / n,
                    (gs.e_ch.bytes_sent - before[1]) / n)


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


def measured_blocks(sh: PackedShapes, blocks: int | None) -> int:
    """Blocks of a layer the linear steps are timed on: `blocks` if given, else the whole
    layer up to FULL_LAYER_COLUMNS packed columns, else SAMPLE_BLOCKS."""
    if blocks:
        return min(blocks, sh.blocks)
    if sh.blocks * sh.n_in <= FULL_LAYER_COLUMNS:
        return sh.blocks
    return min(SAMPLE_BLOCKS, sh.blocks)


def _provisioning(k: Keys, layer: Layer, sh: PackedShapes, rows: int, mb: int, sample: int,
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


def _linear(k: Keys, layer: Layer, sh: PackedShapes, rows: int, mb: int, y: np.ndarray,
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
                   ssh.exponent_bound, workers=1)          # the bounds packed_protocol uses
    neg_bias = L.inverted_bias(k.pk_u, L.publish_bias(k.pk_u, sub, ssh, k.short_u), ssh)
    # ... except each party's fixed-base tables, built on the first products() call: timed
    _, t = clock(lambda: Q.products([]))
    add("provisioning", "user", "linear", "fixed-base tables of Q", t, scale)
    cloud_columns = None
    if s is not None:
        cloud_columns = FixedBases(columns, k.pk_u.nsquare, 0, 1 << (ssh.input_bits + ssh.kappa),
                                   workers=1)
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
                next_sh: PackedShapes, kappa: int, add: Callable) -> tuple[np.ndarray, list]:
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
        raise ValueError("--patches and --sample must be at least 1")
    start, load = time.perf_counter(), os.getloadavg()[0]
    program = compile_spec(spec, "packed", security_for(bits))
    keys = keys or Keys.generate(bits)
    kappa = program.security.kappa
    shapes = [PackedShapes.of(st.layer, program.security) for st in program.dense]
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


# -- summary and report -----------------------------------------------------------------------
def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def summary(m: ModelCost, workers: int) -> dict:
    """The derived figures the report prints: seconds, except where a key says ms or us."""
    off, on = m.seconds("offline"), m.seconds("online")
    patch = off + on
    mac = {ph: m.seconds(ph, "linear") / m.macs for ph in ("offline", "online")}
    act = {ph: _div(m.seconds(ph, "activation"), m.neurons) for ph in ("offline", "online")}
    packed_mac = sum(mac.values())
    packed_act = _div(m.seconds("offline", "activation") + m.seconds("online", "activation"),
                      m.neurons)
    paper_mac = sum(x.macs * (x.paper_product.user + x.paper_product.cloud)
                    for x in m.layers) / m.macs
    paper_act = _div(sum(x.neurons * (x.paper_activation.user + x.paper_activation.cloud)
                         for x in m.layers if x.paper_activation), m.neurons)
    seed_mac = (SEED_MS["product_user"] + SEED_MS["product_cloud"]) / 1e3
    seed_act = (SEED_MS["act_user"] + SEED_MS["act_cloud"]) / 1e3
    seed_patch, paper_patch = m.macs * seed_mac + m.neurons * seed_act, m.paper_seconds()
    ms = lambda v: None if v is None else v * 1e3       # noqa: E731
    return {
        "macs_per_patch": m.macs, "activations_per_patch": m.neurons,
        "provisioning": {p: m.seconds("provisioning", party=p)
                         for p in ("owner", "cloud", "user")},
        "per_patch": {"offline": off, "online": on, "total": patch,
                      **{f"{ph}_{p}": m.seconds(ph, party=p) for ph in ("offline", "online")
                         for p in ("user", "cloud")}},
        "us_per_mac": {ph: v * 1e6 for ph, v in mac.items()},
        "ms_per_activation": {ph: ms(v) for ph, v in act.items()},
        "paper": {"per_patch": paper_patch, "ms_per_mac": ms(paper_mac),
                  "ms_per_activation": ms(paper_act)},
        "seed": {"per_patch": seed_patch, "ms_per_mac": ms(seed_mac),
                 "ms_per_activation": ms(seed_act)},
        "ratios": {"paper/packed per MAC": paper_mac / packed_mac,
                   "paper/packed per MAC, online": paper_mac / mac["online"],
                   "seed/packed per MAC": seed_mac / packed_mac,
                   "paper/packed per activation": _div(paper_act, packed_act),
                   "seed/packed per activation": _div(seed_act, packed_act),
                   "paper/packed per patch": paper_patch / patch,
                   "paper/packed per patch, online": paper_patch / on,
                   "seed/packed per patch": seed_patch / patch,
                   TENS_OF_HOURS: SEED_PATCH_HOURS * 3600 / patch},
        "image": {"side": IMAGE_SIDE, "stride": m.geometry[2], "patches": m.image_patches,
                  "cpu": patch * m.image_patches, "cpu_online": on * m.image_patches,
                  "workers": workers, "wall": patch * m.image_patches / workers,
                  "wall_online": on * m.image_patches / workers},
    }


def to_dict(m: ModelCost, workers: int) -> dict:
    """Everything measured (each step with its scale factor) and the summary, for --json."""
    return {**dataclasses.asdict(m), "summary": summary(m, workers)}


def _g(v: float | None) -> str:
    """A figure to about 3 significant digits, never in exponent notation."""
    if v is None:
        return "-"
    a = abs(v)
    return (f"{v:,.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 1
            else f"{v:.3f}" if a >= 0.01 else f"{v:.2g}")


def _t(s: float) -> str:
    return f"{s / 3600:,.1f} h" if s >= 7200 else f"{s / 60:.1f} min" if s >= 120 else f"{_g(s)} s"


def header(m: ModelCost) -> str:
    return (f"veil bench: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, load average {m.load:.2f} at the start; Paillier "
            f"{m.bits} bits (user's and cloud's keys), kappa {m.kappa}.\nFigures are CPU time "
            "of one party: inline steps by time.process_time, garbling and OT by "
            "time.thread_time (the two parties as threads).")


def _layer_rows(m: ModelCost) -> list[str]:
    out = [f"{'layer':>5} {'out x in':>10} {'blocks':>8} | {'offline ms/patch':^15} | "
           f"{'online ms/patch':^15} | {'us/MAC':^13} | {'ms/activation':^13}",
           f"{'':>5} {'':>10} {'timed':>8} | {'user':>7} {'cloud':>7} | {'user':>7} "
           f"{'cloud':>7} | {'off':>6} {'on':>6} | {'off':>6} {'on':>6}"]
    for x in [*m.layers, m]:
        if x is m:
            label, shape, timed, macs, neurons = "all", "", "", m.macs, m.neurons
        else:
            label, shape, macs, neurons = x.index, f"{x.n_out}x{x.n_in}", x.macs, x.neurons
            timed = f"{x.measured_blocks}/{x.blocks}{'*' if x.measured_blocks < x.blocks else ''}"
        ms = [_g(x.seconds(ph, party=p) * 1e3) for ph in ("offline", "online")
              for p in ("user", "cloud")]
        us = [_g(x.seconds(ph, "linear") / macs * 1e6) for ph in ("offline", "online")]
        act = [_g(_div(x.seconds(ph, "activation") * 1e3, neurons))
               for ph in ("offline", "online")]
        out.append(f"{label:>5} {shape:>10} {timed:>8} | {ms[0]:>7} {ms[1]:>7} | {ms[2]:>7} "
                   f"{ms[3]:>7} | {us[0]:>6} {us[1]:>6} | {act[0]:>6} {act[1]:>6}")
    return out


def _paper_rows(m: ModelCost) -> list[str]:
    out = [f"{'layer':>5} {'timed':>8} | {'ms/product':^15} | {'ms/activation':^15} | "
           f"{'per patch':>10} {'paper/packed':>13}",
           f"{'':>5} {'prod/act':>8} | {'user':>7} {'cloud':>7} | {'user':>7} {'cloud':>7} |"]
    for x in m.layers:
        p, a = x.paper_product, x.paper_activation
        packed = x.seconds("offline") + x.seconds("online")
        out.append(f"{x.index:>5} {f'{x.paper_samples[0]}/{x.paper_samples[1]}':>8} | "
                   f"{_g(p.user * 1e3):>7} {_g(p.cloud * 1e3):>7} | "
                   f"{_g(a and a.user * 1e3):>7} {_g(a and a.cloud * 1e3):>7} | "
                   f"{_t(x.paper_seconds()):>10} {_g(x.paper_seconds() / packed):>12}x")
    return out


def is_seed_architecture(m: ModelCost) -> bool:
    return tuple((x.n_in, x.n_out) for x in m.layers) == SEED_LAYERS


def report_model(m: ModelCost, workers: int) -> str:
    s = summary(m, workers)
    pp, r, img, pap, seed = s["per_patch"], s["ratios"], s["image"], s["paper"], s["seed"]
    mac, act, prov = s["us_per_mac"], s["ms_per_activation"], s["provisioning"]
    sampled = any(x.measured_blocks < x.blocks for x in m.layers)
    how = "extrapolated from the blocks timed" if sampled else "measured"
    out = [f"== {m.spec}: {len(m.layers)} dense layers, {m.macs:,} MACs and {m.neurons:,} "
           f"activations per patch; batches of {m.patches} patch"
           f"{'es' if m.patches > 1 else ''}; took "
           f"{m.wall_seconds:.0f} s ==",
           "packed lowering, per patch (every step run on real ciphertexts and checked against "
           "the plaintext reference):", *_layer_rows(m)]
    if sampled:
        out.append("  * linear steps timed on the first blocks of the layer (a block is one "
                   "multi-exponentiation over all n_in columns) and scaled by blocks/timed: "
                   "extrapolated; garbled activations ran on the whole layer")
    out += [f"  per patch ({how}): offline {_t(pp['offline'])} + online {_t(pp['online'])} = "
            f"{_t(pp['total'])} of CPU",
            f"provisioning, once per model and user (timed on "
            f"{'/'.join(sorted({str(x.columns_sampled) for x in m.layers}))} columns per layer, "
            f"extrapolated to n_in): owner {_t(prov['owner'])}, cloud {_t(prov['cloud'])}, "
            f"user {_t(prov['user'])}",
            f"session, once per user session: base OTs user {_g(m.base_ot['packed_user'])} s, "
            f"cloud {_g(m.base_ot['packed_cloud'])} s; the pool of uniform factors (made once "
            f"a job has used as many factors as it holds) user {_g(m.base_ot['pool_user'])} s, "
            f"cloud {_g(m.base_ot['pool_cloud'])} s",
            "paper lowering on the same layers (unit costs timed on the samples shown; per "
            "patch extrapolated to n_in x n_out products and n_out activations):",
            *_paper_rows(m),
            "comparison (packed: as above; paper: extrapolated from its unit costs timed here; "
            "seed: its unit costs 56.85 + 68.8 ms per product, 230.09 + 237.41 ms per "
            "activation):",
            f"  per MAC:        packed {_g(sum(mac.values()))} us (online {_g(mac['online'])} us)"
            f" | paper {_g(pap['ms_per_mac'])} ms: {_g(r['paper/packed per MAC'])}x (online "
            f"{_g(r['paper/packed per MAC, online'])}x) | seed {_g(seed['ms_per_mac'])} ms: "
            f"{_g(r['seed/packed per MAC'])}x"]
    if m.neurons:
        out.append(f"  per activation: packed {_g(act['offline'] + act['online'])} ms (online "
                   f"{_g(act['online'])} ms) | paper {_g(pap['ms_per_activation'])} ms: "
                   f"{_g(r['paper/packed per activation'])}x | seed "
                   f"{_g(seed['ms_per_activation'])} ms: {_g(r['seed/packed per activation'])}x")
    out.append(f"  per patch:      packed {_t(pp['total'])} (online {_t(pp['online'])}) | paper "
               f"{_t(pap['per_patch'])}: {_g(r['paper/packed per patch'])}x (online "
               f"{_g(r['paper/packed per patch, online'])}x) | seed unit costs "
               f"{_t(seed['per_patch'])}: {_g(r['seed/packed per patch'])}x")
    if is_seed_architecture(m):
        out.append(f"  the seed paper reports 'tens of hours' per patch of this architecture: "
                   f"taking {SEED_PATCH_HOURS:.0f} h, packed is {_g(r[TENS_OF_HOURS])}x faster")
    out.append(f"whole {IMAGE_SIDE}x{IMAGE_SIDE} image, an estimate from the per-patch figures "
               f"(provisioning, base OTs and factor pools apart): {img['patches']:,} patches at stride "
               f"{img['stride']} with edge padding; CPU {_t(img['cpu'])} (online "
               f"{_t(img['cpu_online'])}); wall on {workers} workers with perfect parallelism "
               f"{_t(img['wall'])} (online {_t(img['wall_online'])})")
    return "\n".join(out)


def report(models: list[ModelCost], workers: int) -> str:
    """The text report: a header, then one section per model."""
    return "\n\n".join([header(models[0])] + [report_model(m, workers) for m in models]) + "\n"
