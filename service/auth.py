"""Authentication of a user by possession of the Paillier private key registered for them.

  U -> C  AUTH_HELLO      name(user id) | name(model)          name = u16 length | UTF-8
  C -> U  AUTH_CHALLENGE  connection id (16 B) | nonce (32 B) | commitment (32 B) |
                          Enc_u(challenge) (paillier_codec ciphertext array of one)
  U -> C  AUTH_ANSWER     HMAC-SHA256(challenge, "veil-auth" | nonce | name(user id) |
                                      name(model) | connection id)
  C -> U  AUTH_OK         empty

The challenge, nonce and connection id are fresh CSPRNG bytes per connection, so an answer
recorded on one connection is worthless on another, and only the holder of sk_u can read
the challenge. The commitment is SHA-256("veil-auth-commit" | nonce | challenge): the user
answers only a challenge the server already knows. Without it the user would be a decryption
oracle: a cloud holding other ciphertexts under pk_u (encrypted weights, a few bits each)
could send one as the challenge and brute-force its plaintext from the HMAC.

Login leaks nothing (issue 11, finding 6). The server answers every pair with a challenge:
under the user's key when it knows the user, even for a model the user does not have, and
under a decoy key derived from the user id otherwise (decoys.py); it looks up the pair, the
user and the decoy for every login, so each takes the same steps, and every wrong answer gets
the same refusal. Only a right answer for a pair it does not serve, which only the key's
holder can give, is told "no such model". The user refuses every challenge it will not answer
with one message (REFUSAL), after the same steps whatever failed: a refusal that named the
failed check told whoever sent the challenge one bit about its plaintext.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, PeerClosed, ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.backends.yao.paillier.codec import HEADER_SIZE
from veil.service.decoys import DecoyKeys
from veil.service.error_frames import RemoteError, recv_or_error, send_error
from veil.service.frames import ServiceKind

ID_BYTES, NONCE_BYTES, CHALLENGE_BYTES, ANSWER_BYTES = 16, 32, 32, 32
MAX_NAME_BYTES = 128
_LEN = struct.Struct(">H")
HELLO_LIMIT = 2 * (_LEN.size + MAX_NAME_BYTES)
CHALLENGE_LIMIT = ID_BYTES + NONCE_BYTES + 32 + HEADER_SIZE + 2 * 2048     # keys to 16384 bits

Lookup = Callable[[str, str], P.PublicKey | None]
UserKey = Callable[[str], P.PublicKey | None]
REFUSAL = "refusing the server's challenge: not one this key answers"
_PROCESS_DECOYS = DecoyKeys(secrets.token_bytes(32))    # when the caller keeps none


class AuthError(ProtocolError):
    """Authentication failed: wrong key, unknown user, replayed or malformed answer."""


@dataclass(frozen=True)
class Identity:
    user_id: str
    model: str
    connection_id: bytes
    public_key: P.PublicKey


# -- encoding ---------------------------------------------------------------------------------
def _name(text: str, what: str) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else b""
    if not 0 < len(data) <= MAX_NAME_BYTES or not text.isprintable():
        raise AuthError(f"{what} must be 1 to {MAX_NAME_BYTES} bytes of printable UTF-8, "
                        f"got {text!r}")
    return _LEN.pack(len(data)) + data


def _parse_hello(payload: bytes) -> tuple[str, str]:
    names, at = [], 0
    for what in ("user id", "model name"):
        if len(payload) < at + _LEN.size:
            raise AuthError("malformed AUTH_HELLO: truncated")
        (n,), at = _LEN.unpack_from(payload, at), at + _LEN.size
        if len(payload) < at + n:
            raise AuthError("malformed AUTH_HELLO: truncated")
        try:
            text = payload[at:at + n].decode("utf-8")
        except UnicodeDecodeError:
            raise AuthError(f"malformed AUTH_HELLO: {what} is not UTF-8") from None
        _name(text, what)
        names.append(text)
        at += n
    if at != len(payload):
        raise AuthError(f"malformed AUTH_HELLO: {len(payload) - at} trailing bytes")
    return names[0], names[1]


def _commitment(nonce: bytes, challenge: bytes) -> bytes:
    return hashlib.sha256(b"veil-auth-commit" + nonce + challenge).digest()


def _answer(challenge: bytes, nonce: bytes, user_id: str, model: str, cid: bytes) -> bytes:
    message = b"veil-auth" + nonce + _name(user_id, "user id") + _name(model, "model name") + cid
    return hmac.new(challenge, message, hashlib.sha256).digest()


# -- server -----------------------------------------------------------------------------------
def _receive(channel: Channel, kind: Kind, limit: int, who: str) -> bytes:
    """Every refusal during authentication is an AuthError; a vanished peer stays PeerClosed."""
    try:
        return recv_or_error(channel, kind, limit)
    except PeerClosed:
        raise
    except RemoteError as e:
        raise AuthError(f"{who} gave up authenticating: {e}") from e
    except ProtocolError as e:
        raise AuthError(f"authentication of {who} failed: {e}") from e


def authenticate_user(channel: Channel, lookup: Lookup, connection_id: bytes | None = None,
                      *, user_key: UserKey | None = None,
                      decoys: DecoyKeys | None = None) -> Identity:
    """The server's side. `lookup(user_id, model)` returns the key registered for that pair,
    or None; `user_key(user_id)` the user's key whatever the model, or None; `decoys` gives
    the key of an unknown user's challenge (keep one per store: DecoyKeys.in_folder). Raises
    AuthError unless the peer holds the private key of a pair the server serves."""
    user_id, model = _parse_hello(_receive(channel, ServiceKind.AUTH_HELLO, HELLO_LIMIT, "the client"))
    pk = lookup(user_id, model)
    registered = user_key(user_id) if user_key is not None else None
    decoy = (decoys or _PROCESS_DECOYS).public_key(user_id)
    sealing = pk or registered or decoy
    cid = secrets.token_bytes(ID_BYTES) if connection_id is None else bytes(connection_id)
    if len(cid) != ID_BYTES:
        raise ValueError(f"connection id must be {ID_BYTES} bytes, got {len(cid)}")
    nonce, challenge = secrets.token_bytes(NONCE_BYTES), secrets.token_bytes(CHALLENGE_BYTES)
    sealed = P.encrypt(sealing, [int.from_bytes(challenge, "big")])
    channel.send(ServiceKind.AUTH_CHALLENGE, cid + nonce + _commitment(nonce, challenge)
                 + P.dumps_ciphertexts(sealing, sealed))
    answer = _receive(channel, ServiceKind.AUTH_ANSWER, ANSWER_BYTES, f"user {user_id!r}")
    if not hmac.compare_digest(answer, _answer(challenge, nonce, user_id, model, cid)):
        raise AuthError(f"authentication of user {user_id!r} for model {model!r} failed")
    if pk is None:
        raise AuthError(f"user {user_id!r} has no model {model!r} here")
    channel.send(ServiceKind.AUTH_OK, b"")
    return Identity(user_id, model, cid, pk)


# -- user -------------------------------------------------------------------------------------
def _refuse(channel: Channel, why: str) -> AuthError:
    """Tell the server REFUSAL, the same whatever failed (best effort), and raise `why`
    locally."""
    try:
        send_error(channel, REFUSAL)
    except (ProtocolError, OSError):
        pass
    return AuthError(why)


def _server_refused(e: RemoteError, user_id: str) -> AuthError:
    return AuthError(f"the server refused user {user_id!r}: {e}")


def prove_identity(channel: Channel, sk: P.PrivateKey, user_id: str, model: str) -> bytes:
    """The user's side; returns the connection id the server assigned."""
    channel.send(ServiceKind.AUTH_HELLO, _name(user_id, "user id") + _name(model, "model name"))
    try:
        payload = recv_or_error(channel, ServiceKind.AUTH_CHALLENGE, CHALLENGE_LIMIT)
    except RemoteError as e:
        raise _server_refused(e, user_id) from e
    head = ID_BYTES + NONCE_BYTES + 32
    if len(payload) < head:
        raise _refuse(channel, f"malformed AUTH_CHALLENGE: {len(payload)} bytes")
    cid, nonce = payload[:ID_BYTES], payload[ID_BYTES:ID_BYTES + NONCE_BYTES]
    commitment = payload[ID_BYTES + NONCE_BYTES:head]
    try:
        sealed = P.loads_ciphertexts(sk.public, payload[head:])
    except ProtocolError as e:
        raise _refuse(channel, f"the server's challenge for user {user_id!r} is not under this "
                               f"private key's public key: {e}") from e
    if len(sealed) != 1:
        raise _refuse(channel, f"malformed AUTH_CHALLENGE: {len(sealed)} ciphertexts")
    value = P.decrypt(sk, sealed)[0]
    challenge = (value % (1 << 8 * CHALLENGE_BYTES)).to_bytes(CHALLENGE_BYTES, "big")
    fits = value >> (8 * CHALLENGE_BYTES) == 0
    opens = hmac.compare_digest(_commitment(nonce, challenge), commitment)
    if not (fits & opens):              # both computed, whichever failed
        raise _refuse(channel, "the server's challenge does not open to its commitment: "
                               "refusing to answer")
    channel.send(ServiceKind.AUTH_ANSWER, _answer(challenge, nonce, user_id, model, cid))
    try:
        recv_or_error(channel, ServiceKind.AUTH_OK, 0)
    except RemoteError as e:
        raise _server_refused(e, user_id) from e
    return cid
