"""Options several `veil` commands share, spelled and explained once."""
from __future__ import annotations

import functools
from typing import NamedTuple

import click

key_bits_option = click.option(
    "--key-bits", type=int, default=2048, show_default=True,
    help="Paillier modulus bits (2048 or more for real use; smaller only for tests).")

workers_option = click.option(
    "--workers", type=click.IntRange(min=1),
    help="Processes for the secure backend's heavy work (default: every core, or "
         "VEIL_WORKERS; 1 runs it in this process).")

dask_option = click.option(
    "--dask", metavar="tcp://HOST:PORT",
    help="Send the heavy work to the workers of this Dask scheduler (`dask scheduler`, "
         "`dask worker`) instead of local processes.")

lowering_option = click.option("--lowering", type=click.Choice(["packed", "paper"]),
                               default="packed", show_default=True)



class TrustChoice(NamedTuple):
    """The client's trust options as given; veil.service.trust.client_trust checks them."""
    tls_ca: str | None
    cloud_fingerprint: str | None
    insecure_plaintext: bool


def cloud_trust_options(fn):
    """How a client knows it reached its cloud (veil.service.trust): a CA file, a pinned
    fingerprint, or, with neither, the fingerprint recorded in known_clouds on first use. The
    command gets them as one `trust` argument, a TrustChoice."""
    @functools.wraps(fn)
    def gather(*args, tls_ca, cloud_fingerprint, insecure_plaintext, **kwargs):
        return fn(*args, trust=TrustChoice(tls_ca, cloud_fingerprint, insecure_plaintext),
                  **kwargs)
    for option in reversed((
        click.option("--tls-ca", type=click.Path(dir_okay=False, exists=True),
                     help="Trust the cloud's certificate if it chains to this CA (e.g. the "
                          "cloud's self-signed certificate) and names the --cloud host."),
        click.option("--cloud-fingerprint", metavar="HEX",
                     help="Trust exactly the certificate with this SHA-256 fingerprint (`veil "
                          "cloud fingerprint`; colons allowed)."),
        click.option("--insecure-plaintext", is_flag=True,
                     help="No TLS and no authentication of the cloud: loopback only, tests."),
    )):
        gather = option(gather)
    return gather
