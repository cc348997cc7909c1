"""A man in the middle, attacked end to end through the command line: another server with its
own certificate answers where the clients expect their cloud. Whatever tells the client which
cloud to trust (a known_clouds entry recorded earlier, a pinned fingerprint, a CA file), the
client must refuse in one line and the impostor must receive nothing after the handshake: no
REQUEST frame, no public key, no proof of identity."""
from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from veil.cli import main

from .impostor_testkit import Impostor, der_fingerprint
from veil.service.tls import make_self_signed


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A user key, an image, a config folder of our own, the real cloud's certificate (never
    served: the impostor stands in its place) and the impostor."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(main, ["user", "keygen", "-o", str(tmp_path / "u.key"),
                                        "--key-bits", "512"])
    assert res.exit_code == 0, res.stderr
    res = CliRunner().invoke(main, ["owner", "keygen", "-o", str(tmp_path / "o.key")])
    assert res.exit_code == 0, res.stderr
    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(tmp_path / "img.png")
    make_self_signed(tmp_path / "real.pem", tmp_path / "real.key")
    impostor = Impostor(tmp_path)
    yield tmp_path, impostor
    impostor.close()


def run(*args) -> tuple[int, list[str]]:
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output + res.stderr
    return res.exit_code, [ln for ln in res.stderr.splitlines() if not ln.startswith("warning:")]


def what_the_impostor_got(impostor: Impostor, connections: int = 1) -> list[bytes]:
    deadline = time.monotonic() + 10
    while len(impostor.received) < connections and time.monotonic() < deadline:
        time.sleep(0.05)
    return impostor.received


def denoise(tmp, impostor, *trust):
    return run("user", "denoise", tmp / "img.png", "-o", tmp / "out.png", "--key",
               tmp / "u.key", "--model", "m", "--quiet", "--cloud", impostor.address, *trust)


def publish(tmp, impostor, *trust):
    return run("owner", "publish", "tiny", "--user-key", tmp / "u.pub", "--owner-key",
               tmp / "o.key", "--name", "m", "--quiet", "--cloud", impostor.address, *trust)


def test_known_cloud_entry_stops_an_impostor_before_the_user_sends_anything(world):
    """The user has used this address before (known_clouds holds the real cloud's
    fingerprint for it); now another server answers there."""
    tmp, impostor = world
    known = tmp / "config" / "veil" / "known_clouds"
    known.parent.mkdir(parents=True)
    known.write_text(f"{impostor.address} {der_fingerprint(tmp / 'real.pem')}\n")
    code, lines = denoise(tmp, impostor)
    assert what_the_impostor_got(impostor) == [b""]
    assert impostor.handshakes == 1
    assert code == 1 and len(lines) == 1, lines
    assert str(known) in lines[0] and "line 1" in lines[0], lines[0]
    assert impostor.fingerprint in lines[0]
    assert not (tmp / "out.png").exists()
    assert known.read_text() == f"{impostor.address} {der_fingerprint(tmp / 'real.pem')}\n"


def test_pinned_fingerprint_stops_an_impostor_before_the_owner_sends_anything(world):
    tmp, impostor = world
    real = der_fingerprint(tmp / "real.pem")
    pinned = ":".join(real[i:i + 2].upper() for i in range(0, 64, 2))    # as a user types it
    code, lines = publish(tmp, impostor, "--cloud-fingerprint", pinned)
    assert what_the_impostor_got(impostor) == [b""]
    assert impostor.handshakes == 1
    assert code == 1 and len(lines) == 1, lines
    assert "--cloud-fingerprint" in lines[0] and real in lines[0], lines[0]
    assert not (tmp / "config").exists()               # a pin neither reads nor writes known_clouds


def test_pinned_fingerprint_stops_an_impostor_for_the_user_too(world):
    tmp, impostor = world
    code, lines = denoise(tmp, impostor, "--cloud-fingerprint", der_fingerprint(tmp / "real.pem"))
    assert what_the_impostor_got(impostor) == [b""]
    assert code == 1 and len(lines) == 1 and "--cloud-fingerprint" in lines[0], lines


def test_ca_file_stops_an_impostor_in_the_handshake(world):
    tmp, impostor = world
    code, lines = denoise(tmp, impostor, "--tls-ca", tmp / "real.pem")
    assert what_the_impostor_got(impostor) == [b""]
    assert impostor.handshakes == 0                    # the client aborted the handshake
    assert code == 1 and len(lines) == 1 and "TLS handshake" in lines[0], lines


def test_first_use_trusts_and_records_whoever_answers(world):
    """The limit of trust on first use, stated as a test: with no entry, the first server to
    answer is recorded (and told nothing but the handshake here, since it speaks no Veil)."""
    tmp, impostor = world
    code, lines = denoise(tmp, impostor)
    known = tmp / "config" / "veil" / "known_clouds"
    assert known.read_text() == f"{impostor.address} {impostor.fingerprint}\n"
    assert code == 1
