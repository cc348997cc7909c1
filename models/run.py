"""`veil denoise`: file in, file out, with progress and a one-line summary."""
from __future__ import annotations

import time

from veil.backends.catalog import get_backend
from veil.backends.dask_executor import make_executor
from veil.models.catalog import compile_model
from veil.models.denoise import count_patches, denoise_channels, geometry
from veil.models.images import check_output, read_image, write_image
from veil.models.progress import patch_progress
from veil.util.errors import UsageError


def denoise_file(noisy: str, output: str, spec: str, backend_name: str,
                 lowering: str = "packed", stride: int | None = None, batch: int = 4096,
                 progress: bool = True, key_bits: int = 2048,
                 workers: int | None = None, dask: str | None = None) -> str:
    img = read_image(noisy)                      # fail on bad input before any work
    check_output(output, img.bit_depth, img.channels.shape[0])
    program = compile_model(spec, lowering, key_bits=key_bits)
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
    write_image(output, out, img.bit_depth)
    h, w = img.shape
    return (f"denoised {w}x{h} ({img.channels.shape[0]} channel(s)) with {program.model.name} "
            f"on {backend_name}: {total} patches in {elapsed:.2f} s "
            f"({_rate(total, elapsed)})"
            + (f"; {backend.traffic()}" if hasattr(backend, "traffic") else "") + f" -> {output}")


def _rate(n: int, seconds: float) -> str:
    per_second = n / max(seconds, 1e-9)
    return f"{per_second:.0f} patches/s" if per_second >= 1 else f"{seconds / max(n, 1):.2f} s/patch"
