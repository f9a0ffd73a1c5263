"""Fluent DDL builders (``db.schema``) and the portable ``enum_type`` column type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .column import enum_type

__all__ = ["enum_type"]

_EXPORTS = {"enum_type": "column"}

# loaded on first use: the query builders import schema.executable, status needs no columns
if not TYPE_CHECKING:  # to a type checker, only the names imported above exist
    __getattr__ = lazy_exports(__name__, _EXPORTS, globals())
