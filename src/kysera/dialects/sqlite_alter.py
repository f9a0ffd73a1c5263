"""SQLite ALTER TABLE: native statements where SQLite has them, a table rebuild where it does not.

SQLite's ALTER TABLE adds, drops and renames columns and renames tables, one action per
statement, with restrictions (no PRIMARY KEY/UNIQUE or expression default on ADD COLUMN, no DROP
COLUMN of an indexed or constrained column...). Everything else (changing a type, a default,
nullability, constraints) follows SQLite's documented procedure
(https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes")::

    CREATE TABLE "_kysera_new_t" (...the new definition...);
    INSERT INTO "_kysera_new_t" (...) SELECT ... FROM "t";
    DROP TABLE "t";
    PRAGMA legacy_alter_table = ON;
    ALTER TABLE "_kysera_new_t" RENAME TO "t";
    PRAGMA legacy_alter_table = OFF;
    CREATE INDEX ...; CREATE TRIGGER ...;        -- as they were, minus the dropped ones

When one action of an ``alter_table`` needs the rebuild, all of them go into that one rebuild,
planned from the live catalog as it is before the whole ``alter_table`` runs (compiling happens
before executing). Foreign keys are not switched here: kysera's SQLite transactions turn
``PRAGMA foreign_keys`` off around the transaction and run ``PRAGMA foreign_key_check`` before
COMMIT, and a multi-statement compile always runs in a transaction (see ``sqlite.py``).

Column renames in a rebuild are not rewritten into the new definition. The rebuilt table keeps
the old column names and the renames run afterwards as native ``RENAME COLUMN`` statements, so
SQLite itself updates every reference: indexes, triggers, views and the foreign keys of other
tables. Text added by the same ``alter_table`` after a rename (a CHECK, a constraint's column
list) is translated back to the old names for the rebuild. A table rename is likewise applied
natively at the end.

Renames and plain ADD COLUMNs compile without reading the database. Everything else reads the
table's CREATE TABLE text, indexes and triggers from ``sqlite_master`` through the compiler's
reader (a connected Database; offline, the scratch database of :class:`kysera.cli.offline.Shadow`),
and refuses to compile without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import BuilderError
from ..nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableAction,
    AlterTableNode,
    CheckConstraintNode,
    ColumnDefinitionNode,
    CompiledStatement,
    ConstraintNode,
    DropColumnNode,
    DropConstraintNode,
    DropDefaultNode,
    DropNotNullNode,
    ForeignKeyConstraintNode,
    IdentifierNode,
    LiteralNode,
    PrimaryKeyConstraintNode,
    RawNode,
    ReferencesNode,
    RenameColumnNode,
    RenameTableNode,
    SetDataTypeNode,
    SetDefaultNode,
    SetNotNullNode,
    UniqueConstraintNode,
    ValidateConstraintNode,
    ValueNode,
    replace,
)
from .compiler import Writer
from .sql_lexer import SqlParseError, Token, render, tokenize
from .sqlite_table_sql import (
    Clause,
    ColumnDef,
    TableConstraint,
    TableDef,
    column_refs,
    fold,
    index_column_tokens,
    matching_paren,
    mentions,
    parse_column,
    parse_create_table,
    parse_table_constraint,
    qualify_object_name,
    references_parts,
    rename_refs,
    split_top_level,
    uses_name,
)

if TYPE_CHECKING:
    from .base import Row
    from .sqlite import SqliteCompiler

NEW_PREFIX = "_kysera_new_"
GUARD_PREFIX = "_kysera_guard_"
TEMP_PREFIX = "_kysera_tmp_"
#: DROP COLUMN exists since SQLite 3.35.0
NATIVE_DROP_COLUMN = (3, 35, 0)


def compile_sqlite_alter_table(compiler: SqliteCompiler, node: AlterTableNode) -> list[CompiledStatement]:
    """The statements for ``node``: native ALTER TABLEs, or one table rebuild for all actions."""
    for action in node.actions:
        _check_supported(compiler, action)
    blocker = next((a for a in node.actions if not _native_without_catalog(a)), None)
    if blocker is None:
        # renames and plain added columns: native whatever the table looks like, so the catalog
        # is not read (an offline compile, `kysera migrate sql`, can show them)
        return _native_statements(compiler, node, node.actions)
    catalog: Catalog | None
    if compiler.dialect.offline and (compiler.dialect.catalog is not None or compiler.dialect.catalog_lost is not None):
        # offline (kysera migrate sql, lint --dialect sqlite) the table's definition is read from
        # the scratch database in which the migrations before this one ran (the dialect's
        # catalog, see kysera.cli.offline.Shadow), while it holds what they make
        catalog = Catalog.load(compiler, node.table) if compiler.dialect.catalog is not None else None
        if catalog is None:
            if _natively_droppable(compiler, node):
                return _native_statements(compiler, node, node.actions)  # as without one, below
            if compiler.dialect.catalog is not None:
                raise compiler.catalog_needed(
                    describe(blocker),
                    f"SQLite may need to rebuild table {node.table.dotted!r}, which needs its current "
                    "definition, and no migration before this one makes that table",
                )
            raise compiler.catalog_needed(
                describe(blocker),
                "SQLite may need to rebuild the table, which needs its current definition; offline it "
                "comes from a scratch SQLite database in which the migrations before this one run, and "
                f"that one no longer holds their schema: {compiler.dialect.catalog_lost}",
            )
    else:
        if compiler.dialect.offline and _natively_droppable(compiler, node):
            # an offline script (kysera migrate sql) cannot read the table: a dropped column goes as
            # SQLite's own DROP COLUMN, which, when the table runs, refuses a column that an index, a
            # key or a constraint still uses, rather than dropping it wrongly
            return _native_statements(compiler, node, node.actions)
        if compiler.reader is None:
            raise compiler.catalog_needed(
                describe(blocker),
                "SQLite may need to rebuild the table, which needs its current definition; "
                "compile it with a connected Database",
            )
        catalog = Catalog.load(compiler, node.table)
    if catalog is None:
        # a dry run may alter a table it only created on paper: native forms are still shown
        if all(_native_without_catalog(a) or isinstance(a, DropColumnNode) for a in node.actions):
            return _native_statements(compiler, node, node.actions)
        raise BuilderError(
            f"table {node.table.dotted!r} does not exist, so {describe(blocker)} cannot be applied"
        )
    plan = Plan(compiler, node, catalog)
    plan.apply_all()
    if not plan.rebuild:
        return _native_statements(compiler, node, plan.native_actions)
    return plan.rebuild_statements()


def is_rebuild(statement: CompiledStatement) -> bool:
    """Whether ``statement`` starts a table rebuild (the ``CREATE TABLE`` of its new table)."""
    head = statement.sql.split("(", 1)[0]
    return head.startswith("CREATE TABLE ") and f'"{NEW_PREFIX}' in head


# --------------------------------------------------------------------------- helpers


def describe(action: AlterTableAction) -> str:
    """The builder call an action came from, for messages."""
    if isinstance(action, AddColumnNode):
        return f"add_column({action.column.name!r})"
    if isinstance(action, DropColumnNode):
        return f"drop_column({action.column!r})"
    if isinstance(action, RenameColumnNode):
        return f"rename_column({action.column!r}, {action.new_name!r})"
    if isinstance(action, RenameTableNode):
        return f"rename_to({action.new_name!r})"
    if isinstance(action, AlterColumnNode):
        method = {
            SetDataTypeNode: "set_data_type",
            SetDefaultNode: "set_default",
            DropDefaultNode: "drop_default",
            SetNotNullNode: "set_not_null",
            DropNotNullNode: "drop_not_null",
        }[type(action.alteration)]
        return f"alter_column({action.column!r}) with {method}()"
    if isinstance(action, AddConstraintNode):
        kind = {
            PrimaryKeyConstraintNode: "primary_key",
            UniqueConstraintNode: "unique",
            CheckConstraintNode: "check",
            ForeignKeyConstraintNode: "foreign_key",
        }[type(action.constraint)]
        return f"add_{kind}_constraint({action.constraint.name!r})"
    if isinstance(action, DropConstraintNode):
        return f"drop_constraint({action.name!r})"
    if isinstance(action, ValidateConstraintNode):
        return f"validate_constraint({action.name!r})"
    return type(action).__name__


_KNOWN_ACTIONS = (
    AddColumnNode,
    DropColumnNode,
    RenameColumnNode,
    RenameTableNode,
    AlterColumnNode,
    AddConstraintNode,
    DropConstraintNode,
)


def _check_supported(compiler: SqliteCompiler, action: AlterTableAction) -> None:
    if isinstance(action, ValidateConstraintNode):
        raise compiler.unsupported(
            f"validate_constraint({action.name!r})",
            "SQLite checks a constraint against every row when it is added; remove validate_constraint()",
        )
    if isinstance(action, AddConstraintNode) and action.not_valid:
        raise compiler.unsupported(
            f"{describe(action)} with not_valid",
            "SQLite checks a constraint against every row when it is added; drop not_valid",
        )
    if not isinstance(action, _KNOWN_ACTIONS):
        raise compiler.unsupported(f"{describe(action)} in alter_table", "write the change as raw SQL")


def _is_null_literal(expr: object) -> bool:
    return isinstance(expr, ValueNode | LiteralNode) and expr.value is None


def add_column_problem(col: ColumnDefinitionNode) -> str | None:
    """Why SQLite's ADD COLUMN cannot add ``col`` (so the table is rebuilt); None when it can."""
    if col.primary_key:
        return "a PRIMARY KEY column"
    if col.unique:
        return "a UNIQUE column"
    if col.default is not None and not isinstance(col.default, ValueNode | LiteralNode):
        return "a default that is an expression"
    if col.not_null and col.generated is None and (col.default is None or _is_null_literal(col.default)):
        return "a NOT NULL column without a default"
    if col.generated is not None and col.stored:
        return "a STORED generated column"
    if col.references is not None and col.default is not None and not _is_null_literal(col.default):
        return "a REFERENCES column with a default"
    return None


def _natively_droppable(compiler: SqliteCompiler, node: AlterTableNode) -> bool:
    """Whether ``node`` only drops columns (without if_exists), renames or plainly adds them, on
    a SQLite that has DROP COLUMN: native statements, whatever the table looks like, or an error
    from SQLite itself."""
    version = tuple(compiler.dialect.server_version or ())
    return bool(version) and version >= NATIVE_DROP_COLUMN and all(
        _native_without_catalog(a) or (isinstance(a, DropColumnNode) and not a.if_exists) for a in node.actions
    )


def _native_without_catalog(action: AlterTableAction) -> bool:
    """True for actions that are native whatever the table looks like."""
    if isinstance(action, RenameColumnNode | RenameTableNode):
        return True
    if isinstance(action, AddColumnNode):
        return not action.column.if_not_exists and add_column_problem(action.column) is None
    return False


def _native_statements(
    compiler: SqliteCompiler, node: AlterTableNode, actions: Sequence[AlterTableAction]
) -> list[CompiledStatement]:
    out: list[CompiledStatement] = []
    table = node.table
    for action in actions:
        w = Writer(compiler, inline=True).text("ALTER TABLE ").table(table).text(" ")
        if isinstance(action, AddColumnNode):
            col = replace(action.column, if_not_exists=False)
            w.text("ADD COLUMN " + compiler.column_definition(col, table))
        elif isinstance(action, DropColumnNode):
            w.text("DROP COLUMN " + compiler.quote(action.column))
        elif isinstance(action, RenameColumnNode):
            w.text(f"RENAME COLUMN {compiler.quote(action.column)} TO {compiler.quote(action.new_name)}")
        elif isinstance(action, RenameTableNode):
            w.text("RENAME TO " + compiler.quote(action.new_name))
            table = IdentifierNode(action.new_name, table.schema)
        else:  # pragma: no cover - the plan sends only native actions here
            raise BuilderError(f"{describe(action)} has no native SQLite form")
        out.append(w.finish(node))
    return out


# --------------------------------------------------------------------------- catalog


@dataclass
class SchemaObject:
    type: str
    name: str
    table: str
    sql: str
    tokens: list[Token] = field(default_factory=list)

    @staticmethod
    def from_row(row: Row) -> SchemaObject:
        sql = str(row["sql"])
        try:
            tokens = tokenize(sql)
        except SqlParseError:
            tokens = []
        return SchemaObject(str(row["type"]), str(row["name"]), str(row["tbl_name"]), sql, tokens)


@dataclass
class Catalog:
    """What the live database says about the table, read once before planning."""

    schema: str | None
    name: str
    sql: str
    indexes: list[SchemaObject]
    triggers: list[SchemaObject]
    temp_triggers: list[SchemaObject]
    #: views, and triggers of other tables (they may refer to this table)
    others: list[SchemaObject]
    #: folded names of every object in the schema
    names: set[str]

    @staticmethod
    def master(schema: str | None, compiler: SqliteCompiler) -> str:
        return f"{compiler.quote(schema)}.sqlite_master" if schema else "sqlite_master"

    @classmethod
    def load(cls, compiler: SqliteCompiler, table: IdentifierNode) -> Catalog | None:
        assert compiler.reader is not None
        if table.schema is None and compiler.reader.fetch(
            "SELECT 1 AS x FROM sqlite_temp_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
            [table.name],
        ):
            # SQLite looks an unqualified name up in the temp database first
            return cls.load(compiler, IdentifierNode(table.name, "temp"))
        rows = compiler.reader.fetch(
            f"SELECT type, name, tbl_name, sql FROM {cls.master(table.schema, compiler)} WHERE sql IS NOT NULL"
        )
        key = fold(table.name)
        found = [r for r in rows if r["type"] == "table" and fold(str(r["name"])) == key]
        if not found:
            return None
        row = found[0]
        objects = [SchemaObject.from_row(r) for r in rows]
        mine = [o for o in objects if fold(o.table) == key]
        temp_triggers: list[SchemaObject] = []
        if table.schema is None or fold(table.schema) == "main":
            temp_rows = compiler.reader.fetch(
                "SELECT type, name, tbl_name, sql FROM sqlite_temp_master "
                "WHERE type = 'trigger' AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL",
                [str(row["name"])],
            )
            temp_triggers = [SchemaObject.from_row(r) for r in temp_rows]
        return cls(
            schema=table.schema,
            name=str(row["name"]),
            sql=str(row["sql"]),
            indexes=[o for o in mine if o.type == "index"],
            triggers=[o for o in mine if o.type == "trigger"],
            temp_triggers=temp_triggers,
            others=[o for o in objects if o.type == "view" or (o.type == "trigger" and fold(o.table) != key)],
            names={fold(str(r["name"])) for r in rows},
        )

    def child_foreign_keys(self, compiler: SqliteCompiler) -> list[ChildForeignKey]:
        """Foreign keys of other tables that point at this table, one entry per constraint."""
        assert compiler.reader is not None
        args = ", ?" if self.schema else ""
        rows = compiler.reader.fetch(
            'SELECT m.name AS child, p.id AS id, p."table" AS parent, p."from" AS col_from, p."to" AS col_to '
            f"FROM {self.master(self.schema, compiler)} AS m JOIN pragma_foreign_key_list(m.name{args}) AS p "
            "WHERE m.type = 'table' ORDER BY m.name, p.id, p.seq",
            [self.schema] if self.schema else [],
        )
        key = fold(self.name)
        found: dict[tuple[str, int], ChildForeignKey] = {}
        for r in rows:
            child = str(r["child"])
            if fold(str(r["parent"])) != key or fold(child) == key:
                continue
            fk = found.setdefault((child, int(str(r["id"]))), ChildForeignKey(child, [], []))
            fk.columns.append(str(r["col_from"]))
            fk.parent_columns.append(None if r["col_to"] is None else str(r["col_to"]))
        return list(found.values())


@dataclass
class ChildForeignKey:
    child: str
    columns: list[str]
    parent_columns: list[str | None]


# --------------------------------------------------------------------------- the plan


@dataclass
class Column:
    """One column of the table being planned.

    ``model`` is its name in the rebuilt table: the old name for a column that exists now (its
    renames run natively after the rebuild), the given name for an added one (a temporary name
    when that is still taken). ``current`` is its name at the current point of the action list.
    """

    model: str
    current: str
    definition: ColumnDef
    original: bool
    #: SQL that copies the old value (None: nothing to copy)
    select: str | None = None
    using: bool = False


@dataclass
class Index:
    obj: SchemaObject
    dropped: bool = False


class Plan:
    """Applies the actions to a model of the table and decides: native statements or a rebuild."""

    def __init__(self, compiler: SqliteCompiler, node: AlterTableNode, catalog: Catalog) -> None:
        self.compiler = compiler
        self.node = node
        self.catalog = catalog
        self.table = catalog.name
        try:
            self.definition: TableDef = parse_create_table(catalog.sql)
            self.original = parse_create_table(catalog.sql)  # untouched copy, for before/after checks
        except (SqlParseError, IndexError) as exc:
            raise compiler.unsupported(
                f"altering table {self.table!r} this way",
                f"kysera could not read its CREATE TABLE statement ({exc or 'unexpected end'}); "
                "write the change as raw SQL",
            ) from None
        self.columns = [
            Column(c.name, c.name, c, True, None if c.generated else compiler.quote(c.name))
            for c in self.definition.columns
        ]
        self.constraints: list[TableConstraint] = self.definition.constraints
        self.indexes = [Index(o) for o in catalog.indexes]
        self.rebuild = False
        self.native_actions: list[AlterTableAction] = []
        self.table_renames: list[str] = []
        self.dropped_originals: list[str] = []
        self.keys_changed = False
        #: (model column name, message) for NOT NULL checks with a clear error
        self.guards: list[tuple[str, str]] = []
        self._temp_seq = 0

    # ----------------------------------------------------------------- lookups

    def find(self, name: str) -> Column | None:
        key = fold(name)
        return next((c for c in self.columns if fold(c.current) == key), None)

    def get(self, name: str) -> Column:
        col = self.find(name)
        if col is None:
            raise BuilderError(
                f"column {name!r} does not exist in table {self.table!r}; check the name"
                + (" (it was renamed or dropped earlier in this alter_table)" if self._was_known(name) else "")
            )
        return col

    def _was_known(self, name: str) -> bool:
        return any(fold(c.name) == fold(name) for c in self.original.columns)

    def temp_name(self) -> str:
        taken = {fold(c.model) for c in self.columns} | {fold(c.current) for c in self.columns}
        while True:
            self._temp_seq += 1
            name = f"{TEMP_PREFIX}{self._temp_seq}"
            if fold(name) not in taken:
                return name

    def mapping(self) -> dict[str, str]:
        """Folded current name -> model name, for the columns whose names differ."""
        return {fold(c.current): c.model for c in self.columns if c.current != c.model}

    def to_model(self, name: str) -> str:
        return self.get(name).model

    def self_names(self) -> set[str]:
        return {fold(self.table), fold(self.node.table.name)} | {fold(n) for n in self.table_renames}

    def map_expression(self, text: str) -> str:
        """Column names in an expression written now -> names in the rebuilt table."""
        mapping = self.mapping()
        if not mapping:
            return text
        tokens = tokenize(text)
        if not rename_refs(tokens, column_refs(tokens), mapping, self.compiler.quote):
            return text
        return render(tokens)

    def map_raw(self, raw: RawNode | None) -> RawNode | None:
        if raw is None:
            return None
        text = self.compiler.inline_sql(raw)
        mapped = self.map_expression(text)
        return raw if mapped == text else RawNode((mapped,))

    def map_references(self, ref: ReferencesNode) -> ReferencesNode:
        if fold(ref.table.name) in self.self_names() and ref.columns:
            return replace(ref, columns=tuple(self.to_model(c) for c in ref.columns))
        return ref

    # ----------------------------------------------------------------- applying actions

    def apply_all(self) -> None:
        for action in self.node.actions:
            if isinstance(action, RenameTableNode):
                self.table_renames.append(action.new_name)
                self.native_actions.append(action)
            elif isinstance(action, RenameColumnNode):
                self.rename_column(action)
            elif isinstance(action, AddColumnNode):
                self.add_column(action)
            elif isinstance(action, DropColumnNode):
                self.drop_column(action)
            elif isinstance(action, AlterColumnNode):
                self.alter_column(action)
            elif isinstance(action, AddConstraintNode):
                self.add_constraint(action.constraint)
            elif isinstance(action, DropConstraintNode):
                self.drop_constraint(action)
            else:  # pragma: no cover - rejected by _check_supported
                raise BuilderError(f"{describe(action)} is not supported on SQLite")

    def rename_column(self, action: RenameColumnNode) -> None:
        col = self.get(action.column)
        other = self.find(action.new_name)
        if other is not None and other is not col:
            raise BuilderError(
                f"cannot rename column {action.column!r} of table {self.table!r} to {action.new_name!r}: "
                "a column of that name exists; drop or rename it first"
            )
        if not action.new_name:
            raise BuilderError("a column name must be a non-empty string")
        col.current = action.new_name
        self.native_actions.append(action)

    def add_column(self, action: AddColumnNode) -> None:
        node = action.column
        if self.find(node.name) is not None:
            if node.if_not_exists:
                return
            raise BuilderError(
                f"column {node.name!r} already exists in table {self.table!r}; "
                "pick another name or use .if_not_exists()"
            )
        node = replace(node, if_not_exists=False)
        if node.primary_key and self.has_primary_key():
            raise BuilderError(
                f"table {self.table!r} already has a primary key, so column {node.name!r} cannot be one; "
                "drop primary_key() or the table's primary key"
            )
        if add_column_problem(node) is not None:
            self.rebuild = True
        self.native_actions.append(replace(action, column=node))
        taken = {fold(c.model) for c in self.columns}
        model = node.name if fold(node.name) not in taken else self.temp_name()
        column = Column(model, node.name, ColumnDef(model, model, [], []), False)
        self.columns.append(column)  # first, so that its own CHECK can name it
        mapped = replace(
            node,
            name=model,
            check=self.map_raw(node.check),
            generated=self.map_raw(node.generated),
            references=self.map_references(node.references) if node.references is not None else None,
        )
        text = self.compiler.column_definition(mapped, self.node.table)
        column.definition = parse_column(tokenize(text))
        column.definition.source = text
        no_default = node.default is None or _is_null_literal(node.default)
        if not no_default and node.generated is None and node.default is not None:
            # the rows that exist get the default the column is added with, as a plain ADD COLUMN
            # gives them, whatever later actions of this call do to the default
            column.select = self.compiler.default_sql(node.default)
        if node.not_null and node.generated is None and no_default and not column.definition.find("primary"):
            self.guards.append(
                (
                    model,
                    f"add_column({node.name!r}) failed: table {self.table!r} has rows, so a NOT NULL column "
                    "needs a default; add one with default_to(...)",
                )
            )

    def drop_column(self, action: DropColumnNode) -> None:
        col = self.find(action.column)
        if col is None:
            if action.if_exists:
                return
            self.get(action.column)
            return
        if not self.native_drop_possible(col):
            self.rebuild = True
        name = col.model
        for tc in self.constraints:
            if any(fold(c) == fold(name) for c in self.constraint_columns(tc)):
                raise BuilderError(
                    f"cannot drop column {col.current!r} of table {self.table!r}: {self.constraint_label(tc)} "
                    f"uses it; drop that constraint first (drop_constraint(...)) or in the same alter_table"
                )
        for other in self.columns:
            if other is col:
                continue
            for clause in other.definition.clauses:
                if self.clause_uses(clause, name):
                    what = "generated expression" if clause.kind == "generated" else f"{clause.kind.upper()} constraint"
                    raise BuilderError(
                        f"cannot drop column {col.current!r} of table {self.table!r}: the {what} of column "
                        f"{other.current!r} uses it; change that column first"
                    )
        if len(self.columns) == 1:
            raise BuilderError(
                f"cannot drop column {col.current!r}: it is the last column of table {self.table!r}; "
                "drop the table instead"
            )
        self.columns.remove(col)
        if any(c.kind in ("primary", "unique") for c in col.definition.clauses):
            self.keys_changed = True
        for index in self.indexes:
            if not index.dropped and uses_name(index_column_tokens(index.obj.tokens), name):
                index.dropped = True
                self.keys_changed = True
        if col.original:
            self.dropped_originals.append(col.model)
        self.native_actions.append(replace(action, column=col.current, if_exists=False))

    def native_drop_possible(self, col: Column) -> bool:
        version = tuple(self.compiler.dialect.server_version or ())
        if not version or version < NATIVE_DROP_COLUMN:
            return False
        if any(c.kind in ("primary", "unique", "references", "generated") for c in col.definition.clauses):
            return False
        name = col.model
        if any(any(fold(c) == fold(name) for c in self.constraint_columns(tc)) for tc in self.constraints):
            return False
        for other in self.columns:
            if other is not col and any(self.clause_uses(cl, name) for cl in other.definition.clauses):
                return False
        return not any(
            not ix.dropped and uses_name(index_column_tokens(ix.obj.tokens), name) for ix in self.indexes
        )

    def constraint_columns(self, tc: TableConstraint) -> list[str]:
        """Local columns a table constraint uses (for a self-referencing FK, its parent's too)."""
        names = tc.columns()
        if tc.kind == "foreign":
            start = next((i for i, t in enumerate(tc.tokens) if t.upper == "REFERENCES"), None)
            if start is not None:
                parent, cols = references_parts(tc.tokens, start)
                if parent is not None and fold(tc.tokens[parent].value) in self.self_names():
                    names += [tc.tokens[i].value for i in cols]
        return names

    def clause_uses(self, clause: Clause, name: str) -> bool:
        """True when a column constraint refers to column ``name`` (CHECK, generated, self FK)."""
        if clause.kind in ("check", "generated"):
            return uses_name(clause.expression(), name)
        if clause.kind == "references":
            parent, cols = references_parts(clause.tokens, clause.body)
            if parent is not None and fold(clause.tokens[parent].value) in self.self_names():
                return any(fold(clause.tokens[i].value) == fold(name) for i in cols)
        return False

    def constraint_label(self, tc: TableConstraint) -> str:
        if tc.name:
            return f"constraint {tc.name!r}"
        text = tc.text()
        return f"the table constraint {text if len(text) <= 60 else text[:57] + '...'}"

    def alter_column(self, action: AlterColumnNode) -> None:
        col = self.get(action.column)
        d = col.definition
        a = action.alteration
        changed = False
        if isinstance(a, SetDataTypeNode):
            # column_type, not data_type: a portable type may bring a clause (an enum's CHECK)
            pk = bool(d.find("primary"))
            text = self.compiler.column_type(ColumnDefinitionNode(col.model, a.data_type, primary_key=pk))
            typed = parse_column(tokenize(self.compiler.quote(col.model) + " " + text))
            type_text = render(typed.type_tokens)
            for clause in d.find("primary"):
                if any(t.upper == "AUTOINCREMENT" for t in clause.tokens) and fold(type_text) != "integer":
                    raise BuilderError(
                        f"column {col.current!r} of table {self.table!r} is AUTOINCREMENT, which SQLite allows "
                        "only on type 'integer'; keep that type"
                    )
            if d.clauses and _is_enum_check(d.clauses[0], col.model):
                del d.clauses[0]  # the CHECK an enum type brought belongs to the old type
            d.clauses[0:0] = typed.clauses
            d.type_tokens = typed.type_tokens
            if a.using is not None:
                if not col.original:
                    raise BuilderError(
                        f"set_data_type(..., using=...) on column {col.current!r} added in the same alter_table "
                        "has no old values to convert; drop using="
                    )
                if col.using:
                    raise BuilderError(
                        f"column {col.current!r} has two set_data_type(..., using=...) in one alter_table; keep one"
                    )
                col.select = "(" + self.map_expression(self.compiler.inline_sql(a.using)) + ")"
                col.using = True
            changed = True
        elif isinstance(a, SetDefaultNode):
            if d.generated is not None:
                raise BuilderError(
                    f"column {col.current!r} of table {self.table!r} is generated and cannot have a default"
                )
            clause = _clause("default", "DEFAULT " + self.compiler.default_sql(a.default))
            at = next((i for i, c in enumerate(d.clauses) if c.kind == "default"), len(d.clauses))
            d.clauses = [c for c in d.clauses[:at] if c.kind != "default"] + [clause] + [
                c for c in d.clauses[at:] if c.kind != "default"
            ]
            changed = True
        elif isinstance(a, DropDefaultNode):
            changed = bool(d.find("default"))
            d.clauses = [c for c in d.clauses if c.kind != "default"]
        elif isinstance(a, SetNotNullNode):
            if not d.find("notnull"):
                d.clauses = [c for c in d.clauses if c.kind != "null"]
                d.clauses.append(_clause("notnull", "NOT NULL"))
                changed = True
                if col.original and not d.find("primary"):
                    self.guards.append(
                        (
                            col.model,
                            f"set_not_null() failed: column {col.current!r} of table {self.table!r} has NULL "
                            "values; update those rows first",
                        )
                    )
        elif isinstance(a, DropNotNullNode):
            changed = bool(d.find("notnull"))
            d.clauses = [c for c in d.clauses if c.kind != "notnull"]
        if changed:
            d.touch()
            self.rebuild = True

    def add_constraint(self, c: ConstraintNode) -> None:
        if c.name is not None and self.find_constraint(c.name):
            raise BuilderError(
                f"constraint {c.name!r} already exists on table {self.table!r}; pick another name"
            )
        if isinstance(c, PrimaryKeyConstraintNode):
            if self.has_primary_key():
                raise BuilderError(
                    f"table {self.table!r} already has a primary key; drop it first (drop_constraint(...))"
                )
            c = replace(c, columns=tuple(self.to_model(n) for n in c.columns))
        elif isinstance(c, UniqueConstraintNode):
            c = replace(c, columns=tuple(self.to_model(n) for n in c.columns))
        elif isinstance(c, ForeignKeyConstraintNode):
            c = replace(c, columns=tuple(self.to_model(n) for n in c.columns), references=self.map_references(c.references))
        elif isinstance(c, CheckConstraintNode):
            c = replace(c, expression=self.map_raw(c.expression) or c.expression)
        text = self.compiler.constraint_definition(c)
        self.constraints.append(parse_table_constraint(tokenize(text)))
        self.rebuild = True

    def has_primary_key(self) -> bool:
        return any(tc.kind == "primary" for tc in self.constraints) or any(
            col.definition.find("primary") for col in self.columns
        )

    def find_constraint(self, name: str) -> bool:
        key = fold(name)
        return any(tc.name is not None and fold(tc.name) == key for tc in self.constraints) or any(
            cl.name is not None and fold(cl.name) == key for col in self.columns for cl in col.definition.clauses
        )

    def drop_constraint(self, action: DropConstraintNode) -> None:
        key = fold(action.name)
        if not self.find_constraint(action.name):
            if action.if_exists:
                return
            raise BuilderError(
                f"constraint {action.name!r} does not exist on table {self.table!r}; check the name "
                "or use drop_constraint(..., if_exists=True)"
            )
        for tc in self.constraints:
            if tc.name is not None and fold(tc.name) == key and tc.kind in ("primary", "unique"):
                self.keys_changed = True
        self.constraints[:] = [tc for tc in self.constraints if tc.name is None or fold(tc.name) != key]
        for col in self.columns:
            kept = [cl for cl in col.definition.clauses if cl.name is None or fold(cl.name) != key]
            if len(kept) != len(col.definition.clauses):
                if any(cl.kind in ("primary", "unique") for cl in col.definition.clauses if cl not in kept):
                    self.keys_changed = True
                col.definition.clauses = kept
                col.definition.touch()
        self.rebuild = True

    # ----------------------------------------------------------------- checks before a rebuild

    def check_dependents(self) -> None:
        """Refuse a rebuild that would leave views, triggers or other tables' foreign keys broken."""
        for name in self.dropped_originals:
            for trigger in [*self.catalog.triggers, *self.catalog.temp_triggers]:
                if _trigger_mentions(trigger, name):
                    raise BuilderError(
                        f"cannot drop column {name!r} of table {self.table!r}: trigger {trigger.name!r} uses it; "
                        "drop the trigger first and create it again afterwards"
                    )
            for obj in self.catalog.others:
                if mentions(obj.tokens, self.table) and _trigger_mentions(obj, name):
                    raise BuilderError(
                        f"cannot drop column {name!r} of table {self.table!r}: {obj.type} {obj.name!r} uses it; "
                        f"drop the {obj.type} first and create it again afterwards"
                    )
        if self.dropped_originals or self.keys_changed:
            self.check_child_foreign_keys()
        new_name = fold(NEW_PREFIX + self.table)
        if new_name in self.catalog.names:
            raise BuilderError(
                f"table {NEW_PREFIX + self.table!r} exists (left by an interrupted rebuild?); "
                "drop it before altering table " + repr(self.table)
            )

    def check_child_foreign_keys(self) -> None:
        before = _Keys.of(self.original.columns, self.original.constraints, [ix.obj for ix in self.indexes])
        after = _Keys.of(
            [c.definition for c in self.columns], self.constraints, [ix.obj for ix in self.indexes if not ix.dropped]
        )
        models = {fold(c.model) for c in self.columns}
        for fk in self.catalog.child_foreign_keys(self.compiler):
            if before.satisfies(fk.parent_columns, {fold(c.name) for c in self.original.columns}) and not after.satisfies(
                fk.parent_columns, models
            ):
                target = ", ".join(c or "<primary key>" for c in fk.parent_columns)
                raise BuilderError(
                    f"table {fk.child!r} has a foreign key to {self.table}({target}), which this alter_table "
                    "would leave without its column or its primary key/unique constraint; "
                    "drop or change that foreign key first"
                )

    # ----------------------------------------------------------------- the rebuild

    def rebuild_statements(self) -> list[CompiledStatement]:
        self.check_dependents()
        compiler = self.compiler
        schema = self.catalog.schema
        node = self.node

        def qualified(name: str) -> str:
            return compiler.table_name(IdentifierNode(name, schema))

        def stmt(sql: str) -> CompiledStatement:
            return CompiledStatement(sql=sql, node=node)

        new = NEW_PREFIX + self.table
        body = [c.definition.text() for c in self.columns] + [tc.text() for tc in self.constraints]
        options = self.definition.options_text
        out = [stmt(f"CREATE TABLE {qualified(new)} ({', '.join(body)})" + (f" {options}" if options else ""))]

        guard = GUARD_PREFIX + self.table
        if self.guards:
            checks = " ".join(
                f"SELECT RAISE(ABORT, {compiler.string_literal(message)}) WHERE NEW.{compiler.quote(name)} IS NULL;"
                for name, message in self.guards
            )
            out.append(
                stmt(f"CREATE TEMP TRIGGER {compiler.quote(guard)} BEFORE INSERT ON {qualified(new)} BEGIN {checks} END")
            )

        copied = [c for c in self.columns if c.select is not None]
        targets = [compiler.quote(c.model) for c in copied]
        sources = [c.select or "" for c in copied]
        rowid = self.rowid_alias()
        if rowid is not None:
            targets.insert(0, rowid)
            sources.insert(0, rowid)
        if targets:
            out.append(
                stmt(
                    f"INSERT INTO {qualified(new)} ({', '.join(targets)}) "
                    f"SELECT {', '.join(sources)} FROM {qualified(self.table)}"
                )
            )
        else:
            raise BuilderError(
                f"this alter_table leaves no column of table {self.table!r} to copy the rows through; "
                "keep at least one existing column"
            )
        if self.guards:
            out.append(stmt(f"DROP TRIGGER {compiler.quote('temp')}.{compiler.quote(guard)}"))

        if any(t.upper == "AUTOINCREMENT" for c in self.columns for cl in c.definition.clauses for t in cl.tokens):
            seq = f"{compiler.quote(schema)}.sqlite_sequence" if schema else "sqlite_sequence"
            old_lit, new_lit = compiler.string_literal(self.table), compiler.string_literal(new)
            # keep the high-water mark: ids of deleted rows must not come back
            out.append(
                stmt(
                    f"UPDATE {seq} SET seq = MAX(seq, COALESCE((SELECT s.seq FROM {seq} AS s "
                    f"WHERE s.name = {old_lit}), 0)) WHERE name = {new_lit}"
                )
            )
            out.append(
                stmt(
                    f"INSERT INTO {seq} (name, seq) SELECT {new_lit}, seq FROM {seq} WHERE name = {old_lit} "
                    f"AND NOT EXISTS (SELECT 1 FROM {seq} WHERE name = {new_lit})"
                )
            )

        out.append(stmt(f"DROP TABLE {qualified(self.table)}"))
        # legacy mode: views and triggers naming the table are not re-parsed while it is missing
        out.append(stmt("PRAGMA legacy_alter_table = ON"))
        out.append(stmt(f"ALTER TABLE {qualified(new)} RENAME TO {compiler.quote(self.table)}"))
        out.append(stmt("PRAGMA legacy_alter_table = OFF"))

        for index in self.indexes:
            if not index.dropped:
                out.append(stmt(self.in_schema(index.obj.sql, "INDEX")))
        for trigger in self.catalog.triggers:
            out.append(stmt(self.in_schema(trigger.sql, "TRIGGER")))
        for trigger in self.catalog.temp_triggers:
            out.append(stmt(_temp(trigger.sql)))

        table = IdentifierNode(self.table, schema)
        for old, new_name in self.column_moves():
            out.append(
                Writer(compiler, inline=True)
                .text("ALTER TABLE ")
                .table(table)
                .text(f" RENAME COLUMN {compiler.quote(old)} TO {compiler.quote(new_name)}")
                .finish(node)
            )
        for name in self.table_renames:
            w = Writer(compiler, inline=True).text("ALTER TABLE ").table(table)
            out.append(w.text(" RENAME TO " + compiler.quote(name)).finish(node))
            table = IdentifierNode(name, schema)
        return out

    def in_schema(self, sql: str, kind: str) -> str:
        if not self.catalog.schema:
            return sql
        return qualify_object_name(sql, kind, self.catalog.schema, self.compiler.quote)

    def rowid_alias(self) -> str | None:
        """A name for the rowid, so rows keep it; None for WITHOUT ROWID or when every alias is taken."""
        if self.definition.without_rowid:
            return None
        taken = {fold(c.name) for c in self.original.columns} | {fold(c.model) for c in self.columns}
        return next((a for a in ("rowid", "oid", "_rowid_") if a not in taken), None)

    def column_moves(self) -> list[tuple[str, str]]:
        """Native renames (model name -> final name), ordered so that no step hits a taken name."""
        pending = [(c.model, c.current) for c in self.columns if c.model != c.current]
        in_use = {fold(c.model) for c in self.columns}
        out: list[tuple[str, str]] = []
        while pending:
            for i, (src, dst) in enumerate(pending):  # noqa: B007 - i is used after the loop
                if fold(dst) not in in_use or fold(dst) == fold(src):
                    break
            else:  # a cycle (a <-> b): park one under a free name
                src, dst = pending[0]
                taken = in_use | {fold(d) for _, d in pending}
                n = 0
                while True:
                    n += 1
                    tmp = f"{TEMP_PREFIX}{n}"
                    if fold(tmp) not in taken:
                        break
                out.append((src, tmp))
                in_use.discard(fold(src))
                in_use.add(fold(tmp))
                pending[0] = (tmp, dst)
                continue
            out.append((src, dst))
            in_use.discard(fold(src))
            in_use.add(fold(dst))
            del pending[i]
        return out


# --------------------------------------------------------------------------- small pieces


def _detach(tokens: list[Token]) -> list[Token]:
    if tokens:
        tokens[0] = Token(tokens[0].kind, tokens[0].text, "", tokens[0].value)
    return tokens


def _is_enum_check(clause: Clause, column: str) -> bool:
    """True for the ``CHECK ("col" IN ('a', 'b'))`` an enum type puts after the column's type."""
    if clause.kind != "check" or clause.name is not None:
        return False
    inner = clause.expression()
    if len(inner) < 4 or not inner[0].is_name or fold(inner[0].value) != fold(column):
        return False
    if inner[1].upper != "IN" or not inner[2].is_punct("(") or not inner[-1].is_punct(")"):
        return False
    items = inner[3:-1]
    return all(t.kind == "string" if i % 2 == 0 else t.is_punct(",") for i, t in enumerate(items))


def _clause(kind: str, text: str) -> Clause:
    return Clause(kind, None, _detach(tokenize(text)))


def _temp(sql: str) -> str:
    """``CREATE TRIGGER ...`` -> ``CREATE TEMP TRIGGER ...``."""
    tokens = tokenize(sql)
    if tokens and tokens[0].upper == "CREATE" and len(tokens) > 1 and tokens[1].upper not in ("TEMP", "TEMPORARY"):
        tokens.insert(1, Token("word", "TEMP", " ", "TEMP"))
        tokens[2] = Token(tokens[2].kind, tokens[2].text, " ", tokens[2].value)
        return render(tokens)
    return sql


def _trigger_mentions(obj: SchemaObject, column: str) -> bool:
    """True when a trigger or view names ``column`` anywhere but in its own name."""
    tokens = obj.tokens
    skip = next((i + 1 for i, t in enumerate(tokens[:6]) if t.upper in ("TRIGGER", "VIEW")), 0)
    if skip < len(tokens) and tokens[skip].upper == "IF":
        skip += 3
    if skip + 1 < len(tokens) and tokens[skip + 1].is_punct("."):
        skip += 2
    rest = [*tokens[:skip], *tokens[skip + 1 :]]
    key = fold(column)
    return any(
        t.is_name and fold(t.value) == key and not (i + 1 < len(rest) and rest[i + 1].is_punct("("))
        for i, t in enumerate(rest)
    )


@dataclass
class _Keys:
    """The primary key and the unique column sets of a table."""

    primary: list[str] | None
    unique: list[frozenset[str]]

    @staticmethod
    def of(columns: Sequence[ColumnDef], constraints: Sequence[TableConstraint], indexes: Sequence[SchemaObject]) -> _Keys:
        primary: list[str] | None = None
        unique: list[frozenset[str]] = []
        for col in columns:
            if col.find("primary"):
                primary = [col.name]
            if col.find("unique"):
                unique.append(frozenset({fold(col.name)}))
        for tc in constraints:
            cols = [fold(c) for c in tc.columns()]
            if tc.kind == "primary":
                primary = list(tc.columns())
            elif tc.kind == "unique":
                unique.append(frozenset(cols))
        for ix in indexes:
            words = [t.upper for t in ix.tokens[:3]]
            if words[:2] != ["CREATE", "UNIQUE"] or any(t.upper == "WHERE" for t in ix.tokens):
                continue
            rest = index_column_tokens(ix.tokens)
            if not rest or not rest[0].is_punct("("):
                continue
            inner = rest[1 : matching_paren(rest, 0)]
            names: list[str] = []
            for part in split_top_level(inner):
                if not part or not part[0].is_name or any(t.is_punct("(") for t in part):
                    names = []
                    break
                names.append(fold(part[0].value))
            if names:
                unique.append(frozenset(names))
        if primary is not None:
            unique.append(frozenset(fold(c) for c in primary))
        return _Keys(primary, unique)

    def satisfies(self, parent_columns: list[str | None], existing: set[str]) -> bool:
        if any(c is None for c in parent_columns):
            return self.primary is not None and len(self.primary) == len(parent_columns)
        cols = frozenset(fold(c) for c in parent_columns if c is not None)
        return cols <= existing and cols in self.unique

