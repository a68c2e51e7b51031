"""The teacher signs in once with the admin token; the token then travels nowhere else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import Api, reglab_serve

TOKEN = "correct-horse-battery-staple-4711"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path]]:
    """`reglab serve` as a teacher runs it, its log in a file the test reads afterwards."""
    tmp = tmp_path_factory.mktemp("teacher")
    with reglab_serve(tmp, REGLAB_ADMIN_TOKEN=TOKEN, REGLAB_WORKERS="1") as api:
        yield api, tmp / "server.log"


def seen(response: httpx.Response) -> str:
    """Everything a browser receives of a response: status line, headers and body."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
    return f"{response.status_code}\n{headers}\n{response.text}"


def test_signing_in_gives_an_http_only_strict_cookie_that_admin_routes_accept(
    served: tuple[Api, Path],
) -> None:
    api, log = served
    answers: list[httpx.Response] = []
    with httpx.Client(base_url=api.url, timeout=30) as browser:
        answers.append(browser.delete("/api/identity/nobody"))
        assert answers[-1].status_code == 403  # not signed in yet

        answers.append(browser.post("/api/admin/session", json={"token": TOKEN}))
        assert answers[-1].status_code == 204
        cookie = answers[-1].headers["set-cookie"]
        assert "reglab_admin=" in cookie
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()

        # The cookie is the teacher: an admin route gets past its check (404: no such name).
        answers.append(browser.delete("/api/identity/nobody"))
        assert answers[-1].status_code == 404
        answers.append(browser.get("/api/class"))
        assert answers[-1].status_code == 200
        answers.append(browser.get("/api/admin/session"))
        assert answers[-1].json() == {"teacher": True}

        answers.append(browser.delete("/api/admin/session"))
        assert answers[-1].status_code == 204
        session = browser.cookies.get("reglab_admin")
        assert session is None  # the browser was told to drop it...
        answers.append(browser.get("/api/admin/session"))
        assert answers[-1].json() == {"teacher": False}
    # ...and the server forgets it too: a copy kept by someone is refused.
    stolen = cookie.split(";")[0].split("=", 1)[1]
    with httpx.Client(base_url=api.url, cookies={"reglab_admin": stolen}, timeout=30) as thief:
        answers.append(thief.delete("/api/identity/nobody"))
        assert answers[-1].status_code == 403

    everything = "\n".join(seen(a) for a in answers) + log.read_text()
    assert "/api/admin/session" in log.read_text()  # the log is the one these requests wrote
    assert TOKEN not in everything


def test_a_wrong_token_is_403_and_sets_no_cookie(served: tuple[Api, Path]) -> None:
    api, log = served
    wrong = TOKEN[:-1] + "2"
    answer = httpx.post(f"{api.url}/api/admin/session", json={"token": wrong}, timeout=30)
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    assert wrong not in seen(answer) and wrong not in log.read_text()
    empty = httpx.post(f"{api.url}/api/admin/session", json={"token": ""}, timeout=30)
    assert empty.status_code == 422 and empty.json()["detail"][0]["field"] == "token"


def test_the_admin_header_still_works_beside_the_cookie(served: tuple[Api, Path]) -> None:
    api, _ = served
    header = {"X-Reglab-Admin": TOKEN}
    assert httpx.get(f"{api.url}/api/class", headers=header, timeout=30).status_code == 200
    assert httpx.get(f"{api.url}/api/class", timeout=30).status_code == 403
