"""The summary and the text/JSON report of `veil bench`: the derived figures of a ModelCost
(bench/costs.py, measured by bench/measure.py) per MAC, per activation, per patch and per
whole image, printed for the `packed` lowering next to the `paper` lowering's and the seed
paper's (bench/timing.py)."""
from __future__ import annotations

import dataclasses
import json
import os
import platform

from veil.bench.costs import IMAGE_SIDE, TRAFFIC_MAX_COLUMNS, ModelCost
from veil.bench.timing import SEED_LAYERS, SEED_MS, SEED_PATCH_HOURS
from veil.bench.traffic_report import traffic_rows, traffic_summary

TENS_OF_HOURS = "seed 'tens of hours'/packed per patch"


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
        "traffic": traffic_summary(m),
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
    return "\n".join(out + (traffic_rows(m) or [_no_traffic(m)]))


def _no_traffic(m: ModelCost) -> str:
    if m.packed_columns > TRAFFIC_MAX_COLUMNS:
        return (f"bytes on the wire: not measured ({m.packed_columns:,} packed columns to "
                f"provision, more than the {TRAFFIC_MAX_COLUMNS:,} up to which the bench runs "
                "the real parties)")
    return "bytes on the wire: not measured (--no-bytes)"


def report(models: list[ModelCost], workers: int) -> str:
    """The text report: a header, then one section per model."""
    return "\n\n".join([header(models[0])] + [report_model(m, workers) for m in models]) + "\n"


def report_json(models: list[ModelCost], workers: int) -> str:
    """The --json document: the header and, per model, everything measured and its summary."""
    return json.dumps({"header": header(models[0]),
                       "models": [to_dict(m, workers) for m in models]}, indent=1)
