"""The byte table's arithmetic and rows on a made-up run (bench/traffic_report.py): per
activation, per patch, per image and the transfer times follow from the counted frames."""
import pytest

from veil.bench.costs import Frames, LayerCost, ModelCost, Traffic, UnitCost
from veil.bench.report import _no_traffic
from veil.bench.traffic_report import size, traffic_rows, traffic_summary

PHASES = ("publishing", "provisioning", "session", "offline", "online")
FRAMES = (Frames("publishing", "owner", "CIPHERTEXTS", 6, 5_000),
          Frames("provisioning", "cloud", "PUBLIC_KEY", 1, 300),
          Frames("provisioning", "cloud", "CIPHERTEXTS", 6, 6_000_000),
          Frames("session", "user", "OT", 1, 268),
          Frames("session", "cloud", "OT", 1, 32_780),
          Frames("offline", "user", "INTEGERS", 1, 26),
          Frames("offline", "user", "OT", 1, 2 * 8 * 500),
          Frames("offline", "cloud", "GARBLED_TABLES", 1, 2 * 8 * 10_000),
          Frames("offline", "cloud", "CIPHERTEXTS", 1, 2_000),
          Frames("online", "user", "CIPHERTEXTS", 1, 1_000),
          Frames("online", "cloud", "LABELS", 1, 2 * 8 * 500))


def layer(index, n_in, n_out, activation):
    return LayerCost(index, n_in, n_out, activation, 1, 1, 1, (), UnitCost(0.0, 0.0), None,
                     (1, 0))


def model(traffic, patches=4_096):
    cpu = {ph: {"user": 1.0, "cloud": 2.0} for ph in PHASES}
    cpu["publishing"] = {"owner": 0.5, "cloud": 0.1}
    t = traffic and Traffic(2, traffic, cpu, {ph: 1.0 for ph in PHASES})
    return ModelCost("made-up", 2048, 40, 2, (17, 9, 8), patches,
                     (layer(1, 25, 8, True), layer(2, 8, 1, False)), {}, 1.0, 0.5, t)


def test_figures_follow_from_the_frames():
    s = traffic_summary(model(FRAMES))
    rows = {(r["phase"], r["way"], r["kind"]): r for r in s["rows"]}
    tables = rows[("offline", "down", "GARBLED_TABLES")]
    assert tables["per_patch"] == 8 * 10_000 and tables["per_activation"] == 10_000
    assert tables["per_image"] == 8 * 10_000 * 4_096
    assert rows[("offline", "down", "CIPHERTEXTS")]["per_activation"] is None
    assert rows[("offline", "up", "all")]["bytes"] == 26 + 8_000
    assert rows[("provisioning", "down", "all")]["per_image"] == 6_000_300
    assert rows[("publishing", "owner", "CIPHERTEXTS")]["per_image"] is None
    assert s["per_activation"] == {"GARBLED_TABLES": 10_000, "LABELS": 500, "OT": 500}
    img = s["image"]
    per_patch = sum(f.bytes for f in FRAMES if f.phase in ("offline", "online")) / 2
    assert img["total"] == pytest.approx(6_000_300 + 268 + 32_780 + per_patch * 4_096)
    assert img["up"] + img["down"] == img["total"]
    assert img["seconds"]["1 Gbit/s"] == pytest.approx(img["total"] * 8 / 1e9)
    assert img["seconds"]["100 Mbit/s"] == pytest.approx(img["total"] * 8 / 1e8)


def test_rows_are_printed():
    text = "\n".join(traffic_rows(model(FRAMES)))
    assert "bytes on the wire, measured" in text and "4,096 patches of a 512x512 image" in text
    (line,) = [x for x in text.splitlines() if x.startswith("offline") and "GARBLED_TABLES" in x]
    assert line.split() == ["offline", "down", "GARBLED_TABLES", "1", "160", "KB", "10.0", "KB",
                            "80.0", "KB", "328", "MB"]
    assert "publishing    owner CIPHERTEXTS" in text and "per model" in text
    assert "per activation, the garbled-circuit frames" in text and "11.0 KB in all" in text
    assert "at 1 Gbit/s" in text and "at 100 Mbit/s" in text
    assert "this run's CPU per party" in text


def test_no_traffic():
    assert traffic_rows(model(None)) == [] and traffic_summary(model(None)) is None
    assert "(--no-bytes)" in _no_traffic(model(None))


def test_sizes():
    assert [size(v) for v in (26, 5.5, 544, 11_527, 6.6e6, 2.7e10, None)] == \
        ["26 B", "5.5 B", "544 B", "11.5 KB", "6.60 MB", "27.0 GB", "-"]
