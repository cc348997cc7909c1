"""Finding 5 of issue 11, outside the semi-honest model: a user that deviates reads the model.

The user computes the online products D = prod_j Q_kj^(e_j) * F itself, with exponents e
that nobody checks: on the last layer e = y + s (the garbled activation's output), and the
cloud sends q + r_c back in the clear, from which the user removes its own r_c. Adding the
unit vector u_j to e adds column j of W to q, exactly. So n_in + 1 copies of one patch (one
honest, one per input) give the whole last layer: 9 patches for `tiny`, 257 for `compact`,
far inside the default rate limit. Nothing in the protocol detects it today, and no cheap
check can (docs/protocol.md, "Threat model"): the test below is an expected failure that
proves the attack works and fails only on the missing detection.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from veil.backends.catalog import get_backend
from veil.backends.yao.framing.channel import InProcessChannel
from veil.backends.yao.lowerings.packed.cloud import PackedCloud
from veil.backends.yao.lowerings.packed.model import PackedOwner, receive_packed_model
from veil.backends.yao.lowerings.packed.user import MAX_BATCH_PATCHES, PackedUser
from veil.models.catalog import compile_model
from veil.models.crosscheck import random_pixel_patches
from veil.util.errors import ProtocolError

from ..secure_testkit import both
from .security.packed_security_kit import quiet_keys


class DeviationUndetected(AssertionError):
    """The deviation went through and the weights came out (the only expected failure)."""


class _ShiftedBases:
    """The last layer's Q, with u_j added to the exponents of the patches the plan says."""

    def __init__(self, inner, plan: Iterator[int | None]):
        self.inner, self.plan = inner, plan

    def products(self, rows):
        rows = [list(r) for r in rows]
        for row in rows:
            j = next(self.plan)
            if j is not None:
                row[j] += 1
        return self.inner.products(rows)


class DeviatingUser(PackedUser):
    """An honest PackedUser but for the last layer's exponents: patch number p (counted over
    every batch) gets u_(p-1) added, patch 0 none."""

    def provision(self, ch) -> None:
        super().provision(ch)
        n_in = self.shapes[-1].n_in
        self.Q[-1] = _ShiftedBases(self.Q[-1], iter([None, *range(n_in)]))


def _attack(model: str, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the outputs of n_in + 1 copies of one patch, the real last-layer weights, the
    honest output of that patch)."""
    program = compile_model(model, "packed", key_bits=bits)
    pk, sk = quiet_keys(bits)
    a, b = InProcessChannel.pair()
    enc, _ = both(lambda: receive_packed_model(b, program, pk),
                  lambda: PackedOwner(program).publish(a, pk), b, a)
    sid = os.urandom(16)
    user = DeviatingUser(program, pk, sk, sid)
    cloud = PackedCloud(program, pk, enc, sid, quiet_keys(bits))
    u_ch, c_ch = InProcessChannel.pair()
    both(lambda: user.setup(u_ch), lambda: cloud.setup(c_ch), u_ch, c_ch)
    side = program.model.geometry.input_size
    patch = program.quantise_input(random_pixel_patches(1, side, seed=5))
    copies = np.repeat(patch, program.dense[-1].layer.n_in + 1, axis=0)
    outputs = []
    for at in range(0, len(copies), MAX_BATCH_PATCHES):
        x = copies[at:at + MAX_BATCH_PATCHES]
        got, _ = both(lambda: user.run_batch(u_ch, x), lambda: cloud.serve_batch(c_ch),
                      u_ch, c_ch)
        outputs.append(got)
    honest = get_backend("plaintext").run_fixed(program, patch)
    return np.concatenate(outputs), program.model.layers[-1].weights, honest


@pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")
@pytest.mark.xfail(strict=True, raises=DeviationUndetected,
                   reason="finding 5: a deviating user reads the last layer; the packed "
                          "protocol does not bind the user's exponents (docs/protocol.md, "
                          "Threat model)")
@pytest.mark.parametrize("model, bits", [("tiny", 512),
                                         pytest.param("compact", 1024, marks=pytest.mark.slow)])
def test_deviating_user_is_detected(model, bits):
    try:
        q, weights, honest = _attack(model, bits)
    except ProtocolError:
        return                                  # the cloud or the protocol noticed: defended
    assert np.array_equal(q[0], honest[0]), "the undisturbed copy is the honest output"
    recovered = (q[1:] - q[0]).T                # column j = W u_j
    assert np.array_equal(recovered, weights), "the attack recovers the last layer exactly"
    raise DeviationUndetected(f"{len(q)} patches of {model} gave its last layer's "
                              f"{weights.size} weights exactly, and nothing noticed")
