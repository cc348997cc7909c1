"""Kappa per deployment: the packed lowering stays bit-exact with the masks widened to 64 and
128 bits (the output masks r_u then exceed 64 bits and travel as Python integers)."""
import os
import warnings

import numpy as np
import pytest

from veil.backends.catalog import get_backend
from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.lowerings.packed.cloud import PackedCloud
from veil.backends.yao.lowerings.packed.model import PackedOwner, receive_packed_model
from veil.backends.yao.lowerings.packed.user import PackedUser
from veil.models.catalog import compile_model

from ..secure_testkit import both


@pytest.mark.parametrize("kappa", [64, 128])
def test_tiny_bit_exact_with_wide_masks(kappa):
    program = compile_model("tiny", "packed", key_bits=1024, kappa=kappa)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(1024)
        cloud_keys = P.generate_keypair(1024)
        a, b = InProcessChannel.pair()
        model, _ = both(lambda: receive_packed_model(b, program, pk),
                        lambda: PackedOwner(program).publish(a, pk), b, a)
        sid = os.urandom(16)
        user = PackedUser(program, pk, sk, sid)
        cloud = PackedCloud(program, pk, model, sid, cloud_keys)
        u_ch, c_ch = InProcessChannel.pair()
        both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch), u_ch, c_ch)
    fmt = program.model.input_format
    x = np.random.default_rng(kappa).integers(fmt.min_int, fmt.max_int + 1, size=(3, 25))
    got, _ = both(lambda: user.run_batch(u_ch, x), lambda: cloud.serve_batch(c_ch), u_ch, c_ch)
    assert np.array_equal(got, get_backend("plaintext").run_fixed(program, x))
