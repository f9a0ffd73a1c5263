"""Give posts a category (the guide's "Adding Foreign Keys")."""

from kysera import Database


def up(db: Database) -> None:
    db.schema.alter_table("posts").add_column("category_id", "integer").execute()
    (
        db.schema.alter_table("posts")
        .add_foreign_key_constraint("fk_posts_category", ["category_id"], "categories", ["id"])
        .on_delete("set null")
        .execute()
    )


def down(db: Database) -> None:
    db.schema.alter_table("posts").drop_constraint("fk_posts_category").execute()
    db.schema.alter_table("posts").drop_column("category_id").execute()
