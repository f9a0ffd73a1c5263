"""Fluent DDL builders (``db.schema``) and the portable ``enum_type`` column type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .column import enum_type

__all__ = ["enum_type"]

# loaded on first use: the query builders import schema.executable, status needs no columns
__getattr__ = lazy_exports(__name__, {"enum_type": "column"}, globals())
