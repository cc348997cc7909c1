"""How commands fail: a VeilError (bad input, a refusal, a misbehaving peer) or an OS error on
a path the user gave is one line and exit status 1; anything else is a bug: one line saying
so, exit status 70, and the traceback in a file whose path the line names."""
import re
import socket
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from veil.cli import main
from veil.cli_errors import EXIT_ERROR, EXIT_INTERNAL
from veil.service.owner_keys import keygen

INTERNAL = re.compile(r"^internal error \(a bug in Veil\): (\w+): (.*); traceback in (\S+)$")


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    """Crash reports go under $XDG_CACHE_HOME/veil: here, never the real home."""
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def fail(*args) -> tuple[int, str]:
    """(exit status, the one line on stderr) of a command that must fail in one line (besides
    warnings, e.g. about a test-sized key)."""
    res = CliRunner().invoke(main, [str(a) for a in args])
    lines = [ln for ln in res.stderr.strip().splitlines() if not ln.startswith("warning: ")]
    assert res.exit_code != 0, res.output
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.output + res.stderr
    return res.exit_code, lines[0]


def expect_internal(line: str, cache_home: Path, exc_name: str, message: str) -> str:
    m = INTERNAL.match(line)
    assert m, line
    assert m.group(1) == exc_name and message in m.group(2)
    report = Path(m.group(3))
    assert report.parent == cache_home / "veil" and report.is_file()
    text = report.read_text()
    assert "Traceback (most recent call last)" in text and message in text
    return text


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "img.png"
    Image.fromarray(np.full((12, 12), 100, np.uint8)).save(path)
    return path


# -- (a) a VeilError is one line, exit 1 -------------------------------------------------------
def test_usage_error_is_one_line_exit_1():
    code, line = fail("compile", "tiny", "--layer", 9)
    assert code == EXIT_ERROR
    assert line.startswith("error: no layer 9")


def test_key_file_error_is_one_line_exit_1(tmp_path):
    junk = tmp_path / "junk.pub"
    junk.write_text("-----BEGIN PUBLIC KEY-----\n" * 3)
    owner_key = keygen(tmp_path / "owner.key")[0]
    code, line = fail("owner", "publish", "tiny", "--user-key", junk, "--owner-key", owner_key,
                      "--name", "m", "--cloud", "127.0.0.1:1")
    assert code == EXIT_ERROR
    assert line.startswith(f"error: {junk}: cannot load Paillier public key") and "bad magic" in line


def test_refused_connection_and_bad_address_are_one_line_exit_1(tmp_path, png):
    """A refused connection is an OSError, not a bug; a malformed --cloud a UsageError."""
    with socket.socket() as s:                     # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = tmp_path / "u.key"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(main, ["user", "keygen", "-o", str(key), "--key-bits", "512"])
    assert res.exit_code == 0, res.stderr
    denoise = ("user", "denoise", png, "-o", tmp_path / "out.png", "--key", key, "--model", "m",
               "--quiet", "--cloud")
    code, line = fail(*denoise, f"127.0.0.1:{port}")
    assert code == EXIT_ERROR
    assert line.startswith(f"error: cannot connect to 127.0.0.1:{port}")
    code, line = fail(*denoise, "nowhere")
    assert code == EXIT_ERROR
    assert line.startswith("error: malformed address 'nowhere'")


# -- (b) anything else is an internal error: one line, exit 70, a traceback file ---------------
def test_numpy_shape_error_is_an_internal_error(monkeypatch, cache_home):
    """The reviewer's case: a ValueError from a bug must not look like bad input."""
    def broken_emit(*args, **kwargs):
        return np.zeros(3) + np.zeros(4)           # operands could not be broadcast together
    monkeypatch.setattr("veil.compiler.emit.emit", broken_emit)
    monkeypatch.setattr("sys.argv", ["veil", "compile", "tiny"])     # the report names the command
    code, line = fail("compile", "tiny")
    assert code == EXIT_INTERNAL
    text = expect_internal(line, cache_home, "ValueError", "could not be broadcast")
    assert "broken_emit" in text and text.startswith("veil compile tiny")


def test_unexpected_exception_in_a_network_command_is_internal(monkeypatch, cache_home, tmp_path):
    def broken_keygen(path, bits):
        return 1 / 0
    monkeypatch.setattr("veil.service.user_client.keygen", broken_keygen)
    code, line = fail("user", "keygen", "-o", tmp_path / "u.key")
    assert code == EXIT_INTERNAL
    expect_internal(line, cache_home, "ZeroDivisionError", "division by zero")


def test_denoise_bug_is_internal_not_bad_input(monkeypatch, cache_home, tmp_path, png):
    """A bug deep in a command (here the patch loop) is reported as a bug."""
    def broken(*args, **kwargs):
        raise IndexError("index 7 is out of bounds for axis 0 with size 7")
    monkeypatch.setattr("veil.models.run.denoise_channels", broken)
    code, line = fail("denoise", png, "-o", tmp_path / "out.png", "--model", "tiny", "--quiet")
    assert code == EXIT_INTERNAL
    expect_internal(line, cache_home, "IndexError", "out of bounds")
    assert not (tmp_path / "out.png").exists()


def test_full_disk_is_one_line_exit_1_and_leaves_nothing(monkeypatch, cache_home, tmp_path, png):
    """A full disk is the machine's state, not a bug: one line, exit 1, no crash report, and
    no output file or temporary left behind (the write fails half-way through)."""
    import errno

    def disk_fills(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"\x89PNG half an image")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("PIL.Image.Image.save", disk_fills)
    before = set(tmp_path.iterdir())
    code, line = fail("denoise", png, "-o", tmp_path / "out.png", "--model", "tiny", "--quiet",
                      "--backend", "plaintext")
    assert code == EXIT_ERROR and "No space left on device" in line, line
    assert set(tmp_path.iterdir()) == before            # no out.png, no temporary
    assert not (cache_home / "veil").exists()


# -- (c) a bad spec still gives FILE:LINE:COL --------------------------------------------------
def test_spec_error_is_file_line_col(tmp_path):
    spec = tmp_path / "bad.veil"
    spec.write_text("model m {\n    patch 5 -> 1\n    dense 25 -> 8 relu\n}\n")
    code, line = fail("compile", spec)
    assert code == EXIT_ERROR
    assert re.match(rf"^{re.escape(str(spec))}:\d+:\d+: \S", line), line


# -- (d) a missing spec, image or folder is one line, exit 1 -----------------------------------
@pytest.mark.parametrize("args,message", [
    (("compile", "no-such-model"), "error: no spec file 'no-such-model'"),
    (("denoise", "{tmp}/missing.png", "-o", "{tmp}/x.png", "--model", "tiny"),
     "no such image file"),
    (("compile", "tiny", "-o", "{tmp}/nodir/stats.txt"), "does not exist"),
])
def test_missing_files_are_one_line_exit_1(tmp_path, cache_home, args, message):
    code, line = fail(*[str(a).format(tmp=tmp_path) for a in args])
    assert code == EXIT_ERROR and message in line
    assert not (cache_home / "veil").exists()      # no crash report for bad input


# -- the classes ------------------------------------------------------------------------------
def test_every_error_class_is_a_veil_error_of_its_kind():
    from veil.backends.yao.framing.channel import PeerClosed, ProtocolError as ChannelProtocolError
    from veil.backends.yao.paillier.noise import PoolExhausted
    from veil.circuits.circuit import CircuitError as IrCircuitError
    from veil.cli_errors import UserError
    from veil.compiler.activation_table import ActivationRangeError
    from veil.compiler.emit import EmitError
    from veil.compiler.errors import SpecError as PositionedSpecError
    from veil.models.images import ImageError as ReadImageError
    from veil.service.auth import AuthError
    from veil.service.error_frames import RemoteError, ServiceError as FrameServiceError
    from veil.service.ratelimit import RateLimited
    from veil.service.store import StoreConflict, StoreCorrupt, StoreError
    from veil.util import errors as E

    kinds = {
        ChannelProtocolError: E.ProtocolError, PeerClosed: E.ProtocolError,
        RemoteError: E.ProtocolError, AuthError: E.ProtocolError,
        IrCircuitError: E.CircuitError, EmitError: E.UsageError, UserError: E.UsageError,
        ActivationRangeError: E.SpecError, PositionedSpecError: E.SpecError,
        ReadImageError: E.ImageError, FrameServiceError: E.ServiceError,
        StoreError: E.ServiceError, StoreConflict: E.ServiceError, StoreCorrupt: E.ServiceError,
        RateLimited: E.ServiceError,
    }
    for cls, kind in kinds.items():
        assert issubclass(cls, kind) and issubclass(cls, E.VeilError), cls
        assert not issubclass(cls, ValueError), cls        # never caught as "bad input" by type
    assert not issubclass(PoolExhausted, E.VeilError)      # a strict pool running dry is a bug
