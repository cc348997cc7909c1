"""TLS: a self-signed pair, a verified round trip, clean failures for every mismatch, and the
cloud's own certificate in its store with its fingerprint."""
import hashlib
import logging
import os
import ssl
import stat

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from .net_testkit import echo, finish, host_port, raw, running

from veil.cli import main
from veil.service.client import RemoteError, connect
from veil.service.cloud_main import fingerprint_of
from veil.service.tls import (InsecureTLSWarning, certificate_fingerprint, client_context,
                              ensure_store_pair, make_self_signed, parse_fingerprint,
                              server_context, store_pair)
from veil.service.frames import ServiceKind
from veil.util.errors import KeyFileError


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    make_self_signed(cert, key)
    return cert, key


@pytest.fixture(scope="module")
def tls_server(pair):
    with running(tls_context=server_context(*pair), timeout=2) as server:
        yield server


def test_self_signed_pair_files(pair):
    cert, key = pair
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(a) for a in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert not [p for p in cert.parent.iterdir() if p.name.startswith(".")]   # no temp files


def test_round_trip_verified_against_the_self_signed_cert(tls_server, pair):
    ctx = client_context(cafile=pair[0])
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT          # what Python 3.13 defaults to
    ch = connect(host_port(tls_server), trust=ctx, timeout=5)
    assert ch.sock.version() in ("TLSv1.2", "TLSv1.3")
    assert echo(ch, b"secret pixels") == b"secret pixels"
    finish(ch)


def test_client_refuses_an_unknown_certificate(tls_server, tmp_path):
    make_self_signed(tmp_path / "other.pem", tmp_path / "other.key")
    with pytest.raises(ConnectionError, match="TLS handshake .* failed: .*self.signed"):
        connect(host_port(tls_server), trust=client_context(tmp_path / "other.pem"),
                timeout=5)


def test_client_refuses_a_certificate_for_another_name(tmp_path):
    make_self_signed(tmp_path / "c.pem", tmp_path / "k.pem", hostname="veil.example.org")
    with running(tls_context=server_context(tmp_path / "c.pem", tmp_path / "k.pem")) as server:
        with pytest.raises(ConnectionError, match="(?i)mismatch"):
            connect(host_port(server), trust=client_context(tmp_path / "c.pem"),
                    timeout=5)


def test_plain_client_against_tls_server_is_told_why(tls_server):
    ch = connect(host_port(tls_server), timeout=5)
    ch.send(ServiceKind.HELLO, b"hello")
    with pytest.raises(RemoteError, match="requires TLS"):
        ch.recv(ServiceKind.HELLO)


def test_tls_client_against_plain_server_fails_cleanly(pair):
    with running() as server:
        with pytest.raises(ConnectionError, match="TLS handshake .* failed"):
            connect(host_port(server), trust=client_context(pair[0]), timeout=5)


def test_garbage_handshake_is_dropped_and_others_are_served(tls_server, pair, caplog):
    caplog.set_level(logging.WARNING, "veil.service.server")
    bad = raw(tls_server)
    bad.sendall(b"\x16\x03\x01\x00\x05hello" + os.urandom(200))
    reply = b""
    while chunk := bad.recv(4096):          # at most a TLS alert, then the server closes
        reply += chunk
    bad.close()
    assert not reply.startswith(b"VL")
    ch = connect(host_port(tls_server), trust=client_context(pair[0]), timeout=5)
    assert echo(ch, b"ok") == b"ok"
    finish(ch)
    assert any("SSLError" in r.getMessage() for r in caplog.records)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_old_tls_versions_are_refused(tls_server, pair):
    ctx = client_context(pair[0])
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ConnectionError, match="TLS handshake"):
        connect(host_port(tls_server), trust=ctx, timeout=5)
    assert server_context(*pair).minimum_version == ssl.TLSVersion.TLSv1_2


def test_insecure_client_warns_and_skips_verification(tls_server):
    with pytest.warns(InsecureTLSWarning):
        ctx = client_context(insecure=True)
    ch = connect(host_port(tls_server), trust=ctx, timeout=5)
    assert echo(ch, b"x") == b"x"
    finish(ch)


def test_bad_key_files_are_one_line_errors(pair, tmp_path):
    cert, _ = pair
    with pytest.raises(KeyFileError, match="cannot load TLS certificate"):
        server_context(cert, tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a key\n")
    with pytest.raises(KeyFileError, match="cannot load TLS certificate"):
        server_context(cert, tmp_path / "junk.pem")
    with pytest.raises(KeyFileError, match="cannot load CA certificates"):
        client_context(tmp_path / "junk.pem")


# -- the cloud's own certificate and its fingerprint -------------------------------------------
def test_store_pair_is_made_once_and_kept(tmp_path):
    cert, key, created = ensure_store_pair(tmp_path)
    assert created and (cert, key) == store_pair(tmp_path)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cert.parent).st_mode) == 0o700
    fp = certificate_fingerprint(cert)
    assert ensure_store_pair(tmp_path) == (cert, key, False)
    assert certificate_fingerprint(cert) == fp
    assert [p.name for p in tmp_path.iterdir()] == ["tls"]          # no scratch folder left
    server_context(cert, key)


def test_store_pair_with_a_missing_half_is_refused_not_replaced(tmp_path):
    cert, key, _ = ensure_store_pair(tmp_path)
    cert.unlink()
    with pytest.raises(KeyFileError, match="has no cert.pem: restore it, or remove"):
        ensure_store_pair(tmp_path)
    assert key.exists() and not cert.exists()


def test_interrupted_store_pair_leaves_nothing(tmp_path, monkeypatch):
    def crash(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("veil.service.tls.os.rename", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_store_pair(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_fingerprint_is_the_sha256_of_the_der_certificate(pair):
    der = x509.load_pem_x509_certificate(pair[0].read_bytes()).public_bytes(Encoding.DER)
    fp = certificate_fingerprint(pair[0])
    assert fp == hashlib.sha256(der).hexdigest() and len(fp) == 64
    assert parse_fingerprint(":".join(fp[i:i + 2].upper() for i in range(0, 64, 2))) == fp
    assert parse_fingerprint(f" {fp.upper()}\n") == fp


def test_fingerprint_command(tmp_path, pair):
    assert fingerprint_of(None, str(pair[0])) == certificate_fingerprint(pair[0])
    (tmp_path / "store").mkdir()
    cert, _, _ = ensure_store_pair(tmp_path / "store")
    res = CliRunner().invoke(main, ["cloud", "fingerprint", "--store", str(tmp_path / "store")])
    assert res.exit_code == 0 and res.stdout == certificate_fingerprint(cert) + "\n"
    for args, message in ((["--store", str(tmp_path / "nowhere")], "no TLS certificate in store"),
                          ([], "give either --store"),
                          (["--store", str(tmp_path), "--tls-cert", str(pair[0])], "either")):
        res = CliRunner().invoke(main, ["cloud", "fingerprint", *args])
        assert res.exit_code == 1 and res.stderr.count("\n") == 1 and message in res.stderr
    assert not (tmp_path / "nowhere").exists()
