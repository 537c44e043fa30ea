"""Lowering `model.poisson_input`: each step, `target_var += binomial(n, p) * weight` per element.

Binomial draws as Brian's `BinomialFunction` makes them (approximate=True):
* when n*p > 5 and n*(1-p) > 5, the normal approximation `randn()*sqrt(n*p*(1-p)) + n*p` (a
  float, not rounded, as Brian);
* otherwise Brian inverts the CDF with a loop that restarts when the count passes
  `bound = min(n, n*P + 10*sqrt(n*P*q + 1))` (P = min(p, 1-p), q = 1 - P; counts of 1 - p are
  mirrored, n - X). The kernel IR has no loops, so the same distribution (the binomial truncated
  at floor(bound) and renormalised, which is what restarting gives) is drawn from one uniform:
  u = rand() * F(B), X = sum over k < B of int(u > F(k)), F the CDF, B = floor(bound) <= 30
  terms whenever the normal approximation does not apply.
"""

from __future__ import annotations

import math

from spikec.ir import expression as ast
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel_ops import AddOp
from spikec.ir.model import element_range
from spikec.ir.model_inputs import PoissonInputOp
from spikec.passes.lowering.neuron_kernels import GroupContext, launch, new_kernel
from spikec.ir.types import Type
from spikec.passes.lowering.schedule_order import ScheduledItem, slot_key

UNIFORM = "_poissoninput_u"


def binomial_expression(n: int, p: float) -> tuple[list[ast.Statement], ast.Expr]:
    """Statements to run first (temporaries) and the expression of one binomial(n, p) draw."""
    if n * p > 5 and n * (1 - p) > 5:
        scale, loc = math.sqrt(n * p * (1 - p)), n * p
        return [], _plus(_times(ast.Call("randn", ()), scale), loc)
    reverse = p > 0.5
    small = 1.0 - p if reverse else p
    q = 1.0 - small
    bound = int(math.floor(min(n, n * small + 10.0 * math.sqrt(n * small * q + 1))))
    cdf, mass, total = [], q ** n, 0.0
    for k in range(bound + 1):
        total += mass
        cdf.append(total)
        mass = mass * (n - k) * small / ((k + 1) * q) if q > 0 else 0.0
    draw = ast.Statement(UNIFORM, "=", _times(ast.Call("rand", ()), cdf[bound]))
    count: ast.Expr = ast.Number(0)
    for k in range(bound):
        crossed = ast.Call("int", (ast.Compare(">", ast.Name(UNIFORM), ast.Number(cdf[k])),))
        count = ast.BinaryOp("+", count, crossed)
    if reverse:
        count = ast.BinaryOp("-", ast.Number(n), count)
    return [draw], count


def _times(expr: ast.Expr, factor: float) -> ast.Expr:
    return ast.BinaryOp("*", expr, ast.Number(float(factor)))


def _plus(expr: ast.Expr, term: float) -> ast.Expr:
    return ast.BinaryOp("+", expr, ast.Number(float(term)))


def poisson_input_kernels(context: GroupContext, dt: float) -> tuple[list, list[ScheduledItem]]:
    """The kernels of a group's Poisson inputs and where they run (default: `synapses` slot)."""
    kernels, items = [], []
    for index, op in enumerate(context.op.members(PoissonInputOp)):
        start, stop = element_range(op, "range", context.size)  # a subgroup target's range
        kernel, emitter = new_kernel(context, op.sym_name, Elements(stop - start), dt)
        if start:
            emitter.element = kernel.body.add(AddOp(kernel.index,
                                                    emitter.constant(start, Type.I64)))
        setup, draw = binomial_expression(op.attributes["n"], op.attributes["p"])
        weight = op.attributes["weight"]
        weight_tree = ast.Number(float(weight)) if isinstance(weight, (int, float)) else weight
        effect = ast.Statement(op.attributes["target_var"], "+=",
                               ast.BinaryOp("*", draw, weight_tree))
        emitter.statements(setup + [effect])
        emitter.store_written()
        kernels.append(kernel)
        items.append(ScheduledItem(slot_key(op.attributes["when"]), op.attributes["order"],
                                   op.sym_name, index, [launch(kernel, emitter, context.clock)]))
    return kernels, items
