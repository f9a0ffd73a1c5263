"""The catalogue of rules: stable codes, names, categories and the safe recipe for each.

Codes never change meaning. KS1xx lose data, KS2xx block reads or writes, KS3xx break code that
is still running, KS4xx may fail on existing data, KS5xx are transaction and robustness matters,
KS9xx need a human review.
"""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Category

DL, BLK, BC, MF, NT, REV = (
    Category.DATA_LOSS,
    Category.BLOCKING,
    Category.BREAKS_RUNNING_CODE,
    Category.MAY_FAIL,
    Category.NON_TRANSACTIONAL,
    Category.REVIEW,
)


#: the key of a rule's recipe for a PostgreSQL partitioned table (see :meth:`Rule.recipe_for`)
PARTITIONED = "postgres-partitioned"


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    categories: tuple[Category, ...]
    summary: str
    recipe: str
    #: the recipe on engines where another one applies, by dialect name ("mysql", "sqlite"), or
    #: for a kind of table (PARTITIONED)
    recipes: tuple[tuple[str, str], ...] = ()

    def recipe_for(self, engine: str) -> str:
        return dict(self.recipes).get(engine, self.recipe)


_RULES = [
    Rule("KS101", "drop-table", (DL, BC), "drops a table and every row in it",
         """# Contract step, in its own migration, after a release that no longer reads or writes the table:
# back it up first (kysera db dump -o before-drop.sql), then acknowledge the loss in that migration:
allow_unsafe = ["KS101"]
db.schema.drop_table("{table}").execute()"""),
    Rule("KS102", "drop-column", (DL, BC), "drops a column and its data",
         """# the contract step: once a release no longer reads or writes "{column}" (its data moved, or
# is not needed), drop it in its own migration that acknowledges the loss:
allow_unsafe = ["KS102"]
db.schema.alter_table("{table}").drop_column("{column}").execute()"""),
    Rule("KS103", "truncate-table", (DL,), "deletes every row of the table",
         """# delete only what you mean to, in batches, or name the tables explicitly:
db.delete_from("{table}").where(...).execute()"""),
    Rule("KS104", "delete-all-rows", (DL,), "deletes every row of the table (no WHERE)",
         """db.delete_from("{table}").where("id", "in", ids).execute()   # say which rows"""),
    Rule("KS105", "drop-schema", (DL,), "drops a whole schema or database", "# do not drop schemas or databases in migrations"),
    Rule("KS106", "narrowing-type-change", (DL, MF), "narrows a column's type: values that do not fit fail or are cut",
         """# expand / backfill / contract:
db.schema.alter_table("{table}").add_column("{column}_new", "<new type>").execute()
db.backfill("{table}", set={{"{column}_new": db.ref("{column}")}}, where=sql("{column}_new IS NULL"))
# then switch the code to {column}_new, and drop {column} in a later migration"""),
    Rule("KS107", "drop-cascade", (DL,), "drops a type, domain or extension with CASCADE: every column that uses it goes too, with its data",
         """# move or drop the columns that use it first (each drop acknowledged on its own), then drop it
# without CASCADE, which fails instead of dropping a column nobody named:
db.schema.drop_type("<name>").execute()"""),
    Rule("KS201", "create-index-blocking", (BLK,), "builds an index while holding a lock that blocks writes",
         """# PostgreSQL: build it concurrently (kysera runs the migration outside a transaction)
db.schema.create_index("{index}"){unique}.on("{table}").columns({columns}).concurrently().execute()""",
         recipes=(("sqlite", """# SQLite builds no index concurrently: run it, in a migration of its own, when writers can wait"""),
                  (PARTITIONED, """# PostgreSQL builds no index of a partitioned table concurrently: create it on the table alone (nothing
# is built; it is invalid until every partition has its index), then build each partition's concurrently
# (in a migration with transaction = False) and attach it:
sql('CREATE {unique_sql}INDEX {index_q} ON ONLY {table_q} ({columns_sql})').execute(db)
db.schema.create_index("<partition>_{index}"){unique}.on("<partition>").columns({columns}).concurrently().execute()
sql('ALTER INDEX {index_q} ATTACH PARTITION "<partition>_{index}"').execute(db)   # once per partition"""),)),
    Rule("KS202", "drop-index-blocking", (BLK,), "drops an index under an ACCESS EXCLUSIVE lock (blocks reads and writes)",
         """db.schema.drop_index("{index}").concurrently().execute()   # outside a transaction, by itself""",
         recipes=((PARTITIONED, """# PostgreSQL drops no index of a partitioned table concurrently. The drop is quick once it has its
# ACCESS EXCLUSIVE locks on the table and every partition (the runner's lock timeout bounds the wait):
# run it when they are quiet, acknowledged:
allow_unsafe = ["KS202"]
db.schema.drop_index("{index}").execute()"""),)),
    Rule("KS203", "add-foreign-key-validating", (BLK, MF), "adds a foreign key and checks every existing row while both tables are locked",
         """# PostgreSQL: add it NOT VALID (instant), validate in a separate migration (no write lock)
db.schema.alter_table("{table}").add_foreign_key_constraint("{constraint}", {fk_columns}, "{ref_table}", {ref_columns}, not_valid=True).execute()
# next migration:
db.schema.alter_table("{table}").validate_constraint("{constraint}").execute()""",
         recipes=(("mysql", """# MySQL has no NOT VALID: it checks every row, and writers wait while it does;
# add it in a migration of its own, run when writers can wait, that acknowledges it:
allow_unsafe = ["KS203"]
db.schema.alter_table("{table}").add_foreign_key_constraint("{constraint}", {fk_columns}, "{ref_table}", {ref_columns}).execute()"""),)),
    Rule("KS204", "add-check-validating", (BLK, MF), "adds a CHECK constraint and scans the whole table under a lock that blocks reads and writes",
         """# PostgreSQL: add it NOT VALID (instant), validate in a separate migration (no write lock)
db.schema.alter_table("{table}").add_check_constraint("{constraint}", sql({check}), not_valid=True).execute()
# next migration:
db.schema.alter_table("{table}").validate_constraint("{constraint}").execute()""",
         recipes=(("mysql", """# MySQL has no NOT VALID: it checks every row, and writers wait while it does;
# add it in a migration of its own, run when writers can wait, that acknowledges it:
allow_unsafe = ["KS204"]
db.schema.alter_table("{table}").add_check_constraint("{constraint}", sql({check})).execute()"""),)),
    Rule("KS205", "set-not-null-scan", (BLK, MF, BC), "sets NOT NULL, scanning the whole table under a lock that blocks reads and writes",
         """# PostgreSQL 12+: prove it with a validated CHECK first, then SET NOT NULL skips the scan
sql('ALTER TABLE {table_q} ADD CONSTRAINT {column}_not_null CHECK ({column_q} IS NOT NULL) NOT VALID').execute(db)
# next migration (validated in the same transaction, the scan would hold the lock ADD CONSTRAINT took):
db.schema.alter_table("{table}").validate_constraint("{column}_not_null").execute()
db.schema.alter_table("{table}").alter_column("{column}", lambda col: col.set_not_null()).execute()
db.schema.alter_table("{table}").drop_constraint("{column}_not_null").execute()""",
         recipes=(
             ("mysql", """# fill the NULLs first, in batches that commit on their own (a migration of its own):
db.backfill("{table}", set={{"{column}": "<value for missing data>"}}, where=sql('{column_q} IS NULL'))
# then set NOT NULL: kysera adds ALGORITHM=INPLACE, LOCK=NONE, so writes go on while the table is rebuilt
db.schema.alter_table("{table}").alter_column("{column}", lambda col: col.set_not_null()).execute()"""),
             ("sqlite", """# SQLite rebuilds the table for this: fill the NULLs first, then run it when writers can wait
db.backfill("{table}", set={{"{column}": "<value for missing data>"}}, where=sql('{column_q} IS NULL'))
db.schema.alter_table("{table}").alter_column("{column}", lambda col: col.set_not_null()).execute()"""),
         )),
    Rule("KS206", "change-column-type-rewrite", (BLK, BC), "changes a column's type, rewriting the table and its indexes under an exclusive lock",
         """# expand / backfill / contract:
db.schema.alter_table("{table}").add_column("{column}_new", "<new type>").execute()
db.backfill("{table}", set={{"{column}_new": db.ref("{column}")}}, where=sql("{column}_new IS NULL"))
# switch the code over, then drop "{column}" and rename "{column}_new" in later migrations"""),
    Rule("KS207", "add-column-volatile-default", (BLK,), "adds a column whose default is computed per row, rewriting the whole table",
         """db.schema.alter_table("{table}").add_column("{column}", "<type>").execute()          # nullable, instant
db.schema.alter_table("{table}").alter_column("{column}", lambda col: col.set_default(sql("<expr>"))).execute()
db.backfill("{table}", set={{"{column}": sql("<expr>")}}, where=sql("{column} IS NULL"))"""),
    Rule("KS208", "add-auto-increment-column", (BLK,), "adds a serial/identity column, rewriting the whole table",
         """# create a new table with the column and copy rows in batches, or add a nullable
# integer column with a sequence default and backfill it in batches"""),
    Rule("KS209", "add-stored-generated-column", (BLK,), "adds a STORED generated column, rewriting the whole table",
         """# add a plain column, fill new rows from the application or a trigger, and backfill:
db.backfill("{table}", set={{"{column}": sql("<expression>")}}, where=sql("{column} IS NULL"))"""),
    Rule("KS210", "add-unique-constraint", (BLK, MF), "adds a UNIQUE constraint, building its index under a lock that blocks reads and writes",
         """# PostgreSQL: build the unique index concurrently (transaction = False), then attach it
db.schema.create_index("{constraint}").on("{table}").columns({columns}).unique(){nulls}.concurrently().execute()
db.schema.alter_table("{table}").add_unique_constraint("{constraint}", using_index="{constraint}").execute()""",
         recipes=(("mysql", """# MySQL builds the index in place while reads and writes go on (kysera adds ALGORITHM=INPLACE, LOCK=NONE),
# but it fails if two rows share a value: remove the duplicates first, then add it as it is:
db.schema.alter_table("{table}").add_unique_constraint("{constraint}", {columns}).execute()"""),)),
    Rule("KS211", "add-primary-key", (BLK, MF), "adds a primary key, building its index (and checking NOT NULL) under an exclusive lock",
         """# build a unique index concurrently (transaction = False), then make it the key (nothing is built then;
# a nullable column is also scanned for NULLs: see KS214)
db.schema.create_index("{table}_pkey_idx").on("{table}").columns({columns}).unique().concurrently().execute()
db.schema.alter_table("{table}").add_primary_key_constraint("{table}_pkey", using_index="{table}_pkey_idx").execute()""",
         recipes=(("mysql", """# MySQL rebuilds the table around the new key (MariaDB in place, reads and writes go on: kysera adds
# ALGORITHM=INPLACE, LOCK=NONE); it fails if the columns hold NULLs or duplicates: fix those first.
# Where the server blocks writes for it, run it when writers can wait, acknowledged:
allow_unsafe = ["KS211"]
db.schema.alter_table("{table}").add_primary_key_constraint("{constraint}", {columns}).execute()"""),)),
    Rule("KS212", "sqlite-table-rebuild", (BLK,), "rebuilds the table (copy, drop, rename) while holding SQLite's write lock",
         """# fine for small tables; for a large one, schedule it when writers can wait,
# or add a new nullable column instead of changing an existing one"""),
    Rule("KS213", "mysql-table-copy", (BLK,), "makes MySQL copy the table (ALGORITHM=COPY): writes are blocked until it finishes",
         """# for a large table use an online schema change tool (gh-ost, pt-online-schema-change),
# or expand / backfill / contract with a new column; to let MySQL copy the table in a quiet
# period, acknowledge it in the migration (kysera then adds no ALGORITHM/LOCK clause to it):
allow_unsafe = ["KS213"]"""),
    Rule("KS214", "primary-key-not-null-scan", (BLK,), "makes a unique index the primary key, scanning the table to set NOT NULL on a nullable column",
         """# PostgreSQL 12+: prove the column NOT NULL with a validated CHECK first; the key then takes no scan
sql('ALTER TABLE {table_q} ADD CONSTRAINT {column}_not_null CHECK ({column_q} IS NOT NULL) NOT VALID').execute(db)
# next migration (validated in the same transaction, the scan would hold the lock ADD CONSTRAINT took):
db.schema.alter_table("{table}").validate_constraint("{column}_not_null").execute()
db.schema.alter_table("{table}").add_primary_key_constraint("{table}_pkey", using_index="{index}").execute()"""),
    Rule("KS215", "table-rewrite", (BLK,), "rewrites the whole table under an ACCESS EXCLUSIVE lock (VACUUM FULL, CLUSTER, SET TABLESPACE, SET LOGGED/UNLOGGED): reads and writes wait until it ends",
         """# rebuild a large table online instead, outside the migration: pg_repack (or pg_squeeze)
# compacts or reorders it while reads and writes go on; a plain VACUUM needs no lock that
# stops them. To run it in a quiet period, acknowledge it in the migration:
allow_unsafe = ["KS215"]"""),
    Rule("KS216", "reindex-blocking", (BLK,), "rebuilds indexes without CONCURRENTLY: writes to the table wait, and reads that would use them",
         """# PostgreSQL 12+: rebuild them while reads and writes go on, in a migration of its own
# (kysera runs it outside a transaction, as REINDEX CONCURRENTLY requires):
sql('REINDEX {kind} CONCURRENTLY {index_or_table}').execute(db)"""),
    Rule("KS301", "rename-table", (BC,), "renames a table: code still using the old name fails",
         """# keep the table name and rename it in your code, or expand/contract through a view:
sql('CREATE VIEW {table_q} AS SELECT * FROM <new name>').execute(db)   # old name keeps working"""),
    Rule("KS302", "rename-column", (BC,), "renames a column: code still using the old name fails",
         """# add the new column, write both, backfill, move reads, then drop the old column:
db.schema.alter_table("{table}").add_column("<new name>", "<type>").execute()
db.backfill("{table}", set={{"<new name>": db.ref("{column}")}}, where=sql("<new name> IS NULL"))
# renaming as the last step of such a move, once no code uses either name? acknowledge it:
allow_unsafe = ["KS302"]"""),
    Rule("KS303", "add-not-null-column-without-default", (MF, BC), "adds a NOT NULL column without a default: fails on a table with rows (MySQL fills zero values)",
         """db.schema.alter_table("{table}").add_column("{column}", "<type>").execute()                  # nullable first
db.backfill("{table}", set={{"{column}": <value>}}, where=sql("{column} IS NULL"))
db.schema.alter_table("{table}").alter_column("{column}", lambda col: col.set_not_null()).execute()
# or give it a constant default: lambda col: col.not_null().default_to(<value>)""",
         recipes=(
             # SET NOT NULL on a large table scans it under ACCESS EXCLUSIVE (KS205): prove it first
             ("postgres", """db.schema.alter_table("{table}").add_column("{column}", "<type>").execute()                  # nullable first
db.backfill("{table}", set={{"{column}": <value>}}, where=sql("{column} IS NULL"))
# next migration: a check proves it, so SET NOT NULL skips its scan (PostgreSQL 12+)
sql('ALTER TABLE {table_q} ADD CONSTRAINT {column}_not_null CHECK ({column_q} IS NOT NULL) NOT VALID').execute(db)
# next migration (validated in the same transaction, the scan would hold the lock ADD CONSTRAINT took):
db.schema.alter_table("{table}").validate_constraint("{column}_not_null").execute()
db.schema.alter_table("{table}").alter_column("{column}", lambda col: col.set_not_null()).execute()
db.schema.alter_table("{table}").drop_constraint("{column}_not_null").execute()
# or give it a constant default (no rewrite on PostgreSQL 11+): lambda col: col.not_null().default_to(<value>)"""),
         )),
    Rule("KS304", "drop-not-null", (BC,), "allows NULL in a column: readers that assume a value may break", "# make sure every reader handles NULL before you deploy this"),
    Rule("KS305", "enum-change", (BC,), "changes an enum type: running code may not know the new value",
         """# add values at the end, and deploy code that understands a value before writing it"""),
    Rule("KS501", "concurrently-in-transaction", (NT,), "runs a statement that cannot run inside a transaction",
         """# kysera runs such a migration outside a transaction by itself; say so explicitly with:
transaction = False"""),
    Rule("KS502", "no-lock-timeout", (BLK,), "runs DDL without a lock timeout: a long wait for the lock queues every query behind it",
         """# keep the runner's lock timeout on (the default), e.g. create_migration_runner(..., statement_lock_timeout=5)"""),
    Rule("KS503", "several-blocking-statements-in-one-transaction", (BLK,), "holds an exclusive lock from an earlier statement while later statements run",
         """# split the migration: one blocking change per migration keeps each lock short"""),
    Rule("KS504", "backfill-in-ddl-transaction", (BLK,), "updates a large table inside the migration's DDL transaction: its locks are held until the whole update commits",
         """db.backfill("{table}", set={set}, where=sql({skip_done}), batch_size=10_000)   # batched, outside the DDL transaction"""),
    Rule("KS505", "large-update", (BLK,), "updates many rows in one statement: row locks are held until it commits, and replicas lag",
         """# batches that commit on their own; the where skips the rows done, so a rerun resumes
db.backfill("{table}", set={set}, where=sql({skip_done}), batch_size=10_000)"""),
    Rule("KS901", "unknown-statement", (REV,), "is raw SQL kysera could not classify: review it by hand", ""),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in _RULES}


def resolve_codes(codes: object, where: str) -> set[str]:
    """Validate a suppression list (codes or names); an unknown one is an error naming it."""
    from ..errors import ConfigurationError

    if codes is True:
        return set(RULES)
    if codes is None or codes is False:
        return set()
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list | tuple | set | frozenset):
        raise ConfigurationError(f"{where}: allow_unsafe must be True or a list of rule codes, got {codes!r}")
    out: set[str] = set()
    for raw in codes:
        key = str(raw).strip()
        rule = RULES.get(key.upper()) or RULES_BY_NAME.get(key.lower())
        if rule is None:
            raise ConfigurationError(
                f"{where}: unknown safety rule {raw!r}; known codes are KS101..KS901 (see docs/safety.md)"
            )
        out.add(rule.code)
    return out


def markdown_table() -> str:
    """The rule catalogue as the markdown table in docs/safety.md (a test keeps them equal)."""
    lines = ["| code | name | categories | what it means |", "|---|---|---|---|"]
    for rule in _RULES:
        cats = ", ".join(c.value for c in rule.categories)
        lines.append(f"| `{rule.code}` | `{rule.name}` | {cats} | {rule.summary} |")
    return "\n".join(lines)
