"""`veil import`: an ONNX MLP (models/onnx_graph.py) -> a Veil spec and its weights beside it.

Tanh becomes Veil's piecewise-quadratic tanh_star (what the secure protocol computes; the
`float` backend still runs the real tanh with the same weights); the fixed-point formats
come from the weights' ranges (models/onnx_formats.py). The spec and the .npz are written
both or neither, and only after the spec has passed the compiler's checks.
"""
from __future__ import annotations

import io
import keyword
import math
import re
import tempfile
from pathlib import Path

import numpy as np

from veil.compiler.check import check, load_prelude
from veil.compiler.errors import SpecError
from veil.compiler.model import Normalisation
from veil.compiler.parser import keywords, parse_text
from veil.models.onnx_formats import Formats, choose_formats, layer_lines
from veil.models.onnx_graph import OnnxNetwork, read_network
from veil.models.onnx_support import (META_OFFSET, META_PREDICT, META_SCALE, OnnxError,
                                      require_onnx)
from veil.util.atomic import atomic_write_files
from veil.util.errors import UsageError

ACTIVATION = "tanh_star"
# Compact's normalisation, (p / 255 - 0.5) / 0.2, for a model that does not carry its own.
DEFAULT_NORMALISATION = Normalisation(scale=1 / 255 / 0.2, offset=-0.5 / 0.2)


def import_onnx(model_path: str | Path, spec_path: str | Path, patch_in: int, patch_out: int,
                stride: int | None = None) -> list[str]:
    """Write SPEC and its .npz beside it; return the report lines (formats and why)."""
    onnx = require_onnx()
    spec_path, model_path = Path(spec_path), Path(model_path)
    stride = _check_geometry(patch_in, patch_out, stride)
    if spec_path.suffix != ".veil":
        raise UsageError(f"-o {spec_path}: name a .veil file (its weights go beside it as .npz)")
    npz_path = spec_path.with_suffix(".npz")
    if any(c in npz_path.name for c in '"\\\n'):
        raise UsageError(f"-o {spec_path}: a spec cannot name a file with '\"', '\\' or a "
                         "line break in its name")
    net = read_network(_load(onnx, model_path), model_path.name)
    for what, side, n in (("takes", patch_in, net.n_in), ("gives", patch_out, net.n_out)):
        if n != side * side:
            raise OnnxError(f"{model_path.name}: the network {what} {n} features but --patch "
                            f"{patch_in} {patch_out} needs {side}x{side} = {side * side}")
    norm, residual, origin = _meaning(net, model_path.name)
    act = load_prelude()[ACTIVATION]
    weights = [w for w, _, _ in net.layers]
    formats = choose_formats(weights, [b for _, b, _ in net.layers], norm, act)
    name = _model_name(spec_path.stem)
    text = _spec_text(name, net, formats, norm, residual, (patch_in, patch_out, stride),
                      npz_path.name, model_path.name)
    npz = _npz_bytes(net)
    _validate(text, npz, spec_path.name, npz_path.name, model_path.name)
    atomic_write_files({npz_path: npz, spec_path: text.encode()})
    return _report(net, formats, name, (norm, residual, origin), act, spec_path, npz_path)


def _check_geometry(patch_in: int, patch_out: int, stride: int | None) -> int:
    if not 1 <= patch_out <= patch_in or (patch_in - patch_out) % 2:
        raise UsageError(f"--patch {patch_in} {patch_out}: the output side must be at most the "
                         "input side and of the same parity (it is the input's centre)")
    stride = patch_out if stride is None else stride
    if not 1 <= stride <= patch_out:
        raise UsageError(f"--stride {stride}: must be between 1 and the output side {patch_out}")
    return stride


def _load(onnx, path: Path):
    if not path.is_file():
        raise OnnxError(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:      # protobuf's DecodeError, the checker's ValidationError...
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise OnnxError(f"{path.name}: not a valid ONNX model ({first})") from None
    return model


def _meaning(net: OnnxNetwork, where: str) -> tuple[Normalisation, bool, str]:
    """What the network's input and output mean: from an exported model's metadata, else
    compact's normalisation and a clean prediction."""
    meta = net.metadata
    if META_SCALE not in meta:
        return DEFAULT_NORMALISATION, False, ("Veil's defaults: compact's normalisation "
                                              "(p / 255 - 0.5) / 0.2, a clean prediction")
    try:
        norm = Normalisation(float(meta[META_SCALE]), float(meta.get(META_OFFSET, "0")))
    except ValueError:
        raise OnnxError(f"{where}: metadata {META_SCALE}/{META_OFFSET} are not numbers") from None
    predict = meta.get(META_PREDICT, "clean")
    if not (math.isfinite(norm.scale) and norm.scale != 0 and math.isfinite(norm.offset)) \
            or predict not in ("clean", "residual"):
        raise OnnxError(f"{where}: bad Veil metadata (normalisation {norm.scale!r} * p + "
                        f"{norm.offset!r}, predict {predict!r})")
    return norm, predict == "residual", "from the model's metadata (a Veil export)"


def _model_name(stem: str) -> str:
    name = re.sub(r"\W", "_", stem, flags=re.ASCII) or "imported"
    if name[0].isdigit():
        name = f"m_{name}"
    return f"{name}_model" if name in keywords() or keyword.iskeyword(name) else name


def _number(x: float) -> str:
    """A float as spec text that parses back to the same float."""
    return repr(float(x))


def _normalise_line(norm: Normalisation) -> str:
    sign = "-" if norm.offset < 0 else "+"
    return f"normalise p -> {_number(norm.scale)} * p {sign} {_number(abs(norm.offset))}"


def _spec_text(name: str, net: OnnxNetwork, f: Formats, norm: Normalisation, residual: bool,
               geometry: tuple[int, int, int], npz_name: str, source: str) -> str:
    i, o, s = geometry
    lines = [
        f"# Imported from {source.encode('unicode_escape').decode()} by `veil import`. "
        "Its Tanh activations are Veil's",
        f"# piecewise-quadratic {ACTIVATION} here (compiler/prelude.veil), which the secure",
        "# protocol computes; the `float` backend runs the real tanh with the same weights.",
        "# Formats chosen from the weights' ranges as for the compact model (docs/quality.md).",
        f"model {name} {{",
        f"    patch {i} -> {o} stride {s}",
        f"    {_normalise_line(norm)}",
        f"    predict {'residual' if residual else 'clean'}",
    ]
    for kind, fmt in (("input", f.input), ("activation", f.activation), ("weight", f.weight),
                      ("bias", f.bias)):
        lines.append(f"    {kind:<11} fix<{fmt.total}, {fmt.frac}>")
    lines += [f"    coefficient frac {f.coeff_frac}", f'    weights "{npz_name}"']
    for w, _, tanh in net.layers:
        lines.append(f"    dense {w.shape[1]} -> {w.shape[0]}" + (f" {ACTIVATION}" if tanh else ""))
    return "\n".join(lines + ["}", ""])


def _npz_bytes(net: OnnxNetwork) -> bytes:
    """w1, b1, w2, ... as float32, an ONNX model's precision (Gemm's alpha and beta folded)."""
    arrays = {}
    for k, (w, b, _) in enumerate(net.layers, start=1):
        arrays[f"w{k}"], arrays[f"b{k}"] = w.astype(np.float32), b.astype(np.float32)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _validate(text: str, npz: bytes, spec_name: str, npz_name: str, source: str) -> None:
    """The compiler's own checks on the spec as it will be written, before anything is."""
    with tempfile.TemporaryDirectory(prefix="veil-import-") as tmp:
        (Path(tmp) / npz_name).write_bytes(npz)
        try:
            check(parse_text(text, str(Path(tmp) / spec_name)), load_prelude())
        except SpecError as exc:
            raise OnnxError(f"{source}: the imported model does not fit Veil: "
                            f"{exc.message}") from None


def _report(net: OnnxNetwork, f: Formats, name: str, meaning, act, spec_path: Path,
            npz_path: Path) -> list[str]:
    norm, residual, origin = meaning
    widths = " -> ".join(str(n) for n in [net.n_in] + [w.shape[0] for w, _, _ in net.layers])
    x = np.linspace(-4, 4, 80_001)
    gap = float(np.abs(act.float_activation()(x) - np.tanh(x)).max())
    lines = [f"model {name}: {widths}; Tanh -> {ACTIVATION} (Veil's piecewise-quadratic "
             f"tanh*, at most {gap:.3f} from tanh)"]
    for kind, fmt in (("input", f.input), ("activation", f.activation), ("weight", f.weight),
                      ("bias", f.bias)):
        lines.append(f"{kind:<11} {str(fmt):<11} {f.reasons[kind]}")
    lines.append(f"coefficient frac {f.coeff_frac} (activation's + 1, as compact)")
    lines += layer_lines(f, [w for w, _, _ in net.layers], [t for _, _, t in net.layers],
                         ACTIVATION)
    lines.append(f"{_normalise_line(norm)}, predict {'residual' if residual else 'clean'}: "
                 f"{origin}; edit the spec if the network expects others")
    lines.append(f"wrote {spec_path} and {npz_path}")
    return lines
