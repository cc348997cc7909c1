"""Well-framed messages no honest cloud sends, refused by the user before it uses them
(issue 11, finding 1): a cloud key of another size or no Paillier modulus, ciphertexts without
randomness of their own (anyone can make 1 + m n, without any key), V = W + R outside the
range R's masks give it, corrections A below their masks' floor."""
import os

import gmpy2
import pytest
from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.lowerings.packed import linear as L
from veil.backends.yao.lowerings.packed.slots import pack_blocks
from veil.backends.yao.lowerings.packed.user import PackedUser

from .packed_security_kit import BITS, KAPPA, endpoint, frame, quiet_keys

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def moduli() -> dict[str, mpz]:
    """Odd moduli of exactly BITS bits that no Paillier key generator makes."""
    top = mpz(3) << (BITS - 2)
    p = gmpy2.next_prime(gmpy2.isqrt(top) + 12345)
    c = gmpy2.next_prime(gmpy2.iroot(top, 3)[0] + 99)
    out = {"perfect square": p * p, "perfect cube": c ** 3,
           "prime": gmpy2.next_prime(top + 777)}
    for f in (3, 65521):
        out[f"factor {f}"] = f * gmpy2.next_prime(((mpz(1) << BITS) - (mpz(1) << 300)) // f)
    assert all(n.bit_length() == BITS and n % 2 for n in out.values())
    return out


CASES = dict(moduli(), **{"shorter key": "short", "wider key": "wide"})
MATCH = {"perfect square": "perfect power", "perfect cube": "perfect power", "prime": "is prime",
         "factor 3": "prime factor below 65536", "factor 65521": "prime factor below 65536",
         "shorter key": f"has {BITS - 64} bits, the program's keys have {BITS}",
         "wider key": f"has {BITS + 64} bits, the program's keys have {BITS}"}


@pytest.mark.parametrize("case", list(CASES))
def test_user_refuses_an_implausible_cloud_key(setting, spies, case):
    program, (pk_u, sk_u), _, _ = setting
    n = CASES[case]
    pk = (quiet_keys(BITS - 64 if n == "short" else BITS + 64)[0] if isinstance(n, str)
          else P.PublicKey(n))
    user = PackedUser(program, pk_u, sk_u, os.urandom(16))
    ch = endpoint(frame(Kind.PUBLIC_KEY, P.dumps_public_key(pk)), close=True)
    with pytest.raises(ProtocolError, match=MATCH[case]):
        user.provision(ch)
    assert spies == {} and user.Q == [] and ch.sent == []


def in_range_V(sh, value):
    return [v for row in L.pack_columns([[value] * sh.n_in] * sh.n_out, sh) for v in row]


def cts_frame(pk, cts):
    return frame(Kind.CIPHERTEXTS, P.dumps_ciphertexts(pk, cts))


def provisioning_cases(user, pk_c):
    sh = user.program.dense[0].packed
    count, lw = sh.blocks * sh.n_in, sh.weight_bits
    good = P.encrypt(user.pk, in_range_V(sh, 1 << lw))
    low, high = 1 << (lw - 1), (1 << (lw + KAPPA)) + (1 << (lw - 1))
    reused = [good[0]] + good[1:-1] + [good[0]]
    neg_R = P.encrypt(pk_c, [1] * count)
    return {   # frames after pk_c -> (error, match, unmask_columns calls)
        "V trivial": ([[mpz(1)] * count], "carries no randomness", {}),
        "V reuses randomness": ([reused], "reuses the randomness", {}),
        "V = 0": ([P.encrypt(user.pk, [0] * count)], r"V = W \+ R outside its range", 1),
        "V one below": ([P.encrypt(user.pk, in_range_V(sh, low - 1))], "outside its range", 1),
        "V one above": ([P.encrypt(user.pk, in_range_V(sh, high))], "outside its range", 1),
        "-R trivial": ([good, [mpz(1)] * count], "carries no randomness", 1),
        "-R reuses randomness": ([good, neg_R[:-1] + neg_R[:1]], "reuses the randomness", 1),
    }


CASE_NAMES = ["V trivial", "V reuses randomness", "V = 0", "V one below", "V one above",
              "-R trivial", "-R reuses randomness"]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_user_refuses_provisioning_without_randomness_or_out_of_range(setting, spies, case):
    """Layer 1's masked columns and Enc_c(-R): refused before Q is built from them."""
    program, (pk_u, sk_u), (pk_c, _), _ = setting
    user = PackedUser(program, pk_u, sk_u, os.urandom(16))
    frames, match, unmasked = provisioning_cases(user, pk_c)[case]
    keys = [pk_u, pk_c]
    ch = endpoint(frame(Kind.PUBLIC_KEY, P.dumps_public_key(pk_c)),
                  *[cts_frame(keys[i], cts) for i, cts in enumerate(frames)], close=True)
    with pytest.raises(ProtocolError, match=match):
        user.provision(ch)
    assert spies == ({"unmask_columns": unmasked} if unmasked else {})
    assert user.Q == [] and ch.sent == []


def test_both_ends_of_V_range_are_accepted(setting):
    """The control: V at its lowest and highest honest values passes (the user then waits for
    Enc_c(-R), which never comes)."""
    program, (pk_u, sk_u), (pk_c, _), _ = setting
    sh = program.dense[0].packed
    lw = sh.weight_bits
    for value in (1 << (lw - 1), (1 << (lw + KAPPA)) + (1 << (lw - 1)) - 1):
        user = PackedUser(program, pk_u, sk_u, os.urandom(16))
        ch = endpoint(frame(Kind.PUBLIC_KEY, P.dumps_public_key(pk_c)),
                      cts_frame(pk_u, P.encrypt(pk_u, in_range_V(sh, value))), close=True)
        with pytest.raises(ProtocolError, match="closed the channel"):
            user.provision(ch)


def corrections(user, slot_value, patches=2):
    sh = user.shapes[0]
    return [v for _ in range(patches)
            for v in pack_blocks([slot_value] * sh.n_out, sh.slot_bits, sh.slots)]


@pytest.mark.parametrize("case", ["trivial", "reused", "zero", "one below the floor"])
def test_user_refuses_corrections_without_randomness_or_below_their_masks(parties, spies, case):
    """E for layer 1 of a batch of 2 (the relay's E = 1 among them): refused before any F."""
    user, _ = parties
    floor = 1 << (user.shapes[0].mask_floor_bits - 1)
    blocks = 2 * user.shapes[0].blocks
    good = P.encrypt(user.pk, corrections(user, floor))
    E, match = {
        "trivial": ([mpz(1)] * blocks, "carries no randomness"),
        "reused": (good[:-1] + good[:1], "reuses the randomness"),
        "zero": (P.encrypt(user.pk, [0] * blocks), "outside the range of its packed slots"),
        "one below the floor": (P.encrypt(user.pk, corrections(user, floor - 1)),
                                "outside the range of its packed slots"),
    }[case]
    ch = endpoint(cts_frame(user.pk, E), close=True)
    with pytest.raises(ProtocolError, match=match):
        user.prepare(ch, 2)
    assert ch.sent == [Kind.INTEGERS]
    assert spies.get("user_corrections", 0) == (case in ("zero", "one below the floor"))


def test_corrections_at_their_floor_are_accepted(parties):
    """The control: A at the lowest honest value per slot passes (then the garbling's OT)."""
    user, _ = parties
    floor = 1 << (user.shapes[0].mask_floor_bits - 1)
    ch = endpoint(cts_frame(user.pk, P.encrypt(user.pk, corrections(user, floor))), close=True)
    with pytest.raises(ProtocolError, match="closed the channel"):
        user.prepare(ch, 2)
