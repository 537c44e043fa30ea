"""Building synapses on the host, at once, as `Synapses.connect(...)` is called (Brian's runtime
mode), vectorised with numpy and in chunks of at most `CHUNK` candidate pairs, so memory stays
bounded whatever the number of synapses.

Order (synapse numbers) is Brian's: for a generator over `i` (every form but `i=`-generators),
source 0's synapses first, each source's in the order its iterator yields them; explicit arrays
in the order given; `n` copies of a pair next to each other.

Random choices use Philox (`spikec.ir.philox`), keyed so the result depends only on `seed()` and
on how many host evaluations came before since it (each connect call takes fresh streams from
`initialiser_streams`), never on the device or the chunk size:

* `sample(..., p=p)`: per outer index o, geometric gaps between hits (Brian's "jump method"),
  gap d from 32-bit word d%4 of counter (d//4, 0, o mod 2**32, o div 2**32), key (seed, stream);
* `sample(..., size=s)`: the s candidates with the smallest 64-bit keys (counter
  (position, 1, o lo, o hi)), in increasing order;
* `rand()`/`randn()` in connect code (a `p` depending on `j`): draw number n of candidate
  (o, k) from counter (k mod 2**32, n, o lo, o hi), with the formulas of `spikec.ir.philox`;
* `p` with explicit arrays: pair number m kept when uniform(counter (m, 0, 0, 0)) < p.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from spikec.errors import EquationError, SourceLocation
from spikec.frontend.connect_code import ArrayPlan, Generator, GeneratorPlan
from spikec.frontend.synapses import Synapses
from spikec.ir import philox
from spikec.ir.dimension_rules import BOOLEAN, FLOAT, INTEGER, Source, check_condition, infer
from spikec.ir.expression import Call, Expr, Name, Number, identifiers, map_tree
from spikec.runtime.devices import device_settings
from spikec.runtime.host_code import _fresh_seed, initialiser_streams
from spikec.runtime.synaptic_code import SynapticHostCode, pair_variables
from spikec.units import DIMENSIONLESS

CHUNK = 1 << 22          # candidate pairs evaluated at once
ROW_BLOCK = 1 << 16      # outer indices whose iterator arguments are evaluated at once
_LOW32 = np.uint64(0xFFFFFFFF)
Pairs = tuple[np.ndarray, np.ndarray]


def build_synapses(synapses: Synapses, plan: Any, namespace: dict[str, Any],
                   walk: Callable[["GeneratorBuild"], Pairs | None] | None = None) -> Pairs:
    """The (source, target) index arrays (int32) of the synapses `plan` creates. A generator is
    walked by `walk` when given (the compiled walk of `spikec.runtime.connect_compiled`, None
    for a form it does not compile), else here, with numpy."""
    seed = device_settings.seed if device_settings.seed is not None else _fresh_seed()
    if isinstance(plan, ArrayPlan):
        keep = slice(None)
        if plan.p < 1:
            _, stream = initialiser_streams.take()
            keep = philox.uniform(seed, stream, 0, np.arange(len(plan.i)), 0) < plan.p
        counts = plan.n[keep]
        return (np.repeat(plan.i[keep], counts).astype(np.int32),
                np.repeat(plan.j[keep], counts).astype(np.int32))
    build = GeneratorBuild(synapses, plan, namespace, seed)
    taken = initialiser_streams.count
    pairs = walk(build) if walk is not None else None
    pairs = pairs if pairs is not None else build.run()
    # Evaluating connect code took a stream per chunk (`HostCode` takes one per evaluation),
    # though its draws come from the connect's own streams: forget those, so that the streams
    # of later host code depend neither on the chunking nor on which walk ran.
    initialiser_streams.count = taken
    return pairs


@dataclass
class _Draws:
    """Where the rand()/randn() calls of connect code went: names bound to arrays of draws."""

    names: list[tuple[str, str]]    # (bound name, 'rand' or 'randn'), in draw order


def _replace_random_calls(tree: Expr | None, draws: _Draws) -> Expr | None:
    """`tree` with each rand()/randn() replaced by a fresh name `_rand<n>`/`_randn<n>`, numbered
    left to right."""
    def replace(node: Expr) -> Expr:
        if isinstance(node, Call) and node.func in ("rand", "randn") and not node.args:
            name = f"_{node.func}{len(draws.names)}"
            draws.names.append((name, node.func))
            return Name(name, node.span)
        return node

    return None if tree is None else map_tree(tree, replace)


def _split(outer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    outer = outer.astype(np.uint64)
    return outer & _LOW32, outer >> np.uint64(32)


class GeneratorBuild:
    """One generator connect: checks its code, then walks the outer indices in blocks."""

    def __init__(self, synapses: Synapses, plan: GeneratorPlan, namespace: dict[str, Any],
                 seed: int):
        self.synapses = synapses
        self.plan = plan
        self.generator: Generator = plan.generator
        self.namespace = namespace
        self.seed = seed
        _, self.sample_stream = initialiser_streams.take()
        _, self.code_stream = initialiser_streams.take()
        self.owner = f"{synapses.owner}, connect"
        self.outer, self.result = plan.outer, plan.result
        groups = {"i": synapses.source, "j": synapses.target}
        self.outer_size = len(groups[self.outer])
        self.result_size = len(groups[self.result])
        self.draws = _Draws([])
        generator = self.generator
        self.element = _replace_random_calls(generator.element, self.draws)
        self.condition = _replace_random_calls(generator.condition, self.draws)
        self.n = _replace_random_calls(plan.n, self.draws) if isinstance(plan.n, Expr) \
            else plan.n
        extra = {generator.variable: (DIMENSIONLESS, INTEGER)}
        extra.update({name: (DIMENSIONLESS, FLOAT) for name, _ in self.draws.names})
        self.extra = extra
        checker = SynapticHostCode(synapses, namespace, self.owner,
                                   bindings={"i": np.zeros(0, np.int64)}, extra=extra)
        self.names = checker.namespace
        result_side = "post" if self.result == "j" else "pre"
        self.result_names = {self.result} | {n for n, v in pair_variables(synapses).items()
                                             if v[2] == result_side}
        self._check()

    # -- checks ------------------------------------------------------------------------------
    def _location(self, tree: Expr, text: str | None = None) -> SourceLocation | None:
        if tree.span is None:
            return None
        return Source(text or self.generator.text, self.owner).location(tree.span)

    def _check(self) -> None:
        generator, text = self.generator, self.generator.text
        source = Source(text, self.owner)
        for tree in [self.element, self.condition, self.n if isinstance(self.n, Expr) else None]:
            for name in ("N_incoming", "N_outgoing"):
                if tree is not None and name in identifiers(tree):
                    raise EquationError(f"{self.owner}: connect code cannot refer to '{name}'",
                                        hint="the numbers of synapses change while connecting")
        self._integer(self.element, "the generator's element", source)
        if self.result in identifiers(self.element) and generator.variable != self.result:
            raise EquationError(f"{self.owner}: the generator's element cannot use "
                                f"'{self.result}', the index it defines",
                                self._location(self.element))
        iterator = generator.iterator
        for what, tree in (("low", iterator.low), ("high", iterator.high),
                           ("step", iterator.step), ("size", iterator.size)):
            if tree is not None:
                self._integer(tree, f"the iterator's {what} argument", source)
        if iterator.p is not None:
            inferred = infer(iterator.p, self.names, source)
            if not inferred.dim.is_dimensionless or inferred.kind == BOOLEAN:
                raise EquationError(f"{self.owner}: the probability p must be a "
                                    "dimensionless number", self._location(iterator.p))
        forbidden = self.result_names | {generator.variable} | {"rand", "randn"}
        for tree in iterator.expressions():
            used = identifiers(tree) & forbidden
            if used:
                raise EquationError(f"{self.owner}: the iterator's arguments cannot depend on "
                                    f"'{sorted(used)[0]}'", self._location(tree),
                                    f"they are evaluated once per {self.outer}")
        if self.condition is not None:
            check_condition(self.condition, self.names, source, "the generator's condition"
                            if generator.variable != "j" else "the connect condition")
        if isinstance(self.n, Expr):
            self._integer(self.n, "n", Source(self.plan.n_text, self.owner))

    def _integer(self, tree: Expr, what: str, source: Source) -> None:
        inferred = infer(tree, self.names, source)
        if inferred.kind != INTEGER or not inferred.dim.is_dimensionless:
            raise EquationError(f"{self.owner}: {what} must be an integer, but "
                                f"'{source.text}' gives a {inferred.kind} value",
                                source.location(tree.span),
                                "use integer arithmetic (// for division, int(...))")

    # -- evaluation --------------------------------------------------------------------------
    def _value(self, tree: Expr, bindings: dict[str, np.ndarray], length: int) -> np.ndarray:
        if isinstance(tree, Name) and tree.id in bindings:
            return bindings[tree.id]
        if isinstance(tree, Number):
            return np.full(length, tree.value)
        code = SynapticHostCode(self.synapses, self.namespace, self.owner, bindings, self.extra)
        values, _ = code.evaluate(tree)
        return values

    def _random_bindings(self, outer: np.ndarray, inner: np.ndarray) -> dict[str, np.ndarray]:
        if not self.draws.names:
            return {}
        low, high = _split(outer)
        element = inner.astype(np.int64).astype(np.uint64) & _LOW32
        found = {}
        for number, (name, kind) in enumerate(self.draws.names):
            w0, w1, w2, w3 = philox.philox4x32((element, number, low, high),
                                               (self.seed & 0xFFFFFFFF, self.code_stream))
            u1 = philox.words_to_uniform(w0, w1)
            if kind == "rand":
                found[name] = u1
            else:
                u2 = philox.words_to_uniform(w2, w3)
                found[name] = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
        return found

    def run(self, first_row: int = 0) -> Pairs:
        """The pairs of the outer indices from the block of rows holding `first_row` on (the
        compiled walk reruns a failing block here, to raise the reference's error)."""
        pre_parts: list[np.ndarray] = [np.zeros(0, np.int32)]
        post_parts: list[np.ndarray] = [np.zeros(0, np.int32)]
        for start in range(first_row // ROW_BLOCK * ROW_BLOCK, self.outer_size, ROW_BLOCK):
            rows = np.arange(start, min(start + ROW_BLOCK, self.outer_size), dtype=np.int64)
            rows = self.rows_passing(rows)
            for outer, inner in self._candidates(rows):
                pairs = self._pairs(outer, inner)
                if pairs is not None:
                    pre_parts.append(pairs[0])
                    post_parts.append(pairs[1])
        return np.concatenate(pre_parts), np.concatenate(post_parts)

    def rows_passing(self, rows: np.ndarray) -> np.ndarray:
        """The rows where a condition that depends on the outer index alone holds."""
        condition = self.condition
        if condition is None or not len(rows):
            return rows
        inner = self.result_names | {self.generator.variable} | {n for n, _ in self.draws.names}
        if identifiers(condition) & inner:
            return rows
        return rows[self._value(condition, {self.outer: rows}, len(rows)).astype(bool)]

    def iterator_values(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        iterator = self.generator.iterator
        bindings = {self.outer: rows}
        values = {what: self._value(tree, bindings, len(rows)).astype(np.int64)
                  for what, tree in (("low", iterator.low), ("high", iterator.high),
                                     ("step", iterator.step), ("size", iterator.size))
                  if tree is not None}
        if iterator.p is not None:
            values["p"] = self._value(iterator.p, bindings, len(rows)).astype(np.float64)
        if np.any(values["step"] == 0):
            raise EquationError(f"{self.owner}: the iterator's step is 0",
                                self._location(iterator.step), "give a non-zero step")
        low, high, step = values["low"], values["high"], values["step"]
        values["count"] = np.where(step > 0, (high - low + step - 1) // step,
                                   (low - high - step - 1) // -step).clip(min=0)
        return values

    def _candidates(self, rows: np.ndarray):
        """(outer, inner) arrays of at most CHUNK candidates each, in Brian's order."""
        if not len(rows):
            return
        values = self.iterator_values(rows)
        function = self.generator.iterator.function
        if function == "range":
            yield from _range_chunks(rows, values["low"], values["step"], values["count"])
        elif "p" in values:
            yield from self._sampled_by_p(rows, values)
        else:
            yield from self._sampled_by_size(rows, values)

    def _sampled_by_p(self, rows: np.ndarray, values: dict[str, np.ndarray]):
        count, p = values["count"], values["p"]
        low, step = values["low"], values["step"]
        expected = count * p.clip(0, 1)
        width = np.ceil(expected + 6 * np.sqrt(expected) + 16).astype(np.int64)
        start = 0
        while start < len(rows):  # blocks of rows whose expected hits fit a chunk
            stop = start + max(1, int(np.searchsorted(np.cumsum(width[start:]), CHUNK)))
            block = slice(start, stop)
            positions_rows, positions = _geometric_hits(
                self.seed, self.sample_stream, rows[block], count[block], p[block],
                width[block])
            yield (rows[block][positions_rows],
                   low[block][positions_rows] + step[block][positions_rows] * positions)
            start = stop

    def _sampled_by_size(self, rows: np.ndarray, values: dict[str, np.ndarray]):
        count, size = values["count"], values["size"]
        skip = self.plan.skip_if_invalid
        if not skip and np.any(size < 0):
            raise EquationError(f"{self.owner}: the sample size is negative "
                                f"({int(size[size < 0][0])})",
                                self._location(self.generator.iterator.size))
        if not skip and np.any(size > count):
            bad = np.flatnonzero(size > count)[0]
            raise EquationError(f"{self.owner}: the sample size {int(size[bad])} is bigger than "
                                f"the population ({int(count[bad])})",
                                self._location(self.generator.iterator.size),
                                "use skip_if_invalid=True to take the whole population then")
        size = size.clip(0, count)
        start = 0
        while start < len(rows):
            stop = start + max(1, int(np.searchsorted(np.cumsum(count[start:]), CHUNK)))
            block = slice(start, stop)
            which, positions = _smallest_keys(self.seed, self.sample_stream, rows[block],
                                              count[block], size[block])
            yield (rows[block][which],
                   values["low"][block][which] + values["step"][block][which] * positions)
            start = stop

    def _pairs(self, outer: np.ndarray, inner: np.ndarray):
        """The (pre, post) pairs the candidates give, after element, condition and n."""
        if not len(outer):
            return None
        bindings = {self.outer: outer, self.generator.variable: inner,
                    **self._random_bindings(outer, inner)}
        result = self._value(self.element, bindings, len(outer)).astype(np.int64)
        condition = self.condition
        checked = False
        if condition is not None and identifiers(condition) & self.result_names:
            bindings, result = self._in_range(bindings, result, "and the condition refers to "
                                              "the result index or its group's variables")
            checked = True
        if condition is not None:
            bindings[self.result] = result
            keep = self._value(condition, bindings, len(result)).astype(bool)
            bindings = {name: values[keep] for name, values in bindings.items()}
            result = result[keep]
        if not checked:
            bindings, result = self._in_range(bindings, result, "")
        bindings[self.result] = result
        if isinstance(self.n, int):
            counts = self.n
        else:
            counts = self._value(self.n, bindings, len(result)).astype(np.int64)
            if np.any(counts < 0):
                raise EquationError(f"{self.owner}: n is negative for some pairs",
                                    hint="n must be a non-negative integer")
        pre, post = bindings["i"], bindings["j"]
        if not isinstance(counts, int) or counts != 1:
            pre, post = np.repeat(pre, counts), np.repeat(post, counts)
        return pre.astype(np.int32), post.astype(np.int32)

    def _in_range(self, bindings: dict[str, np.ndarray], result: np.ndarray, why: str):
        bad = (result < 0) | (result >= self.result_size)
        if not np.any(bad):
            return bindings, result
        if self.plan.skip_if_invalid:
            keep = ~bad
            return {name: values[keep] for name, values in bindings.items()}, result[keep]
        value = int(result[bad][0])
        raise EquationError(f"{self.owner}: index {self.result}={value} is outside the allowed "
                            f"range 0..{self.result_size - 1}{', ' + why if why else ''}",
                            self._location(self.generator.element),
                            "use skip_if_invalid=True to leave such pairs out")


def _range_chunks(rows: np.ndarray, low: np.ndarray, step: np.ndarray, count: np.ndarray):
    """The candidates of range iterators, row after row, cut into chunks."""
    ends = np.cumsum(count)
    total = int(ends[-1]) if len(ends) else 0
    for start in range(0, total, CHUNK):
        position = np.arange(start, min(start + CHUNK, total), dtype=np.int64)
        row = np.searchsorted(ends, position, side="right")
        within = position - (ends[row] - count[row])
        yield rows[row], low[row] + step[row] * within


def _geometric_hits(seed: int, stream: int, rows: np.ndarray, count: np.ndarray,
                    p: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row r, the positions 0..count[r]-1 hit with probability p[r] each, drawn as
    geometric gaps; returns (row number in `rows`, position), ordered by row then position."""
    found_rows, found_positions = [], []
    active = np.flatnonzero((count > 0) & (p > 0))
    last = np.full(len(rows), -1, dtype=np.int64)     # the last position reached per row
    drawn = np.zeros(len(rows), dtype=np.int64)       # gaps drawn per row so far
    certain = p >= 1
    log_q = np.log1p(-np.where(certain, 0.5, p.clip(0, 1)))
    while len(active):
        m = int(width[active].max() + 3) // 4 * 4
        draw = drawn[active][:, None] + np.arange(m, dtype=np.int64)[None, :]
        low, high = _split(rows[active])
        words = philox.philox4x32(((draw // 4).astype(np.uint64), 0, low[:, None], high[:, None]),
                                  (seed & 0xFFFFFFFF, stream))
        word = np.choose((draw % 4).astype(np.int64), words)
        uniform = (word.astype(np.float64) + 0.5) * 2.0 ** -32
        with np.errstate(divide="ignore", over="ignore"):  # p ~ 1e-320: gaps are inf
            gaps = np.floor(np.log(uniform) / log_q[active][:, None])
        gaps = np.where(certain[active][:, None], 0.0, gaps)
        # A gap of `count` or more ends the row: clipped there, the sums below cannot overflow.
        gaps = np.minimum(gaps, count[active][:, None]).astype(np.int64)
        positions = last[active][:, None] + np.cumsum(gaps + 1, axis=1)
        hit = positions < count[active][:, None]
        which, column = np.nonzero(hit)
        found_rows.append(active[which])
        found_positions.append(positions[which, column])
        last[active] = positions[:, -1]
        drawn[active] += m
        active = active[last[active] < count[active]]
    if not found_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    row_numbers, positions = np.concatenate(found_rows), np.concatenate(found_positions)
    if len(found_rows) > 1:  # later rounds add to rows already listed: restore the order
        order = np.lexsort((positions, row_numbers))
        row_numbers, positions = row_numbers[order], positions[order]
    return row_numbers, positions


def _smallest_keys(seed: int, stream: int, rows: np.ndarray, count: np.ndarray,
                   size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row r, `size[r]` distinct positions of 0..count[r]-1, uniformly (the ones with
    the smallest random keys), in increasing order: (row number in `rows`, position)."""
    ends = np.cumsum(count)
    total = int(ends[-1]) if len(ends) else 0
    flat = np.arange(total, dtype=np.int64)
    row = np.searchsorted(ends, flat, side="right")
    position = flat - (ends[row] - count[row])
    low, high = _split(rows[row])
    w0, w1, _, _ = philox.philox4x32((position.astype(np.uint64), 1, low, high),
                                     (seed & 0xFFFFFFFF, stream))
    keys = (w0.astype(np.uint64) << np.uint64(32)) | w1.astype(np.uint64)
    order = np.lexsort((keys, row))
    rank = np.arange(total, dtype=np.int64) - (ends[row[order]] - count[row[order]])
    chosen = order[rank < size[row[order]]]
    chosen.sort()  # flat order is row, then position
    return row[chosen], position[chosen]
