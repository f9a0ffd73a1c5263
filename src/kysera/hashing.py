"""sha256 without loading OpenSSL: kysera hashes migration files and lock names at start-up."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Protocol


class Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


def sha256(data: bytes = b"") -> Hash:
    """A sha256 hash object: CPython's own implementation when it has one.

    ``hashlib`` loads OpenSSL first, which costs more than hashing a hundred migration files
    (``kysera migrate status`` does that on every start); the digests are the same.
    """
    global _SHA256
    if _SHA256 is None:
        for module in ("_sha2", "_sha256"):  # Python 3.12+, 3.11
            try:
                _SHA256 = import_module(module).sha256
                break
            except (ImportError, AttributeError):
                continue
        else:
            from hashlib import sha256 as _SHA256
    return _SHA256(data)  # type: ignore[no-any-return]


_SHA256: Any = None
