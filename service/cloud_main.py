"""`veil cloud serve` as a function: open the store, start the executor, serve until a signal.

The command line only parses options and calls `serve_cloud`; everything a running cloud
needs (logging, the store, the rate limiter, the worker processes, TLS, the server) is set up
here and torn down in reverse order.

TLS is always on: with the operator's `--tls-cert/--tls-key`, or else with the store's own
self-signed pair (made on first start, kept with the store so a restart keeps its
fingerprint). The fingerprint is announced at every start, since clients pin it or compare it
with what they recorded on first use. Plaintext needs `insecure_plaintext` and a loopback
address, and says what it gives up.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from veil.backends.dask_executor import make_executor
from veil.service.cloud_service import CloudService
from veil.service.ratelimit import RateLimiter
from veil.service.server import Server, run_until_signal
from veil.service.store import Store
from veil.service.tls import (certificate_fingerprint, ensure_store_pair, server_context,
                              store_pair)
from veil.service.trust import is_loopback
from veil.util.errors import KeyFileError, UsageError

SERVER_PLAINTEXT_WARNING = ("warning: --insecure-plaintext: no TLS, so clients cannot tell this "
                            "cloud from an impostor and anything on this machine can read and "
                            "change the traffic; loopback only, for tests")


def _check_options(host: str, tls_cert: str | None, tls_key: str | None,
                   insecure_plaintext: bool) -> None:
    if (tls_cert is None) != (tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if insecure_plaintext and tls_cert:
        raise UsageError("--insecure-plaintext and --tls-cert exclude each other")
    if insecure_plaintext and not is_loopback(host):
        raise UsageError(f"refusing to serve on {host} without TLS: --insecure-plaintext is "
                         "only for loopback addresses (127.0.0.1, ::1, localhost)")


def serve_cloud(store_dir: str, host: str, port: int, tls_cert: str | None, tls_key: str | None,
                rate_limit: int, workers: int | None, announce: Callable[[str], None],
                insecure_plaintext: bool = False, allow_test_keys: bool = False,
                dask: str | None = None) -> None:
    _check_options(host, tls_cert, tls_key, insecure_plaintext)
    tls = server_context(tls_cert, tls_key) if tls_cert else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    with Store.open(store_dir) as store, make_executor(workers, dask) as executor:
        if insecure_plaintext:
            announce(SERVER_PLAINTEXT_WARNING)
        else:
            if tls is None:
                tls_cert, tls_key, created = ensure_store_pair(store.directory)
                if created:
                    announce(f"made a self-signed TLS certificate {tls_cert} (key {tls_key})")
                tls = server_context(tls_cert, tls_key)
            announce(f"TLS certificate SHA-256 fingerprint: {certificate_fingerprint(tls_cert)}")
        if allow_test_keys:
            announce("warning: --allow-test-keys: serving user keys below 2048 bits, which are "
                     "insecure; for tests only")
        announce(f"heavy work on {executor.describe()}")
        service = CloudService(store, RateLimiter(store, rate_limit or None), executor,
                               allow_test_keys)
        server = Server(service.handle, host, port, tls_context=tls)
        h, p = server.address
        announce(f"listening on {h}:{p}" + (" (TLS)" if tls else " (plaintext)"))
        run_until_signal(server)


def fingerprint_of(store_dir: str | None, tls_cert: str | None) -> str:
    """`veil cloud fingerprint`: of the store's own certificate or of a certificate file."""
    if (store_dir is None) == (tls_cert is None):
        raise UsageError("give either --store (the store's own certificate) or --tls-cert")
    if tls_cert is not None:
        return certificate_fingerprint(tls_cert)
    cert, _ = store_pair(store_dir)
    if not cert.is_file():
        raise KeyFileError(f"no TLS certificate in store {store_dir} ({cert} is missing): "
                           f"`veil cloud serve --store {store_dir}` makes one on first start")
    return certificate_fingerprint(cert)
