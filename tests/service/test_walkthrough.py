"""The three-party walk-through on loopback, as a new user would run it: a real `veil cloud
serve` process, `veil owner publish`, `veil user denoise`, with faults injected (a killed
server, a killed client, garbage on the port, another user's key, an unknown model, the rate
limit). Small keys (768 bits) and the `tiny` model keep it quick; every secure output is
compared with the plaintext backend's, byte for byte."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

BITS = "768"
ENV = dict(os.environ, VEIL_WORKERS="1", PYTHONWARNINGS="ignore")


def veil(*args, check=True, timeout=180) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "veil.cli", *map(str, args)], env=ENV,
                         capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"veil {' '.join(map(str, args))} failed:\n{res.stderr}")
    return res


class Cloud:
    """`veil cloud serve` in a child process on a free port of 127.0.0.1."""

    def __init__(self, store: Path, *extra):
        self.store, self.extra = store, extra
        self.start()

    def start(self) -> None:
        log = self.store.parent / f"serve{time.monotonic_ns()}.log"   # a file: never blocks
        with open(log, "w") as f:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "veil.cli", "cloud", "serve", "--store", self.store,
                 "--port", "0", "--allow-test-keys", *self.extra], env=ENV, stderr=f)
        for _ in range(300):
            m = re.search(r"listening on (127\.0\.0\.1:\d+)", log.read_text())
            if m or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        assert m, f"server did not start: {log.read_text()}"
        self.address = m.group(1)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


@pytest.fixture
def world(tmp_path):
    veil("user", "keygen", "-o", tmp_path / "alice.key", "--key-bits", BITS)
    veil("user", "keygen", "-o", tmp_path / "bob.key", "--key-bits", BITS)
    veil("owner", "keygen", "-o", tmp_path / "owner.key")
    veil("cloud", "allow-owner", "--store", tmp_path / "store", tmp_path / "owner.pub")
    rng = np.random.default_rng(3)
    for name, size in (("small.png", 8), ("large.png", 24)):
        img = (128 + 40 * rng.standard_normal((size, size))).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(tmp_path / name)
    cloud = Cloud(tmp_path / "store")
    yield tmp_path, cloud
    if cloud.proc.poll() is None:
        cloud.kill()


def publish(tmp: Path, cloud: Cloud, user: str, name: str) -> str:
    return veil("owner", "publish", "tiny", "--user-key", tmp / f"{user}.pub", "--owner-key",
                tmp / "owner.key", "--cloud", cloud.address, "--name", name, "--quiet").stderr


def denoise(tmp: Path, cloud: Cloud, user: str, name: str, image: str, out: str, check=True):
    return veil("user", "denoise", tmp / image, "-o", tmp / out, "--key", tmp / f"{user}.key",
                "--cloud", cloud.address, "--model", name, "--quiet", check=check)


def same_as_plaintext(tmp: Path, image: str, out: str) -> bool:
    veil("denoise", tmp / image, "-o", tmp / f"ref_{out}", "--model", "tiny", "--backend",
         "plaintext", "--quiet")
    return np.array_equal(np.asarray(Image.open(tmp / out)),
                          np.asarray(Image.open(tmp / f"ref_{out}")))


def test_publish_denoise_and_restart(world):
    tmp, cloud = world
    assert "version 1" in publish(tmp, cloud, "alice", "tiny-a")
    res = denoise(tmp, cloud, "alice", "tiny-a", "small.png", "out.png")
    assert "64 patches" in res.stderr
    assert same_as_plaintext(tmp, "small.png", "out.png")
    assert not (tmp / "out.png.veil-journal").exists()
    cloud.stop()                                    # a restart loses no published model
    cloud.start()
    denoise(tmp, cloud, "alice", "tiny-a", "small.png", "again.png")
    assert (tmp / "again.png").read_bytes() == (tmp / "out.png").read_bytes()
    assert "version 2" in publish(tmp, cloud, "alice", "tiny-a")    # re-publishing replaces


def test_refusals_are_one_line_and_leave_no_output(world):
    tmp, cloud = world
    publish(tmp, cloud, "alice", "tiny-a")
    publish(tmp, cloud, "bob", "tiny-b")
    for user, model in (("bob", "tiny-a"), ("alice", "nope"), ("alice", "tiny-b")):
        res = denoise(tmp, cloud, user, model, "small.png", "x.png", check=False)
        assert res.returncode == 1
        lines = [l for l in res.stderr.splitlines() if l.startswith("error:")]
        assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
        assert "unknown user" in lines[0] or "refused" in lines[0], lines[0]
        assert not (tmp / "x.png").exists()
    res = veil("user", "denoise", tmp / "small.png", "-o", tmp / "x.png", "--key",
               tmp / "alice.pub", "--cloud", cloud.address, "--model", "tiny-a", check=False)
    assert res.returncode == 1 and "error:" in res.stderr and "Traceback" not in res.stderr


def test_garbage_on_the_port_does_not_stop_the_server(world):
    tmp, cloud = world
    publish(tmp, cloud, "alice", "tiny-a")
    host, port = cloud.address.split(":")
    for junk in (b"GET / HTTP/1.1\r\n\r\n", os.urandom(4096), b"VL\x01\x0f" + b"\xff" * 8):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
    denoise(tmp, cloud, "alice", "tiny-a", "small.png", "out.png")
    assert same_as_plaintext(tmp, "small.png", "out.png")


def _wait_for_batches(journal: Path, count: int, timeout: float = 120) -> None:
    import sqlite3
    t = time.time()
    while time.time() - t < timeout:
        if journal.exists():
            try:
                with sqlite3.connect(journal) as db:
                    if db.execute("SELECT COUNT(*) FROM batches").fetchone()[0] >= count:
                        return
            except sqlite3.Error:
                pass
        time.sleep(0.1)
    raise AssertionError("the job never got going")


@pytest.mark.parametrize("victim", ["server", "client"])
def test_interrupted_job_resumes_to_the_same_image(world, victim):
    tmp, cloud = world
    publish(tmp, cloud, "alice", "tiny-a")
    client = subprocess.Popen(
        [sys.executable, "-m", "veil.cli", "user", "denoise", tmp / "large.png", "-o",
         tmp / "out.png", "--key", tmp / "alice.key", "--cloud", cloud.address, "--model",
         "tiny-a", "--quiet"], env=ENV, stderr=subprocess.PIPE, text=True)
    journal = tmp / "out.png.veil-journal"
    _wait_for_batches(journal, 3)
    if victim == "server":
        cloud.kill()
        err = client.communicate(timeout=60)[1]
        assert client.returncode == 1 and "error:" in err and "Traceback" not in err, err
        cloud.start()
    else:
        client.kill()
        client.wait(10)
    assert not (tmp / "out.png").exists() and journal.exists()
    res = denoise(tmp, cloud, "alice", "tiny-a", "large.png", "out.png")
    assert "from an earlier interrupted run" in res.stderr
    assert same_as_plaintext(tmp, "large.png", "out.png")
    assert not journal.exists()


def test_rate_limit_refuses_with_a_clear_message(world):
    tmp, cloud = world
    cloud.kill()
    cloud = Cloud(tmp / "store", "--rate-limit", "100")
    try:
        publish(tmp, cloud, "alice", "tiny-a")
        denoise(tmp, cloud, "alice", "tiny-a", "small.png", "a.png")          # 64 patches
        res = denoise(tmp, cloud, "alice", "tiny-a", "small.png", "b.png", check=False)
        assert res.returncode == 1 and "rate limit" in res.stderr, res.stderr
        assert not (tmp / "b.png").exists()
    finally:
        cloud.kill()


def test_tls_walkthrough(world):
    tmp, cloud = world
    cloud.kill()
    veil("cloud", "tls-cert", "--cert", tmp / "cert.pem", "--key", tmp / "tls.key")
    assert (os.stat(tmp / "tls.key").st_mode & 0o777) == 0o600
    cloud = Cloud(tmp / "store", "--tls-cert", tmp / "cert.pem", "--tls-key", tmp / "tls.key")
    try:
        veil("owner", "publish", "tiny", "--user-key", tmp / "alice.pub", "--owner-key",
             tmp / "owner.key", "--cloud", cloud.address, "--name", "tiny-a", "--tls-ca",
             tmp / "cert.pem", "--quiet")
        veil("user", "denoise", tmp / "small.png", "-o", tmp / "out.png", "--key",
             tmp / "alice.key", "--cloud", cloud.address, "--model", "tiny-a", "--tls-ca",
             tmp / "cert.pem", "--quiet")
        assert same_as_plaintext(tmp, "small.png", "out.png")
        plain = denoise(tmp, cloud, "alice", "tiny-a", "small.png", "p.png", check=False)
        assert plain.returncode == 1 and "TLS" in plain.stderr
    finally:
        cloud.kill()


def test_two_users_at_once(world):
    tmp, cloud = world
    publish(tmp, cloud, "alice", "tiny-a")
    publish(tmp, cloud, "bob", "tiny-b")
    clients = [subprocess.Popen(
        [sys.executable, "-m", "veil.cli", "user", "denoise", tmp / "large.png", "-o",
         tmp / f"{user}.png", "--key", tmp / f"{user}.key", "--cloud", cloud.address,
         "--model", model, "--quiet"], env=ENV, stderr=subprocess.PIPE, text=True)
        for user, model in (("alice", "tiny-a"), ("bob", "tiny-b"))]
    for c in clients:
        assert c.wait(180) == 0, c.stderr.read()
    assert same_as_plaintext(tmp, "large.png", "alice.png")
    assert (tmp / "bob.png").read_bytes() == (tmp / "alice.png").read_bytes()
