"""Malformed provisioning messages (the cloud's public key, the masked columns V, Enc_c(-R)),
refused by the user before it builds V or Q from them."""
import os

import pytest

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.packed.slots import pack_blocks
from veil.backends.yao.lowerings.packed.user import PackedUser

from .packed_security_kit import BITS, endpoint, frame, quiet_keys

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def test_user_refuses_malformed_provisioning(setting, parties, spies):
    """Public key of the wrong kind or too short for the slots; masked columns one short;
    Enc_c(-R) under the user's key: each refused before V or Q is built from it."""
    program, (pk_u, sk_u), (pk_c, _), _ = setting
    sh = parties[0].shapes[0]
    count = sh.blocks * sh.n_in
    pkf = frame(Kind.PUBLIC_KEY, P.dumps_public_key(pk_c))

    def cols(pk, c):             # V = 2^l_w in every slot: within V's range
        return frame(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, P.encrypt(pk, in_range[:c])))
    in_range = [v for v in pack_blocks([1 << sh.weight_bits] * sh.n_out, sh.slot_bits, sh.slots)
                for _ in range(sh.n_in)]
    short_pk = quiet_keys(BITS - 64)[0]
    cases = [
        ([frame(Kind.INTEGERS, P.dumps_public_key(pk_c))], ProtocolError, "INTEGERS", {}),
        ([frame(Kind.PUBLIC_KEY, P.dumps_public_key(short_pk))], ProtocolError, "the program's keys have", {}),
        ([frame(Kind.PUBLIC_KEY, P.dumps_public_key(pk_c)[:-1])], ProtocolError, "truncated", {}),
        ([pkf, cols(pk_u, count - 1)], ProtocolError, f"expected {count}", {}),
        ([pkf, cols(pk_c, count)], ProtocolError, "different Paillier key", {}),   # V, wrong key
        ([pkf, cols(pk_u, count), cols(pk_u, count)], ProtocolError,   # -R under the user's key
         "different Paillier key", {"unmask_columns": 1}),
        ([pkf, cols(pk_u, count), cols(pk_c, count - 1)], ProtocolError, f"expected {count}",
         {"unmask_columns": 1}),
    ]
    for raw, exc, match, used in cases:
        spies.clear()
        user = PackedUser(program, pk_u, sk_u, os.urandom(16))
        ch = endpoint(*raw, close=True)
        with pytest.raises(exc, match=match):
            user.provision(ch)
        assert spies == used and user.Q == [] and ch.sent == []
