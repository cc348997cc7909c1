"""One call from a spec (path or built-in model name) to a verified Program."""
from __future__ import annotations

from veil.compiler.check import load_model, resolve_spec
from veil.compiler.lower import lower
from veil.compiler.program import Lowering, Program, SecurityParams


def security_for(key_bits: int) -> SecurityParams:
    """Security settings for a Paillier modulus size; sizes below 2048 are for tests (the
    key generator warns), below 512 are refused."""
    if key_bits < 512 or key_bits % 2:
        raise ValueError(f"--key-bits must be an even number of at least 512, got {key_bits}")
    return SecurityParams(modulus_bits=key_bits)


def compile_spec(spec: str, lowering: str = "packed",
                 security: SecurityParams = SecurityParams()) -> Program:
    program = lower(load_model(resolve_spec(spec)), Lowering(lowering), security)
    program.verify()
    return program
