"""The packed lowering end to end on `tiny`: bit-identical with the plaintext reference.
What each party sees is attacked in packed_security/."""
import warnings

import numpy as np
import pytest

from veil.backends.catalog import get_backend
from veil.backends.yao import paillier as P
from veil.models.catalog import compile_model

from ..secure_testkit import both, packed_parties


@pytest.fixture(scope="module", params=[512, 1024])
def session(request):
    """512 bits splits tiny's first layer (8 rows of 71-bit slots) over 2 blocks."""
    bits = request.param
    program = compile_model("tiny", "packed", key_bits=bits)
    user, cloud, u_ch, c_ch = packed_parties(program, bits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch), u_ch, c_ch)
    return program, user, cloud, u_ch, c_ch


def test_tiny_bit_exact(session):
    program, user, cloud, u_ch, c_ch = session
    rng = np.random.default_rng(0)
    fmt = program.model.input_format
    n_in = program.dense[0].layer.n_in
    for patches in (1, 4):
        x = rng.integers(fmt.min_int, fmt.max_int + 1, size=(patches, n_in))
        x[0, 0], x[-1, -1] = fmt.min_int, fmt.max_int
        got, _ = both(lambda: user.run_batch(u_ch, x), lambda: cloud.serve_batch(c_ch), u_ch, c_ch)
        want = get_backend("plaintext").run_fixed(program, x)
        assert got.shape == want.shape and (got == want).all()
    assert user.shapes[0].blocks == (2 if program.security.modulus_bits == 512 else 1)
