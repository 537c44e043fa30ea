"""Default object names as Brian gives them: `neurongroup`, `neurongroup_1`, ...

Brian numbers unnamed objects of each kind in creation order. The names taken so far are kept in
one explicit `NameRegistry` object (`default_names`), the only process-wide state of the frontend.
"""

from __future__ import annotations

import itertools

from spikec.errors import EquationError


class NameRegistry:
    """Hands out unique object names; explicit names must not collide with taken ones."""

    def __init__(self):
        self.taken: set[str] = set()

    def claim(self, name: str | None, basename: str) -> str:
        if name is None or name.endswith("*"):
            base = basename if name is None else name[:-1]
            for number in itertools.count():
                candidate = base if number == 0 else f"{base}_{number}"
                if candidate not in self.taken:
                    self.taken.add(candidate)
                    return candidate
        if not name.isidentifier():
            raise EquationError(f"{name!r} is not a valid object name",
                                hint="use letters, digits and underscores, starting with a letter")
        self.taken.add(name)
        return name


default_names = NameRegistry()
