"""How a client knows it reached its cloud, and not whoever answers at the address.

Four ways, chosen by the client's options (`client_trust`):

- `CaTrust` (`--tls-ca PEM`): the handshake verifies the certificate chain and the name.
- `PinnedTrust` (`--cloud-fingerprint HEX`): exactly the certificate with that SHA-256, whatever
  its issuer or names.
- `KnownCloudsTrust` (the default): the fingerprint recorded for HOST:PORT in known_clouds; on
  first use the certificate is recorded and one line says so.
- `PlaintextTrust` (`--insecure-plaintext`): no TLS, no authentication; loopback only.

`client.connect` handshakes with `context()` and calls `check()` before it sends a single
application byte, so a refused server never sees a request, a key or a proof. A refusal is
`UntrustedCloud`, a ServiceError: never retried, one line at the command line.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import ssl
from collections.abc import Callable
from pathlib import Path

from veil.service import known_clouds
from veil.service.tls import client_context, fingerprint, parse_fingerprint, pinning_client_context
from veil.util.errors import ServiceError, UsageError

Notify = Callable[[str], None]

PLAINTEXT_WARNING = ("warning: --insecure-plaintext: no TLS, so the cloud is not authenticated "
                     "and anyone who can reach this machine's loopback can read and change "
                     "the traffic; loopback only, for tests")


class UntrustedCloud(ServiceError):
    """The server is not the cloud this client trusts; nothing was sent to it."""


def is_loopback(host: str) -> bool:
    """A loopback IP literal, or "localhost" (the client also checks where that resolved)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _same(der: bytes, expected_hex: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(der).digest(), bytes.fromhex(expected_hex))


class CloudTrust:
    """The TLS context to handshake with and the check of the server's certificate (DER)
    right after it. `notify` gets the one-line notes a user should see (a recorded first use,
    a retried connection)."""
    plaintext = False

    def __init__(self, notify: Notify | None = None):
        self.notify: Notify = notify or (lambda line: None)

    def context(self) -> ssl.SSLContext | None:
        raise NotImplementedError

    def check(self, address: str, der: bytes) -> None:
        """Raise UntrustedCloud unless `der` is the certificate of the cloud at `address`."""


class ContextTrust(CloudTrust):
    """Whatever an ssl.SSLContext of the caller's verifies in the handshake (library use)."""

    def __init__(self, ctx: ssl.SSLContext, notify: Notify | None = None):
        super().__init__(notify)
        self._ctx = ctx

    def context(self) -> ssl.SSLContext:
        return self._ctx


class CaTrust(ContextTrust):
    def __init__(self, cafile: str | Path, notify: Notify | None = None):
        super().__init__(client_context(cafile=cafile), notify)


class PinnedTrust(CloudTrust):
    def __init__(self, pinned: str, notify: Notify | None = None):
        super().__init__(notify)
        self.fingerprint = parse_fingerprint(pinned)

    def context(self) -> ssl.SSLContext:
        return pinning_client_context()

    def check(self, address: str, der: bytes) -> None:
        if not _same(der, self.fingerprint):
            raise UntrustedCloud(
                f"refusing {address}: its certificate's SHA-256 fingerprint is "
                f"{fingerprint(der)}, not the {self.fingerprint} given by --cloud-fingerprint "
                "(another server may be impersonating the cloud); nothing was sent")


class KnownCloudsTrust(CloudTrust):
    def __init__(self, path: str | Path | None = None, notify: Notify | None = None):
        super().__init__(notify)
        self.path = Path(path) if path is not None else known_clouds.default_path()

    def context(self) -> ssl.SSLContext:
        return pinning_client_context()

    def check(self, address: str, der: bytes) -> None:
        entry = known_clouds.lookup(self.path, address)
        if entry is None:
            entry = known_clouds.record(self.path, address, fingerprint(der))
            if _same(der, entry.fingerprint):
                self.notify(f"first use of the cloud at {address}: recorded its certificate "
                            f"fingerprint {entry.fingerprint} in {self.path} (compare it with "
                            "the one `veil cloud serve` printed)")
                return
        if not _same(der, entry.fingerprint):
            raise UntrustedCloud(
                f"refusing {address}: its certificate's SHA-256 fingerprint is "
                f"{fingerprint(der)}, but {self.path} line {entry.line} records "
                f"{entry.fingerprint} (another server may be impersonating the cloud; if the "
                f"cloud's certificate really changed, remove line {entry.line} of {self.path}); "
                "nothing was sent")


class PlaintextTrust(CloudTrust):
    """No TLS: the client refuses any address that is not loopback (client.connect)."""
    plaintext = True

    def context(self) -> None:
        return None


def client_trust(tls_ca: str | None = None, cloud_fingerprint: str | None = None,
                 insecure_plaintext: bool = False, notify: Notify | None = None) -> CloudTrust:
    """The trust a client's options ask for: at most one of them; known_clouds by default."""
    chosen = [name for name, value in (("--tls-ca", tls_ca),
                                       ("--cloud-fingerprint", cloud_fingerprint),
                                       ("--insecure-plaintext", insecure_plaintext)) if value]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} exclude each other: choose one way to "
                         "trust the cloud")
    if tls_ca:
        return CaTrust(tls_ca, notify)
    if cloud_fingerprint:
        return PinnedTrust(cloud_fingerprint, notify)
    if insecure_plaintext:
        (notify or (lambda line: None))(PLAINTEXT_WARNING)
        return PlaintextTrust(notify)
    return KnownCloudsTrust(notify=notify)
