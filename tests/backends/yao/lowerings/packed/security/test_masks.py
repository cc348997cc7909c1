"""Each mask's range and its source (the `secrets` CSPRNG), pinned down by stubbing the
CSPRNG: a floor one bit short is a 2^-kappa event that no recorded run shows."""
import pytest

from veil.backends.yao.lowerings.packed import linear as L
from veil.compiler.packed_layout import PackedLayout

from .packed_security_kit import KAPPA

pytestmark = pytest.mark.filterwarnings("ignore::veil.backends.yao.paillier.InsecureKeyWarning")


def test_masks_come_from_secrets_and_span_exactly_their_range(setting, monkeypatch):
    """Every mask of the lowering (R, s, m, r_c) comes from the `secrets` CSPRNG and spans
    exactly [2^floor, 2^(floor + kappa)): with secrets.randbelow stubbed to its lowest and
    highest answers, each draw gives the ends of its range. The floors are the widths of the
    values hidden: l_w for R, l_in for s, mask_floor_bits (> |W s - b|) for m, l_acc for
    r_c. (A floor one bit short or a range off by one is a 2^-kappa event, invisible in a
    run: this pins it down.)"""
    import secrets
    program = setting[0]
    for st in program.dense:
        sh = st.packed
        draws = {"R": (lambda: L.draw_weight_masks(sh), sh.weight_bits),
                 "s": (lambda: L.draw_input_masks(sh, 2), sh.input_bits),
                 "m": (lambda: L.draw_slot_masks(sh, 2), sh.mask_floor_bits),
                 "r_c": (lambda: L.draw_accumulator_masks(sh, 2), sh.acc_bits)}
        for name, (draw, floor) in draws.items():
            for answer, want in ((lambda k: 0, 1 << floor),
                                 (lambda k: k - 1, (1 << (floor + KAPPA)) - 1)):
                monkeypatch.setattr(secrets, "randbelow", answer)
                got = {v for row in draw() for v in row}
                monkeypatch.undo()
                assert got == {want}, f"layer {st.layer.index}: {name} spans the wrong range"
