"""Parse spec text into the syntax tree of veil.compiler.ast.

Grammar (compiler/grammar.lark; `#` starts a comment, whitespace and newlines are free):

    spec        := (activation | model)*          # a spec file holds exactly one model
    activation  := 'activation' NAME ('odd'|'even') 'saturate' ['-'] NUMBER
                   '{' segment+ '}'
    segment     := '|x|' '<=' ['-'] NUMBER ':' expr     # polynomial in x, evaluated at |x|
    model       := 'model' NAME '{' entry* '}'        # any order; dense layers in network order
    entry       := 'patch' NUMBER '->' NUMBER ['stride' NUMBER]
                 | 'normalise' NAME '->' expr         # affine in that variable
                 | ('input'|'activation'|'weight'|'bias') 'fix' '<' NUMBER ',' NUMBER '>'
                 | 'coefficient' 'frac' NUMBER
                 | 'weights' STRING                   # .npz path, relative to the spec
                 | 'weights' 'random' 'seed' NUMBER
                 | 'dense' NUMBER '->' NUMBER [NAME]  # NAME: activation (not on the last layer)
    expr        := expr ('+'|'-') expr | expr ('*'|'/') expr | '-' expr | expr '^' expr
                 | '(' expr ')' | NUMBER | NAME       # usual precedence, '^' binds tightest
    NAME        := [A-Za-z_][A-Za-z0-9_]*
    NUMBER      := 12 | 0.5 | .5 | 2.5e-3             # signs are operators
    STRING      := "double-quoted"

Limits (compiler/budget.py): a spec has at most MAX_SPEC_CHARS characters, a number at most
MAX_NUMBER_CHARS, and an expression nests at most MAX_NESTING deep, counting parentheses and,
separately, operators within operators (`-(-(x))` is two of each). lark's LALR parser is a
loop over tokens and the tree is transformed without recursion (Transformer_NonRecursive), so
nothing here recurses on the input's nesting; the limit protects what comes after (the
checker's polynomials recurse), and parentheses are counted while parsing so that a text of
'(' is refused at the first one too deep rather than after it is all parsed.

Keywords (the quoted words above) win over names wherever both could appear, so they are
not valid activation names. Whether numbers are integers, expressions affine or polynomial,
and so on is checked later (check.py). Syntax errors are raised as SpecError with a short
message, e.g. "expected '->' after input size, found '8'" (compiler/syntax_errors.py).

parse_prelude() gives the syntax tree of prelude.veil; check.load_prelude() its checked
activations (checking comes after parsing, so this module does not import check).
"""
from __future__ import annotations

import functools
from pathlib import Path

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedInput, VisitError
from lark.lexer import PatternStr

from veil.compiler import ast
from veil.compiler.budget import MAX_NESTING, MAX_NUMBER_CHARS, MAX_SPEC_CHARS
from veil.compiler.errors import SourcePos, SpecError
from veil.compiler.syntax_errors import syntax_error

GRAMMAR = Path(__file__).with_name("grammar.lark")
PRELUDE = Path(__file__).with_name("prelude.veil")


@functools.cache
def _lark() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=True)


def parse_text(text: str, path: str = "<string>") -> ast.Spec:
    if len(text) > MAX_SPEC_CHARS:
        line = text.count("\n", 0, MAX_SPEC_CHARS) + 1
        column = MAX_SPEC_CHARS - text.rfind("\n", 0, MAX_SPEC_CHARS)
        raise SpecError(path, line, column, f"the spec has {len(text)} characters, more than "
                                            f"the {MAX_SPEC_CHARS} a spec may have")
    try:
        tree = _parse(text, path)
    except UnexpectedInput as e:
        raise syntax_error(e, text, path, _lark().get_terminal) from None
    try:
        return _Build(path).transform(tree)
    except VisitError as e:                 # lark wraps what a callback raises
        if isinstance(e.orig_exc, SpecError):
            raise e.orig_exc from None
        raise


def _parse(text: str, path: str):
    """lark's parse, token by token, refusing parentheses nested more than MAX_NESTING deep
    at the first '(' too deep (before the parser takes it)."""
    parser = _lark().parse_interactive(text)
    depth, tok = 0, None
    try:
        for tok in parser.iter_parse():
            if tok.type == "LPAR":
                depth += 1
                if depth > MAX_NESTING:
                    raise SpecError(path, tok.line, tok.column, "parentheses nested more than "
                                                                f"{MAX_NESTING} deep")
            elif tok.type == "RPAR":
                depth -= 1
        return parser.feed_eof(tok)
    except UnexpectedInput as e:
        e.interactive_parser = parser       # as lark's parse() does: what it accepts
        raise


def parse_file(path: str | Path) -> ast.Spec:
    data = Path(path).read_bytes()        # a missing file raises FileNotFoundError
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise SpecError(str(path), line, 1, "spec is not UTF-8 text") from None
    return parse_text(text, str(path))


@functools.cache
def keywords() -> frozenset[str]:
    return frozenset(t.pattern.value for t in _lark().terminals
                     if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier())


@functools.cache
def parse_prelude() -> ast.Spec:
    return parse_file(PRELUDE)


# --- parse tree -> ast ---

@v_args(meta=True)
class _Build(Transformer_NonRecursive):
    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self._depth: dict[int, int] = {}     # id(expression node) -> operators nested in it

    def _nested(self, node, *operands):
        """`node`, one operator deeper than its deepest operand, or a SpecError at it."""
        depth = 1 + max(self._depth.get(id(o), 0) for o in operands)
        if depth > MAX_NESTING:
            raise SpecError.at(node.pos, f"operators nested more than {MAX_NESTING} deep")
        self._depth[id(node)] = depth
        return node

    def _pos(self, x) -> SourcePos:
        return SourcePos(self.path, x.line, x.column)

    def _num(self, tok: Token) -> ast.Num:
        if len(tok) > MAX_NUMBER_CHARS:
            raise SpecError.at(self._pos(tok), f"a number of {len(tok)} characters "
                                               f"(at most {MAX_NUMBER_CHARS})")
        return ast.Num(float(tok), str(tok), self._pos(tok))

    def start(self, meta, items):
        acts = tuple(i for i in items if isinstance(i, ast.ActivationDecl))
        models = tuple(i for i in items if isinstance(i, ast.ModelDecl))
        return ast.Spec(self.path, acts, models)

    # activations
    def activation_def(self, meta, c):
        name, sym, sat, *segs = c
        return ast.ActivationDecl(str(name), sym, sat, tuple(segs), self._pos(meta), self._pos(name))

    def symmetry(self, meta, c):
        return str(c[0])

    def segment(self, meta, c):
        _, bound, poly = c
        return ast.Segment(bound, poly, self._pos(meta))

    def signed(self, meta, c):
        minus, tok = c
        num = self._num(tok)
        if minus is None:
            return num
        return ast.Num(-num.value, f"-{tok}", self._pos(minus))

    # models
    def model_def(self, meta, c):
        name, *entries = c
        return ast.ModelDecl(str(name), tuple(entries), self._pos(meta))

    def patch(self, meta, c):
        i, o, s = c
        return ast.Patch(self._num(i), self._num(o), s and self._num(s), self._pos(meta))

    def normalise(self, meta, c):
        var, expr = c
        return ast.Normalise(str(var), expr, self._pos(meta))

    def format(self, meta, c):
        kind, total, frac = c
        return ast.Format(str(kind), self._num(total), self._num(frac), self._pos(meta))

    def format_kind(self, meta, c):
        return c[0]

    def predict(self, meta, c):
        return ast.Predict(str(c[1]) == "residual", self._pos(meta))

    def coefficient(self, meta, c):
        return ast.Coefficient(self._num(c[0]), self._pos(meta))

    def weights_file(self, meta, c):
        raw = str(c[0])[1:-1]
        path = raw.replace('\\"', '"').replace("\\\\", "\\")
        return ast.WeightsFile(path, self._pos(meta))

    def weights_random(self, meta, c):
        return ast.WeightsRandom(self._num(c[0]), self._pos(meta))

    def dense(self, meta, c):
        n_in, n_out, act = c
        return ast.Dense(self._num(n_in), self._num(n_out), act and str(act),
                         act and self._pos(act), self._pos(meta))

    # expressions
    def binop(self, meta, c):
        left, op, right = c
        return self._nested(ast.BinOp(str(op), left, right, self._pos(op)), left, right)

    def neg(self, meta, c):
        return self._nested(ast.Neg(c[1], self._pos(c[0])), c[1])

    def number(self, meta, c):
        return self._num(c[0])

    def var(self, meta, c):
        return ast.Var(str(c[0]), self._pos(c[0]))
