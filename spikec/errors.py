"""The exceptions spikec raises: one type per kind of mistake, each able to point at the text.

Every error a user can cause is a `SpikecError`. When the mistake sits in some source text (an
equation string, a reset statement, a line of IR), the error carries a `SourceLocation` and its
message shows the offending line with a caret under the column, plus a hint saying what to do.
No Lark or sympy exception is allowed to reach the user: the frontend and the IR parser translate
them into these types. This module imports nothing from spikec, so every layer can use it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """Where in a piece of source text something is: 1-based line and column.

    `text` is the whole source (an equation string, an IR file); `owner` names what the text
    belongs to (``"NeuronGroup 'neurons', reset"``, ``"input.ir"``) so a message can say where the
    text came from when there are many.
    """

    text: str
    line: int
    column: int
    owner: str | None = None
    length: int = 1

    @staticmethod
    def from_offset(text: str, offset: int, owner: str | None = None, length: int = 1) -> "SourceLocation":
        """The location of character `offset` (0-based) of `text`."""
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        line_start = text.rfind("\n", 0, offset) + 1
        return SourceLocation(text, line, offset - line_start + 1, owner, max(1, length))

    @property
    def line_text(self) -> str:
        lines = self.text.splitlines() or [""]
        return lines[self.line - 1] if 0 < self.line <= len(lines) else ""

    def excerpt(self) -> str:
        """The offending line and a caret line under the offending column(s)."""
        line_text = self.line_text.expandtabs(1)
        width = max(1, min(self.length, len(line_text) - self.column + 1))
        return f"    {line_text}\n    {' ' * (self.column - 1)}{'^' * width}"

    def describe(self) -> str:
        where = f"line {self.line}, column {self.column}"
        return f"{self.owner}, {where}" if self.owner else where


class SpikecError(Exception):
    """Base class of every error spikec reports to its user.

    `message` says what is wrong, `location` (optional) points at the text, `hint` (optional)
    says what to do about it. `str()` renders all three.
    """

    kind = "error"

    def __init__(self, message: str, location: SourceLocation | None = None, hint: str | None = None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        parts = []
        if self.location is not None:
            parts.append(f"{self.message} ({self.location.describe()}):")
            parts.append(self.location.excerpt())
        else:
            parts.append(self.message)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.render()


class ModelSyntaxError(SpikecError):
    """Model text (equations, statements, expressions) that the grammar does not accept."""

    kind = "syntax error"


class UnknownIdentifierError(SpikecError):
    """A name that is neither a model variable, nor in the namespace, nor a known function/unit."""

    kind = "unknown identifier"


class DimensionMismatchError(SpikecError):
    """Physical dimensions that do not agree (in an equation, statement, condition or arithmetic).

    Also raised by quantity arithmetic (`3*mV + 2*ms`), so it keeps the dimensions involved in
    `dimensions` for programs that want to inspect them.
    """

    kind = "dimension mismatch"

    def __init__(self, message: str, *dimensions: object, location: SourceLocation | None = None,
                 hint: str | None = None):
        self.dimensions = dimensions
        super().__init__(message, location, hint)


class FlagError(SpikecError):
    """An unknown flag, or a flag used where it does not apply (`(event-driven)` on a parameter)."""

    kind = "bad flag"


class EquationError(SpikecError):
    """A structurally wrong model description: duplicate definitions, reserved names, bad units."""

    kind = "equation error"


class SubgroupError(SpikecError, IndexError):
    """A subgroup that cannot be made (`G[::2]`, `G[50:10]`, a bound beyond the group); also an
    `IndexError`, as Brian raises, so scripts catching that keep working."""

    kind = "subgroup error"


class IRParseError(SpikecError):
    """IR text that does not parse."""

    kind = "IR syntax error"


class VerificationError(SpikecError):
    """An IR module that breaks an invariant (types, SSA, undefined arrays); names the op."""

    kind = "IR verification error"


class PassError(SpikecError):
    """A pass that failed or was misused (unknown name, bad option); names the pipeline and pass."""

    kind = "pass error"


class KernelRuntimeError(SpikecError):
    """A kernel that failed while running: an index outside its array, a full spike list, arrays
    that do not match their declarations. Names the kernel and op."""

    kind = "kernel runtime error"
