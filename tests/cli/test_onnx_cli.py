"""`veil import` and `veil export` as a user drives them: the report, one-line refusals with
exit status 1 and no file behind, and a one-line hint when the onnx package is missing."""
import os
import sys

import pytest
from click.testing import CliRunner

from veil.cli import main

from ..models import onnx_testkit as kit


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_export_then_import(tmp_path):
    res = run("export", "tiny", "-o", tmp_path / "tiny.onnx")
    assert res.exit_code == 0, res.output + res.stderr
    assert res.output.startswith(f"wrote {tmp_path / 'tiny.onnx'}: model tiny, 25 -> 8 -> 8 -> 1")
    res = run("import", tmp_path / "tiny.onnx", "-o", tmp_path / "mine.veil", "--patch", 5, 1)
    assert res.exit_code == 0, res.output + res.stderr
    lines = res.output.splitlines()
    assert lines[0].startswith("model mine: 25 -> 8 -> 8 -> 1; Tanh -> tanh_star")
    assert [line.split()[:2] for line in lines[1:5]] == [
        ["input", "fix<12,9>"], ["activation", "fix<10,8>"], ["weight", "fix<12,10>"],
        ["bias", "fix<24,18>"]]
    assert sum(line.startswith("layer ") for line in lines) == 3
    assert lines[-1] == f"wrote {tmp_path / 'mine.veil'} and {tmp_path / 'mine.npz'}"
    assert "patch 5 -> 1 stride 1" in (tmp_path / "mine.veil").read_text()


def test_refusal_is_one_line(tmp_path):
    kit.save(kit.gemm_mlp(act="Relu"), tmp_path / "model.onnx")
    res = run("import", tmp_path / "model.onnx", "-o", tmp_path / "m.veil", "--patch", 5, 3)
    assert res.exit_code == 1
    assert res.stderr == ("error: model.onnx: node 'act_1' (Relu) is not supported: Veil "
                          "imports Gemm, MatMul+Add and Tanh\n")
    assert sorted(os.listdir(tmp_path)) == ["model.onnx"]


@pytest.mark.parametrize("args", [["import", "absent.onnx", "-o", "m.veil", "--patch", "5", "3"],
                                  ["export", "absent.veil", "-o", "m.onnx"]])
def test_missing_file(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    res = run(*args)
    assert res.exit_code == 1 and res.stderr.count("\n") == 1 and "absent" in res.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args", [["import", "tiny.onnx", "-o", "m.veil", "--patch", "5", "1"],
                                  ["export", "tiny", "-o", "m.onnx"]])
def test_without_onnx_says_how_to_install_it(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.onnx").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "onnx", None)        # import onnx -> ImportError
    res = run(*args)
    assert res.exit_code == 1
    assert res.stderr == ("error: veil import/export need the onnx package: pip install "
                          "'veil[onnx]' (or: pip install 'onnx>=1.15')\n")
    assert os.listdir(tmp_path) == ["tiny.onnx"]
