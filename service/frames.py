"""The service's own frame kinds, registered with the framing beside the protocol's kinds
(veil.backends.yao.framing.kinds): the secure protocol does not know them."""
from __future__ import annotations

from veil.backends.yao.framing.kinds import register_kind


class ServiceKind:
    HELLO = register_kind(1, "HELLO")                    # diagnostics: an echo payload
    DONE = register_kind(9, "DONE")                      # end of a request (JSON result)
    ERROR = register_kind(10, "ERROR")                   # a one-line refusal (error_frames.py)
    AUTH_HELLO = register_kind(11, "AUTH_HELLO")         # user id and model name (auth.py)
    AUTH_CHALLENGE = register_kind(12, "AUTH_CHALLENGE") # connection id, nonce, commitment, Enc_u(challenge)
    AUTH_ANSWER = register_kind(13, "AUTH_ANSWER")       # HMAC-SHA256 keyed with the decrypted challenge
    AUTH_OK = register_kind(14, "AUTH_OK")               # the answer was accepted
    REQUEST = register_kind(15, "REQUEST")               # what a connection asks for (JSON: op)
    MANIFEST = register_kind(16, "MANIFEST")             # a published model's public description (JSON)
