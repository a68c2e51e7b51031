"""L1 against L2 by weight size, on the l1-vs-l2 lesson's own runs (science_runs' cache).

The weights are grouped by their size at initialization (smallest, middle, largest third of a
member's weights; the histogram snapshots' `by_third`), and each third's mean |w| followed.
The lecture: L2 multiplies every weight by the same factor, L1 subtracts the same amount, so a
small weight shrinks fast under L1 and reaches zero. Its "a large weight shrinks faster under
L2" does not show in this lesson and is not checked: the two cross at |w| = λ1/λ2 = 0.5, above
even the largest third (mean |w| 0.31 at the start), so L1 shrinks every third faster; on seed
settings 0–8 the largest third kept 0.84 of its size under L1 after 10 epochs, 0.90–0.91 under
L2 (0 of 9). Like a lesson claim, each check may miss on one seed setting in nine.
"""

import pytest
from science_runs import Run, science_seeds, train_lesson

SEEDS = science_seeds()
MISSES_ALLOWED = len(SEEDS) // 9
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300 * len(SEEDS))]


def _kept(run: Run, epoch: int) -> list[float]:
    """Each third's mean |w| at `epoch` over its mean at initialization."""
    return [run.by_third[epoch][t] / run.by_third[0][t] for t in range(3)]


def _misses(check) -> list[str]:
    misses = []
    for seed in SEEDS:
        v = train_lesson("l1-vs-l2", seed).variants
        holds, what = check(v["l1"][0], v["l2"][0])
        if not holds:
            misses.append(f"seed setting {seed}: {what}")
    return misses


def test_l2_takes_the_same_share_from_every_third() -> None:
    def check(l1: Run, l2: Run) -> tuple[bool, str]:
        kept = _kept(l2, 10)
        spread = max(kept) - min(kept)
        return spread < 0.05, f"l2 keeps {kept} after 10 epochs (spread {spread:.3f} ≥ 0.05)"

    misses = _misses(check)
    assert len(misses) <= MISSES_ALLOWED, misses


def test_l1_takes_the_largest_share_from_the_smallest_third() -> None:
    def check(l1: Run, l2: Run) -> tuple[bool, str]:
        kept = _kept(l1, 10)
        return kept[0] < kept[1] < kept[2], f"l1 keeps {kept} after 10 epochs (not increasing)"

    misses = _misses(check)
    assert len(misses) <= MISSES_ALLOWED, misses


def test_the_smallest_third_reaches_zero_under_l1_and_not_under_l2() -> None:
    def check(l1: Run, l2: Run) -> tuple[bool, str]:
        end = max(l1.by_third)
        a, b = _kept(l1, end)[0], _kept(l2, end)[0]
        return a < 0.1 < b, f"the smallest third keeps {a:.3f} under l1, {b:.3f} under l2"

    misses = _misses(check)
    assert len(misses) <= MISSES_ALLOWED, misses
