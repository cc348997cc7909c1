"""`veil cloud serve` as a function: open the store, start the executor, serve until a signal.

The command line only parses options and calls `serve_cloud`; everything a running cloud
needs (logging, the store, the rate limiter, the worker processes, TLS, the server) is set up
here and torn down in reverse order.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from veil.backends.executor import local_executor
from veil.service.cloud_service import CloudService
from veil.service.ratelimit import RateLimiter
from veil.service.server import Server, run_until_signal
from veil.service.store import Store
from veil.service.tls import server_context
from veil.util.errors import UsageError


def serve_cloud(store_dir: str, host: str, port: int, tls_cert: str | None, tls_key: str | None,
                rate_limit: int, workers: int | None, announce: Callable[[str], None],
                allow_test_keys: bool = False) -> None:
    if (tls_cert is None) != (tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    tls = server_context(tls_cert, tls_key) if tls_cert else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    with Store.open(store_dir) as store, local_executor(workers) as executor:
        if allow_test_keys:
            announce("warning: --allow-test-keys: serving user keys below 2048 bits, which are "
                     "insecure; for tests only")
        service = CloudService(store, RateLimiter(store, rate_limit or None), executor,
                               allow_test_keys)
        server = Server(service.handle, host, port, tls_context=tls)
        h, p = server.address
        announce(f"listening on {h}:{p}" + (" (TLS)" if tls else ""))
        run_until_signal(server)
