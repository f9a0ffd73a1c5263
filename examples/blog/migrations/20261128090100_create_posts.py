"""Create the posts table and its indexes."""

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
    db.schema.create_index("idx_posts_user_id").on("posts").column("user_id").execute()
    db.schema.create_index("idx_posts_status").on("posts").column("status").execute()


def down(db: Database) -> None:
    db.schema.drop_table("posts").execute()
