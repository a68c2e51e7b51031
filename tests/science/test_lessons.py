"""Every lesson shows what it claims: on the lesson as shipped and on other seed settings.

Seed setting s sets data.seed = model.init_seed = train.seed = s in the lesson's base, and
trains the lesson as shipped (all its variants and replicates). Setting 0 is the shipped lesson.
Which settings: REGLAB_SCIENCE_SEEDS (`make test`: 0,3,6; `make science`: 0-8).

- A claim about one run (overfitting, l1-vs-l2, optimizers, vanishing-gradients, adamw-vs-l2)
  must hold on the single run of each variant (replicate 0) on every setting but one in nine:
  of nine settings, eight; of three, all three.
- A lesson with repeats must also show it on its replicate means, on every setting; a sweep's
  claims (a U of the mean) are judged on the replicate means only.
"""

import pytest
from lesson_claims import CHECKS, ON_MEANS_ONLY, TALLY, claims_of
from reglab.presets import LESSONS
from science_runs import science_seeds, train_lesson

SEEDS = science_seeds()
MISSES_ALLOWED = len(SEEDS) // 9

# The first claim of a lesson trains it on every setting (the others reuse those runs): allow
# 300 s per setting on a busy machine, beyond the suite's 300 s guard against a hang.
CASES = [
    pytest.param(
        lesson,
        i,
        id=f"{lesson}-{i + 1}",
        marks=[pytest.mark.slow, pytest.mark.timeout(300 * len(SEEDS))],
    )
    for lesson, spec in ((name, lesson.spec) for name, lesson in LESSONS.items())
    for i in range(len(spec.claims))
]


def test_every_lesson_states_claims_and_each_claim_has_a_check() -> None:
    assert set(CHECKS) == set(LESSONS)
    for name in LESSONS:
        assert claims_of(name), f"{name} states no claim"


@pytest.mark.parametrize(("lesson", "index"), CASES)
def test_the_lesson_claim_holds_on_the_seed_settings(lesson: str, index: int) -> None:
    claim, check = claims_of(lesson)[index]
    repeats = LESSONS[lesson].spec.repeats
    single_misses, mean_misses = [], []
    for seed in SEEDS:
        trained = train_lesson(lesson, seed)
        tally = TALLY.setdefault((lesson, index), {})
        if lesson not in ON_MEANS_ONLY:
            seen = check({name: runs[:1] for name, runs in trained.variants.items()})
            tally.setdefault("one run", []).append((seed, seen))
            if not seen.holds:
                single_misses.append(f"seed setting {seed}: {seen.what}")
        if repeats > 1:
            seen = check(trained.variants)
            tally.setdefault(f"mean of {repeats}", []).append((seed, seen))
            if not seen.holds:
                mean_misses.append(f"seed setting {seed}: {seen.what}")
    assert not mean_misses, f"{claim!r} fails on the replicate means: {mean_misses}"
    assert len(single_misses) <= MISSES_ALLOWED, (
        f"{claim!r} fails on {len(single_misses)} of {len(SEEDS)} seed settings "
        f"(at most {MISSES_ALLOWED} allowed): {single_misses}"
    )


@pytest.mark.slow
def test_early_stopping_is_the_run_without_a_remedy_until_it_stops() -> None:
    # Why early stopping's claim is about where its curve ends: it cannot lower the lowest
    # validation loss, since until it stops it is the same run as none (same seeds, batches).
    runs = train_lesson("overfitting", 0).variants
    for none, stopped in zip(runs["none"], runs["early-stopping"], strict=True):
        assert stopped.summary is not None and none.summary is not None
        assert stopped.summary.status == "stopped_early"
        assert stopped.summary.epochs_run < none.summary.epochs_run
        shared = len(stopped.epochs)
        assert [e.val_loss for e in stopped.epochs] == pytest.approx(
            [e.val_loss for e in none.epochs[:shared]], abs=1e-6
        )
        lowest_before_the_stop = min(e.val_loss for e in none.epochs[:shared])
        assert stopped.summary.best_val_loss == pytest.approx(lowest_before_the_stop, abs=1e-6)
