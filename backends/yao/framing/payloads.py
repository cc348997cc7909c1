"""Payload layouts: numpy arrays and big integers as bytes, checked on the way in.

Arrays: `dtype code (1 byte) | ndim (1 byte) | shape (8 bytes each, big endian) | data`.
Only the dtypes below are accepted; the receiver states the dtype and the shape it expects
(None for "any length" in a dimension) and gets a ProtocolError for anything else.
Integers: a count (8 bytes), a width in bytes (4 bytes), then fixed-width big-endian values;
the receiver states an upper bound, so a peer cannot smuggle oversized values in.
"""
from __future__ import annotations

import struct
from typing import Sequence

import numpy as np

from veil.backends.yao.framing.channel import ProtocolError

_DTYPES = {1: np.dtype(np.uint8), 2: np.dtype(">i8"), 3: np.dtype(">u8")}
_CODES = {np.dtype(np.uint8): 1, np.dtype(np.int64): 2, np.dtype(np.uint64): 3}
_U64 = struct.Struct(">Q")
_INT_HEADER = struct.Struct(">QI")


def pack_array(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr)
    code = _CODES.get(arr.dtype)
    if code is None:
        raise TypeError(f"cannot send arrays of dtype {arr.dtype}")
    head = bytes([code, arr.ndim]) + b"".join(_U64.pack(d) for d in arr.shape)
    return head + np.ascontiguousarray(arr, dtype=_DTYPES[code]).tobytes()


def unpack_array(payload: bytes, dtype, shape: Sequence[int | None]) -> np.ndarray:
    if len(payload) < 2:
        raise ProtocolError("malformed array: too short")
    code, ndim = payload[0], payload[1]
    want = np.dtype(dtype)
    if _DTYPES.get(code, None) is None or _CODES.get(want) != code:
        raise ProtocolError(f"malformed array: dtype code {code}, expected {want}")
    if ndim != len(shape):
        raise ProtocolError(f"malformed array: {ndim} dimensions, expected {len(shape)}")
    end = 2 + 8 * ndim
    if len(payload) < end:
        raise ProtocolError("malformed array: truncated shape")
    dims = tuple(_U64.unpack_from(payload, 2 + 8 * i)[0] for i in range(ndim))
    for got, exp in zip(dims, shape):
        if exp is not None and got != exp:
            raise ProtocolError(f"malformed array: shape {dims}, expected {tuple(shape)}")
    size = int(np.prod(dims, dtype=object)) * want.itemsize
    if len(payload) - end != size:
        raise ProtocolError(f"malformed array: {len(payload) - end} data bytes for shape {dims}")
    return np.frombuffer(payload, dtype=_DTYPES[code], offset=end).astype(want).reshape(dims)


def pack_ints(values: Sequence[int], width_bytes: int) -> bytes:
    out = bytearray(_INT_HEADER.pack(len(values), width_bytes))
    for v in values:
        if v < 0:
            raise ValueError("pack_ints takes non-negative integers")
        out += int(v).to_bytes(width_bytes, "big")
    return bytes(out)


def unpack_ints(payload: bytes, bound: int, count: int | None = None) -> list[int]:
    """Integers in [0, bound); `count` checked when given."""
    if len(payload) < _INT_HEADER.size:
        raise ProtocolError("malformed integers: too short")
    n, width = _INT_HEADER.unpack_from(payload)
    if count is not None and n != count:
        raise ProtocolError(f"malformed integers: {n} values, expected {count}")
    if width == 0 or width > (bound.bit_length() + 7) // 8 + 1:
        raise ProtocolError(f"malformed integers: width {width} bytes for values below 2^{bound.bit_length()}")
    if len(payload) != _INT_HEADER.size + n * width:
        raise ProtocolError(f"malformed integers: {len(payload) - _INT_HEADER.size} bytes for "
                            f"{n} values of {width} bytes")
    body = payload[_INT_HEADER.size:]
    values = [int.from_bytes(body[i * width:(i + 1) * width], "big") for i in range(n)]
    if any(v >= bound for v in values):
        raise ProtocolError("malformed integers: value out of range")
    return values
