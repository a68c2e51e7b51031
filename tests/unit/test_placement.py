"""Where waiting groups go: split over idle workers, merged when workers are short, given back
for a user under their share — decided from the waiting and running lists alone."""

from __future__ import annotations

from typing import Any

from reglab.jobs.placement import (
    Job,
    merge_into,
    next_to_start,
    overdue,
    split_for_idle,
    to_give_back,
    withdraw,
)
from reglab.spec import RunSpec
from reglab.training.plan import Group, Member

SPEC = RunSpec.model_validate({})
OTHER_NET = RunSpec.model_validate({"model": {"hidden": [8]}})
ids = iter(range(1, 10_000))


def job(owner: str, order: int, size: int = 1, spec: RunSpec = SPEC, **fields: Any) -> Job:
    """A job of `size` one-seed members, each a run of its own."""
    members = tuple(Member(next(ids), f"v{i}", spec) for i in range(size))
    return Job(f"g{order}", order, owner, Group(members), order, **fields)


def test_the_owner_with_fewest_groups_training_starts_next_then_the_oldest() -> None:
    running = [job("ada", 1), job("ada", 2, preempted=True)]
    waiting = [job("ada", 3), job("bob", 5), job("cy", 4)]
    assert next_to_start(waiting, running).group_id == "g4"  # bob and cy have none: cy is older
    running.append(job("cy", 6))
    assert next_to_start(waiting, running).group_id == "g5"
    # A group already given back no longer counts against its owner.
    assert next_to_start([job("ada", 7), job("bob", 8)], [job("bob", 9)]).owner == "ada"


def test_the_largest_waiting_group_splits_over_idle_workers_and_keeps_its_runs_state() -> None:
    big = job("ada", 1, size=4)
    first, *_, last = big.group.run_ids
    big.cancelled, big.replay = {last}, {first: 7}

    pieces = split_for_idle([big], free=2)

    assert [p.group_id for p in pieces] == ["g1.1", "g1.2"]
    assert sorted(r for p in pieces for r in p.group.run_ids) == sorted(big.group.run_ids)
    by_run = {r: p for p in pieces for r in p.group.run_ids}
    assert by_run[first].replay == {first: 7} and by_run[first].cancelled == set()
    assert by_run[last].cancelled == {last} and by_run[last].replay == {}
    assert big.group_id == "g1" and len(big.group.members) == 4, "the original is untouched"


def test_nothing_splits_when_every_free_worker_has_a_waiting_group() -> None:
    waiting = [job("ada", 1, size=4), job("bob", 2, size=2)]
    assert split_for_idle(waiting, free=2) == waiting
    assert split_for_idle(waiting, free=0) == waiting
    assert [len(p.group.members) for p in split_for_idle(waiting, free=3)] == [2, 2, 2]


def test_small_groups_on_one_net_merge_up_to_the_cap_while_workers_are_short() -> None:
    starting = job("ada", 1, size=2)
    waiting = [job("cy", 4, size=2), job("bob", 2, size=3), job("dee", 3, size=2, spec=OTHER_NET)]
    waiting.append(job("eve", 5, size=1))

    joining = merge_into(starting, waiting, free=1, cap=6)

    # In queue order: bob's 3 fit (5), cy's 2 would make 7, dee's net differs, eve's 1 fits (6).
    assert [j.owner for j in joining] == ["bob", "eve"]
    assert len(starting.group.members) == 2, "the starting job is left to the caller to change"


def test_groups_do_not_merge_with_idle_workers_a_cap_of_one_or_a_replay() -> None:
    starting = job("ada", 1, size=2)
    waiting = [job("bob", 2, size=2), job("cy", 3, size=2)]
    assert merge_into(starting, waiting, free=3, cap=24) == []  # each can have a worker
    assert merge_into(starting, waiting, free=1, cap=1) == []
    replaying = job("ada", 4, size=2, replay={1: 3})
    assert merge_into(replaying, waiting, free=1, cap=24) == []
    waiting.append(job("dee", 5, size=2, replay={9: 2}))
    assert [j.owner for j in merge_into(starting, waiting, free=1, cap=24)] == ["bob", "cy"]


def test_the_newest_group_of_the_user_furthest_over_their_share_is_given_back() -> None:
    running = [
        job("ada", 1, started=1.0),
        job("ada", 2, started=3.0),
        job("ada", 3, started=2.0),
        job("bob", 4, started=0.5),
        job("bob", 5, started=0.7),
    ]
    waiting = [job("cy", 6), job("dee", 7), job("ada", 8)]

    chosen = to_give_back(running, waiting, share=1)

    # cy and dee wait under their share (ada is over it): two go, ada's newest, then a tie
    # of two each, which goes to the first owner counted (ada) at its newest left.
    assert [j.group_id for j in chosen] == ["g2", "g3"]
    assert not any(j.preempted for j in running), "marking them is the scheduler's"


def test_groups_already_leaving_count_and_users_within_their_share_keep_theirs() -> None:
    running = [job("ada", 1, started=1.0), job("ada", 2, started=2.0, preempted=True)]
    waiting = [job("bob", 3)]
    assert to_give_back(running, waiting, share=1) == []  # one is already on its way out
    assert to_give_back([job("ada", 1), job("bob", 2)], [job("cy", 3)], share=1) == []
    assert to_give_back([job("ada", 1), job("ada", 2)], [], share=1) == []


def test_cancelled_runs_leave_the_queue_and_an_emptied_group_leaves_with_them() -> None:
    kept, emptied, untouched = job("ada", 1, size=3), job("bob", 2, size=1), job("cy", 3, size=2)
    a1, a2, a3 = kept.group.run_ids
    [b1] = emptied.group.run_ids

    left, taken = withdraw([kept, emptied, untouched], {a3, a1, b1, 99_999})

    assert taken == [a1, a3, b1]
    assert [j.group_id for j in left] == ["g1", "g3"]
    assert left[0].group.run_ids == [a2] and left[1] is untouched
    assert withdraw([untouched], {a2}) == ([untouched], [])


def test_a_group_is_overdue_once_it_has_trained_past_the_limit_and_only_once() -> None:
    running = [
        job("ada", 1, started=0.0),
        job("bob", 2, started=5.0),
        job("cy", 3, started=0.0, expired=True),
        job("dee", 4),  # not started yet
    ]
    assert [j.group_id for j in overdue(running, now=10.0, limit=6.0)] == ["g1"]
    assert [j.group_id for j in overdue(running, now=11.5, limit=6.0)] == ["g1", "g2"]
    assert overdue(running, now=6.0, limit=6.0) == []
