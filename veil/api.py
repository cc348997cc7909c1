"""The public Python API (re-exported by `veil`): the commands of `veil` as functions on numpy
arrays. Each calls the code its command calls (veil.models: run, crosscheck, noise, images),
so a function and its command give the same result. Heavy modules (numpy, the compiler, the
backends) are imported inside the functions: `import veil` stays cheap. docs/api.md shows
every function with an example."""
from __future__ import annotations

import functools
import os
import re
from typing import TYPE_CHECKING, Sequence

from veil.compiled import Program
from veil.util.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from veil.models.crosscheck import CheckResult


# The shared code (veil.models, the compiler, the backends) names the command's flags in its
# messages; from Python the same option is a keyword argument.
_KEYWORDS = {"stride", "batch", "key-bits", "kappa", "workers", "dask", "patches", "backend",
             "lowering"}


def _in_python_terms(fn):
    """Re-raise a UsageError naming `--key-bits` as one naming `key_bits` (same class)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UsageError as exc:
            text = re.sub(r"--([a-z][a-z-]*)",
                          lambda m: m[1].replace("-", "_") if m[1] in _KEYWORDS else m[0],
                          str(exc))
            exc.args = (text,)
            raise
    return wrapper


@_in_python_terms
def compile(spec: str | os.PathLike, lowering: str = "packed", key_bits: int = 2048,
            kappa: int = 40) -> Program:
    """A built-in model's name ("compact", "tiny", "burger"), a path to a .veil file, or spec
    text -> the compiled Program (as `veil compile SPEC`)."""
    from veil.models.catalog import compile_model
    return Program(compile_model(spec, lowering, key_bits=key_bits, kappa=kappa))


def _program_ir(model, lowering: str | None, key_bits: int | None):
    """A Program as given, or compiled from a spec: the compiler's IR for the shared code."""
    if not isinstance(model, Program):
        return compile(model, lowering or "packed", key_bits or 2048).ir
    for name, asked, own in (("lowering", lowering, model.lowering),
                             ("key_bits", key_bits, model.key_bits)):
        if asked is not None and asked != own:
            raise UsageError(f"{name}={asked!r} differs from the compiled program's {own!r} "
                             f"(compile it again, or pass the spec)")
    return model.ir


@_in_python_terms
def denoise(image: np.ndarray, model: str | os.PathLike | Program = "compact",
            backend: str = "plaintext", *, lowering: str | None = None,
            stride: int | None = None, batch: int = 4096, key_bits: int | None = None,
            workers: int | None = None, dask: str | None = None,
            progress: bool = False) -> np.ndarray:
    """A noisy image (uint8 or uint16; (H, W) grey or (H, W, 3) colour, denoised per channel)
    -> the denoised image of the same shape and dtype, as `veil denoise` writes it. `model` is
    a spec (as `compile`) or a compiled Program; the options are the command's (`lowering`
    and `key_bits` default to "packed" and 2048, or to the Program's own)."""
    from veil.models.arrays import array_of, image_of
    from veil.models.run import denoise_image
    img = image_of(image)                    # bad input fails before any work
    run = denoise_image(img, _program_ir(model, lowering, key_bits), backend,
                        stride=stride, batch=batch, progress=progress, workers=workers,
                        dask=dask)
    return array_of(run.result, img.bit_depth)


@_in_python_terms
def check(model: str | os.PathLike | Program,
          backends: Sequence[str] | str = ("plaintext", "yao"), patches: int = 8,
          seed: int = 0, key_bits: int | None = None, *, lowering: str | None = None,
          workers: int | None = None) -> CheckResult:
    """Run `patches` random patches through exact backends and compare each with the first,
    bit for bit (as `veil check`). The result has `.identical`, `.first_difference` (None,
    or the backend, patch index, input pixels and both outputs) and `.summary`, the lines
    `veil check` prints."""
    from veil.models.crosscheck import cross_check
    names = backends.split(",") if isinstance(backends, str) else list(backends)
    if not names:
        raise UsageError("backends: name at least one exact backend")
    ir = _program_ir(model, lowering, key_bits)
    return cross_check(ir, names, ir.lowering.value, patches, seed, workers=workers)


def add_noise(image: np.ndarray, sigma: float = 25.0, seed: int = 0) -> np.ndarray:
    """White Gaussian noise of standard deviation `sigma` on the 0..255 scale, seeded, rounded
    and clipped (as `veil noise`): an image of the same shape and dtype."""
    import numpy as np

    from veil.models.arrays import array_of, image_of
    from veil.models.noise import add_noise as noisy
    img = image_of(image)
    if not (isinstance(sigma, (int, float, np.integer, np.floating)) and np.isfinite(sigma)
            and sigma >= 0):
        raise UsageError(f"sigma must be a non-negative number, got {sigma!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    return array_of(noisy(img.channels, float(sigma), int(seed)), img.bit_depth)


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    """PSNR of `image` against `reference` in dB on the 0..255 scale (as `veil psnr`; the
    two may differ in bit depth, not in size); inf for identical images."""
    from veil.models.arrays import image_of
    from veil.models.noise import image_psnr
    return image_psnr(image_of(reference, "reference"), image_of(image, "image"))


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An 8- or 16-bit grey or colour PNG, TIFF or JPEG -> uint8 or uint16 array, (H, W) or
    (H, W, 3) (an alpha channel is dropped, as `veil denoise` does)."""
    from veil.models.arrays import array_of
    from veil.models.images import read_image
    img = read_image(path)
    return array_of(img.channels, img.bit_depth)


def save_image(image: np.ndarray, path: str | os.PathLike) -> None:
    """Write `image` (as `denoise` takes) to a .png, .tif or .jpg file, atomically: on any
    failure no partial file is left and an existing file is untouched."""
    from veil.models.arrays import image_of
    from veil.models.images import write_image
    img = image_of(image)
    write_image(path, img.channels, img.bit_depth)
