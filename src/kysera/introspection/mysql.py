"""MySQL and MariaDB: read ``information_schema``."""

from __future__ import annotations

import re
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

_NUMERIC = re.compile(r"^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real|bit)\b", re.I)


def current_database(db: Database) -> str:
    rows = db.fetch("SELECT DATABASE() AS d")
    name = rows[0]["d"] if rows else None
    if not name:
        from ..errors import ConfigurationError

        raise ConfigurationError(
            "the MySQL connection has no current database; put the database name in the URL, e.g. mysql://root@localhost/app"
        )
    return str(name)


def is_mariadb(db: Database) -> bool:
    return "mariadb" in db.dialect.version_text.lower()


def _info_columns(db: Database, table: str) -> set[str]:
    rows = db.fetch(
        "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = %s",
        [table],
    )
    return {str(r["c"]).upper() for r in rows}


def _group(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(str(r["table_name"]), []).append(r)
    return out


def _default(db: Database, raw: object, extra: str, column_type: str) -> str | None:
    if raw is None:
        return None
    text = str(raw)
    if is_mariadb(db):
        return None if text.upper() == "NULL" else text  # MariaDB keeps the default as SQL text
    if "default_generated" in extra.lower():
        return text
    if _NUMERIC.match(column_type) and re.fullmatch(r"-?\d+(\.\d+)?(e[+-]?\d+)?|b'[01]*'", text, re.I):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def read_tables(db: Database, schema: str, only: str | None, exclude: tuple[str, ...]) -> dict[str, TableInfo]:
    flt = " AND TABLE_NAME = %s" if only is not None else ""
    params: list[object] = [schema, *([only] if only is not None else [])]
    tables = db.fetch(
        "SELECT TABLE_NAME AS name, TABLE_ROWS AS est, TABLE_COMMENT AS comment, TABLE_COLLATION AS collation FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = %s AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED'){flt} ORDER BY TABLE_NAME",
        params,
    )
    if not tables:
        return {}
    columns = _group(
        db.fetch(
            "SELECT TABLE_NAME AS table_name, COLUMN_NAME AS name, COLUMN_TYPE AS data_type, "
            "IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra, COLUMN_COMMENT AS comment, "
            "GENERATION_EXPRESSION AS gen, COLLATION_NAME AS coll FROM information_schema.COLUMNS "
            f"WHERE TABLE_SCHEMA = %s{flt} ORDER BY TABLE_NAME, ORDINAL_POSITION",
            params,
        )
    )
    has_expression = "EXPRESSION" in _info_columns(db, "STATISTICS")
    stats = _group(
        db.fetch(
            "SELECT TABLE_NAME AS table_name, INDEX_NAME AS name, NON_UNIQUE AS non_unique, "
            "SEQ_IN_INDEX AS seq, COLUMN_NAME AS col, INDEX_TYPE AS method, COLLATION AS sort, SUB_PART AS part, "
            "INDEX_COMMENT AS comment"
            + (", EXPRESSION AS expr" if has_expression else ", NULL AS expr")
            + f" FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s{flt} "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            params,
        )
    )
    key_columns = db.fetch(
        "SELECT k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col, "
        "k.REFERENCED_TABLE_SCHEMA AS ref_schema, k.REFERENCED_TABLE_NAME AS ref_table, "
        "k.REFERENCED_COLUMN_NAME AS ref_col, t.CONSTRAINT_TYPE AS kind "
        "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.TABLE_CONSTRAINTS t "
        "ON t.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND t.TABLE_NAME = k.TABLE_NAME "
        "AND t.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        f"WHERE k.TABLE_SCHEMA = %s{flt.replace('TABLE_NAME', 'k.TABLE_NAME')} "
        "AND t.CONSTRAINT_TYPE IN ('UNIQUE', 'FOREIGN KEY') "
        "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        params,
    )
    rules = {
        (str(r["table_name"]), str(r["name"])): r
        for r in db.fetch(
            "SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, UPDATE_RULE AS on_update, "
            "DELETE_RULE AS on_delete FROM information_schema.REFERENTIAL_CONSTRAINTS "
            f"WHERE CONSTRAINT_SCHEMA = %s{flt}",
            params,
        )
    }
    checks = _group(_read_checks(db, schema, only))

    out: dict[str, TableInfo] = {}
    for t in tables:
        name = str(t["name"])
        if name in exclude:
            continue
        cols = []
        for c in columns.get(name, []):
            extra = str(c["extra"] or "")
            gen = str(c["gen"] or "")
            cols.append(
                ColumnInfo(
                    name=str(c["name"]),
                    data_type=_type_text(str(c["data_type"])),
                    nullable=str(c["nullable"]).upper() == "YES",
                    default=None if gen else _default(db, c["dflt"], extra, str(c["data_type"])),
                    auto_increment="auto_increment" in extra.lower(),
                    generated=gen or None,
                    generated_storage=("stored" if "stored" in extra.lower() else "virtual") if gen else None,
                    comment=str(c["comment"]) if c["comment"] else None,
                    on_update=_on_update(extra),
                    collation=str(c["coll"]) if c["coll"] else None,
                )
            )
        by_index: dict[str, list[Row]] = {}
        for s in stats.get(name, []):
            by_index.setdefault(str(s["name"]), []).append(s)
        indexes = []
        primary_key: tuple[str, ...] = ()
        for idx_name, parts in by_index.items():
            # a prefix index keeps only the first characters of a column: s(3)
            idx_cols = tuple(
                (str(p["col"]) + (f"({p['part']})" if p["part"] is not None else "")) if p["col"] is not None else f"({p['expr']})"
                for p in parts
            )
            if idx_name == "PRIMARY":
                primary_key = tuple(str(p["col"]) for p in parts)  # the columns, prefix or not
            indexes.append(
                IndexInfo(
                    name=idx_name,
                    columns=idx_cols,
                    unique=not int(str(parts[0]["non_unique"])),
                    primary=idx_name == "PRIMARY",
                    predicate=None,
                    method=str(parts[0]["method"]).lower() if parts[0]["method"] else None,
                    valid=True,
                    definition=None,
                    descending=tuple(p["sort"] == "D" for p in parts),
                    comment=str(parts[0]["comment"]) if parts[0]["comment"] else None,
                )
            )
        uniques: dict[str, list[str]] = {}
        fks: dict[str, list[Row]] = {}
        for k in key_columns:
            if str(k["table_name"]) != name:
                continue
            if str(k["kind"]) == "UNIQUE":
                uniques.setdefault(str(k["name"]), []).append(str(k["col"]))
            else:
                fks.setdefault(str(k["name"]), []).append(k)
        foreign_keys = []
        for fk_name, parts in fks.items():
            rule = rules.get((name, fk_name), {})
            ref_table = str(parts[0]["ref_table"])
            if parts[0]["ref_schema"] is not None and str(parts[0]["ref_schema"]) != schema:
                ref_table = f"{parts[0]['ref_schema']}.{ref_table}"
            foreign_keys.append(
                ForeignKeyInfo(
                    name=fk_name,
                    columns=tuple(str(p["col"]) for p in parts),
                    ref_table=ref_table,
                    ref_columns=tuple(str(p["ref_col"]) for p in parts),
                    on_delete=str(rule.get("on_delete") or "no action").lower(),
                    on_update=str(rule.get("on_update") or "no action").lower(),
                )
            )
        est = t["est"]
        out[name] = TableInfo(
            name=name,
            schema=schema,
            columns=tuple(cols),
            primary_key=primary_key,
            indexes=tuple(indexes),
            foreign_keys=tuple(foreign_keys),
            unique_constraints=tuple(UniqueConstraintInfo(n, tuple(c)) for n, c in uniques.items()),
            check_constraints=tuple(
                CheckConstraintInfo(str(c["name"]), str(c["expr"])) for c in checks.get(name, [])
            ),
            comment=str(t["comment"]) if t["comment"] else None,
            estimated_rows=int(str(est)) if est is not None else None,
            collation=str(t["collation"]) if t["collation"] else None,
        )
    return out


def _read_checks(db: Database, schema: str, only: str | None) -> list[Row]:
    available = _info_columns(db, "CHECK_CONSTRAINTS")
    if not available:
        return []  # MySQL before 8.0.16 has no CHECK constraints
    on_table = " AND c.TABLE_NAME = t.TABLE_NAME" if "TABLE_NAME" in available else ""
    flt = " AND t.TABLE_NAME = %s" if only is not None else ""
    return db.fetch(
        "SELECT t.TABLE_NAME AS table_name, t.CONSTRAINT_NAME AS name, c.CHECK_CLAUSE AS expr "
        "FROM information_schema.TABLE_CONSTRAINTS t JOIN information_schema.CHECK_CONSTRAINTS c "
        f"ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME{on_table} "
        f"WHERE t.CONSTRAINT_SCHEMA = %s AND t.CONSTRAINT_TYPE = 'CHECK'{flt} "
        "ORDER BY t.TABLE_NAME, t.CONSTRAINT_NAME",
        [schema] + ([only] if only is not None else []),
    )


def read_views(db: Database, schema: str) -> dict[str, ViewInfo]:
    rows = db.fetch(
        "SELECT TABLE_NAME AS name, VIEW_DEFINITION AS definition FROM information_schema.VIEWS "
        "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME",
        [schema],
    )
    prefix = "`" + schema.replace("`", "``") + "`."
    return {
        str(r["name"]): ViewInfo(str(r["name"]), str(r["definition"] or "").replace(prefix, "").strip(), False)
        for r in rows
    }


def _sequence(db: Database, schema: str, name: str) -> SequenceInfo:
    """A MariaDB sequence's options: its one row holds them (reading it does not advance it)."""
    quoted = ".".join("`" + part.replace("`", "``") + "`" for part in (schema, name))
    row = db.fetch(
        "SELECT start_value AS start, increment, minimum_value AS min_value, maximum_value AS max_value, "
        f"cache_size AS cache, cycle_option AS cycle FROM {quoted}"
    )[0]
    return SequenceInfo(
        name, int(str(row["start"])), int(str(row["increment"])), int(str(row["min_value"])),
        int(str(row["max_value"])), int(str(row["cache"])), bool(int(str(row["cycle"]))),
    )


def read_schema(db: Database, schema: str | None, exclude: tuple[str, ...]) -> SchemaInfo:
    schema = schema or current_database(db)
    sequences = tuple(
        str(r["name"])
        for r in db.fetch(
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'SEQUENCE' ORDER BY TABLE_NAME",
            [schema],
        )
    )
    return SchemaInfo(
        tables=read_tables(db, schema, None, exclude),
        views={k: v for k, v in read_views(db, schema).items() if k not in exclude},
        enums={},
        sequences=sequences,
        sequence_options={name: _sequence(db, schema, name) for name in sequences},
        triggers=read_triggers(db, schema, exclude),
        routines=read_routines(db, schema),
    )


def read_triggers(db: Database, schema: str, exclude: tuple[str, ...]) -> dict[str, TriggerInfo]:
    rows = db.fetch(
        "SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS table_name, ACTION_TIMING AS timing, "
        "EVENT_MANIPULATION AS event, ACTION_STATEMENT AS body FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = %s ORDER BY TRIGGER_NAME",
        [schema],
    )
    return {
        str(r["name"]): TriggerInfo(
            str(r["name"]), str(r["table_name"]), f"{r['timing']} {r['event']} FOR EACH ROW {r['body'] or ''}".strip()
        )
        for r in rows
        if str(r["table_name"]) not in exclude
    }


def read_routines(db: Database, schema: str) -> dict[str, RoutineInfo]:
    """Stored functions and procedures: their parameters, result and body."""
    params: dict[tuple[str, str], list[str]] = {}
    for r in db.fetch(
        "SELECT SPECIFIC_NAME AS name, ROUTINE_TYPE AS kind, PARAMETER_MODE AS mode, PARAMETER_NAME AS param, "
        "DTD_IDENTIFIER AS type FROM information_schema.PARAMETERS "
        "WHERE SPECIFIC_SCHEMA = %s AND ORDINAL_POSITION > 0 ORDER BY SPECIFIC_NAME, ORDINAL_POSITION",
        [schema],
    ):
        mode = f"{r['mode']} " if r["mode"] and str(r["kind"]).upper() == "PROCEDURE" else ""
        params.setdefault((str(r["name"]), str(r["kind"]).upper()), []).append(f"{mode}{r['param']} {r['type']}")
    out: dict[str, RoutineInfo] = {}
    for r in db.fetch(
        "SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS kind, DTD_IDENTIFIER AS result, "
        "ROUTINE_DEFINITION AS body FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = %s ORDER BY ROUTINE_NAME",
        [schema],
    ):
        name, kind = str(r["name"]), str(r["kind"]).upper()
        returns = f" RETURNS {r['result']}" if kind == "FUNCTION" and r["result"] else ""
        text = f"({', '.join(params.get((name, kind), []))}){returns} {r['body'] or ''}".strip()
        out[name] = RoutineInfo(name, kind.lower(), text)
    return out


def read_table(db: Database, name: str, schema: str | None) -> TableInfo | None:
    schema = schema or current_database(db)
    return read_tables(db, schema, name, ()).get(name)


def _type_text(column_type: str) -> str:
    """COLUMN_TYPE in lower case, but for the labels of an enum or a set, which keep their case
    (enum('Active') and enum('active') store and return different text)."""
    head, quote, rest = column_type.partition("'")
    return head.lower() + quote + rest


def _on_update(extra: str) -> str | None:
    """``on update current_timestamp()`` in EXTRA (MariaDB; MySQL writes ``DEFAULT_GENERATED on
    update CURRENT_TIMESTAMP``): the expression, lower case."""
    m = re.search(r"\bon update (\S+)", extra, re.I)
    return m.group(1).lower() if m else None
