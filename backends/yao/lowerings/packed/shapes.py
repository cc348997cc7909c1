"""The packed layouts a session runs with, checked against both parties' keys.

The compiler derived every width once (veil.compiler.packed_layout, carried by each dense
stage of the Program); here the parties check that their keys fit that layout and that each
activation's output feeds the next layer, before anything is sent.
"""
from __future__ import annotations

from veil.compiler.packed_layout import PackedLayout
from veil.compiler.program import Program
from veil.backends.yao.framing.channel import ProtocolError
from veil.util.errors import KeyFileError, SpecError


def program_shapes(program: Program, user_bits: int, cloud_bits: int) -> list[PackedLayout]:
    """Per layer; checks the keys fit the slot layout and each activation feeds the next."""
    if user_bits != program.security.modulus_bits:     # the slot layout was fixed for it
        raise KeyFileError(f"the user's key has {user_bits} bits, the program was compiled for "
                           f"{program.security.modulus_bits}")
    if cloud_bits < user_bits:
        raise ProtocolError("the cloud's key is shorter than the user's: slots would not fit")
    shapes = [st.packed for st in program.dense]
    for st in program.dense:
        act = program.activation(st.layer.index)
        nxt = st.layer.index          # 1-based index of the next dense stage = list position
        if act is not None and act.table.out_format.total != shapes[nxt].input_bits:
            raise SpecError(f"act{st.layer.index}'s output is not layer {nxt + 1}'s input")
    return shapes
