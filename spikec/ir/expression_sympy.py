"""Converting code trees to sympy and back, for the passes that need algebra (state updaters).

Names become real `Symbol`s; default math functions map to sympy's (`arcsin` to `asin`, `abs` to
`Abs`); functions sympy lacks (`clip`, `exprel`, `rand`, ...) become undefined functions of the
same name. `rand()` and `randn()` calls are kept apart: each call is its own random draw, so
they are given a hidden index argument that `from_sympy` drops again.

`from_sympy(to_sympy(e))` is mathematically equal to `e`, not always the same tree (sympy
reorders and simplifies terms).
"""

from __future__ import annotations

import itertools

import sympy

from spikec.ir.expression import BinaryOp, BoolOp, Call, Compare, Expr, Name, Number, UnaryOp

_TO_SYMPY_FUNCTIONS = {
    "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos,
    "tan": sympy.tan, "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "abs": sympy.Abs,
    "floor": sympy.floor, "ceil": sympy.ceiling, "sign": sympy.sign,
}
_FROM_SYMPY_FUNCTIONS = {
    sympy.exp: "exp", sympy.log: "log", sympy.sin: "sin", sympy.cos: "cos", sympy.tan: "tan",
    sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.tanh: "tanh", sympy.asin: "arcsin",
    sympy.acos: "arccos", sympy.atan: "arctan", sympy.Abs: "abs", sympy.floor: "floor",
    sympy.ceiling: "ceil", sympy.sign: "sign",
}
_RANDOM_FUNCTIONS = ("rand", "randn", "poisson")
_COMPARISONS = {"<": sympy.StrictLessThan, "<=": sympy.LessThan, ">": sympy.StrictGreaterThan,
                ">=": sympy.GreaterThan, "==": sympy.Eq, "!=": sympy.Ne}


def symbol(name: str) -> sympy.Symbol:
    """The sympy symbol spikec uses for a model name (real-valued, so simplification is valid)."""
    return sympy.Symbol(name, real=True)


def to_sympy(expr: Expr) -> sympy.Basic:
    """The sympy form of a code tree."""
    return _ToSympy().convert(expr)


class _ToSympy:
    def __init__(self):
        self.draws = itertools.count()

    def convert(self, expr: Expr) -> sympy.Basic:
        if isinstance(expr, Number):
            if isinstance(expr.value, bool):
                return sympy.true if expr.value else sympy.false
            return sympy.Integer(expr.value) if isinstance(expr.value, int) else sympy.Float(expr.value)
        if isinstance(expr, Name):
            return symbol(expr.id)
        if isinstance(expr, UnaryOp):
            operand = self.convert(expr.operand)
            return {"-": lambda x: -x, "+": lambda x: x, "not": sympy.Not}[expr.op](operand)
        if isinstance(expr, Call):
            args = [self.convert(a) for a in expr.args]
            if expr.func in _RANDOM_FUNCTIONS:
                args.append(sympy.Integer(next(self.draws)))
            function = _TO_SYMPY_FUNCTIONS.get(expr.func) or sympy.Function(expr.func)
            return function(*args)
        left, right = self.convert(expr.left), self.convert(expr.right)
        if isinstance(expr, Compare):
            return _COMPARISONS[expr.op](left, right)
        if isinstance(expr, BoolOp):
            return sympy.And(left, right) if expr.op == "and" else sympy.Or(left, right)
        return {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
                "/": lambda: left / right, "**": lambda: left ** right,
                "//": lambda: sympy.floor(left / right), "%": lambda: sympy.Mod(left, right),
                }[expr.op]()


def from_sympy(value: sympy.Basic) -> Expr:
    """A code tree for a sympy expression (sums with subtraction, products with division)."""
    if value is sympy.true or value is sympy.false:
        return Number(bool(value))
    if isinstance(value, sympy.Symbol):
        return Name(value.name)
    if isinstance(value, sympy.Integer):
        return _signed(Number(abs(int(value))), int(value) < 0)
    if isinstance(value, sympy.Rational):
        tree = BinaryOp("/", Number(abs(int(value.p))), Number(int(value.q)))
        return _signed(tree, value < 0)
    if isinstance(value, sympy.Float) or value in (sympy.pi, sympy.E):
        if value == sympy.pi:
            return Name("pi")
        number = float(value)
        return _signed(Number(abs(number)), number < 0)
    if value in (sympy.oo, -sympy.oo):
        return _signed(Name("inf"), value == -sympy.oo)
    if isinstance(value, sympy.Add):
        return _sum(value)
    if isinstance(value, sympy.Mul):
        return _product(value)
    if isinstance(value, sympy.Pow):
        return _power(value)
    if isinstance(value, sympy.Mod):
        return BinaryOp("%", from_sympy(value.args[0]), from_sympy(value.args[1]))
    if isinstance(value, sympy.Not):
        return UnaryOp("not", from_sympy(value.args[0]))
    if isinstance(value, (sympy.And, sympy.Or)):
        op = "and" if isinstance(value, sympy.And) else "or"
        args = [from_sympy(a) for a in value.args]
        tree = args[0]
        for arg in args[1:]:
            tree = BoolOp(op, tree, arg)
        return tree
    if isinstance(value, sympy.core.relational.Relational):
        op = {v: k for k, v in _COMPARISONS.items()}[type(value)]
        return Compare(op, from_sympy(value.lhs), from_sympy(value.rhs))
    if isinstance(value, sympy.Function):
        name = _FROM_SYMPY_FUNCTIONS.get(value.func, getattr(value.func, "__name__", None))
        args = list(value.args)
        if name in _RANDOM_FUNCTIONS:
            args = args[:-1]  # the hidden draw index
        return Call(name, tuple(from_sympy(a) for a in args))
    raise ValueError(f"cannot express the sympy expression {value} in the model language")


def _signed(tree: Expr, negative: bool) -> Expr:
    return UnaryOp("-", tree) if negative else tree


def _sum(value: sympy.Add) -> Expr:
    terms = sorted(value.args, key=lambda t: t.could_extract_minus_sign())  # positives first
    tree: Expr | None = None
    for term in terms:
        negative = term.could_extract_minus_sign()
        part = from_sympy(-term if negative else term)
        if tree is None:
            tree = UnaryOp("-", part) if negative else part
        else:
            tree = BinaryOp("-" if negative else "+", tree, part)
    return tree


def _product(value: sympy.Mul) -> Expr:
    coefficient, factors = value.as_coeff_mul()
    if coefficient < 0:
        return UnaryOp("-", from_sympy(-value))
    numerator, denominator = [], []
    for factor in factors:
        base, exponent = factor.as_base_exp()
        if exponent.is_number and exponent < 0:
            denominator.append(base ** -exponent)
        else:
            numerator.append(factor)
    if coefficient != 1:
        if isinstance(coefficient, sympy.Rational) and coefficient.q != 1:
            denominator.insert(0, sympy.Integer(coefficient.q))
            if coefficient.p != 1:
                numerator.insert(0, sympy.Integer(coefficient.p))
        else:
            numerator.insert(0, coefficient)
    top = _chain("*", [from_sympy(f) for f in numerator]) if numerator else Number(1)
    if not denominator:
        return top
    bottom = _chain("*", [from_sympy(f) for f in denominator])
    return BinaryOp("/", top, bottom)


def _power(value: sympy.Pow) -> Expr:
    base, exponent = value.args
    if exponent == sympy.Rational(1, 2):
        return Call("sqrt", (from_sympy(base),))
    if exponent.is_number and exponent < 0:
        return BinaryOp("/", Number(1), from_sympy(base ** -exponent))
    return BinaryOp("**", from_sympy(base), from_sympy(exponent))


def _chain(op: str, trees: list[Expr]) -> Expr:
    tree = trees[0]
    for other in trees[1:]:
        tree = BinaryOp(op, tree, other)
    return tree
