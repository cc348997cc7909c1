"""`veil import` and `veil export`: ONNX in and out (veil.models.onnx_import, onnx_export).
They need the optional onnx package (pip install 'veil[onnx]'); without it they say so in
one line."""
from __future__ import annotations

import click

from veil.cli_errors import one_line_errors


@click.command("import")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The spec to write, NAME.veil; its weights go beside it as NAME.npz.")
@click.option("--patch", required=True, nargs=2, type=int, metavar="IN OUT",
              help="Sides of the input patch (IN*IN features) and of the output (OUT*OUT).")
@click.option("--stride", type=int, help="Patch stride (default: OUT, as compact).")
@one_line_errors
def import_cmd(model, output, patch, stride):
    """Turn an ONNX MLP (Gemm or MatMul+Add layers, Tanh between them) into a Veil spec:
    Tanh becomes tanh*, and the fixed-point formats are chosen from the weights' ranges."""
    from veil.models.onnx_import import import_onnx
    for line in import_onnx(model, output, patch[0], patch[1], stride):
        click.echo(line)


@click.command("export")
@click.argument("spec")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The ONNX file to write.")
@one_line_errors
def export_cmd(spec, output):
    """Write the float network of SPEC (a .veil file or a built-in model name) as ONNX:
    float32 weights and the real Tanh, the model the `float` backend runs."""
    from veil.models.onnx_export import export_onnx
    for line in export_onnx(spec, output):
        click.echo(line)
