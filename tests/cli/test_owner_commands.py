"""The owner's commands and the operator's: `veil owner keygen`, `veil cloud allow-owner`,
`veil cloud owners`, and one-line refusals for a bad --kappa or a wrong kind of key."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from veil.cli import main
from veil.cli_errors import EXIT_ERROR


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_failure(*args) -> str:
    res = run(*args)
    lines = [ln for ln in res.stderr.strip().splitlines() if not ln.startswith("warning: ")]
    assert res.exit_code == EXIT_ERROR and len(lines) == 1, res.stderr
    assert "Traceback" not in res.output
    return lines[0]


def test_keygen_allow_and_list(tmp_path):
    res = run("owner", "keygen", "-o", tmp_path / "carol.key")
    assert res.exit_code == 0, res.stderr
    fingerprint = re.search(r"owner key ([0-9a-f]{64})", res.stderr).group(1)
    store = tmp_path / "store"
    res = run("cloud", "allow-owner", "--store", store, tmp_path / "carol.pub")
    assert res.exit_code == 0 and f"allowed owner 'carol', key {fingerprint}" in res.stderr
    res = run("cloud", "allow-owner", "--store", store, tmp_path / "carol.pub", "--label", "x")
    assert "already allowed: owner 'carol'" in res.stderr
    res = run("cloud", "owners", "--store", store)
    assert res.exit_code == 0
    assert re.fullmatch(rf"{fingerprint}  carol  0 model name\(s\)  allowed \S+ \S+\n",
                        res.stdout)
    line = one_line_failure("owner", "keygen", "-o", tmp_path / "carol.key")
    assert "refusing to replace an owner key" in line


def test_refusals_are_one_line(tmp_path):
    run("owner", "keygen", "-o", tmp_path / "carol.key")
    (tmp_path / "user.pub").write_bytes(b"not a key")
    publish = ("owner", "publish", "tiny", "--user-key", tmp_path / "user.pub", "--name", "m",
               "--cloud", "127.0.0.1:1")
    line = one_line_failure(*publish, "--owner-key", tmp_path / "carol.key", "--kappa", 20)
    assert line == "error: --kappa must be in 40..128 (40 by default, 64 for long-lived " \
                   "services), got 20"
    line = one_line_failure(*publish, "--owner-key", tmp_path / "carol.pub")
    assert "carol.pub: not a veil owner private key" in line
    line = one_line_failure("cloud", "allow-owner", "--store", tmp_path / "s",
                            tmp_path / "carol.key")
    assert "carol.key: not a veil owner public key" in line
    assert "no store at" in one_line_failure("cloud", "owners", "--store", tmp_path / "none")


@pytest.mark.parametrize("missing", ["--owner-key"])
def test_publish_needs_an_owner_key(tmp_path, missing):
    res = run("owner", "publish", "tiny", "--user-key", __file__, "--name", "m")
    assert res.exit_code != 0 and missing in res.output + res.stderr
