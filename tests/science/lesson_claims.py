"""Every lesson's claims as the science tests judge them: the checks are reglab.claims (the
server judges a class poll on a claim with the same ones); here, what the tests saw of them.
"""

from reglab.claims import CHECKS, Check, Seen, Variants
from reglab.presets import get_lesson

__all__ = ["CHECKS", "ON_MEANS_ONLY", "TALLY", "Check", "Seen", "Variants", "claims_of"]

# What the claim tests saw, for the summary at the end of the session (tests/science/conftest.py):
# (lesson, claim index) -> {"one run" or "mean of R": [(seed setting, Seen), ...]}.
TALLY: dict[tuple[str, int], dict[str, list[tuple[int, Seen]]]] = {}


# Lessons whose claims are about replicate means (a sweep's U): judged on the mean over the
# lesson's replicates on each seed setting. The others are judged on one run per variant too.
ON_MEANS_ONLY = frozenset({"dropout-sweep", "l2-sweep"})


def claims_of(lesson: str) -> list[tuple[str, Check]]:
    """The lesson's claim sentences, each with its check."""
    claims, checks = get_lesson(lesson).spec.claims, CHECKS[lesson]
    assert len(claims) == len(checks), f"{lesson}: {len(claims)} claims, {len(checks)} checks"
    return list(zip(claims, checks, strict=True))
