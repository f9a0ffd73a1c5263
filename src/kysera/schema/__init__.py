"""Fluent DDL builders (``db.schema``)."""
