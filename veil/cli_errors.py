"""One-line errors for every `veil` command: expected failures reach the user as one line
on stderr and exit status 1, never a traceback."""
from __future__ import annotations

import functools
import sys

import click

from veil.compiler.errors import SpecError


class UserError(Exception):
    """A one-line message for the user."""


def one_line_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from veil.models.images import ImageError
        try:
            return fn(*args, **kwargs)
        except SpecError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        except (UserError, ImageError, FileNotFoundError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    return wrapper
