"""The networked roles: `veil user ...`, `veil owner publish`, `veil cloud ...`.

Same style as the rest of the CLI: arguments are parsed here and the work delegated to
veil.service; every expected failure is one line on stderr and exit status 1.
"""
from __future__ import annotations

import functools
import sys

import click

from veil.cli_errors import EXIT_ERROR, one_line_errors
from veil.cli_options import cloud_trust_options, dask_option, key_bits_option, workers_option

DEFAULT_PORT = 7461


def _network_errors(fn):
    """Any OSError as one line too, not only those about a path the user named: a refused or
    dropped connection, a failed TLS handshake or a timeout is not a bug. Refusals, protocol
    and store errors are VeilErrors: one_line_errors' job."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except OSError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
    return one_line_errors(wrapper)


def _say(line: str) -> None:
    click.echo(line, err=True)
    sys.stderr.flush()


def _trust(choice):
    from veil.service.trust import client_trust
    return client_trust(*choice, notify=_say)


_cloud_option = click.option("--cloud", "address", default=f"127.0.0.1:{DEFAULT_PORT}",
                             show_default=True, help="The cloud server, HOST:PORT.")


@click.group()
def user():
    """The user: key pair, and denoising on a cloud."""


@user.command("keygen")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Private key file (mode 0600); the public key goes next to it as .pub.")
@key_bits_option
@_network_errors
def user_keygen(output, key_bits):
    """Make USER.key and USER.pub (give USER.pub to the model owner)."""
    from veil.compiler.packed_layout import check_key_bits
    from veil.service.user_client import keygen
    key, pub = keygen(output, check_key_bits(key_bits))
    click.echo(f"wrote {key} (private, 0600) and {pub} (public)", err=True)


@user.command("denoise")
@click.argument("noisy", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--key", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Your private key (USER.key).")
@_cloud_option
@click.option("--model", required=True, help="The model's published name.")
@cloud_trust_options
@click.option("--owner-pub", type=click.Path(dir_okay=False, exists=True),
              help="Refuse the model unless this owner key (OWNER.pub) signed it.")
@workers_option
@dask_option
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_network_errors
def user_denoise(noisy, output, key, address, model, trust, owner_pub, workers, dask, quiet):
    """Denoise NOISY on the cloud; rerun the same command to resume an interrupted job."""
    from veil.service.user_client import denoise_remote
    click.echo(denoise_remote(noisy, output, key, address, model, _trust(trust), workers,
                              progress=not quiet, owner_pub=owner_pub, dask=dask), err=True)


@click.group()
def owner():
    """The model owner: publish encrypted models."""


@owner.command("keygen")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Private key file (mode 0600); the public key goes next to it as .pub.")
@_network_errors
def owner_keygen(output):
    """Make OWNER.key and OWNER.pub (the cloud's operator allows OWNER.pub)."""
    from veil.service.owner_keys import keygen
    key, pub, owner_key = keygen(output)
    click.echo(f"wrote {key} (private, 0600) and {pub} (public); owner key "
               f"{owner_key.public.fingerprint}", err=True)


@owner.command("publish")
@click.argument("spec")
@click.option("--user-key", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The user's public key (USER.pub).")
@click.option("--owner-key", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Your owner key (OWNER.key): signs the publish.")
@_cloud_option
@click.option("--name", required=True, help="The name the user will ask for.")
@click.option("--kappa", type=int, default=40, show_default=True,
              help="Statistical security of the masks, 40..128 (64 for long-lived services).")
@cloud_trust_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_network_errors
def owner_publish(spec, user_key, owner_key, address, name, kappa, trust, quiet):
    """Encrypt SPEC's model for one user, sign it and upload it (re-publishing replaces it)."""
    from veil.service.owner_client import publish
    click.echo(publish(spec, user_key, address, name, owner_key, _trust(trust), not quiet,
                       kappa), err=True)


@click.group()
def cloud():
    """The cloud server."""


@cloud.command("serve")
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False),
              help="Folder of the store (SQLite metadata, checksummed ciphertext blobs).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback unless you ask otherwise).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="0 picks a free port (printed).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True),
              help="Certificate to serve (default: the store's own, made on first start).")
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True))
@click.option("--insecure-plaintext", is_flag=True,
              help="No TLS: clients cannot authenticate the cloud. Loopback only, tests.")
@click.option("--rate-limit", type=click.IntRange(min=0), default=100_000, show_default=True,
              help="Patches per hour per user and model (0: no limit).")
@click.option("--allow-test-keys", is_flag=True,
              help="Also serve user keys of 512..2046 bits (insecure: for tests only).")
@workers_option
@dask_option
@_network_errors
def cloud_serve(store_dir, host, port, tls_cert, tls_key, insecure_plaintext, rate_limit,
                allow_test_keys, workers, dask):
    """Serve owners and users until SIGTERM or Ctrl-C; prints the TLS certificate's
    fingerprint, which clients pin (--cloud-fingerprint) or record on first use."""
    from veil.service.cloud_main import serve_cloud
    serve_cloud(store_dir, host, port, tls_cert, tls_key, rate_limit, workers, _say,
                insecure_plaintext, allow_test_keys, dask)


@cloud.command("fingerprint")
@click.option("--store", "store_dir", type=click.Path(file_okay=False),
              help="The store whose own certificate `cloud serve` made.")
@click.option("--tls-cert", type=click.Path(dir_okay=False, exists=True),
              help="Or a certificate file (the one given to `cloud serve --tls-cert`).")
@_network_errors
def cloud_fingerprint(store_dir, tls_cert):
    """Print the SHA-256 fingerprint of the cloud's TLS certificate (64 hex digits) for
    clients' --cloud-fingerprint."""
    from veil.service.cloud_main import fingerprint_of
    click.echo(fingerprint_of(store_dir, tls_cert))


@cloud.command("allow-owner")
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False),
              help="Folder of the store (works while the cloud runs).")
@click.argument("owner_pub", type=click.Path(dir_okay=False, exists=True))
@click.option("--label", help="A name for the owner in listings (default: the file's stem).")
@_network_errors
def cloud_allow_owner(store_dir, owner_pub, label):
    """Accept publishes signed by the owner key OWNER_PUB (an owner's OWNER.pub)."""
    from pathlib import Path
    from veil.service.owner_keys import load_public
    from veil.service.store_owners import allow_owner
    rec, new = allow_owner(store_dir, load_public(owner_pub).raw, label or Path(owner_pub).stem)
    click.echo(f"{'allowed' if new else 'already allowed:'} owner {rec.label!r}, key "
               f"{rec.owner_id}", err=True)


@cloud.command("disallow-owner")
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False),
              help="Folder of the store (works while the cloud runs).")
@click.argument("owner")
@_network_errors
def cloud_disallow_owner(store_dir, owner):
    """Revoke the owner OWNER (its OWNER.pub, or its fingerprint from `veil cloud owners`): it
    can no longer publish and its models are no longer served; the names it holds stay its
    own, and allow-owner restores everything."""
    from veil.service.owner_keys import owner_id_of
    from veil.service.store_owners import disallow_owner
    owner_id = owner_id_of(owner)
    rec = disallow_owner(store_dir, owner_id)
    if rec is None:
        from veil.service.store_schema import StoreError
        raise StoreError(f"owner key {owner_id} is not allowed on the store at {store_dir}")
    click.echo(f"disallowed owner {rec.label!r}, key {rec.owner_id}: its {rec.models} model "
               "name(s) are no longer served and stay reserved to it", err=True)


@cloud.command("owners")
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False))
@_network_errors
def cloud_owners(store_dir):
    """List the owner keys: fingerprint, label, model names held, date allowed (or revoked)."""
    import time
    from veil.service.store_owners import list_owners
    for o in list_owners(store_dir):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(o.allowed_at))
        state = f"allowed {when}"
        if o.revoked_at is not None:
            state += time.strftime("  revoked %Y-%m-%d %H:%M", time.localtime(o.revoked_at))
        click.echo(f"{o.owner_id}  {o.label}  {o.models} model name(s)  {state}")


@cloud.command("tls-cert")
@click.option("--cert", required=True, type=click.Path(dir_okay=False))
@click.option("--key", required=True, type=click.Path(dir_okay=False))
@click.option("--hostname", default="localhost", show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True)
@_network_errors
def cloud_tls_cert(cert, key, hostname, days):
    """Make a self-signed certificate and key (0600) for `cloud serve --tls-cert/--tls-key`."""
    from veil.service.tls import certificate_fingerprint, make_self_signed
    make_self_signed(cert, key, hostname, days)
    click.echo(f"wrote {cert} and {key}; give clients {cert} (--tls-ca) or its fingerprint "
               f"{certificate_fingerprint(cert)} (--cloud-fingerprint)", err=True)
