"""Veil: secure neural-network image denoising, built as a compiler.

The Python API (docs/api.md): `compile` a model and look at it, `denoise` a numpy image on
any backend (`"yao"`: the secure protocol), `check` backends against the plaintext reference,
and the image helpers `add_noise`, `psnr`, `load_image`, `save_image`. Expected failures raise
a `VeilError` subclass with a one-line message. Importing `veil` is cheap: each function
imports what it needs when called.
"""
from veil.api import add_noise, check, compile, denoise, load_image, psnr, save_image
from veil.compiled import Program
from veil.util.errors import ImageError, SpecError, UsageError, VeilError

__all__ = ["compile", "denoise", "check", "add_noise", "psnr", "load_image", "save_image",
           "Program", "VeilError", "UsageError", "ImageError", "SpecError"]
