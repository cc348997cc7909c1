"""The service garbles with the default scheme, three-halves, end to end: a real `veil cloud
serve` process garbles (packed lowering: the cloud is the garbler), the user runs in this
process and records the scheme of every tables frame it evaluates; the image equals the
plaintext backend's byte for byte."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from veil.backends.yao.gc.schemes import Scheme
from veil.backends.yao.lowerings import garbled_activation as ga
from veil.cli import main

from .cloud_testkit import make_world, publish, same_as_plaintext


@pytest.fixture
def world(tmp_path, monkeypatch):
    yield from make_world(tmp_path, monkeypatch)


@pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")
def test_the_cloud_garbles_three_halves_and_the_image_is_exact(world, monkeypatch):
    tmp, cloud = world
    publish(tmp, cloud, "alice", "tiny-a")
    seen, real = [], ga.gc_from_bytes
    monkeypatch.setattr(ga, "gc_from_bytes",
                        lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    monkeypatch.setenv("VEIL_WORKERS", "1")
    res = CliRunner().invoke(main, [str(a) for a in (
        "user", "denoise", tmp / "small.png", "-o", tmp / "out.png", "--key",
        tmp / "alice.key", "--cloud", cloud.address, "--model", "tiny-a", "--quiet")])
    assert res.exit_code == 0, res.output + res.stderr
    assert seen and {gc.scheme for gc in seen} == {Scheme.THREE_HALVES}
    assert same_as_plaintext(tmp, "small.png", "out.png")
