"""Slot packing against plain Python integers, including the extremes of each slot range."""
import secrets

import pytest

from veil.backends.yao.lowerings.packed.slots import (chunks, pack, pack_blocks, unpack, unpack_blocks,
                                            unpack_signed)
from veil.util.errors import ProtocolError

S = 24
N = (1 << 300) + 157          # any odd modulus well above 2^(S * slots)


def test_pack_is_the_positional_sum():
    vals = [5, 0, (1 << S) - 1, 1]
    assert pack(vals, S) == 5 + ((1 << S) - 1) * 2 ** (2 * S) + 2 ** (3 * S)
    assert pack([], S) == 0


@pytest.mark.parametrize("vals", [[0] * 5, [(1 << S) - 1] * 5, [1 << (S - 1), 0, 1, 0, (1 << S) - 1]])
def test_unsigned_extremes(vals):
    assert unpack(pack(vals, S), S, len(vals)) == vals


def test_unsigned_random_and_overflow_rejected():
    for _ in range(50):
        vals = [secrets.randbelow(1 << S) for _ in range(7)]
        assert unpack(pack(vals, S), S, 7) == vals
    with pytest.raises(ProtocolError):
        unpack(pack([1 << S], S), S, 1)           # a carry out of the last slot
    with pytest.raises(ProtocolError):
        unpack(-1, S, 3)


@pytest.mark.parametrize("vals", [
    [-(1 << (S - 1))] * 6, [(1 << (S - 1)) - 1] * 6, [-1, 0, -1, 1, -(1 << (S - 1)), (1 << (S - 1)) - 1],
    [0, 0, 0, 0, 0, -1], [-1, 0, 0, 0, 0, 0], [5, -3, 7, -(1 << (S - 1)), 0, 2]])
def test_signed_extremes_and_borrows(vals):
    assert unpack_signed(pack(vals, S) % N, S, len(vals), N) == vals


def test_signed_random_after_modular_arithmetic():
    """Slots built as sums of large, out-of-range intermediates that cancel, reduced mod N:
    what a Paillier product delivers."""
    half = 1 << (S - 1)
    for _ in range(50):
        want = [secrets.randbelow(2 * half) - half for _ in range(9)]
        noise = [secrets.randbelow(1 << 200) - (1 << 199) for _ in range(9)]
        m = (pack([w + e for w, e in zip(want, noise)], S) - pack(noise, S)) % N
        assert unpack_signed(m, S, 9, N) == want


def test_signed_overflow_rejected():
    with pytest.raises(ProtocolError):
        unpack_signed(pack([1 << (S - 1)], S), S, 1, N)
    with pytest.raises(ValueError):
        unpack_signed(N, S, 1, N)


def test_blocks_round_trip():
    vals = [secrets.randbelow(1 << S) for _ in range(23)]
    blocks = pack_blocks(vals, S, 5)
    assert len(blocks) == 5 and [len(c) for c in chunks(vals, 5)] == [5, 5, 5, 5, 3]
    assert unpack_blocks(blocks, S, 5, 23) == vals
    signed = [v - (1 << (S - 1)) for v in vals]
    assert unpack_blocks([b % N for b in pack_blocks(signed, S, 5)], S, 5, 23, N) == signed
    with pytest.raises(ValueError):
        unpack_blocks(blocks[:-1], S, 5, 23)
