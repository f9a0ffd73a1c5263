"""Fluent DDL builders (``db.schema``) and the portable ``enum_type`` column type."""

from .column import enum_type

__all__ = ["enum_type"]
