"""`veil denoise` and `veil.denoise`: pixels in, pixels out, on any backend, with progress.

`denoise_pixels` is the one implementation: the command line wraps it with files
(`denoise_file`: read, check the output path, denoise, write) and the Python API with numpy
arrays (veil/api.py), so both give the same pixels for the same input.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from veil.backends.catalog import get_backend
from veil.backends.dask_executor import make_executor
from veil.compiler.program import Program
from veil.models.catalog import compile_model
from veil.models.denoise import count_patches, denoise_channels, geometry
from veil.models.images import check_output, read_image, write_image
from veil.models.progress import patch_progress
from veil.util.errors import UsageError


@dataclass(frozen=True)
class DenoiseRun:
    channels: np.ndarray      # (C, H, W) denoised, 0..255 scale, clipped
    model: str
    backend: str
    patches: int
    seconds: float
    traffic: str | None       # the secure backend's bytes between the parties


def denoise_pixels(channels: np.ndarray, spec: str | Program, backend_name: str,
                   lowering: str = "packed", stride: int | None = None, batch: int = 4096,
                   progress: bool = True, key_bits: int = 2048,
                   workers: int | None = None, dask: str | None = None) -> DenoiseRun:
    """(C, H, W) noisy pixels on the 0..255 scale -> a DenoiseRun. `spec` is anything
    compile_model takes, or a compiled Program (then `lowering` and `key_bits` are its own)."""
    program = spec if isinstance(spec, Program) else compile_model(spec, lowering,
                                                                    key_bits=key_bits)
    geometry(program, stride)                    # validates --stride against the model
    if batch < 1:
        raise UsageError("--batch must be at least 1")
    if dask is not None and backend_name != "yao":
        raise UsageError("--dask applies to --backend yao only")
    executor = make_executor(workers, dask) if dask is not None else None
    try:
        backend = get_backend(backend_name, workers=workers, executor=executor)
    except BaseException:
        if executor is not None:
            executor.close()
        raise
    batch = min(batch, backend.max_batch)
    total = count_patches(program, channels.shape[1:], channels.shape[0], stride)
    t0 = time.perf_counter()
    try:
        with patch_progress(total, enabled=progress) as advance:
            out = denoise_channels(program, backend, channels, stride, batch, advance)
    finally:
        backend.close()
        if executor is not None:          # the backend does not close a given executor
            executor.close()
    elapsed = time.perf_counter() - t0
    traffic = backend.traffic() if hasattr(backend, "traffic") else None
    return DenoiseRun(out, program.model.name, backend_name, total, elapsed, traffic)


def denoise_file(noisy: str, output: str, spec: str, backend_name: str,
                 lowering: str = "packed", stride: int | None = None, batch: int = 4096,
                 progress: bool = True, key_bits: int = 2048,
                 workers: int | None = None, dask: str | None = None) -> str:
    """`veil denoise`: the image file `noisy` -> `output` at its bit depth; the summary line."""
    img = read_image(noisy)                      # fail on bad input before any work
    check_output(output, img.bit_depth, img.channels.shape[0])
    run = denoise_pixels(img.channels, spec, backend_name, lowering, stride, batch, progress,
                         key_bits, workers, dask)
    write_image(output, run.channels, img.bit_depth)
    h, w = img.shape
    return (f"denoised {w}x{h} ({img.channels.shape[0]} channel(s)) with {run.model} "
            f"on {backend_name}: {run.patches} patches in {run.seconds:.2f} s "
            f"({_rate(run.patches, run.seconds)})"
            + (f"; {run.traffic}" if run.traffic is not None else "") + f" -> {output}")


def _rate(n: int, seconds: float) -> str:
    per_second = n / max(seconds, 1e-9)
    return f"{per_second:.0f} patches/s" if per_second >= 1 else f"{seconds / max(n, 1):.2f} s/patch"
