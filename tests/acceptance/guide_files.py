"""The guide's migration examples, written as the Python migration files a user would write."""

from __future__ import annotations

import textwrap
from pathlib import Path

CREATE_USERS = '''
from kysera import Database, sql


def up(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("email", "varchar(255)", lambda col: col.not_null().unique())
        .add_column("name", "varchar(100)", lambda col: col.not_null())
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .execute()
    )


def down(db: Database) -> None:
    db.schema.drop_table("users").execute()
'''

CREATE_POSTS = '''
from kysera import Database, sql


def up(db: Database) -> None:
    (
        db.schema.create_table("posts")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("user_id", "integer", lambda col: col.not_null().references("users.id").on_delete("cascade"))
        .add_column("title", "varchar(255)", lambda col: col.not_null())
        .add_column("content", "text")
        .add_column("status", "varchar(20)", lambda col: col.not_null().default_to("draft"))
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .add_column("updated_at", "timestamp")
        .execute()
    )
    # Create indexes
    db.schema.create_index("idx_posts_user_id").on("posts").column("user_id").execute()
    db.schema.create_index("idx_posts_status").on("posts").column("status").execute()


def down(db: Database) -> None:
    db.schema.drop_table("posts").execute()
'''

ADD_USER_COLUMNS = '''
from kysera import Database


def up(db: Database) -> None:
    db.schema.alter_table("users").add_column("avatar_url", "varchar(500)").add_column("bio", "text").execute()


def down(db: Database) -> None:
    db.schema.alter_table("users").drop_column("avatar_url").drop_column("bio").execute()
'''

WIDEN_USER_NAME = '''
from kysera import Database


def up(db: Database) -> None:
    db.schema.alter_table("users").alter_column("name", lambda col: col.set_data_type("varchar(200)")).execute()


def down(db: Database) -> None:
    db.schema.alter_table("users").alter_column("name", lambda col: col.set_data_type("varchar(100)")).execute()
'''

ADD_USERNAME = '''
from kysera import Database


def up(db: Database) -> None:
    db.schema.alter_table("users").add_column("username", "varchar(50)").execute()


def down(db: Database) -> None:
    db.schema.alter_table("users").drop_column("username").execute()
'''

ADD_INDEXES = '''
from kysera import Database


def up(db: Database) -> None:
    # Simple index
    db.schema.create_index("idx_users_email").on("users").column("email").execute()
    # Composite index
    db.schema.create_index("idx_posts_created_user").on("posts").columns(["created_at", "user_id"]).execute()
    # Unique index
    db.schema.create_index("idx_users_username").on("users").column("username").unique().execute()


def down(db: Database) -> None:
    db.schema.drop_index("idx_users_username").on("users").execute()
    db.schema.drop_index("idx_posts_created_user").on("posts").execute()
    db.schema.drop_index("idx_users_email").on("users").execute()
'''

CREATE_CATEGORIES = '''
from kysera import Database


def up(db: Database) -> None:
    (
        db.schema.create_table("categories")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("name", "varchar(100)", lambda col: col.not_null())
        .execute()
    )
    db.schema.alter_table("posts").add_column("category_id", "integer").execute()


def down(db: Database) -> None:
    db.schema.alter_table("posts").drop_column("category_id").execute()
    db.schema.drop_table("categories").execute()
'''

ADD_POSTS_CATEGORY_FK = '''
from kysera import Database


def up(db: Database) -> None:
    (
        db.schema.alter_table("posts")
        .add_foreign_key_constraint("fk_posts_category", ["category_id"], "categories", ["id"])
        .on_delete("set null")
        .execute()
    )


def down(db: Database) -> None:
    db.schema.alter_table("posts").drop_constraint("fk_posts_category").execute()
'''

GUIDE_FILES = {
    "001_create_users.py": CREATE_USERS,
    "002_create_posts.py": CREATE_POSTS,
    "003_add_users_profile.py": ADD_USER_COLUMNS,
    "004_widen_users_name.py": WIDEN_USER_NAME,
    "005_add_users_username.py": ADD_USERNAME,
    "006_add_indexes.py": ADD_INDEXES,
    "007_create_categories.py": CREATE_CATEGORIES,
    "008_add_posts_category_fk.py": ADD_POSTS_CATEGORY_FK,
}
GUIDE_NAMES = [name.removesuffix(".py") for name in GUIDE_FILES]


def write_migrations(folder: Path, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files if files is not None else GUIDE_FILES).items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder
