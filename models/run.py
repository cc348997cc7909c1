"""`veil denoise` and `veil.denoise`: pixels in, pixels out, on any backend, with progress.

`denoise_image` is the one implementation: the command line wraps it with files
(`run_denoise`: read, check the output path, denoise; `denoise_file` also writes and returns
the summary line), the report (models/report) with its page, and the Python API with numpy
arrays (veil/api.py), so all give the same pixels for the same input.
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
from veil.models.images import LoadedImage, check_output, read_image, write_image
from veil.models.progress import patch_progress
from veil.util.errors import UsageError


@dataclass
class DenoiseRun:
    """One finished run, before its image is written."""
    image: LoadedImage        # the noisy input
    result: np.ndarray        # (C, H, W) denoised, float64 on the 0..255 scale, clipped
    program: Program
    backend: str
    patches: int
    seconds: float
    phases: dict | None       # the secure backend's time and bytes per phase (backends.yao.Phase)
    traffic: str | None       # the same as the summary prints them

    def summary(self, output: str) -> str:
        h, w = self.image.shape
        return (f"denoised {w}x{h} ({self.image.channels.shape[0]} channel(s)) with "
                f"{self.program.model.name} on {self.backend}: {self.patches} patches in "
                f"{self.seconds:.2f} s ({_rate(self.patches, self.seconds)})"
                + (f"; {self.traffic}" if self.traffic is not None else "") + f" -> {output}")


def denoise_file(noisy: str, output: str, spec: str, backend_name: str,
                 lowering: str = "packed", stride: int | None = None, batch: int = 4096,
                 progress: bool = True, key_bits: int = 2048,
                 workers: int | None = None, dask: str | None = None) -> str:
    """`veil denoise`: the image file `noisy` -> `output` at its bit depth; the summary line."""
    run = run_denoise(noisy, output, spec, backend_name, lowering, stride, batch, progress,
                      key_bits, workers, dask)
    write_image(output, run.result, run.image.bit_depth)
    return run.summary(output)


def run_denoise(noisy: str, output: str | None, spec: str | Program, backend_name: str,
                lowering: str = "packed", stride: int | None = None, batch: int = 4096,
                progress: bool = True, key_bits: int = 2048, workers: int | None = None,
                dask: str | None = None, program: Program | None = None) -> DenoiseRun:
    """Denoise the file `noisy` without writing anything; `output` (if given) is checked
    first. `program`, if given, is the spec already compiled (with these lowering and key
    bits)."""
    img = read_image(noisy)                      # fail on bad input before any work
    if output is not None:
        check_output(output, img.bit_depth, img.channels.shape[0])
    return denoise_image(img, program or spec, backend_name, lowering, stride, batch,
                         progress, key_bits, workers, dask)


def denoise_image(img: LoadedImage, spec: str | Program, backend_name: str,
                  lowering: str = "packed", stride: int | None = None, batch: int = 4096,
                  progress: bool = True, key_bits: int = 2048,
                  workers: int | None = None, dask: str | None = None) -> DenoiseRun:
    """A noisy image -> a DenoiseRun. `spec` is anything compile_model takes, or a compiled
    Program (then `lowering` and `key_bits` are its own)."""
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
    total = count_patches(program, img.shape, img.channels.shape[0], stride)
    t0 = time.perf_counter()
    try:
        with patch_progress(total, enabled=progress) as advance:
            out = denoise_channels(program, backend, img.channels, stride, batch, advance)
    finally:
        backend.close()
        if executor is not None:          # the backend does not close a given executor
            executor.close()
    elapsed = time.perf_counter() - t0
    return DenoiseRun(img, out, program, backend_name, total, elapsed,
                      getattr(backend, "phases", None),
                      backend.traffic() if hasattr(backend, "traffic") else None)


def _rate(n: int, seconds: float) -> str:
    per_second = n / max(seconds, 1e-9)
    return f"{per_second:.0f} patches/s" if per_second >= 1 else f"{seconds / max(n, 1):.2f} s/patch"
