"""Identities: a display name bound to the hash of its secret (no password, no account)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reglab.store import tables
from reglab.store.apply import now


class IdentityQueries:
    """Mixed into store.repo.Store: these use its transactions and its write lock."""

    write_lock: threading.RLock

    def _tx(self) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def bind_name(self, name: str, token_hash: str) -> bool:
        """Bind `name` to a secret's hash; False (and nothing changed) if it is bound already."""
        with self.write_lock, self._tx() as s:
            if s.get(tables.Identity, name) is not None:
                return False
            s.add(tables.Identity(name=name, token_hash=token_hash, created_at=now()))
            return True

    def name_of(self, token_hash: str) -> str | None:
        """The name a secret's hash is bound to, if any."""
        with self._tx() as s:
            name: str | None = s.scalar(
                select(tables.Identity.name).where(tables.Identity.token_hash == token_hash)
            )
            return name

    def is_bound(self, name: str) -> bool:
        with self._tx() as s:
            return s.get(tables.Identity, name) is not None

    def unbind_name(self, name: str) -> bool:
        """Forget `name`'s secret (the teacher's reset); False if it had none."""
        with self.write_lock, self._tx() as s:
            done = s.execute(delete(tables.Identity).where(tables.Identity.name == name))
            return bool(done.rowcount)  # type: ignore[attr-defined]
