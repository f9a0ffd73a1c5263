"""PostgreSQL: read ``pg_catalog`` with the server's own printers (format_type, pg_get_expr ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import (
    CheckConstraintInfo,
    ColumnInfo,
    ForeignKeyInfo,
    IndexInfo,
    RoutineInfo,
    SchemaInfo,
    SequenceInfo,
    TableInfo,
    TriggerInfo,
    UniqueConstraintInfo,
    ViewInfo,
)

if TYPE_CHECKING:
    from ..database import Database
    from ..dialects.base import Row

ACTIONS = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}

_REL = (
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT EXISTS "
    "(SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')"
)

COLUMNS_SQL = f"""
SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_expr,
       a.attidentity::text AS identity, a.attgenerated::text AS generated,
       col_description(c.oid, a.attnum) AS comment,
       CASE WHEN a.attcollation <> t.typcollation THEN (SELECT co.collname::text FROM pg_collation co
            WHERE co.oid = a.attcollation) END AS collation,
       EXISTS (SELECT 1 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
               WHERE dep.classid = 'pg_class'::regclass AND dep.refobjid = c.oid
                 AND dep.refobjsubid = a.attnum AND dep.deptype IN ('a', 'i')) AS owns_sequence
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
{_REL} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped {{filter}}
ORDER BY c.relname, a.attnum
"""

CONSTRAINTS_SQL = f"""
SELECT c.relname AS table_name, con.conname AS name, con.contype::text AS kind,
       con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete,
       con.condeferrable AS deferrable, con.condeferred AS deferred, con.convalidated AS validated,
       fc.relname AS ref_table, fn.nspname AS ref_schema,
       pg_get_expr(con.conbin, con.conrelid, true) AS check_expr,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
{_REL} AND c.relkind IN ('r', 'p') AND con.contype IN ('p', 'u', 'f', 'c') {{filter}}
ORDER BY c.relname, con.conname
"""

INDEXES_SQL = f"""
SELECT c.relname AS table_name, ic.relname AS name, i.indisunique AS is_unique,
       i.indisprimary AS is_primary, i.indisvalid AS is_valid, am.amname AS method,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       pg_get_indexdef(i.indexrelid) AS definition,
       obj_description(i.indexrelid, 'pg_class') AS comment,
       ARRAY(SELECT CASE WHEN i.indkey[k.n - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k.n, true)
                         ELSE (SELECT a.attname::text FROM pg_attribute a
                               WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n - 1]) END
             FROM generate_series(1, i.indnkeyatts) AS k(n) ORDER BY k.n) AS columns
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_am am ON am.oid = ic.relam
{_REL} AND c.relkind IN {{kinds}} {{filter}}
ORDER BY c.relname, ic.relname
"""

TABLES_SQL = f"""
SELECT c.relname AS name, c.reltuples AS reltuples, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c {_REL} AND c.relkind IN ('r', 'p') {{filter}}
ORDER BY c.relname
"""


def current_schema(db: Database) -> str:
    rows = db.fetch("SELECT current_schema() AS s")
    schema = rows[0]["s"] if rows else None
    return str(schema) if schema else "public"


def _strs(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _group(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(str(r["table_name"]), []).append(r)
    return out


def _data_type(text: str) -> str:
    return text if '"' in text else text.lower()


def read_tables(db: Database, schema: str, only: str | None, exclude: tuple[str, ...]) -> dict[str, TableInfo]:
    flt = "AND c.relname = %s" if only is not None else ""
    params: list[object] = [schema, *([only] if only is not None else [])]
    tables = db.fetch(TABLES_SQL.format(filter=flt), params)
    columns = _group(db.fetch(COLUMNS_SQL.format(filter=flt), params))
    constraints = _group(db.fetch(CONSTRAINTS_SQL.format(filter=flt), params))
    indexes = _group(db.fetch(INDEXES_SQL.format(kinds="('r', 'p')", filter=flt), params))
    out: dict[str, TableInfo] = {}
    for t in tables:
        name = str(t["name"])
        if name in exclude:
            continue
        cols: list[ColumnInfo] = []
        for c in columns.get(name, []):
            generated = str(c["generated"] or "") == "s"
            default = c["default_expr"]
            identity = str(c["identity"] or "") in ("a", "d")
            serial = bool(c["owns_sequence"]) and str(default or "").startswith("nextval(")
            cols.append(
                ColumnInfo(
                    name=str(c["name"]),
                    data_type=_data_type(str(c["data_type"])),
                    nullable=not c["not_null"],
                    default=None if generated or default is None else str(default),
                    auto_increment=identity or serial,
                    generated=str(default) if generated and default is not None else None,
                    generated_storage="stored" if generated and default is not None else None,
                    comment=str(c["comment"]) if c["comment"] is not None else None,
                    collation=str(c["collation"]) if c["collation"] is not None else None,
                    identity={"a": "always", "d": "by default"}.get(str(c["identity"] or "")),
                )
            )
        primary_key: tuple[str, ...] = ()
        fks: list[ForeignKeyInfo] = []
        uniques: list[UniqueConstraintInfo] = []
        checks: list[CheckConstraintInfo] = []
        for k in constraints.get(name, []):
            kind = str(k["kind"])
            if kind == "p":
                primary_key = _strs(k["columns"])
            elif kind == "u":
                uniques.append(UniqueConstraintInfo(str(k["name"]), _strs(k["columns"]), _deferrable(k)))
            elif kind == "c":
                checks.append(CheckConstraintInfo(str(k["name"]), str(k["check_expr"]), bool(k["validated"])))
            elif kind == "f":
                ref = str(k["ref_table"])
                if k["ref_schema"] is not None and str(k["ref_schema"]) != schema:
                    ref = f"{k['ref_schema']}.{ref}"
                fks.append(
                    ForeignKeyInfo(
                        name=str(k["name"]),
                        columns=_strs(k["columns"]),
                        ref_table=ref,
                        ref_columns=_strs(k["ref_columns"]),
                        on_delete=ACTIONS.get(str(k["on_delete"]), "no action"),
                        on_update=ACTIONS.get(str(k["on_update"]), "no action"),
                        deferrable=_deferrable(k),
                        validated=bool(k["validated"]),
                    )
                )
        idx = tuple(_index(i) for i in indexes.get(name, []))
        estimate = float(str(t["reltuples"])) if t["reltuples"] is not None else -1.0
        out[name] = TableInfo(
            name=name,
            schema=schema,
            columns=tuple(cols),
            primary_key=primary_key,
            indexes=idx,
            foreign_keys=tuple(fks),
            unique_constraints=tuple(uniques),
            check_constraints=tuple(checks),
            comment=str(t["comment"]) if t["comment"] is not None else None,
            estimated_rows=None if estimate < 0 else round(estimate),
        )
    return out


def _deferrable(k: Row) -> str:
    return "initially deferred" if k["deferred"] else "deferrable" if k["deferrable"] else "not deferrable"


def _index(i: Row) -> IndexInfo:
    return IndexInfo(
        name=str(i["name"]),
        columns=_strs(i["columns"]),
        unique=bool(i["is_unique"]),
        primary=bool(i["is_primary"]),
        predicate=str(i["predicate"]) if i["predicate"] is not None else None,
        method=str(i["method"]).lower(),
        valid=bool(i["is_valid"]),
        definition=str(i["definition"]),
        comment=str(i["comment"]) if i["comment"] is not None else None,
    )


def read_views(db: Database, schema: str) -> dict[str, ViewInfo]:
    rows = db.fetch(
        f"SELECT c.relname AS name, c.relkind::text AS kind, pg_get_viewdef(c.oid, true) AS definition, "
        f"obj_description(c.oid, 'pg_class') AS comment "
        f"FROM pg_class c {_REL} AND c.relkind IN ('v', 'm') ORDER BY c.relname",
        [schema],
    )
    # a materialized view has indexes (REFRESH ... CONCURRENTLY needs a unique one)
    indexes = _group(db.fetch(INDEXES_SQL.format(kinds="('m')", filter=""), [schema])) if any(
        str(r["kind"]) == "m" for r in rows
    ) else {}
    return {
        str(r["name"]): ViewInfo(
            str(r["name"]),
            str(r["definition"] or "").strip(),
            str(r["kind"]) == "m",
            tuple(_index(i) for i in indexes.get(str(r["name"]), [])),
            str(r["comment"]) if r["comment"] is not None else None,
        )
        for r in rows
    }


def read_enums(db: Database, schema: str) -> dict[str, tuple[str, ...]]:
    rows = db.fetch(
        "SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels "
        "FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
        "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e') "
        "GROUP BY t.typname ORDER BY t.typname",
        [schema],
    )
    return {str(r["name"]): _strs(r["labels"]) for r in rows}


def read_sequences(db: Database, schema: str) -> tuple[str, ...]:
    rows = db.fetch(f"SELECT c.relname AS name FROM pg_class c {_REL} AND c.relkind = 'S' ORDER BY c.relname", [schema])
    return tuple(str(r["name"]) for r in rows)


def read_sequence_options(db: Database, schema: str) -> dict[str, SequenceInfo]:
    """The options of the schema's sequences (identity columns' too), not their current values."""
    rows = db.fetch(
        "SELECT c.relname AS name, format_type(s.seqtypid, NULL) AS data_type, s.seqstart AS start, "
        "s.seqincrement AS increment, s.seqmin AS min_value, s.seqmax AS max_value, s.seqcache AS cache, "
        f"s.seqcycle AS cycle FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid {_REL} ORDER BY c.relname",
        [schema],
    )
    return {
        str(r["name"]): SequenceInfo(
            str(r["name"]), int(str(r["start"])), int(str(r["increment"])), int(str(r["min_value"])),
            int(str(r["max_value"])), int(str(r["cache"])), bool(r["cycle"]), str(r["data_type"]),
        )
        for r in rows
    }


def read_domains(db: Database, schema: str) -> dict[str, str]:
    """The schema's domains, each as the SQL after ``CREATE DOMAIN name AS``."""
    rows = db.fetch(
        "SELECT t.typname AS name, format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull AS not_null, "
        "t.typdefault AS dflt, CASE WHEN t.typcollation <> b.typcollation THEN "
        "(SELECT quote_ident(l.collname) FROM pg_collation l WHERE l.oid = t.typcollation) END AS coll, "
        "(SELECT string_agg('CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid), ' ' "
        "ORDER BY c.conname) FROM pg_constraint c WHERE c.contypid = t.oid) AS checks "
        "FROM pg_type t JOIN pg_type b ON b.oid = t.typbasetype JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE t.typtype = 'd' AND n.nspname = %s AND NOT EXISTS (SELECT 1 FROM pg_depend x "
        "WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e') ORDER BY t.typname",
        [schema],
    )
    out = {}
    for r in rows:
        parts = [str(r["base"])]
        if r["coll"]:
            parts.append(f"COLLATE {r['coll']}")
        if r["not_null"]:
            parts.append("NOT NULL")
        if r["dflt"] is not None:
            parts.append(f"DEFAULT {r['dflt']}")
        if r["checks"]:
            parts.append(str(r["checks"]))
        out[str(r["name"])] = " ".join(parts)
    return out


def read_schemas(db: Database) -> tuple[str, ...]:
    """The database's schemas, but the system's own and those an extension made."""
    rows = db.fetch(
        "SELECT n.nspname AS name FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%' "
        "AND n.nspname <> 'information_schema' AND NOT EXISTS (SELECT 1 FROM pg_depend e "
        "WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e') ORDER BY 1"
    )
    return tuple(str(r["name"]) for r in rows)


def read_triggers(db: Database, schema: str, exclude: tuple[str, ...]) -> dict[str, TriggerInfo]:
    """The user's triggers on the schema's tables and views (not those behind foreign keys)."""
    rows = db.fetch(
        f"SELECT c.relname AS table_name, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition "
        f"FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid {_REL} AND NOT t.tgisinternal "
        f"ORDER BY c.relname, t.tgname",
        [schema],
    )
    return {
        f"{r['table_name']}.{r['name']}": TriggerInfo(str(r["name"]), str(r["table_name"]), str(r["definition"]))
        for r in rows
        if str(r["table_name"]) not in exclude
    }


#: pg_proc.prokind, in words
_ROUTINE_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}


def read_routines(db: Database, schema: str) -> dict[str, RoutineInfo]:
    """Functions and procedures of the schema, not those an extension installed."""
    rows = db.fetch(
        "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name, "
        "p.prokind::text AS kind, CASE WHEN p.prokind IN ('f', 'p', 'w') THEN pg_get_functiondef(p.oid) "
        "ELSE pg_get_function_result(p.oid) END AS definition "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype = 'e') "
        "ORDER BY 1",
        [schema],
    )
    return {
        str(r["name"]): RoutineInfo(str(r["name"]), _ROUTINE_KINDS.get(str(r["kind"]), "function"), str(r["definition"] or ""))
        for r in rows
    }


def read_schema(db: Database, schema: str | None, exclude: tuple[str, ...]) -> SchemaInfo:
    schema = schema or current_schema(db)
    views = {k: v for k, v in read_views(db, schema).items() if k not in exclude}
    return SchemaInfo(
        tables=read_tables(db, schema, None, exclude),
        views=views,
        enums=read_enums(db, schema),
        sequences=read_sequences(db, schema),
        sequence_options=read_sequence_options(db, schema),
        triggers=read_triggers(db, schema, exclude),
        routines=read_routines(db, schema),
        domains=read_domains(db, schema),
        schemas=read_schemas(db),
    )


def read_table(db: Database, name: str, schema: str | None) -> TableInfo | None:
    schema = schema or current_schema(db)
    return read_tables(db, schema, name, ()).get(name)
