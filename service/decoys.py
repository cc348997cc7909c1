"""Decoy keys: the challenge a cloud sends for a user id it does not know (issue 11, finding 6).

The cloud answers every (user id, model) pair with a challenge, so a prober cannot enumerate
pairs. For a known user without that model it has the user's key; for an unknown id it has
none, only the id (a SHA-256). A ciphertext array names its key by a fingerprint
(paillier/codec.py), and a real user's fingerprint never changes, so a decoy drawn afresh per
probe would show itself at the second probe. The decoy is therefore derived from a server
secret and the id: every probe of one id sees one fingerprint and ciphertexts below one n^2,
of the width of a key of `bits` bits, as for a real user.

The decoy modulus is a product of two halves with their two top bits set, like a generated
key's primes, and without prime factors below 2^16 (a real key's ciphertexts are units
mod every small prime; c mod 3 never being 0 would give a decoy away). The halves are not
prime, which only their factorisation shows, and nobody sees them: the prober sees only
ciphertexts. Deriving one costs about a millisecond (a gcd per candidate); the server does
it for every login, known user or not, so both take the same steps, and encrypts under the
decoy as under a real key, one exponentiation of the same size.

The secret lives in the store folder (decoy.secret, 0600): a random secret per process
would change every decoy at a restart while real keys stay, which shows which ids are real.
A prober who holds the public key of an id can still tell whether that id is registered at
all (it knows the real fingerprint); not which models it has.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import gmpy2
from gmpy2 import mpz

from veil.backends.yao import paillier as P
from veil.backends.yao.paillier.keys import SECURE_BITS
from veil.backends.yao.paillier.validate import small_primes_product
from veil.service.store_schema import StoreError
from veil.util.atomic import atomic_write_bytes

SECRET_FILE = "decoy.secret"
SECRET_BYTES = 32


class DecoyKeys:
    """Deterministic per user id, for one server secret; `bits` is the deployment's key size."""

    def __init__(self, secret: bytes, bits: int = SECURE_BITS):
        if len(secret) != SECRET_BYTES:
            raise ValueError(f"a decoy secret is {SECRET_BYTES} bytes, got {len(secret)}")
        self._secret, self.bits = bytes(secret), bits

    @classmethod
    def in_folder(cls, folder: str | os.PathLike, bits: int = SECURE_BITS) -> "DecoyKeys":
        """The secret of a store folder, made on first use."""
        path = Path(folder) / SECRET_FILE
        if not path.exists():
            atomic_write_bytes(path, secrets.token_bytes(SECRET_BYTES), mode=0o600)
        secret = path.read_bytes()
        if len(secret) != SECRET_BYTES:
            raise StoreError(f"{path}: {len(secret)} bytes, expected {SECRET_BYTES}: remove it "
                             "to make a new one")
        return cls(secret, bits)

    def _stream(self, user_id: str, what: bytes):
        """HMAC-SHA256(secret, label | id | counter), block after block."""
        counter = 0
        while True:
            yield hmac.new(self._secret, b"veil-decoy|" + what + b"|" + user_id.encode()
                           + counter.to_bytes(8, "big"), hashlib.sha256).digest()
            counter += 1

    def _half(self, user_id: str, which: bytes) -> mpz:
        half = self.bits // 2
        stream, primes = self._stream(user_id, which), small_primes_product()
        while True:
            raw = b"".join(next(stream) for _ in range(-(-half // 256)))
            candidate = (mpz(int.from_bytes(raw, "big")) >> (len(raw) * 8 - half)
                         | (3 << (half - 2)) | 1)
            if gmpy2.gcd(candidate, primes) == 1:
                return candidate

    def public_key(self, user_id: str) -> P.PublicKey:
        return P.PublicKey(self._half(user_id, b"p") * self._half(user_id, b"q"))
