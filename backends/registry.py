"""Backends by name. A backend subclasses `Backend` and decorates itself with @register;
backends/catalog.py imports the built-in ones, so that naming them works."""
from __future__ import annotations

from veil.backends.base import Backend
from veil.util.errors import UsageError

_BACKENDS: dict[str, type[Backend]] = {}


def register(cls: type[Backend]) -> type[Backend]:
    _BACKENDS[cls.name] = cls
    return cls


def registered() -> list[str]:
    return sorted(_BACKENDS)


def make_backend(name: str, **options) -> Backend:
    """The backend `name`, given those of `options` it declares (Backend.options) that are
    set; the others (e.g. --workers for a backend that runs in one process) do not apply."""
    try:
        cls = _BACKENDS[name]
    except KeyError:
        raise UsageError(f"unknown backend {name!r} (available: {', '.join(registered())})") from None
    return cls(**{k: v for k, v in options.items() if k in cls.options and v is not None})
