"""Splitting a group over idle workers and merging small ones: who trains with whom."""

from __future__ import annotations

from reglab.spec import ExperimentSpec
from reglab.training.plan import Group, Member, plan, split


def lesson(repeats: int, variants: int = 3, seed: int = 0) -> Group:
    exp = ExperimentSpec.model_validate(
        {
            "repeats": repeats,
            "base": {"train": {"seed": seed}, "model": {"init_seed": seed}},
            "variants": [
                {"name": f"v{i}", "override": {"regularization": {"l2": 0.01 * i}}}
                for i in range(variants)
            ],
        }
    )
    members = [Member(seed * 100 + i, p.name, p.spec) for i, p in enumerate(exp.members())]
    (group,) = plan(members)
    return group


def ids(groups: list[Group]) -> list[list[int]]:
    return [g.run_ids for g in groups]


def test_replicates_split_by_seed_so_variants_keep_sharing_batches() -> None:
    group = lesson(repeats=4)  # 3 variants × 4 replicates, four seeds
    halves = split(group, 2)
    assert sorted(len(h.members) for h in halves) == [6, 6]
    for half in halves:
        seeds = {m.spec.train.seed for m in half.members}
        assert len(seeds) == 2  # two replicates, each with all three variants
    assert sorted(i for h in halves for i in h.run_ids) == sorted(group.run_ids)


def test_seeds_that_cannot_split_evenly_give_way_to_even_parts() -> None:
    group = lesson(repeats=5, variants=6)  # 30 members, five seeds: 18 + 12 by seed
    halves = split(group, 2)
    assert [len(h.members) for h in halves] == [15, 15]
    assert [i for h in halves for i in h.run_ids] == group.run_ids


def test_one_seed_splits_into_near_equal_chunks_in_order() -> None:
    group = lesson(repeats=1, variants=5)
    assert ids(split(group, 2)) == [[0, 1, 2], [3, 4]]
    assert ids(split(group, 9)) == [[0], [1], [2], [3], [4]]
    assert split(group, 1) == [group]
