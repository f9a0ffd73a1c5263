"""The data side a migration uses (insert, select, update, delete, filters), on every engine:
what it matches, and that what it shows is what it runs."""

from __future__ import annotations

from kysera import Database, sql


def _rows(db: Database) -> None:
    db.execute("CREATE TABLE items (id integer PRIMARY KEY, kind varchar(10), tenant integer)")
    db.insert_into("items").values([{"id": i, "kind": k, "tenant": i % 2} for i, k in enumerate("abab", 1)]).execute()


def _ids(db: Database) -> list[int]:
    return sorted(int(r["id"]) for r in db.select_from("items").select("id").execute())  # type: ignore[call-overload]


def test_a_raw_filter_with_or_stays_one_term_next_to_other_wheres(db: Database) -> None:
    """AND binds tighter than OR: a raw fragment's OR must not swallow the other filters (it
    used to delete every row of every tenant here)."""
    _rows(db)
    assert len(db.select_from("items").where("tenant", "=", 1).where(sql("kind = 'a' OR kind = 'b'")).execute()) == 2
    assert db.select_from("items").where(sql("id = 2 OR id = 4")).where("id", "=", 1).execute().rows == []
    assert db.delete_from("items").where("tenant", "=", 1).where(sql("kind = 'a' OR kind = 'b'")).execute().rowcount == 2
    assert _ids(db) == [2, 4]


def test_empty_lists_in_filters_combine_like_any_other_term(db: Database) -> None:
    _rows(db)
    assert len(db.select_from("items").where("kind", "not in", []).execute()) == 4
    assert db.select_from("items").where("kind", "in", []).execute().rows == []
    assert db.delete_from("items").where("tenant", "=", 1).where("kind", "not in", []).execute().rowcount == 2
    assert db.update_table("items").set({"kind": "z"}).where({"tenant": 0}).where("kind", "in", []).execute().rowcount == 0
    assert _ids(db) == [2, 4]
