"""How a client trusts its cloud (service/trust.py, known_clouds.py, client.connect): trust on
first use records and then holds a cloud to its certificate, a pin accepts exactly one
certificate, plaintext never leaves loopback. Attacked with real servers on 127.0.0.1: an
impostor that takes over a known cloud's port must receive nothing after the handshake."""
from __future__ import annotations

import pytest

from veil.service import client as client_module
from veil.service.client import connect
from veil.service.known_clouds import canonical_address
from veil.service.tls import make_self_signed, server_context
from veil.service.trust import (KnownCloudsTrust, PinnedTrust, PlaintextTrust, UntrustedCloud,
                                client_trust)
from veil.util.errors import KeyFileError, UsageError

from .impostor_testkit import Impostor, der_fingerprint
from .net_testkit import echo, finish, host_port, running
from .test_impostor import what_the_impostor_got


@pytest.fixture
def known(tmp_path):
    return tmp_path / "config" / "veil" / "known_clouds"


@pytest.fixture
def cloud(tmp_path):
    make_self_signed(tmp_path / "cloud.pem", tmp_path / "cloud.key")
    with running(tls_context=server_context(tmp_path / "cloud.pem", tmp_path / "cloud.key"),
                 timeout=5) as server:
        yield server, der_fingerprint(tmp_path / "cloud.pem")


def test_first_use_records_then_the_entry_is_used(cloud, known):
    server, fp = cloud
    said = []
    ch = connect(host_port(server), KnownCloudsTrust(known, said.append), timeout=5)
    assert echo(ch, b"pixels") == b"pixels"
    finish(ch)
    assert known.read_text() == f"{host_port(server)} {fp}\n"
    assert len(said) == 1 and str(known) in said[0] and fp in said[0]
    assert oct(known.stat().st_mode & 0o777) == "0o600"
    ch = connect(host_port(server), KnownCloudsTrust(known, said.append), timeout=5)
    finish(ch)
    assert len(said) == 1 and known.read_text() == f"{host_port(server)} {fp}\n"


def test_a_changed_certificate_at_a_known_address_is_refused_before_anything_is_sent(
        tmp_path, known):
    """The cloud was met once; then another server holds its port."""
    real = Impostor(tmp_path, name="real")          # stands for the real cloud, first time
    port = int(real.address.rsplit(":", 1)[1])
    known.parent.mkdir(parents=True)
    known.write_text("# clouds\n\nother.example:7461 " + "ab" * 32 + "\n")
    connect(real.address, KnownCloudsTrust(known), timeout=5).close()
    real.close()
    assert known.read_text().endswith(f"{real.address} {real.fingerprint}\n")
    impostor = Impostor(tmp_path, port=port)
    try:
        with pytest.raises(UntrustedCloud) as caught:
            connect(real.address, KnownCloudsTrust(known), timeout=5)
        message = str(caught.value)
        assert f"{known} line 4" in message and f"remove line 4 of {known}" in message
        assert impostor.fingerprint in message and real.fingerprint in message
        assert "\n" not in message
        assert what_the_impostor_got(impostor) == [b""] and impostor.handshakes == 1
    finally:
        impostor.close()


def test_pinned_fingerprint_accepts_exactly_that_certificate(cloud, tmp_path):
    server, fp = cloud
    colons = ":".join(fp[i:i + 2].upper() for i in range(0, 64, 2))
    ch = connect(host_port(server), PinnedTrust(colons), timeout=5)
    assert echo(ch, b"x") == b"x"
    finish(ch)
    impostor = Impostor(tmp_path)
    try:
        with pytest.raises(UntrustedCloud, match="--cloud-fingerprint"):
            connect(impostor.address, PinnedTrust(fp), timeout=5)
        assert what_the_impostor_got(impostor) == [b""]
    finally:
        impostor.close()


@pytest.mark.parametrize("text", ["", "ab" * 31, "ab" * 33, "zz" * 32, "a:b" + "c" * 62,
                                  "ab:" * 32, "sha256:" + "ab" * 32])
def test_malformed_fingerprints_are_refused(text):
    with pytest.raises(UsageError, match="malformed certificate fingerprint"):
        PinnedTrust(text)


def test_malformed_known_clouds_line_is_refused_not_skipped(cloud, known):
    server, fp = cloud
    known.parent.mkdir(parents=True)
    known.write_text(f"{host_port(server)}\n")
    with pytest.raises(KeyFileError, match=f"{known} line 1: expected HOST:PORT FINGERPRINT"):
        connect(host_port(server), KnownCloudsTrust(known), timeout=5)
    assert known.read_text() == f"{host_port(server)}\n"


def test_addresses_have_one_spelling():
    assert canonical_address("LocalHost", 7461) == "localhost:7461"
    assert canonical_address("0:0:0:0:0:0:0:1", 7461) == "[::1]:7461"
    assert canonical_address("127.0.0.1", 1) == "127.0.0.1:1"


@pytest.mark.parametrize("address", ["192.0.2.7:7461", "[2001:db8::1]:7461", "example.org:7461",
                                     "0.0.0.0:7461"])
def test_plaintext_is_refused_off_loopback_before_any_socket(address, monkeypatch):
    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was opened")
    monkeypatch.setattr(client_module.socket, "create_connection", no_socket)
    for trust in (PlaintextTrust(), None):
        with pytest.raises(UsageError, match="only for loopback"):
            connect(address, trust)


def test_plaintext_to_localhost_that_resolves_elsewhere_is_refused(monkeypatch):
    class Elsewhere:
        def getpeername(self):
            return ("192.0.2.7", 7461)

        def settimeout(self, t):
            pass

        def close(self):
            self.closed = True
    sock = Elsewhere()
    monkeypatch.setattr(client_module.socket, "create_connection", lambda *a, **k: sock)
    with pytest.raises(UsageError, match="not a loopback address"):
        connect("localhost:7461", PlaintextTrust())
    assert sock.closed


def test_plaintext_on_loopback_works():
    with running(timeout=5) as server:
        said = []
        ch = connect(host_port(server), client_trust(insecure_plaintext=True, notify=said.append),
                     timeout=5)
        assert echo(ch, b"x") == b"x"
        finish(ch)
    assert len(said) == 1 and said[0].startswith("warning: --insecure-plaintext")


def test_trust_options_exclude_each_other(tmp_path):
    (tmp_path / "ca.pem").write_text("")
    with pytest.raises(UsageError, match="--tls-ca and --cloud-fingerprint exclude each other"):
        client_trust(str(tmp_path / "ca.pem"), "ab" * 32)
    with pytest.raises(UsageError, match="--cloud-fingerprint and --insecure-plaintext"):
        client_trust(None, "ab" * 32, True)
    assert isinstance(client_trust(), KnownCloudsTrust)


def test_known_clouds_lives_under_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert KnownCloudsTrust().path == tmp_path / "cfg" / "veil" / "known_clouds"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert KnownCloudsTrust().path == tmp_path / "home" / ".config" / "veil" / "known_clouds"

