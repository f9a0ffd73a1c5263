from kysera import Database, sql


def test_guide_users_table(db: Database) -> None:
    (
        db.schema.create_table("users")
        .add_column("id", "serial", lambda col: col.primary_key())
        .add_column("email", "varchar(255)", lambda col: col.not_null().unique())
        .add_column("created_at", "timestamp", lambda col: col.not_null().default_to(sql("CURRENT_TIMESTAMP")))
        .execute()
    )
    db.insert_into("users").values([{"email": "a@example.com"}, {"email": "b@example.com"}]).execute()
    rows = db.select_from("users").select(["id", "email"]).order_by("id").fetch_all()
    assert [r["id"] for r in rows] == [1, 2]


def test_the_top_level_names_import() -> None:
    import kysera
    from kysera.schema import enum_type

    assert kysera.enum_type is enum_type
    for name in kysera.__all__:
        assert getattr(kysera, name) is not None, name


def test_a_fragment_shows_its_text_values_and_literals() -> None:
    assert repr(sql("SELECT {} AS n", 5)) == "sql('SELECT {} AS n', 5)"
    assert repr(sql.lit("it's")) == "sql(\"'it''s'\")"
    assert repr(sql.ref("users.email")) == "sql('users.email')"
    assert repr(sql("a {} b {}", sql.lit(3), "x")) == "sql('a 3 b {}', 'x')"


def test_a_fragment_repr_reads_back_as_the_same_fragment() -> None:
    original = sql("SELECT {} AS j, '{{}}' AS lit", 1)
    assert repr(original) == "sql(\"SELECT {} AS j, '{{}}' AS lit\", 1)"
    assert repr(eval(repr(original), {"sql": sql})) == repr(original)


def test_lazily_exported_names_are_the_names_a_type_checker_sees() -> None:
    """kysera and the packages of it that load names on first use through a module
    __getattr__, which a type checker does not see (a misspelt import then typed as Any): each
    name the loader serves is imported under TYPE_CHECKING and listed in __all__, and nothing else."""
    import ast
    import importlib
    from pathlib import Path

    root = Path(importlib.import_module("kysera").__file__ or "").parent
    packages = [
        ".".join(("kysera", *path.parent.relative_to(root).parts))
        for path in root.rglob("__init__.py")
        if "lazy_exports(" in path.read_text()
    ]
    assert {"kysera", "kysera.migrations", "kysera.testing", "kysera.safety", "kysera.schema"} <= set(packages)
    for package in packages:
        module = importlib.import_module(package)
        tree = ast.parse(Path(module.__file__ or "").read_text())
        typed: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                for stmt in node.body:
                    if isinstance(stmt, ast.ImportFrom):
                        typed.update(alias.asname or alias.name for alias in stmt.names)
        served = set(module._EXPORTS)
        assert served == typed, (package, served ^ typed)
        assert set(module.__all__) == served, (package, set(module.__all__) ^ served)
        for name in served:
            assert getattr(module, name) is not None


def test_a_submodule_a_type_checker_sees_on_the_package_is_there_at_run_time() -> None:
    """``import kysera`` then ``kysera.errors.KyseraError``: a type checker accepts it (the package
    imports its submodules under TYPE_CHECKING), so it must work in a fresh process, where
    nothing has imported kysera.errors yet (it failed, typically in an ``except`` clause)."""
    import subprocess
    import sys

    code = (
        "import kysera\n"
        "assert kysera.errors.KyseraError.__name__ == 'KyseraError'\n"
        "assert callable(kysera.migrations.load_migrations)\n"
        "assert callable(kysera.migrations.errors.DriftError)\n"
        "assert callable(kysera.schema.column.enum_type)\n"
        "try:\n"
        "    kysera.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert str(error) == \"module 'kysera' has no attribute 'no_such_name'\", error\n"
        "else:\n"
        "    raise AssertionError('kysera.no_such_name')\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "ok", run.stderr


def test_a_dotted_name_asked_of_a_lazy_package_is_an_attribute_error() -> None:
    """getattr(kysera, "no_such.x") (hasattr, pkgutil.resolve_name) raised ModuleNotFoundError
    from the submodule lookup, which hasattr does not catch: no attribute has a dot."""
    import kysera
    import kysera.migrations

    assert not hasattr(kysera, "no_such.x")
    assert not hasattr(kysera.migrations, "errors.x")
