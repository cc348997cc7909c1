"""Shared by the tests that drive the service through the command line: `veil` in a child
process, a `veil cloud serve` process on a free port of 127.0.0.1 (with the fingerprint it
printed), and the two users' world (keys, images, a config folder of the test's own so that
clients record its clouds in a known_clouds file nobody else reads)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

BITS = "768"
ROOT = Path(__file__).resolve().parents[2]
FINGERPRINT = re.compile(r"TLS certificate SHA-256 fingerprint: ([0-9a-f]{64})$", re.M)


def env() -> dict[str, str]:
    return dict(os.environ, VEIL_WORKERS="1", PYTHONWARNINGS="ignore")


def veil(*args, check=True, timeout=180) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "veil.cli", *map(str, args)], env=env(),
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
                 "--port", "0", "--allow-test-keys", *self.extra], env=env(), stderr=f)
        for _ in range(300):
            m = re.search(r"listening on (127\.0\.0\.1:\d+)", log.read_text())
            if m or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.log = log.read_text()
        assert m, f"server did not start: {self.log}"
        self.address = m.group(1)
        fp = FINGERPRINT.search(self.log)
        self.fingerprint = fp and fp.group(1)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


def make_world(tmp_path: Path, monkeypatch):
    """Yields (tmp_path, a running Cloud); use it as a fixture's body."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
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


def publish(tmp: Path, cloud: Cloud, user: str, name: str, *trust, check=True) -> str:
    return veil("owner", "publish", "tiny", "--user-key", tmp / f"{user}.pub", "--owner-key",
                tmp / "owner.key", "--cloud", cloud.address, "--name", name, "--quiet", *trust,
                check=check).stderr


def denoise(tmp: Path, cloud: Cloud, user: str, name: str, image: str, out: str, *trust,
            check=True):
    return veil("user", "denoise", tmp / image, "-o", tmp / out, "--key", tmp / f"{user}.key",
                "--cloud", cloud.address, "--model", name, "--quiet", *trust, check=check)


def same_as_plaintext(tmp: Path, image: str, out: str) -> bool:
    veil("denoise", tmp / image, "-o", tmp / f"ref_{out}", "--model", "tiny", "--backend",
         "plaintext", "--quiet")
    return np.array_equal(np.asarray(Image.open(tmp / out)),
                          np.asarray(Image.open(tmp / f"ref_{out}")))
