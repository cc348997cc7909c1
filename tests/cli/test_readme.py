"""Every `veil` command in the README's untagged code blocks, run as written (in a scratch folder; the long training
run with fewer steps, the secure commands with 768-bit test keys instead of 2048), and the
README's two set-up lines checked for their shape."""
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from veil.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _blocks() -> list[str]:
    """Untagged code blocks. Blocks tagged `sh` are the networked walk-through (a server in
    the background), run by tests/service/test_walkthrough.py instead."""
    return [body for tag, body in re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)
            if not tag]


def readme_commands() -> list[str]:
    cmds = []
    for block in _blocks():
        for line in block.splitlines():
            for part in line.split("#")[0].split("&&"):
                part = part.strip()
                if part.startswith("veil "):
                    cmds.append(part)
    return cmds


def test_setup_commands():
    setup = [b.strip() for b in _blocks()[:2]]
    assert setup[0].startswith("python3 -m venv .venv") and "pip install -e ." in setup[0]
    test_command = "pip install -e '.[test]' && pytest -q -n auto"
    assert setup[1].rstrip().endswith(test_command)
    assert (ROOT / ".ci" / "run").read_text().count(test_command + "\n") == 1


def _args(command: str) -> list[str]:
    """The command's arguments, with the test's shortcuts (fewer steps, 768-bit keys)."""
    args = shlex.split(command)[1:]
    if args[0] == "train":
        args[args.index("--steps") + 1] = "40"
    if "yao" in command and "--key-bits" not in args:
        args += ["--key-bits", "768"]
    return args


# Files the README's commands wrote (-o FILE), kept for a later command that reads them (the
# psnr lines read what a denoise line wrote: a secure one takes ~40 s to make again).
_WRITTEN: dict[str, bytes] = {}


def _keep_outputs(args: list[str]) -> None:
    if "-o" in args and Path(args[args.index("-o") + 1]).is_file():
        name = args[args.index("-o") + 1]
        _WRITTEN[name] = Path(name).read_bytes()


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").symlink_to(ROOT / "models")
    args = _args(command)
    if args[0] == "psnr" and args[2] in _WRITTEN:
        Path(args[2]).write_bytes(_WRITTEN[args[2]])      # as the line before it wrote it
    if args[0] == "psnr" and not Path(args[2]).exists():
        # The denoise line before it makes this file; run it first in this scratch folder.
        for prior in readme_commands():
            if prior.startswith("veil noise") or (prior.startswith("veil denoise") and args[2] in prior):
                assert CliRunner().invoke(main, _args(prior)).exit_code == 0
    if args[0] == "denoise" and not Path(args[1]).exists():
        noise = next(c for c in readme_commands() if c.startswith("veil noise"))
        assert CliRunner().invoke(main, shlex.split(noise)[1:]).exit_code == 0
    if args[0] == "import" and not Path(args[1]).exists():
        export = next(c for c in readme_commands() if c.startswith("veil export") and args[1] in c)
        assert CliRunner().invoke(main, shlex.split(export)[1:]).exit_code == 0
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, f"{command}\n{res.output}{res.stderr}"
    _keep_outputs(args)
