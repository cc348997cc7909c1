"""The service's own messages: small JSON objects, parsed with a size limit and checked field
by field before use (json, never pickle), and the names users and owners choose."""
from __future__ import annotations

import hashlib
import json
import re

from veil.backends.yao import paillier as P
from veil.backends.yao.framing.channel import Channel, ProtocolError
from veil.backends.yao.framing.kinds import Kind
from veil.service.limits import JSON_FRAME_BYTES
from veil.util.errors import UsageError, VeilError

SERVICE_LOWERING = "packed"    # the lowering the service runs (its parties: lowerings/parties.py)
FORMAT = 1
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_name(name: str, what: str = "model name",
               error: type[VeilError] = UsageError) -> str:
    """The name, or `error`: UsageError for a name given on the command line, ServiceError for
    one a peer sent."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise error(f"bad {what} {name!r}: use 1-64 letters, digits, '_', '.' or '-'")
    return name


def user_id(pk: P.PublicKey) -> str:
    """A user is known by the SHA-256 of their public key file's bytes."""
    return hashlib.sha256(P.dumps_public_key(pk)).hexdigest()


def send_json(ch: Channel, kind: Kind, obj: dict) -> None:
    ch.send(kind, json.dumps(dict(obj, format=FORMAT), sort_keys=True).encode())


def recv_json(ch: Channel, kind: Kind, fields: dict[str, type],
              max_payload: int = JSON_FRAME_BYTES) -> dict:
    """A JSON object with at least `fields` of the given types, of at most `max_payload`
    bytes."""
    payload = ch.recv(kind, max_payload=max_payload)
    try:
        obj = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:   # ValueError: JSON, or int() over 4300 digits
        raise ProtocolError(f"malformed {kind.name} message: {e}") from None
    except RecursionError:
        raise ProtocolError(f"malformed {kind.name} message: nested too deeply") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ProtocolError(f"malformed {kind.name} message: not a format-{FORMAT} object")
    return check_json_fields(obj, kind, fields)


def check_json_fields(obj: dict, kind: Kind, fields: dict[str, type]) -> dict:
    """`obj`, if it has at least `fields` of the given types (a ProtocolError otherwise)."""
    for name, typ in fields.items():
        if not isinstance(obj.get(name), typ) or isinstance(obj.get(name), bool) and typ is int:
            raise ProtocolError(f"malformed {kind.name} message: field {name!r} missing or "
                                f"not {typ.__name__}")
    return obj

