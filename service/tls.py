"""TLS for the service: a self-signed certificate for a deployment that has no CA, and the
stdlib contexts of both ends (TLS 1.2 or later; the client always verifies the server unless
told `insecure`).

A self-signed certificate is its own trust anchor: the client passes the certificate file as
`cafile`. It names `hostname` (DNS name or IP address; "localhost" also gets 127.0.0.1 and
::1) because the client checks the name it connected to against it.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from veil.util.atomic import atomic_write_bytes
from veil.util.errors import KeyFileError

KEY_MODE = 0o600
CERT_MODE = 0o644


class InsecureTLSWarning(UserWarning):
    """A client context that does not verify the server: tests only."""


def _names(hostname: str) -> list[x509.GeneralName]:
    try:
        return [x509.IPAddress(ipaddress.ip_address(hostname))]
    except ValueError:
        pass
    names: list[x509.GeneralName] = [x509.DNSName(hostname)]
    if hostname == "localhost":
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
    return names


def make_self_signed(cert_path: str | os.PathLike, key_path: str | os.PathLike,
                     hostname: str = "localhost", days: int = 365) -> None:
    """A fresh EC P-256 key (written 0600, atomically) and a certificate for `hostname`
    valid for `days` days from now (written 0644)."""
    if days < 1:
        raise ValueError(f"certificate validity must be at least 1 day, got {days}")
    for path in (cert_path, key_path):          # fail before writing either file
        if not Path(path).parent.is_dir():
            raise FileNotFoundError(f"{path}: folder {Path(path).parent} does not exist")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))     # tolerate clock skew
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(_names(hostname)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    atomic_write_bytes(Path(key_path), key_pem, KEY_MODE)
    atomic_write_bytes(Path(cert_path), cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)


def server_context(cert: str | os.PathLike, key: str | os.PathLike) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:        # the stdlib's "[SSL] PEM lib" says too little
        raise KeyFileError(f"cannot load TLS certificate {cert} with key {key}: "
                           f"{getattr(e, 'strerror', None) or e}") from e
    return ctx


def client_context(cafile: str | os.PathLike | None = None,
                   insecure: bool = False) -> ssl.SSLContext:
    """Verifies the server against `cafile` (or the system's CAs when None) and checks its
    name; `insecure` turns both checks off (tests only, with a warning)."""
    try:
        ctx = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as e:
        raise KeyFileError(f"cannot load CA certificates from {cafile}: "
                           f"{getattr(e, 'strerror', None) or e}") from e
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if insecure:
        warnings.warn("TLS client does not verify the server: anyone on the path can read "
                      "and change the traffic; only for tests", InsecureTLSWarning, stacklevel=2)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
