"""TLS for the service: a self-signed certificate for a deployment that has no CA (the one a
cloud makes in its store on first start, or `veil cloud tls-cert`), its SHA-256 fingerprint,
and the stdlib contexts of both ends (TLS 1.2 or later).

A self-signed certificate is its own trust anchor. A client either passes the certificate file
as `cafile` (then it names `hostname`, DNS name or IP address, "localhost" also getting
127.0.0.1 and ::1, because the client checks the name it connected to), or it knows the
certificate's fingerprint (veil.service.trust: pinned, or recorded on first use) and checks
that instead, right after the handshake: OpenSSL still checks in the handshake that the
server holds the certificate's private key, so a matching digest means this very server.
"""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import re
import shutil
import ssl
import tempfile
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from veil.util.atomic import atomic_write_bytes
from veil.util.errors import KeyFileError, UsageError

KEY_MODE = 0o600
CERT_MODE = 0o644
STORE_TLS_FOLDER = "tls"             # in a cloud's store: cert.pem and key.pem
STORE_CERT_DAYS = 3650               # pins and known_clouds ignore dates; a CA file does not
FINGERPRINT_HEX = 64


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


def fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate: 64 lowercase hex digits."""
    return hashlib.sha256(der).hexdigest()


def certificate_fingerprint(cert_path: str | os.PathLike) -> str:
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    except (OSError, ValueError) as e:
        raise KeyFileError(f"cannot read TLS certificate {cert_path}: "
                           f"{getattr(e, 'strerror', None) or e}") from e
    return fingerprint(cert.public_bytes(serialization.Encoding.DER))


def parse_fingerprint(text: str) -> str:
    """A fingerprint as a user types it back: 64 hex digits, either case, pairs optionally
    separated by colons (AB:CD:...). Returns the canonical 64 lowercase hex digits."""
    compact = text.strip()
    pairs = compact.split(":")
    if len(pairs) > 1 and all(len(p) == 2 for p in pairs):
        compact = "".join(pairs)
    if not re.fullmatch(r"[0-9A-Fa-f]{%d}" % FINGERPRINT_HEX, compact):
        raise UsageError(f"malformed certificate fingerprint {text[:80]!r}: expected "
                         f"{FINGERPRINT_HEX} hex digits (SHA-256), colons allowed between pairs")
    return compact.lower()


def store_pair(store_dir: str | os.PathLike) -> tuple[Path, Path]:
    folder = Path(store_dir) / STORE_TLS_FOLDER
    return folder / "cert.pem", folder / "key.pem"


def ensure_store_pair(store_dir: str | os.PathLike) -> tuple[Path, Path, bool]:
    """The store's certificate and key, made on first use: (cert, key, created). Both files
    are made in a fresh folder that then takes its final name in one rename, so an interrupted
    first start leaves either the whole pair or nothing a later start would mistake for one."""
    cert, key = store_pair(store_dir)
    folder = cert.parent
    if folder.is_dir():
        for path in (cert, key):
            if not path.is_file():
                raise KeyFileError(f"{folder} has no {path.name}: restore it, or remove "
                                   f"{folder} to make a new certificate (clients that know "
                                   "the old fingerprint will then refuse the new one)")
        return cert, key, False
    scratch = Path(tempfile.mkdtemp(prefix=f".{STORE_TLS_FOLDER}-", dir=folder.parent))
    try:
        make_self_signed(scratch / cert.name, scratch / key.name, days=STORE_CERT_DAYS)
        os.rename(scratch, folder)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return cert, key, True


def pinning_client_context() -> ssl.SSLContext:
    """A client context for a server identified by its certificate's fingerprint, which the
    caller must check after the handshake (veil.service.trust): no CA, no name check."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
