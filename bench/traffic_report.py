"""`veil bench`'s byte table: what a run of the real packed parties sent (bench/traffic.py,
a Traffic in the ModelCost) per phase, direction and frame kind, per activation (garbled-
circuit kinds), per patch and per IMAGE_SIDE x IMAGE_SIDE image, with the image's transfer
time on two links and each party's CPU in that run. Reads figures only (no lowering imported).
"""
from __future__ import annotations

from veil.bench.costs import IMAGE_SIDE, ModelCost, Traffic

PHASES = ("publishing", "provisioning", "session", "offline", "online")
PER_BATCH = ("offline", "online")             # per patch: the batch's bytes / its patches
ONCE = ("provisioning", "session")            # counted once per image (a user's first)
GC_KINDS = ("GARBLED_TABLES", "LABELS", "OT")  # per activation: per patch / activations
WAY = {"owner": "owner", "user": "up", "cloud": "down"}
LINKS = {"1 Gbit/s": 1e9, "100 Mbit/s": 1e8}


def _row(m: ModelCost, t: Traffic, phase: str, sender: str, kind: str | None) -> dict:
    n = t.bytes(phase, sender, kind)
    frames = sum(f.frames for f in t.frames if f.phase == phase and f.sender == sender
                 and kind in (None, f.kind))
    per_patch = n / t.patches if phase in PER_BATCH else None
    per_act = (per_patch / m.neurons if per_patch is not None and kind in GC_KINDS
               and m.neurons else None)
    image = (per_patch * m.image_patches if per_patch is not None
             else n if phase in ONCE else None)
    return {"phase": phase, "way": WAY[sender], "kind": kind or "all", "frames": frames,
            "bytes": n, "per_activation": per_act, "per_patch": per_patch, "per_image": image}


def traffic_summary(m: ModelCost) -> dict | None:
    """Rows per phase, direction and kind (and "all" where a direction has several kinds);
    the image's bytes by phase and direction, its total and transfer times."""
    t = m.traffic
    if t is None:
        return None
    rows = []
    for phase in PHASES:
        for sender in WAY:
            kinds = sorted({f.kind for f in t.frames if f.phase == phase and f.sender == sender})
            rows += [_row(m, t, phase, sender, k) for k in kinds]
            if len(kinds) > 1:
                rows.append(_row(m, t, phase, sender, None))
    image = {ph: {w: sum(r["per_image"] for r in rows if r["phase"] == ph and r["way"] == w
                         and r["kind"] != "all") for w in ("up", "down")}
             for ph in (*ONCE, *PER_BATCH)}
    up, down = (sum(v[w] for v in image.values()) for w in ("up", "down"))
    return {"patches_in_run": t.patches, "rows": rows,
            "per_patch": {ph: {w: t.bytes(ph, s) / t.patches for s, w in WAY.items()
                               if w != "owner"} for ph in PER_BATCH},
            "image": {"side": IMAGE_SIDE, "patches": m.image_patches, "by_phase": image,
                      "up": up, "down": down, "total": up + down,
                      "seconds": {link: (up + down) * 8 / bps for link, bps in LINKS.items()},
                      "seconds_larger_way": {link: max(up, down) * 8 / bps
                                             for link, bps in LINKS.items()}},
            "per_activation": {k: sum(r["per_activation"] for r in rows if r["kind"] == k
                                      and r["per_activation"] is not None) for k in GC_KINDS
                               } if m.neurons else None,
            "publishing": t.bytes("publishing"), "cpu": t.cpu, "wall": t.wall}


def size(n: float | None) -> str:
    """Bytes in decimal units to about 3 significant digits."""
    if n is None:
        return "-"
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            v = n / div
            return f"{v:.0f} {unit}" if v >= 100 else f"{v:.1f} {unit}" if v >= 10 \
                else f"{v:.2f} {unit}"
    return f"{n:.0f} B" if n >= 10 else f"{n:.2g} B"


def duration(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 7200 else f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"


def traffic_rows(m: ModelCost) -> list[str]:
    s = traffic_summary(m)
    if s is None:
        return []
    t, img = m.traffic, s["image"]
    out = [f"bytes on the wire, measured: the real packed parties (owner, cloud, user) over a "
           f"channel, one batch of {t.patches} patch{'es' if t.patches > 1 else ''}, every "
           "frame counted (headers included), the output checked against the plaintext "
           f"reference; up = user -> cloud, down = cloud -> user; per image: {img['patches']:,} "
           f"patches of a {IMAGE_SIDE}x{IMAGE_SIDE} image, provisioning and session once:",
           f"{'phase':<13} {'way':<5} {'kind':<15} {'frames':>6} {'this run':>10} "
           f"{'per act.':>10} {'per patch':>10} {'per image':>10}"]
    for r in s["rows"]:
        image = size(r["per_image"]) if r["phase"] != "publishing" else "per model"
        out.append(f"{r['phase']:<13} {r['way']:<5} {r['kind']:<15} {r['frames']:>6} "
                   f"{size(r['bytes']):>10} {size(r['per_activation']):>10} "
                   f"{size(r['per_patch']):>10} {image:>10}")
    pp, ph, act = s["per_patch"], img["by_phase"], s["per_activation"]
    if act:
        out.append("  per activation, the garbled-circuit frames of both phases and ways: "
                   + ", ".join(f"{k} {size(v)}" for k, v in act.items())
                   + f"; {size(sum(act.values()))} in all")
    out.append(f"  per patch: offline up {size(pp['offline']['up'])}, down "
               f"{size(pp['offline']['down'])}; online up {size(pp['online']['up'])}, down "
               f"{size(pp['online']['down'])}")
    times = ", ".join(f"{duration(v)} at {k}" for k, v in img["seconds"].items())
    larger = ", ".join(f"{duration(v)}" for v in img["seconds_larger_way"].values())
    out.append(f"  per {IMAGE_SIDE}x{IMAGE_SIDE} image: provisioning "
               f"{size(ph['provisioning']['down'])} down; session {size(ph['session']['up'])} "
               f"up, {size(ph['session']['down'])} down; offline {size(ph['offline']['up'])} "
               f"up, {size(ph['offline']['down'])} down; online {size(ph['online']['up'])} up, "
               f"{size(ph['online']['down'])} down")
    out.append(f"  per image in all: {size(img['up'])} up + {size(img['down'])} down = "
               f"{size(img['total'])}: {times} (the larger way alone, as on a full-duplex "
               f"link: {larger}); publishing, once per model: {size(s['publishing'])}")
    cpu = s["cpu"]
    per_patch = ", ".join(f"{ph} user {cpu[ph]['user'] / t.patches * 1e3:.0f} ms, cloud "
                          f"{cpu[ph]['cloud'] / t.patches * 1e3:.0f} ms" for ph in PER_BATCH)
    out.append("  this run's CPU per party (thread time; fixed-base tables in provisioning, "
               f"factor pools made): provisioning user {cpu['provisioning']['user']:.1f} s, "
               f"cloud {cpu['provisioning']['cloud']:.1f} s; session user "
               f"{cpu['session']['user']:.2f} s, cloud {cpu['session']['cloud']:.2f} s; "
               f"per patch: {per_patch}")
    return out
