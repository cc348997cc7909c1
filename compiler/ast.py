"""Syntax tree of a spec, as parsed (nothing checked yet); every node carries its position."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from veil.compiler.errors import SourcePos


# --- expressions (normalisation and activation polynomials) ---

@dataclass(frozen=True)
class Num:
    value: float
    text: str          # as written, to tell integers from reals
    pos: SourcePos

    @property
    def is_int(self) -> bool:
        return self.text.isdigit()


@dataclass(frozen=True)
class Var:
    name: str
    pos: SourcePos


@dataclass(frozen=True)
class Neg:
    operand: Expr
    pos: SourcePos


@dataclass(frozen=True)
class BinOp:
    op: str            # one of + - * / ^
    left: Expr
    right: Expr
    pos: SourcePos     # of the operator


Expr = Union[Num, Var, Neg, BinOp]


# --- activations ---

@dataclass(frozen=True)
class Segment:
    bound: Num         # the segment covers |x| <= bound
    poly: Expr         # in x, evaluated at |x|
    pos: SourcePos


@dataclass(frozen=True)
class ActivationDecl:
    name: str
    symmetry: str      # 'odd' | 'even'
    saturation: Num
    segments: tuple[Segment, ...]
    pos: SourcePos     # of the 'activation' keyword
    name_pos: SourcePos


# --- model entries ---

@dataclass(frozen=True)
class Patch:
    input_size: Num
    output_size: Num
    stride: Num | None
    pos: SourcePos


@dataclass(frozen=True)
class Normalise:
    var: str
    expr: Expr
    pos: SourcePos


@dataclass(frozen=True)
class Format:
    kind: str          # 'input' | 'activation' | 'weight' | 'bias'
    total: Num
    frac: Num
    pos: SourcePos


@dataclass(frozen=True)
class Coefficient:
    frac: Num
    pos: SourcePos


@dataclass(frozen=True)
class WeightsFile:
    path: str          # relative to the spec's folder
    pos: SourcePos


@dataclass(frozen=True)
class WeightsRandom:
    seed: Num
    pos: SourcePos


@dataclass(frozen=True)
class Dense:
    n_in: Num
    n_out: Num
    activation: str | None
    activation_pos: SourcePos | None
    pos: SourcePos


@dataclass(frozen=True)
class Predict:
    residual: bool     # the network predicts clean - noisy centre; the noisy centre is added back
    pos: SourcePos


Entry = Union[Patch, Normalise, Format, Coefficient, WeightsFile, WeightsRandom, Dense, Predict]


@dataclass(frozen=True)
class ModelDecl:
    name: str
    entries: tuple[Entry, ...]
    pos: SourcePos     # of the 'model' keyword


@dataclass(frozen=True)
class Spec:
    path: str
    activations: tuple[ActivationDecl, ...]
    models: tuple[ModelDecl, ...]
