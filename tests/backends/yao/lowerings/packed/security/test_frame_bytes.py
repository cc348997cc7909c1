"""The bytes of every frame each party receives, searched for the secrets it must not learn
(as big-endian integers): a value sent in the clear by mistake shows up here."""
import pytest

from veil.backends.yao.framing.kinds import Kind

from .packed_security_kit import correction_values, received_V, shifted_bias, user_secrets

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def cloud_secrets(run) -> set[int]:
    """What the cloud must not learn: the model, the patches and every value derived from
    them, V, and the user's masks r_c (which would unmask x + r_c)."""
    vals = set(int(v) for v in run["x"].ravel())
    for layer in run["layers"]:
        vals |= set(int(v) for v in layer.weights.ravel()) | set(int(v) for v in layer.bias)
        vals |= set(shifted_bias(layer))
    for a in run["accs"] + run["acts"] + run["outs"]:
        vals |= set(int(v) for v in a.ravel())
    vals |= {v for V in received_V(run) for row in V for v in row}
    for b, per_layer in zip(run["batches"], correction_values(run)):
        vals |= {v for r_c in b["r_c"] for row in r_c for v in row}
        vals |= {v for cs, _ in per_layer for row in cs for v in row}
        vals |= {v for ys in b["y_masked"] for v in ys}       # y' = t + s would give t
    return vals


def byte_hits(blobs: list[bytes], values, short_widths=True) -> dict[int, list[int]]:
    """{width: [values]} for every secret found as a big-endian integer: at 4 and 8 bytes
    (two's complement) when it fits, and at its own byte length when longer. Values below
    2^15 occur by chance in random bytes and are skipped."""
    data = b"\x00".join(blobs)
    hits: dict[int, list[int]] = {}
    for v in values:
        if abs(v) < 1 << 15:
            continue
        bits = abs(v).bit_length()
        widths = {w for w in ((bits + 7) // 8, (bits + 8) // 8) if w > 4}
        widths |= {w for w in (4, 8) if (short_widths or w > 4) and abs(v) < 1 << (8 * w - 1)}
        for w in widths:
            if data.find(int(v % (1 << (8 * w))).to_bytes(w, "big")) >= 0:
                hits.setdefault(w, []).append(v)
    return hits


def assert_no_leak(hits: dict[int, list[int]]) -> None:
    """No hit at 5 bytes or more (chance ~1e-11 here); at 4 bytes the ~50 secrets that fit
    meet a chance 4-byte match once in ~300 runs over the user's ~270 kB, so one stray hit is
    allowed: a leaking frame would carry a whole vector of them."""
    assert len(hits.pop(4, [])) <= 1, "secrets found as 4-byte integers"
    assert hits == {}


def test_no_secret_in_any_frame_the_cloud_receives(run):
    """No weight, bias, pixel, pre-activation, activation, output, V entry, r_c or W s - b
    appears as a big-endian integer anywhere in what the cloud received."""
    blobs = [p for _, _, p in run["cloud"].received]
    secrets = cloud_secrets(run)
    assert len(secrets) > 300
    assert_no_leak(byte_hits(blobs, secrets))


def test_no_secret_in_any_frame_the_user_receives(run):
    """No W, b, R, s, m, W s - b or hidden value appears as an integer in any frame the user
    receives (garbled tables, pseudo-random bulk, are searched at 8 bytes and wider only)."""
    ch = run["user"]
    tables = [p for _, k, p in ch.received if k is Kind.GARBLED_TABLES]
    rest = [p for _, k, p in ch.received if k is not Kind.GARBLED_TABLES]
    secrets = user_secrets(run)
    assert_no_leak(byte_hits(rest, secrets))
    assert byte_hits(tables, secrets, short_widths=False) == {}
