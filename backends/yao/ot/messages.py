"""Wire messages of the base OT and of the OT extension.

Each message is a frozen dataclass with `to_bytes` and a `from_bytes` that takes the sizes
the receiving party already knows (never sizes read from the message itself), so a message
of the wrong length, shape or content is rejected with ProtocolError before any use. Parties
accept the dataclass, its bytes, or (array messages) its bare uint8 array; all run the
same checks (a bad object or array handed over in this process is a bug: ValueError).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, Union

import numpy as np
from gmpy2 import mpz

from veil.backends.yao.ot import group as grp
from veil.util.errors import ProtocolError

BLOCK = 16        # bytes of an OT message / label (lambda = 128)
KAPPA = 128       # number of base OTs = columns of the IKNP matrix

Bytes = Union[bytes, bytearray, memoryview]


def _array(data: Bytes, shape: tuple[int, ...], what: str) -> np.ndarray:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"{what}: expected bytes, got {type(data).__name__}")
    raw = bytes(data)                     # no copy for bytes; counts bytes, not items
    want = int(np.prod(shape))
    if len(raw) != want:
        raise ProtocolError(f"{what}: expected {want} bytes for shape {shape}, got {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def _check(a: object, shape: tuple[int, ...], what: str) -> None:
    if not isinstance(a, np.ndarray) or a.dtype != np.uint8:
        raise ValueError(f"{what}: expected a uint8 numpy array")
    if a.shape != shape:
        raise ValueError(f"{what}: expected shape {shape}, got {a.shape}")


@dataclass(frozen=True, eq=False)
class BaseOTStart:
    """Base-OT sender -> receiver: A = g^a."""
    a_pub: mpz

    def __post_init__(self) -> None:
        if not grp.in_subgroup(mpz(self.a_pub)):
            raise ValueError("BaseOTStart: A is not in the prime-order subgroup")

    def to_bytes(self) -> bytes:
        return grp.encode(self.a_pub)

    @classmethod
    def from_bytes(cls, data: Bytes) -> BaseOTStart:
        return cls(grp.decode(bytes(_array(data, (grp.ELEMENT_BYTES,), "BaseOTStart"))))


@dataclass(frozen=True, eq=False)
class BaseOTReply:
    """Base-OT receiver -> sender: B_i = g^b_i * A^c_i for each of the n OTs."""
    b_pub: tuple[mpz, ...]

    def __post_init__(self) -> None:
        if not all(grp.in_subgroup(mpz(b)) for b in self.b_pub):
            raise ValueError("BaseOTReply: an element is not in the prime-order subgroup")

    def to_bytes(self) -> bytes:
        return b"".join(grp.encode(b) for b in self.b_pub)

    @classmethod
    def from_bytes(cls, data: Bytes, n: int) -> BaseOTReply:
        rows = _array(data, (n, grp.ELEMENT_BYTES), "BaseOTReply")
        return cls(tuple(grp.decode(row.tobytes()) for row in rows))


@dataclass(frozen=True, eq=False)
class _ArrayMsg:
    """A message that is one uint8 array whose shape follows from m (the batch size)."""
    data: np.ndarray

    @staticmethod
    def shape(m: int) -> tuple[int, ...]:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        return self.data.tobytes()

    @classmethod
    def from_bytes(cls: type[M], data: Bytes, m: int) -> M:
        return cls(_array(data, cls.shape(m), cls.__name__))

    @classmethod
    def parse(cls: type[M], msg: M | np.ndarray | Bytes, m: int) -> M:
        """The message as this class, from the dataclass, its bare array or its bytes,
        checked against the m this party expects."""
        if isinstance(msg, cls):
            _check(msg.data, cls.shape(m), cls.__name__)
            return msg
        if isinstance(msg, np.ndarray):
            _check(msg, cls.shape(m), cls.__name__)
            return cls(msg)
        return cls.from_bytes(msg, m)


M = TypeVar("M", bound=_ArrayMsg)


class ExtendRequest(_ArrayMsg):
    """Extension receiver -> sender: u_j = G(k0_j) ^ G(k1_j) ^ r, 128 rows of m bits
    (bit i of row j at byte i // 8, bit i % 8; padding bits up to a whole byte)."""

    @staticmethod
    def shape(m: int) -> tuple[int, ...]:
        return (KAPPA, -(-m // 8))


class ChosenReply(_ArrayMsg):
    """Extension sender -> receiver: y_b[i] = m_b[i] ^ H(i, q_i ^ b*s), shape (2, m, 16)."""

    @staticmethod
    def shape(m: int) -> tuple[int, ...]:
        return (2, m, BLOCK)


class CorrectionReply(_ArrayMsg):
    """Extension sender -> receiver: d_i = H(i, q_i) ^ H(i, q_i ^ s) ^ R, shape (m, 16)."""

    @staticmethod
    def shape(m: int) -> tuple[int, ...]:
        return (m, BLOCK)
