"""After the science tests: on how many seed settings each lesson claim held, and the lessons'
training times (`make science` prints this for all nine settings)."""

import pytest
from lesson_claims import TALLY
from reglab.presets import LESSONS
from science_runs import train_lesson


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    write = terminalreporter.write_line
    terminalreporter.section("lesson claims: seed settings on which each holds")
    for (lesson, index), by_kind in sorted(TALLY.items()):
        claim = LESSONS[lesson].spec.claims[index]
        counts = ", ".join(
            f"{kind}: {sum(seen.holds for _, seen in results)}/{len(results)}"
            for kind, results in by_kind.items()
        )
        write(f"{lesson} #{index + 1} [{counts}] {claim}")
        for kind, results in by_kind.items():
            for seed, seen in results:
                mark = "ok  " if seen.holds else "MISS"
                write(f"    {mark} {kind}, seed setting {seed}: {seen.what}")
    trained = train_lesson.cache_info().currsize
    if trained:
        terminalreporter.section("lesson training times, one thread: CPU s (wall s)")
        for lesson in LESSONS:
            seeds = sorted(
                {
                    s
                    for (name, _), kinds in TALLY.items()
                    if name == lesson
                    for results in kinds.values()
                    for s, _ in results
                }
            )
            runs = [train_lesson(lesson, seed) for seed in seeds]
            if runs:
                cpu, wall = [r.cpu_seconds for r in runs], [r.seconds for r in runs]
                write(
                    f"{lesson}: {min(cpu):.1f}–{max(cpu):.1f} ({min(wall):.1f}–{max(wall):.1f}) "
                    f"over seed settings {seeds}"
                )
