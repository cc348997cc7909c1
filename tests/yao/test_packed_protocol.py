"""The packed lowering end to end on `tiny`: bit-identical with the plaintext reference."""
import os
import threading
import warnings

import numpy as np
import pytest

from veil.backends.registry import get_backend
from veil.backends.yao import paillier as P
from veil.backends.yao.channel import InProcessChannel
from veil.backends.yao.packed_protocol import (PackedCloud, PackedOwner, PackedUser,
                                               receive_packed_model)
from veil.compiler.driver import compile_spec
from veil.compiler.program import SecurityParams


def both(user_side, cloud_side):
    """user_side here, cloud_side in a thread; re-raise the cloud's error."""
    err: list[BaseException] = []

    def run():
        try:
            cloud_side()
        except BaseException as exc:
            err.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        out = user_side()
    finally:
        t.join()
    if err:
        raise err[0]
    return out


@pytest.fixture(scope="module", params=[512, 1024])
def session(request):
    """512 bits splits tiny's first layer over 2 blocks (3 on the cloud's wider slots)."""
    bits = request.param
    program = compile_spec("tiny", "packed", SecurityParams(modulus_bits=bits))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(bits)
        cloud_keys = P.generate_keypair(bits)
    a, b = InProcessChannel.pair()
    model = both(lambda: receive_packed_model(b, program, pk), lambda: PackedOwner(program).publish(a, pk))
    sid = os.urandom(16)
    user, cloud = PackedUser(program, pk, sk, sid), PackedCloud(program, pk, model, sid, cloud_keys)
    u_ch, c_ch = InProcessChannel.pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch))
    return program, user, cloud, u_ch, c_ch


def test_tiny_bit_exact(session):
    program, user, cloud, u_ch, c_ch = session
    rng = np.random.default_rng(0)
    fmt = program.model.input_format
    n_in = program.dense[0].layer.n_in
    for patches in (1, 4):
        x = rng.integers(fmt.min_int, fmt.max_int + 1, size=(patches, n_in))
        x[0, 0], x[-1, -1] = fmt.min_int, fmt.max_int
        got = both(lambda: user.run_batch(u_ch, x), lambda: cloud.serve_batch(c_ch))
        want = get_backend("plaintext").run_fixed(program, x)
        assert got.shape == want.shape and (got == want).all()
    assert user.shapes[0].blocks == (2 if program.security.modulus_bits == 512 else 1)


class Recording(InProcessChannel):
    """Keeps every received payload with its kind."""

    def recv(self, expected, max_payload=None):
        payload = super().recv(expected, max_payload)
        self.log.append((expected, payload))
        return payload


def test_views_are_masked_and_rerandomised():
    """Every user-key ciphertext the user receives has randomness of its own (recovered with
    sk_u); the cloud's clear integers are masked patches, at least 2^(l_in - 1)."""
    from veil.backends.yao.channel import Kind
    from veil.backends.yao.messages import unpack_ints
    program = compile_spec("tiny", "packed", SecurityParams(modulus_bits=512))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        pk, sk = P.generate_keypair(512)
        ck = P.generate_keypair(512)
    a, b = InProcessChannel.pair()
    model = both(lambda: receive_packed_model(b, program, pk), lambda: PackedOwner(program).publish(a, pk))
    import queue
    q1, q2 = queue.Queue(), queue.Queue()
    u_ch, c_ch = Recording(q1, q2, 60.0), Recording(q2, q1, 60.0)
    u_ch.log, c_ch.log = [], []
    sid = os.urandom(16)
    user, cloud = PackedUser(program, pk, sk, sid), PackedCloud(program, pk, model, sid, ck)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P.InsecureKeyWarning)
        both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch))
    fmt = program.model.input_format
    x = np.array([[fmt.min_int] * 25, [fmt.max_int] * 25, [0] * 25])
    both(lambda: user.run_batch(u_ch, x), lambda: cloud.serve_batch(c_ch))
    held = {P.recover_randomness(sk, c) for cols in model.columns for row in cols for c in row}
    seen = []
    for kind, payload in u_ch.log:
        if kind is Kind.CIPHERTEXTS:
            try:
                cts = P.loads_ciphertexts(pk, payload)
            except Exception:               # under the cloud's key: Enc_c(R)
                continue
            seen += [P.recover_randomness(sk, c) for c in cts]
    assert len(seen) > 10 and len(set(seen)) == len(seen) and not set(seen) & held
    ints = [unpack_ints(p, 1 << 64) for k, p in c_ch.log if k is Kind.INTEGERS]
    assert len(ints) == 1 and len(ints[0]) == x.size
    assert min(ints[0]) >= 1 << (fmt.total - 1) and len(set(ints[0])) == len(ints[0])
