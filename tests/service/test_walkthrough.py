"""The three-party walk-through on loopback, as a new user would run it: the README's `sh`
block itself, then a real `veil cloud serve` process, `veil owner publish`, `veil user
denoise`, with faults injected (a killed server, a killed client, garbage on the port, another
user's key, an unknown model, the rate limit). Small keys (768 bits) and the `tiny` model keep
it quick; every secure output is compared with the plaintext backend's, byte for byte. Each
test has its own config folder, so clients record the test's clouds in a known_clouds file of
their own."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .cloud_testkit import (BITS, FINGERPRINT, ROOT, Cloud, denoise, env, make_world, publish,
                            same_as_plaintext, veil)



@pytest.fixture
def world(tmp_path, monkeypatch):
    yield from make_world(tmp_path, monkeypatch)


def readme_walkthrough(port: int, model: str) -> str:
    """The README's `sh` block with the test's shortcuts: 768-bit keys, a free port instead
    of the default one (other test runs may share the machine), `model` as the spec."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert len(blocks) == 1
    script = blocks[0]
    for command, shortcut in (("veil user keygen", f"--key-bits {BITS}"),
                              ("veil cloud serve", f"--port {port} --allow-test-keys"),
                              ("veil owner publish", f"--cloud 127.0.0.1:{port}"),
                              ("veil user denoise", f"--cloud 127.0.0.1:{port}"),
                              ("veil owner publish --cloud 127.0.0.1:%d compact" % port, "")):
        assert command in script, f"the README's walk-through no longer runs {command!r}"
        script = script.replace(command, f"{command} {shortcut}")
    return script.replace(f"{port} compact ", f"{port} {model} ")


def run_readme_walkthrough(tmp: Path, model: str, size: int) -> None:
    rng = np.random.default_rng(5)
    noisy = (128 + 40 * rng.standard_normal((size, size))).clip(0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp / "noisy.png")
    (tmp / "bin").mkdir()
    (tmp / "bin" / "veil").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m veil.cli "$@"\n')
    (tmp / "bin" / "veil").chmod(0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = ("set -e\ntrap 'kill $! 2>/dev/null; wait' EXIT\n"
              + readme_walkthrough(port, model))
    res = subprocess.run(["sh", "-c", script], cwd=tmp, capture_output=True, text=True,
                         timeout=600, env=dict(env(), PATH=f"{tmp / 'bin'}:{os.environ['PATH']}"))
    assert res.returncode == 0, res.stderr
    printed = FINGERPRINT.findall(res.stderr)
    assert len(printed) == 1, res.stderr
    assert res.stderr.count(f"first use of the cloud at 127.0.0.1:{port}") == 1
    known = (tmp / "config" / "veil" / "known_clouds").read_text()
    assert known == f"127.0.0.1:{port} {printed[0]}\n"
    assert veil("cloud", "fingerprint", "--store", tmp / "cloud-store").stdout == printed[0] + "\n"
    veil("denoise", tmp / "noisy.png", "-o", tmp / "ref.png", "--model", model, "--backend",
         "plaintext", "--quiet")
    assert (np.asarray(Image.open(tmp / "clean.png")) ==
            np.asarray(Image.open(tmp / "ref.png"))).all()


def test_readme_walkthrough_with_tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    run_readme_walkthrough(tmp_path, "tiny", 8)


@pytest.mark.slow
def test_readme_walkthrough_as_written(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    run_readme_walkthrough(tmp_path, "compact", 16)


def test_publish_denoise_and_restart(world):
    tmp, cloud = world
    first = publish(tmp, cloud, "alice", "tiny-a")
    assert "version 1" in first and f"first use of the cloud at {cloud.address}" in first
    known = tmp / "config" / "veil" / "known_clouds"
    assert known.read_text() == f"{cloud.address} {cloud.fingerprint}\n"
    assert "made a self-signed TLS certificate" in cloud.log
    res = denoise(tmp, cloud, "alice", "tiny-a", "small.png", "out.png")
    assert "64 patches" in res.stderr and "first use" not in res.stderr
    assert same_as_plaintext(tmp, "small.png", "out.png")
    assert not (tmp / "out.png.veil-journal").exists()
    fingerprint = cloud.fingerprint
    cloud.stop()                                    # a restart loses no published model
    cloud.start()                                   # and keeps its certificate
    assert cloud.fingerprint == fingerprint and "made a self-signed" not in cloud.log
    assert veil("cloud", "fingerprint", "--store", tmp / "store").stdout == fingerprint + "\n"
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
         "tiny-a", "--quiet"], env=env(), stderr=subprocess.PIPE, text=True)
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


def test_two_users_at_once(world):
    tmp, cloud = world
    publish(tmp, cloud, "alice", "tiny-a")
    publish(tmp, cloud, "bob", "tiny-b")
    clients = [subprocess.Popen(
        [sys.executable, "-m", "veil.cli", "user", "denoise", tmp / "large.png", "-o",
         tmp / f"{user}.png", "--key", tmp / f"{user}.key", "--cloud", cloud.address,
         "--model", model, "--quiet"], env=env(), stderr=subprocess.PIPE, text=True)
        for user, model in (("alice", "tiny-a"), ("bob", "tiny-b"))]
    for c in clients:
        assert c.wait(180) == 0, c.stderr.read()
    assert same_as_plaintext(tmp, "large.png", "alice.png")
    assert (tmp / "bob.png").read_bytes() == (tmp / "alice.png").read_bytes()
