"""The scalar types of the IRs: f64, f32, i32, i64 and bool.

They are an enum, so each type is a singleton compared with `is`/`==`, hashable, and printed by its
name. Arrays are not a type: an array is a module-level symbol with an element type and a length.
"""

from __future__ import annotations

import enum

import numpy as np


class Type(enum.Enum):
    """A scalar type; `str(Type.F64) == "f64"`, the spelling used in the IR text."""

    F64 = "f64"
    F32 = "f32"
    I32 = "i32"
    I64 = "i64"
    BOOL = "bool"

    def __str__(self) -> str:
        return self.value

    @property
    def is_float(self) -> bool:
        return self in (Type.F64, Type.F32)

    @property
    def is_integer(self) -> bool:
        return self in (Type.I32, Type.I64)

    @property
    def is_index(self) -> bool:
        """Whether values of this type may index an array (the element index of a kernel)."""
        return self.is_integer

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(_NUMPY_DTYPES[self])

    @staticmethod
    def from_name(name: str) -> "Type | None":
        """The type spelled `name` in the IR text, or None when there is none."""
        return _BY_NAME.get(name)


f64, f32, i32, i64 = Type.F64, Type.F32, Type.I32, Type.I64
boolean = Type.BOOL

_NUMPY_DTYPES = {Type.F64: np.float64, Type.F32: np.float32, Type.I32: np.int32, Type.I64: np.int64,
                 Type.BOOL: np.bool_}
_BY_NAME = {t.value: t for t in Type}
