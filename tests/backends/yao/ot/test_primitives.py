"""The extension's building blocks against direct, slow re-computations."""
import secrets

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from veil.backends.yao.ot.hash import PI_KEY, TweakedHash
from veil.backends.yao.ot.prg import SeedStreams
from veil.backends.yao.ot.transpose import transpose_bits


def rand(shape):
    return np.frombuffer(secrets.token_bytes(int(np.prod(shape))), np.uint8).reshape(shape)


@pytest.mark.parametrize("k, nb", [(128, 1), (128, 7), (128, 8), (128, 9), (128, 515), (64, 3),
                                   (192, 16)])
def test_transpose_matches_unpackbits(k, nb):
    rows = rand((k, nb))
    want = np.packbits(np.unpackbits(rows, axis=1, bitorder="little").T, axis=1,
                       bitorder="little")
    got = transpose_bits(rows)
    assert got.shape == (8 * nb, k // 8) and np.array_equal(got, want)
    assert np.array_equal(rows, rows.copy())                  # input left alone


def test_transpose_single_bits():
    for j, i in [(0, 0), (127, 0), (0, 63), (5, 64), (127, 79), (64, 1)]:
        rows = np.zeros((128, 10), np.uint8)
        rows[j, i // 8] = 1 << (i % 8)
        out = transpose_bits(rows)
        assert out[i, j // 8] == 1 << (j % 8) and np.count_nonzero(out) == 1


def test_transpose_rejects_bad_row_count():
    with pytest.raises(ValueError):
        transpose_bits(np.zeros((100, 4), np.uint8))


def aes_ecb(block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(PI_KEY), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def test_hash_matches_definition():
    h = TweakedHash(b"sid")
    x = rand((5, 16))
    got = h.hash(x, 1000)
    for j in range(5):
        tweak = (1000 + j).to_bytes(8, "little") + int(h.tag).to_bytes(8, "little")
        px = aes_ecb(x[j].tobytes())
        assert got[j].tobytes() == xor(aes_ecb(xor(px, tweak)), px)


def test_hash_separates_index_and_session():
    x = np.repeat(rand((1, 16)), 3, axis=0)
    a = TweakedHash(b"sid-1").hash(x, 0)
    b = TweakedHash(b"sid-2").hash(x, 0)
    assert len({row.tobytes() for row in np.concatenate([a, b])}) == 6


def test_prg_is_one_ctr_stream_across_calls():
    seeds = rand((3, 16)).copy()
    streams = SeedStreams(seeds)
    parts = np.concatenate([streams.next(n) for n in (1, 15, 16, 17, 100)], axis=1)
    for j in range(3):
        ctr = Cipher(algorithms.AES(seeds[j].tobytes()), modes.CTR(bytes(16))).encryptor()
        assert parts[j].tobytes() == ctr.update(bytes(149))
