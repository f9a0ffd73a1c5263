"""SQLite: ``sqlite_master`` and the table-valued pragmas, plus the stored CREATE text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..dialects import sqlite_table_sql as p
from ..dialects.sql_lexer import Token, render
from .model import (
    CheckConstraintInfo,
    ColumnInfo,
    ForeignKeyInfo,
    IndexInfo,
    SchemaInfo,
    TableInfo,
    TriggerInfo,
    UniqueConstraintInfo,
    ViewInfo,
)

if TYPE_CHECKING:
    from ..database import Database


def _actions(text: object) -> str:
    return " ".join(str(text or "no action").lower().split())


def _deferrable(tokens: list[Token]) -> str:
    """The deferral of a foreign key clause as PostgreSQL's introspection names it: SQLite's
    ``DEFERRABLE`` alone (or ``INITIALLY IMMEDIATE``) checks at once, like PostgreSQL's."""
    words = [t.upper for t in tokens if t.kind == "word"]
    for i, word in enumerate(words):
        if word == "DEFERRABLE" and (i == 0 or words[i - 1] != "NOT"):
            return "initially deferred" if words[i + 1 : i + 3] == ["INITIALLY", "DEFERRED"] else "deferrable"
    return "not deferrable"


def table_names(db: Database) -> list[str]:
    rows = db.fetch(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    )
    return [str(r["name"]) for r in rows]


def _row_estimates(db: Database) -> dict[str, int]:
    if not db.fetch("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"):
        return {}
    out: dict[str, int] = {}
    for r in db.fetch("SELECT tbl, stat FROM sqlite_stat1"):
        first = str(r["stat"] or "").split(" ", 1)[0]
        if first.isdigit():
            out[str(r["tbl"])] = max(out.get(str(r["tbl"]), 0), int(first))
    return out


def read_table(db: Database, name: str, estimates: dict[str, int] | None = None) -> TableInfo | None:
    found = db.fetch("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
    if not found or name.lower().startswith("sqlite_"):
        return None
    parsed = p.read_create_table(str(found[0]["sql"] or ""))
    definitions = {c.name: c for c in parsed.columns}
    if estimates is None:
        estimates = _row_estimates(db)

    xinfo = db.fetch("SELECT * FROM pragma_table_xinfo(?) ORDER BY cid", [name])
    pk_cols = sorted((int(str(r["pk"])), str(r["name"])) for r in xinfo if int(str(r["pk"])) > 0)
    primary_key = tuple(n for _, n in pk_cols)
    columns: list[ColumnInfo] = []
    checks: list[CheckConstraintInfo] = []
    for r in xinfo:
        hidden = int(str(r["hidden"]))
        if hidden == 1:  # hidden column of a virtual table
            continue
        col_name = str(r["name"])
        data_type = str(r["type"] or "").lower()
        definition = definitions.get(col_name)
        clauses = definition.clauses if definition is not None else []
        generated = next((render(c.expression()) for c in clauses if c.kind == "generated"), None)
        auto = (
            primary_key == (col_name,)
            and data_type == "integer"
            and any(t.upper == "AUTOINCREMENT" for c in clauses for t in c.tokens)
        )
        default = r["dflt_value"]
        collate = next((c.tokens[c.body + 1] for c in clauses if c.kind == "collate" and len(c.tokens) > c.body + 1), None)
        columns.append(
            ColumnInfo(
                name=col_name,
                data_type=data_type,
                nullable=not (
                    int(str(r["notnull"]))
                    or (primary_key == (col_name,) and data_type == "integer" and not parsed.without_rowid)
                    or (parsed.without_rowid and col_name in primary_key)
                ),
                default=str(default) if default is not None else None,
                auto_increment=auto,
                generated=generated if hidden in (2, 3) else None,
                generated_storage={2: "virtual", 3: "stored"}.get(hidden) if generated is not None else None,
                collation=None if collate is None else render([collate]).strip('"`[]').upper(),
            )
        )
        checks.extend(CheckConstraintInfo(c.name, render(c.expression())) for c in clauses if c.kind == "check")

    uniques: list[UniqueConstraintInfo] = []
    named_uniques = {
        tuple(c.columns()): c.name for c in parsed.constraints if c.kind == "unique" and c.name is not None
    }
    indexes: list[IndexInfo] = []
    index_sql = {
        str(r["name"]): (str(r["sql"]) if r["sql"] is not None else None)
        for r in db.fetch("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [name])
    }
    for r in db.fetch("SELECT * FROM pragma_index_list(?) ORDER BY seq DESC", [name]):
        idx_name = str(r["name"])
        origin = str(r["origin"])
        keys_info = db.fetch("SELECT * FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", [idx_name])
        index_text = index_sql.get(idx_name)
        parsed_index = p.parse_create_index(index_text) if index_text else None
        cols: list[str] = []
        for k in keys_info:
            cid = int(str(k["cid"]))
            if k["name"] is not None:
                cols.append(str(k["name"]))
            elif cid == -1:
                cols.append("rowid")
            elif parsed_index and int(str(k["seqno"])) < len(parsed_index.keys):
                cols.append(parsed_index.keys[int(str(k["seqno"]))])
            else:
                cols.append("?")
        unique = bool(int(str(r["unique"])))
        indexes.append(
            IndexInfo(
                name=idx_name,
                columns=tuple(cols),
                unique=unique,
                primary=origin == "pk",
                predicate=parsed_index.predicate if parsed_index else None,
                method=None,
                valid=True,
                definition=index_text,
            )
        )
        if origin == "u":
            uniques.append(UniqueConstraintInfo(named_uniques.get(tuple(cols)), tuple(cols)))
    indexes.sort(key=lambda i: i.name)

    checks.extend(
        CheckConstraintInfo(c.name, render(c.expression())) for c in parsed.constraints if c.kind == "check"
    )
    foreign = [c for c in parsed.constraints if c.kind == "foreign"]
    fk_names = [c.name for c in foreign]
    fk_defs = [tuple(c.columns()) for c in foreign]
    fk_deferral = [_deferrable(c.tokens) for c in foreign]
    inline_deferral: dict[tuple[str, ...], str] = {  # REFERENCES written on a column
        (col.name,): _deferrable(clause.tokens) for col in parsed.columns for clause in col.find("references")
    }
    fks: dict[int, list[dict[str, object]]] = {}
    for r in db.fetch("SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq", [name]):
        fks.setdefault(int(str(r["id"])), []).append(r)
    foreign_keys: list[ForeignKeyInfo] = []
    for _, parts in sorted(fks.items(), reverse=True):  # pragma ids run backwards
        ref_table = str(parts[0]["table"])
        fk_cols = tuple(str(x["from"]) for x in parts)
        ref_cols: tuple[str, ...] = tuple(str(x["to"]) for x in parts if x["to"] is not None)
        if len(ref_cols) != len(fk_cols):
            ref_cols = _primary_key_of(db, ref_table)
        fk_name = None
        deferrable = inline_deferral.get(fk_cols, "not deferrable")
        if fk_cols in fk_defs:
            fk_name = fk_names[fk_defs.index(fk_cols)]
            deferrable = fk_deferral[fk_defs.index(fk_cols)]
        foreign_keys.append(
            ForeignKeyInfo(
                name=fk_name,
                columns=fk_cols,
                ref_table=ref_table,
                ref_columns=ref_cols,
                on_delete=_actions(parts[0]["on_delete"]),
                on_update=_actions(parts[0]["on_update"]),
                deferrable=deferrable,
            )
        )
    return TableInfo(
        name=name,
        schema="main",
        columns=tuple(columns),
        primary_key=primary_key,
        indexes=tuple(indexes),
        foreign_keys=tuple(foreign_keys),
        unique_constraints=tuple(uniques),
        check_constraints=tuple(checks),
        estimated_rows=estimates.get(name),
    )


def _primary_key_of(db: Database, table: str) -> tuple[str, ...]:
    rows = db.fetch("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", [table])
    return tuple(str(r["name"]) for r in rows)


def read_schema(db: Database, exclude: tuple[str, ...]) -> SchemaInfo:
    estimates = _row_estimates(db)
    tables: dict[str, TableInfo] = {}
    for name in table_names(db):
        if name in exclude:
            continue
        info = read_table(db, name, estimates)
        if info is not None:
            tables[name] = info
    views = {
        str(r["name"]): ViewInfo(str(r["name"]), p.view_select(str(r["sql"] or "")), False)
        for r in db.fetch("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")
        if str(r["name"]) not in exclude
    }
    triggers = {
        str(r["name"]): TriggerInfo(str(r["name"]), str(r["tbl_name"]), str(r["sql"] or ""))
        for r in db.fetch("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        if str(r["tbl_name"]) not in exclude
    }
    return SchemaInfo(tables=tables, views=views, enums={}, sequences=(), triggers=triggers)
