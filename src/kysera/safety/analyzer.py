"""The safety analysis: reads a migration's statements (their nodes) and reports findings.

It reads operation nodes, so it knows that an index is not built concurrently without parsing
SQL; only raw ``sql(...)`` text is classified from its words (see :mod:`kysera.safety.raw`).
What is risky depends on the engine, its version and, when connected, on live facts: a table
created earlier in the same migration, or holding fewer rows than ``large_table_rows``, turns a
blocking finding into information.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from ..dialects.base import Dialect
from ..dialects.raw_text import VOLATILE_CALL, columns_read, controls_transaction
from ..errors import BuilderError, KyseraError
from ..nodes import (
    AddColumnNode,
    AddConstraintNode,
    AlterColumnNode,
    AlterTableNode,
    AlterTypeNode,
    BackfillNode,
    CheckConstraintNode,
    ColumnRefNode,
    CompiledStatement,
    CreateIndexNode,
    CreateTableNode,
    CreateViewNode,
    DataTypeNode,
    DeleteNode,
    DropColumnNode,
    DropConstraintNode,
    DropIndexNode,
    DropNotNullNode,
    DropSchemaNode,
    DropTableNode,
    DropTypeNode,
    ForeignKeyConstraintNode,
    IdentifierNode,
    ModifyColumnNode,
    OperationNode,
    PrimaryKeyConstraintNode,
    RawNode,
    ReferencesNode,
    RenameColumnNode,
    RenameTableNode,
    SetDataTypeNode,
    SetNotNullNode,
    SetSchemaNode,
    UniqueConstraintNode,
    UpdateNode,
    ValidateConstraintNode,
    ValueNode,
)
from .facts import Facts, OfflineFacts, not_null_check_column
from .findings import Category, Finding, Severity

if TYPE_CHECKING:
    from ..dialects.mysql_online import Method, Verdict
    from . import raw

# Patterns are compiled on first use (through re's cache): most runs never need them, and
# compiling all four at import cost every migrate up about a millisecond.
#: a column name a recipe can spell as a plain string (not an expression, not a placeholder)
_NAME = r"[^\W\d]\w*"
#: ``-- kysera:allow KS102, KS201`` in SQL text, in any case (the flag is in the pattern, so
#: every module that matches it matches alike)
ALLOW_DIRECTIVE = r"(?i)kysera:allow\s+([A-Za-z0-9_,\- ]+)"


@dataclass(frozen=True)
class SafetyOptions:
    #: a table with at least this many rows is "large": blocking changes on it are errors
    large_table_rows: int = 10_000
    #: the runner sets a lock timeout for DDL (False: report KS502)
    lock_timeout: bool = True
    #: codes allowed everywhere (from configuration)
    allow: frozenset[str] = field(default_factory=frozenset)
    #: the catalog shows the database as the statements will find it (False: downs run first, as
    #: in a redo, so a column missing now may be back by then)
    catalog_current: bool = True


#: what looks like a call in SQL but is syntax (or a type), not a function the catalog knows
_NOT_FUNCTIONS = frozenset({
    "cast", "coalesce", "nullif", "greatest", "least", "row", "array", "extract", "position", "substring",
    "trim", "overlay", "exists", "in", "any", "all", "some", "values", "interval", "varchar", "char",
    "character", "numeric", "decimal", "timestamp", "time", "bit", "varbit", "float", "and", "or", "not",
})  # fmt: skip


def _calls(text: str) -> set[str]:
    """The names of the functions an SQL expression calls, lower case (not a type after ``::``)."""
    return {
        m.group(1).lower()
        for m in re.finditer(r"(?<!::)(?<![\w.\"])(?:[A-Za-z_][\w$]*\.)?([A-Za-z_][\w$]*)\s*\(", text)
        if m.group(1).lower() not in _NOT_FUNCTIONS
    }


class PlanState:
    """What the earlier steps of a plan did that the catalog, read before the plan runs, does
    not show yet; :func:`analyze` reads and updates it, migration after migration."""

    __slots__ = ("loosened", "not_null_checks", "renamed", "tables")

    def __init__(self, tables: set[str] | None = None) -> None:
        #: the tables the plan creates (keys: ``schema.name`` or ``name``, lower case)
        self.tables: set[str] = set() if tables is None else tables
        #: a table renamed or moved, by its new key: the table it was (its rows are that one's)
        self.renamed: dict[str, IdentifierNode] = {}
        #: (table key, column) the plan let NULL into
        self.loosened: set[tuple[str, str]] = set()
        #: (table key, check name) -> the column a CHECK (col IS NOT NULL) the plan adds proves
        self.not_null_checks: dict[tuple[str, str], str] = {}

    def update(self, other: PlanState) -> None:
        self.tables |= other.tables
        self.renamed.update(other.renamed)
        self.loosened |= other.loosened
        self.not_null_checks.update(other.not_null_checks)


class _Analysis:
    def __init__(
        self, dialect: Dialect, facts: Facts, options: SafetyOptions, migration: str | None, transactional: bool,
        allow: set[str], plan: PlanState | None = None,
    ) -> None:
        self.dialect = dialect
        self.engine = dialect.name
        self.facts = facts
        self.options = options
        self.migration = migration
        self.transactional = transactional and dialect.transactional_ddl
        self.allow = allow | set(options.allow)
        self.plan = PlanState() if plan is None else plan
        self.findings: list[Finding] = []
        self.exclusive_held: str | None = None  # a table locked ACCESS EXCLUSIVE earlier in this transaction
        self.has_ddl_on_existing = False
        #: (table key, constraint) -> [column, validated]: CHECK (col IS NOT NULL) added by this migration
        self.not_null_checks: dict[tuple[str, str], list[object]] = {}
        #: (table key, constraint) dropped by this migration so far
        self.dropped_constraints: set[tuple[str, str]] = set()
        #: (table key, constraint) -> its rule: added NOT VALID by this migration (PostgreSQL)
        self.added_not_valid: dict[tuple[str, str], str] = {}
        #: a migration that asked for a transaction and runs outside one because of some of its
        #: statements: how many others change something (each then commits on its own)
        self.others_outside = 0

    # --------------------------------------------------------------- helpers

    def key(self, table: IdentifierNode) -> str:
        return f"{table.schema}.{table.name}".lower() if table.schema else table.name.lower()

    def checked_column(self, table: IdentifierNode, name: str) -> str | None:
        """The column that the CHECK ``name`` of ``table`` says IS NOT NULL: added earlier in the
        plan, or in the catalog (validated or not); None for another check, or when unknown."""
        marked = self.plan.not_null_checks.get((self.key(table), name))
        if marked is not None:
            return marked
        return self.facts.not_null_check(table, name) if self.pg else None

    def moves(self, old: IdentifierNode, new: IdentifierNode) -> None:
        """A rename or a move to another schema: ``new`` holds what ``old`` held (kept in the
        plan's state for its later migrations, as :meth:`size` reads it)."""
        if self.key(old) in self.plan.tables:
            self.plan.tables.add(self.key(new))  # a table made in this plan stays new under its new name
        else:
            self.plan.renamed[self.key(new)] = old

    def creates(self, table: IdentifierNode, if_not_exists: bool) -> None:
        """A CREATE TABLE: the table is new, and changing it blocks nobody and loses nothing;
        with IF NOT EXISTS only if there is no such table yet (else it is the old one, rows and
        all; offline, with nothing to count, it is taken as new)."""
        key = self.key(table)
        if not if_not_exists or key in self.plan.tables or self.facts.rows(table) in (0, None):
            self.plan.tables.add(key)

    def size(self, table: IdentifierNode, _seen: int = 0) -> str:
        """new / empty / small / large / unknown."""
        key = self.key(table)
        # (a rename's source is the table that held the name then: a table the plan made under
        # that name afterwards, as in rename / create / drop the old one, is another table)
        if key in self.plan.tables and not _seen:
            return "new"
        source = self.plan.renamed.get(key)
        if source is not None and _seen < 20:
            # renamed (or moved) earlier in the plan: its rows are the old table's, which the
            # catalog, read before the plan runs, still holds under the old name
            return self.size(source, _seen + 1)
        rows = self.facts.rows(table)
        if rows is None:
            return "unknown"
        if rows == 0:
            return "empty"
        return "large" if rows >= self.options.large_table_rows else "small"

    def severity(self, code: str, table: IdentifierNode | None) -> Severity:
        from .rules import RULES  # the catalogue loads with the first finding: most runs have none

        rule = RULES[code]
        size = self.size(table) if table is not None else "unknown"
        cats = rule.categories
        if Category.DATA_LOSS in cats:
            return Severity.INFO if size in ("new", "empty") else Severity.ERROR
        if Category.BLOCKING in cats:
            if size in ("new", "empty", "small"):
                return Severity.INFO
            return Severity.WARNING if self.engine == "sqlite" else Severity.ERROR
        if Category.MAY_FAIL in cats:
            return Severity.INFO if size in ("new", "empty") else Severity.WARNING
        if Category.BREAKS_RUNNING_CODE in cats:
            return Severity.INFO if size == "new" else Severity.WARNING
        if Category.NON_TRANSACTIONAL in cats:
            return Severity.INFO
        return Severity.WARNING

    def add(self, code: str, stmt: CompiledStatement, table: IdentifierNode | None, detail: str, *,
            severity: Severity | None = None, fills: dict[str, str] | None = None, partitioned: bool = False,
            recipe: str | None = None, **names: str) -> None:
        """A finding of rule ``code``. ``names`` fill the recipe's ``{table}``-style slots;
        ``fills`` replace its ``"<type>"``-style placeholders with what the statement says
        (see :func:`_recipe_fills`), so the recipe can be pasted as it is. ``partitioned``: about
        a PostgreSQL partitioned table, which takes the rule's recipe for one (and which
        safety="auto" does not rewrite: nothing is built or dropped concurrently there)."""
        from .rules import PARTITIONED, RULES

        rule = RULES[code]
        sev = severity or self.severity(code, table)
        size = self.size(table) if table is not None else "unknown"
        note = {
            "new": " (the table is new: these migrations create it, so nothing waits)",
            "empty": " (the table is empty)",
            "small": " (the table is small)",
        }.get(size, "") if sev is Severity.INFO else ""
        values = {"table": table.name if table else "", "table_q": self.dialect.compiler().table_name(table) if table else "", **names}
        if "column" in names:
            values.setdefault("column_q", self.dialect.compiler().quote(names["column"]))
        if "constraint" in names:
            values.setdefault("constraint_q", self.dialect.compiler().quote(names["constraint"]))
        recipe = rule.recipe_for(PARTITIONED if partitioned else self.dialect.name) if recipe is None else recipe
        for k, v in values.items():
            recipe = recipe.replace("{" + k + "}", v)
        recipe = recipe.replace("{{", "{").replace("}}", "}")
        for placeholder, text in (fills or {}).items():
            recipe = recipe.replace(placeholder, text)
        where = f"on {table.name}: " if table is not None else ""
        self.findings.append(
            Finding(
                code=code,
                name=rule.name,
                categories=rule.categories,
                severity=sev,
                message=f"{where}{detail}{note}",
                recipe=recipe if sev is not Severity.INFO else "",
                migration=self.migration,
                table=table.name if table else None,
                statement=str(stmt),
                location=stmt.location,
                suppressed=code in self.allow or code in _inline_allows(stmt, self.dialect.name),
                # the node the statement came from: safety="auto" rewrites nodes, not text
                extra={"node": stmt.node, "partitioned": True} if partitioned else {"node": stmt.node},
            )
        )

    @property
    def pg(self) -> bool:
        return self.engine == "postgres"

    @property
    def my(self) -> bool:
        return self.engine == "mysql"

    @property
    def version(self) -> tuple[int, ...]:
        return self.dialect.server_version

    def type_text(self, data_type: DataTypeNode) -> str:
        """A portable enum's or a raw type's text on this engine (``enum('a', 'b')`` on MySQL)."""
        try:
            return self.dialect.compiler().data_type(data_type).strip()
        except KyseraError:
            return ""

    def how(self, method: Verdict | Method | None) -> str:
        """MySQL/MariaDB: how InnoDB does a change (instantly, in place, blocking, by copying the table)."""
        if method is None:
            return ""
        from ..dialects.mysql_online import Verdict, describe  # MySQL's rules load for MySQL only

        verdict = Verdict(method) if isinstance(method, str) else method
        return describe(verdict, self.dialect.display_name)

    # --------------------------------------------------------------- statements

    def statement(self, stmt: CompiledStatement) -> None:
        node: OperationNode | raw.Classified | None = stmt.node
        from_text = node is None or isinstance(node, RawNode)
        if from_text:
            from . import raw  # only raw SQL text needs the classifier

            node = raw.classify(stmt.sql if not stmt.params else str(stmt), self.dialect.name)
            if isinstance(node, raw.PartlyKnown):
                for part in node.unknown:
                    self.add("KS901", stmt, None, f"{_first_words(part)}: kysera cannot tell what this part of the ALTER TABLE locks or changes")
                node = node.known
            if isinstance(node, raw.Several):
                for each in node.parts:
                    self.judge(stmt, each, True)
                return
        self.judge(stmt, node, from_text)

    def judge(self, stmt: CompiledStatement, node: OperationNode | raw.Classified | None, from_text: bool) -> None:
        """The findings of one statement, read as ``node``."""
        if (
            self.my
            and isinstance(node, AlterTableNode | CreateIndexNode | DropIndexNode)
            and node.algorithm == "copy"
            and node.table is not None
        ):
            self.add("KS213", stmt, node.table,
                     f"asks for ALGORITHM=COPY: {self.dialect.display_name} copies {node.table.name} and blocks writes until it finishes")
        if isinstance(node, BackfillNode):
            return  # the safe form of a large update: batches that commit on their own
        if not stmt.transactional and self.transactional:
            self.add("KS501", stmt, None, f"{_first_words(str(stmt))} cannot run inside a transaction; kysera runs this migration outside one")
        elif not stmt.transactional and self.others_outside:
            others, self.others_outside = self.others_outside, 0  # said once, at the first such statement
            self.add(
                "KS501", stmt, None,
                f"{_first_words(str(stmt))} cannot run inside a transaction, so kysera runs this whole migration outside one: "
                f"if one of its {others} other statement{'' if others == 1 else 's'} fails, what ran before it stays, to undo by hand "
                "before kysera migrate resolve",
                severity=Severity.WARNING,
                recipe=f"# move {_first_words(str(stmt))} to a migration of its own, after this one: kysera runs that one\n"
                "# outside a transaction, and this one stays all-or-nothing",
            )
        if from_text and self.text_statement(stmt, node):
            return
        # (operation node classes derive from Node directly, none from another: the commonest first)
        if isinstance(node, CreateTableNode):
            self.creates(node.table, node.if_not_exists)
        elif isinstance(node, CreateIndexNode):
            self.create_index(stmt, node)
        elif isinstance(node, CreateViewNode) and node.materialized:  # indexed like a table
            self.creates(node.name, node.if_not_exists)
        elif isinstance(node, DropTableNode):
            self.add("KS101", stmt, node.table, f"drops table {node.table.name} and every row in it")
            self.exclusive(stmt, node.table)
        elif isinstance(node, DeleteNode):
            if node.where is None:
                self.add("KS104", stmt, node.table, f"deletes every row of {node.table.name}")
        elif isinstance(node, UpdateNode):
            self.update(stmt, node)
        elif isinstance(node, DropIndexNode):
            if self.pg and not node.concurrently:
                table = node.table or self.facts.index_table(node.name)  # PostgreSQL's DROP INDEX names no table
                partitioned = table is not None and self.size(table) != "new" and bool(self.facts.partitioned(table))
                also = " and every partition (a partitioned table's index is not dropped concurrently)" if partitioned else ""
                self.add("KS202", stmt, table, f"DROP INDEX {node.name.name} takes an ACCESS EXCLUSIVE lock on its table{also}: reads and writes wait",
                         severity=None if table else Severity.WARNING, partitioned=partitioned, index=node.name.name)
        elif isinstance(node, AlterTableNode):
            self.alter_table(stmt, node)
        elif isinstance(node, DropSchemaNode):
            if node.cascade or self.my:  # MySQL's DROP DATABASE takes every table with it
                self.add("KS105", stmt, None, f"drops schema/database {node.name} and everything in it", severity=Severity.ERROR)
        elif isinstance(node, DropTypeNode):
            if node.cascade:
                self.add("KS107", stmt, None, f"drops type {node.name.name} with CASCADE: the columns that use it are dropped too",
                         severity=Severity.ERROR)
        elif isinstance(node, AlterTypeNode):  # as ALTER TYPE in raw SQL: values added or renamed, the type renamed
            self.add("KS305", stmt, None, f"changes type {node.name.name}: code that does not know the change may fail")

    def text_statement(self, stmt: CompiledStatement, node: object) -> bool:
        """The kinds only raw SQL text is classified as; False for the rest (operation nodes)."""
        from . import raw

        if isinstance(node, raw.Harmless):
            if node.table:
                self.creates(IdentifierNode.parse(node.table), node.if_not_exists)
        elif isinstance(node, raw.Truncate):
            for table in node.tables:
                self.add("KS103", stmt, table, f"deletes every row of {table.name}")
        elif isinstance(node, raw.DropTables):
            for table in node.tables:
                self.add("KS101", stmt, table, f"drops table {table.name} and every row in it")
        elif isinstance(node, raw.DropSchema):
            self.add("KS105", stmt, None, f"drops schema/database {node.name}", severity=Severity.ERROR)
        elif isinstance(node, raw.DropCascade):
            self.add("KS107", stmt, None, f"drops {node.kind} {node.name} with CASCADE: the columns that use it are dropped too",
                     severity=Severity.ERROR)
        elif isinstance(node, raw.EnumChange):
            self.add("KS305", stmt, None, f"changes type {node.type_name}: code that does not know the change may fail")
        elif isinstance(node, raw.Rewrite):
            self.rewrite(stmt, node)
        elif isinstance(node, raw.Reindex):
            self.reindex(stmt, node)
        elif isinstance(node, raw.Unknown):
            self.add("KS901", stmt, None, f"{_first_words(node.text)}: kysera cannot tell what this statement locks or changes")
        else:
            return False
        return True

    def rewrite(self, stmt: CompiledStatement, node: raw.Rewrite) -> None:
        """A statement that rebuilds a whole table (VACUUM FULL, CLUSTER, SET TABLESPACE ...)."""
        what = f"table {node.table.name}" if node.table is not None else "every table it names (or has clustered)"
        if self.my:
            self.add("KS213", stmt, node.table, f"{node.what} rebuilds {what}: {self.how('copy')}")
        elif self.pg:
            self.add("KS215", stmt, node.table, f"{node.what} rewrites {what} under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends")
            if node.table is not None:
                self.exclusive(stmt, node.table)

    def reindex(self, stmt: CompiledStatement, node: raw.Reindex) -> None:
        """PostgreSQL's REINDEX without CONCURRENTLY (SQLite's, in a database that one writer holds
        anyway, changes nothing for others)."""
        if not self.pg:
            return
        table = node.name if node.kind == "TABLE" else None
        if node.kind == "INDEX" and node.name is not None:
            table = self.facts.index_table(node.name)
        target = (f"the indexes of {node.name.name}" if node.kind == "TABLE" and node.name is not None
                  else f"index {node.name.name}" if node.kind == "INDEX" and node.name is not None
                  else f"every index of the {node.kind.lower()}")
        self.add("KS216", stmt, table, f"REINDEX rebuilds {target} without CONCURRENTLY: writes to the table wait, "
                 "and so do reads that would use an index being rebuilt", kind=node.kind,
                 index_or_table=self.dialect.compiler().table_name(node.name) if node.name is not None else "")

    def exclusive(self, stmt: CompiledStatement, table: IdentifierNode) -> None:
        """An ACCESS EXCLUSIVE lock (PostgreSQL) taken on an existing table in a transaction."""
        if not (self.pg and self.transactional) or self.size(table) in ("new", "empty", "small"):
            return
        if self.exclusive_held and self.exclusive_held != self.key(table):
            self.add("KS503", stmt, table,
                     f"runs while the ACCESS EXCLUSIVE lock on {self.exclusive_held} from an earlier statement is still held; everything on both tables waits until COMMIT")
        self.exclusive_held = self.exclusive_held or self.key(table)

    def update(self, stmt: CompiledStatement, node: UpdateNode) -> None:
        size = self.size(node.table)
        if size not in ("large", "unknown"):
            return
        recipe = self.backfill_arguments(node)
        if self.transactional and self.has_ddl_on_existing:
            large = size == "large" or (size == "unknown" and isinstance(self.facts, OfflineFacts))  # offline: assume large
            self.add("KS504", stmt, node.table, f"updates {node.table.name} inside the same transaction as DDL: the DDL's locks are held until the whole update commits",
                     severity=Severity.ERROR if large else Severity.WARNING, **recipe)
        else:
            self.add("KS505", stmt, node.table, f"updates {'every row of ' if node.where is None else 'rows of '}{node.table.name} in one statement",
                     severity=Severity.WARNING, **recipe)

    def backfill_arguments(self, node: UpdateNode) -> BackfillNames:
        """The ``set=`` and ``where=`` of the db.backfill call that does what ``node`` does, as
        Python: the values it sets, and a where that skips the rows done (the first column NULL)."""
        compiler = self.dialect.compiler()
        items = []
        for column, value in node.assignments:
            if isinstance(value, ValueNode):
                shown = repr(value.value)
            elif isinstance(value, ColumnRefNode) and value.table is None:
                shown = f"db.ref({value.column!r})"
            elif isinstance(value, RawNode) and all(isinstance(p, str) for p in value.parts):
                shown = f"sql({''.join(p for p in value.parts if isinstance(p, str))!r})"
            else:
                shown = "..."
            items.append(f"{column!r}: {shown}")
        # the update's own where, and a condition that leaves out the rows done (a rerun then
        # resumes): a column set to a constant is done once it holds it; a new column filled
        # from others is done once it is not NULL; otherwise only the user knows
        conditions = (self.done_condition(column, value) for column, value in node.assignments)
        skip = next((c for c in conditions if c is not None), "<a condition false for the rows already done>")
        where = skip
        if node.where is not None:
            from ..dialects.compiler import Writer

            w = Writer(compiler, inline=True)
            compiler.write_filter(w, node.where)
            where = f"({w.finish(None).sql}) AND {skip}"
        # raw SQL's UPDATE is not read that far: its SET is for the reader to copy (db.backfill
        # refuses an empty set=)
        shown_set = "{" + ", ".join(items) + "}" if items else "{<the column: value pairs of the UPDATE's SET>}"
        return BackfillNames(set=shown_set, skip_done=repr(where))

    def done_condition(self, column: str, value: object) -> str | None:
        """A condition true for the rows that still need ``column = value``; None when kysera
        cannot tell (the value reads the column itself: ``n + 1``)."""
        compiler = self.dialect.compiler()
        q = compiler.quote(column)
        if isinstance(value, ValueNode):
            if value.value is None:
                return f"{q} IS NOT NULL"
            try:
                literal = compiler.literal(value.value)
            except BuilderError:
                return None
            if self.pg:
                return f"{q} IS DISTINCT FROM {literal}"
            return f"NOT ({q} <=> {literal})" if self.my else f"{q} IS NOT {literal}"
        if isinstance(value, ColumnRefNode | IdentifierNode | RawNode) and column.lower() not in columns_read(value):
            return f"{q} IS NULL"
        return None

    def create_index(self, stmt: CompiledStatement, node: CreateIndexNode) -> None:
        if node.table is None or node.concurrently or self.my:
            return  # MySQL/MariaDB build secondary indexes online
        if self.engine == "sqlite":
            if self.size(node.table) in ("new", "empty", "small"):
                return  # nobody waits long: not worth a note per index
            self.add("KS201", stmt, node.table,
                     f"CREATE INDEX {node.name.name} holds the database's write lock while it reads all of {node.table.name}: every writer waits",
                     index=node.name.name or "idx")
            return
        names = [f"{c.column} desc" if c.descending else c.column
                 for c in node.columns if isinstance(c.column, str) and re.fullmatch(_NAME, c.column)]
        # PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table
        partitioned = self.size(node.table) != "new" and bool(self.facts.partitioned(node.table))
        index = node.name.name or "idx"
        self.add("KS201", stmt, node.table,
                 f"CREATE INDEX {node.name.name} holds a SHARE lock on {node.table.name}"
                 + (" and every partition (a partitioned table's index is not built concurrently)" if partitioned else "")
                 + ": writes wait while the index builds",
                 partitioned=partitioned, index=index, unique=".unique()" if node.unique else "",
                 unique_sql="UNIQUE " if node.unique else "",
                 index_q=self.dialect.compiler().table_name(IdentifierNode(index, node.table.schema)),
                 columns=repr(names) if names and len(names) == len(node.columns) else "<the index's columns>",
                 columns_sql=", ".join(_quoted_index_column(self.dialect, n) for n in names)
                 if names and len(names) == len(node.columns) else "<the index's columns>")

    # --------------------------------------------------------------- alter table

    def alter_table(self, stmt: CompiledStatement, node: AlterTableNode) -> None:
        t = node.table
        existing = self.size(t) != "new"
        if existing:
            self.has_ddl_on_existing = True
        rebuild_reasons: list[str] = []
        # MySQL/MariaDB: how InnoDB does each action, from the same table the runner's clauses use
        verdicts: list[Verdict | None] = [None] * len(node.actions)
        if self.my:
            from ..dialects.mysql_online import node_verdicts

            verdicts = list(node_verdicts(node, self.dialect))
        for action, verdict in zip(node.actions, verdicts, strict=True):
            how = self.how(verdict)
            how = f"; {how}" if how else ""
            if isinstance(action, DropColumnNode):
                detail = f"drops column {action.column} and its data{how}"
                # a name the table does not have: misspelt, say so (still data loss: an earlier
                # migration of the run may make the column, by a rename that brings its data)
                # (SQLite's rebuild refuses a missing column itself, and its dry run has run the
                # statements before this one, so the catalog no longer shows the column)
                if (
                    existing
                    and self.engine != "sqlite"
                    and self.options.catalog_current
                    and self.facts.has_column(t, action.column) is False
                ):
                    detail += f" ({t.name} has no column {action.column} now: misspelt? or an earlier migration of this run makes it)"
                self.add("KS102", stmt, t, detail, column=action.column)
            elif isinstance(action, RenameTableNode):
                moved = self.dialect.compiler().table_name(IdentifierNode(action.new_name, t.schema))
                self.add("KS301", stmt, t, f"renames {t.name} to {action.new_name}: code using {t.name} fails{how}",
                         fills={"<new name>": moved})
                self.moves(t, IdentifierNode(action.new_name, t.schema))
            elif isinstance(action, SetSchemaNode):
                self.moves(t, IdentifierNode(t.name, action.schema))
            elif isinstance(action, RenameColumnNode):
                self.add("KS302", stmt, t, f"renames column {action.column} to {action.new_name}: code using {action.column} fails{how}",
                         column=action.column, fills=_recipe_fills(type=self.facts.column_type(t, action.column), new_name=action.new_name))
            elif isinstance(action, AddColumnNode):
                self.add_column(stmt, t, action, rebuild_reasons, verdict)
            elif isinstance(action, AlterColumnNode):
                self.alter_column(stmt, t, action, rebuild_reasons)
            elif isinstance(action, ModifyColumnNode):  # the builder's MySQL modify_column
                from .raw import restated

                for change in restated(action.column.name, action.column):
                    self.alter_column(stmt, t, change, rebuild_reasons)
            elif isinstance(action, AddConstraintNode):
                self.add_constraint(stmt, t, action, rebuild_reasons, verdict)
            elif isinstance(action, ValidateConstraintNode):
                proof = self.not_null_checks.get((self.key(t), action.name))
                if proof is not None:
                    proof[1] = True
                else:
                    # a CHECK (col IS NOT NULL) added NOT VALID by an earlier migration (of this
                    # plan, or applied): validated now, it proves the column for what follows
                    column = self.checked_column(t, action.name)
                    if column is not None:
                        self.not_null_checks[self.key(t), action.name] = [column, True]
                code = self.added_not_valid.get((self.key(t), action.name))
                if code is not None and self.transactional:
                    self.add(code, stmt, t,
                             f"validates {action.name} in the transaction that added it: the scan runs under the lock "
                             f"ADD CONSTRAINT took on {t.name}, held until COMMIT (validate it in a later migration)",
                             constraint=action.name)
                elif self.pg and self.exclusive_held == self.key(t) and self.size(t) not in ("new", "empty", "small"):
                    # VALIDATE lets reads and writes go on, but not the lock an earlier ALTER TABLE of this
                    # transaction took on the table (on another table, exclusive() below reports it)
                    self.add("KS503", stmt, t,
                             f"validates {action.name} while the ACCESS EXCLUSIVE lock an earlier statement took on {t.name} is held "
                             "until COMMIT: reads and writes wait for the whole scan (validate it in a migration of its own)")
            elif isinstance(action, DropConstraintNode):
                self.not_null_checks.pop((self.key(t), action.name), None)
                self.dropped_constraints.add((self.key(t), action.name))
                if self.engine == "sqlite":
                    rebuild_reasons.append("drop a constraint")
        if self.engine == "sqlite" and rebuild_reasons:
            self.add("KS212", stmt, t, f"SQLite cannot {rebuild_reasons[0]} in place: the table is copied, dropped and renamed while SQLite's write lock is held")
        if self.pg and existing and any(not isinstance(a, RenameTableNode | RenameColumnNode) for a in node.actions):
            self.exclusive(stmt, t)
        if not self.options.lock_timeout and existing and self.engine != "sqlite":
            self.add("KS502", stmt, t, "runs ALTER TABLE without a lock timeout: if it waits for a lock, every query on the table queues behind it")

    def add_column(self, stmt: CompiledStatement, t: IdentifierNode, action: AddColumnNode, rebuild: list[str],
                   verdict: Verdict | None = None) -> None:
        col = action.column
        kind = (col.data_type.name.strip().lower() if isinstance(col.data_type.name, str) else "")
        written_type = col.data_type.name if isinstance(col.data_type.name, str) else None
        serial = kind in ("serial", "bigserial", "smallserial", "serial4", "serial8") or col.auto_increment or col.identity
        if serial and self.engine != "sqlite":
            how = self.how("locking") if self.my else "every row is rewritten under an exclusive lock"
            self.add("KS208", stmt, t, f"adds auto-numbered column {col.name}: {how}", column=col.name)
        elif col.generated is not None and col.stored:
            if self.engine == "sqlite":
                rebuild.append("add a STORED generated column")
            else:
                how = self.how("copy") if self.my else "every row is rewritten"
                self.add("KS209", stmt, t, f"adds STORED generated column {col.name}: {how}", column=col.name,
                         fills=_recipe_fills(expression=col.generated))
        default_text = _text(col.default)
        default_fills = _recipe_fills(type=written_type, expression=col.default)
        if col.default is not None and isinstance(col.default, RawNode):
            volatile = VOLATILE_CALL.search(default_text) is not None
            if self.pg and not volatile:
                # the catalog knows each function's volatility; offline, the names above
                calls = _calls(default_text)
                found = self.facts.volatile_functions(calls) if calls else set()
                volatile = bool(found)
            if self.pg and (volatile or (self.version and self.version < (11,))):
                self.add("KS207", stmt, t, f"adds column {col.name} with default {default_text}: PostgreSQL rewrites every row to store it", column=col.name,
                         fills=default_fills)
            elif self.my and not _is_constant(default_text, "mysql") and not (verdict is not None and verdict.method == "instant"):
                how = (self.how(verdict) if verdict is not None and verdict.method == "copy" else
                       f"{self.dialect.display_name} cannot add it instantly and rebuilds the table, in place or by copying it")
                self.add("KS207", stmt, t, f"adds column {col.name} with expression default {default_text}: {how}", column=col.name,
                         fills=default_fills)
            elif self.engine == "sqlite" and not _is_constant(default_text):
                rebuild.append("add a column with a non-constant default")
        elif col.default is not None and self.pg and self.version and self.version < (11,):
            self.add("KS207", stmt, t, f"adds column {col.name} with a default: PostgreSQL before 11 rewrites every row", column=col.name,
                     fills=default_fills)
        if col.not_null and col.default is None and not serial and col.generated is None and not col.primary_key:
            detail = (f"adds NOT NULL column {col.name} without a default: "
                      + (f"{self.dialect.display_name} fills existing rows with zero values" if self.my else "this fails on a table that has rows"))
            self.add("KS303", stmt, t, detail, column=col.name, fills=_recipe_fills(type=written_type))
        if self.my and col.references is not None:
            self.add("KS213", stmt, t, f"adds column {col.name} with a foreign key: {self.how('copy')}", column=col.name)
        if self.pg and col.references is not None:
            parent = col.references.table.name
            self.add("KS203", stmt, t, f"adds column {col.name} with a foreign key: PostgreSQL checks every row of {t.name} "
                     f"while writes to {t.name} and {parent} wait (add the column, then the key NOT VALID, then validate it)",
                     column=col.name, constraint=f"{t.name}_{col.name}_fkey", **_fk_names([col.name], col.references))
        if self.pg and col.check is not None:
            self.add("KS204", stmt, t, f"adds column {col.name} with a CHECK: PostgreSQL scans {t.name} under an ACCESS "
                     "EXCLUSIVE lock (add the column, then the check NOT VALID, then validate it)",
                     column=col.name, constraint=f"{t.name}_{col.name}_check", check=self.check_text(col.check))
        if col.unique or col.primary_key:
            if self.engine == "sqlite":
                rebuild.append("add a UNIQUE or PRIMARY KEY column")
            elif self.pg:
                self.add("KS210", stmt, t, f"adds column {col.name} with a unique index built under an exclusive lock", constraint=f"{t.name}_{col.name}_key",
                         columns=repr([col.name]), nulls=".nulls_not_distinct()" if col.nulls_not_distinct else "")

    def alter_column(self, stmt: CompiledStatement, t: IdentifierNode, action: AlterColumnNode, rebuild: list[str]) -> None:
        a = action.alteration
        col = action.column
        if isinstance(a, SetDataTypeNode):
            # as written: an ENUM's or SET's values keep their case ('Active' is not 'active')
            new = a.data_type.name.strip() if isinstance(a.data_type.name, str) else self.type_text(a.data_type)
            old = self.facts.column_type(t, col)
            change = _type_change(old, new, self.engine)
            if change == "narrowing" and self.engine != "sqlite":  # SQLite enforces no lengths or sizes: nothing is cut
                self.add("KS106", stmt, t, f"narrows {col} from {old} to {new}: values that do not fit make it fail or are cut", column=col,
                         fills=_recipe_fills(new_type=a.data_type.name if isinstance(a.data_type.name, str) else None))
            if self.engine == "sqlite":
                rebuild.append(f"change the type of {col}")
            elif change != "widening-free" or self.my:
                how = (self.how("copy") if self.my
                       else "PostgreSQL rewrites the table and its indexes under an ACCESS EXCLUSIVE lock")
                if not (self.my and change == "widening-free"):
                    self.add("KS206", stmt, t, f"changes the type of {col}{f' from {old}' if old else ''} to {new}: {how}", column=col,
                             fills=_recipe_fills(new_type=a.data_type.name if isinstance(a.data_type.name, str) else None))
                elif old is not None and old.strip().lower() != new.lower() and _members(new) is not None:
                    self.add("KS305", stmt, t, f"adds values at the end of {col} ({new}): {self.how('instant')}; "
                             "code that does not know a new value may fail", column=col)
        elif isinstance(a, SetNotNullNode):
            if (
                self.engine != "sqlite"  # (its dry run has run the change by now; and it compiles none for such a column)
                and self.options.catalog_current
                and self.size(t) != "new"
                and (self.key(t), col.lower()) not in self.plan.loosened  # an earlier step of the plan let NULL in
                and self.facts.nullable(t, col) is False
            ):
                self.add("KS205", stmt, t, f"sets NOT NULL on {col}, which is already NOT NULL: nothing changes", column=col,
                         severity=Severity.INFO)
            elif self.engine == "sqlite":
                rebuild.append(f"set NOT NULL on {col}")
                self.add("KS205", stmt, t, f"sets NOT NULL on {col}: fails if any row holds NULL", column=col, severity=Severity.INFO if self.size(t) in ("new", "empty") else Severity.WARNING)
            elif self.pg and self.proven_not_null(t, col):
                self.add("KS205", stmt, t, f"sets NOT NULL on {col}: a validated CHECK ({col} IS NOT NULL) proves it, so PostgreSQL skips the scan",
                         column=col, severity=Severity.INFO)
            elif self.pg:
                self.add("KS205", stmt, t, f"sets NOT NULL on {col}: PostgreSQL scans every row under an ACCESS EXCLUSIVE lock (reads and writes wait)", column=col)
            else:
                self.add("KS205", stmt, t, f"sets NOT NULL on {col}: {self.how('inplace')}, and it fails if any row holds NULL", column=col,
                         severity=Severity.INFO if self.size(t) in ("new", "empty") else Severity.WARNING)
        elif isinstance(a, DropNotNullNode):
            self.plan.loosened.add((self.key(t), col.lower()))
            self.add("KS304", stmt, t, f"allows NULL in {col}", column=col)
            if self.engine == "sqlite":
                rebuild.append(f"drop NOT NULL on {col}")
        elif self.engine == "sqlite":
            rebuild.append(f"change the default of {col}")

    def proven_not_null(self, t: IdentifierNode, col: str) -> bool:
        """PostgreSQL 12+ skips SET NOT NULL's scan when a validated CHECK (col IS NOT NULL) holds:
        one this migration added and validated, or one the table already has."""
        if self.dialect.server_version and self.dialect.server_version < (12,):
            return False
        key = self.key(t)
        if any(k[0] == key and proof[0] == col and proof[1] for k, proof in self.not_null_checks.items()):
            return True
        if self.size(t) == "new":
            return False
        return any((key, name) not in self.dropped_constraints for name in self.facts.not_null_proofs(t, col))

    def check_text(self, expression: RawNode) -> str:
        """A CHECK's expression as a Python literal for a recipe's ``sql(...)``."""
        try:
            return repr(self.dialect.compiler().inline_sql(expression))
        except Exception:  # a fragment that needs the database to compile: the reader fills it in
            return "'...'"

    def add_constraint(self, stmt: CompiledStatement, t: IdentifierNode, action: AddConstraintNode, rebuild: list[str],
                       verdict: Verdict | None = None) -> None:
        c = action.constraint
        name = c.name or "constraint"
        # the key's columns, for the recipe (the builder's list, as the recipe writes it)
        listed = [n for n in getattr(c, "columns", ()) if isinstance(n, str) and re.fullmatch(_NAME, n)]
        columns = repr(listed) if listed and len(listed) == len(getattr(c, "columns", ())) else "[<the columns>]"
        if self.engine == "sqlite":
            rebuild.append("add a constraint")
            return
        if self.pg and action.not_valid and c.name and isinstance(c, ForeignKeyConstraintNode | CheckConstraintNode):
            self.added_not_valid[self.key(t), c.name] = "KS203" if isinstance(c, ForeignKeyConstraintNode) else "KS204"
        if isinstance(c, ForeignKeyConstraintNode):
            fk = _fk_names(list(c.columns), c.references)
            if self.pg and not action.not_valid:
                self.add("KS203", stmt, t, f"adds foreign key {name}: PostgreSQL checks every row of {t.name} while writes to {t.name} and {c.references.table.name} wait", constraint=name, **fk)
            elif self.my:
                self.add("KS203", stmt, t, f"adds foreign key {name}, checking every row: {self.how('copy')}", constraint=name, **fk)
        elif isinstance(c, CheckConstraintNode):
            column = not_null_check_column(self.dialect.compiler().inline_sql(c.expression)) if c.name else None
            if column is not None and c.name:
                self.not_null_checks[self.key(t), c.name] = [column, not action.not_valid]
                self.plan.not_null_checks[self.key(t), c.name] = column  # for later migrations of the plan
            if self.pg and not action.not_valid:
                self.add("KS204", stmt, t, f"adds check {name}: PostgreSQL scans {t.name} under an ACCESS EXCLUSIVE lock", constraint=name,
                         check=self.check_text(c.expression))
            elif self.my:
                self.add("KS204", stmt, t, f"adds check {name}, checking every row: {self.how('copy')}", constraint=name,
                         check=self.check_text(c.expression))
        elif isinstance(c, UniqueConstraintNode):
            if self.pg and c.using_index is None:  # USING INDEX: the index is built already
                self.add("KS210", stmt, t, f"adds unique constraint {name}: its index is built under an ACCESS EXCLUSIVE lock", constraint=name,
                         columns=columns, nulls=".nulls_not_distinct()" if c.nulls_not_distinct else "")
            elif self.my:
                self.add("KS210", stmt, t, f"adds unique constraint {name}: fails if duplicates exist; {self.how('inplace')}", constraint=name,
                         columns=columns, severity=Severity.INFO if self.size(t) in ("new", "empty") else Severity.WARNING)
        elif isinstance(c, PrimaryKeyConstraintNode):
            if c.using_index is None and self.my and verdict is not None and verdict.method == "inplace":
                # MariaDB rebuilds the table in place, reads and writes going on (the runner holds it to that)
                self.add("KS211", stmt, t, f"adds a primary key to {t.name}: fails if its columns hold NULLs or duplicates; {self.how(verdict)}",
                         constraint=c.name or f"{t.name}_pkey", columns=columns,
                         severity=Severity.INFO if self.size(t) in ("new", "empty") else Severity.WARNING)
            elif c.using_index is None:
                self.add("KS211", stmt, t, f"adds a primary key to {t.name}: its index is built (and NULLs checked) under an exclusive lock",
                         constraint=c.name or f"{t.name}_pkey", columns=columns)
            elif self.pg:
                self.primary_key_using_index(stmt, t, c.using_index)

    def primary_key_using_index(self, stmt: CompiledStatement, t: IdentifierNode, index: str) -> None:
        """PostgreSQL's ``PRIMARY KEY USING INDEX`` builds nothing, but it sets NOT NULL on the
        index's columns: a scan under ACCESS EXCLUSIVE for each nullable one that no validated
        CHECK (col IS NOT NULL) proves (PostgreSQL 12+ skips it then)."""
        if self.size(t) in ("new", "empty"):
            return
        columns = self.facts.index_columns(t, index)
        if columns is None:
            self.add("KS214", stmt, t, f"makes index {index} its primary key: PostgreSQL sets NOT NULL on the index's columns, "
                     "scanning every row under an ACCESS EXCLUSIVE lock for each one that may hold NULL (kysera cannot see the "
                     "index yet to tell)", index=index, column="<column>", severity=Severity.WARNING)
            return
        for col in columns:
            if self.facts.nullable(t, col) is False or self.proven_not_null(t, col):
                continue
            self.add("KS214", stmt, t, f"makes index {index} its primary key, which sets NOT NULL on {col}: PostgreSQL scans every row "
                     "under an ACCESS EXCLUSIVE lock (reads and writes wait)", index=index, column=col)


def _recipe_fills(
    *, type: str | None = None, new_type: str | None = None, expression: object = None, new_name: str | None = None
) -> dict[str, str]:
    """What replaces a recipe's placeholders (see :mod:`.rules`): the column's type as the
    migration wrote it, its new type, its SQL expression (a default or a generated column's; only
    SQL text without bound values, which ``sql("...")`` takes back as it is), the new name."""
    fills: dict[str, str] = {}
    if type and type.strip():
        fills['"<type>"'] = _python_string(type.strip())
    if new_type and new_type.strip():
        fills['"<new type>"'] = _python_string(new_type.strip())
    if isinstance(expression, RawNode) and all(isinstance(p, str) for p in expression.parts):
        text = "".join(p for p in expression.parts if isinstance(p, str)).strip()
        if text:
            fills['"<expr>"'] = fills['"<expression>"'] = _python_string(text)
    if new_name:
        fills["<new name>"] = new_name
    return fills


def _python_string(text: str) -> str:
    """``text`` as a double-quoted Python string literal, as the recipes write theirs."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _text(expr: object) -> str:
    if isinstance(expr, RawNode):
        return "".join(p if isinstance(p, str) else "?" for p in expr.parts).strip()
    return repr(expr)


#: a literal a table takes without computing anything (see :func:`_is_constant`): NULL, a
#: boolean, a number, or a string, which MySQL/MariaDB may also escape with backslashes and put
#: in double quotes (PostgreSQL only in E'...')
_SCALAR = r"null|true|false|-?\d+(\.\d+)?"
_CONSTANT = re.compile(_SCALAR + r"|'(?:[^']|'')*'|e'(?:[^'\\]|\\.|'')*'")
_MYSQL_CONSTANT = re.compile(_SCALAR + r"|'(?:[^'\\]|\\.|'')*'" + r'|"(?:[^"\\]|\\.|"")*"', re.S)


def _is_constant(text: str, engine: str = "") -> bool:
    """A literal: NULL, a boolean, a number or a string, as ``engine`` writes them."""
    t = text.strip().lower()
    return bool((_MYSQL_CONSTANT if engine == "mysql" else _CONSTANT).fullmatch(t))


def _first_words(text: str) -> str:
    words = " ".join(text.split()[:6])
    return words + (" ..." if len(text.split()) > 6 else "")


_INT_SIZE = {"tinyint": 1, "smallint": 2, "mediumint": 3, "int": 4, "bigint": 8}
#: spellings of one type, as introspection or people write them, to one name
_SYNONYMS = {
    "character varying": "varchar", "nvarchar": "varchar", "int2": "smallint", "int4": "int", "integer": "int",
    "int8": "bigint", "decimal": "numeric", "double precision": "double", "float8": "double", "float4": "real",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
    "time without time zone": "time", "time with time zone": "timetz", "bool": "boolean",
}  # fmt: skip
_FRACTIONS = {"numeric", "double", "real", "float"}
_TIMES = {"timestamp", "timestamptz", "datetime"}  # (MySQL's datetime is not its timestamp: a copy)
#: types whose argument is the digits of a second's fraction kept
_SECOND_FRACTIONS = _TIMES | {"time", "timetz", "interval"}


def _type_shape(text: str) -> tuple[str, tuple[int, ...], bool]:
    """(base name, arguments, unsigned) of a type as written: ``varchar(50)`` -> ("varchar", (50,), False)."""
    t = re.sub(r"\s+", " ", text.strip().lower())
    unsigned = " unsigned" in t
    t = t.replace(" unsigned", "").replace(" zerofill", "")
    m = re.fullmatch(r"([a-z][a-z0-9_ ]*?)\s*(?:\(([\d\s,]+)\))?((?: with(?:out)? time zone)?)", t)
    if m is None:
        return t, (), unsigned
    base = (m.group(1) + m.group(3)).strip()
    args = tuple(int(a) for a in m.group(2).split(",")) if m.group(2) else ()
    base = _SYNONYMS.get(base, base)
    if base in _INT_SIZE:
        args = ()  # MySQL's display width changes nothing
    return base, args, unsigned


_MEMBER = re.compile(r"'((?:[^'\\]|\\.|'')*)'", re.S)


def _members(text: str) -> tuple[str, list[str]] | None:
    """(``enum`` or ``set``, its members in order) of a MySQL ENUM or SET type; None for another type."""
    m = re.fullmatch(r"\s*(enum|set)\s*\((.*)\)\s*", text, re.I | re.S)
    if m is None:
        return None
    values = [v.replace("''", "'").replace("\\'", "'") for v in _MEMBER.findall(m.group(2))]
    return m.group(1).lower(), values


def _member_bytes(kind: str, count: int) -> int:
    """The bytes each row's value of an ENUM or SET with ``count`` members takes."""
    if kind == "enum":
        return 1 if count <= 255 else 2
    return {1: 1, 2: 2, 3: 3, 4: 4}.get((count + 7) // 8, 8)


def _members_change(old_kind: str, old: list[str], new_kind: str, new: list[str]) -> str:
    """An ENUM or SET column's change of members: values added at the end, the value size kept,
    is only metadata to InnoDB (instant); a member taken away loses the values that hold it."""
    if old_kind != new_kind:
        return "other"
    if not set(old) <= set(new):
        return "narrowing"
    if new[: len(old)] == old and _member_bytes(new_kind, len(new)) == _member_bytes(old_kind, len(old)):
        return "widening-free"
    return "other"  # reordered, inserted before the end, or a larger value: the table is copied


def _type_change(old: str | None, new: str, engine: str) -> str:
    """How a column's type changes: ``widening-free`` (nothing rewritten on PostgreSQL, nothing
    lost), ``narrowing`` (values that do not fit are refused or cut, or part of each is lost),
    or ``other`` (the table is rewritten; kysera knows no loss, or cannot tell)."""
    if old is None:
        return "other"
    members = _members(old), _members(new)
    if engine == "mysql" and members[0] is not None and members[1] is not None:
        return _members_change(*members[0], *members[1])
    ob, oa, ou = _type_shape(old)
    nb, na, nu = _type_shape(new)
    if (ob, oa, ou) == (nb, na, nu):
        return "widening-free"
    if ob == "varchar" and nb in ("varchar", "text"):
        if nb == "text" and engine == "mysql":
            return "other"  # MySQL/MariaDB copy the table for it (MariaDB: error 1846 in place)
        if nb == "text" or not na:
            return "widening-free"
        if not oa or na[0] < oa[0]:
            return "narrowing"
        # MySQL keeps a length of up to 255 bytes in one byte: longer needs two, and a copy
        # (utf8mb4: four bytes a character)
        if engine == "mysql" and oa[0] * 4 <= 255 < na[0] * 4:
            return "other"
        return "widening-free"
    if ob == "text" and nb == "varchar":
        return "widening-free" if not na and engine == "postgres" else "narrowing"
    if ob in _INT_SIZE and nb in _INT_SIZE:
        if ou != nu:  # signed <-> unsigned: negative or the highest values do not fit
            return "narrowing"
        return "narrowing" if _INT_SIZE[nb] < _INT_SIZE[ob] else "other"
    if ob == "numeric" and nb == "numeric":
        old_p, old_s = (*oa, 0)[:2] if oa else (None, None)
        new_p, new_s = (*na, 0)[:2] if na else ((10, 0) if engine == "mysql" else (None, None))
        if new_p is None:
            return "widening-free"  # PostgreSQL's unconstrained numeric holds every value
        if old_p is None or old_s is None or new_s is None:
            return "narrowing"
        if new_s < old_s or new_p - new_s < old_p - old_s:
            return "narrowing"
        return "widening-free" if new_s == old_s and engine == "postgres" else "other"
    if ob == nb and ob in _SECOND_FRACTIONS and len(oa) <= 1 and len(na) <= 1:
        digits = 0 if engine == "mysql" else 6  # none written: MySQL keeps no fraction, PostgreSQL its most
        old_p, new_p = (oa or (digits,))[0], (na or (digits,))[0]
        if new_p < old_p:
            return "narrowing"  # the digits beyond go
        # more digits: PostgreSQL only relabels the column; MySQL/MariaDB copy the table
        return "widening-free" if new_p == old_p or engine == "postgres" else "other"
    if ob in _FRACTIONS and nb in _INT_SIZE:
        return "narrowing"  # the fractions go
    if ob == "double" and nb in ("real", "float"):
        return "narrowing"
    if ob in _TIMES and nb in ("date", "time", "timetz"):
        return "narrowing"  # the time of day, or the day, goes
    return "other"


def _inline_allows(stmt: CompiledStatement, dialect: str) -> set[str]:
    """``-- kysera:allow KS102`` written inside a raw statement's text."""
    node = stmt.node
    if not (node is None or isinstance(node, RawNode)):
        return set()
    from ..dialects.raw_text import comments
    from .rules import RULES, RULES_BY_NAME

    found: set[str] = set()
    # in comments only: quoted text is not an acknowledgement, whatever it says
    for m in re.finditer(ALLOW_DIRECTIVE, " ".join(comments(stmt.sql, dialect))):
        for word in re.split(r"[,\s]+", m.group(1)):
            rule = RULES.get(word.strip().upper()) or RULES_BY_NAME.get(word.strip().lower())
            if rule is not None:  # a code or a rule's name, as allow_unsafe takes them
                found.add(rule.code)
    return found


def analyze(
    statements: Sequence[CompiledStatement],
    dialect: Dialect,
    facts: Facts | None = None,
    *,
    migration: str | None = None,
    transactional: bool = True,
    allow: set[str] | frozenset[str] = frozenset(),
    options: SafetyOptions | None = None,
    created: PlanState | set[str] | None = None,
    moved_outside: bool = False,
) -> list[Finding]:
    """Findings for one migration's statements, in statement order.

    ``moved_outside``: the migration asked for a transaction, and runs outside one because some
    of its statements cannot run in one (``transactional`` is then False); when others change
    something too, those statements are named (a failure would leave the ones before it).

    ``created`` carries what earlier migrations of the same plan did (a :class:`PlanState`, which
    is updated; a set holds only the tables they created): an index on a table made a migration
    earlier is not judged as if the table were old, nor a NOT NULL set again as if it were still
    in place, nor a renamed table as if it were empty.
    """
    if created is not None and not isinstance(created, PlanState):
        created = PlanState(created)
    analysis = _Analysis(dialect, facts or OfflineFacts(), options or SafetyOptions(), migration, transactional, set(allow), created)
    if moved_outside:
        analysis.others_outside = _others_outside(statements)
    previous: object = None
    for stmt in statements:
        # one builder call can compile to several statements (a split ALTER TABLE, SQLite's
        # rebuild): they share the node, which is judged once
        if stmt.node is not None and stmt.node is previous:
            continue
        previous = stmt.node
        analysis.statement(stmt)
    return analysis.findings


def _others_outside(statements: Sequence[CompiledStatement]) -> int:
    """How many of a migration's statements that could run in a transaction change something,
    when others cannot: none when a statement of its own begins or ends a transaction (the file
    says what goes together) or a ``db.backfill`` is what cannot (a backfill commits batch by
    batch: the expand step it follows is meant to commit first)."""
    if not any(not s.transactional and not isinstance(s.node, BackfillNode) for s in statements):
        return 0
    if any(isinstance(s.node, BackfillNode) or _controls_transaction(s) for s in statements):
        return 0
    return sum(1 for s in statements if s.transactional and not s.reads)


def _controls_transaction(stmt: CompiledStatement) -> bool:
    return isinstance(stmt.node, RawNode) and controls_transaction(stmt.sql)


def _fk_names(columns: list[str], references: ReferencesNode) -> FkNames:
    """What a foreign-key recipe needs: the key's columns, and the table and columns it references."""
    return FkNames(fk_columns=repr(columns), ref_table=references.table.name, ref_columns=repr(list(references.columns)))


class BackfillNames(TypedDict):
    """What a backfill recipe needs: its ``set=`` and the condition that skips the rows done."""

    set: str
    skip_done: str


class FkNames(TypedDict):
    fk_columns: str
    ref_table: str
    ref_columns: str


def _quoted_index_column(dialect: Dialect, name: str) -> str:
    """An index column as the recipe names it (``"created_at desc"``), as SQL: ``"created_at" DESC``."""
    column, _, order = name.partition(" ")
    return dialect.compiler().quote(column) + (f" {order.upper()}" if order else "")
