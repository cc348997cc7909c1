"""Options several `veil` commands share, spelled and explained once."""
from __future__ import annotations

import click

key_bits_option = click.option(
    "--key-bits", type=int, default=2048, show_default=True,
    help="Paillier modulus bits (2048 or more for real use; smaller only for tests).")

workers_option = click.option(
    "--workers", type=click.IntRange(min=1),
    help="Processes for the secure backend's heavy work (default: every core, or "
         "VEIL_WORKERS; 1 runs it in this process).")

lowering_option = click.option("--lowering", type=click.Choice(["packed", "paper"]),
                               default="packed", show_default=True)
