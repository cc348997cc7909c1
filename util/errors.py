"""The errors Veil raises on purpose: one base class, one subclass per kind of problem.

A `VeilError` is an expected failure with a message fit for the user (bad input, a refused
request, a misbehaving peer); the command line prints it as one line. Anything else that
escapes is a bug and is reported as one (veil/cli_errors.py). Layers define narrower classes
under these (the compiler's SpecError carries a source position, the service's StoreError a
store problem); code that catches by kind catches these.
"""
from __future__ import annotations


class VeilError(Exception):
    """An expected failure, with a one-line message for the user."""


class UsageError(VeilError):
    """An option or argument out of its range (a key size, a worker count, a batch size)."""


class SpecError(VeilError):
    """Something wrong in a model spec (syntax, semantics, weights). The compiler's subclass
    adds the position: veil.compiler.errors.SpecError."""


class CircuitError(VeilError):
    """A circuit that breaks an IR invariant, or a request the circuit cannot answer."""


class ImageError(VeilError):
    """An image that cannot be read, written or denoised as asked (format, size, depth)."""


class KeyFileError(VeilError):
    """A key that is missing, malformed, of the wrong kind or size, or not the expected one."""


class ProtocolError(VeilError):
    """A malformed, unexpected or oversized message from another party."""


class ServiceError(VeilError):
    """A refusal or failure of the networked service (connection, store, rate limit, auth)."""
