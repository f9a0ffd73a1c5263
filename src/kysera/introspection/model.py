"""What introspection returns: frozen descriptions of tables, columns, indexes and constraints.

Every engine's reader fills the same dataclasses; the values keep the engine's own spelling
(``character varying(255)`` on PostgreSQL, ``varchar(255)`` on MySQL/MariaDB and SQLite), so two
descriptions are comparable when they come from the same engine. :meth:`SchemaInfo.diff` lists
the differences between two descriptions in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column, in the order the table declares it."""

    name: str
    #: the engine's spelling of the type, lower case: ``character varying(255)``, ``int(11)``
    data_type: str
    nullable: bool
    #: the default as SQL text (``'active'::text``, ``current_timestamp()``), None for none
    default: str | None = None
    #: serial, identity, AUTO_INCREMENT, or SQLite's INTEGER PRIMARY KEY AUTOINCREMENT
    auto_increment: bool = False
    #: the expression of a generated (computed) column
    generated: str | None = None
    comment: str | None = None
    #: MySQL/MariaDB's ``ON UPDATE`` (``current_timestamp()``), None elsewhere
    on_update: str | None = None
    #: the column's collation: on MySQL/MariaDB always (it names the character set), on
    #: PostgreSQL only when it is not the type's default (``COLLATE "C"``); on SQLite a COLLATE
    #: in the column's definition (``NOCASE``)
    collation: str | None = None
    #: PostgreSQL's identity column: ``always`` or ``by default``; None elsewhere and for others
    identity: str | None = None
    #: a generated column's ``stored`` or ``virtual``; None for a column that is not generated
    generated_storage: str | None = None


@dataclass(frozen=True, slots=True)
class IndexInfo:
    name: str
    #: column names in key order; expressions as SQL text
    columns: tuple[str, ...]
    unique: bool = False
    #: the index that implements the primary key
    primary: bool = False
    #: the WHERE of a partial index (PostgreSQL, SQLite)
    predicate: str | None = None
    #: access method, lower case (btree, hash, gin, gist, fulltext ...); None on SQLite
    method: str | None = None
    #: False for a PostgreSQL index whose CREATE INDEX CONCURRENTLY failed (indisvalid)
    valid: bool = True
    #: the engine's own CREATE INDEX text when it keeps one (PostgreSQL, SQLite)
    definition: str | None = None
    #: per column, whether it is sorted descending; () when the engine keeps no text to read
    #: that from otherwise (MySQL/MariaDB fill it in; elsewhere ``definition`` shows it)
    descending: tuple[bool, ...] = ()
    #: the index's comment (PostgreSQL, MySQL/MariaDB)
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ForeignKeyInfo:
    #: None for an unnamed SQLite foreign key
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    #: lower case: 'cascade', 'set null', 'restrict', 'no action', 'set default'
    on_delete: str = "no action"
    on_update: str = "no action"
    #: 'not deferrable', 'deferrable' or 'initially deferred' (read on PostgreSQL and SQLite)
    deferrable: str = "not deferrable"
    #: False for a key added NOT VALID and not validated since (PostgreSQL)
    validated: bool = True


@dataclass(frozen=True, slots=True)
class UniqueConstraintInfo:
    #: None for an unnamed SQLite constraint
    name: str | None
    columns: tuple[str, ...]
    #: 'not deferrable', 'deferrable' or 'initially deferred' (read on PostgreSQL)
    deferrable: str = "not deferrable"


@dataclass(frozen=True, slots=True)
class CheckConstraintInfo:
    #: None for an unnamed SQLite constraint
    name: str | None
    expression: str
    #: False for a constraint added NOT VALID and not validated since (PostgreSQL)
    validated: bool = True


@dataclass(frozen=True, slots=True)
class TableInfo:
    name: str
    #: PostgreSQL schema, MySQL database, ``main`` on SQLite
    schema: str | None
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...] = ()
    indexes: tuple[IndexInfo, ...] = ()
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    unique_constraints: tuple[UniqueConstraintInfo, ...] = ()
    check_constraints: tuple[CheckConstraintInfo, ...] = ()
    #: the table's comment (PostgreSQL, MySQL/MariaDB; SQLite has none)
    comment: str | None = None
    #: the planner's estimate (PostgreSQL reltuples, MySQL TABLE_ROWS, SQLite sqlite_stat1)
    estimated_rows: int | None = field(default=None, compare=False)
    #: MySQL/MariaDB: the table's default collation (which names its character set), the one
    #: columns added later get; None elsewhere
    collation: str | None = None

    def column(self, name: str) -> ColumnInfo | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def index(self, name: str) -> IndexInfo | None:
        for idx in self.indexes:
            if idx.name == name:
                return idx
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def diff(self, other: TableInfo, *, column_order: bool = True) -> list[str]:
        """How ``other`` differs from this table, one sentence per difference; with
        ``column_order=False``, columns in another order are no difference."""
        return _table_diff(self, other, column_order)


@dataclass(frozen=True, slots=True)
class ViewInfo:
    name: str
    #: the SELECT of the view as the engine prints it
    definition: str
    materialized: bool = False
    #: a PostgreSQL materialized view's indexes; () for a view
    indexes: tuple[IndexInfo, ...] = ()
    #: the view's comment (PostgreSQL)
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    name: str
    #: the table (or view) the trigger fires on
    table: str
    #: the engine's own text of the trigger: PostgreSQL's ``pg_get_triggerdef``, SQLite's
    #: ``CREATE TRIGGER``, MySQL/MariaDB's timing, event and body
    definition: str


@dataclass(frozen=True, slots=True)
class SequenceInfo:
    """A sequence's options (PostgreSQL, MariaDB). Its current value is not one of them: it moves
    with every row inserted, and no schema change is in it."""

    name: str
    start: int
    increment: int
    min_value: int
    max_value: int
    cache: int
    cycle: bool
    #: PostgreSQL's ``smallint``, ``integer`` or ``bigint``; None on MariaDB (always bigint)
    data_type: str | None = None

    def options(self) -> dict[str, object]:
        """The options by their SQL names, for a difference in words."""
        return {
            "as": self.data_type,
            "start": self.start,
            "increment": self.increment,
            "minvalue": self.min_value,
            "maxvalue": self.max_value,
            "cache": self.cache,
            "cycle": "cycle" if self.cycle else "no cycle",
        }


@dataclass(frozen=True, slots=True)
class RoutineInfo:
    """A stored function or procedure (PostgreSQL, MySQL/MariaDB; SQLite has none)."""

    #: the name with its argument types on PostgreSQL (``total(integer)``: functions overload),
    #: the plain name on MySQL/MariaDB
    name: str
    #: ``function`` or ``procedure`` (PostgreSQL: also ``aggregate`` and ``window``)
    kind: str
    #: the engine's own text: PostgreSQL's ``pg_get_functiondef``, MySQL's parameters,
    #: result and body
    definition: str


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """Everything introspection found in one schema (PostgreSQL) or database (MySQL, SQLite)."""

    tables: dict[str, TableInfo]
    views: dict[str, ViewInfo] = field(default_factory=dict)
    #: PostgreSQL enum types: name -> labels in order
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sequences: tuple[str, ...] = ()
    #: the options of each sequence in ``sequences``, by name (PostgreSQL, MariaDB)
    sequence_options: dict[str, SequenceInfo] = field(default_factory=dict)
    #: by ``table.trigger`` (PostgreSQL names triggers per table; the others per schema)
    triggers: dict[str, TriggerInfo] = field(default_factory=dict)
    #: stored functions and procedures, by :attr:`RoutineInfo.name`
    routines: dict[str, RoutineInfo] = field(default_factory=dict)
    #: PostgreSQL domains: name -> base type, collation, NOT NULL, default and constraints as SQL
    domains: dict[str, str] = field(default_factory=dict)
    #: PostgreSQL: every schema of the database (not the system's, not an extension's), whose
    #: contents only the introspected one is read for; () elsewhere
    schemas: tuple[str, ...] = ()

    def table(self, name: str) -> TableInfo | None:
        return self.tables.get(name)

    def diff(self, other: SchemaInfo, *, column_order: bool = True) -> list[str]:
        """What changed from this schema to ``other``, one readable sentence per difference.

        An empty list means the two are the same (row estimates are ignored). Meant for tests
        that check a migration's down undoes its up. ``column_order=False``: a table whose
        columns come in another order (a column dropped and added back comes last) is no difference.
        """
        out: list[str] = []
        for name in sorted(set(self.tables) | set(other.tables)):
            before, after = self.tables.get(name), other.tables.get(name)
            if before is None:
                out.append(f"table {name} added")
            elif after is None:
                out.append(f"table {name} removed")
            else:
                out.extend(_table_diff(before, after, column_order))
        for name in sorted(set(self.views) | set(other.views)):
            v1, v2 = self.views.get(name), other.views.get(name)
            kind = "materialized view" if (v1 or v2) and (v1 or v2).materialized else "view"  # type: ignore[union-attr]
            if v1 is None:
                out.append(f"{kind} {name} added")
            elif v2 is None:
                out.append(f"{kind} {name} removed")
            else:
                if not _same_sql(v1.definition, v2.definition) or v1.materialized != v2.materialized:
                    out.append(f"{kind} {name} definition changed: {_shown(v1.definition)} -> {_shown(v2.definition)}")
                if v1.comment != v2.comment:
                    out.append(f"{kind} {name} comment changed: {_said(v1.comment)} -> {_said(v2.comment)}")
                out.extend(_index_diff(name, v1.indexes, v2.indexes))
        for name in sorted(set(self.enums) | set(other.enums)):
            e1, e2 = self.enums.get(name), other.enums.get(name)
            if e1 is None:
                out.append(f"enum type {name} added")
            elif e2 is None:
                out.append(f"enum type {name} removed")
            elif e1 != e2:
                out.append(f"enum type {name} labels changed: {_labels(e1)} -> {_labels(e2)}")
        for seq in sorted(set(other.sequences) - set(self.sequences)):
            out.append(f"sequence {seq} added")
        for seq in sorted(set(self.sequences) - set(other.sequences)):
            out.append(f"sequence {seq} removed")
        for seq in sorted(set(self.sequence_options) & set(other.sequence_options)):
            o1, o2 = self.sequence_options[seq].options(), other.sequence_options[seq].options()
            changed = [f"{key} {o1[key]} -> {o2[key]}" for key in o1 if o1[key] != o2[key]]
            if changed:
                out.append(f"sequence {seq} changed: " + "; ".join(changed))
        for name in sorted(set(self.domains) | set(other.domains)):
            d1, d2 = self.domains.get(name), other.domains.get(name)
            if d1 is None:
                out.append(f"domain {name} added")
            elif d2 is None:
                out.append(f"domain {name} removed")
            elif not _same_sql(d1, d2):
                out.append(f"domain {name} changed: {_shown(d1)} -> {_shown(d2)}")
        for name in sorted(set(other.schemas) - set(self.schemas)):
            out.append(f"schema {name} added")
        for name in sorted(set(self.schemas) - set(other.schemas)):
            out.append(f"schema {name} removed")
        out.extend(_defined_changes(self.triggers, other.triggers, lambda t: f"trigger {t.name} on {t.table}"))
        out.extend(_defined_changes(self.routines, other.routines, lambda r: f"{r.kind} {r.name}"))
        return out


_Defined = TypeVar("_Defined", TriggerInfo, RoutineInfo)


def _defined_changes(before: dict[str, _Defined], after: dict[str, _Defined], label: Callable[[_Defined], str]) -> list[str]:
    """Objects known by a name and a definition (triggers, routines): added, removed, or changed."""
    out: list[str] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None and new is not None:
            out.append(f"{label(new)} added")
        elif new is None and old is not None:
            out.append(f"{label(old)} removed")
        elif old is not None and new is not None and not _same_sql(old.definition, new.definition):
            out.append(f"{label(old)} changed: {_shown(old.definition)} -> {_shown(new.definition)}")
    return out


def _shown(definition: str | None, limit: int = 200) -> str:
    """A definition on one line for a diff, cut at ``limit`` characters."""
    text = _norm_ws(definition) or "none"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _labels(labels: Iterable[str]) -> str:
    return "(" + ", ".join(repr(x) for x in labels) + ")"


def _norm_ws(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


#: a quoted identifier in an engine's own index text: "x", `x` or [x]
_QUOTED_NAME = re.compile(r'"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\]')


def _same_sql(a: str | None, b: str | None) -> bool:
    """SQL text (a view, a check, a trigger, a generated column) the same but for spelling (see
    :func:`_same_definition`): SQLite puts quotes around the names a rename touched, in the
    stored text of every view, check and trigger that uses them, also when renamed back."""
    if a is None or b is None:
        return a is b
    return _same_definition(a, b)


def _same_definition(a: str, b: str) -> bool:
    """Index texts that differ only in spelling are the same index: how names are quoted (SQLite
    rewrites `email` as "email" when it renames a column back, and kysera writes index columns in
    backticks), the case of keywords and names, spaces (also around operators: SQLite keeps
    ``a>1`` as written), parentheses around the whole text or a partial index's WHERE, and an
    ``ASC`` that is the default anyway. Quoted strings still compare exactly."""
    return _norm_ws(a) == _norm_ws(b) or _index_key(a) == _index_key(b)


#: a string literal, kept as it is
_STRING = re.compile(r"'(?:[^']|'')*'")


def _index_key(text: str) -> str:
    def plain(part: str) -> str:
        part = _QUOTED_NAME.sub(lambda m: next(g for g in m.groups() if g is not None), part).lower()
        part = re.sub(r"\s+asc\b", "", part)
        part = re.sub(r"\s*([(),<>=!+*/%|-])\s*", r"\1", part)
        return " ".join(part.split())

    out, last = [], 0
    for m in _STRING.finditer(text):
        out.append(plain(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(plain(text[last:]))
    key = "".join(out)
    # SQLite keeps a partial index's WHERE (a > 1) as written, parentheses and all
    while key.startswith("(") and key.endswith(")") and _balanced(key[1:-1]):
        key = key[1:-1]
    where = re.fullmatch(r"(create (?:unique )?index .*\bwhere)\((.*)\)", key, re.S)
    if where and _balanced(where.group(2)):
        key = f"{where.group(1)} {where.group(2)}"
    return key


def _same_key_parts(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """An index's columns the same: names exactly, expressions (SQLite keeps them as written:
    ``lower(b)``, ``LOWER( b )``) but for spelling, as :func:`_same_sql` compares them."""
    return len(a) == len(b) and all(x == y or (not (x.isidentifier() and y.isidentifier()) and _same_sql(x, y)) for x, y in zip(a, b, strict=True))


#: spellings of one default: the time the transaction started, and the date
_SAME_DEFAULT = {
    "now()": "current_timestamp",
    "current_timestamp()": "current_timestamp",
    "transaction_timestamp()": "current_timestamp",
    "current_date()": "current_date",
    "curdate()": "current_date",
}


def _default_key(text: str | None) -> str | None:
    """A default as compared: ``now()``, ``CURRENT_TIMESTAMP`` and ``current_timestamp`` (in
    parentheses or not) are one default; anything else compares but for spelling, as
    :func:`_index_key` sees it (SQLite keeps ``DATETIME( 'now' )`` as written): string literals
    exactly."""
    if text is None:
        return None
    key = " ".join(text.split())
    while key.startswith("(") and key.endswith(")") and _balanced(key[1:-1]):
        key = key[1:-1].strip()
    lower = key.lower()
    if lower in ("current_timestamp", "current_date", "current_time", "localtime", "localtimestamp"):
        return lower
    return _SAME_DEFAULT.get(lower) or _index_key(key)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def _named(name: str | None) -> str:
    return f"{name} " if name else ""


def _cols(columns: Iterable[str]) -> str:
    return "(" + ", ".join(columns) + ")"


def _table_diff(a: TableInfo, b: TableInfo, column_order: bool = True) -> list[str]:
    t = b.name
    out: list[str] = []
    cols_a = {c.name: c for c in a.columns}
    cols_b = {c.name: c for c in b.columns}
    for name in [c.name for c in b.columns if c.name not in cols_a]:
        out.append(f"column {t}.{name} added")
    for name in [c.name for c in a.columns if c.name not in cols_b]:
        out.append(f"column {t}.{name} removed")
    for name, ca in cols_a.items():
        cb = cols_b.get(name)
        if cb is None:
            continue
        where = f"column {t}.{name}"
        if ca.data_type != cb.data_type:
            out.append(f"{where} type changed: {ca.data_type} -> {cb.data_type}")
        if ca.nullable != cb.nullable:
            out.append(f"{where} " + ("became nullable" if cb.nullable else "became NOT NULL"))
        if _default_key(ca.default) != _default_key(cb.default):
            out.append(f"{where} default changed: {ca.default or 'none'} -> {cb.default or 'none'}")
        if ca.auto_increment != cb.auto_increment:
            out.append(f"{where} " + ("became auto-increment" if cb.auto_increment else "is no longer auto-increment"))
        elif ca.identity != cb.identity:
            out.append(f"{where} identity changed: generated {ca.identity or 'no'} -> {cb.identity or 'no'}")
        if not _same_sql(ca.generated, cb.generated):
            out.append(f"{where} generated expression changed: {ca.generated or 'none'} -> {cb.generated or 'none'}")
        elif ca.generated is not None and cb.generated is not None and ca.generated_storage != cb.generated_storage:
            out.append(f"{where} generated column changed: {ca.generated_storage} -> {cb.generated_storage}")
        if ca.comment != cb.comment:
            out.append(f"{where} comment changed: {_said(ca.comment)} -> {_said(cb.comment)}")
        if _default_key(ca.on_update) != _default_key(cb.on_update):
            out.append(f"{where} ON UPDATE changed: {ca.on_update or 'none'} -> {cb.on_update or 'none'}")
        if ca.collation != cb.collation:
            out.append(f"{where} collation changed: {ca.collation or 'none'} -> {cb.collation or 'none'}")
    if a.comment != b.comment:
        out.append(f"table {t} comment changed: {_said(a.comment)} -> {_said(b.comment)}")
    if a.collation != b.collation:
        out.append(f"table {t} default collation changed: {a.collation or 'none'} -> {b.collation or 'none'}")
    order_a = [c for c in a.column_names if c in cols_b]
    order_b = [c for c in b.column_names if c in cols_a]
    if column_order and order_a != order_b:
        out.append(f"table {t} column order changed: {_cols(order_a)} -> {_cols(order_b)}")
    if a.primary_key != b.primary_key:
        out.append(f"table {t} primary key changed: {_cols(a.primary_key) if a.primary_key else 'none'} -> "
                   f"{_cols(b.primary_key) if b.primary_key else 'none'}")

    out.extend(_index_diff(t, a.indexes, b.indexes))

    def fk_key(fk: ForeignKeyInfo) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
        return (fk.columns, fk.ref_table, fk.ref_columns)

    fk_a: dict[tuple[tuple[str, ...], str, tuple[str, ...]], list[ForeignKeyInfo]] = {}
    fk_b: dict[tuple[tuple[str, ...], str, tuple[str, ...]], list[ForeignKeyInfo]] = {}
    for keys, side in ((fk_a, a), (fk_b, b)):
        for f in side.foreign_keys:
            keys.setdefault(fk_key(f), []).append(f)
    for key in sorted(set(fk_a) | set(fk_b)):
        shown = f"foreign key {t}{_cols(key[0])} -> {key[1]}{_cols(key[2])}"
        for fa, fb in _pair_keys(fk_a.get(key, []), fk_b.get(key, [])):
            if fa is None or fb is None:
                gone = fb is None
                one = fa if gone else fb
                several = len(fk_a.get(key, [])) > 1 or len(fk_b.get(key, [])) > 1
                named = f" ({one.name})" if one is not None and one.name and several else ""
                out.append(f"{shown} {'removed' if gone else 'added'}{named}")
                continue
            if fa.on_delete != fb.on_delete:
                out.append(f"{shown} on delete changed: {fa.on_delete} -> {fb.on_delete}")
            if fa.on_update != fb.on_update:
                out.append(f"{shown} on update changed: {fa.on_update} -> {fb.on_update}")
            if fa.name and fb.name and fa.name != fb.name:
                out.append(f"{shown} renamed: {fa.name} -> {fb.name}")
            if fa.deferrable != fb.deferrable:
                out.append(f"{shown} changed: {fa.deferrable} -> {fb.deferrable}")
            if fa.validated != fb.validated:
                out.append(f"{shown} " + ("was validated" if fb.validated else "is NOT VALID now"))

    uq_a = {u.columns: u for u in a.unique_constraints}
    uq_b = {u.columns: u for u in b.unique_constraints}
    for ukey in sorted(set(uq_a) | set(uq_b)):
        if ukey not in uq_a:
            out.append(f"unique constraint {_named(uq_b[ukey].name)}on {t}{_cols(ukey)} added")
        elif ukey not in uq_b:
            out.append(f"unique constraint {_named(uq_a[ukey].name)}on {t}{_cols(ukey)} removed")
        elif uq_a[ukey].deferrable != uq_b[ukey].deferrable:
            out.append(
                f"unique constraint {_named(uq_a[ukey].name)}on {t}{_cols(ukey)} changed: "
                f"{uq_a[ukey].deferrable} -> {uq_b[ukey].deferrable}"
            )

    ck_a = {(c.name or _index_key(c.expression)): c for c in a.check_constraints}
    ck_b = {(c.name or _index_key(c.expression)): c for c in b.check_constraints}
    for ckey in sorted(set(ck_a) | set(ck_b)):
        ka, kb = ck_a.get(ckey), ck_b.get(ckey)
        if ka is None and kb is not None:
            out.append(f"check constraint {_named(kb.name)}on {t} added: {kb.expression}")
        elif kb is None and ka is not None:
            out.append(f"check constraint {_named(ka.name)}on {t} removed: {ka.expression}")
        elif ka is not None and kb is not None:
            if not _same_sql(ka.expression, kb.expression):
                out.append(f"check constraint {_named(ka.name)}on {t} changed: {ka.expression} -> {kb.expression}")
            if ka.validated != kb.validated:
                out.append(f"check constraint {_named(ka.name)}on {t} " + ("was validated" if kb.validated else "is NOT VALID now"))
    return out


def _index_diff(t: str, before: tuple[IndexInfo, ...], after: tuple[IndexInfo, ...]) -> list[str]:
    """How the indexes of table (or materialized view) ``t`` changed, matched by name; SQLite's
    own indexes for UNIQUE and PRIMARY KEY (``sqlite_autoindex_t_1``, numbered in the order the
    table declares them, and which no statement can name) by their columns."""
    out: list[str] = []

    def key(index: IndexInfo) -> str:
        return f"sqlite_autoindex {_cols(index.columns)}" if index.name.startswith("sqlite_autoindex_") else index.name

    idx_a = {key(i): i for i in before}
    idx_b = {key(i): i for i in after}
    for ikey in sorted(set(idx_a) | set(idx_b)):
        ia, ib = idx_a.get(ikey), idx_b.get(ikey)
        name = (ia or ib).name  # type: ignore[union-attr]
        if ia is None and ib is not None:
            out.append(f"index {name} on {t} {_cols(ib.columns)} added")
        elif ib is None and ia is not None:
            out.append(f"index {name} on {t} {_cols(ia.columns)} removed")
        elif ia is not None and ib is not None:
            changes = []
            if not _same_key_parts(ia.columns, ib.columns):
                changes.append(f"columns {_cols(ia.columns)} -> {_cols(ib.columns)}")
            if ia.unique != ib.unique:
                changes.append("became unique" if ib.unique else "is no longer unique")
            if not _same_sql(ia.predicate, ib.predicate):
                changes.append(f"predicate {ia.predicate or 'none'} -> {ib.predicate or 'none'}")
            if ia.method != ib.method:
                changes.append(f"method {ia.method} -> {ib.method}")
            if ia.valid != ib.valid:
                changes.append("became valid" if ib.valid else "became invalid")
            if ia.descending and ib.descending and ia.descending != ib.descending:
                changes.append(f"sort order {_order(ia)} -> {_order(ib)}")
            if ia.comment != ib.comment:
                changes.append(f"comment {_said(ia.comment)} -> {_said(ib.comment)}")
            if not changes and ia.definition and ib.definition and not _same_definition(ia.definition, ib.definition):
                changes.append(f"definition changed: {_shown(ia.definition)} -> {_shown(ib.definition)}")
            if changes:
                out.append(f"index {name} on {t} changed: " + "; ".join(changes))
    return out


def _pair_keys(
    old: list[ForeignKeyInfo], new: list[ForeignKeyInfo]
) -> list[tuple[ForeignKeyInfo | None, ForeignKeyInfo | None]]:
    """The foreign keys on the same columns and target, before and after, paired: one each is
    one key (perhaps renamed); more (a second key added on the same columns) pair by name."""
    if len(old) <= 1 and len(new) <= 1:
        return [(old[0] if old else None, new[0] if new else None)]
    by_name = {f.name: f for f in new}
    pairs: list[tuple[ForeignKeyInfo | None, ForeignKeyInfo | None]] = []
    for f in old:
        pairs.append((f, by_name.pop(f.name, None)))
    pairs.extend((None, f) for f in by_name.values())
    return pairs


def _order(index: IndexInfo) -> str:
    return "(" + ", ".join(f"{c} {'desc' if d else 'asc'}" for c, d in zip(index.columns, index.descending, strict=False)) + ")"


def _said(comment: str | None) -> str:
    """A comment in a difference: quoted, or ``none``."""
    return "none" if comment is None else repr(comment)
