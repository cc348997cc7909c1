"""Hypothesis strategies for hostile frames (tests/service/test_fuzz_frames.py).

`raw_streams()`: what a stranger can send on a fresh connection: random bytes, a header with
any kind and any announced length (truncated, oversized, up to 2^64 - 1), bad magic or
version, JSON messages with the right fields of the wrong types or no JSON at all, several
frames in an order no client uses. `tampers(recorded)`: how one frame of a recorded honest
session is spoiled: bytes flipped, cut short, lengthened, its kind or length changed, swapped
for another recorded frame (the right kind at the wrong step), sent twice.
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from veil.backends.yao.framing.channel import HEADER, MAGIC, VERSION
from veil.backends.yao.framing.kinds import Kind
from veil.service.frames import ServiceKind

KINDS = sorted({int(k) for k in vars(ServiceKind).values() if hasattr(k, "code")}
               | {int(k) for k in vars(Kind).values() if hasattr(k, "code")})
ANY_KIND = st.sampled_from(KINDS) | st.integers(0, 255)
JSON_KINDS = [int(ServiceKind.REQUEST), int(ServiceKind.MANIFEST), int(ServiceKind.DONE)]
LENGTHS = (0, 1, 11, 12, 255, 1 << 16, (1 << 20) + 1, 1 << 26, (1 << 26) + 1, 1 << 32,
           (1 << 63) - 1, (1 << 64) - 1)
# JSON texts that a parser may choke on: nesting deeper than Python's recursion limit,
# integers beyond int()'s 4300 digits, non-finite numbers, not UTF-8, not JSON.
NASTY_JSON = (b"[" * 100_000, b'{"op":' * 50_000, b'{"op": ' + b"9" * 5000 + b', "format": 1}',
              b'{"op": NaN, "format": Infinity}', b'{"op": 1e999, "format": 1}',
              b"\xff\xfe{}", b"\xef\xbb\xbf{}", b'{"op": "denoise", "op": 7, "format": 1}',
              b'{"format": 1, "op": "\\ud800"}', b"null", b"[]", b"", b'"denoise"', b"1" * 5000)
FIELDS = {"op": ("publish", "denoise"), "name": ("tiny-a", "x" * 65, "../x", ""),
          "spec": ("model m { }", ""), "modulus_bits": (768, 0, -1, 1 << 64, 10**400),
          "digest": ("0" * 64, ""), "version": (1, -1), "user_id": ("0" * 64,),
          "format": (1, 2, "1", None)}


def frame(kind: int, payload: bytes, length: int | None = None, magic: bytes = MAGIC,
          version: int = VERSION) -> bytes:
    return HEADER.pack(magic, version, kind, len(payload) if length is None else length) + payload


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


@st.composite
def json_payloads(draw) -> bytes:
    """A JSON object with the service's field names, each a fitting, odd or random value."""
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=len(FIELDS)))
    obj = {n: draw(st.sampled_from(FIELDS[n]) | json_values) for n in names}
    obj.setdefault("format", draw(st.sampled_from((1, 1, 1, 2))))
    return json.dumps(obj).encode()


@st.composite
def one_frame(draw) -> bytes:
    how = draw(st.sampled_from(("json", "nasty", "random", "length", "header")))
    kind = draw(ANY_KIND)
    if how in ("json", "nasty"):
        kind = draw(st.sampled_from(JSON_KINDS) | ANY_KIND)
        return frame(kind, draw(json_payloads() if how == "json" else st.sampled_from(NASTY_JSON)))
    payload = draw(st.binary(max_size=300))
    if how == "random":
        return frame(kind, payload)
    if how == "length":                 # announced length differs from what follows
        return frame(kind, payload, draw(st.sampled_from(LENGTHS) | st.integers(0, (1 << 64) - 1)))
    return frame(kind, payload, magic=draw(st.binary(min_size=2, max_size=2)),
                 version=draw(st.integers(0, 255)))


@st.composite
def raw_streams(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=64))
    frames = draw(st.lists(one_frame(), min_size=1, max_size=4))
    if draw(st.booleans()):                                     # as a client would start
        op = draw(st.sampled_from(("denoise", "publish", "other")))
        frames.insert(0, frame(ServiceKind.REQUEST, json.dumps({"op": op, "format": 1}).encode()))
    return b"".join(frames)


@st.composite
def tampers(draw, recorded: list[tuple]):
    """(a description, tamper(kind, payload) -> the bytes sent instead)."""
    how = draw(st.sampled_from(("flip", "cut", "extend", "kind", "length", "swap", "twice",
                                "empty", "json", "nasty")))
    pick = draw(st.integers(0, len(recorded) - 1))
    other_kind, other = recorded[pick]
    new_kind = draw(ANY_KIND)
    declared = draw(st.sampled_from(LENGTHS))
    extra = draw(st.binary(min_size=1, max_size=64))
    json_payload = draw(json_payloads() if how == "json" else st.sampled_from(NASTY_JSON))
    flips = draw(st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(1, 255)), min_size=1,
                          max_size=4))

    def tamper(kind, payload: bytes) -> bytes:
        if how == "flip" and payload:
            body = bytearray(payload)
            for at, mask in flips:
                body[at % len(body)] ^= mask
            return frame(kind, bytes(body))
        if how == "cut":                # the header announces more than follows
            return frame(kind, payload[:len(payload) // 2], length=len(payload))
        if how == "extend":
            return frame(kind, payload + extra)
        if how == "kind":
            return frame(new_kind, payload)
        if how == "length":
            return frame(kind, payload, length=declared)
        if how == "swap":
            return frame(other_kind, other)
        if how == "twice":
            return frame(kind, payload) * 2
        if how in ("json", "nasty"):
            return frame(kind, json_payload)
        return frame(kind, b"")

    return f"{how} (kind {new_kind}, length {declared}, frame {pick})", tamper
