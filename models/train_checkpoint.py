"""Training checkpoints: the whole TrainState in one .npz, written atomically, checksummed.

A checkpoint holds the parameters, Adam's moments, the step, the numpy Generator's state,
the running loss and time, and a `run` description (the TrainConfig, the activation, a hash
of the training pictures). Resuming asks for the same run: a checkpoint of another spec,
config or picture set is refused, so a resumed run ends with the very bits an uninterrupted
one would have. A damaged file fails its SHA-256 (over every array and the metadata) or
cannot be read at all; either way the refusal is one line.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from veil.models.training import TrainConfig, TrainState
from veil.util.atomic import atomic_write_bytes
from veil.util.errors import UsageError

FORMAT = "veil-train-checkpoint/1"


class CheckpointError(UsageError):
    """A checkpoint that cannot be read, is damaged, or belongs to another run."""


def describe_run(cfg: TrainConfig, activation: str, images: list[np.ndarray],
                 init: str | None = None) -> dict:
    """What must be equal for a checkpoint to continue this run (`init`: the SHA-256 of the
    weights a warm restart starts from; absent for a run from random weights)."""
    h = hashlib.sha256()
    for im in images:
        h.update(np.asarray(im.shape, np.int64).tobytes())
        h.update(np.ascontiguousarray(im, np.float64).tobytes())
    config = {k: list(v) if isinstance(v, tuple) else v
              for k, v in dataclasses.asdict(cfg).items()}
    run = {"config": config, "activation": activation, "pictures_sha256": h.hexdigest()}
    return run if init is None else {**run, "init_sha256": init}


def _digest(meta: bytes, arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(meta)
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save_checkpoint(path: Path, state: TrainState, run: dict) -> None:
    meta = json.dumps({"format": FORMAT, "run": run, "step": state.step,
                       "rng": state.rng.bit_generator.state, "run_loss": state.run_loss,
                       "elapsed": state.elapsed}, sort_keys=True).encode()
    arrays = {f"{kind}{i}": a for kind, group in (("p", state.params), ("m", state.m),
                                                  ("v", state.v)) for i, a in enumerate(group)}
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(meta, np.uint8), sha256=np.array(_digest(meta, arrays)),
             **arrays)
    atomic_write_bytes(Path(path), buf.getvalue())


def _first_difference(saved: dict, wanted: dict) -> str:
    flat = lambda d: {**d["config"], "activation": d["activation"],
                      "training pictures": d["pictures_sha256"][:12],
                      "initial weights": d.get("init_sha256", "random")[:12]}
    a, b = flat(saved), flat(wanted)
    for key in b:
        if a.get(key) != b[key]:
            return f"{key} is {a.get(key)} there, {b[key]} here"
    return "its run description differs"


def load_checkpoint(path: Path, run: dict) -> TrainState:
    """The state saved in `path`, if it continues the run `run` (see describe_run)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint (leave out --resume to start a run)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta_bytes = arrays.pop("meta").tobytes()
        digest = str(arrays.pop("sha256"))
        meta = json.loads(meta_bytes)
        fmt = meta.get("format")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, AttributeError) as e:
        raise CheckpointError(f"{path}: not a readable training checkpoint "
                              f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
                              ) from None
    if fmt != FORMAT:
        raise CheckpointError(f"{path}: not a training checkpoint of this version ({fmt!r})")
    if _digest(meta_bytes, arrays) != digest:
        raise CheckpointError(f"{path}: checkpoint is damaged (its SHA-256 does not match)")
    if meta["run"] != run:
        raise CheckpointError(f"{path}: checkpoint of a different run: "
                              f"{_first_difference(meta['run'], run)}")
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    group = lambda kind: [arrays[f"{kind}{i}"] for i in range(len(run["config"]["hidden"]) * 2 + 2)]
    return TrainState(group("p"), group("m"), group("v"), rng, meta["step"],
                      meta["run_loss"], meta["elapsed"])
