"""What `veil import` and `veil export` share: the optional onnx package, the one error kind,
and the metadata an exported model carries so that importing it back gives the same spec."""
from __future__ import annotations

from veil.util.errors import SpecError, UsageError

INSTALL_HINT = "pip install 'veil[onnx]' (or: pip install 'onnx>=1.15')"

# Metadata keys of an exported model: what the network alone does not say.
META_SCALE = "veil.normalise.scale"        # network input x = scale * pixel + offset
META_OFFSET = "veil.normalise.offset"
META_PREDICT = "veil.predict"              # 'clean' or 'residual'


class OnnxError(SpecError):
    """An ONNX model Veil cannot import (an unsupported op, a shape that does not fit)."""


def require_onnx():
    """The onnx module, or a one-line UsageError saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise UsageError(f"veil import/export need the onnx package: {INSTALL_HINT}") from None
    return onnx
