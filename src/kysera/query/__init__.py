"""Small data builders for data migrations: select, insert, update, delete."""
