"""The built-in backends, registered by importing them: the names `--backend` accepts.
A new backend is imported here (and registers itself with @register)."""
from __future__ import annotations

from veil.backends import float_backend, plaintext  # noqa: F401  (registered on import)
from veil.backends.base import Backend
from veil.backends.registry import make_backend, registered
from veil.backends.yao import backend as yao_backend  # noqa: F401  (registered on import)


def available() -> list[str]:
    return registered()


def get_backend(name: str, **options) -> Backend:
    return make_backend(name, **options)
