"""PostgreSQL dump: DDL rebuilt from pg_catalog with the server's own printers, data as INSERTs.

Order: enum types, sequences, tables (with primary key, unique, exclusion and valid CHECK
constraints), sequence ownership, comments, data (through a server-side cursor, in a REPEATABLE
READ READ ONLY snapshot, every value read as text so that any type survives), sequence
positions, indexes, foreign keys (after the data, so cycles need nothing special), views.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, TextIO

from ..errors import KyseraError, StatementError
from ..introspection.postgres import current_schema, read_enums
from .common import (
    DumpError,
    DumpResult,
    InsertWriter,
    Options,
    cyclic_edges,
    dependency_order,
    insert_head,
    list_loaded_tables,
    one_line,
    option,
    section,
    statement,
)

if TYPE_CHECKING:
    from ..database import Database
    from ..dialects.base import Row
    from ..dialects.compiler import QueryCompiler

_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass "
    "AND x.objid = c.oid AND x.deptype = 'e')"
)
CURSOR = "kysera_dump_cursor"


@contextmanager
def snapshot(db: Database, exclude: Sequence[str] = ()) -> Iterator[str]:
    """A consistent, read-only view of the database for the whole dump; yields the schema.

    The tables are locked (ACCESS SHARE, as pg_dump does) before the snapshot is taken, which a
    LOCK does not do: a change that rewrites a table (ALTER COLUMN ... TYPE, TRUNCATE; a migration
    running meanwhile) commits before the dump reads it, or waits for the dump. Read with a
    snapshot from before such a change committed, the table would look empty. The tables left
    out (``exclude``) and those the user may not read are not locked: LOCK would refuse the
    latter, and neither is read.
    """
    outer = db.in_transaction
    for attempt in range(3):
        tables = [] if outer else _tables_to_lock(db, exclude)
        started = False
        try:
            with db.transaction():
                if not outer:
                    db.fetch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    if tables:
                        db.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS SHARE MODE")
                started = True
                schema = current_schema(db)
                for setting, value in (
                    ("search_path", _quote_ident(schema) + ", pg_catalog"),
                    ("DateStyle", "ISO, YMD"),
                    ("IntervalStyle", "postgres"),
                    ("extra_float_digits", "3"),
                    ("bytea_output", "hex"),
                    ("TimeZone", "UTC"),
                    # the server writes defaults and view text for this setting; the dump's header sets it on
                    ("standard_conforming_strings", "on"),
                ):
                    db.fetch("SELECT set_config(%s, %s, true)", [setting, value])
                yield schema
            return
        except StatementError:
            if started or attempt == 2:
                raise
            # a table was dropped or renamed between the listing and the LOCK: list them again


def _tables_to_lock(db: Database, exclude: Sequence[str]) -> list[str]:
    """The current schema's tables that the dump may read, quoted, read before its snapshot:
    not those left out, nor those the user has no SELECT on (which LOCK ... IN ACCESS SHARE MODE
    refuses: a dump that leaves such a table out must not fail on it)."""
    rows = db.fetch(
        "SELECT c.relname AS table_name, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = current_schema() AND c.relkind = 'r' AND {_NOT_EXTENSION} "
        "AND has_table_privilege(c.oid, 'SELECT') ORDER BY 2"
    )
    return [str(r["name"]) for r in rows if str(r["table_name"]) not in exclude]


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(db: Database, schema: str, exclude: tuple[str, ...]) -> list[Row]:
    rows = db.fetch(
        "SELECT c.oid, c.relname AS name, c.relkind::text AS kind, c.relpersistence::text AS persistence, "
        "c.relispartition AS is_partition, obj_description(c.oid, 'pg_class') AS comment, "
        "array_to_string(c.reloptions, ', ') AS options "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND {_NOT_EXTENSION} ORDER BY c.relname",
        [schema],
    )
    out = [r for r in rows if str(r["name"]) not in exclude]
    for r in out:
        if str(r["kind"]) == "p" or r["is_partition"]:
            raise DumpError(
                f"table {r['name']} is partitioned (or a partition), which kysera's own dump does not "
                f"handle; dump with {option('native')} (pg_dump) instead"
            )
    _refuse_inheritance(db, [r["oid"] for r in out])
    _refuse_uncovered_types(db, [r["oid"] for r in out])
    return out


def _refuse_inheritance(db: Database, tables: list[object]) -> None:
    """Table inheritance (INHERITS): a parent's rows, read plainly, hold its children's rows, and
    the dump does not write the link, so a restore would hold them twice and unlinked."""
    if not tables:
        return
    rows = db.fetch(
        "SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.relname) AS child, "
        "quote_ident(pn.nspname) || '.' || quote_ident(p.relname) AS parent "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace "
        "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace "
        "WHERE (i.inhrelid = ANY(%s) OR i.inhparent = ANY(%s)) AND c.relkind = 'r' ORDER BY 2, 1 LIMIT 1",
        [list(tables), list(tables)],
    )
    if rows:
        raise DumpError(
            f"table {rows[0]['child']} inherits from {rows[0]['parent']} (table inheritance), which "
            "kysera's own dump does not handle (the parent's rows would include the child's, and the "
            f"link would be lost); dump with {option('native')} (pg_dump) instead"
        )


def _refuse_other_schemas(db: Database, schema: str, tables: list[object], views: list[object]) -> None:
    """A column typed, a default, a constraint, an index or a view that uses an object of another
    schema (a type, a sequence, a table, a function, a collation): the dump writes the current
    schema only, so the restore would fail with 'schema ... does not exist' (or find another
    object of that name)."""
    if not tables and not views:
        return
    rows = db.fetch(
        "WITH mine(classid, objid) AS ("
        "  SELECT 'pg_class'::regclass, t FROM unnest(%s::oid[]) t "
        "  UNION ALL SELECT 'pg_attrdef'::regclass, d.oid FROM pg_attrdef d WHERE d.adrelid = ANY(%s::oid[]) "
        "  UNION ALL SELECT 'pg_constraint'::regclass, c.oid FROM pg_constraint c WHERE c.conrelid = ANY(%s::oid[]) "
        "  UNION ALL SELECT 'pg_class'::regclass, i.indexrelid FROM pg_index i WHERE i.indrelid = ANY(%s::oid[]) "
        "  UNION ALL SELECT 'pg_rewrite'::regclass, r.oid FROM pg_rewrite r WHERE r.ev_class = ANY(%s::oid[])), "
        "refs AS (SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, CASE d.refclassid "
        "  WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.refobjid) "
        "  WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.refobjid) "
        "  WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.refobjid) "
        "  WHEN 'pg_collation'::regclass THEN (SELECT collnamespace FROM pg_collation WHERE oid = d.refobjid) "
        "  END AS ns FROM pg_depend d JOIN mine m ON m.classid = d.classid AND m.objid = d.objid "
        "  WHERE d.deptype = 'n') "
        "SELECT DISTINCT pg_describe_object(r.classid, r.objid, r.objsubid) AS what, "
        "pg_describe_object(r.refclassid, r.refobjid, 0) AS uses, n.nspname AS other "
        "FROM refs r JOIN pg_namespace n ON n.oid = r.ns "
        "WHERE n.nspname NOT IN (%s, 'pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%%' "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = r.refclassid AND x.objid = r.refobjid "
        "  AND x.deptype = 'e') "
        "ORDER BY 3, 1, 2 LIMIT 3",
        [list(tables), list(tables), list(tables), list(tables), list(views), schema],
    )
    if rows:
        uses = "; ".join(f"{r['what']} uses {r['uses']}" for r in rows)
        others = sorted({str(r["other"]) for r in rows})
        raise DumpError(
            f"{uses}: kysera's own dump writes schema {schema} only, so this would not restore "
            f"(schema {others[0]} would be missing); dump with {option('native')} (pg_dump, every schema) "
            f"instead, or move the objects into schema {schema}"
        )


def _refuse_uncovered_types(db: Database, tables: list[object]) -> None:
    """A column typed with a domain, a composite or a range type of the database's own: this dump
    does not write those types, so the tables using them would not restore."""
    if not tables:
        return
    rows = db.fetch(
        "SELECT c.relname AS tbl, a.attname AS col, format_type(t.oid, NULL) AS typ, t.typtype::text AS kind "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_type t ON t.oid = CASE WHEN (SELECT e.typelem FROM pg_type e WHERE e.oid = a.atttypid AND e.typcategory = 'A') <> 0 "
        "  THEN (SELECT e.typelem FROM pg_type e WHERE e.oid = a.atttypid) ELSE a.atttypid END "
        "JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND (t.typtype IN ('d', 'r', 'm') OR (t.typtype = 'c' AND (SELECT r.relkind FROM pg_class r WHERE r.oid = t.typrelid) = 'c')) "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid AND x.deptype = 'e') "
        "ORDER BY 1, 2 LIMIT 5",
        [list(tables)],
    )
    if rows:
        kinds = {"d": "domain", "r": "range type", "m": "multirange type", "c": "composite type"}
        uses = ", ".join(f"{r['tbl']}.{r['col']} ({kinds.get(str(r['kind']), 'type')} {r['typ']})" for r in rows)
        raise DumpError(
            f"{uses}: kysera's own dump does not write domains, composite or range types, so these tables "
            f"would not restore; dump with {option('native')} (pg_dump) instead"
        )


def _columns(db: Database, oid: object) -> list[Row]:
    return db.fetch(
        "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, "
        "pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity::text AS identity, "
        "a.attgenerated::text AS generated, col_description(a.attrelid, a.attnum) AS comment, "
        "t.typcategory::text AS category, t.typname AS typname, "
        "CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN "
        "  (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) "
        "   ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END "
        "   FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace "
        "   WHERE co.oid = a.attcollation) END AS collation "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        [oid],
    )


def _sequences(db: Database, schema: str) -> list[Row]:
    return db.fetch(
        "SELECT c.oid, c.relname AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart AS start, "
        "s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max, s.seqcache AS cache, "
        "s.seqcycle AS cycle, dep.deptype::text AS deptype, tc.relname AS owner_table, "
        "a.attname AS owner_column "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_sequence s ON s.seqrelid = c.oid "
        "LEFT JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = c.oid "
        "  AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i') "
        "LEFT JOIN pg_class tc ON tc.oid = dep.refobjid "
        "LEFT JOIN pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid "
        f"WHERE n.nspname = %s AND {_NOT_EXTENSION} ORDER BY c.relname",
        [schema],
    )


def _set_position(db: Database, q: QueryCompiler, out: TextIO, quoted: str, schema_prefix: str = "") -> None:
    """The statement that puts the sequence ``quoted`` (read as the session finds it) back where it is now;
    ``schema_prefix`` (``"ops".``) qualifies it in the script."""
    pos = db.fetch(f"SELECT last_value, is_called FROM {quoted}")[0]
    statement(
        out,
        f"SELECT pg_catalog.setval({q.string_literal(schema_prefix + quoted)}, {pos['last_value']}, "
        f"{'true' if pos['is_called'] else 'false'})",
    )


def _sequence_options(seq: Row, with_type: bool) -> str:
    parts = [f"AS {seq['type']}"] if with_type else []
    parts += [
        f"START WITH {seq['start']}",
        f"INCREMENT BY {seq['increment']}",
        f"MINVALUE {seq['min']}",
        f"MAXVALUE {seq['max']}",
        f"CACHE {seq['cache']}",
        "CYCLE" if seq["cycle"] else "NO CYCLE",
    ]
    return " ".join(parts)


def _constraints(db: Database, oid: object) -> list[Row]:
    return db.fetch(
        "SELECT con.conname AS name, con.contype::text AS kind, pg_get_constraintdef(con.oid) AS def, "
        "con.convalidated AS validated, con.condeferrable AS deferrable, con.condeferred AS deferred, "
        "fc.relname AS ref_table, fn.nspname AS ref_schema, "
        # the key's own columns (conkey), not parsed from the definition, which may go on with
        # INCLUDE (...), WITH (...) or USING INDEX TABLESPACE
        "(SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i) FROM unnest(con.conkey) "
        "  WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS key_columns, "
        # a key's index storage parameters (WITH (fillfactor = 70)), which pg_get_constraintdef
        # leaves out for primary keys and unique constraints (it writes them for exclusion ones)
        "CASE WHEN con.contype IN ('p', 'u') THEN (SELECT array_to_string(ic.reloptions, ', ') "
        "  FROM pg_class ic WHERE ic.oid = con.conindid) END AS index_options "
        "FROM pg_constraint con LEFT JOIN pg_class fc ON fc.oid = con.confrelid "
        "LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
        "WHERE con.conrelid = %s AND con.contype IN ('p', 'u', 'x', 'c', 'f') AND con.conislocal "
        "ORDER BY CASE con.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, "
        "con.conname",
        [oid],
    )


def _indexes(db: Database, oid: object) -> list[Row]:
    return db.fetch(
        "SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisvalid AS valid, "
        "quote_ident(n.nspname) AS qschema, quote_ident(c.relname) AS qtable "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE i.indrelid = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint con "
        "  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')) "
        "ORDER BY ic.relname",
        [oid],
    )


def _index_sql(q: QueryCompiler, table: str, idx: Row) -> str:
    """pg_get_indexdef always names the table with its schema; point it at the bare name."""
    text = str(idx["def"])
    for on in (f" ON ONLY {idx['qschema']}.{idx['qtable']} ", f" ON {idx['qschema']}.{idx['qtable']} "):
        pos = text.find(on)
        if pos >= 0:
            only = " ONLY" if on.startswith(" ON ONLY") else ""
            return text[:pos] + f" ON{only} {q.quote(table)} " + text[pos + len(on) :]
    return text


def _views(db: Database, schema: str, exclude: tuple[str, ...]) -> list[Row]:
    views = db.fetch(
        "SELECT c.oid, c.relname AS name, c.relkind::text AS kind, pg_get_viewdef(c.oid, false) AS def, "
        "c.reloptions AS options, c.relispopulated AS populated FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = %s AND c.relkind IN ('v', 'm') AND {_NOT_EXTENSION} ORDER BY c.relname",
        [schema],
    )
    views = [v for v in views if str(v["name"]) not in exclude]
    deps: dict[str, set[str]] = {}
    for r in db.fetch(
        "SELECT DISTINCT v.relname AS view, d.relname AS dep FROM pg_rewrite r "
        "JOIN pg_class v ON v.oid = r.ev_class "
        "JOIN pg_depend x ON x.classid = 'pg_rewrite'::regclass AND x.objid = r.oid "
        "JOIN pg_class d ON d.oid = x.refobjid AND d.oid <> v.oid "
        "JOIN pg_namespace n ON n.oid = v.relnamespace "
        "WHERE n.nspname = %s AND v.relkind IN ('v', 'm')",
        [schema],
    ):
        deps.setdefault(str(r["view"]), set()).add(str(r["dep"]))
    by_name = {str(v["name"]): v for v in views}
    order = dependency_order(list(by_name), lambda n: deps.get(n, set()))
    return [by_name[n] for n in order]


def _extensions(db: Database, schema: str) -> list[Row]:
    return db.fetch(
        "SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e "
        "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY e.extname"
    )


_BARE_NUMBERS = {"int2", "int4", "int8", "numeric", "oid"}


def _literal(q: QueryCompiler, text: object, category: str, typname: str) -> str:
    """A value the server printed as text, as a literal the column's input function reads back.

    Integers and numerics go bare; floats stay quoted (a bare ``-0`` would lose its sign); a
    string with a line break becomes an ``E''`` string, so that no newline translation on the
    way to or from the file can change it.
    """
    if text is None:
        return "NULL"
    value = str(text)
    if category == "B":
        return "TRUE" if value == "true" else "FALSE"
    if typname in _BARE_NUMBERS and _NUMBER.fullmatch(value):
        return value
    if "\n" in value or "\r" in value:
        escaped = value.replace("\\", "\\\\").replace("'", "''").replace("\n", "\\n").replace("\r", "\\r")
        return f"E'{escaped}'"
    return q.string_literal(value)


def dump(db: Database, out: TextIO, opts: Options, result: DumpResult) -> None:
    q = db.dialect.compiler(db)
    with snapshot(db, opts.exclude) as schema:
        tables = _tables(db, schema, opts.exclude)
        history = _other_schema_history(db, schema, opts)
        names = [str(t["name"]) for t in tables]
        info = {str(t["name"]): t for t in tables}
        columns = {n: _columns(db, info[n]["oid"]) for n in names}
        constraints = {n: _constraints(db, info[n]["oid"]) for n in names}
        sequences = _sequences(db, schema)
        identity_seq = {
            (str(s["owner_table"]), str(s["owner_column"])): s for s in sequences if s["deptype"] == "i"
        }
        fk_edges: dict[str, set[str]] = {n: set() for n in names}
        for n in names:
            for con in constraints[n]:
                if con["kind"] == "f" and con["ref_schema"] == schema and str(con["ref_table"]) in info:
                    fk_edges[n].add(str(con["ref_table"]))
        order = dependency_order(names, lambda n: fk_edges.get(n, set()))
        result.tables = order
        views = _views(db, schema, opts.exclude)
        if opts.schema:
            _refuse_other_schemas(db, schema, [t["oid"] for t in tables], [v["oid"] for v in views])

        _note_left_out(db, out, schema, result, [history["oid"]] if history else [])
        list_loaded_tables(out, opts, order)
        for setting in (
            "SET client_encoding = 'UTF8'",
            "SET standard_conforming_strings = on",
            "SET check_function_bodies = false",
            "SET client_min_messages = warning",
        ):
            statement(out, setting)
        statement(out, "BEGIN")

        if opts.schema:
            exts = _extensions(db, schema)
            if exts:
                section(out, "extensions")
                for e in exts:
                    where = "" if e["schema"] == schema else f" WITH SCHEMA {q.quote(str(e['schema']))}"
                    statement(out, f"CREATE EXTENSION IF NOT EXISTS {q.quote(str(e['name']))}{where}")
            enums = read_enums(db, schema)
            if enums:
                section(out, "enum types")
                for name, labels in enums.items():
                    statement(out, f"CREATE TYPE {q.quote(name)} AS ENUM ({', '.join(_literal(q, x, 'S', 'text') for x in labels)})")
            plain_seqs = [s for s in sequences if s["deptype"] != "i" and str(s["name"]) not in opts.exclude]
            if plain_seqs:
                section(out, "sequences")
                for s in plain_seqs:
                    statement(out, f"CREATE SEQUENCE {q.quote(str(s['name']))} {_sequence_options(s, True)}")
            for name in order:
                section(out, f"table {name}")
                statement(out, _create_table(q, name, info[name], columns[name], constraints[name], identity_seq))
                comment = info[name]["comment"]
                if comment is not None:
                    statement(out, f"COMMENT ON TABLE {q.quote(name)} IS {_literal(q, comment, 'S', 'text')}")
                for col in columns[name]:
                    if col["comment"] is not None:
                        statement(
                            out,
                            f"COMMENT ON COLUMN {q.quote(name)}.{q.quote(str(col['name']))} IS "
                            f"{_literal(q, col['comment'], 'S', 'text')}",
                        )
            owned = [s for s in plain_seqs if s["deptype"] == "a" and str(s["owner_table"]) in info]
            for s in owned:
                statement(
                    out,
                    f"ALTER SEQUENCE {q.quote(str(s['name']))} OWNED BY "
                    f"{q.quote(str(s['owner_table']))}.{q.quote(str(s['owner_column']))}",
                )

        deferred: list[tuple[str, str]] = []
        if opts.data:
            if not opts.schema:
                # the target has the foreign keys already: rows of tables that reference each
                # other (or themselves) are checked at the end instead of row by row
                cycles = cyclic_edges(order, fk_edges)
                for n in order:
                    for con in constraints[n]:
                        if con["kind"] == "f" and not con["deferrable"] and (n, str(con["ref_table"])) in cycles:
                            deferred.append((n, str(con["name"])))
                if deferred:
                    section(out, "foreign keys between these tables are checked after all rows are in")
                    for t, c in deferred:
                        statement(out, f"ALTER TABLE {q.quote(t)} ALTER CONSTRAINT {q.quote(c)} DEFERRABLE INITIALLY DEFERRED")
            for name in order:
                result.rows += _dump_rows(db, q, out, name, columns[name], constraints[name], opts, result)
            if deferred:
                section(out, "check the deferred foreign keys, then make them immediate again")
                statement(out, "SET CONSTRAINTS ALL IMMEDIATE")
                for t, c in deferred:
                    statement(out, f"ALTER TABLE {q.quote(t)} ALTER CONSTRAINT {q.quote(c)} NOT DEFERRABLE")

        seq_rows = [s for s in sequences if str(s["name"]) not in opts.exclude and (
            s["deptype"] is None or str(s["owner_table"]) in info)]
        if seq_rows and opts.data:
            section(out, "sequence positions")
            for s in seq_rows:
                _set_position(db, q, out, q.quote(str(s["name"])))
        refresh = [v for v in views if v["kind"] == "m" and v["populated"]]
        if refresh and not opts.schema:
            # a materialized view's rows are data (pg_dump --data-only refreshes them too): the
            # target's, made from empty tables, would stay empty
            section(out, "materialized views, filled from the rows loaded")
            for v in refresh:
                statement(out, f"REFRESH MATERIALIZED VIEW {q.quote(str(v['name']))}")

        if opts.schema:
            index_lines: list[str] = []
            for name in order:
                for idx in _indexes(db, info[name]["oid"]):
                    if not idx["valid"]:
                        index_lines.append(f"-- index {one_line(str(idx['name']))} is left out: it is invalid (a failed CREATE INDEX CONCURRENTLY)")
                        continue
                    index_lines.append(_index_sql(q, name, idx) + ";")
            if index_lines:
                section(out, "indexes")
                out.write("\n".join(index_lines) + "\n")
            later = [
                (n, con) for n in order for con in constraints[n]
                if con["kind"] == "f" or (con["kind"] == "c" and not con["validated"])
            ]
            if later:
                section(out, "foreign keys (and NOT VALID checks), added after the data")
                for n, con in later:
                    statement(out, f"ALTER TABLE {q.quote(n)} ADD CONSTRAINT {q.quote(str(con['name']))} {con['def']}")
            if views:
                section(out, "views")
                for v in views:
                    _write_view(db, q, out, v)
            dumped_seqs = {str(s["name"]) for s in sequences if str(s["name"]) not in opts.exclude and (
                s["deptype"] != "i" or str(s["owner_table"]) in info)}
            _write_other_comments(
                db, q, out, schema, set(order), {str(v["name"]) for v in views}, dumped_seqs, set(enums)
            )
        if history is not None:
            _dump_history(db, q, out, opts, result, schema, history)
        statement(out, "COMMIT")


def _write_other_comments(
    db: Database,
    q: QueryCompiler,
    out: TextIO,
    schema: str,
    tables: set[str],
    views: set[str],
    sequences: set[str],
    types: set[str],
) -> None:
    """COMMENT ON the dumped views (and their columns), indexes, sequences, constraints and enum
    types; tables and their columns have theirs after their CREATE TABLE."""
    lines: list[str] = []
    for r in db.fetch(
        "SELECT c.relkind::text AS kind, c.relname AS name, a.attname AS col, tc.relname AS of_table, "
        "d.description AS comment FROM pg_description d "
        "JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0 "
        "LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class tc ON tc.oid = i.indrelid "
        "WHERE n.nspname = %s AND c.relkind IN ('v', 'm', 'S', 'i') ORDER BY 1, 2, d.objsubid",
        [schema],
    ):
        kind, name, text = str(r["kind"]), str(r["name"]), _literal(q, r["comment"], "S", "text")
        if kind in ("v", "m") and name in views:
            what = "VIEW" if kind == "v" else "MATERIALIZED VIEW"
            if r["col"] is None:
                lines.append(f"COMMENT ON {what} {q.quote(name)} IS {text}")
            else:
                lines.append(f"COMMENT ON COLUMN {q.quote(name)}.{q.quote(str(r['col']))} IS {text}")
        elif kind == "S" and name in sequences:
            lines.append(f"COMMENT ON SEQUENCE {q.quote(name)} IS {text}")
        elif kind == "i" and str(r["of_table"]) in tables | views:
            lines.append(f"COMMENT ON INDEX {q.quote(name)} IS {text}")
    for r in db.fetch(
        "SELECT con.conname AS name, c.relname AS of_table, d.description AS comment FROM pg_description d "
        "JOIN pg_constraint con ON d.classoid = 'pg_constraint'::regclass AND d.objoid = con.oid "
        "JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s ORDER BY 2, 1",
        [schema],
    ):
        if str(r["of_table"]) in tables:
            lines.append(
                f"COMMENT ON CONSTRAINT {q.quote(str(r['name']))} ON {q.quote(str(r['of_table']))} IS "
                f"{_literal(q, r['comment'], 'S', 'text')}"
            )
    for r in db.fetch(
        "SELECT t.typname AS name, d.description AS comment FROM pg_description d "
        "JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid "
        "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %s ORDER BY 1",
        [schema],
    ):
        if str(r["name"]) in types:
            lines.append(f"COMMENT ON TYPE {q.quote(str(r['name']))} IS {_literal(q, r['comment'], 'S', 'text')}")
    if lines:
        section(out, "comments on views, indexes, sequences, constraints and types")
        for line in lines:
            statement(out, line)


def _other_schema_history(db: Database, schema: str, opts: Options) -> Row | None:
    """The history table, when ``opts.history_table`` puts it in another schema and it exists
    (a first ``migrate up`` creates it) and is not excluded."""
    from ..nodes import IdentifierNode

    if not opts.history_table:
        return None
    node = IdentifierNode.parse(opts.history_table)
    if node.schema is None or node.schema == schema or {opts.history_table, node.name} & set(opts.exclude):
        return None
    rows = db.fetch(
        "SELECT c.oid, c.relname AS name, n.nspname AS schema, c.relkind::text AS kind, "
        "c.relpersistence::text AS persistence, obj_description(c.oid, 'pg_class') AS comment, "
        "array_to_string(c.reloptions, ', ') AS options "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'r'",
        [node.schema, node.name],
    )
    return rows[0] if rows else None


def _dump_history(
    db: Database, q: QueryCompiler, out: TextIO, opts: Options, result: DumpResult, schema: str, table: Row
) -> None:
    """kysera's history table configured in another schema ("ops.kysera_history"): written last,
    under a search_path that puts its schema first (in the dump's session too, so the server
    prints its defaults and indexes relative to it), then the search_path is put back."""
    other, name = str(table["schema"]), str(table["name"])
    result.tables.append(f"{other}.{name}")
    db.fetch("SELECT set_config('search_path', %s, true)", [_quote_ident(other) + ", pg_catalog"])
    try:
        columns = _columns(db, table["oid"])
        constraints = _constraints(db, table["oid"])
        sequences = [s for s in _sequences(db, other) if str(s["owner_table"]) == name]
        identity_seq = {(name, str(s["owner_column"])): s for s in sequences if s["deptype"] == "i"}
        section(out, f"kysera's history table {other}.{name}, in its own schema")
        statement(
            out,
            "SELECT pg_catalog.set_config('kysera.search_path', pg_catalog.current_setting('search_path'), true)",
        )
        statement(
            out,
            "SELECT pg_catalog.set_config('search_path', "
            f"{q.string_literal(_quote_ident(other) + ', pg_catalog')}, true)",
        )
        plain = [s for s in sequences if s["deptype"] != "i"]
        if opts.schema:
            statement(out, f"CREATE SCHEMA IF NOT EXISTS {q.quote(other)}")
            for s in plain:
                statement(out, f"CREATE SEQUENCE {q.quote(str(s['name']))} {_sequence_options(s, True)}")
            statement(out, _create_table(q, name, table, columns, constraints, identity_seq))
            for s in plain:
                statement(
                    out,
                    f"ALTER SEQUENCE {q.quote(str(s['name']))} OWNED BY {q.quote(name)}.{q.quote(str(s['owner_column']))}",
                )
        if opts.data:
            result.rows += _dump_rows(db, q, out, name, columns, constraints, opts, result)
            for s in sequences:
                _set_position(db, q, out, q.quote(str(s["name"])), q.quote(other) + ".")
        if opts.schema:
            for idx in _indexes(db, table["oid"]):
                if idx["valid"]:
                    statement(out, _index_sql(q, name, idx))
            for con in constraints:
                if con["kind"] == "f" or (con["kind"] == "c" and not con["validated"]):
                    statement(out, f"ALTER TABLE {q.quote(name)} ADD CONSTRAINT {q.quote(str(con['name']))} {con['def']}")
        statement(
            out,
            "SELECT pg_catalog.set_config('search_path', pg_catalog.current_setting('kysera.search_path'), true)",
        )
    finally:
        db.fetch("SELECT set_config('search_path', %s, true)", [_quote_ident(schema) + ", pg_catalog"])


def _note_left_out(
    db: Database, out: TextIO, schema: str, result: DumpResult, also: Sequence[object] = ()
) -> None:
    """Say in the script what is in the schema but not in the dump."""
    row = db.fetch(
        "SELECT (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "        WHERE n.nspname = %s AND NOT EXISTS (SELECT 1 FROM pg_depend x "
        "        WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype IN ('e', 'i'))) AS routines, "
        "(SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal) AS triggers",
        [schema, schema],
    )[0]
    routines, triggers = int(str(row["routines"])), int(str(row["triggers"]))
    if routines or triggers:
        note = (
            f"{routines} function(s)/procedure(s) and {triggers} trigger(s) of schema {schema} are not "
            f"in this dump; dump with {option('native')} (pg_dump) to keep them"
        )
        result.note(out, note)
    for r in db.fetch(
        "SELECT n.nspname AS schema, count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname <> %s "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%' "
        f"AND {_NOT_EXTENSION} AND NOT (c.oid = ANY(%s::oid[])) GROUP BY 1 ORDER BY 1",
        [schema, list(also)],
    ):
        note = (
            f"schema {r['schema']} holds {r['n']} table(s) that are not in this dump (it writes schema "
            f"{schema} only); dump with {option('native')} (pg_dump) to keep them"
        )
        result.note(out, note)


def _create_table(
    q: QueryCompiler,
    name: str,
    table: Row,
    columns: list[Row],
    constraints: list[Row],
    identity_seq: dict[tuple[str, str], Row],
) -> str:
    lines: list[str] = []
    for col in columns:
        parts = [q.quote(str(col["name"])), str(col["type"])]
        if col["collation"]:
            parts.append(f"COLLATE {col['collation']}")
        if col["generated"] == "s":
            parts.append(f"GENERATED ALWAYS AS ({col['dflt']}) STORED")
        elif col["identity"] in ("a", "d"):
            kind = "ALWAYS" if col["identity"] == "a" else "BY DEFAULT"
            seq = identity_seq.get((name, str(col["name"])))
            opts = ""
            if seq is not None:
                opts = f" (SEQUENCE NAME {q.quote(str(seq['name']))} {_sequence_options(seq, False)})"
            parts.append(f"GENERATED {kind} AS IDENTITY{opts}")
        elif col["dflt"] is not None:
            parts.append(f"DEFAULT {col['dflt']}")
        if col["not_null"]:
            parts.append("NOT NULL")
        lines.append("    " + " ".join(parts))
    for con in constraints:
        if con["kind"] in ("p", "u", "x") or (con["kind"] == "c" and con["validated"]):
            lines.append(f"    CONSTRAINT {q.quote(str(con['name']))} {_key_definition(con)}")
    unlogged = "UNLOGGED " if table["persistence"] == "u" else ""
    # storage parameters (fillfactor, autovacuum settings ...)
    options = f" WITH ({table['options']})" if table["options"] else ""
    return f"CREATE {unlogged}TABLE {q.quote(name)} (\n" + ",\n".join(lines) + f"\n){options}"


def _key_definition(con: Row) -> str:
    """A constraint's definition, with its index's storage parameters where the server leaves
    them out (they go before DEFERRABLE)."""
    definition = str(con["def"])
    if not con["index_options"]:
        return definition
    cut = definition.rfind(" DEFERRABLE") if con["deferrable"] else -1
    if cut < 0:
        cut = len(definition)
    return f"{definition[:cut]} WITH ({con['index_options']}){definition[cut:]}"


def _dump_rows(
    db: Database,
    q: QueryCompiler,
    out: TextIO,
    name: str,
    columns: list[Row],
    constraints: list[Row],
    opts: Options,
    result: DumpResult,
) -> int:
    cols = [c for c in columns if c["generated"] != "s"]
    if not cols:
        return 0
    select = ", ".join(f"{q.quote(str(c['name']))}::text AS c{i}" for i, c in enumerate(cols))
    order_by = ""
    for con in constraints:
        if con["kind"] == "p" and con["key_columns"]:
            order_by = f" ORDER BY {con['key_columns']}"
    overriding = " OVERRIDING SYSTEM VALUE" if any(c["identity"] == "a" for c in cols) else ""
    head = insert_head(q, name, [str(c["name"]) for c in cols], overriding)
    writer = InsertWriter(out, head, opts.batch_rows, opts.batch_bytes, result)
    kinds = [(str(c["category"]), str(c["typname"])) for c in cols]
    keys = [f"c{i}" for i in range(len(cols))]
    section(out, f"data of {name}")
    db.fetch(f"DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT {select} FROM {q.quote(name)}{order_by}")
    try:
        while True:
            rows = db.fetch(f"FETCH FORWARD {int(opts.page_rows)} FROM {CURSOR}")
            for row in rows:
                writer.add(_literal(q, row[k], cat, typ) for k, (cat, typ) in zip(keys, kinds, strict=True))
            if len(rows) < opts.page_rows:
                break
    except BaseException:
        with suppress(KyseraError):  # the transaction may be aborted already
            db.fetch(f"CLOSE {CURSOR}")
        raise
    db.fetch(f"CLOSE {CURSOR}")
    writer.flush()
    return writer.rows


def _write_view(db: Database, q: QueryCompiler, out: TextIO, view: Row) -> None:
    name = str(view["name"])
    definition = str(view["def"] or "").strip().rstrip(";")
    raw_options = view["options"]
    options = [str(o) for o in raw_options] if isinstance(raw_options, list) else []
    check = next((o.split("=", 1)[1] for o in options if o.startswith("check_option=")), None)
    options = [o for o in options if not o.startswith("check_option=")]
    with_opts = f" WITH ({', '.join(options)})" if options else ""
    if view["kind"] == "m":
        # one made WITH NO DATA (not refreshed since) stays unreadable until a refresh, as it was
        data = "WITH DATA" if view["populated"] else "WITH NO DATA"
        statement(out, f"CREATE MATERIALIZED VIEW {q.quote(name)}{with_opts} AS\n{definition}\n{data}")
        for idx in _indexes(db, view["oid"]):
            if idx["valid"]:
                statement(out, _index_sql(q, name, idx))
        return
    tail = f"\nWITH {check.upper()} CHECK OPTION" if check else ""
    statement(out, f"CREATE VIEW {q.quote(name)}{with_opts} AS\n{definition}{tail}")
