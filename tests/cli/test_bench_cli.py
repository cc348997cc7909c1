"""`veil bench` on tiny with small keys: the report's structure and positive figures (no
timing thresholds)."""
import json
import re

import pytest
from click.testing import CliRunner

from veil.bench_cli import bench

pytestmark = pytest.mark.filterwarnings(
    "ignore::veil.backends.yao.paillier.keys.InsecureKeyWarning")
ARGS = ["--model", "tiny", "--key-bits", "768", "--patches", "1", "--sample", "4", "--workers", "2"]


def invoke(*extra):
    res = CliRunner().invoke(bench, ARGS + list(extra))
    assert res.exit_code == 0, res.output + res.stderr + repr(res.exception)
    return res


def test_text_report():
    res = invoke()
    out = res.stdout
    for part in ("== tiny: 3 dense layers, 272 MACs and 16 activations per patch",
                 "packed lowering, per patch", "provisioning, once per model and user",
                 "paper lowering on the same layers", "per MAC:", "per activation:",
                 "per patch:", "whole 512x512 image"):
        assert part in out
    rows = [line for line in out.splitlines() if re.match(r"\s+[123]\s+\d+x\d+\s+1/1 \|", line)]
    assert len(rows) == 3                                  # one row per layer, measured whole
    for line in rows:
        cells = line.split("|")[1:4]                       # ms/patch offline, online; us/MAC
        assert all(float(v) > 0 for c in cells for v in c.split())
    assert "tens of hours" not in out                      # only for the seed's architecture
    table = out[out.index("bytes on the wire, measured"):]
    for way, kind in (("down", "GARBLED_TABLES"), ("down", "LABELS"), ("up", "OT")):
        (row,) = [x for x in table.splitlines() if x.split()[:3] == ["offline", way, kind]]
        assert row.split()[5] != "-"                       # a figure per activation
    assert "per image in all:" in table and "at 100 Mbit/s" in table
    assert "bench took" in res.stderr


def test_json_figures_positive():
    data = json.loads(invoke("--json").stdout)
    (m,) = data["models"]
    assert m["spec"] == "tiny" and [x["n_out"] for x in m["layers"]] == [8, 8, 1]
    for layer in m["layers"]:
        assert all(s["seconds"] >= 0 and s["scale"] >= 1 for s in layer["steps"])
        phases = {s["phase"] for s in layer["steps"]}
        assert phases == {"provisioning", "offline", "online"}
        assert layer["paper_product"]["user"] > 0 and layer["paper_product"]["cloud"] > 0
    s = m["summary"]
    assert s["macs_per_patch"] == 25 * 8 + 8 * 8 + 8 and s["activations_per_patch"] == 16
    figures = [*s["per_patch"].values(), *s["us_per_mac"].values(),
               *s["ms_per_activation"].values(), *s["provisioning"].values(),
               s["paper"]["per_patch"], *s["ratios"].values(), s["image"]["cpu"]]
    assert all(v > 0 for v in figures)
    assert s["image"]["patches"] == 512 * 512                # stride 1, 1x1 output patches
    t = s["traffic"]
    assert t["image"]["patches"] == 512 * 512 and t["patches_in_run"] == 1
    assert t["image"]["total"] == pytest.approx(sum(r["per_image"] for r in t["rows"]
                                                    if r["per_image"] and r["kind"] != "all"))
    assert all(v > 0 for v in t["per_activation"].values())
    assert sum(f["bytes"] for f in m["traffic"]["frames"]) == sum(
        r["bytes"] for r in t["rows"] if r["kind"] != "all")


def test_no_bytes():
    assert "bytes on the wire: not measured (--no-bytes)" in invoke("--no-bytes").stdout
