"""Backends by name. A new backend subclasses `Backend` and decorates itself with @register."""
from __future__ import annotations

from veil.backends.base import Backend

_BACKENDS: dict[str, type[Backend]] = {}


def register(cls: type[Backend]) -> type[Backend]:
    _BACKENDS[cls.name] = cls
    return cls


def available() -> list[str]:
    _load_builtins()
    return sorted(_BACKENDS)


def get_backend(name: str, **options) -> Backend:
    _load_builtins()
    try:
        cls = _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r} (available: {', '.join(sorted(_BACKENDS))})")
    return cls(**options)


def backend_options(name: str, workers: int | None) -> dict:
    """Command-line options a backend takes: `workers` (processes) for the secure backend."""
    return {"workers": workers} if name == "yao" and workers is not None else {}


def _load_builtins() -> None:
    # Imported for their @register side effect; lazily, so importing the registry is cheap.
    from veil.backends import float_backend, plaintext  # noqa: F401
    from veil.backends.yao import backend  # noqa: F401
