"""Frame kinds: a one-byte code on the wire, a name in messages, one registry.

The secure protocol registers its own kinds here (`Kind`); a layer above (the networked
service) registers its kinds the same way in its own module, and the framing accepts them
without knowing them. A code can be registered under one name only, so two layers can never
give one byte two meanings.
"""
from __future__ import annotations

from dataclasses import dataclass

_REGISTRY: dict[int, "FrameKind"] = {}


@dataclass(frozen=True)
class FrameKind:
    code: int
    name: str

    def __int__(self) -> int:
        return self.code

    __index__ = __int__           # so struct.pack and bytes() take a kind as its code

    def __str__(self) -> str:
        return self.name


def register_kind(code: int, name: str) -> FrameKind:
    """The kind `code` named `name`; registering the same pair twice is harmless."""
    if not 0 < code < 256:
        raise ValueError(f"frame kind codes are 1..255, not {code}")
    existing = _REGISTRY.get(code)
    if existing is not None and existing.name != name:
        raise ValueError(f"frame kind {code} is {existing.name} already, cannot be {name}")
    return _REGISTRY.setdefault(code, FrameKind(code, name))


def kind_named(code: int) -> str:
    kind = _REGISTRY.get(code)
    return kind.name if kind is not None else f"unknown kind {code}"


class Kind:
    """The frames of the secure protocol itself (both lowerings)."""
    PUBLIC_KEY = register_kind(2, "PUBLIC_KEY")
    CIPHERTEXTS = register_kind(3, "CIPHERTEXTS")
    INTEGERS = register_kind(4, "INTEGERS")
    GARBLED_TABLES = register_kind(5, "GARBLED_TABLES")
    LABELS = register_kind(6, "LABELS")
    OT = register_kind(8, "OT")
