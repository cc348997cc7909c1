"""The transport's choices as an operator and a user meet them on the command line: an
operator's own certificate trusted with --tls-ca, and plaintext, which needs its flag on both
ends and a loopback address. Real `veil cloud serve` processes on 127.0.0.1."""
from __future__ import annotations

import os

import pytest

from .cloud_testkit import Cloud, denoise, make_world, publish, same_as_plaintext, veil


@pytest.fixture
def world(tmp_path, monkeypatch):
    yield from make_world(tmp_path, monkeypatch)


def test_operator_certificate_trusted_with_tls_ca(world):
    tmp, cloud = world
    cloud.kill()
    veil("cloud", "tls-cert", "--cert", tmp / "cert.pem", "--key", tmp / "tls.key")
    assert (os.stat(tmp / "tls.key").st_mode & 0o777) == 0o600
    veil("cloud", "allow-owner", "--store", tmp / "other-store", tmp / "owner.pub")
    cloud = Cloud(tmp / "other-store", "--tls-cert", tmp / "cert.pem", "--tls-key", tmp / "tls.key")
    try:
        assert not (tmp / "other-store" / "tls").exists()      # the operator's pair is used
        printed = veil("cloud", "fingerprint", "--tls-cert", tmp / "cert.pem").stdout
        assert printed == f"{cloud.fingerprint}\n"
        publish(tmp, cloud, "alice", "tiny-a", "--tls-ca", tmp / "cert.pem")
        denoise(tmp, cloud, "alice", "tiny-a", "small.png", "out.png", "--tls-ca", tmp / "cert.pem")
        assert same_as_plaintext(tmp, "small.png", "out.png")
        assert not (tmp / "config" / "veil" / "known_clouds").exists()  # a CA file needs none
        plain = denoise(tmp, cloud, "alice", "tiny-a", "small.png", "p.png",
                        "--insecure-plaintext", check=False)
        assert plain.returncode == 1 and "requires TLS" in plain.stderr, plain.stderr
    finally:
        cloud.kill()


def test_plaintext_only_with_the_flag_and_only_on_loopback(world):
    tmp, cloud = world
    cloud.kill()
    refused = veil("cloud", "serve", "--store", tmp / "never", "--insecure-plaintext",
                   "--host", "0.0.0.0", check=False)
    assert refused.returncode == 1 and "only for loopback" in refused.stderr, refused.stderr
    assert not (tmp / "never").exists()
    veil("cloud", "allow-owner", "--store", tmp / "plain-store", tmp / "owner.pub")
    cloud = Cloud(tmp / "plain-store", "--insecure-plaintext")
    try:
        assert "warning: --insecure-plaintext" in cloud.log and cloud.fingerprint is None
        assert not (tmp / "plain-store" / "tls").exists()
        default = publish(tmp, cloud, "alice", "tiny-a", check=False)
        assert "error: TLS handshake" in default, default     # a client wants TLS by default
        said = publish(tmp, cloud, "alice", "tiny-a", "--insecure-plaintext")
        assert "warning: --insecure-plaintext" in said
        denoise(tmp, cloud, "alice", "tiny-a", "small.png", "out.png", "--insecure-plaintext")
        assert same_as_plaintext(tmp, "small.png", "out.png")
    finally:
        cloud.kill()
