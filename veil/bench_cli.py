"""`veil bench`: the secure backend's cost per multiply-accumulate, per activation and per
patch, for the `packed` lowering next to the `paper` lowering and the seed paper, and the
bytes on the wire per activation, patch and image (veil.bench: bench/measure.py measures,
bench/traffic.py counts the frames, bench/report.py reports; this only parses options and
prints)."""
from __future__ import annotations

import os
import time

import click

from veil.bench.suites import MODELS
from veil.cli_errors import UserError, one_line_errors
from veil.cli_options import key_bits_option


@click.command("bench")
@click.option("--model", type=click.Choice(list(MODELS)), default="all", show_default=True,
              help="all = compact, wide and burger (the seed paper's architecture, random weights).")
@key_bits_option
@click.option("--patches", type=int, default=2, show_default=True,
              help="Patches per measured batch.")
@click.option("--sample", type=int, default=32, show_default=True,
              help="Per layer: columns timed for provisioning, products and activations "
                   "timed for the paper lowering.")
@click.option("--blocks", type=int, default=None,
              help="Blocks of each layer timed for the linear steps (default: the whole layer "
                   "up to 4096 packed columns, else 2; the rest is extrapolated).")
@click.option("--workers", type=int, default=os.cpu_count() or 1, show_default=True,
              help="Workers assumed for the whole-image wall-time estimate.")
@click.option("--bytes/--no-bytes", "count_bytes", default=True, show_default=True,
              help="Run the real packed parties once on the batch and count every frame: "
                   "bytes per activation, patch and image (models that provision quickly).")
@click.option("--json", "as_json", is_flag=True, help="All figures as JSON.")
@one_line_errors
def bench(model, key_bits, patches, sample, blocks, workers, count_bytes, as_json):
    """Measure both lowerings layer by layer and report per MAC, activation and patch."""
    from veil.bench.measure import measure_models
    from veil.bench.report import report, report_json
    from veil.compiler.packed_layout import check_key_bits
    start = time.perf_counter()
    bits = check_key_bits(key_bits)
    if patches < 1 or sample < 1 or workers < 1 or (blocks is not None and blocks < 1):
        raise UserError("--patches, --sample, --workers and --blocks must be at least 1")
    results = measure_models(MODELS[model], bits, patches, sample, blocks,
                             log=lambda line: click.echo(line, err=True), traffic=count_bytes)
    if as_json:
        click.echo(report_json(results, workers))
    else:
        click.echo(report(results, workers), nl=False)
    click.echo(f"bench took {time.perf_counter() - start:.0f} s", err=True)
