"""Every error is an RFC 9457 problem; nothing leaks a traceback or PHI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.main import create_app
from tests.api import Api, smart_goal

PHI_CANARY = "Canary-Patient-Zebra-4417"


def assert_problem(response_json: dict[str, object], status: int) -> None:
    assert {"type", "title", "status"} <= set(response_json)
    assert response_json["status"] == status


async def test_unsupported_media_type_is_415(api: Api) -> None:
    alice = api.actor()
    response = await alice.post(
        "/v1/clients", content=b"display_name=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert_problem(response.json(), 415)
    form = await alice.post("/v1/clients", data={"display_name": "x"})
    assert form.status_code == 415


@pytest.mark.parametrize(
    "body",
    [
        b'{"display_name": ',  # cut off
        b'{"display_name": "\xff\xfe"}',  # not UTF-8
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,  # nested deeper than any parser goes
    ],
    ids=["cut-off", "not-utf8", "deeply-nested"],
)
async def test_a_body_that_is_not_json_is_400_malformed_json(api: Api, body: bytes) -> None:
    response = await api.actor().post(
        "/v1/clients", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    problem = response.json()
    assert_problem(problem, 400)
    assert problem["type"].endswith(":malformed-json")
    assert problem["title"] == "Malformed JSON"


async def test_validation_problem_lists_errors_without_echoing_input(api: Api) -> None:
    alice = api.actor()
    client = await api.client(alice)
    response = await alice.post(
        f"/v1/clients/{client['id']}/goals", json=smart_goal(category=PHI_CANARY)
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["loc"] == ["body", "category"]
    assert {"loc", "msg", "type"} == set(body["errors"][0])
    assert PHI_CANARY not in response.text


async def test_unknown_route_and_method(api: Api) -> None:
    alice = api.actor()
    missing = await alice.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = await alice.delete("/v1/goals")
    assert wrong_method.status_code == 405
    assert_problem(wrong_method.json(), 405)


async def test_malformed_and_unknown_ids_are_404(api: Api) -> None:
    alice = api.actor()
    assert (await alice.get("/v1/goals/not-a-uuid")).status_code == 404
    unknown = await alice.get("/v1/goals/01935c4e-0000-7000-8000-000000000000")
    assert unknown.status_code == 404
    assert unknown.json()["instance"] == "/v1/goals/01935c4e-0000-7000-8000-000000000000"


async def test_request_id_is_echoed_or_generated(api: Api) -> None:
    alice = api.actor()
    echoed = await alice.get("/v1/clients", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    hostile = await alice.get("/v1/clients", headers={"X-Request-ID": "a\tb" + "x" * 100})
    assert hostile.headers["X-Request-ID"] != "a\tb" + "x" * 100
    assert len(hostile.headers["X-Request-ID"]) == 32


@pytest.fixture
async def crashing_app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(
        settings.model_copy(update={"cors_origins": ["https://app.example.test"]})
    )

    @application.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"secret detail {PHI_CANARY}")

    async with LifespanManager(application):
        yield application


async def test_unexpected_error_is_a_bare_500(
    crashing_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = ASGITransport(app=crashing_app)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["title"] == "Internal server error"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert PHI_CANARY not in response.text
    assert "Traceback" not in response.text
    logged = capsys.readouterr()
    assert PHI_CANARY not in logged.out + logged.err
    assert "RuntimeError" in logged.out


async def test_cors_allows_configured_origin_only(crashing_app: FastAPI) -> None:
    transport = ASGITransport(app=crashing_app)
    async with AsyncClient(transport=transport, base_url="http://test") as http:
        good = await http.options(
            "/v1/clients",
            headers={"Origin": "https://app.example.test", "Access-Control-Request-Method": "GET"},
        )
        evil = await http.options(
            "/v1/clients",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert good.headers["access-control-allow-origin"] == "https://app.example.test"
    assert "access-control-allow-origin" not in evil.headers


async def test_without_configured_origins_no_origin_is_allowed(api: Api) -> None:
    """The default: no CORS middleware at all (3 % of a GET's instructions for nothing)."""
    alice = api.actor()
    for method in ("GET", "OPTIONS"):
        response = await alice.request(
            method,
            "/v1/clients",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in response.headers


async def test_head_answers_as_get_does_without_a_body(api: Api) -> None:
    """HEAD of what GET serves: its status and headers (the server sends no body; uvicorn
    drops it), the same 404 for what the caller may not see."""
    alice = api.actor()
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    url = f"/v1/goals/{goal['id']}"
    got, head = await alice.get(url), await alice.request("HEAD", url)
    assert head.status_code == 200
    for name in ("content-type", "etag", "cache-control"):
        assert head.headers[name] == got.headers[name]
    listed = await alice.request("HEAD", "/v1/goals")
    assert listed.status_code == 200
    outsider = api.actor(org="org-b")
    assert (await outsider.request("HEAD", url)).status_code == 404
    assert (await alice.request("HEAD", "/v1/goals/validate")).status_code == 405  # POST only


async def test_405_lists_every_allowed_method(api: Api) -> None:
    alice = api.actor()
    response = await alice.request("OPTIONS", "/v1/clients")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, POST"
    goal = await alice.delete("/v1/goals/01935c4e-0000-7000-8000-000000000000")
    assert goal.headers["Allow"] == "GET, HEAD, PATCH"
    validate = await alice.get("/v1/goals/validate")
    assert validate.status_code == 405
    assert validate.headers["Allow"] == "POST"
