"""Add profile columns to users."""

from kysera import Database


def up(db: Database) -> None:
    db.schema.alter_table("users").add_column("avatar_url", "varchar(500)").add_column("bio", "text").execute()


def down(db: Database) -> None:
    db.schema.alter_table("users").drop_column("avatar_url").drop_column("bio").execute()
