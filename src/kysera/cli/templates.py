"""The files ``kysera migrate create`` writes."""

from __future__ import annotations

PYTHON = '''\
"""{name}

Created {created} UTC by kysera migrate create.
"""

from kysera import Database, sql


def up(db: Database) -> None:
    # (
    #     db.schema.create_table("users")
    #     .add_column("id", "serial", lambda col: col.primary_key())
    #     .add_column("email", "varchar(255)", lambda col: col.not_null().unique())
    #     .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
    #     .execute()
    # )
    pass


def down(db: Database) -> None:
    # db.schema.drop_table("users").execute()
    pass
'''

SQL = """\
-- {name}
-- Created {created} UTC by kysera migrate create.

-- migrate:up
-- CREATE TABLE users (id integer PRIMARY KEY, email varchar(255) NOT NULL);


-- migrate:down
-- DROP TABLE users;
-- (left without SQL, this migration cannot be rolled back)

"""
