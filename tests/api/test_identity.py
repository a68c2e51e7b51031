"""A name is bound to the browser or client that chose it first; a name alone proves nothing."""

from __future__ import annotations

from typing import Any

import httpx

from api.conftest import LiveServer

LONG: dict[str, Any] = {"base": {"train": {"epochs": 2000}, "data": {"n_train": 40}}}


def claim(server: LiveServer, name: str) -> httpx.Response:
    return httpx.post(f"{server.url}/api/identity", json={"name": name}, timeout=30)


def test_a_name_alone_cannot_cancel_or_delete_its_owners_work(server: LiveServer) -> None:
    created = server.submit(LONG, user="alice")
    path = f"/api/experiments/{created['id']}"
    as_alice = {"X-Reglab-User": "alice"}  # what anyone can send

    assert server.http.post(f"{path}/cancel", headers=as_alice).status_code == 403
    run = created["runs"][0]["id"]
    refused = server.http.post(f"/api/runs/{run}/cancel", headers=as_alice)
    assert refused.status_code == 403
    assert "alice's token" in refused.json()["detail"]
    assert server.http.post(f"{path}/cancel", headers=server.identity("alice")).status_code == 202
    server.wait_finished(created["id"])
    assert server.http.delete(path, headers=as_alice).status_code == 403
    assert server.http.delete(path, headers=server.identity("alice")).status_code == 204


def test_the_first_claim_of_a_name_gets_a_token_and_an_http_only_cookie(
    server: LiveServer,
) -> None:
    first = claim(server, "Grace")
    assert first.status_code == 201
    token = first.json()["token"]
    assert len(token) >= 32
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie

    second = claim(server, "Grace")
    assert second.status_code == 409
    assert "taken" in second.json()["detail"]

    with httpx.Client(base_url=server.url, cookies=first.cookies) as browser:
        assert browser.get("/api/identity").json() == {"name": "Grace", "verified": True}
        again = browser.post("/api/identity", json={"name": "Grace"})
        assert again.status_code == 200 and again.json()["token"] == token
    assert server.http.get("/api/identity").json() == {"name": None, "verified": False}


def test_the_first_submission_under_a_name_binds_it_and_hands_back_its_token(
    server: LiveServer,
) -> None:
    body = {"base": {"train": {"epochs": 1}, "data": {"n_train": 40}}}
    first = server.http.post("/api/experiments", json=body, headers={"X-Reglab-User": "Hedy"})
    assert first.status_code == 201
    token = first.headers["X-Reglab-Token"]

    squatter = server.http.post("/api/experiments", json=body, headers={"X-Reglab-User": "Hedy"})
    assert squatter.status_code == 403
    assert "taken" in squatter.json()["detail"]
    owner = server.http.post("/api/experiments", json=body, headers={"X-Reglab-Token": token})
    assert owner.status_code == 201 and owner.json()["owner"] == "Hedy"
    mixed = {"X-Reglab-Token": token, "X-Reglab-User": "Ida"}
    assert server.http.post("/api/experiments", json=body, headers=mixed).status_code == 403


def test_a_refused_first_submission_leaves_the_name_free(server: LiveServer) -> None:
    bad = {"base": {"train": {"epochs": 0}}}
    response = server.http.post("/api/experiments", json=bad, headers={"X-Reglab-User": "Joan"})
    assert response.status_code == 422
    assert claim(server, "Joan").status_code == 201


def test_work_without_a_name_can_be_cancelled_only_by_the_admin(server: LiveServer) -> None:
    created = httpx.post(f"{server.url}/api/experiments", json=LONG, timeout=30).json()
    assert created["owner"] == "anonymous"
    path = f"/api/experiments/{created['id']}/cancel"
    assert httpx.post(f"{server.url}{path}", timeout=30).status_code == 403
    anonymous = {"X-Reglab-User": "anonymous"}
    assert httpx.post(f"{server.url}{path}", headers=anonymous, timeout=30).status_code == 403
    assert claim(server, "anonymous").status_code == 409
    admin = {"X-Reglab-Admin": "sesame"}
    assert httpx.post(f"{server.url}{path}", headers=admin, timeout=30).status_code == 202
    server.wait_finished(created["id"])


def test_the_teacher_resets_a_name_and_its_old_token_proves_nothing(server: LiveServer) -> None:
    old = claim(server, "Kay").json()["token"]
    reset = f"{server.url}/api/identity/Kay"
    assert httpx.delete(reset, headers={"X-Reglab-Token": old}, timeout=30).status_code == 403
    assert httpx.delete(reset, headers={"X-Reglab-Admin": "sesame"}, timeout=30).status_code == 204
    assert httpx.delete(reset, headers={"X-Reglab-Admin": "sesame"}, timeout=30).status_code == 404

    whoami = httpx.get(f"{server.url}/api/identity", headers={"X-Reglab-Token": old}, timeout=30)
    assert whoami.json() == {"name": None, "verified": False}
    fresh = claim(server, "Kay")
    assert fresh.status_code == 201 and fresh.json()["token"] != old
