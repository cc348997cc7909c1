"""The security settings and the `packed` lowering's layout of one dense layer, derived once.

The compiler computes a PackedLayout for every dense layer when it lowers a model, and the
Program carries it (DenseStage.packed); the parties, the service and the benchmarks read it
there and never recompute it. Slot packing (PROTOCOL.md lowering 2, as revised in
docs/protocol.md): a slot holds x + r_c, the accumulator plus the user's kappa-bit-wider mask,
s = acc + kappa + 2 bits. The cloud's offline correction W s - b + m (its activation mask s,
its slot mask m) is wider, correction_bits; it is packed at the same slot positions and only
has to fit as a whole integer below |N| - 1, which bounds the slots per ciphertext too.
"""
from __future__ import annotations

from dataclasses import dataclass

from veil.compiler.model import Layer
from veil.util.errors import UsageError

KEY_BITS_TEST_FLOOR = 512               # smaller keys for tests only (the generator warns)


def check_key_bits(key_bits: int) -> int:
    """The one check of a Paillier modulus size, for every flag and every key file."""
    if key_bits < KEY_BITS_TEST_FLOOR or key_bits % 2:
        raise UsageError(f"--key-bits must be an even number of at least {KEY_BITS_TEST_FLOOR} "
                         f"(2048 or more for real use), got {key_bits}")
    return key_bits


@dataclass(frozen=True)
class SecurityParams:
    modulus_bits: int = 2048    # Paillier |N|
    kappa: int = 40             # statistical security of every additive mask
    label_bits: int = 128       # garbled-circuit label length

    @classmethod
    def for_key_bits(cls, key_bits: int, kappa: int = 40) -> "SecurityParams":
        if kappa < 1:
            raise UsageError(f"--kappa must be positive, got {kappa}")
        return cls(modulus_bits=check_key_bits(key_bits), kappa=kappa)


@dataclass(frozen=True)
class PackedLayout:
    """Every public width of one dense layer in the `packed` lowering."""
    n_in: int
    n_out: int
    kappa: int
    weight_bits: int        # l_w; R is drawn from [2^l_w, 2^(l_w + kappa)) so V = W + R > 0
    input_bits: int         # in.total: the cloud's activation mask s is in [2^in, 2^(in + kappa))
    acc_bits: int           # the user's r_c is drawn from [2^acc, 2^(acc + kappa))
    slot_bits: int          # s = l_acc + kappa + 2
    correction_bits: int    # every slot of W s - b + m lies in [0, 2^correction_bits)
    slots: int              # rows per plaintext
    first: bool             # layer 1: its input is the user's own patch, unmasked, signed

    @property
    def blocks(self) -> int:
        """ceil(n_out / slots) plaintexts per column."""
        return -(-self.n_out // self.slots)

    @property
    def ciphertexts(self) -> int:
        """blocks * n_in packed column ciphertexts."""
        return self.blocks * self.n_in

    @property
    def masked_output_bits(self) -> int:
        """Every output x + r_c the cloud sends in the clear lies in [0, 2^this)."""
        return self.acc_bits + self.kappa + 1

    @property
    def mask_floor_bits(self) -> int:
        """The cloud's slot mask m is drawn from [2^f, 2^(f + kappa)), 2^f > |W s - b|."""
        return self.correction_bits - self.kappa - 1

    @property
    def exponent_bound(self) -> int:
        """Exclusive bound on |exponent| of the user's online multi-exponentiation: the
        patch (signed, layer 1) or y'' = t + s (later layers)."""
        return 1 << (self.input_bits if self.first else self.input_bits + self.kappa + 1)

    @classmethod
    def of(cls, layer: Layer, sec: SecurityParams) -> "PackedLayout":
        s = layer.acc_bits + sec.kappa + 2
        # |W s| < 2^(l_w - 1 + l_s + log n_in) with s < 2^(l_in + kappa + 1); |b| < 2^(acc - 1)
        product = 0 if layer.index == 1 else (layer.weight_format.total + layer.in_format.total
                                              + sec.kappa + 1 + layer.n_in.bit_length())
        correction = max(product, layer.acc_bits) + 1 + sec.kappa + 1
        room = sec.modulus_bits - 2
        t = min(room // s, (room - correction) // s + 1)
        if t < 1:
            raise UsageError(f"layer {layer.index}: a {s}-bit slot does not fit a "
                             f"{sec.modulus_bits}-bit Paillier modulus")
        return cls(n_in=layer.n_in, n_out=layer.n_out, kappa=sec.kappa,
                   weight_bits=layer.weight_format.total, input_bits=layer.in_format.total,
                   acc_bits=layer.acc_bits, slot_bits=s, correction_bits=correction, slots=t,
                   first=layer.index == 1)
