"""runs that share a computation point at its rows instead of holding copies

Revision ID: 0005
Revises: 0004

A run served from an identical one (`shared_from`) used to get a copy of every epoch, snapshot
and event-log entry; now it reads the rows of the run it names. This keeps the copies only where
pointing could not stand in for them (the named run is gone, is in the same experiment, or is
itself a copy: those runs keep their rows and no longer name another), collapses pointers to the
run that holds the rows, and deletes the other copies.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SHARED = "shared_from IS NOT NULL"
_NUMBERS = "('epoch', 'snapshot')"


def upgrade() -> None:
    run = op.get_bind().execute
    for _ in range(64):  # a chain of copies of copies collapses one link per pass
        collapsed = run(
            sa.text(
                "UPDATE run SET shared_from = (SELECT h.shared_from FROM run h "
                "WHERE h.id = run.shared_from) WHERE shared_from IN "
                f"(SELECT id FROM run WHERE {_SHARED})"
            )
        )
        if not collapsed.rowcount:
            break
    run(
        sa.text(
            f"UPDATE run SET shared_from = NULL WHERE {_SHARED} AND ("
            "shared_from NOT IN (SELECT id FROM run) OR experiment_id = "
            "(SELECT h.experiment_id FROM run h WHERE h.id = run.shared_from))"
        )
    )
    followers = f"(SELECT id FROM run WHERE {_SHARED})"
    run(sa.text(f"DELETE FROM epoch_metric WHERE run_id IN {followers}"))
    run(sa.text(f"DELETE FROM snapshot WHERE run_id IN {followers}"))
    run(sa.text(f"DELETE FROM event_log WHERE type IN {_NUMBERS} AND run_id IN {followers}"))


def downgrade() -> None:
    """Give every sharing run a copy of its numbers again (epochs and snapshots; its stream
    from the event log then lacks them, as a 0004 server never made it show them)."""
    run = op.get_bind().execute
    for table, key in (("epoch_metric", "run_id"), ("snapshot", "run_id")):
        columns = [
            c["name"] for c in sa.inspect(op.get_bind()).get_columns(table) if c["name"] != key
        ]
        names = ", ".join(columns)
        picked = ", ".join(f"t.{c}" for c in columns)
        run(
            sa.text(
                f"INSERT INTO {table} ({key}, {names}) SELECT f.id, {picked} FROM run f "
                f"JOIN {table} t ON t.{key} = f.shared_from WHERE f.{_SHARED}"
            )
        )
