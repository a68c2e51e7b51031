"""A history is one snapshot: its rows are exactly those of the events up to its cursor, even
when the writer commits more epochs while it is being read (a page opening a live run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reglab.events import EpochEvent
from reglab.spec import ExperimentSpec
from reglab.store.log import EventLog
from reglab.store.repo import Store
from sqlalchemy import event


def epoch(run_id: int, n: int) -> EpochEvent:
    return EpochEvent(run_id, n, 0.5, 0.6, None, None, 0.1, 2.0, 1.0, 0.0, [0.3], 0.01, 1.0)


def test_epochs_committed_while_a_history_is_read_are_neither_in_it_nor_under_its_cursor(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'reglab.db'}"
    reader, writer = Store(url), Store(url)  # two connections to one file, as server and CLI
    experiment, _ = writer.create_experiment(
        owner="ada", spec=ExperimentSpec.model_validate({"name": "live"})
    )
    run = experiment.runs[0].id
    EventLog(writer).record([epoch(run, 1), epoch(run, 2)])
    before = reader.history_cursor(experiment.id)
    wrote: list[int] = []

    # The one thing isolated: the moment. Epoch 3 commits after the history has begun reading
    # (its cursor read) and before it reads the rows, as the pump may commit at any time.
    def commit_between(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not wrote and "FROM epoch_metric" in statement:
            wrote.extend(m.seq for m in EventLog(writer).record([epoch(run, 3)]))

    event.listen(reader.engine, "before_cursor_execute", commit_between)
    try:
        cursor, columns = reader.history_columns(experiment.id)
    finally:
        event.remove(reader.engine, "before_cursor_execute", commit_between)
    assert wrote and wrote[0] > before  # the write did happen in between
    # Epoch 3 is either in the history and under its cursor, or in neither: a stream resuming
    # from the cursor then sends each epoch exactly once.
    assert (columns[run]["epoch"], cursor) == ([1, 2], before)
    # And the next read sees it, under the new cursor.
    later, columns = reader.history_columns(experiment.id)
    assert (columns[run]["epoch"], later) == ([1, 2, 3], wrote[0])
    reader.close()
    writer.close()
