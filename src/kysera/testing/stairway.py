"""The stairway check: for each migration in order, up, down, up again.

After each ``down`` the schema (by introspection) must equal the schema before that migration's
``up``; any difference is reported as readable lines (table, column, index, constraint). It also
reports migrations without ``down``, and ups that fail the second time (they were not undone).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import KyseraError

if TYPE_CHECKING:
    from ..database import Database
    from ..introspection import SchemaInfo
    from ..migrations import Migration, MigrationError
    from ..nodes import CompiledStatement
    from ..url import DatabaseUrl


@dataclass(frozen=True)
class StairwayProblem:
    migration: str
    kind: str  # "no-down" | "down-differs" | "order-differs" | "failed"
    details: tuple[str, ...] = ()

    def render(self) -> str:
        head = {
            "no-down": f"{self.migration}: has no down migration, so it cannot be rolled back",
            "down-differs": f"{self.migration}: down does not restore the schema its up started from",
            "order-differs": (
                f"{self.migration}: down restores every column, in another order (usually a column "
                "added back, which comes last: most engines cannot put it where it was)"
            ),
            "failed": f"{self.migration}: failed",
        }[self.kind]
        return "\n".join([head, *(f"    {line}" for line in self.details)])


@dataclass
class StairwayReport:
    checked: list[str] = field(default_factory=list)
    problems: list[StairwayProblem] = field(default_factory=list)
    #: the migrations after a failure, which the check did not reach (each builds on the ones before)
    not_reached: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not [p for p in self.problems if p.kind not in ("no-down", "order-differs")]

    def render(self) -> str:
        lines = [p.render() for p in self.problems]
        if self.not_reached:
            lines.append(f"not reached after the failure: {', '.join(self.not_reached)}")
        status = "ok" if self.ok else "FAILED"
        lines.append(
            f"stairway {status}: {len(self.checked)} migration(s) checked (up, down, up), "
            f"{sum(p.kind == 'down-differs' for p in self.problems)} down(s) that do not undo their up, "
            f"{sum(p.kind == 'failed' for p in self.problems)} failure(s), "
            f"{sum(p.kind == 'no-down' for p in self.problems)} without down"
            + (f", {len(self.not_reached)} not reached after the failure" if self.not_reached else "")
            + (
                f"; {n} with columns back in another order (not a failure)"
                if (n := sum(p.kind == "order-differs" for p in self.problems))
                else ""
            )
        )
        return "\n".join(lines)


class NotScratchError(KyseraError):
    """The stairway check refuses to run on a database that already has migrations applied."""

    exit_code = 2


def check_migrations(
    url: str | DatabaseUrl | Database | None,
    directory: str | os.PathLike[str] | Sequence[Migration],
    *,
    table_name: str = "kysera_migrations",
) -> StairwayReport:
    """Run the stairway over the migrations of ``directory`` on ``url`` and return what went wrong.

    ``url`` is a URL or a Database; a URL gets a scratch database next to it (created and
    dropped here), and None a temporary SQLite file. A Database is used as it is: it must have
    no migrations applied, since the check rolls every migration back. ``directory`` is the
    migrations folder, or a list of :class:`~kysera.migrations.Migration`.
    """
    from ..database import Database

    if isinstance(url, Database):
        return _run(url, directory, table_name)
    from .scratch import scratch_database

    with scratch_database(url) as db:
        return _run(db, directory, _history_in_scratch(db, table_name))


def _history_in_scratch(db: Database, table_name: str) -> str:
    """The history table inside the scratch database. A qualified name (``audit.kysera_migrations``)
    names a PostgreSQL schema, made here in the scratch database; on MySQL the qualifier is a
    database, another one than the scratch database (the check would record its migrations
    there), and on SQLite an attached file: there the table goes in the scratch database itself."""
    schema, dot, name = table_name.rpartition(".")
    if not dot:
        return table_name
    if db.dialect.name == "postgres":
        db.schema.create_schema(schema).if_not_exists().execute()
        return table_name
    return name


def _run(db: Database, migrations: str | os.PathLike[str] | Sequence[Migration], table_name: str) -> StairwayReport:
    from ..migrations import MigrationError, create_migration_runner, load_migrations

    listed = load_migrations(migrations) if isinstance(migrations, str | os.PathLike) else list(migrations)
    runner = create_migration_runner(db, listed, table_name=table_name, safety="off")
    if runner.status().executed:
        raise NotScratchError(
            f"{db.url.redacted()} already has migrations applied; the stairway check rolls every migration "
            "back and forth, so run it on a scratch database (pass a server URL and kysera makes one)"
        )
    report = StairwayReport()
    for migration in listed:
        report.checked.append(migration.name)
        before = _schema(db, table_name)
        try:
            runner.up_to(migration.name)
        except MigrationError as exc:
            report.problems.append(StairwayProblem(migration.name, "failed", _failure("up", exc)))
            break
        if migration.down is None:
            report.problems.append(StairwayProblem(migration.name, "no-down"))
            continue
        try:
            undone = runner.down(1)
        except MigrationError as exc:
            report.problems.append(StairwayProblem(migration.name, "failed", _failure("down", exc)))
            break
        after = _schema(db, table_name)
        differences = before.diff(after)
        if differences and db.dialect.name == "mysql":
            differences = _key_indexes_explained(differences, undone.statements(migration.name))
        if differences:
            kind = "down-differs" if before.diff(after, column_order=False) else "order-differs"
            if kind == "order-differs":
                # a column the down adds back comes last: that is the one allowance. Columns in
                # another order on a table the down adds nothing to were moved by renames the
                # down does not undo (first_name and last_name swapped): the data is under the
                # wrong names
                refilled = _columns_added(undone.statements(migration.name), db.dialect.name)
                unexplained = [t for t in _reordered(before, after) if not _only_refilled_moved(before, after, t, refilled)]
                if unexplained:
                    kind = "down-differs"
                    differences = [
                        *differences,
                        *(f"table {t}: no column is added back, so renamed columns must have traded places" for t in unexplained),
                    ]
            report.problems.append(StairwayProblem(migration.name, kind, tuple(differences)))
        try:
            runner.up_to(migration.name)
        except MigrationError as exc:
            report.problems.append(StairwayProblem(migration.name, "failed", _failure("up again after down", exc)))
            break
    # past a failure nothing more can run, but a missing down is plain to see in the file itself
    for migration in listed[len(report.checked) :]:
        report.not_reached.append(migration.name)
        if migration.down is None:
            report.problems.append(StairwayProblem(migration.name, "no-down"))
    return report


def _reordered(before: SchemaInfo, after: SchemaInfo) -> list[str]:
    """The tables whose columns come in another order."""
    out = []
    for name, table in before.tables.items():
        other = after.tables.get(name)
        if other is not None and table.column_names != other.column_names and set(table.column_names) == set(other.column_names):
            out.append(name)
    return out


def _columns_added(statements: Sequence[CompiledStatement], dialect: str) -> dict[str, set[str]]:
    """The columns (lower case) that ``statements`` add, by table (lower case)."""
    from ..nodes import AddColumnNode, AlterTableNode, RawNode

    out: dict[str, set[str]] = {}
    for statement in statements:
        node: object = statement.node
        if node is None or isinstance(node, RawNode):
            from ..safety.raw import PartlyKnown, classify

            node = classify(statement.sql, dialect)
            if isinstance(node, PartlyKnown):
                node = node.known
        if isinstance(node, AlterTableNode):
            for action in node.actions:
                if isinstance(action, AddColumnNode):
                    out.setdefault(node.table.name.lower(), set()).add(action.column.name.lower())
    return out


def _only_refilled_moved(before: SchemaInfo, after: SchemaInfo, table: str, refilled: dict[str, set[str]]) -> bool:
    """Whether the columns of ``table`` come in the order they had but for the ones the down added
    back (they come last: most engines cannot put one where it was). Any other change of order
    means renames the down did not undo (first_name and last_name traded places)."""
    added = refilled.get(table.lower(), set())
    if not added:
        return False
    old, new = before.tables[table], after.tables[table]
    return [c for c in old.column_names if c.lower() not in added] == [c for c in new.column_names if c.lower() not in added]


#: a foreign key dropped by raw SQL on MySQL/MariaDB: ALTER TABLE t DROP FOREIGN KEY fk
_DROP_FOREIGN_KEY = re.compile(r"\bALTER\s+TABLE\s+[`\"]?(?:\w+[`\"]?\.[`\"]?)?(\w+)[`\"]?\s.*?\bDROP\s+FOREIGN\s+KEY\b", re.I | re.S)
_INDEX_ADDED = re.compile(r"index \S+ on (\S+) \(.*\) added")


def _key_indexes_explained(differences: list[str], statements: Sequence[CompiledStatement]) -> list[str]:
    """An index left on a table whose foreign key the down dropped by DROP FOREIGN KEY: InnoDB
    made that index for the key when the up added it, and DROP FOREIGN KEY leaves it. Say so,
    since the down never names that index. Only raw SQL is read: a builder's drop_constraint
    drops the index too."""
    from ..nodes import RawNode

    raw = [s for s in statements if s.node is None or isinstance(s.node, RawNode)]
    tables = {m.group(1).lower() for s in raw if (m := _DROP_FOREIGN_KEY.search(s.sql))}
    out = []
    for line in differences:
        added = _INDEX_ADDED.fullmatch(line)
        if added and added.group(1).lower() in tables:
            line += (
                " (MySQL/MariaDB made it for the foreign key the up added, and DROP FOREIGN KEY leaves it: "
                "drop the index too in the down, or use drop_constraint, which does)"
            )
        out.append(line)
    return out


def _failure(what: str, exc: MigrationError) -> tuple[str, ...]:
    """What failed, without the runner's advice on putting the history right: the scratch
    database it would apply to is dropped when the check ends."""
    from ..errors import driver_reason

    reason = driver_reason(exc.cause)
    if exc.statement:  # the database refused a statement: its words, then the statement
        return (f"{what}: {reason}", f"statement: {exc.statement}")
    return (f"{what}: {type(exc.cause).__name__}: {reason}",)  # the migration's code raised


def _schema(db: Database, table_name: str) -> SchemaInfo:
    """The schema without kysera's history table (and the sequence behind its id)."""
    from dataclasses import replace

    from ..introspection import introspect

    info = introspect(db, exclude=(table_name,))
    own = table_name.rpartition(".")[2] + "_"
    return replace(
        info,
        sequences=tuple(s for s in info.sequences if not s.startswith(own)),
        sequence_options={k: v for k, v in info.sequence_options.items() if not k.startswith(own)},
    )
