"""Lazy package exports: names load on first use, so importing a package stays cheap."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<exports[name]>`` when ``name`` is first used.

    A submodule's name imports that submodule: the package imports its submodules for a type
    checker (under TYPE_CHECKING), so ``import kysera`` then ``kysera.errors.KyseraError``
    type-checks, and it must not then fail at run time because nothing has imported it yet."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            from importlib.util import find_spec  # not at start-up: only here

            # (a name that is no identifier, "a.b", is no submodule: find_spec would import "a")
            if name.isidentifier() and not name.startswith("__") and find_spec(f"{package}.{name}") is not None:
                return import_module(f"{package}.{name}")  # the import sets it on the package
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        namespace[name] = value  # the next lookup finds it without this function
        return value

    return __getattr__
