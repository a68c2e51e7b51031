"""A class clicking the same lesson: identical runs computed once (issue 11).

A real server in this process (uvicorn, a SQLite file, 2 warm spawned workers, sharing on):
1. one student runs the lesson alone: T1;
2. on a fresh server, 40 students submit the same lesson within a few seconds: makespan T40
   (target T40 <= 1.5 x T1; without sharing it is about 40 / 2 = 20 x), and every student's runs
   hold the same numbers as the first student's;
3. for scale, 6 students without sharing (each computes): makespan T6'.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from reglab.api.app import create_app
from reglab.config import Settings

from tests.support import FINAL, Api, start_uvicorn, wait_for

LESSON = "overfitting"
STUDENTS = 40


def _server(tmp: Path, share: bool) -> tuple[Api, Any]:
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'reglab.db'}",
        workers=2,
        share_runs=share,
    )
    served = start_uvicorn(create_app(settings))
    api = Api(served.url)
    wait_for(lambda: api.http.get("/api/health").json()["workers_ready"] == 2, 120, "workers")
    return api, served


def _class(api: Api, students: int) -> tuple[float, list[dict[str, Any]]]:
    """Submit the lesson as `students` students at once; seconds until all finished."""
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        created = list(
            pool.map(lambda i: api.submit({"lesson": LESSON}, user=f"s{i}"), range(students))
        )

    def done() -> list[dict[str, Any]] | None:
        exps = [api.experiment(e["id"]) for e in created]
        return exps if all(r["status"] in FINAL for e in exps for r in e["runs"]) else None

    finished: list[dict[str, Any]] = wait_for(done, 3600, "the class to finish")
    return time.perf_counter() - started, finished


def _finals(exp: dict[str, Any]) -> list[float]:
    return [r["summary"]["final_val_loss"] for r in exp["runs"]]


def main() -> None:
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
        api, served = _server(Path(one), share=True)
        t1, _ = _class(api, 1)
        api.http.close()
        served.stop()
        api, served = _server(Path(many), share=True)
        t40, exps = _class(api, STUDENTS)
        same = all(_finals(e) == _finals(exps[0]) for e in exps)
        shared = sum(1 for e in exps for r in e["runs"] if r["shared_from"] is not None)
        api.http.close()
        served.stop()
    with tempfile.TemporaryDirectory() as apart:
        api, served = _server(Path(apart), share=False)
        t6, _ = _class(api, 6)
        api.http.close()
        served.stop()
    runs = sum(len(e["runs"]) for e in exps)
    verdict = "ok" if t40 <= 1.5 * t1 else "ABOVE TARGET"
    print(f"lesson {LESSON!r}, 2 workers: one student alone {t1:6.1f} s")
    print(
        f"{STUDENTS} students, same lesson, sharing on: {t40:6.1f} s = {t40 / t1:4.2f}x alone "
        f"(target <= 1.5x: {verdict}); {shared}/{runs} runs served or followed; "
        f"every student's numbers the first's: {same}"
    )
    print(f"6 students without sharing (each computes): {t6:6.1f} s = {t6 / t1:4.2f}x alone")


if __name__ == "__main__":
    main()
