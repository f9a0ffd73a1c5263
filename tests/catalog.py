"""Raw catalog reads for tests: what the engine really created, independent of kysera's code."""

from __future__ import annotations

from dataclasses import dataclass

from kysera import Database


@dataclass
class Col:
    name: str
    type: str
    nullable: bool
    default: str | None


def columns(db: Database, table: str) -> dict[str, Col]:
    engine = db.dialect.name
    if engine == "sqlite":
        rows = db.fetch(f"PRAGMA table_xinfo(\"{table.replace(chr(34), chr(34) * 2)}\")")
        return {
            str(r["name"]): Col(str(r["name"]), str(r["type"]).lower(), not r["notnull"] and not r["pk"], r["dflt_value"])  # type: ignore[arg-type]
            for r in rows
        }
    if engine == "postgres":
        rows = db.fetch(
            "SELECT column_name AS name, data_type AS type, character_maximum_length AS len, "
            "is_nullable AS nullable, column_default AS dflt FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
    else:
        rows = db.fetch(
            "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, NULL AS len, IS_NULLABLE AS nullable, "
            "COLUMN_DEFAULT AS dflt FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            [table],
        )
    out = {}
    for r in rows:
        typ = str(r["type"]).lower()
        if r.get("len"):
            typ += f"({r['len']})"
        out[str(r["name"])] = Col(str(r["name"]), typ, r["nullable"] == "YES", r["dflt"] if r["dflt"] is None else str(r["dflt"]))
    return out


def foreign_keys(db: Database, table: str) -> list[dict[str, str]]:
    """[{column, ref_table, ref_column, on_delete}] (actions lower case)."""
    engine = db.dialect.name
    if engine == "sqlite":
        rows = db.fetch(f"PRAGMA foreign_key_list(\"{table}\")")
        return [
            {"column": str(r["from"]), "ref_table": str(r["table"]), "ref_column": str(r["to"]), "on_delete": str(r["on_delete"]).lower()}
            for r in rows
        ]
    if engine == "postgres":
        rows = db.fetch(
            "SELECT a.attname AS col, cf.relname AS ref_table, af.attname AS ref_col, c.confdeltype AS del, c.conname AS name "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class cf ON cf.oid = c.confrelid "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1] "
            "WHERE c.contype = 'f' AND t.relname = %s",
            [table],
        )
        actions = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
        return [
            {"column": str(r["col"]), "ref_table": str(r["ref_table"]), "ref_column": str(r["ref_col"]), "on_delete": actions[str(r["del"])], "name": str(r["name"])}
            for r in rows
        ]
    rows = db.fetch(
        "SELECT k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS ref_table, k.REFERENCED_COLUMN_NAME AS ref_col, "
        "r.DELETE_RULE AS del, k.CONSTRAINT_NAME AS name FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
        "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
        "WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL",
        [table],
    )
    return [
        {"column": str(r["col"]), "ref_table": str(r["ref_table"]), "ref_column": str(r["ref_col"]), "on_delete": str(r["del"]).lower(), "name": str(r["name"])}
        for r in rows
    ]


def indexes(db: Database, table: str) -> dict[str, tuple[bool, list[str]]]:
    """name -> (unique, columns), without the primary key."""
    engine = db.dialect.name
    out: dict[str, tuple[bool, list[str]]] = {}
    if engine == "sqlite":
        for r in db.fetch(f"PRAGMA index_list(\"{table}\")"):
            if r["origin"] == "pk":
                continue
            cols = [str(c["name"]) for c in db.fetch(f"PRAGMA index_info(\"{r['name']}\")")]
            out[str(r["name"])] = (bool(r["unique"]), cols)
        return out
    if engine == "postgres":
        rows = db.fetch(
            "SELECT i.relname AS name, ix.indisunique AS uniq, a.attname AS col, k.ord AS ord "
            "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid "
            "CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE t.relname = %s AND NOT ix.indisprimary ORDER BY i.relname, k.ord",
            [table],
        )
    else:
        rows = db.fetch(
            "SELECT INDEX_NAME AS name, NON_UNIQUE = 0 AS uniq, COLUMN_NAME AS col FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            [table],
        )
    for r in rows:
        name = str(r["name"])
        unique, cols = out.get(name, (bool(r["uniq"]), []))
        cols.append(str(r["col"]))
        out[name] = (unique, cols)
    return out


def primary_key(db: Database, table: str) -> list[str]:
    engine = db.dialect.name
    if engine == "sqlite":
        rows = sorted((r for r in db.fetch(f"PRAGMA table_info(\"{table}\")") if r["pk"]), key=lambda r: int(r["pk"]))  # type: ignore[arg-type]
        return [str(r["name"]) for r in rows]
    if engine == "postgres":
        rows = db.fetch(
            "SELECT a.attname AS col FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(ix.indkey) "
            "WHERE t.relname = %s AND ix.indisprimary",
            [table],
        )
    else:
        rows = db.fetch(
            "SELECT COLUMN_NAME AS col FROM information_schema.KEY_COLUMN_USAGE "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            [table],
        )
    return [str(r["col"]) for r in rows]


def tables(db: Database) -> list[str]:
    from kysera.dialects.catalog import list_tables

    return list_tables(db)
